"""MLflow and Prefect on a real PostgreSQL server (tests/postgres.py: Debian's package, a throwaway cluster on
127.0.0.1): one `glassbox run` of a small project with MLflow's tracking URI on the `mlflow` database (artifacts on
local disk) and Prefect's temporary server on the `prefect` database, shared by the tests of this module, which
read what it left from the databases themselves. The URIs carry a password (trust auth accepts and ignores it) so
one test can prove it is recorded nowhere. A last test stops a server and runs glassbox against it. Every test
skips, with the reason, where PostgreSQL is missing or cannot start."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tasks.params import STAGES, load_params
from tests.conftest import REPO
from tests.flow.demo_project import git_commit_all
from tests.flow.fakes import LOG, glassbox_process, log_tail, small_project
from tests.postgres import Postgres, postgres_server, require_postgres

pytestmark = pytest.mark.slow
WAIT_S = 900  # the longest the run may take on a loaded machine; it ends as soon as the run does
PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def pg():
    require_postgres()
    with postgres_server("mlflow", "prefect") as server:
        yield server


@pytest.fixture(scope="module")
def run(pg: Postgres, tmp_path_factory):
    """One `glassbox run` (a process of its own, so Prefect reads its database URL at import) on a small project
    committed to git, both stores on `pg`; yields the project, exit code, report and the run's seconds."""
    root = tmp_path_factory.mktemp("on-postgres")
    params = yaml.safe_load(small_project(root).read_text())
    params["tracking"]["tracking_uri"] = pg.url("mlflow", password=PASSWORD)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / ".gitignore").write_text(f"/reports/\n/mlartifacts/\n/gx/uncommitted/\n/.prefect/\n/{LOG}\n")
    git_commit_all(root)  # a registered version must carry the commit that made it
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_API_DATABASE_CONNECTION_URL", pg.url("prefect", "postgresql+asyncpg", password=PASSWORD))
        mp.setenv("PREFECT_HOME", str(root / ".prefect"))  # its own: no profile, cache or database of another test
        mp.delenv("PREFECT_API_URL", raising=False)  # the temporary server, as `glassbox run` starts it
        started = time.monotonic()
        proc = glassbox_process(root, "run")
        code = proc.wait(timeout=WAIT_S)
        seconds = time.monotonic() - started
    report_path = root / "reports" / "report.json"
    assert report_path.is_file(), log_tail(root)
    yield root, code, json.loads(report_path.read_text()), seconds


def _ran(report: dict) -> list[str]:
    return [s["name"] for s in report["stages"] if s["verdict"] != "skipped"]


def test_the_flow_runs_every_layer_with_both_stores_on_postgresql(run):
    """Every layer after the snapshot ran and the run passed; nothing was stored in SQLite instead: no mlflow.db in
    the project and no prefect.db in Prefect's home."""
    root, code, report, seconds = run
    assert code == 0, (report["first_failure"], log_tail(root))
    assert _ran(report) == [s for s in STAGES if s != "snapshot"], report["stages"]
    assert not (root / "mlflow.db").exists() and not (root / ".prefect" / "prefect.db").exists()
    print(f"glassbox run on PostgreSQL: {seconds:.0f} s")


def test_mlflow_parent_and_stage_runs_with_their_metrics_are_in_the_postgres_database(run, pg: Postgres):
    """Read through MlflowClient on the postgresql:// URI: the parent run (FINISHED, glassbox.status as the
    report's), one nested run per layer that ran, each holding the metrics the report shows for it, its result
    among its artifacts on local disk; and the same run ids are rows of the `runs` table of the mlflow database."""
    import mlflow

    root, _, report, _ = run
    client = mlflow.MlflowClient(tracking_uri=pg.url("mlflow"))
    parent = client.get_run(report["provenance"]["mlflow_run_id"])
    assert parent.info.status == "FINISHED" and parent.data.tags["glassbox.status"] == report["status"]
    assert parent.info.artifact_uri.startswith((root / "mlartifacts").as_uri())
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'", max_results=100
    )
    by_stage = {r.data.tags["glassbox.stage"]: r for r in children}
    assert sorted(by_stage) == sorted(_ran(report))
    for stage in report["stages"]:
        if stage["verdict"] == "skipped":
            continue
        logged = by_stage[stage["name"]].data.metrics
        assert stage["metrics"], stage["name"]
        for key, value in stage["metrics"].items():
            assert math.isclose(logged[key], value, rel_tol=1e-9) or (math.isnan(logged[key]) and math.isnan(value))
        assert "result.json" in {a.path for a in client.list_artifacts(by_stage[stage["name"]].info.run_id)}
    rows = pg.query("mlflow", "SELECT run_uuid, status FROM runs")
    assert {(r.info.run_id, "FINISHED") for r in [parent, *children]} <= set(rows)


def test_the_registered_model_version_is_in_the_postgres_registry(run, pg: Postgres):
    """The version the deployment layer registered is in the registry on PostgreSQL, with the commit it was made
    from, and holds the deployment alias."""
    import mlflow

    root, _, report, _ = run
    deployment = next(s for s in report["stages"] if s["name"] == "deployment")
    version = str(int(deployment["metrics"]["registered_version"]))
    params = load_params(root / "params.yaml")
    name, alias = params.tracking.registered_model, params.deployment.alias
    client = mlflow.MlflowClient(tracking_uri=pg.url("mlflow"), registry_uri=pg.url("mlflow"))
    mv = client.get_model_version(name, version)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert mv.status == "READY" and mv.tags["git_commit"] == commit and mv.tags["git_dirty"] == "false"
    assert pg.query("mlflow", "SELECT name, version FROM model_versions") == [(name, int(version))]
    assert str(client.get_model_version_by_alias(name, alias).version) == version


def test_the_prefect_flow_run_and_its_task_runs_are_in_the_postgres_database(run, pg: Postgres):
    """Prefect's temporary server kept the run in the prefect database: one run of the flow `glassbox` in a final
    state matching the report, with a start and end, and one completed task run per layer that ran."""
    _, _, report, _ = run
    flows = pg.query(
        "prefect",
        "SELECT fr.id, fr.state_type::text, fr.start_time, fr.end_time FROM flow_run fr"
        " JOIN flow f ON f.id = fr.flow_id WHERE f.name = 'glassbox'",
    )
    assert len(flows) == 1, flows
    flow_run_id, state, start, end = flows[0]
    assert state == ("FAILED" if report["status"] == "failed" else "COMPLETED") and start < end
    tasks = pg.query("prefect", "SELECT name, state_type::text FROM task_run WHERE flow_run_id = %s", flow_run_id)
    assert sorted(name.rsplit("-", 1)[0] for name, _ in tasks) == sorted(_ran(report))
    assert {state for _, state in tasks} == {"COMPLETED"}


def test_the_database_password_is_recorded_nowhere(run, pg: Postgres):
    """The password in both URIs stays in params.yaml and the environment: not in the run's output, any file it
    wrote (report, alert, artifacts), MLflow's tags and params, or Prefect's logs and flow run parameters."""
    root, _, _, _ = run
    holding = [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and p.name != "params.yaml" and PASSWORD.encode() in p.read_bytes()
    ]
    assert holding == []
    like = f"%{PASSWORD}%"
    for table in ("tags", "params", "experiment_tags", "model_version_tags", "registered_model_tags"):
        assert pg.query("mlflow", f"SELECT count(*) FROM {table} WHERE value LIKE %s", like) == [(0,)], table
    assert pg.query("prefect", "SELECT count(*) FROM log WHERE message LIKE %s", like) == [(0,)]
    assert pg.query("prefect", "SELECT count(*) FROM flow_run WHERE parameters::text LIKE %s", like) == [(0,)]


def test_a_stopped_postgresql_store_is_one_line_and_exit_2(tmp_path: Path):
    """While the server runs, the store check passes (MLflow's tables are made in the database); once it is stopped,
    `glassbox run` on the same URI exits 2 with one line naming the store without its password, before a Prefect
    server starts and with the last report untouched: no MLflow retry warnings (they would be more lines)."""
    import mlflow

    from tasks.params import Tracking
    from tasks.tracking import reach_store

    before = mlflow.get_tracking_uri()
    try:
        with postgres_server("mlflow") as server:
            uri = server.url("mlflow", password=PASSWORD)
            reach_store(Tracking(tracking_uri=uri, artifact_root=tmp_path / "art", store_timeout_s=2))
            assert server.query("mlflow", "SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'")
    finally:
        mlflow.set_tracking_uri(before)
    inputs = {"target": "y"}
    for role in ("train", "test", "current"):
        (tmp_path / f"{role}.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
        inputs[role] = str(tmp_path / f"{role}.csv")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"inputs": inputs, "tracking": {"tracking_uri": uri, "store_timeout_s": 2}}))
    out = tmp_path / "reports"
    out.mkdir()
    (out / "report.json").write_text('{"run_id": "the last one"}')
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--params", str(params), "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "PREFECT_API_DATABASE_CONNECTION_URL": server.url("prefect", "postgresql+asyncpg")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    public = f"postgresql://127.0.0.1:{server.port}/mlflow"
    assert len(lines) == 1 and lines[0].startswith(f"glassbox: MLflow store {public}: "), done.stderr
    assert "Connection refused" in lines[0] and PASSWORD not in done.stderr + done.stdout
    assert (out / "report.json").read_text() == '{"run_id": "the last one"}'
    print(f"glassbox run on a stopped PostgreSQL: exit 2 in {seconds:.1f} s")
