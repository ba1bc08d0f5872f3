"""Runs a killed process left RUNNING in MLflow are marked KILLED by the next run (which holds the project lock, so
nothing of this project is really running), the parent tagged with the stage it died in; a user's own runs in the
experiment and the run being joined are left alone."""

from __future__ import annotations

from pathlib import Path

from tasks.params import Tracking
from tasks.tracking import close_orphans, configure


def test_killed_runs_marked_with_their_stage(tmp_path: Path) -> None:
    import mlflow

    t = Tracking(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=tmp_path / "art")
    configure(t)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(t.experiment).experiment_id
    parent = client.create_run(exp, run_name="glassbox-20261203T000000Z-abc").info.run_id
    tags = {"mlflow.parentRunId": parent}
    data = client.create_run(exp, run_name="data", tags={**tags, "glassbox.stage": "data"}).info.run_id
    client.set_terminated(data, "FINISHED")
    features = client.create_run(exp, run_name="features", tags={**tags, "glassbox.stage": "features"}).info.run_id
    theirs = client.create_run(exp, run_name="my notebook").info.run_id
    kept = client.create_run(exp, run_name="glassbox-20261203T010000Z-def").info.run_id

    lines = close_orphans(t, keep=kept)

    assert len(lines) == 1 and parent in lines[0] and "killed in features" in lines[0]
    status = {r: client.get_run(r).info.status for r in (parent, data, features, theirs, kept)}
    assert status == {parent: "KILLED", data: "FINISHED", features: "KILLED", theirs: "RUNNING", kept: "RUNNING"}
    assert client.get_run(parent).data.tags["glassbox.killed_in"] == "features"
