"""The features layer's settings and its checks, in diagnostic order: the root causes first (a missing scaler
also puts values out of range, so normalization_skew names it before out_of_range does)."""

from __future__ import annotations

from tasks.checks import CheckParams, checks_of
from tasks.features import out_of_range, unseen_categories

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "unseen_category_share": "unseen_categories.share",
    "extrapolation_share": "out_of_range.extrapolation_share",
    "out_of_range_share": "out_of_range.share",
    "range_margin": "out_of_range.range_margin",
}


class Settings(CheckParams):
    """What the model meets at serving, judged against what it was fitted on (shares are of batch rows)."""


CHECKS = checks_of(unseen_categories, out_of_range)
