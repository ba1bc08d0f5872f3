"""Shared fixtures of the training checks' unit tests: clean tables of several shapes and what the stage
prepares from them (the candidate fitted on 80% of the rows, scored on the other 20%, its pipeline and seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tasks.training import overfitting, refits, simpler_model
from tasks.training.inputs import TrainingInputs, score
from tasks.training.stage import validation_split
from tests.unit.test_training_overfitting import breast_cancer, few_valued


def prepared(df: pd.DataFrame, estimator, seed: int = 42, metric: str = "roc_auc") -> TrainingInputs:
    """The estimator seeded as the stage seeds it (every random_state), fitted on 80% of the rows."""
    X, y = df.drop(columns="y").to_numpy(dtype="float64"), df["y"].to_numpy()
    fit, val = validation_split(df, None, 0.2, 0)
    model = clone(estimator)
    model.set_params(**{k: seed for k in model.get_params() if k.endswith("random_state")})
    model.fit(X[fit], y[fit])
    p_val = model.predict_proba(X[val])[:, 1]
    return TrainingInputs(
        train=df,
        test=df.iloc[:0],
        features=[c for c in df.columns if c != "y"],
        target="y",
        y=y,
        fit_rows=fit,
        validation_rows=val,
        metric=metric,
        train_score=score(metric, y[fit], model.predict_proba(X[fit])[:, 1]),
        validation_score=score(metric, y[val], p_val),
        validation_predictions=(p_val,),
        model_inputs=X,
        model=Pipeline([("model", model)]),
        seed=seed,
    )


def linear(n: int, seed: int = 0) -> pd.DataFrame:
    """Eight numeric columns, the label a noisy logistic function of them (what a linear model gets right)."""
    X, _ = make_classification(n, 8, n_informative=8, n_redundant=0, random_state=seed)
    rng = np.random.default_rng(seed)
    logit = X @ rng.normal(0, 0.6, 8)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def test_references_are_fitted_once_for_both_checks(monkeypatch):
    """overfitting and simpler_model compare with the same reference fits: three models fitted in all."""
    calls: list[str] = []
    real = refits.fit_scores

    def counting(model, *a):
        calls.append(type(model).__name__)
        return real(model, *a)

    monkeypatch.setattr(refits, "fit_scores", counting)
    x = prepared(breast_cancer(), LogisticRegression(max_iter=5000))
    x = TrainingInputs(**{**x.__dict__, "model": None})  # no learning curve: only the references
    overfitting.measure(x, overfitting.Params())
    simpler_model.measure(x, simpler_model.Params())
    assert len(calls) == 3, calls


def test_fit_samples_are_nested_and_seeded():
    """A smaller sample is the start of a larger one, and the same inputs draw the same rows."""
    x = prepared(few_valued(1000), LogisticRegression())
    small, large = refits.fit_sample(x, 100), refits.fit_sample(x, 400)
    assert set(small) <= set(large) and len(large) == 400
    assert np.array_equal(large, refits.fit_sample(x, 400)) and set(large) <= set(x.fit_rows)
    assert len(refits.fit_sample(x, 10**6)) == len(x.fit_rows)
