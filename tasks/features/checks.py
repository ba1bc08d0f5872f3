"""The features layer's settings and its checks, in diagnostic order: the root causes first (a missing scaler
also puts values out of range, so normalization_skew names it before out_of_range does)."""

from __future__ import annotations

from tasks.checks import CheckParams, checks_of
from tasks.features import (
    normalization_skew,
    out_of_range,
    preprocessing_parity,
    timezone_shift,
    unseen_categories,
    vocab_mismatch,
)

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "parity_max_abs_diff": "preprocessing_parity.max_abs_diff",
    "unseen_category_share": "unseen_categories.share",
    "extrapolation_share": "out_of_range.extrapolation_share",
    "out_of_range_share": "out_of_range.share",
    "range_margin": "out_of_range.range_margin",
    "normalized_tolerance": "normalization_skew.tolerance",
    "affine_fit_r2": "normalization_skew.affine_fit_r2",
    "normalization_mismatch": "normalization_skew.mismatch",
    "timezone_known_share": "timezone_shift.known_share",
    "timezone_shift_share": "timezone_shift.share",
    "hour_link_share": "timezone_shift.hour_link_share",
    "timezone_profile_shift": "timezone_shift.profile_shift",
    "timezone_min_rows": "timezone_shift.min_rows",
    "oov_share": "vocab_mismatch.oov_share",
}


class Settings(CheckParams):
    """What the model meets at serving, judged against what it was fitted on (shares are of batch rows)."""


CHECKS = checks_of(
    preprocessing_parity, normalization_skew, timezone_shift, vocab_mismatch, unseen_categories, out_of_range
)
