"""The training layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": lambda y, p: skm.roc_auc_score(y, p),
    "average_precision": lambda y, p: skm.average_precision_score(y, p),
    "accuracy": lambda y, p: skm.accuracy_score(y, p >= 0.5),
    "f1": lambda y, p: skm.f1_score(y, p >= 0.5, zero_division=0.0),
}


def score(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    """`metric` of positive-class scores `p` against labels `y`; a ranking metric on one class is NaN."""
    if len(np.unique(y)) < 2 and metric in ("roc_auc", "average_precision"):
        return float("nan")
    return float(SCORERS[metric](y, p))


@dataclass(frozen=True)
class TrainingInputs:
    """The training snapshot, the trusted test set, and what the stage fitted on them.

    `train` and `test` are the files as read; `features`, `target`, `key` (`inputs.id`) and `timestamp`
    (`inputs.timestamp`) name their columns' roles. The stage fits the estimator twice on the `fit_rows` of
    `train` (positions) with the same data, seed and params, and scores the `validation_rows`:
    `validation_predictions` are each fit's positive-class scores on them, in row order; `train_score` and
    `validation_score` are the first fit's (the candidate's) `metric` on the fit and validation rows (see
    `score`). `model_inputs` is what the estimator read, one row per training row: the shipped preprocessing's
    output, or the raw feature frame when the model has no preprocessing step (checks fit their own reference
    models on its fit rows). `model_features` is that matrix when there is a preprocessing step (None otherwise)
    and `validated_sha256` the fingerprint the features layer recorded for it. `model` is the fitted candidate
    pipeline (preprocessing and estimator), for checks that read how it is configured; `seed` the seed it was
    fitted with (`model.seed`). `cache` holds the extra fits checks share (tasks/training/refits.py), so two
    checks comparing with the same reference fit it once.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    features: list[str]
    target: str
    y: np.ndarray  # the binary 0/1 target of every training row
    fit_rows: np.ndarray
    validation_rows: np.ndarray
    metric: str
    train_score: float
    validation_score: float
    validation_predictions: tuple[np.ndarray, ...]
    key: str | None = None
    timestamp: str | None = None
    model_features: np.ndarray | None = None  # the rows of it the features layer fingerprinted (its sample)
    validated_sha256: str | None = None
    fingerprint_of: int = 0  # training rows, of which model_features holds a sample when it has fewer
    model_inputs: Any = None  # np.ndarray, or pd.DataFrame when the model has no preprocessing step
    model: Any = None  # sklearn Pipeline
    seed: int = 0
    cache: dict = field(default_factory=dict, compare=False, repr=False)
