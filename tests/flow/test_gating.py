"""The flow's contract, with stand-in stages: gating, exit codes, and the report always written."""

from __future__ import annotations

import json

import mlflow
import pytest
import yaml

from flows import cli
from tasks import registry
from tasks.params import STAGES
from tests.conftest import REPO
from tests.flow.fakes import placeholder_inputs

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path, monkeypatch):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["snapshot"]["demo"] = False
    params["tracking"] = {
        "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
        "artifact_root": str(tmp_path / "mlartifacts"),
        "experiment": "gating",
        "registered_model": "gating-model",
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    placeholder_inputs(tmp_path, params["inputs"])
    monkeypatch.chdir(tmp_path)
    for name in STAGES:
        monkeypatch.setitem(registry._FUNCTIONS, name, "tests.flow.fakes:passes")
    return tmp_path


def _run(project) -> tuple[int, dict]:
    code = cli.main(["run", "--params", str(project / "params.yaml"), "--out", str(project / "out")])
    return code, json.loads((project / "out" / "report.json").read_text())


def test_failing_gate_stops_later_stages_and_writes_everything(project, monkeypatch):
    """A failing data gate: exit 1, later stages skipped with the reason, earlier evidence kept, MLflow run FAILED."""
    monkeypatch.setitem(registry._FUNCTIONS, "features", "tests.flow.fakes:fails")
    code, report = _run(project)
    assert code == 1
    verdicts = {s["name"]: s["verdict"] for s in report["stages"]}
    assert verdicts["snapshot"] == "skipped" and verdicts["data"] == "pass" and verdicts["features"] == "fail"
    later = [s for s in report["stages"] if s["name"] in STAGES[STAGES.index("training") :]]
    assert all(s["verdict"] == "skipped" and "failing gate 'features'" in s["reason"] for s in later)
    assert report["first_failure"]["stage"] == "features" and report["first_failure"]["check"] == "planted"
    assert (project / "out" / "data" / "evidence.txt").is_file()
    assert not (project / "out" / "training").exists()
    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    parent = mlflow.get_run(report["provenance"]["mlflow_run_id"])
    assert parent.info.status == "FAILED" and parent.data.tags["params_sha256"] == report["provenance"]["params_sha256"]
    children = mlflow.search_runs(
        experiment_names=["gating"], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert set(children["tags.mlflow.runName"]) == {"data", "features"}


def test_stage_outside_gates_does_not_stop(project, monkeypatch):
    """A failing stage that is not listed in `gates` is reported but the run goes on (and still fails)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["gates"] = ["data"]
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setitem(registry._FUNCTIONS, "features", "tests.flow.fakes:fails")
    code, report = _run(project)
    assert code == 1 and report["stages"][-1]["verdict"] == "pass"


def test_input_error_exits_2_in_one_line_and_keeps_the_report(project, monkeypatch, capsys):
    """A user input error inside a stage: one line on stderr, exit 2, report written with what ran before."""
    monkeypatch.setitem(registry._FUNCTIONS, "training", "tests.flow.fakes:bad_input")
    code, report = _run(project)
    ours = [line for line in capsys.readouterr().err.splitlines() if line.startswith("glassbox:")]
    assert code == 2 and len(ours) == 1 and "column 'age'" in ours[0]
    assert report["error"] and report["stages"][3]["findings"][0]["check"] == "input_error"
    assert report["stages"][2]["verdict"] == "pass"


def test_all_passing_exits_0_and_records_last_good(project):
    """A clean run exits 0 and becomes the last good run later reports compare with."""
    code, report = _run(project)
    assert code == 0 and report["status"] == "passed"
    assert (project / "out" / "last_good.json").is_file()


def test_bad_params_exit_2_before_any_flow(tmp_path, capsys):
    """A config error is caught at the edge: exit 2, one line naming the key."""
    (tmp_path / "p.yaml").write_text("inputs: {train: a.csv, test: b.csv, current: c.csv, target: y}\nbogus: 1\n")
    assert cli.main(["run", "--params", str(tmp_path / "p.yaml")]) == 2
    assert "bogus: unknown key" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    """An unknown stage name is a usage error with exit code 2."""
    with pytest.raises(SystemExit) as e:
        cli.main(["stage", "nonsense"])
    assert e.value.code == 2
