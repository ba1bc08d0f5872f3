"""Scores of a binary classifier on labelled rows. One function scores the challenger and the champion alike,
so their numbers are comparable."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, f1_score, roc_auc_score


def labels_at(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Positive when the score reaches the threshold (the rule of sklearn's FixedThresholdClassifier)."""
    return (np.asarray(scores, dtype="float64") >= threshold).astype(int)


def classification_scores(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Ranking metrics on the scores, label metrics and the confusion counts at the threshold.
    A ranking metric that needs both classes is NaN when the labels have one; every rate is NaN on no rows."""
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype="float64")
    if not len(y):
        return dict.fromkeys(("roc_auc", "average_precision", "accuracy", "f1"), math.nan) | dict.fromkeys(
            ("true_negatives", "false_positives", "false_negatives", "true_positives"), 0.0
        )
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
