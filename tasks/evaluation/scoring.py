"""Scores of a binary classifier on labelled rows, and the floor the candidate's score must clear.

One function scores the challenger and the champion alike, so their numbers are comparable.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, f1_score, roc_auc_score

from tasks.limits import Floor
from tasks.result import Finding, Severity, judge


def labels_at(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Positive when the score reaches the threshold (the rule of sklearn's FixedThresholdClassifier)."""
    return (np.asarray(scores, dtype="float64") >= threshold).astype(int)


def classification_scores(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Ranking metrics on the scores, label metrics and the confusion counts at the threshold.
    A ranking metric that needs both classes is NaN when the labels have one."""
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype="float64")
    pred = labels_at(scores, threshold)
    both = len(np.unique(y)) == 2
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(roc_auc_score(y, scores)) if both else math.nan,
        "average_precision": float(average_precision_score(y, scores)) if both else math.nan,
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred, zero_division=0.0)),
        "true_negatives": float(tn),
        "false_positives": float(fp),
        "false_negatives": float(fn),
        "true_positives": float(tp),
    }


def check_test_labels(y: np.ndarray) -> Finding | None:
    """A trusted test set with one class cannot rank anything: the score gate has nothing to judge."""
    classes = sorted(int(c) for c in np.unique(np.asarray(y)))
    if len(classes) == 2:
        return None
    return Finding(
        check="test_labels",
        severity=Severity.fail,
        message=f"the trusted test set has only class {classes} in {len(y):,} rows: nothing to score",
        evidence={"classes": classes, "rows": len(y)},
    )


def check_min_score(metric: str, value: float, limit: Floor, rows: int, threshold: float) -> Finding:
    """The candidate's score on the trusted test set must clear the floor in params."""
    if math.isnan(value):
        return Finding(
            check="test_score",
            severity=Severity.fail,
            message=f"{metric} is undefined on the trusted test set ({rows:,} rows)",
            evidence={"metric": metric, "rows": rows},
        )
    return judge(
        "test_score",
        value,
        limit.warn,
        limit.fail,
        f"{metric} on the trusted test set ({rows:,} rows): {value:.4f} (floor: warn {limit.warn}, fail {limit.fail})",
        evidence={"metric": metric, "rows": rows, "threshold": threshold},
        higher_is_worse=False,
    )
