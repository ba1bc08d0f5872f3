"""The monitoring layer's settings and its checks, in diagnostic order: the inputs first (a feature that
moved explains the scores that moved with it), the gate on their share, then the predictions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.monitoring import drifted_share, feature_drift, prediction_drift

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "prediction_drift_score": "prediction_drift.score",
    "drifted_share": "drifted_share.share",  # old only in its old shape, {warn, fail} (see tasks/params.py)
}


class Settings(CheckParams):
    """Drift by effect size (normed Wasserstein / Jensen-Shannon), so verdicts do not flip with sample size.
    One Evidently run measures every feature and the served scores; the checks judge that one measurement."""

    column_drift_threshold: Annotated[float, Field(gt=0.0)] = Field(
        0.2,
        description="a feature whose drift score is at or above this has drifted: it marks the column in the "
        "Evidently report, feature_drift names it and drifted_share counts it",
    )
    reference_rows: Annotated[int, Field(ge=100)] = Field(20_000, description="training rows sampled as the reference")
    seed: int = Field(0, description="for the reference sample, so a rerun measures the same thing")


CHECKS = checks_of(feature_drift, drifted_share, prediction_drift)
