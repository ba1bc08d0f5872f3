"""The monitoring layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.limits import Limit

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
    """Drift by effect size (normed Wasserstein / Jensen-Shannon), so verdicts do not flip with sample size."""

    column_drift_threshold: Annotated[float, Field(gt=0.0)] = 0.2  # a column at or above this has drifted
    drifted_share: Limit = Limit(warn=0.3, fail=0.6)  # share of measured features that drifted
    prediction_drift_score: Limit = Limit(warn=0.2, fail=0.5)  # normed Wasserstein of the served scores
    reference_rows: Annotated[int, Field(ge=100)] = 20_000
    seed: int = 0  # for the reference sample, so a rerun measures the same thing


CHECKS = checks_of()
