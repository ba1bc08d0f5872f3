"""Training checks: a retrain must be reproducible, and the model must generalise beyond what it saw."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from tasks.params import Limit
from tasks.result import Finding, judge

SCORERS = {
    "roc_auc": lambda y, p: skm.roc_auc_score(y, p),
    "average_precision": lambda y, p: skm.average_precision_score(y, p),
    "accuracy": lambda y, p: skm.accuracy_score(y, p >= 0.5),
    "f1": lambda y, p: skm.f1_score(y, p >= 0.5),
}


def score(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    if len(np.unique(y)) < 2 and metric in ("roc_auc", "average_precision"):
        return float("nan")
    return float(SCORERS[metric](y, p))


def reproducibility(first: np.ndarray, second: np.ndarray, limit: Limit) -> Finding:
    """Two fits with the same data, seed and params must give the same predictions."""
    diff = np.abs(first - second)
    worst = float(np.nanmax(diff)) if diff.size else 0.0
    differ = int((diff > 0).sum())
    return judge(
        "training_reproducible",
        worst,
        limit.warn,
        limit.fail,
        f"two trainings with the same data, seed and params: max prediction difference {worst:.3g}, "
        f"{differ:,} of {len(diff):,} validation rows differ",
        evidence={"rows_differ": differ},
    )


def generalisation_gap(metric: str, train_score: float, val_score: float, limit: Limit) -> Finding:
    gap = train_score - val_score
    return judge(
        "train_val_gap",
        gap,
        limit.warn,
        limit.fail,
        f"{metric} {train_score:.4f} on training vs {val_score:.4f} on validation: gap {gap:.4f}",
        evidence={"metric": metric, "train": train_score, "validation": val_score},
    )
