"""The monitoring stage on a tiny real model and a synthetic inference log: the log's contract, the reference
sample, the Evidently report saved as artifacts, quiet on the training distribution and firing on a shift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from tasks import tracking
from tasks.context import StageContext
from tasks.errors import ConfigError
from tasks.evaluation.scoring import classification_scores
from tasks.modeling import ModelRef, build_model, log_model, positive_scores
from tasks.monitoring import store
from tasks.monitoring.inference_log import LOG_FILE, load_current, reference_sample
from tasks.monitoring.stage import HTML_FILE, JSON_FILE, run
from tasks.params import Inputs, ModelSpec, MonitoringParams, Params, Tracking
from tasks.provenance import Provenance
from tasks.result import Finding, Severity

FEATURES = ["x1", "x2", "c"]


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(loc=shift, size=n)
    c = rng.choice(["a", "b"], size=n)
    y = (x1 + rng.normal(scale=0.8, size=n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "c": c, "y": y})


def inference_log(current: pd.DataFrame, model: object) -> pd.DataFrame:
    """The serving contract's columns; a few rows of another source that must be ignored."""
    scores = positive_scores(model, current[FEATURES])
    log = current[FEATURES].assign(source="current", row=np.arange(len(current)), score=scores)
    log.loc[log.index[:5], "score"] = np.nan  # rows the server did not answer
    other = log.head(50).assign(source="test", x1=100.0)
    return pd.concat([log, other], ignore_index=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:

    root = tmp_path_factory.mktemp("monitoring")
    previous = mlflow.get_tracking_uri()
    track = Tracking(tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_root=root / "artifacts", experiment="m")
    tracking.configure(track)
    train = frame(3000, 1)
    train_path = root / "train.parquet"
    train.to_parquet(train_path, index=False)
    pipe = build_model(ModelSpec(estimator="sklearn.linear_model.LogisticRegression"), ["c"], ["x1", "x2"])
    pipe.fit(train[FEATURES], train["y"])
    with mlflow.start_run() as r:
        info = log_model(pipe, train[FEATURES])
    ref = ModelRef(info.model_uri, info.model_id, r.info.run_id, FEATURES, ["c"])
    params = Params(
        inputs=Inputs(
            train=train_path,
            test=root / "test.parquet",
            current=root / "current.parquet",
            target="y",
            features=FEATURES,
        ),
        tracking=track,
        monitoring=MonitoringParams(reference_rows=2000),
    )
    yield {"root": root, "params": params, "ref": ref, "pipe": pipe}
    mlflow.set_tracking_uri(previous)


def own_store(params: Params, out: Path) -> Params:
    """The params with the inference store inside `out` (each run of these tests has its own)."""
    return params.model_copy(update={"monitoring": params.monitoring.model_copy(update={"store": out / "store"})})


def stored_and_evaluated(params: Params, out: Path, current: pd.DataFrame, setup: dict) -> None:
    """What the serving and evaluation stages leave for monitoring: the served traffic in the store (one event
    day, no id column: request ids are hashes of the inputs), the current batch with its labels as the feedback,
    and the candidate's trusted test score."""
    ref, pipe = setup["ref"], setup["pipe"]
    log = inference_log(current, pipe).assign(
        status="200",
        latency_ms=1.0,
        model_uri=ref.model_uri,
        model_id=ref.model_id,
        served_at=pd.Timestamp("2024-06-01 12:00", tz="UTC"),
    )
    rows = store.served_rows(log, FEATURES, id_column=None, timestamp=None, run_id=out.name, model_hash=None)
    store.append(params.monitoring.store, rows, out.name)
    current.to_parquet(params.inputs.current, index=False)
    test = frame(2000, 11)
    scores = classification_scores(test["y"].to_numpy(), positive_scores(pipe, test[FEATURES]), 0.5)
    summary = {"metric": "roc_auc", "threshold": 0.5, "candidate": {"scores": scores}}
    (out / "evaluation").mkdir(parents=True, exist_ok=True)
    (out / "evaluation" / "test_scores.json").write_text(json.dumps(summary))


def run_stage(setup: dict, name: str, current: pd.DataFrame) -> tuple:
    out = setup["root"] / name
    for stage in ("training", "serving", "monitoring"):
        (out / stage).mkdir(parents=True)
    setup["ref"].write(out / "training")
    inference_log(current, setup["pipe"]).to_parquet(out / "serving" / LOG_FILE, index=False)
    params = own_store(setup["params"], out)
    stored_and_evaluated(params, out, current, setup)
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    ctx = StageContext("monitoring", params, out, name, prov)
    tracking.configure(ctx.params.tracking)  # as the runner does; other test modules move the global URI
    return run(ctx), ctx.dir


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_traffic_like_training_is_quiet(setup: dict) -> None:
    """Current traffic from the training distribution: no drifted feature, share and prediction drift info;
    the stored traffic's window, its labels and confidence quiet too; the HTML and JSON report and the trend
    plots are stage artifacts; only `current` rows are compared."""
    output, folder = run_stage(setup, "clean", frame(2000, 7))
    assert by_check(output.findings, "feature_drift") == []
    assert {f.severity for f in output.findings} == {Severity.info}
    assert {f.check for f in output.findings} >= {"window_drift", "label_drift", "concept_drift", "confidence_collapse"}
    assert output.metrics["current_rows"] == 2000 and output.metrics["drifted_share.drifted"] == 0
    assert output.metrics["drifted_share.measured"] == 3
    assert output.metrics["windows"] == 1 and output.metrics["labelled_requests"] == 2000
    assert {HTML_FILE, JSON_FILE, "window_concept_drift.png", "window_confidence.csv"} <= set(output.artifacts)
    # each window's Evidently report is a snapshot in the store's workspace, the model's project (evidently ui)
    assert output.metrics["evidently_snapshots"] == 1
    assert len(list((folder.parent / "store" / "evidently").glob("*/snapshots/*.json"))) == 1
    assert (folder / HTML_FILE).stat().st_size > 10_000 and (folder / JSON_FILE).is_file()
    [pred] = by_check(output.findings, "prediction_drift")
    assert pred.evidence["served_rows"] == 1995


def test_shifted_traffic_fires(setup: dict) -> None:
    """x1 moved by 3 std: x1 is a named warning, the scores it drives drift past the fail level."""
    output, _ = run_stage(setup, "shifted", frame(2000, 7, shift=3.0))
    [col] = by_check(output.findings, "feature_drift")
    assert col.columns == ["x1"] and col.severity is Severity.warn
    [pred] = by_check(output.findings, "prediction_drift")
    assert pred.severity is Severity.fail
    assert output.metrics["feature_drift.score.x1"] > 2.5 and output.metrics["prediction_drift.score"] > 0.2


def test_load_current_keeps_only_current_rows(tmp_path) -> None:
    """Rows of other sources in the log are not current traffic."""
    log = pd.DataFrame({"source": ["current", "test"], "score": [0.1, 0.2], "x1": [1.0, 2.0]})
    log.to_parquet(tmp_path / LOG_FILE, index=False)
    assert load_current(tmp_path, ["x1"])["x1"].tolist() == [1.0]


def test_load_current_missing_feature_is_a_one_line_config_error(tmp_path) -> None:
    """A log without a feature column the model reads is an input error naming the column."""
    pd.DataFrame({"source": ["current"], "score": [0.1]}).to_parquet(tmp_path / LOG_FILE, index=False)
    with pytest.raises(ConfigError, match="'x1'"):
        load_current(tmp_path, ["x1"])


def test_reference_sample_is_fixed_by_its_seed() -> None:
    """The same seed gives the same rows; a frame smaller than the sample is taken whole."""
    df = pd.DataFrame({"a": range(1000)})
    assert reference_sample(df, 100, 3).equals(reference_sample(df, 100, 3))
    assert len(reference_sample(df, 5000, 3)) == 1000


def test_log_without_current_rows_is_a_warning_not_a_pass(setup: dict) -> None:
    """No replayed traffic: every check says drift was not measured (input drift and prediction drift warn),
    the windows were not judged (an empty store is a warning), no Evidently report, no drift metrics."""
    out = setup["root"] / "empty"
    for stage in ("training", "serving", "monitoring"):
        (out / stage).mkdir(parents=True)
    setup["ref"].write(out / "training")
    log = frame(10, 3)[FEATURES].assign(source="test", score=0.5)
    log.to_parquet(out / "serving" / LOG_FILE, index=False)
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    output = run(StageContext("monitoring", own_store(setup["params"], out), out, "empty", prov))
    said = {f.check: f for f in output.findings}
    assert set(said) == {
        "feature_drift",
        "drifted_share",
        "prediction_drift",
        "window_drift",
        "label_drift",
        "concept_drift",
        "confidence_collapse",
    }
    assert said["window_drift"].severity is Severity.warn and "holds no request" in said["window_drift"].message
    assert said["drifted_share"].severity is Severity.warn and "no `current` rows" in said["drifted_share"].message
    assert said["prediction_drift"].severity is Severity.warn and "not measured" in said["prediction_drift"].message
    assert "drifted_share.share" not in output.metrics and "prediction_drift.score" not in output.metrics
    assert output.artifacts == [] and output.metrics["current_rows"] == 0


def test_free_text_is_compared_by_its_words_not_as_categories(tmp_path) -> None:
    """A title unique to every row (as movie titles are): as categories, any two samples share none of them
    and would always read as drift; measured as words per row, traffic like training is quiet, and titles
    grown three times longer are named."""
    words = np.array(["the", "night", "of", "a", "return", "love", "man", "city", "last", "story"])

    def titled(n: int, seed: int, length: int) -> pd.DataFrame:
        df = frame(n, seed)
        draw = np.random.default_rng(seed)
        lengths = draw.integers(1, length + 1, n)
        df["title"] = [" ".join([*draw.choice(words, k), f"#{seed}-{i}"]) for i, k in enumerate(lengths)]
        return df

    features = [*FEATURES, "title"]
    track = Tracking(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", artifact_root=tmp_path / "artifacts")
    tracking.configure(track)
    train = titled(2000, 1, 4)
    train.to_parquet(tmp_path / "train.parquet", index=False)
    pipe = build_model(ModelSpec(estimator="sklearn.linear_model.LogisticRegression"), ["c"], ["x1", "x2"], ["title"])
    pipe.fit(train[features], train["y"])
    with mlflow.start_run() as r:
        info = log_model(pipe, train[features])
    ref = ModelRef(info.model_uri, info.model_id, r.info.run_id, features, ["c"], ["title"])
    params = Params(
        inputs=Inputs(
            train=tmp_path / "train.parquet",
            test=tmp_path / "t.parquet",
            current=tmp_path / "c.parquet",
            target="y",
            features=features,
            text=["title"],
        ),  # fmt: skip
        tracking=track,
        monitoring=MonitoringParams(reference_rows=2000, store=tmp_path / "store"),
    )
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    found = {}
    for name, length in (("same", 4), ("longer", 12)):
        out = tmp_path / name
        for stage in ("training", "serving", "monitoring"):
            (out / stage).mkdir(parents=True)
        ref.write(out / "training")
        current = titled(1500, 9, length)
        log = current[features].assign(source="current", row=np.arange(1500))
        log.assign(score=positive_scores(pipe, current[features])).to_parquet(out / "serving" / LOG_FILE)
        found[name] = run(StageContext("monitoring", params, out, name, prov))
    assert by_check(found["same"].findings, "feature_drift") == [], found["same"].findings
    assert "feature_drift.score.title _words_" in found["same"].metrics  # the metric name MLflow accepts
    [drifted] = [f for f in by_check(found["longer"].findings, "feature_drift") if "title" in f.columns[0]]
    assert drifted.columns == ["title (words)"]
