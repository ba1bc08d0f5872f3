"""A fast, generic classifier for the checks that need one: gradient boosting on the raw columns, nothing to
tune. Numbers and datetimes as they are (missing values are native), anything else as the codes of its most
frequent values (HistGradientBoosting's native categories). Out-of-fold probabilities, so every row is
scored by a model that never saw its label."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from tasks.columns import as_number, is_datetime, is_numeric

LEVELS = 254  # categorical levels per column (HistGradientBoosting bins at most 255, one kept for missing)
FOLDS = 5
# Small and quick: a check needs the labels' consistency with the inputs, not the best model.
MODEL = {"max_iter": 60, "learning_rate": 0.15, "max_leaf_nodes": 15, "min_samples_leaf": 40, "early_stopping": False}


def design_matrix(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[bool]]:
    """The model's input: float columns, and a mask of which are categorical codes. A column with no value at
    all carries nothing (and HistGradientBoosting cannot bin it): left out."""
    X = pd.DataFrame(index=df.index)
    categorical: list[bool] = []
    for c in columns:
        s = df[c]
        if not s.notna().any():
            continue
        if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
            X[c] = as_number(s)
            categorical.append(False)
        else:
            top = s.value_counts().index[:LEVELS]
            codes = pd.Categorical(s.where(s.isin(top)), categories=top).codes.astype("float64")
            X[c] = np.where(codes < 0, np.nan, codes)
            categorical.append(True)
    return X, categorical


def out_of_fold_probabilities(X: pd.DataFrame, y: np.ndarray, categorical: list[bool], seed: int) -> np.ndarray | None:
    """P(label = 0), P(label = 1) per row from models fitted on the other folds; None when a class has fewer
    rows than folds (nothing to cross-validate)."""
    counts = np.bincount(y, minlength=2)
    if len(counts) != 2 or counts.min() < FOLDS:
        return None
    model = HistGradientBoostingClassifier(**MODEL, categorical_features=categorical, random_state=seed)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    # One OpenMP thread: on a small shared machine (2 cores, other stages or tests running) boosting's
    # threads spin against each other and a 1 s fit takes 10 s.
    with threadpool_limits(limits=1, user_api="openmp"):
        return cross_val_predict(model, X, y, cv=folds, method="predict_proba")
