"""The training layer's settings and its checks, in diagnostic order: the root causes first. A test set that
training has seen (or whose future it has seen) voids every score, so the split checks come first; then that
the model is fitted on the validated features; then whether the classes it is fitted on are balanced or handled;
then the fits themselves (reproducible, learning at all, generalising)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.training import (
    class_imbalance,
    features_match,
    loss_not_decreasing,
    nondeterministic_training,
    overfitting,
    simpler_model,
    split_overlap,
    temporal_overlap,
    unstable_training,
)

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "split_overlap_share": "split_overlap.key_share",
    "split_overlap_row_excess": "split_overlap.row_excess",
    "temporal_overlap_share": "temporal_overlap.share",
    "repro_max_abs_diff": "nondeterministic_training.max_abs_diff",
    "train_val_gap": "overfitting.gap",
}


class Settings(CheckParams):
    """How the candidate is fitted and scored: the estimator is fitted on all but a validation part of the
    training snapshot, twice, and scored on both parts."""

    validation_fraction: float = Field(
        0.2,
        gt=0.0,
        lt=0.5,
        description="share of training rows held out for validation: the latest rows by inputs.timestamp, else "
        "a random part (model.seed)",
    )
    reuse_unchanged: bool = Field(
        True,
        description="reuse the candidate and the verdicts of the last run with the same commit, code, params, "
        "training and test files and features output, instead of fitting the same model again (tasks/stage_cache.py)",
    )
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = Field(
        "roc_auc", description="the score compared between training and validation (label metrics cut at 0.5)"
    )


CHECKS = checks_of(
    split_overlap,
    temporal_overlap,
    features_match,
    class_imbalance,
    nondeterministic_training,
    unstable_training,
    loss_not_decreasing,
    overfitting,
    simpler_model,
)
