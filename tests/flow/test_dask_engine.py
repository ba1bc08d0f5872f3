"""The stages on a Dask cluster (`engine.task_runner: dask`) against the default task runner, on one small project.

The project (tests/flow/fakes.py small_project, 900 rows, a git commit, an empty MLflow store) is made once and
copied whole, so both folders hold the same commit, data and store; the copy gets its params as an untracked
`dask.yaml` (the tree stays clean, the commit the same) that differs only in `engine`. Both run through `glassbox
run` in this process, one after the other (one Prefect temporary server for both): the copy on a real
distributed.LocalCluster of two worker processes. A user check in every layer (tests/flow/where_it_ran.py) records
where its stage ran. Each layer's inputs are the same for both runs, so every finding must be the same: stage,
check, severity and message. Two kinds of message text differ between any two runs however they ran, and only
those are set aside: MLflow's generated ids (a logged model's `m-<hex>`) are replaced by a placeholder, and of the
deployment layer's latency checks, which are wall-clock measurements (their numbers, how many rounds the machine
stalled in and a finding on those stalls differ from run to run), only that both runs judged them.
Every other number (scores, shares, bounds, row counts, hashes) must match to the last digit: the stage did the
same work on the worker."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import psutil
import pytest
import yaml

from flows import cli
from tasks.params import STAGES
from tasks.redact import MASK
from tasks.runner import PipelineRun
from tests.captured import captured
from tests.flow.demo_project import git_commit_all
from tests.flow.fakes import small_project
from tests.flow.where_it_ran import TELEMETRY

pytestmark = pytest.mark.slow

LAYERS = STAGES[1:]  # every stage but the demo snapshot (off for a project of its own)
WHERE = "where_it_ran"
LATENCY_ROUNDS = 30  # the latency checks' least (min_rounds); only their presence is compared
GENERATED_ID = re.compile(r"\bm-[0-9a-f]{32}\b")
TIMED = ("latency_budget", "latency_regression")
# A secret-looking variable of the model server's environment (params serving.env, pickled to the workers).
SECRET_NAME, SECRET = "GLASSBOX_SERVING_API_KEY", f"s3cr3t-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Run:
    root: Path
    code: int
    report: dict
    seconds: float


def _run(root: Path, params: str, output: Path) -> Run:
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    try:
        start = time.perf_counter()
        with captured(output):  # this process's and its children's (the workers') stdout, stderr and log records
            code = cli.main(["run", "--params", params])
        seconds = time.perf_counter() - start
    finally:
        mp.undo()
    report = json.loads((root / "reports" / "latest" / "report.json").read_text())
    return Run(root, code, report, seconds)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Run, Run]:
    base = tmp_path_factory.mktemp("engine")
    inline, on_dask = base / "default", base / "dask"
    inline.mkdir()
    params = small_project(inline)
    raw = yaml.safe_load(params.read_text())
    raw["deployment"] = {"latency_rounds": LATENCY_ROUNDS}
    raw["serving"] = {"env": {SECRET_NAME: SECRET}}
    raw["checks"] = {layer: [f"tests.flow.{WHERE}"] for layer in LAYERS}
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{inline}/mlflow.db").search_experiments()  # its tables, made once
    (inline / ".gitignore").write_text("/reports/\n/mlflow.db\n/mlartifacts/\n/gx/uncommitted/\n/inference_store/\n")
    git_commit_all(inline)
    shutil.copytree(inline, on_dask)
    raw["engine"] = {"task_runner": "dask", "dask_address": None, "dask_workers": 2}
    (on_dask / "dask.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return _run(inline, "params.yaml", base / "default.log"), _run(on_dask, "dask.yaml", base / "dask.log")


def _comparable(report: dict) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for stage in report["stages"]:
        for f in stage["findings"]:
            if f["check"] == WHERE:
                continue
            if f["check"] in TIMED:  # wall clock: how many rounds stalled, and a finding on the stalls, vary
                timed = (stage["name"], f["check"], "timed", "")
                if timed not in out:
                    out.append(timed)
                continue
            out.append((stage["name"], f["check"], f["severity"], GENERATED_ID.sub("m-<id>", f["message"])))
    return out


def _where(report: dict) -> dict[str, dict]:
    return {
        s["name"]: next(f["evidence"] for f in s["findings"] if f["check"] == WHERE)
        for s in report["stages"]
        if s["name"] in LAYERS
    }


def test_on_dask_the_run_has_the_findings_of_the_default_run(runs):
    """Same exit code, status and verdicts, the same findings in the same order (stage, check, severity, message:
    see the module's docstring for the two kinds of text set aside); run.json lists every stage in both (the flow
    follows what the worker recorded on its copy of the run)."""
    inline, on_dask = runs
    print(f"default runner {inline.seconds:.1f} s, dask {on_dask.seconds:.1f} s")
    assert inline.code == on_dask.code == 0, (inline.report["first_failure"], on_dask.report["first_failure"])
    assert inline.report["status"] == on_dask.report["status"]
    verdicts = [(s["name"], s["verdict"]) for s in inline.report["stages"]]
    assert verdicts == [(s["name"], s["verdict"]) for s in on_dask.report["stages"]]
    assert all(v not in ("skipped", "fail") for name, v in verdicts if name in LAYERS), verdicts
    expected, found = _comparable(inline.report), _comparable(on_dask.report)
    assert len(expected) > 50
    assert found == expected, [(a, b) for a, b in zip(expected, found, strict=False) if a != b][:5]
    for run in runs:
        assert PipelineRun.load(run.root / "reports" / "latest").stages == list(LAYERS)


def test_each_stage_ran_in_a_worker_process_of_the_local_cluster(runs):
    """With the default runner every stage ran in this process, on no Dask worker; on Dask every stage ran in a
    worker process (another pid, on a worker at 127.0.0.1) that this process started (the LocalCluster's nannies
    live in the flow's process), and the worker processes are gone once the run is over (the cluster was closed)."""
    inline, on_dask = runs
    for layer, where in _where(inline.report).items():
        assert where["pid"] == os.getpid() and where["worker"] is None, layer
    remote = _where(on_dask.report)
    for layer, where in remote.items():
        assert where["pid"] != os.getpid() and where["parent"] == os.getpid(), (layer, where)
        assert where["worker"].startswith("tcp://127.0.0.1:"), (layer, where)
    pids = {w["pid"] for w in remote.values()}
    assert 1 <= len(pids) <= 2 and len({w["worker"] for w in remote.values()}) == len(pids)
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(psutil.pid_exists(pid) for pid in pids), "a worker process outlived the run"


def test_the_cluster_listens_on_localhost_only_and_its_workers_run_offline(runs):
    """While each stage ran on Dask, every listening socket of the flow's process and all under it (scheduler,
    nannies, workers, the Prefect server, model servers) was on 127.0.0.1, the stage's worker process was connected
    to 127.0.0.1 only, it had telemetry off as the flow's process has it, and its task run reported to the flow's
    own temporary Prefect server (a worker without its address would have started a server of its own)."""
    from prefect.server.api.server import SubprocessASGIServer

    _, on_dask = runs
    flows_server = SubprocessASGIServer().api_url.rstrip("/")
    for layer, where in _where(on_dask.report).items():
        assert where["listening"] and all(s.startswith("127.0.0.1:") for s in where["listening"]), (layer, where)
        assert set(where["connected_to"]) <= {"127.0.0.1"}, (layer, where)
        assert where["telemetry"] == {k: os.environ.get(k) for k in TELEMETRY} and all(where["telemetry"].values())
        assert (where["prefect_api"] or "").rstrip("/") == flows_server, (layer, where["prefect_api"], flows_server)


def test_the_workers_wrote_to_the_projects_own_store(runs):
    """Each stage's MLflow run, opened on the worker, is a child of the flow's parent run in the project's own
    store (the relative `sqlite:///mlflow.db` meant the same file on the worker), finished, with its evidence."""
    _, on_dask = runs
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{on_dask.root}/mlflow.db")
    parent = on_dask.report["provenance"]["mlflow_run_id"]
    experiment = client.get_run(parent).info.experiment_id
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent}'")
    assert sorted(c.info.run_name for c in children) == sorted(LAYERS)
    for child in children:
        assert child.info.status == "FINISHED", child.info.run_name
        assert "result.json" in {a.path for a in client.list_artifacts(child.info.run_id)}, child.info.run_name


def _holding(places: list[Path], needle: bytes) -> list[str]:
    """Every file under `places` whose bytes, or a zip member's (skops models), hold `needle`."""
    files = [f for p in places for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    found = []
    for f in files:
        blobs = [f.read_bytes()]
        if zipfile.is_zipfile(f):
            with zipfile.ZipFile(f) as z:
                blobs += [z.read(i) for i in z.infolist() if not i.is_dir()]
        found += [str(f)] if any(needle in b for b in blobs) else []
    return found


def test_a_secret_pickled_to_the_workers_is_recorded_nowhere(runs):
    """serving.env's secret-looking variable travels to the workers inside the params; after the Dask run its
    value is in no file of the project (reports, stage files, MLflow store and artifacts, GX, inference store), of
    Prefect's home (its database: task runs, logs) or of the run's output, workers' included; the report names the
    variable with its value masked."""
    _, on_dask = runs
    project = [p for p in on_dask.root.iterdir() if p.name not in (".git", "params.yaml", "dask.yaml")]
    output = on_dask.root.parent / "dask.log"
    assert f"glassbox {on_dask.report['status'].upper()}: report" in output.read_text(errors="replace")
    assert _holding([*project, Path(os.environ["PREFECT_HOME"]), output], SECRET.encode()) == []
    assert on_dask.report["params"][f"serving.env.{SECRET_NAME}"] == MASK
