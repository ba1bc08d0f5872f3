"""A fast, generic classifier for the checks that need one: gradient boosting on the raw columns, nothing to
tune. Numbers and datetimes as they are (missing values are native), anything else as the codes of its most
frequent training values (HistGradientBoosting's native categories). Fitted on folds of a bounded training
sample: every training row is scored by a model that never saw its label (out of fold), and a batch row by
one of the same fold models drawn at random, so a batch's scores come from the same kind of model as the
training rows' and the two can be compared.

label_noise and target_logic_changed both need it on the same training sample: `fitted` keeps the last fit, so
one run fits it once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from tasks.columns import as_number, is_datetime, is_numeric
from tasks.data.stats import sample

LEVELS = 254  # categorical levels per column (HistGradientBoosting bins at most 255, one kept for missing)
FOLDS = 5
# Small and quick: a check needs the labels' consistency with the inputs, not the best model.
MODEL = {"max_iter": 60, "learning_rate": 0.15, "max_leaf_nodes": 15, "min_samples_leaf": 40, "early_stopping": False}


@dataclass(frozen=True)
class Encoding:
    """How each column enters the model, learnt from the training rows: `levels` is None for a number, else
    the categories kept (a batch's other values are missing to the model)."""

    columns: tuple[tuple[str, tuple | None], ...]

    @classmethod
    def of(cls, df: pd.DataFrame, columns: list[str]) -> Encoding:
        """A column with no value at all carries nothing (and HistGradientBoosting cannot bin it): left out."""
        kept: list[tuple[str, tuple | None]] = []
        for c in columns:
            s = df[c]
            if not s.notna().any():
                continue
            if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
                kept.append((c, None))
            else:
                kept.append((c, tuple(s.value_counts().index[:LEVELS])))
        return cls(tuple(kept))

    @property
    def categorical(self) -> list[bool]:
        return [levels is not None for _, levels in self.columns]

    def matrix(self, df: pd.DataFrame) -> pd.DataFrame:
        """The model's input for any frame: a column the frame lacks is missing in every row."""
        X = pd.DataFrame(index=df.index)
        for c, levels in self.columns:
            if c not in df.columns:
                X[c] = np.nan
            elif levels is None:
                X[c] = as_number(df[c])
            else:
                s = df[c]
                codes = pd.Categorical(s.where(s.isin(levels)), categories=list(levels)).codes.astype("float64")
                X[c] = np.where(codes < 0, np.nan, codes)
        return X


def design_matrix(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[bool]]:
    """The model's input for the frame it is learnt from, and a mask of which columns are categorical codes."""
    encoding = Encoding.of(df, columns)
    return encoding.matrix(df), encoding.categorical


@dataclass(frozen=True)
class FoldFit:
    """The fold models of one training sample: `rows` (the sample's index), `labels`, and `oof`, the
    out-of-fold P(label = 0), P(label = 1) of each row."""

    encoding: Encoding
    models: tuple[HistGradientBoostingClassifier, ...]
    rows: pd.Index
    labels: np.ndarray
    oof: np.ndarray
    seed: int

    def probabilities(self, df: pd.DataFrame) -> np.ndarray:
        """P(label = 0), P(label = 1) of each row of a batch, each from one fold model drawn at random (seeded):
        what an out-of-fold score is for a training row (a model fitted on four fifths of the sample), not
        the smoother average of the five."""
        X = self.encoding.matrix(df)
        pick = np.random.default_rng(self.seed).integers(0, len(self.models), len(X))
        out = np.zeros((len(X), 2))
        with threadpool_limits(limits=1, user_api="openmp"):
            for k, model in enumerate(self.models):
                chosen = pick == k
                if chosen.any():
                    out[chosen] = model.predict_proba(X.iloc[np.flatnonzero(chosen)])
        return out


def fit_folds(X: pd.DataFrame, y: np.ndarray, categorical: list[bool], seed: int) -> tuple[np.ndarray, list] | None:
    """Out-of-fold probabilities and the fold models; None when a class has fewer rows than folds."""
    counts = np.bincount(y, minlength=2)
    if len(counts) != 2 or counts.min() < FOLDS:
        return None
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    oof = np.zeros((len(y), 2))
    models = []
    # One OpenMP thread: on a small shared machine (2 cores, other stages or tests running) boosting's
    # threads spin against each other and a 1 s fit takes 10 s.
    with threadpool_limits(limits=1, user_api="openmp"):
        for fit_rows, scored in folds.split(X, y):
            model = HistGradientBoostingClassifier(**MODEL, categorical_features=categorical, random_state=seed)
            model.fit(X.iloc[fit_rows], y[fit_rows])
            oof[scored] = model.predict_proba(X.iloc[scored])
            models.append(model)
    return oof, models


def out_of_fold_probabilities(X: pd.DataFrame, y: np.ndarray, categorical: list[bool], seed: int) -> np.ndarray | None:
    """P(label = 0), P(label = 1) per row from models fitted on the other folds; None when a class has fewer
    rows than folds (nothing to cross-validate)."""
    found = fit_folds(X, y, categorical, seed)
    return None if found is None else found[0]


_last: tuple[pd.DataFrame, pd.Series, tuple[str, ...], int, int, FoldFit | str] | None = None


def fitted(train: pd.DataFrame, y: pd.Series, features: list[str], rows: int, seed: int) -> FoldFit | str:
    """The fold models on at most `rows` labelled training rows drawn with `seed`; a reason string when they
    cannot be fitted. The last fit is kept: the same frames, features and sample give it back unfitted."""
    global _last
    key = (tuple(features), rows, seed)
    if _last is not None and _last[0] is train and _last[1] is y and _last[2:5] == key:
        return _last[5]
    found = _fit(train, y, features, rows, seed)
    _last = (train, y, *key, found)
    return found


def _fit(train: pd.DataFrame, y: pd.Series, features: list[str], rows: int, seed: int) -> FoldFit | str:
    features = [c for c in features if c in train.columns]
    if not features:
        return "no feature columns to explain the label"
    labelled = sample(train.loc[y.index], rows, seed)
    labels = y.loc[labelled.index].to_numpy().astype("int64")
    encoding = Encoding.of(labelled, features)
    if not encoding.columns:
        return "no feature has a value in the sampled rows"
    found = fit_folds(encoding.matrix(labelled), labels, encoding.categorical, seed)
    if found is None:
        return "too few rows of one class to cross-validate"
    oof, models = found
    return FoldFit(encoding, tuple(models), labelled.index, labels, oof, seed)
