"""The evaluation stage end to end on a tiny real model in a private MLflow store: MLflow's evaluation on the
run, the score at the configured threshold, and the comparison with a registered champion."""

from __future__ import annotations

import json
from collections.abc import Iterator

import mlflow
import numpy as np
import pandas as pd
import pytest

from tasks import tracking
from tasks.context import StageContext
from tasks.evaluation.checks import CHECKS
from tasks.evaluation.stage import run
from tasks.modeling import ModelRef, build_model, log_model
from tasks.params import Inputs, ModelSpec, Params, Tracking
from tasks.provenance import Provenance
from tasks.result import Finding, Severity

FEATURES = ["x1", "x2", "c"]
MODEL = "tiny"


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    c = rng.choice(["a", "b"], size=n)
    y = (x1 + 0.5 * (c == "a") + rng.normal(scale=0.8, size=n) > 0.3).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "c": c, "x3": rng.normal(size=n), "y": y})


def fit_and_log(train: pd.DataFrame, features: list[str], shuffle: bool = False) -> ModelRef:
    """A real pipeline logged the way training logs it; `shuffle` trains on permuted labels (a bad model)."""
    numeric = [f for f in features if f != "c"]
    pipe = build_model(ModelSpec(estimator="sklearn.linear_model.LogisticRegression"), ["c"], numeric)
    y = train["y"].sample(frac=1.0, random_state=0).to_numpy() if shuffle else train["y"]
    pipe.fit(train[features], y)
    with mlflow.start_run() as r:
        info = log_model(pipe, train[features])
    return ModelRef(info.model_uri, info.model_id, r.info.run_id, features, ["c"])


def register_champion(ref: ModelRef) -> str:
    version = mlflow.register_model(ref.model_uri, MODEL).version
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", str(version))
    return str(version)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("evaluation")
    previous = mlflow.get_tracking_uri()
    track = Tracking(
        tracking_uri=f"sqlite:///{root}/mlflow.db",
        artifact_root=root / "artifacts",
        experiment="t",
        registered_model=MODEL,
    )
    tracking.configure(track)
    train = frame(600, 1)
    test = frame(400, 2)
    test_path = root / "test.parquet"
    test.drop(columns="x3").to_parquet(test_path, index=False)
    params = Params(
        inputs=Inputs(
            train=root / "train.parquet",
            test=test_path,
            current=root / "current.parquet",
            target="y",
            features=FEATURES,
        ),
        tracking=track,
    )
    yield {
        "root": root,
        "params": params,
        "good": fit_and_log(train, FEATURES),
        "bad": fit_and_log(train, FEATURES, shuffle=True),
        "wide": fit_and_log(train, [*FEATURES, "x3"]),
    }
    mlflow.set_tracking_uri(previous)


def run_stage(store: dict, candidate: ModelRef, name: str, params: Params | None = None) -> tuple:
    out = store["root"] / name
    (out / "training").mkdir(parents=True)
    (out / "evaluation").mkdir()
    candidate.write(out / "training")
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    ctx = StageContext("evaluation", params or store["params"], out, name, prov)
    tracking.configure(ctx.params.tracking)  # as the runner does; other test modules move the global URI
    with mlflow.start_run(run_name=name) as r:
        output = run(ctx)
    return output, ctx.dir, r.info.run_id


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_first_run_says_no_champion_and_logs_mlflow_evaluation(store: dict) -> None:
    """Without a champion: an info finding says so; MLflow's metrics and plots are on the run and in the stage
    folder, and they agree with the stage's own numbers (roc_auc on probabilities)."""
    output, folder, run_id = run_stage(store, store["good"], "first")
    [champ] = by_check(output.findings, "challenger_worse")
    assert champ.severity is Severity.info and "no champion yet" in champ.message
    assert "challenger_worse.margin" not in output.metrics
    logged = mlflow.MlflowClient().get_run(run_id).data.metrics
    assert logged["roc_auc"] == pytest.approx(output.metrics["test_score.roc_auc"])
    assert output.metrics["test_score.roc_auc"] > 0.75
    files = {p.name for p in folder.iterdir()}
    assert {"roc_curve_plot.png", "confusion_matrix.png", "calibration_curve_plot.png"} <= files
    assert set(output.artifacts) <= files
    [score] = by_check(output.findings, "test_score")
    assert score.severity is Severity.info


def test_confusion_matrix_is_at_the_configured_threshold(store: dict) -> None:
    """MLflow's confusion counts use evaluation.threshold (not the 0.5 arg-max) and match the stage's."""
    params = store["params"].model_copy(
        update={"evaluation": store["params"].evaluation.model_copy(update={"threshold": 0.2})}
    )
    output, folder, _ = run_stage(store, store["good"], "threshold", params)
    summary = json.loads((folder / "mlflow_evaluate.json").read_text())["metrics"]
    assert summary["true_positives"] == output.metrics["test_score.true_positives"]
    assert summary["false_positives"] == output.metrics["test_score.false_positives"]
    low = output.metrics["test_score.false_positives"]
    default, _, _ = run_stage(store, store["good"], "threshold-default")
    assert low > default.metrics["test_score.false_positives"]


def test_worse_challenger_fails_against_the_champion(store: dict) -> None:
    """A champion clearly better than the challenger on the same rows makes the margin fail."""
    version = register_champion(store["good"])
    output, _, _ = run_stage(store, store["bad"], "worse")
    [champ] = by_check(output.findings, "challenger_worse")
    assert champ.severity is Severity.fail
    assert champ.evidence["champion_version"] == version
    assert output.metrics["challenger_worse.margin"] < -0.1


def test_equal_challenger_is_quiet(store: dict) -> None:
    """The champion itself as challenger: margin 0, info, and the evidence says it is the same model."""
    register_champion(store["good"])
    output, _, _ = run_stage(store, store["good"], "equal")
    [champ] = by_check(output.findings, "challenger_worse")
    assert champ.severity is Severity.info
    assert output.metrics["challenger_worse.margin"] == 0.0 and champ.evidence["same_model"] is True


def test_champion_needing_a_missing_column_is_reported_not_crashed(store: dict) -> None:
    """A champion trained on a column today's test set lacks is a warn finding naming the column."""
    register_champion(store["wide"])
    output, _, _ = run_stage(store, store["good"], "wide")
    [champ] = by_check(output.findings, "challenger_worse")
    assert champ.severity is Severity.warn and champ.columns == ["x3"]
    assert "challenger_worse.margin" not in output.metrics


def test_test_set_not_matching_its_pin_fails(store: dict) -> None:
    """The trusted test set must be the pinned snapshot: another md5 is a fail."""
    inputs = store["params"].inputs.model_copy(update={"pins": {"test": "0" * 32}})
    output, _, _ = run_stage(store, store["good"], "pin", store["params"].model_copy(update={"inputs": inputs}))
    [pin] = by_check(output.findings, "test_set_changed")
    assert pin.severity is Severity.fail


def test_every_check_reports_on_a_clean_run(store: dict) -> None:
    """Each evaluation check leaves a finding under its own name, in diagnostic order, and the scores summary
    carries the candidate's scores (read from the test_score measurement)."""
    output, folder, _ = run_stage(store, store["good"], "all-checks")
    names = [f.check for f in output.findings]
    assert list(dict.fromkeys(names)) == [c.name for c in CHECKS]  # a check may leave several (slices)
    summary = json.loads((folder / "test_scores.json").read_text())
    assert summary["candidate"]["scores"]["roc_auc"] == output.metrics["test_score.roc_auc"]


def test_one_class_test_set_fails_its_labels_without_mlflow_evaluation(store: dict) -> None:
    """A trusted test set of one class: test_labels fails first, the score is undefined (a fail, never a pass),
    and MLflow's evaluator (which needs both classes) is not run."""
    path = store["root"] / "one-class.parquet"
    frame(100, 3).assign(y=1).drop(columns="x3").to_parquet(path, index=False)
    inputs = store["params"].inputs.model_copy(update={"test": path})
    output, folder, _ = run_stage(
        store, store["good"], "one-class", store["params"].model_copy(update={"inputs": inputs})
    )
    first = next(f for f in output.findings if f.severity is Severity.fail)
    assert first.check == "test_labels"
    assert by_check(output.findings, "test_score")[0].severity is Severity.fail
    assert not (folder / "mlflow_evaluate.json").exists()
