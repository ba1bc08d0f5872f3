"""simpler_model: the candidate against a logistic regression and a shallow tree on the same split, judged by
the upper confidence bound of its advantage; quiet where the candidate earns its complexity or the rows cannot
tell, a warning where the rows show a simpler model does at least as well."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from tasks.result import Severity
from tasks.training import simpler_model
from tests.unit.test_training_overfitting import breast_cancer, few_valued, strong
from tests.unit.test_training_refits import linear, prepared

P = simpler_model.Params()
HGB = HistGradientBoostingClassifier()


def check(x, p=P):
    m = simpler_model.measure(x, p)
    [finding] = simpler_model.judge(m, p)
    return m, finding


@pytest.mark.parametrize(
    "shape",
    [pytest.param(breast_cancer, id="breast-cancer-569"), pytest.param(lambda: strong(2000), id="strong-2k")]
    + [pytest.param(lambda: few_valued(3000), id="few-valued-3k")],
)
def test_the_default_model_on_clean_tables_is_quiet(shape):
    """Default boosting on clean tables beats the baselines, or the rows cannot tell: info, with every
    baseline's score and the bound."""
    m, f = check(prepared(shape(), HGB))
    assert f.severity is Severity.info, f.message
    assert m.advantage_bound > P.advantage.warn
    assert all(f"{name} {s:.4f}" in f.message for name, s in m.baselines)


def test_a_linear_candidate_is_not_compared():
    m, f = check(prepared(strong(1000), LogisticRegression()))
    assert f.severity is Severity.info and "linear model" in f.message


def test_a_deep_forest_where_a_shallow_tree_does_better_warns():
    """Unpruned trees on a few-valued table a depth-3 tree explains: the rows show the baseline is better."""
    m, f = check(prepared(few_valued(3000), RandomForestClassifier(n_jobs=1)))
    assert f.severity is Severity.warn and f.message.startswith("a simpler model does as well")
    assert m.advantage_bound < 0 and m.baseline == "shallow tree (depth 3)"
    assert f.evidence["value"] == m.advantage_bound


def test_boosting_on_a_linear_problem_warns():
    """On a label that is a logistic function of the columns, boosting cannot beat the logistic regression."""
    m, f = check(prepared(linear(8000), HGB))
    assert f.severity is Severity.warn and m.baseline == "logistic regression", f.message


def test_a_bound_across_zero_is_info():
    """The candidate trails within noise: not evidence either way, info saying so."""
    m = simpler_model.Measurement(
        metric="roc_auc",
        candidate=0.80,
        baseline="logistic regression",
        baseline_validation=0.81,
        baselines=(("logistic regression", 0.81),),
        chance=0.5,
        advantage_bound=0.01,
        baseline_rows=400,
        validation_rows=100,
    )
    [f] = simpler_model.judge(m, P)
    assert f.severity is Severity.info and "too few validation rows" in f.message
    [g] = simpler_model.judge(replace(m, advantage_bound=math.nan), P)
    assert g.severity is Severity.info and g.message.startswith("not measured")
