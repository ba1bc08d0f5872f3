"""The training layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TrainingInputs:
    """The training snapshot, the trusted test set, and what the stage fitted on them.

    `train` and `test` are the files as read; `features`, `target`, `key` (`inputs.id`) and `timestamp`
    (`inputs.timestamp`) name their columns' roles. The stage fits the estimator twice on the `fit_rows` of
    `train` (positions) with the same data, seed and params, and scores the `validation_rows`:
    `validation_predictions` are each fit's positive-class scores on them, in row order; `train_score` and
    `validation_score` are the first fit's (the candidate's) `metric` on the fit and validation rows.
    `model_features` is the matrix the estimator was fitted on (the shipped preprocessing's output on every
    training row; None when the model has no preprocessing step) and `validated_sha256` the fingerprint the
    features layer recorded for that matrix.
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
    model_features: np.ndarray | None = None
    validated_sha256: str | None = None
