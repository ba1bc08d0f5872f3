"""The evaluation layer's settings and its checks, in diagnostic order: the root causes first. A test set that
is not the pinned one, or has one class, voids every score on it, so those come before the score floor and
the comparison with the champion."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.evaluation import (
    bad_threshold,
    challenger_worse,
    slices,
    spurious_feature,
    test_labels,
    test_score,
    test_set_changed,
    wrong_metric,
)
from tasks.limits import Share

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "min_score": "test_score.floor",
    "champion_margin": "challenger_worse.margin",
}


class Settings(CheckParams):
    """How the candidate is scored on the trusted test set (and the champion on the same rows)."""

    threshold: Share = Field(0.5, description="decision threshold: label metrics and the confusion matrix cut here")
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = Field(
        "roc_auc", description="the score the test_score floor and the challenger_worse margin judge"
    )


CHECKS = checks_of(
    test_set_changed, test_labels, test_score, wrong_metric, bad_threshold, slices, spurious_feature, challenger_worse
)
