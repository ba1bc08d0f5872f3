"""flows/engine.py without a flow: what the Dask workers start with, the pre-flight of a scheduler address, and what
the flow records when a stage never ran on the cluster. The stages on a real cluster: tests/flow/test_dask_engine.py."""

from __future__ import annotations

import socket
import time

import pytest

from flows import engine, stage_task
from tasks.errors import ConfigError
from tasks.params import EngineParams
from tasks.provenance import Provenance
from tasks.result import Finding, Severity, StageResult, Verdict
from tasks.runner import PipelineRun


def _run(stages: list[str] | None = None) -> PipelineRun:
    provenance = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0" * 64, packages={})
    start = "2026-12-01T00:00:00+00:00"
    return PipelineRun(run_id="r1", started_at=start, mlflow_run_id=None, provenance=provenance, stages=stages or [])


def test_workers_start_with_telemetry_off_unless_the_user_chose(monkeypatch):
    """A LocalCluster's workers get telemetry off and Prefect's client metrics server (it binds 0.0.0.0) off;
    a value the user set in the environment is passed on as it is, as in the flow's own process."""
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "0")
    env = engine.worker_env()
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DVC_NO_ANALYTICS"] == "1"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["PREFECT_CLIENT_METRICS_ENABLED"] == "false"
    assert env["DO_NOT_TRACK"] == "0"
    kwargs = engine.cluster_kwargs(EngineParams(task_runner="dask", dask_workers=3))
    assert kwargs["n_workers"] == 3 and kwargs["threads_per_worker"] == 1 and kwargs["host"] == "127.0.0.1"
    assert kwargs["dashboard_address"] is None and kwargs["worker_dashboard_address"] is None


def test_a_scheduler_that_does_not_answer_is_one_line_naming_it():
    """`engine.dask_address` where no scheduler listens: a ConfigError (exit 2 in `glassbox run`) in one line
    naming the address, within the timeout, before any run starts; a LocalCluster or the default runner is not
    checked (the run starts its own cluster)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    with pytest.raises(ConfigError) as e:
        engine.reach_cluster(EngineParams(task_runner="dask", dask_address=address), timeout_s=2)
    assert time.monotonic() - start < 30
    assert str(e.value).startswith(f"engine.dask_address {address}: ") and "\n" not in str(e.value)
    engine.reach_cluster(EngineParams(task_runner="dask"))
    engine.reach_cluster(EngineParams())


def test_workers_elsewhere_need_a_prefect_server_they_reach(monkeypatch):
    """A scheduler on another machine with Prefect's temporary server (it listens on 127.0.0.1 of the flow's
    machine, no PREFECT_API_URL): one line asking for PREFECT_API_URL, before anything connects."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ConfigError) as e:
        engine.reach_cluster(EngineParams(task_runner="dask", dask_address="tcp://10.0.0.5:8786"), timeout_s=2)
    assert "PREFECT_API_URL" in str(e.value) and str(e.value).startswith("engine.dask_address tcp://10.0.0.5:8786: ")


def test_a_stage_that_never_ran_on_the_cluster_gets_a_result_saying_why(tmp_path):
    """A stage the cluster never ran (its worker died, the scheduler went away) has no result.json: the flow
    writes one, a stage_error fail naming the error, so the report says where the run stopped; an input error
    is an input_error; a result the stage wrote in this run is never replaced."""
    run = _run()
    engine._record_unrun("training", tmp_path, run, RuntimeError("KilledWorker: worker tcp://127.0.0.1:1 died"))
    result = StageResult.read(tmp_path / "training" / "result.json")
    assert result.verdict is Verdict.fail and result.run_id == "r1"
    [finding] = result.findings
    assert finding.check == "stage_error" and finding.message.startswith("stage did not run on the Dask cluster: ")
    assert "KilledWorker" in finding.message
    engine._record_unrun("data", tmp_path, run, ConfigError("the project's folder /x is not there"))
    assert StageResult.read(tmp_path / "data" / "result.json").findings[0].check == "input_error"
    written = StageResult(
        name="evaluation",
        verdict=Verdict.passed,
        run_id="r1",
        findings=[Finding(check="test_score", severity=Severity.info, message="fine")],
    )
    (tmp_path / "evaluation").mkdir()
    written.write(tmp_path / "evaluation" / "result.json")
    engine._record_unrun("evaluation", tmp_path, run, RuntimeError("lost after the result was written"))
    assert StageResult.read(tmp_path / "evaluation" / "result.json") == written


def test_the_flows_run_follows_what_the_worker_recorded(tmp_path):
    """The worker appends the stage to its own copy of the run and saves run.json; the flow's copy follows (as
    when execute_stage appends to the flow's object inline), and never from another run's run.json."""
    flows_copy = _run(["data"])
    _run(["data", "features"]).save(tmp_path)
    engine._follow(flows_copy, tmp_path)
    assert flows_copy.stages == ["data", "features"]
    other = _run(["data"]).model_copy(update={"run_id": "r0"})
    engine._follow(other, tmp_path)
    assert other.stages == ["data"]


def test_a_worker_without_the_project_folder_is_an_input_error(monkeypatch, tmp_path):
    """On a worker that does not see the project's folder (no shared filesystem) the stage does not start: one
    line naming the worker and the folder, a ConfigError (never retried)."""

    class Worker:
        address = "tcp://10.0.0.7:40000"

    monkeypatch.setattr(stage_task, "_dask_worker", lambda: Worker())
    with pytest.raises(ConfigError) as e, stage_task._as_in_the_flow("data", str(tmp_path / "elsewhere")):
        pass
    assert "Dask worker tcp://10.0.0.7:40000" in str(e.value) and str(tmp_path / "elsewhere") in str(e.value)
    assert "\n" not in str(e.value)
