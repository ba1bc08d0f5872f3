"""loss_not_decreasing: clean gradient fits (MLP with adam, early stopping, an adaptive rate, a very short run;
SGD with modified Huber and log loss) are quiet on two tables of different shape; a learning rate too high, a curve that
climbs back up or diverges, and a network whose ReLU layers die each fail; a model not trained by gradient
steps is reported as not measured. Fitted for real on scikit-learn's bundled and synthetic tables."""

from __future__ import annotations

import math
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tasks.params import TrainingParams
from tasks.result import Finding, Severity
from tasks.training import loss_not_decreasing as lnd
from tasks.training.inputs import TrainingInputs

P = TrainingParams().loss_not_decreasing


@cache
def table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardized features and labels: breast cancer (569 rows, 30 strong features) or a synthetic table
    (3,000 rows, 20 features of which 6 informative, 5% of labels flipped)."""
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = make_classification(n_samples=3000, n_features=20, n_informative=6, flip_y=0.05, random_state=0)
    return StandardScaler().fit_transform(X), y


def fitted(name: str, estimator) -> TrainingInputs:
    """The estimator fitted on a random 80% of the table, as the training stage hands it to the checks."""
    X, y = table(name)
    idx = np.random.default_rng(0).permutation(len(y))
    fit, val = np.sort(idx[: int(0.8 * len(y))]), np.sort(idx[int(0.8 * len(y)) :])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
        model = Pipeline([("model", estimator)]).fit(X[fit], y[fit])
    scores = model.predict_proba(X[val])[:, 1]
    frame = pd.DataFrame(X).assign(y=y)
    return TrainingInputs(
        train=frame,
        test=frame.iloc[:0],
        features=[c for c in frame.columns if c != "y"],
        target="y",
        y=y,
        fit_rows=fit,
        validation_rows=val,
        metric="roc_auc",
        train_score=float("nan"),
        validation_score=float("nan"),
        validation_predictions=(scores, scores),
        model_inputs=X,
        model=model,
    )


def run(x: TrainingInputs) -> tuple[lnd.Measurement, list[Finding]]:
    m = lnd.measure(x, P)
    return m, lnd.judge(m, P)


def problems(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.severity.value, f.message) for f in findings if f.severity is not Severity.info]


CLEAN = {
    "mlp_adam": lambda: MLPClassifier(random_state=42, max_iter=300),
    "mlp_early_stopping": lambda: MLPClassifier(random_state=42, early_stopping=True),
    "mlp_two_layers": lambda: MLPClassifier(hidden_layer_sizes=(64, 32), random_state=42, max_iter=300),
    "mlp_sgd_adaptive": lambda: MLPClassifier(solver="sgd", learning_rate="adaptive", random_state=42, max_iter=300),
    # modified_huber: the hinge family with predict_proba (the training stage scores probabilities)
    "sgd_modified_huber": lambda: SGDClassifier(loss="modified_huber", random_state=0),
    "sgd_log_early_stopping": lambda: SGDClassifier(loss="log_loss", early_stopping=True, random_state=0),
}


@pytest.mark.parametrize("name", ["breast_cancer", "synthetic"])
@pytest.mark.parametrize("estimator", list(CLEAN))
def test_clean_converging_fits_are_quiet(name, estimator):
    """A clean fit's loss falls far beyond its noise (its trend is judged, not skipped), no unit is constant,
    no layer's updates explode or vanish: nothing above info, on both tables."""
    m, findings = run(fitted(name, CLEAN[estimator]()))
    assert not problems(findings), problems(findings)
    assert len(m.curve) >= P.min_epochs and m.drop_z > P.drop.warn
    assert any("fell from" in f.message for f in findings)
    if m.kind == "network":
        assert max(m.constant_share) < P.constant_units.warn and m.updates


def test_a_very_short_curve_is_reported_not_judged():
    """Four epochs (max_iter 4) are too few to tell a trend from noise: an info naming the curve, no verdict."""
    m, findings = run(fitted("synthetic", MLPClassifier(random_state=42, max_iter=4)))
    assert len(m.curve) == 4 and math.isnan(m.drop_z)
    assert not problems(findings)
    assert any("not judged" in f.message for f in findings)


@pytest.mark.parametrize("name", ["breast_cancer", "synthetic"])
def test_learning_rate_too_high_fails(name):
    """SGD with a constant rate far too high (eta0 10): its loss jumps to tens of nats and never falls back;
    the trend fails with the start and end of the curve, and the skill is negative."""
    estimator = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=10.0, random_state=0)
    m, findings = run(fitted(name, estimator))
    fails = [f for f in findings if f.severity is Severity.fail]
    assert any("does not go down" in f.message for f in fails), problems(findings)
    assert m.drop_z < P.drop.fail and m.skill < 0


def test_a_network_at_a_far_too_high_rate_warns_on_its_update_sizes():
    """Adam at 1000x its default rate on the synthetic table still lowers its loss (dense Gaussian inputs keep
    its units alive), but each epoch moves a layer's weights by a large share of their size (clean: under 0.05):
    a warning naming the layer."""
    m, findings = run(fitted("synthetic", MLPClassifier(learning_rate_init=1.0, random_state=42, max_iter=100)))
    warned = [f for f in findings if f.severity is Severity.warn and "weight update" in f.message]
    assert warned and max(m.median_updates()) > P.update_size.warn, problems(findings)
    assert "->" in warned[0].message


@pytest.mark.parametrize("name", ["breast_cancer", "synthetic"])
def test_dying_relu_layers_fail_although_the_loss_falls(name):
    """A deep, narrow ReLU stack (six layers of 32) with adam at 50x its default rate: the training loss falls
    nicely, but most units of a deep layer output 0 on every validation row; the finding names the layer."""
    estimator = MLPClassifier(hidden_layer_sizes=(32,) * 6, learning_rate_init=0.05, random_state=42, max_iter=100)
    m, findings = run(fitted(name, estimator))
    assert m.drop_z > P.drop.warn  # the curve alone would not show it
    dead = [f for f in findings if f.severity is Severity.fail and "constant output" in f.message]
    assert dead, problems(findings)
    assert max(m.constant_share) > P.constant_units.fail and "hidden" in dead[0].message


def curve_measurement(curve: list[float]) -> lnd.Measurement:
    arr = np.asarray(curve, dtype="float64")
    stats = dict(zip(("noise", "start", "end", "best", "drop_z", "rise_z"), lnd.trend(arr), strict=True))
    finite = np.isfinite(arr).all()
    return lnd.Measurement(
        estimator="SGDClassifier",
        kind="sgd",
        curve_source="refit",
        loss_name="log_loss",
        curve=tuple(curve),
        **(stats if finite else {}),
    )


def test_curve_shapes():
    """On curves alone: a noisy but falling curve is quiet; one that falls then climbs back well beyond its
    noise fails on the rise; an oscillating curve that never goes down fails on the drop; a NaN is a divergence."""
    rng = np.random.default_rng(0)
    epochs = np.arange(30)
    noisy_fall = 0.3 + 0.4 * np.exp(-epochs / 6) + rng.normal(0, 0.02, 30)
    assert not problems(lnd.judge(curve_measurement(list(noisy_fall)), P))

    climb = 0.3 + 0.4 * np.exp(-epochs / 4) + np.where(epochs > 15, 0.02 * (epochs - 15), 0) + rng.normal(0, 0.005, 30)
    found = lnd.judge(curve_measurement(list(climb)), P)
    assert any(f.severity is Severity.fail and "climbs back up" in f.message for f in found), problems(found)

    oscillating = 0.6 + 0.05 * np.sin(epochs * 2.1) + rng.normal(0, 0.01, 30)
    found = lnd.judge(curve_measurement(list(oscillating)), P)
    assert any(f.severity is Severity.fail and "does not go down" in f.message for f in found), problems(found)

    found = lnd.judge(curve_measurement([0.7, 0.6, 5.0, float("nan")]), P)
    assert [f.severity for f in found] == [Severity.fail] and "diverged" in found[0].message


def test_a_model_not_trained_by_gradient_steps_is_not_measured():
    """Boosted trees have no loss curve and no layers: one info that says so, never a pass."""
    m, findings = run(fitted("synthetic", HistGradientBoostingClassifier(max_iter=20, random_state=0)))
    assert m.kind == "" and not m.metrics()
    assert [f.severity for f in findings] == [Severity.info]
    assert findings[0].message.startswith("not measured: HistGradientBoostingClassifier")


def test_lbfgs_network_has_no_curve_but_its_layers_are_checked():
    """lbfgs records no loss curve (reported as not measured) and takes no partial_fit steps; its layers'
    activations are still measured."""
    m, findings = run(fitted("breast_cancer", MLPClassifier(solver="lbfgs", random_state=42, max_iter=200)))
    assert not m.curve and m.constant_share and not m.updates
    assert any("loss curve not measured" in f.message for f in findings)
    assert not problems(findings)


def test_evidence_is_the_loss_curve_and_the_layer_updates(tmp_path):
    """The loss curve and the per-layer update sizes are drawn, each as a PNG with its CSV."""
    m, _ = run(fitted("synthetic", MLPClassifier(random_state=42, early_stopping=True)))
    files = m.evidence(tmp_path)
    assert set(files) == {"loss_curve.png", "loss_curve.csv", "weight_updates.png", "weight_updates.csv"}
    curve = pd.read_csv(tmp_path / "loss_curve.csv")
    assert list(curve.columns) == ["epoch", "loss"] and len(curve) == len(m.curve)
