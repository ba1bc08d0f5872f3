"""The training layer's fit checks (nondeterministic_training, overfitting, features_match), its validation
split, and its params sections."""

from __future__ import annotations

import math
from dataclasses import replace
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import yaml

from tasks.checks import CheckParams, NoParams
from tasks.errors import ConfigError
from tasks.features.parity import matrix_sha256
from tasks.params import TrainingParams, load_params
from tasks.result import Finding, Severity
from tasks.training import features_match, nondeterministic_training, overfitting
from tasks.training.checks import CHECKS
from tasks.training.inputs import TrainingInputs
from tasks.training.stage import score, validation_split
from tests.conftest import REPO

P = TrainingParams()
PREDICTIONS = np.linspace(0, 1, 50)
MATRIX = np.arange(12, dtype="float64").reshape(4, 3)


def inputs(**changes) -> TrainingInputs:
    """A small, clean inputs record: two identical fits, a small gap, the validated feature matrix."""
    train = pd.DataFrame({"x": np.arange(4.0), "y": [0, 1, 0, 1]})
    x = TrainingInputs(
        train=train,
        test=train.iloc[:0],
        features=["x"],
        target="y",
        y=train["y"].to_numpy(),
        fit_rows=np.arange(3),
        validation_rows=np.arange(3, 4),
        metric="roc_auc",
        train_score=0.72,
        validation_score=0.71,
        validation_predictions=(PREDICTIONS, PREDICTIONS.copy()),
        model_features=MATRIX,
        validated_sha256=matrix_sha256(MATRIX),
    )
    return replace(x, **changes)


def run(check: ModuleType, x: TrainingInputs, params: CheckParams | None = None) -> list[Finding]:
    """measure then judge, with the check's params from the layer's defaults."""
    p = params or getattr(P, check.__name__.rsplit(".", 1)[-1], NoParams())
    return check.judge(check.measure(x, p), p)


def test_checks_run_in_diagnostic_order():
    """Split checks first (they void every score), then the features and the classes fitted on, then the fits."""
    assert [c.name for c in CHECKS] == [
        "split_overlap",
        "temporal_overlap",
        "features_match",
        "class_imbalance",
        "nondeterministic_training",
        "unstable_training",
        "loss_not_decreasing",
        "overfitting",
        "simpler_model",
    ]


def test_identical_retrains_are_quiet():
    """Two identical prediction vectors: reproducible, info, with a max difference of 0."""
    [f] = run(nondeterministic_training, inputs())
    assert f.severity is Severity.info and f.evidence["rows_differ"] == 0
    m = nondeterministic_training.measure(inputs(), P.nondeterministic_training)
    assert m.metrics() == {"max_abs_diff": 0.0}


def test_nondeterministic_retrain_fails():
    """Predictions that differ between two same-seed trainings fail, with how many rows differ."""
    q = PREDICTIONS.copy()
    q[:5] += 0.01
    [f] = run(nondeterministic_training, inputs(validation_predictions=(PREDICTIONS, q)))
    assert f.severity is Severity.fail and f.evidence["rows_differ"] == 5
    assert "5 of 50 validation rows differ" in f.message


def test_a_nan_on_one_side_only_is_a_difference():
    """A score one fit gives and the other does not (NaN) is nondeterminism, not a pass."""
    q = PREDICTIONS.copy()
    q[0] = np.nan
    [f] = run(nondeterministic_training, inputs(validation_predictions=(PREDICTIONS, q)))
    assert f.severity is Severity.fail and f.evidence["rows_differ"] == 1


def test_overfitting_without_model_inputs_is_not_measured_and_keeps_the_gap_metric():
    """No model inputs to fit a reference on: info 'not measured' (never a pass), the gap still a stage metric
    (overfitting.train_val_gap). The statistic itself is tested in test_training_overfitting.py."""
    [f] = run(overfitting, inputs())
    assert f.severity is Severity.info and f.message.startswith("not measured")
    m = overfitting.measure(inputs(), P.overfitting)
    assert m.metrics() == {"train_val_gap": pytest.approx(0.01)}


def test_undefined_validation_score_is_not_measured_not_passed():
    """A validation part with one class has no roc_auc: the finding says the gap was not measured."""
    [f] = run(overfitting, inputs(validation_score=math.nan))
    assert f.severity is Severity.info and f.message.startswith("not measured")
    assert overfitting.measure(inputs(validation_score=math.nan), P.overfitting).metrics()["train_val_gap"] != 0.0


def test_features_matching_the_validated_fingerprint_are_quiet():
    """The matrix training fits on hashes to what the features layer recorded: info, and it says so."""
    [f] = run(features_match, inputs())
    assert f.severity is Severity.info and "validated" in f.message


def test_features_not_matching_the_validated_fingerprint_fail():
    """Another matrix than the validated one fails, with both fingerprints."""
    [f] = run(features_match, inputs(model_features=MATRIX + 1.0))
    assert f.severity is Severity.fail
    assert f.evidence["expected_sha256"] == matrix_sha256(MATRIX) != f.evidence["found_sha256"]


def test_no_preprocessing_is_said_not_passed():
    """Without a preprocessing step there is no matrix to compare: an info 'not measured'."""
    [f] = run(features_match, inputs(model_features=None, validated_sha256=None))
    assert f.severity is Severity.info and f.message.startswith("not measured")


def test_score_of_one_class_ranking_is_nan():
    """A ranking metric on labels of one class is undefined (NaN), never a perfect or a zero score."""
    assert math.isnan(score("roc_auc", np.array([1, 1]), np.array([0.2, 0.9])))
    assert score("accuracy", np.array([1, 0]), np.array([0.6, 0.4])) == 1.0


def test_validation_is_the_latest_rows_when_there_is_a_timestamp():
    """With a timestamp, validation is the most recent share of rows, whatever the file order."""
    df = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")[::-1]})
    fit, val = validation_split(df, "ts", 0.2, seed=0)
    assert sorted(df["ts"].iloc[val]) == sorted(df["ts"].nlargest(2))
    assert len(fit) == 8


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("split_overlap_share", "split_overlap.key_share"),
        ("split_overlap_row_excess", "split_overlap.row_excess"),
        ("temporal_overlap_share", "temporal_overlap.share"),
        ("repro_max_abs_diff", "nondeterministic_training.max_abs_diff"),
        ("train_val_gap", "overfitting.gap"),
    ],
)
def test_old_flat_keys_name_their_new_place(tmp_path, old, new):
    """A params.yaml written before the check sections fails in one line naming the new key."""
    raw = {"inputs": {"train": "a.csv", "test": "b.csv", "current": "c.csv", "target": "y"}, "training": {}}
    raw["training"][old] = {"warn": 0.1, "fail": 0.2}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=rf"training\.{old} moved to training\.{new}"):
        load_params(path)


def test_bundled_params_set_every_training_check():
    """params.yaml carries one section per training check with params, and the stage settings."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())["training"]
    settings = {"validation_fraction", "metric", "reuse_unchanged"}
    assert set(raw) == {*settings, *(c.name for c in CHECKS if c.params.model_fields)}


class _Unseeded:
    """A scorer that draws its weights from an unseeded generator: no random_state a seed could reach."""

    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.w_ = np.random.default_rng().normal(size=np.asarray(X).shape[1])
        return self

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-np.asarray(X) @ self.w_))
        return np.c_[1 - p, p]


@pytest.mark.parametrize("sample_rows", [10_000, 200])
def test_the_check_fits_again_itself_whole_or_on_a_sample(sample_rows):
    """The stage passes its one fit: the check refits the candidate on the same rows (small tables) or fits twice
    on a seeded sample (big ones); a seeded model agrees, an unseeded draw does not, either way."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3))
    y = (X[:, 0] + rng.normal(size=1000) > 0).astype(int)
    fit, val = np.arange(800), np.arange(800, 1000)
    p = nondeterministic_training.Params(sample_rows=sample_rows)
    for model, severity in ((LogisticRegression(), Severity.info), (_Unseeded(), Severity.fail)):
        model.fit(X[fit], y[fit])
        x = inputs(
            y=y,
            fit_rows=fit,
            validation_rows=val,
            validation_predictions=(model.predict_proba(X[val])[:, 1],),
            model=Pipeline([("model", model)]),
            model_inputs=X,
            seed=3,
        )
        m = nondeterministic_training.measure(x, p)
        [f] = nondeterministic_training.judge(m, p)
        assert m.fits == 2 and m.rows == 200 and f.severity is severity, f.message
        assert m.sample == (0 if sample_rows > 800 else 200) and f.evidence["sample_rows"] == m.sample
