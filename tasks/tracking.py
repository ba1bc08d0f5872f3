"""MLflow glue: one parent run per pipeline run, one nested run per stage, provenance tags on both.

The parent run is created with the client (not the fluent API) so it stays open across the separate
processes of `dvc repro`; each stage opens its nested run with the fluent API so the stage's own code
(model logging, `mlflow.models.evaluate`) lands on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.provenance import Provenance

if TYPE_CHECKING:
    from tasks.params import Tracking


def configure(tracking: Tracking) -> None:
    """Point MLflow at the store in params and make sure the experiment exists with a local artifact root."""
    import mlflow

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(tracking.uri)
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(tracking.experiment) is None:
        root = tracking.artifact_root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        client.create_experiment(tracking.experiment, artifact_location=root.as_uri())
    mlflow.set_experiment(tracking.experiment)


def start_parent(tracking: Tracking, run_name: str, provenance: Provenance) -> str:
    import mlflow

    configure(tracking)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(tracking.experiment)
    run = client.create_run(exp.experiment_id, run_name=run_name, tags=provenance.tags())
    return run.info.run_id


def tag_run(run_id: str, tags: dict[str, str]) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    for k, v in tags.items():
        client.set_tag(run_id, k, v)


def finish_parent(run_id: str, status: str, report_dir: Path) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    client.set_tag(run_id, "glassbox.status", status)
    for name in ("report.json", "report.md", "report.html"):
        if (report_dir / name).is_file():
            client.log_artifact(run_id, str(report_dir / name), artifact_path="report")
    client.set_terminated(run_id, "FAILED" if status == "failed" else "FINISHED")


@contextmanager
def stage_run(tracking: Tracking, parent_id: str, name: str, provenance: Provenance) -> Iterator[str]:
    """Open the stage's nested run as the active run, so anything the stage logs lands on it."""
    import mlflow

    configure(tracking)
    tags = {"mlflow.parentRunId": parent_id, "glassbox.stage": name, **provenance.tags()}
    with mlflow.start_run(run_name=name, tags=tags) as run:
        yield run.info.run_id


def log_stage_evidence(run_id: str, stage_dir: Path, metrics: dict[str, float], verdict: str) -> None:
    """Every file the stage wrote (result.json included) becomes an artifact of its run."""
    import mlflow

    client = mlflow.MlflowClient()
    client.set_tag(run_id, "glassbox.verdict", verdict)
    for k, v in metrics.items():
        client.log_metric(run_id, k, v)
    if stage_dir.is_dir() and any(stage_dir.iterdir()):
        client.log_artifacts(run_id, str(stage_dir))
