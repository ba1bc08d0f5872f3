"""The training layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.limits import Limit

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
    validation_fraction: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.2
    repro_max_abs_diff: Limit = Limit(warn=0.0, fail=1e-6)
    train_val_gap: Limit = Limit(warn=0.05, fail=0.10)
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = "roc_auc"
    # Trusted test rows also in training: share with a key (`inputs.id`) found in training, and share with an
    # identical feature+target row in training beyond the share of training rows that repeat within training.
    split_overlap_share: Limit = Limit(warn=0.0, fail=0.001)
    split_overlap_row_excess: Limit = Limit(warn=0.002, fail=0.01)
    # Share of trusted test rows earlier than the latest training row (with `inputs.timestamp`).
    temporal_overlap_share: Limit = Limit(warn=0.001, fail=0.05)


CHECKS = checks_of()
