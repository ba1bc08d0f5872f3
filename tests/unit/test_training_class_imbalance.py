"""class_imbalance: a rare class with nothing in the pipeline weighing it up warns with the class shares and the
harm; a balanced table, or one whose pipeline sets class weights, is quiet. Fitted for real on small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tasks.params import TrainingParams
from tasks.result import Severity
from tasks.training import class_imbalance
from tasks.training.inputs import TrainingInputs

P = TrainingParams().class_imbalance


def fitted(rate: float, estimator, rows: int = 4000, seed: int = 0) -> TrainingInputs:
    """A table whose positives are `rate` of the rows, a weak honest feature, the estimator fitted on 80%."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < rate).astype("int64")
    x = rng.normal(size=rows) + 0.8 * y
    train = pd.DataFrame({"x": x, "y": y})
    fit, val = np.arange(int(rows * 0.8)), np.arange(int(rows * 0.8), rows)
    model = Pipeline([("model", estimator)]).fit(train[["x"]].iloc[fit], y[fit])
    scores = model.predict_proba(train[["x"]].iloc[val])[:, 1]
    return TrainingInputs(
        train=train,
        test=train.iloc[:0],
        features=["x"],
        target="y",
        y=y,
        fit_rows=fit,
        validation_rows=val,
        metric="roc_auc",
        train_score=0.7,
        validation_score=0.7,
        validation_predictions=(scores, scores),
        model=model,
    )


def check(x: TrainingInputs):
    m = class_imbalance.measure(x, P)
    return m, class_imbalance.judge(m, P)


def test_a_rare_class_with_no_handling_warns_with_shares_and_harm():
    """2% positives, an unweighted gradient-boosted model: a warning naming the share; the harm (how few
    positives land above 0.5) is measured, not assumed."""
    m, [f] = check(fitted(0.02, HistGradientBoostingClassifier(random_state=0)))
    assert f.severity is Severity.warn
    assert m.minority == 1 and 0.01 < m.share < 0.03 and not m.handling
    assert "class 1 is 2." in f.message and "nothing in the pipeline weighs it up" in f.message
    assert m.validation_minority_recall < 0.3


def test_class_weights_are_handling_and_keep_it_quiet():
    """The same 2% with class_weight='balanced': info naming the handling, and the minority found far more."""
    m, [f] = check(fitted(0.02, LogisticRegression(class_weight="balanced")))
    assert f.severity is Severity.info and "handled by model__class_weight='balanced'" in f.message
    assert m.validation_minority_recall >= 0.5


def test_balanced_and_moderately_unbalanced_tables_are_quiet():
    """40% and 8% positives (1 in 12, as ISLR's Caravan's 6% is near): above the floor, info."""
    for rate in (0.4, 0.08):
        m, [f] = check(fitted(rate, HistGradientBoostingClassifier(random_state=0), seed=1))
        assert f.severity is Severity.info, f.message


def test_the_minority_can_be_the_negative_class():
    """97% positives: class 0 is the rare one, judged the same way."""
    m, [f] = check(fitted(0.97, HistGradientBoostingClassifier(random_state=0), seed=2))
    assert m.minority == 0 and f.severity is Severity.warn and "class 0 is" in f.message
