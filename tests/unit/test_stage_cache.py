"""A stage result reused when nothing it depends on changed (tasks/stage_cache.py): the second run with the same
commit, code, params, data and upstream files gets the first run's evidence without running the stage; any change
of one of them, a dirty tree or `training.reuse_unchanged: false` runs it again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tasks import runner, stage_cache, tracking
from tasks.params import Inputs, Params, Tracking
from tasks.provenance import Provenance
from tasks.result import Finding, Severity, StageOutput
from tasks.runner import PipelineRun, execute_stage

CALLS: list[str] = []


def fake_training(ctx) -> StageOutput:
    """Stands for the training stage: writes evidence, counts its calls."""
    CALLS.append(ctx.run_id)
    (ctx.dir / "model.json").write_text(json.dumps({"fitted_in": ctx.run_id}))
    return StageOutput(
        findings=[Finding(check="overfitting", severity=Severity.warn, message="a gap")],
        artifacts=["model.json"],
        metrics={"train_roc_auc": 0.9},
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    previous = mlflow.get_tracking_uri()
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train", "test"):
        pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_csv(data / f"{name}.csv", index=False)
    inputs = Inputs(train=data / "train.csv", test=data / "test.csv", current=data / "test.csv", target="y")
    track = Tracking(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", artifact_root=tmp_path / "artifacts")
    params = Params(inputs=inputs, tracking=track)
    out = tmp_path / "reports"
    (out / "features").mkdir(parents=True)
    (out / "features" / "features.json").write_text('{"sha256": "abc"}')
    monkeypatch.setattr(runner, "stage_function", lambda name: fake_training)
    CALLS.clear()
    yield {"params": params, "out": out}
    mlflow.set_tracking_uri(previous)


def provenance(**change) -> Provenance:
    base = {
        "git_commit": "c0ffee",
        "git_dirty": False,
        "data_hashes": {"train": "t1", "test": "s1", "current": "x1"},
        "params_sha256": "p",
        "packages": {},
    }
    return Provenance(**{**base, **change})


def run_training(project: dict, prov: Provenance, params: Params | None = None, run_id: str = "r") -> tuple:
    params = params or project["params"]
    parent = tracking.start_parent(params.tracking, run_id, prov)
    run = PipelineRun(run_id=run_id, started_at="2026-12-03T00:00:00", mlflow_run_id=parent, provenance=prov)
    result = execute_stage("training", params, project["out"], run)
    stage_run = mlflow.MlflowClient().search_runs(
        [mlflow.get_experiment_by_name(params.tracking.experiment).experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent}'",
    )[0]
    return result, stage_run


def test_an_unchanged_stage_is_reused_with_its_evidence(project: dict) -> None:
    first, first_run = run_training(project, provenance(), run_id="r1")
    assert CALLS == ["r1"] and first_run.data.tags[stage_cache.KEY_TAG]
    again, again_run = run_training(project, provenance(data_hashes={"train": "t1", "test": "s1", "current": "x2"}))
    assert CALLS == ["r1"]  # the current batch is not the training stage's input: nothing changed for it
    assert [f.check for f in again.findings] == ["overfitting", stage_cache.CHECK]
    assert first_run.info.run_id in again.findings[-1].message and again.metrics == first.metrics
    assert json.loads((project["out"] / "training" / "model.json").read_text()) == {"fitted_in": "r1"}
    assert again_run.data.tags[stage_cache.REUSED_TAG] == first_run.info.run_id
    assert "model.json" in {a.path for a in mlflow.MlflowClient().list_artifacts(again_run.info.run_id)}


@pytest.mark.parametrize(
    "change",
    [
        {"data_hashes": {"train": "t2", "test": "s1", "current": "x1"}},
        {"data_hashes": {"train": "t1", "test": "s2", "current": "x1"}},
        {"git_commit": "decaf"},
        {"git_dirty": True},
        {"git_commit": None},
    ],
)
def test_a_change_runs_the_stage_again(project: dict, change: dict) -> None:
    run_training(project, provenance(), run_id="r1")
    run_training(project, provenance(**change), run_id="r2")
    assert CALLS == ["r1", "r2"]


def test_new_params_or_upstream_files_or_reuse_off_run_it_again(project: dict) -> None:
    run_training(project, provenance(), run_id="r1")
    (project["out"] / "features" / "features.json").write_text('{"sha256": "def"}')
    run_training(project, provenance(), run_id="r2")
    other = project["params"].model_copy(update={"gates": ["data"]})
    run_training(project, provenance(), params=other, run_id="r3")
    off = Params.model_validate({**project["params"].model_dump(), "training": {"reuse_unchanged": False}})
    run_training(project, provenance(), params=off, run_id="r4")
    run_training(project, provenance(), params=off, run_id="r5")
    assert CALLS == ["r1", "r2", "r3", "r4", "r5"]
