"""The monitoring layer's settings and its checks, in diagnostic order: the inputs first (a feature that
moved explains the scores that moved with it), the gate on their share, then the predictions; then the
stored traffic day by day: drift per window, the labels that arrived, performance on them, confidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.monitoring import (
    concept_drift,
    confidence_collapse,
    drifted_share,
    feature_drift,
    label_drift,
    prediction_drift,
    window_drift,
)

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
    store: Path = Field(
        Path("inference_store"),
        description="the inference log store the serving stage appends to (Parquet partitions by event day; "
        "relative to the project root)",
    )
    lookback_days: Annotated[int, Field(ge=1)] = Field(
        30, description="days of stored traffic (up to the latest request's day) cut into daily windows"
    )
    window_min_rows: Annotated[int, Field(ge=1)] = Field(
        200, description="requests a daily window needs; a smaller day is pooled with the days before it"
    )
    workspace_windows: Annotated[int, Field(ge=0)] = Field(
        3,
        description="daily windows whose Evidently report a run adds to the workspace, newest first (each is a full "
        "report, seconds at 50 columns; the older ones are added by the next runs); 0: none",
    )


CHECKS = checks_of(
    feature_drift, drifted_share, prediction_drift, window_drift, label_drift, concept_drift, confidence_collapse
)
