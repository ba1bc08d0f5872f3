"""Alerts: a failing run POSTs one JSON alert naming the layer, the check, the numbers and the run to open; a
webhook that is down, refusing or slow is recorded, never raised; a passing run sends nothing; the URL's token
is never written. Stage results are built in memory; the receiver is a local http.server on a free port."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from flows.notify import after_run
from tasks.alerts import ALERT_FILE, alert_run, build_alert, mlflow_link, to_markdown, trimmed
from tasks.errors import ConfigError
from tasks.params import AlertsParams, Tracking, load_params
from tasks.provenance import Provenance
from tasks.report import build_report, write_report
from tasks.result import Finding, Severity, StageResult, Verdict
from tests.conftest import REPO
from tests.webhook import Receiver, closed_port, local_receiver

TOKEN = "s3cr3t-T0KEN"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with local_receiver() as box:
        yield box


def provenance(mlflow_run_id: str | None = "mlflowrun42") -> Provenance:
    return Provenance(
        git_commit="abc123",
        git_dirty=False,
        data_hashes={"train": "d41d8cd9", "test": "0cc175b9", "current": "92eb5ffe"},
        params_sha256="f" * 64,
        packages={"mlflow": "3.17.2"},
        mlflow_run_id=mlflow_run_id,
    )


def failing_stages() -> list[StageResult]:
    """Data passes; monitoring fails on one window's prediction drift and warns on another check."""
    big = {"window": "2013-10-14", "scores": [round(i / 1000, 3) for i in range(3000)], "statistic": "wasserstein"}
    return [
        StageResult(
            name="data",
            verdict=Verdict.passed,
            run_id="run-1",
            findings=[Finding(check="schema_change", severity=Severity.info, message="schema as expected")],
        ),
        StageResult(
            name="monitoring",
            verdict=Verdict.fail,
            run_id="run-1",
            metrics={"prediction_drift.score": 0.61, "prediction_drift.seconds": 0.2, "drifted_share.share": 0.1},
            findings=[
                Finding(
                    check="prediction_drift",
                    severity=Severity.fail,
                    message="window 2013-10-14: served scores moved 0.61 from training (fail at 0.5)",
                    evidence=big,
                ),
                Finding(check="drifted_share", severity=Severity.warn, message="1 of 10 features drifted"),
            ],
        ),
    ]


def passing_stages() -> list[StageResult]:
    return [StageResult(name="data", verdict=Verdict.passed, run_id="run-1")]


def report_of(stages: list[StageResult], out: Path, mlflow_run_id: str | None = "mlflowrun42") -> dict:
    """The run's report as the runner writes it (no MLflow run: after_run would record the alert on it)."""
    report = build_report(SimpleNamespace(run_id="run-1", provenance=provenance(mlflow_run_id)), stages, out)
    write_report(report, out)
    return report


def params(url: str | None, **kw) -> AlertsParams:
    return AlertsParams(webhook_url=url, retry_backoff_s=0, **kw)


TRACKING = Tracking(tracking_uri="sqlite:///mlflow.db")


def test_failing_run_posts_one_alert_with_layer_check_numbers_and_run(receiver, tmp_path):
    """A failing run sends one JSON POST: the failing layer and check, its message, the check's metrics (not its
    timing), the evidence trimmed to the budget, the run id, report path, MLflow run and provenance."""
    report = report_of(failing_stages(), tmp_path)
    done = alert_run(report, tmp_path, TRACKING, params(receiver.url + "/hook", evidence_bytes=1024))
    assert done is not None and done.delivery.sent and done.delivery.status == 200 and done.delivery.attempts == 1
    assert len(receiver.received) == 1
    path, alert = receiver.received[0]
    assert path == "/hook"
    assert (alert["layer"], alert["check"], alert["severity"]) == ("monitoring", "prediction_drift", "fail")
    assert "window 2013-10-14" in alert["message"] and "0.61" in alert["text"]
    assert alert["metrics"] == {"score": 0.61}
    assert alert["evidence"]["window"] == "2013-10-14" and "more of 3000" in alert["evidence"]["scores"][-1]
    assert len(json.dumps(alert["evidence"])) <= 1024
    assert alert["run_id"] == "run-1" and alert["report"]["html"] == str((tmp_path / "report.html").resolve())
    assert alert["mlflow"]["run_id"] == "mlflowrun42" and alert["mlflow"]["tracking_uri"].startswith("sqlite:///")
    assert alert["provenance"]["git_commit"] == "abc123" and alert["provenance"]["data_hashes"]["train"] == "d41d8cd9"
    assert alert["other_findings"] == [] and alert["stages"] == {"data": "pass", "monitoring": "fail"}
    recorded = json.loads((tmp_path / ALERT_FILE).read_text())
    assert recorded["delivery"]["sent"] and recorded["alert"] == alert
    assert done.report["alert"]["webhook"]["status"] == 200 and done.report["alert"]["check"] == "prediction_drift"


def test_down_webhook_is_recorded_not_raised(tmp_path):
    """A webhook nobody listens on: every attempt is made, the failure is recorded in alert.json, nothing raises."""
    report = report_of(failing_stages(), tmp_path)
    done = alert_run(report, tmp_path, TRACKING, params(f"http://127.0.0.1:{closed_port()}/hook", retries=1))
    assert done is not None and not done.delivery.sent
    assert done.delivery.attempts == 2 and done.delivery.error.startswith("connection failed")
    assert json.loads((tmp_path / ALERT_FILE).read_text())["delivery"]["sent"] is False


def test_server_errors_are_retried_and_client_errors_are_not(receiver, tmp_path):
    """A 503 is retried (and the next try delivers); a 400 is the receiver's verdict on the alert: not retried."""
    report = report_of(failing_stages(), tmp_path)
    receiver.codes = [503]
    retried = alert_run(report, tmp_path, TRACKING, params(receiver.url, retries=2)).delivery
    assert retried.sent and retried.attempts == 2
    receiver.codes = [400]
    refused = alert_run(report, tmp_path, TRACKING, params(receiver.url, retries=2)).delivery
    assert not refused.sent and refused.attempts == 1 and refused.status == 400 and refused.error == "HTTP 400"
    assert len(receiver.received) == 3


def test_slow_webhook_times_out_and_is_recorded(receiver, tmp_path):
    """A receiver that does not answer within timeout_s: the POST gives up, the timeout is recorded."""
    receiver.hold = threading.Event()  # the handler answers only when the test ends
    report = report_of(failing_stages(), tmp_path)
    done = alert_run(report, tmp_path, TRACKING, params(receiver.url, retries=0, timeout_s=0.2))
    assert not done.delivery.sent and done.delivery.error == "no answer within 0.2 s"


def test_passing_run_sends_nothing_and_warned_run_only_when_asked(receiver, tmp_path):
    """No alert on a passing run; a warned one alerts only with notify_on: warn, naming the warning."""
    assert alert_run(report_of(passing_stages(), tmp_path), tmp_path, TRACKING, params(receiver.url)) is None
    warned = [
        StageResult(name="serving", verdict=Verdict.warn, findings=[Finding(check="x", severity="warn", message="w")])
    ]
    report = report_of(warned, tmp_path)
    assert alert_run(report, tmp_path, TRACKING, params(receiver.url)) is None
    assert not receiver.received and not (tmp_path / ALERT_FILE).exists()
    done = alert_run(report, tmp_path, TRACKING, params(receiver.url, notify_on="warn"))
    assert done.delivery.sent and receiver.received[0][1]["layer"] == "serving"


def test_no_url_records_why_and_the_env_variable_supplies_one(receiver, tmp_path, monkeypatch):
    """Without a URL the alert is still built and recorded (for the Prefect artifact); webhook_url_env names
    the variable that holds the URL, so a token stays out of params.yaml."""
    report = report_of(failing_stages(), tmp_path)
    done = alert_run(report, tmp_path, TRACKING, AlertsParams(webhook_url_env="GB_TEST_HOOK"))
    assert not done.delivery.sent and done.delivery.error == "$GB_TEST_HOOK is not set" and not receiver.received
    monkeypatch.setenv("GB_TEST_HOOK", receiver.url)
    assert alert_run(report, tmp_path, TRACKING, AlertsParams(webhook_url_env="GB_TEST_HOOK")).delivery.sent


def test_the_webhook_token_is_never_written_or_logged(receiver, tmp_path, caplog):
    """The URL's path and query may hold a token: the receiver gets it, but alert.json, the report, the log,
    the Prefect markdown and a down webhook's error message hold the host only."""
    caplog.set_level(logging.DEBUG)
    report = report_of(failing_stages(), tmp_path, mlflow_run_id=None)
    seen: list[str] = []
    for url in (
        f"{receiver.url}/hook/{TOKEN}?token={TOKEN}",
        f"http://u:{TOKEN}@{receiver.url[7:]}/basic",
        f"http://127.0.0.1:{closed_port()}/{TOKEN}",
    ):
        p = SimpleNamespace(tracking=TRACKING, alerts=params(url, retries=0))
        final = after_run(report, p, tmp_path, artifact=seen.append)
        written = [(tmp_path / n).read_text() for n in (ALERT_FILE, "report.json")]
        assert all(TOKEN not in text for text in [*written, *seen, caplog.text, json.dumps(final)])
    assert receiver.received[0][0] == f"/hook/{TOKEN}?token={TOKEN}"
    assert (
        receiver.received[1][0] == "/basic"
        and receiver.auth[1] == "Basic " + base64.b64encode(f"u:{TOKEN}".encode()).decode()
    )
    assert "not delivered to 127.0.0.1:" in seen[-1]


def test_a_database_store_password_stays_out_of_the_alert():
    """The alert names a database store (its URI and the `mlflow ui` command to open it) without its user and
    password: an alert is read by people who never had them."""
    link = mlflow_link(Tracking(tracking_uri=f"postgresql://alice:{TOKEN}@db.local:5432/mlflow"), "mlflowrun42")
    assert link["tracking_uri"] == "postgresql://db.local:5432/mlflow"
    assert link["open_with"] == "mlflow ui --backend-store-uri postgresql://db.local:5432/mlflow"
    assert TOKEN not in json.dumps(link) and "alice" not in json.dumps(link)


def test_webhook_url_is_validated_without_echoing_it(tmp_path):
    """A non-http URL is one ConfigError line that does not repeat the URL; the params hash never sees it."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["alerts"] = {"webhook_url": f"ftp://hooks.example/{TOKEN}"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"alerts\.webhook_url: .*http:// or https://") as e:
        load_params(tmp_path / "params.yaml")
    assert TOKEN not in str(e.value)
    raw["alerts"] = {"webhook_url": f"https://hooks.example/{TOKEN}", "retries": 0}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    loaded = load_params(tmp_path / "params.yaml")
    assert loaded.alerts.webhook_url.get_secret_value().endswith(TOKEN)
    assert TOKEN not in json.dumps(loaded.model_dump(mode="json")) and TOKEN not in repr(loaded)


def test_after_run_writes_the_artifact_markdown_and_the_report_entry(tmp_path):
    """after_run, as the flow calls it: the Prefect artifact gets the alert as markdown (failure, numbers,
    delivery), report.json gets the alert entry; metrics.prom is written for every run."""
    report = report_of(failing_stages(), tmp_path, mlflow_run_id=None)
    markdown: list[str] = []
    p = SimpleNamespace(tracking=TRACKING, alerts=AlertsParams())
    final = after_run(report, p, tmp_path, artifact=markdown.append)
    assert len(markdown) == 1 and "`monitoring` / `prediction_drift`" in markdown[0]
    assert "| score | 0.61 |" in markdown[0] and "no alerts.webhook_url in params" in markdown[0]
    assert json.loads((tmp_path / "report.json").read_text())["alert"] == final["alert"]
    assert (tmp_path / "metrics.prom").is_file()
    clean = tmp_path / "clean"
    assert after_run(report_of(passing_stages(), clean, None), p, clean, artifact=markdown.append).get("alert") is None
    assert len(markdown) == 1 and (clean / "metrics.prom").is_file()


def test_trimmed_keeps_leading_keys_and_counts_what_it_left_off():
    """Evidence over the budget keeps its first keys and items whole and says how much was left off."""
    evidence = {"column": "dep_delay", "rows": list(range(5000)), "blob": "x" * 10_000, "tail": 1}
    out = trimmed(evidence, 600)
    assert len(json.dumps(out)) <= 600 and out["column"] == "dep_delay"
    assert out["rows"][-1].endswith("more of 5000") and ("blob" in out.get("_omitted", []) or "chars]" in out["blob"])
    assert trimmed({"a": 1}, 600) == {"a": 1}


def test_markdown_names_other_findings(tmp_path):
    """Every other failing finding of the run is listed by layer and check, under the first one."""
    stages = failing_stages()
    stages.append(
        StageResult(
            name="deployment",
            verdict=Verdict.fail,
            findings=[Finding(check="broken_rollback", severity=Severity.fail, message="v3 cannot be loaded")],
        )
    )
    alert = build_alert(report_of(stages, tmp_path), tmp_path, TRACKING, AlertsParams())
    assert alert["other_findings"] == [
        {"layer": "deployment", "check": "broken_rollback", "severity": "fail", "message": "v3 cannot be loaded"}
    ]
    assert "`deployment` / `broken_rollback`" in to_markdown(alert, None)
