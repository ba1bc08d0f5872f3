"""The extra fits the training checks compare the candidate with, each fitted once per stage run: the simpler
reference models (overfitting and simpler_model both judge against them) and clones of the candidate's own
estimator on a bounded sample of the fit rows (the learning curve and the seed spread share them). Every fit is
on at most a sample of the fit rows, one thread, seeded: the same inputs give the same numbers, and the cost
stays a fraction of the candidate's own fit whatever the table's size."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from tasks.columns import is_numeric

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs

SEED = 0  # the samples of the fit rows: the same inputs give the same refits
LEAF_SHARE = 0.01  # the regularized reference's leaves hold at least this share of its fit rows (and 20 rows)
LOGISTIC = "logistic regression"
SHALLOW_TREE = "shallow tree (depth 3)"
BOOSTING = "regularized boosting (depth 3)"


def rows(data: Any, idx: np.ndarray) -> Any:
    """Rows `idx` (positions) of a frame or an array."""
    return data.iloc[idx] if isinstance(data, pd.DataFrame) else np.asarray(data)[idx]


def numeric(fit: Any, val: Any) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs as numbers the references read: as they are, or (a model without preprocessing, on the
    raw frame) through the standard preprocessing, fitted on the reference's fit rows."""
    if isinstance(fit, pd.DataFrame) and not all(is_numeric(fit[c]) for c in fit.columns):
        from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

        categorical = [c for c in fit.columns if not is_numeric(fit[c])]
        numbers = [c for c in fit.columns if c not in categorical]
        pre = build_preprocessor(categorical, numbers).fit(fit)
        return np.asarray(pre.transform(fit), dtype="float64"), np.asarray(pre.transform(val), dtype="float64")
    return np.asarray(fit, dtype="float64"), np.asarray(val, dtype="float64")


def reference_models(n_rows: int) -> dict[str, Any]:
    """The simpler models the candidate is compared with, unfitted: a plain logistic regression and a shallow
    tree (the baselines a model must beat to be worth its complexity), and a strongly regularized boosted model
    (what the same rows give a flexible model that cannot memorize them)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    leaf = max(20, int(n_rows * LEAF_SHARE))
    return {
        LOGISTIC: make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
        SHALLOW_TREE: make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            DecisionTreeClassifier(max_depth=3, min_samples_leaf=leaf, random_state=SEED),
        ),
        BOOSTING: HistGradientBoostingClassifier(
            max_depth=3, min_samples_leaf=leaf, l2_regularization=1.0, early_stopping=False, random_state=SEED
        ),
    }


def fit_scores(model: Any, X_fit: Any, y_fit: np.ndarray, X_val: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fit `model` and return its positive-class scores on its fit rows and on the validation rows."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # one thread: a model on a sample needs no more, and OpenMP threads stall on a busy machine
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_fit, y_fit)
        return (
            np.asarray(model.predict_proba(X_fit), dtype="float64")[:, 1],
            np.asarray(model.predict_proba(X_val), dtype="float64")[:, 1],
        )


def fit_sample(x: TrainingInputs, n: int) -> np.ndarray:
    """At most `n` of the fit rows (positions, sorted), drawn with SEED; a smaller sample is the start of a
    larger one, so the sizes of a learning curve are nested."""
    order = np.random.default_rng(SEED).permutation(np.asarray(x.fit_rows))
    return np.sort(order[: min(n, len(order))])


@dataclass(frozen=True)
class References:
    """The reference models fitted on `rows` of the fit rows: their scores there and on the validation rows."""

    rows: np.ndarray
    train: dict[str, np.ndarray] = field(default_factory=dict)
    validation: dict[str, np.ndarray] = field(default_factory=dict)
    unmeasured: str = ""  # why they were not fitted


def references(x: TrainingInputs, sample_rows: int) -> References:
    """The reference models fitted on at most `sample_rows` fit rows of the model inputs (once per inputs)."""
    key = ("references", sample_rows)
    if key not in x.cache:
        x.cache[key] = _references(x, sample_rows)
    return x.cache[key]


def _references(x: TrainingInputs, sample_rows: int) -> References:
    fit = fit_sample(x, sample_rows)
    if x.model_inputs is None:
        return References(fit, unmeasured="the stage passed no model inputs to fit a reference on")
    y_fit = np.asarray(x.y)[fit]
    if len(np.unique(y_fit)) < 2:
        return References(fit, unmeasured="the references' sample of the fit rows has one class")
    X_fit, X_val = numeric(rows(x.model_inputs, fit), rows(x.model_inputs, np.asarray(x.validation_rows)))
    fitted = {name: fit_scores(model, X_fit, y_fit, X_val) for name, model in reference_models(len(fit)).items()}
    return References(fit, train={k: v[0] for k, v in fitted.items()}, validation={k: v[1] for k, v in fitted.items()})


def estimator(x: TrainingInputs) -> Any:
    """The candidate's estimator (the pipeline's last step), fitted; None when the stage passed no model."""
    steps = getattr(x.model, "steps", None)
    return steps[-1][1] if steps else x.model


def candidate_again(x: TrainingInputs) -> np.ndarray:
    """The candidate's estimator fitted again as the stage fitted it (the same rows, params and threads): its
    scores on the validation rows."""
    X, fit, val = x.model_inputs, np.asarray(x.fit_rows), np.asarray(x.validation_rows)
    model = clone(estimator(x)).fit(rows(X, fit), np.asarray(x.y)[fit])
    return np.asarray(model.predict_proba(rows(X, val)), dtype="float64")[:, 1]


def candidate_refit(
    x: TrainingInputs, n: int, seed: int, shuffled: bool = False, repeat: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The candidate's estimator, unfitted (same params), seeded with `seed` (every random_state), fitted on
    `fit_sample(x, n)` (in a shuffled order when `shuffled`): its scores on those rows and on the validation
    rows. Once per inputs and arguments (`repeat` asks for another fit of the same)."""
    key = ("candidate", n, seed, shuffled, repeat)
    if key not in x.cache:
        fit = fit_sample(x, n)
        if shuffled:
            fit = np.random.default_rng(SEED + 1).permutation(fit)
        model = clone(estimator(x))
        model.set_params(**{k: seed for k in model.get_params() if k.endswith("random_state")})
        X = x.model_inputs
        train, val = fit_scores(model, rows(X, fit), np.asarray(x.y)[fit], rows(X, np.asarray(x.validation_rows)))
        if shuffled:  # back to the sorted order of `fit_sample`
            train = train[np.argsort(fit, kind="stable")]
        x.cache[key] = (train, val)
    return x.cache[key]
