"""MLflow glue: one parent run per pipeline run, one nested run per stage, provenance tags on both.

The parent run is created with the client (not the fluent API) so it stays open across the separate
processes of `dvc repro`; each stage opens its nested run with the fluent API so the stage's own code
(model logging, `mlflow.models.evaluate`) lands on it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tasks.errors import ConfigError
from tasks.provenance import Provenance
from tasks.redact import public_uri, scrubbed

if TYPE_CHECKING:
    from tasks.params import Tracking


# MLflow 3's UI opens an experiment of this kind on its training runs (not the GenAI overview).
EXPERIMENT_KIND = "mlflow.experimentKind"
KIND_TAG = {EXPERIMENT_KIND: "custom_model_development"}


def configure(tracking: Tracking) -> None:
    """Point MLflow at the store in params and make sure the experiment exists with a local artifact root."""
    import mlflow

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(tracking.uri)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        root = tracking.artifact_root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        client.create_experiment(tracking.experiment, artifact_location=root.as_uri(), tags=KIND_TAG)
    elif EXPERIMENT_KIND not in experiment.tags:  # a store made before: set once, never override a user's
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND, KIND_TAG[EXPERIMENT_KIND])
    mlflow.set_experiment(tracking.experiment)


def reach_store(tracking: Tracking) -> None:
    """The store answers and could take a write now, checked once before a run starts: a stopped tracking server
    or PostgreSQL server, or a SQLite file another process holds, is one line naming the store (MLflow's own
    retries spend ~4 min on a refused connection, ~100 s on a database, and a locked file would crash a stage
    midway)."""
    import sqlite3

    uri, wait = tracking.uri, tracking.store_timeout_s
    where = f"MLflow store {public_uri(uri)}"
    expected = "expected a tracking store glassbox can read and write (tracking.tracking_uri in params)"
    db = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None
    try:
        if db is not None and db.is_file():  # a write lock free within the wait, then nothing written
            with closing(sqlite3.connect(db, timeout=wait, isolation_level=None)) as con:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
        elif uri.split("://", 1)[0] in POSTGRES_SCHEMES:
            _connect_once(uri, wait)
        with _environ(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT=str(max(1, round(wait)))):
            configure(tracking)
    except sqlite3.OperationalError as e:
        held = f"locked by another process for over {wait:g} s" if "locked" in str(e) else str(e)
        raise ConfigError(f"{where}: {held}; {expected}") from None
    except Exception as e:  # MLflow's, SQLAlchemy's and requests' errors: the store is named with the first line
        first = scrubbed(str(e).strip()).splitlines()[0][:300] if str(e).strip() else ""
        raise ConfigError(f"{where}: {type(e).__name__}: {first}; {expected}") from None


# The PostgreSQL drivers whose connect() takes libpq's connect_timeout (psycopg2 is SQLAlchemy's default).
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg")


def _connect_once(uri: str, wait: float) -> None:
    """One connection to a PostgreSQL store within the wait (libpq counts whole seconds, at least 2): a stopped
    server, a wrong port, database or role is an error now, not after MLflow's ten engine attempts (~100 s)."""
    import math

    import sqlalchemy
    from sqlalchemy.pool import NullPool

    timeout = max(2, math.ceil(wait))
    engine = sqlalchemy.create_engine(uri, poolclass=NullPool, connect_args={"connect_timeout": timeout})
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def close_orphans(tracking: Tracking, keep: str | None = None) -> list[str]:
    """Mark KILLED the glassbox runs a killed process left RUNNING, each parent tagged with the stage it died in.
    Called with the project lock held, so no live run of this project is RUNNING but `keep` (the parent a `dvc
    repro` stage joins); a user's own runs in the experiment (no glassbox tags) are left alone. Returns one line
    per parent closed."""
    import mlflow

    configure(tracking)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(tracking.experiment)
    running = client.search_runs([exp.experiment_id], "attributes.status = 'RUNNING'", max_results=1000)
    ours = [
        r
        for r in running
        if r.info.run_id != keep and ("glassbox.stage" in r.data.tags or r.info.run_name.startswith("glassbox-"))
    ]
    closed = []
    for r in sorted(ours, key=lambda r: "glassbox.stage" in r.data.tags):  # parents first: their children tell
        if "glassbox.stage" not in r.data.tags:
            stage, when = _last_stage(client, exp.experiment_id, r.info.run_id)
            log_batch(r.info.run_id, tags={"glassbox.status": "killed", "glassbox.killed_in": stage})
            closed.append(f"MLflow run {r.info.run_id} ({r.info.run_name}) was left RUNNING: {when}")
        client.set_terminated(r.info.run_id, "KILLED")
    return closed


def _last_stage(client: Any, experiment_id: str, parent: str) -> tuple[str, str]:
    """The stage a killed pipeline run died in (its last stage run, still RUNNING) or just after (finished), and
    that in words; ('none', ...) when it had started none."""
    children = client.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{parent}'", order_by=["attributes.start_time DESC"]
    )
    staged = [c for c in children if "glassbox.stage" in c.data.tags]
    if not staged:
        return "none", "killed before its first stage"
    stage = staged[0].data.tags["glassbox.stage"]
    return stage, f"killed in {stage}" if staged[0].info.status == "RUNNING" else f"killed after {stage}"


def start_parent(tracking: Tracking, run_name: str, provenance: Provenance) -> str:
    import mlflow

    configure(tracking)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(tracking.experiment)
    run = client.create_run(exp.experiment_id, run_name=run_name, tags=provenance.tags())
    return run.info.run_id


# The data files each stage reads (inputs.files() roles), logged as MLflow datasets on its run.
STAGE_DATA: dict[str, tuple[str, ...]] = {
    "data": ("train", "test", "current"),
    "features": ("train", "current"),
    "training": ("train",),
    "evaluation": ("test",),
    "serving": ("test", "current"),
    "deployment": ("current",),
    "monitoring": ("train", "current"),
}
HEAD_ROWS = 1000  # rows read for a dataset's schema (the profile counts every row where the file says)


def dataset_of(role: str, path: Path, md5: str, target: str | None) -> Any:
    """An MLflow dataset entity for a pinned file: its digest is the DVC md5 (so the run list's Dataset column
    and lineage name the same version `dvc` does), its schema from the first rows, its row count from the
    Parquet footer (CSV: its size only, counting rows would read the file again)."""
    import mlflow.data
    from mlflow.entities import Dataset

    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(path)
        head = next(handle.iter_batches(batch_size=HEAD_ROWS)).to_pandas()
        profile = {"num_rows": handle.metadata.num_rows, "num_columns": handle.metadata.num_columns}
    else:
        head = pd.read_csv(path, nrows=HEAD_ROWS)
        profile = {"bytes": path.stat().st_size, "num_columns": len(head.columns)}
    targets = target if target in head.columns else None
    with warnings.catch_warnings():  # MLflow's hints on guessing a local path's source type, integer schemas
        warnings.simplefilter("ignore", UserWarning)
        described = mlflow.data.from_pandas(head, source=str(path.resolve()), targets=targets, name=role, digest=md5)
    d = described.to_dict()
    return Dataset(d["name"], md5, d["source_type"], d["source"], d.get("schema"), json.dumps(profile))


def log_datasets(run_id: str, files: dict[str, Path], hashes: dict[str, str | None], target: str | None) -> None:
    """Log each pinned file as a dataset input of the run (context = its role). A file that is missing or
    unreadable is left out: the data stage reports it, in one line, as the user's error."""
    import mlflow
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    inputs = []
    for role, path in files.items():
        md5 = hashes.get(role)
        if not md5:
            continue
        try:
            dataset = dataset_of(role, path, md5, target)
        except Exception:  # any reader error is the data stage's to report; lineage is a by-product
            continue
        inputs.append(DatasetInput(dataset, [InputTag(MLFLOW_DATASET_CONTEXT, role)]))
    if inputs:
        mlflow.MlflowClient().log_inputs(run_id, datasets=inputs)


def log_batch(run_id: str, metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None) -> None:
    """Metrics and tags in as few requests as MLflow takes (it splits them at its own limits): one store
    transaction per request, where one per value was 2 s of a small data stage's 20 on a SQLite store."""
    import time

    import mlflow
    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    mlflow.MlflowClient().log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


def finish_parent(run_id: str, status: str, report_dir: Path, description: str | None = None) -> None:
    """Close the parent run with its status and report; `description` (the diagnosis) becomes the run's
    description in the MLflow UI."""
    import mlflow
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

    client = mlflow.MlflowClient()
    log_batch(run_id, tags={"glassbox.status": status, **({MLFLOW_RUN_NOTE: description} if description else {})})
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

    log_batch(run_id, metrics, {"glassbox.verdict": verdict})
    if stage_dir.is_dir() and any(stage_dir.iterdir()):
        mlflow.MlflowClient().log_artifacts(run_id, str(stage_dir))
