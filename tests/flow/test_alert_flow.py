"""The alert through the real Prefect flow, with stand-in stages (as test_gating.py): a failing gate sends the
webhook, leaves a `glassbox-alert` markdown artifact on the flow run, records the delivery in the report and on
the MLflow run (never the URL's token), writes metrics.prom, and keeps exit code 1."""

from __future__ import annotations

import json

import mlflow
import pytest
import yaml

from flows import cli
from flows.notify import ARTIFACT_KEY, VERDICT_KEY
from tasks import registry
from tasks.params import STAGES
from tests.conftest import REPO
from tests.flow.fakes import placeholder_inputs
from tests.webhook import local_receiver

pytestmark = pytest.mark.slow

TOKEN = "flow-T0KEN"


def test_failing_gate_alerts_through_webhook_prefect_and_mlflow(tmp_path, monkeypatch):
    """features fails: one POST naming features / planted and the run; the Prefect artifact holds the same
    failure; report.json and the MLflow parent run record the delivery with the host only; metrics.prom says
    the stage failed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    for name in STAGES:
        monkeypatch.setitem(registry._FUNCTIONS, name, "tests.flow.fakes:passes")
    monkeypatch.setitem(registry._FUNCTIONS, "features", "tests.flow.fakes:fails")
    monkeypatch.chdir(tmp_path)
    with local_receiver() as hook:
        params = yaml.safe_load((REPO / "params.yaml").read_text())
        params["snapshot"]["demo"] = False
        params["tracking"] = {
            "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
            "artifact_root": str(tmp_path / "mlartifacts"),
            "experiment": "alerts",
            "registered_model": "alerts-model",
        }
        params["alerts"] = {"webhook_url": f"{hook.url}/hook?token={TOKEN}", "retries": 0}
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        placeholder_inputs(tmp_path, params["inputs"])
        code = cli.main(["run", "--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "out")])
    assert code == 1
    assert len(hook.received) == 1
    alert = hook.received[0][1]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (alert["layer"], alert["check"], alert["run_id"]) == ("features", "planted", report["run_id"])
    assert alert["mlflow"]["run_id"] == report["provenance"]["mlflow_run_id"]
    assert report["alert"]["webhook"]["sent"] and report["alert"]["webhook"]["host"] == hook.url[len("http://") :]

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])))
    mine = [a for a in found if report["run_id"] in a.data]  # the server may hold other runs' alerts
    assert len(mine) == 1 and "`features` / `planted`" in mine[0].data
    with get_client(sync_client=True) as client:
        run_filter = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[mine[0].flow_run_id]))
        on_run = {a.key: a for a in client.read_artifacts(artifact_filter=run_filter)}
    assert report["run_id"] in on_run[VERDICT_KEY].data and "| features | FAIL |" in on_run[VERDICT_KEY].data
    assert on_run["glassbox-features"].type == "table" and "planted" in str(on_run["glassbox-features"].data)

    run = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").get_run(alert["mlflow"]["run_id"])
    assert run.data.tags["glassbox.alert"].startswith("sent to 127.0.0.1:")
    assert TOKEN not in json.dumps([run.data.tags, run.data.params])
    written = [p.read_text() for p in (tmp_path / "out").glob("*.*") if p.suffix in (".json", ".md", ".html", ".prom")]
    assert written and all(TOKEN not in text for text in written)
    assert (
        'glassbox_stage_verdict{stage="features",verdict="fail"} 1.0' in (tmp_path / "out" / "metrics.prom").read_text()
    )


def test_dvc_stage_that_fails_alerts_without_prefect(tmp_path, monkeypatch):
    """`glassbox stage` (what dvc.yaml runs) stopping at a failing gate sends the same alert and writes
    metrics.prom; no Prefect artifact is attempted outside a flow. A passing last stage sends none."""
    for name in STAGES:
        monkeypatch.setitem(registry._FUNCTIONS, name, "tests.flow.fakes:passes")
    monkeypatch.chdir(tmp_path)
    with local_receiver() as hook:
        params = yaml.safe_load((REPO / "params.yaml").read_text())
        params["snapshot"]["demo"] = False
        params["tracking"] = {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db", "artifact_root": "mlartifacts"}
        params["alerts"] = {"webhook_url": f"{hook.url}/hook", "retries": 0}
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        placeholder_inputs(tmp_path, params["inputs"])

        def stage(name: str) -> int:
            return cli.main(["stage", name, "--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "out")])

        assert stage("monitoring") == 0
        assert not hook.received and (tmp_path / "out" / "metrics.prom").is_file()
        monkeypatch.setitem(registry._FUNCTIONS, "data", "tests.flow.fakes:fails")
        assert stage("data") == 1
    assert [(a["layer"], a["check"]) for _, a in hook.received] == [("data", "planted")]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["alert"]["webhook"]["sent"]
