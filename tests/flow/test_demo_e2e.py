"""One real run of the whole flow on a small sample of the demo, shared by every test in this module; the last
test deploys its model once more with every core busy (the first run's model is then the
champion, so latency is compared side by side). The run starts with secret-looking environment variables and
its output captured, so one test can prove none of their values was recorded anywhere. Nothing here asserts how
fast this machine is."""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from pathlib import Path

import mlflow
import pytest
import yaml

from flows import cli
from tasks.params import STAGES
from tasks.redact import MASK
from tests.captured import captured
from tests.flow.demo_project import busy_cores, demo_params, git_commit_all
from tests.listening import listening, not_local

pytestmark = pytest.mark.slow


# Secret-looking environment variables the shared run starts with, and one in serving.env (the model server's
# environment, part of params), each with a value no file may hold after the run.
SERVER_SECRET = "GLASSBOX_SERVING_API_KEY"
SECRET_NAMES = ("GLASSBOX_TEST_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", SERVER_SECRET)
SECRETS = {name: f"s3cr3t-{uuid.uuid4().hex}" for name in SECRET_NAMES}


@pytest.fixture(scope="module")
def run_output(tmp_path_factory) -> Path:
    """The shared run's stdout, stderr and log records, kept outside its project folder."""
    return tmp_path_factory.mktemp("demo-output") / "output.log"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, run_output):
    root = tmp_path_factory.mktemp("demo")
    params = demo_params(root)
    raw = yaml.safe_load(params.read_text())
    raw["serving"]["env"] = {**raw["serving"].get("env", {}), SERVER_SECRET: SECRETS[SERVER_SECRET]}
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    (root / ".gitignore").write_text("/reports/\n/data/\n/mlflow.db\n/mlartifacts/\n/gx/uncommitted/\n")
    git_commit_all(root)
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    for name, value in SECRETS.items():
        if name != SERVER_SECRET:
            mp.setenv(name, value)
    with captured(run_output):
        code = cli.main(["run", "--params", str(params)])
    report = json.loads((root / "reports" / "latest" / "report.json").read_text())
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    yield root, code, report, params
    mp.undo()


def test_clean_demo_passes_every_gate(demo):
    """On the clean demo no gate fails: exit 0, every stage ran, in order, each warning explained."""
    _, code, report, _ = demo
    assert code == 0, report["first_failure"]
    assert [s["name"] for s in report["stages"]] == list(STAGES)
    assert all(s["verdict"] in ("pass", "warn") for s in report["stages"]), [
        (s["name"], s["verdict"], s["reason"]) for s in report["stages"]
    ]
    for stage in report["stages"]:
        for f in stage["findings"]:
            assert f["message"], f


def test_report_contract(demo):
    """report.json has schema_version 1 and the provenance the contract promises; md and html exist."""
    root, _, report, _ = demo
    assert report["schema_version"] == 1 and report["status"] in ("passed", "warned")
    prov = report["provenance"]
    assert set(prov["data_hashes"]) == {"train", "test", "current"} and all(prov["data_hashes"].values())
    assert len(prov["params_sha256"]) == 64 and prov["mlflow_run_id"]
    assert prov["packages"]["mlflow"] and prov["packages"]["great-expectations"]
    assert report["first_failure"] is None
    for s in report["stages"]:
        assert {"name", "verdict", "duration_s", "findings", "artifacts"} <= set(s)
    assert (root / "reports/latest/report.md").is_file() and (root / "reports/latest/report.html").is_file()


def test_report_page_renders_in_a_browser_with_every_picture_inline(demo):
    """The clean run's page in headless Chromium: nothing fetched, no broken picture, no console error; the strip
    names all seven layers, the evaluation's curves and the training's learning curve are on the page."""
    from tests.browser import artifact, render

    root, _, report, _ = demo
    shown = render(root / "reports/latest/report.html", artifact("report/clean_demo.png"))
    assert shown.console_errors == () and shown.broken_images == () and shown.requests == ()
    assert all(s["name"] in shown.text for s in report["stages"])
    assert "Warnings and failures" in shown.text and "What changed since the last good run" in shown.text
    figures = {s["name"]: s["figures"] for s in report["stages"]}
    assert "roc_curve_plot.png" in figures["evaluation"]["test_score"]
    assert "learning_curve.png" in figures["training"]["overfitting"]
    assert "latency_histogram.png" in figures["deployment"]["latency_regression"]
    page = (root / "reports/latest/report.html").read_text()
    pictures = sum(len(v) for fs in figures.values() for v in fs.values())
    assert page.count("src='data:image/png;base64,") >= pictures  # each check's pictures, and the columns'


def test_mlflow_holds_one_parent_and_a_nested_run_per_stage_with_evidence(demo):
    """The MLflow parent run has the provenance tags; each stage is a nested run carrying its result and evidence."""
    _, _, report, _ = demo
    parent = mlflow.get_run(report["provenance"]["mlflow_run_id"])
    tags = parent.data.tags
    assert tags["params_sha256"] == report["provenance"]["params_sha256"]
    assert tags["data.train.md5"] == report["provenance"]["data_hashes"]["train"]
    assert "git_commit" in tags and "git_dirty" in tags
    children = mlflow.search_runs(
        search_all_experiments=True, filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(children["tags.mlflow.runName"]) == sorted(STAGES)
    client = mlflow.MlflowClient()
    by_name = dict(zip(children["tags.mlflow.runName"], children["run_id"], strict=True))

    def files(stage: str) -> set[str]:
        out, todo = set(), [""]
        while todo:
            for item in client.list_artifacts(by_name[stage], todo.pop()):
                (todo.append(item.path) if item.is_dir else out.add(item.path))
        return out

    for stage in STAGES:
        assert "result.json" in files(stage), stage
    assert any(p.endswith(".html") for p in files("data")), "GX Data Docs"
    assert any(p.endswith(".png") for p in files("evaluation")), "evaluation plots"
    assert "inference_log.parquet" in files("serving")
    assert any(p.endswith(".html") for p in files("monitoring")), "Evidently HTML"
    assert {"report/report.json", "report/report.html"} <= {
        a.path for a in client.list_artifacts(parent.info.run_id, "report")
    }


def test_candidate_registered_with_provenance_and_promoted(demo):
    """The model passed every gate, so it is registered with commit and data hash tags and holds the champion alias."""
    _, _, report, _ = demo
    deployment = next(s for s in report["stages"] if s["name"] == "deployment")
    version = int(deployment["metrics"]["registered_version"])
    client = mlflow.MlflowClient()
    mv = client.get_model_version_by_alias("glassbox-flights", "champion")
    assert int(mv.version) == version
    assert mv.tags["data.train.md5"] == report["provenance"]["data_hashes"]["train"]
    assert "git_commit" in mv.tags


def test_inference_log_has_inputs_outputs_latency_and_model(demo):
    """The replayed traffic went through the real server: the log has every row with its answer and latency."""
    import pandas as pd

    root, _, _, _ = demo
    log = pd.read_parquet(root / "reports/latest/serving/inference_log.parquet")
    current = pd.read_parquet(root / "data/demo/current.parquet")
    assert (log["source"] == "current").sum() == len(current)
    assert log["score"].notna().all() and (log["latency_ms"] > 0).all()
    assert log["model_uri"].str.startswith("models:/").all()


def test_metrics_textfile_of_the_clean_run_and_no_alert(demo):
    """The clean run wrote metrics.prom: every replayed current row counted, no errors, a latency and a score
    histogram, each stage's verdict; no stage failed, so no alert was built."""
    import pandas as pd
    from prometheus_client.parser import text_string_to_metric_families

    root, _, report, _ = demo
    out = root / "reports" / "latest"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families((out / "metrics.prom").read_text())
        for s in family.samples
    }
    current = len(pd.read_parquet(root / "data/demo/current.parquet"))
    assert samples[("glassbox_serving_rows", (("source", "current"),))] == current
    assert samples[("glassbox_serving_errors", (("source", "current"),))] == 0
    assert samples[("glassbox_serving_score_count", (("source", "current"),))] == current
    latency = samples[("glassbox_serving_request_latency_seconds_count", (("source", "current"),))]
    assert latency == samples[("glassbox_serving_requests", (("source", "current"),))] > 0
    for stage in report["stages"]:
        assert samples[("glassbox_stage_verdict", (("stage", stage["name"]), ("verdict", stage["verdict"])))] == 1
    assert "alert" not in report and not (out / "alert.json").exists()


def _holding(places: list[Path], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(file, variable) for every file under `places` whose bytes, or a zip member's (skops models), hold a value."""
    needles = {name: value.encode() for name, value in secrets.items()}
    found = []
    files = [f for p in places for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    for f in files:
        blobs = [f.read_bytes()]
        if zipfile.is_zipfile(f):
            with zipfile.ZipFile(f) as z:
                blobs += [z.read(i) for i in z.infolist() if not i.is_dir()]
        found += [(str(f), name) for name, needle in needles.items() if any(needle in b for b in blobs)]
    return found


def test_no_secret_from_the_environment_is_recorded(demo, run_output):
    """The run started with secret-looking environment variables (an API token, AWS's secret key, a database
    password) and a secret-looking variable in serving.env: no value of theirs is in the project folder after the
    run (report folder and stage files, MLflow's SQLite store and artifacts, the inference store, GX), in
    Prefect's home (its database, logs, storage) or in the run's stdout, stderr and log records, which did
    capture the run; the report names serving.env's variable with its value masked."""
    root, _, report, params = demo
    project = [p for p in root.iterdir() if p.name not in (".git", params.name)]  # params.yaml is the input
    places = [*project, Path(os.environ["PREFECT_HOME"]), run_output]
    assert f"glassbox {report['status'].upper()}: report" in run_output.read_text(errors="replace")
    assert (root / "mlflow.db").is_file() and any(Path(os.environ["PREFECT_HOME"]).rglob("*.db"))
    assert _holding(places, SECRETS) == []
    assert report["params"][f"serving.env.{SERVER_SECRET}"] == MASK


def test_prefect_temporary_server_listens_on_localhost_only(demo):
    """The Prefect server the run started (no PREFECT_API_URL: Prefect's temporary one, in a child process) listens
    on 127.0.0.1 and on no other address, as the OS reports its sockets."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    assert server.server_process is not None and server.server_process.poll() is None
    sockets = listening(server.server_process.pid)
    assert ("127.0.0.1", server.port) in sockets and not not_local(sockets), sockets


def _failing(report: dict) -> list:
    return [
        (s["name"], f["check"], f["message"])
        for s in report["stages"]
        for f in s["findings"]
        if f["severity"] == "fail" or s["verdict"] not in ("pass", "warn")
    ]


def test_a_redeployment_on_a_busy_machine_is_not_blamed_on_the_model(demo):
    """Run last: the deployment layer again (`glassbox stage deployment`, as `dvc repro` runs it) with every core
    busy (the run on one, a spinning process on the others). The candidate is the model the first run promoted,
    now the champion, and the two are asked in alternation, so load slows both alike: latency_regression does not
    fail, no gate fails, the version is promoted. (The whole flow under load: fresh-clone-check --busy.)"""
    root, _, _, params = demo
    with busy_cores() as hog:
        code = cli.main(["stage", "deployment", "--params", str(params)])
        assert hog.poll() is None, "the load process ended early: the run was not under load"
    report = json.loads((root / "reports" / "latest" / "report.json").read_text())
    assert code == 0 and not _failing(report), _failing(report)
    deployment = next(s for s in report["stages"] if s["name"] == "deployment")
    regression = next(f for f in deployment["findings"] if f["check"] == "latency_regression")
    assert regression["evidence"]["champion_version"] is not None and regression["severity"] != "fail"
    assert deployment["metrics"]["promoted"] == 1.0
