from __future__ import annotations

import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from tasks.context import StageContext
from tasks.modeling import ModelRef, build_model, log_model, positive_scores
from tasks.monitoring.store import read as read_store
from tasks.params import Inputs, ModelSpec, MonitoringParams, Params, ServingParams, Tracking
from tasks.provenance import Provenance
from tasks.result import Severity
from tasks.serving.stage import LOG_FILE, SERVER_LOG, run

FEATURES = ["carrier", "distance", "temp", "seats"]
RUN_ID = "20261128T000000Z-abcdef"


def flights(n: int, seed: int) -> pd.DataFrame:
    """A tiny frame shaped like the demo: an id, a UTC timestamp, a string, an int, a float with NaN and a
    nullable integer (pandas Int64) with missing values: the server must take a null in an integer column."""
    rng = np.random.default_rng(seed)
    distance = rng.integers(100, 3000, n)
    return pd.DataFrame(
        {
            "flight_id": [f"s{seed}-{i}" for i in range(n)],
            "scheduled_at": pd.date_range("2013-05-01", periods=n, freq="h", tz="UTC"),
            "carrier": pd.Series(rng.choice(["AA", "UA", "DL"], n), dtype="str"),
            "distance": distance,
            "temp": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n)),
            "seats": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(50, 300, n)), dtype="Int64"),
            "late": ((distance > 1500) ^ (rng.random(n) < 0.2)).astype("int64"),
        }
    )


def train_tiny(tmp: Path) -> tuple[Params, ModelRef, pd.DataFrame]:
    """Train and log a LogisticRegression on 200 rows in a private MLflow store; write training/model.json.

    Returns params pointing at the store and at test/current parquet files, the ModelRef, and the test frame.
    """
    uri = f"sqlite:///{tmp}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.create_experiment("tiny", artifact_location=(tmp / "artifacts").as_uri())
    train, test, current = flights(200, 0), flights(150, 1), flights(120, 2)
    paths = {}
    for name, df in (("train", train), ("test", test), ("current", current)):
        paths[name] = tmp / f"{name}.parquet"
        df.to_parquet(paths[name], index=False)
    pipe = build_model(ModelSpec(estimator="sklearn.linear_model.LogisticRegression"), ["carrier"], FEATURES[1:])
    pipe.fit(train[FEATURES], train["late"])
    with mlflow.start_run(experiment_id=exp_id) as r:
        info = log_model(pipe, train[FEATURES])
    ref = ModelRef(info.model_uri, info.model_id, r.info.run_id, FEATURES, ["carrier"])
    (tmp / "out" / "training").mkdir(parents=True)
    ref.write(tmp / "out" / "training")
    params = Params(
        inputs=Inputs(**paths, target="late", id="flight_id", timestamp="scheduled_at", features=FEATURES),
        tracking=Tracking(tracking_uri=uri, artifact_root=tmp / "artifacts", registered_model="tiny-model"),
        serving=ServingParams(batch_rows=64),
        monitoring=MonitoringParams(store=tmp / "inference_store"),  # the served traffic is appended here
    )
    assert np.isfinite(positive_scores(pipe, test[FEATURES])).all()
    return params, ref, test


def context(params: Params, tmp: Path, stage: str, commit: str | None = "abc123", dirty: bool | None = False):
    prov = Provenance(
        git_commit=commit,
        git_dirty=dirty,
        data_hashes={"train": "d1", "test": "d2", "current": "d3"},
        params_sha256="p",
        packages={},
    )
    ctx = StageContext(stage, params, tmp / "out", RUN_ID, prov)
    ctx.dir.mkdir(parents=True, exist_ok=True)
    return ctx


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    previous = mlflow.get_tracking_uri()
    yield train_tiny(tmp_path_factory.mktemp("serving"))
    mlflow.set_tracking_uri(previous)


@pytest.mark.slow
def test_serving_stage_end_to_end_on_a_real_server(tiny, tmp_path):
    """The candidate behind `mlflow models serve` answers test and current rows exactly like it does offline;
    the inference log has one row per input row with the contract's columns, and every gate is quiet."""
    params, ref, test = tiny
    ctx = context(params, Path(str(ref_dir(params))), "serving")
    start = time.perf_counter()
    out = run(ctx)
    elapsed = time.perf_counter() - start
    severities = {f.check: f.severity for f in out.findings}
    assert all(s is Severity.info for s in severities.values()), [f.message for f in out.findings]
    assert {"serving_prediction_mismatch", "serving_nan", "serving_type_mismatch"} <= set(severities)
    log = pd.read_parquet(ctx.dir / LOG_FILE)
    expected = ["source", "row", "flight_id", "scheduled_at", *FEATURES, "score", "offline_score", "status",
                "latency_ms", "batch", "model_uri", "model_id", "served_at"]  # fmt: skip
    assert list(log.columns) == expected
    assert len(log) == 150 + 120 and log["source"].value_counts().to_dict() == {"test": 150, "current": 120}
    assert (log["status"] == 200).all() and log["batch"].nunique() == 3 + 2
    first = log[log["source"] == "test"].reset_index(drop=True)
    assert first["flight_id"].tolist() == test["flight_id"].tolist() and first["row"].tolist() == list(range(150))
    assert np.array_equal(first["score"].to_numpy(), first["offline_score"].to_numpy())
    assert str(log["served_at"].dtype).endswith("UTC]") and (log["model_id"] == ref.model_id).all()
    assert out.metrics["rows_served"] == 270 and out.metrics["serving_prediction_mismatch.share"] == 0.0
    assert out.metrics["serving_nan.share"] == 0.0 and out.metrics["latency_p99_ms"] > 0
    assert out.metrics["replay_rows_per_s"] == pytest.approx(270 / out.metrics["replay_s"], rel=0.01)
    assert out.metrics["serving_type_mismatch.current.columns"] == 0.0
    assert set(out.artifacts) == {LOG_FILE, SERVER_LOG} and (ctx.dir / SERVER_LOG).stat().st_size > 0
    stored = read_store(params.monitoring.store)  # the traffic (not the test rows) appended to the store
    assert len(stored) == 120 and set(stored["request_id"]) == set(log["flight_id"].iloc[150:].astype(str))
    print(f"\nserving stage: {elapsed:.1f} s, server start {out.metrics['server_startup_s']:.1f} s")


def ref_dir(params: Params) -> Path:
    """The tmp folder the fixture trained in (the parent of the test parquet)."""
    return Path(params.inputs.test).parent


@pytest.mark.slow
def test_serving_stage_names_a_feature_sent_with_the_wrong_type(tiny, tmp_path):
    """Current traffic with `distance` as text (the server converts it silently): serving_type_mismatch fails
    for `current`, naming the column, the signature's type and what was received; `test` stays quiet."""
    params, ref, _ = tiny
    current = pd.read_parquet(params.inputs.current)
    current["distance"] = current["distance"].astype(str)
    path = tmp_path / "current_as_text.parquet"
    current.to_parquet(path, index=False)
    params = params.model_copy(update={"inputs": params.inputs.model_copy(update={"current": path})})
    (tmp_path / "out" / "training").mkdir(parents=True)
    ref.write(tmp_path / "out" / "training")
    out = run(context(params, tmp_path, "serving"))
    types = {f.evidence["source"]: f for f in out.findings if f.check == "serving_type_mismatch"}
    assert types["test"].severity is Severity.info, types["test"].message
    wrong = types["current"]
    assert wrong.severity is Severity.fail and wrong.columns == ["distance"]
    detail = wrong.evidence["columns"]["distance"]
    assert detail["expected"] == "long" and detail["received"] == "string"
    assert detail["examples"] == current["distance"].unique()[:3].tolist()
    assert out.metrics["serving_type_mismatch.current.columns"] == 1.0


class _EchoServer:
    """Answers each request with a score computed from the rows it was sent (the first request slowest, so
    answers come back out of order when several are in flight)."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, frame: pd.DataFrame, timeout_s: float, body: str | None = None):
        from datetime import UTC, datetime

        from tasks.serving.server import Answer

        self.calls += 1
        if self.calls == 1:
            time.sleep(0.05)  # makes the first answer arrive last (not a wait for anything)
        scores = (frame["distance"].to_numpy() / 3000.0).tolist()
        return Answer(200, [[1 - s, s] for s in scores], None, 1.0, datetime.now(UTC))


class _DistanceModel:
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        s = X["distance"].to_numpy() / 3000.0
        return np.c_[1 - s, s]


def test_requests_in_flight_at_once_give_the_log_one_at_a_time_gives() -> None:
    """The replay's log (rows, order, scores, batches) does not depend on how many requests are in flight."""
    from tasks.serving.stage import inference_log, replay

    frames = {"test": flights(230, 1), "current": flights(410, 2)}
    ref = ModelRef("models:/m-1", "m-1", "r-1", features=FEATURES, categorical=["carrier"], text=[])
    keep = ["flight_id", "scheduled_at", *FEATURES]
    logs = []
    for concurrency in (1, 3):
        p = ServingParams(batch_rows=50, concurrency=concurrency)
        done = replay(_EchoServer(), frames, ref, _DistanceModel(), keep, p, schema=None)
        logs.append(inference_log(done, keep).drop(columns=["served_at", "latency_ms"]))
    pd.testing.assert_frame_equal(logs[0], logs[1])
    log = logs[1]
    assert list(log["source"].value_counts().sort_index()) == [410, 230]
    assert np.allclose(log["score"], log["offline_score"]) and log["batch"].nunique() == 5 + 9
    assert list(log["flight_id"]) == [*frames["test"]["flight_id"], *frames["current"]["flight_id"]]
