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


RANKING = ("roc_auc", "average_precision")  # threshold-free: judged on the scores' order


def chance_score(metric: str, y: np.ndarray) -> float:
    """What `metric` gives a model with no skill on these labels: the best constant prediction (always the
    majority class for accuracy, always positive for F1), the positive share for average precision, 0.5 for
    ROC AUC. NaN on no rows."""
    y = np.asarray(y).astype(int)
    if not len(y):
        return math.nan
    rate = float(y.mean())
    return {
        "roc_auc": 0.5,
        "average_precision": rate,
        "accuracy": max(rate, 1.0 - rate),
        "f1": 2 * rate / (1 + rate),
    }[metric]


def on_chance_scale(value: float, chance: float) -> float:
    """`value` placed where 0.5 is `chance` and 1 is perfect (ROC AUC's own scale): 0.5 + half the share of the
    way from chance to perfect the value covers. The same floor then means the same skill for every metric and
    base rate (accuracy 0.90 where 90% of rows are one class is 0.5: no skill). NaN when chance is perfect."""
    if math.isnan(value) or math.isnan(chance) or chance >= 1.0:
        return math.nan
    return 0.5 + 0.5 * (value - chance) / (1.0 - chance)


def bootstrap_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of `n` rows is drawn in each of `resamples` bootstrap resamples (resamples x n)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) if n else np.zeros((resamples, 0))


def resampled_scores(
    metric: str, y: np.ndarray, scores: np.ndarray, counts: np.ndarray, threshold: float = 0.5
) -> np.ndarray:
    """`metric` on each bootstrap resample given as a counts matrix (see bootstrap_counts), label metrics cut at
    `threshold`; all resamples at once. NaN where a ranking metric meets one class."""
    from tasks.training.overfitting import resampled_scores as ranked

    if metric in RANKING:
        return ranked(metric, y, np.asarray(scores, dtype="float64"), counts)
    y = np.asarray(y).astype(bool)
    c = np.asarray(counts, dtype="float64")
    hit = labels_at(scores, threshold).astype(bool)
    if metric == "accuracy":
        return (c @ (hit == y)) / np.where(c.sum(axis=1) > 0, c.sum(axis=1), 1)
    tp, fp, fn = c @ (hit & y), c @ (hit & ~y), c @ (~hit & y)
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def resampled_chance(metric: str, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`chance_score` on each bootstrap resample (its positive share moves with the draw)."""
    c = np.asarray(counts, dtype="float64")
    rate = (c @ np.asarray(y).astype("float64")) / np.where(c.sum(axis=1) > 0, c.sum(axis=1), 1)
    if metric == "roc_auc":
        return np.full(len(c), 0.5)
    if metric == "average_precision":
        return rate
    if metric == "accuracy":
        return np.maximum(rate, 1.0 - rate)
    return 2 * rate / (1 + rate)
