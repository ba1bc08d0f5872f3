"""kill -9 in the middle of a stage, then the same stage again, as `dvc repro` would: the rerun completes, the
killed stage's MLflow run is marked KILLED (not left RUNNING), no half-written report or result is left, and the
report the earlier complete stage wrote is still whole until the rerun replaces it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.flow.fakes import glassbox_process, log_tail, small_project

pytestmark = pytest.mark.slow
WAIT_S = 600  # the longest a stage may take to start on a loaded machine; the poll ends as soon as it has


def _runs(root: Path) -> list:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    return client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=1000)


def test_kill_9_mid_stage_then_rerun(tmp_path: Path) -> None:
    small_project(tmp_path)
    assert glassbox_process(tmp_path, "stage", "data").wait(timeout=WAIT_S) in (0, 1)
    report = tmp_path / "reports" / "report.json"
    before = report.read_bytes()

    proc = glassbox_process(tmp_path, "stage", "features")
    deadline = time.monotonic() + WAIT_S
    while not any(r.data.tags.get("glassbox.stage") == "features" for r in _runs(tmp_path)):
        assert proc.poll() is None and time.monotonic() < deadline, "the features stage never started"
        time.sleep(0.2)  # polling a condition, bounded by the deadline
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    assert report.read_bytes() == before  # the complete run's report, whole
    assert not list((tmp_path / "reports").rglob("*.tmp"))
    killed = [r for r in _runs(tmp_path) if r.data.tags.get("glassbox.stage") == "features"]
    assert [r.info.status for r in killed] == ["RUNNING"]  # what the kill left

    rerun = glassbox_process(tmp_path, "stage", "features")
    assert rerun.wait(timeout=WAIT_S) in (0, 1), log_tail(tmp_path)
    runs = {r.info.run_id: r for r in _runs(tmp_path)}
    assert runs[killed[0].info.run_id].info.status == "KILLED"
    stages = [r for r in runs.values() if "glassbox.stage" in r.data.tags]
    assert not [r.data.tags["glassbox.stage"] for r in stages if r.info.status == "RUNNING"]
    final = json.loads(report.read_text())
    assert [s["name"] for s in final["stages"] if s["verdict"] != "skipped"][:2] == ["data", "features"]


def test_kill_9_of_the_flow_at_a_stage_boundary_then_rerun(tmp_path: Path) -> None:
    """The whole flow killed as the data stage ends (its result recorded, features not yet begun), then run
    again: the rerun completes with a report of every layer, the killed run's MLflow parent is KILLED with the
    stage it died in, nothing is left RUNNING and no temporary file is left."""
    small_project(tmp_path)
    proc = glassbox_process(tmp_path, "run")
    run_file = tmp_path / "reports" / "run.json"
    deadline = time.monotonic() + WAIT_S
    while "data" not in (json.loads(run_file.read_text()).get("stages", []) if run_file.is_file() else []):
        assert proc.poll() is None and time.monotonic() < deadline, "the data stage never ended"
        time.sleep(0.1)  # polling a condition, bounded by the deadline
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = json.loads(run_file.read_text())["mlflow_run_id"]

    rerun = glassbox_process(tmp_path, "run")
    assert rerun.wait(timeout=WAIT_S) in (0, 1), log_tail(tmp_path)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["provenance"]["mlflow_run_id"] != killed
    assert {s["name"] for s in report["stages"]} >= {"data", "features", "monitoring"}
    runs = {r.info.run_id: r for r in _runs(tmp_path)}
    assert runs[killed].info.status == "KILLED" and runs[killed].data.tags["glassbox.killed_in"] in ("data", "features")
    assert not [r.info.run_name for r in runs.values() if r.info.status == "RUNNING"]
    assert not list((tmp_path / "reports").rglob("*.tmp"))
