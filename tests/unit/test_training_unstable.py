"""unstable_training: retrains with other seeds and a shuffled row order, judged by their validation spread as
a share of the skill; quiet on clean tables with default models, a warning for a model whose score moves with
its seed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from tasks.result import Severity
from tasks.training import unstable_training
from tests.unit.test_training_overfitting import breast_cancer, few_valued, strong
from tests.unit.test_training_refits import prepared

P = unstable_training.Params()


def check(x, p=P):
    m = unstable_training.measure(x, p)
    [finding] = unstable_training.judge(m, p)
    return m, finding


@pytest.mark.parametrize(
    ("shape", "estimator"),
    [
        pytest.param(breast_cancer, RandomForestClassifier(n_jobs=1), id="breast-cancer-forest"),
        pytest.param(lambda: strong(2000), RandomForestClassifier(n_jobs=1), id="strong-forest"),
        pytest.param(lambda: few_valued(3000), RandomForestClassifier(n_jobs=1), id="few-valued-forest"),
        pytest.param(lambda: strong(2000), LogisticRegression(max_iter=1000), id="strong-logistic"),
    ],
)
def test_default_models_on_clean_tables_are_quiet(shape, estimator):
    """A default random forest or logistic regression on clean tables moves by a few percent of its skill at
    most across seeds and row orders: info, listing each retrain's score and the spread."""
    m, f = check(prepared(shape(), estimator))
    assert f.severity is Severity.info, f.message
    assert len(m.fits) == P.seeds + 2 and m.spread_share < P.spread.warn
    assert f"spread {m.spread:.4f}" in f.message and "seed 42, rows shuffled" in f.message
    assert f.evidence["scores"] == dict(m.fits)


def test_a_deterministic_estimator_stops_after_three_fits():
    """Boosting without early stopping or subsampling ignores its seed and the row order: three identical fits,
    spread 0, said as such, and the other seeds are not paid for."""
    m, f = check(prepared(few_valued(3000), HistGradientBoostingClassifier()))
    assert m.deterministic and len(m.fits) == 3 and m.spread == 0.0
    assert f.severity is Severity.info and f.message.startswith("deterministic")


def test_a_network_whose_runs_stop_at_random_warns():
    """A small network stopped early on a random tenth of its rows, on raw (unscaled) columns: some seeds
    learn, some do not. A warning naming the spread and each retrain."""
    m, f = check(prepared(breast_cancer(), MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True)))
    assert f.severity is Severity.warn and f.message.startswith("unstable training:")
    assert m.spread_share > P.spread.warn and f.evidence["value"] == m.spread_share


def test_the_spread_is_a_share_of_the_skill():
    """The same spread is large on a problem with little skill and small on one with much; no skill: info."""
    m = unstable_training.Measurement(metric="roc_auc", rows=100, fits=(("a", 0.60), ("b", 0.62)), chance=0.5)
    assert m.spread_share == pytest.approx(0.02 / 0.11)
    assert unstable_training.judge(m, P)[0].severity is Severity.warn
    easy = replace(m, fits=(("a", 0.95), ("b", 0.97)))
    assert unstable_training.judge(easy, P)[0].severity is Severity.info
    none = replace(m, fits=(("a", 0.49), ("b", 0.50)))
    [f] = unstable_training.judge(none, P)
    assert f.severity is Severity.info and f.message.startswith("not measured")


def test_without_a_model_it_says_not_measured():
    x = replace(prepared(few_valued(500), LogisticRegression()), model=None)
    m, f = check(x)
    assert f.severity is Severity.info and f.message.startswith("not measured") and not m.metrics()


def test_evidence_is_a_plot_and_its_table(tmp_path):
    m = unstable_training.measure(prepared(strong(600), LogisticRegression()), P)
    assert sorted(m.evidence(tmp_path)) == ["seed_spread.csv", "seed_spread.png"]
    assert (tmp_path / "seed_spread.csv").read_text().count("\n") == len(m.fits) + 1
