"""What happens once a run's report is written: its Prometheus textfile, and, when a stage failed, the alert
(webhook, `alert.json`, the report's `alert`, an MLflow tag and artifact, a Prefect markdown artifact).
Nothing here may change the run's verdict or crash it: each step's failure is logged and recorded."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.alerts import ALERT_FILE, Alerted, alert_run, to_markdown
from tasks.atomic import write_text
from tasks.metrics_export import write_metrics
from tasks.params import Params

ARTIFACT_KEY = "glassbox-alert"
VERDICT_KEY = "glassbox-verdict"

log = logging.getLogger("glassbox.notify")


def _record_in_mlflow(tracking_uri: str, run_id: str | None, out: Path, alerted: Alerted) -> None:
    """The delivery as a tag (host and status only) and alert.json with the updated report on the parent run."""
    if not run_id:
        return
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    client.set_tag(run_id, "glassbox.alert", alerted.delivery.summary()[:500])
    for name in (ALERT_FILE, "report.json"):
        client.log_artifact(run_id, str(out / name), artifact_path="report")


def prefect_artifact(markdown: str) -> None:
    """A markdown artifact on the current Prefect flow run (key `glassbox-alert`), so the UI shows the alert."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description="glassbox: the run's first failure")


def run_artifacts(report: dict[str, Any], logger: logging.Logger | logging.LoggerAdapter = log) -> None:
    """The run's result in Prefect's own view: the verdict table as a markdown artifact (key `glassbox-verdict`)
    and one table artifact per judged stage (key `glassbox-<stage>`: its findings, warnings and failures
    first). Called inside the flow; a failure here is logged, never the run's."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from tasks.report import verdict_table

    rank = {"fail": 0, "warn": 1, "info": 2}
    try:
        create_markdown_artifact(markdown=verdict_table(report), key=VERDICT_KEY, description="glassbox: the verdicts")
        for stage in report["stages"]:
            if not stage["findings"]:
                continue
            rows = [
                {
                    "severity": f["severity"],
                    "check": f["check"],
                    "columns": ", ".join(f["columns"]),
                    "message": f["message"],
                }
                for f in sorted(stage["findings"], key=lambda f: rank.get(f["severity"], 3))
            ]
            key = f"glassbox-{stage['name'].lower().replace('_', '-')}"
            create_table_artifact(table=rows, key=key, description=f"glassbox {stage['name']}: {stage['verdict']}")
    except Exception as e:
        logger.warning("Prefect run artifacts not created: %s: %s", type(e).__name__, e)


def after_run(
    report: dict[str, Any],
    params: Params,
    out: Path,
    artifact: Callable[[str], None] | None = prefect_artifact,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> dict[str, Any]:
    """Write metrics.prom; send and record the alert when one is due (and the Prefect artifact through
    `artifact`, None outside Prefect). Returns the report, with its `alert` entry when an alert was due."""
    try:
        write_metrics(out, report)
    except Exception as e:  # the exposition is a by-product: a broken one is logged, the run stands
        logger.warning("metrics.prom not written: %s: %s", type(e).__name__, e)
    try:
        alerted = alert_run(report, out, params.tracking, params.alerts)
    except Exception as e:  # a bug in building the alert must not hide the verdict
        logger.warning("alert not built: %s: %s", type(e).__name__, e)
        return report
    if alerted is None:
        return report
    report = alerted.report
    undelivered = alerted.delivery.host is not None and not alerted.delivery.sent  # no URL set is no problem
    say = logger.warning if undelivered else logger.info
    say("alert %s / %s: webhook %s", alerted.alert["layer"], alerted.alert["check"], alerted.delivery.summary())
    write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    try:
        _record_in_mlflow(params.tracking.uri, report["provenance"].get("mlflow_run_id"), out, alerted)
    except Exception as e:
        logger.warning("alert not recorded in MLflow: %s", type(e).__name__)
    if artifact is not None:
        try:
            artifact(to_markdown(alerted.alert, alerted.delivery))
        except Exception as e:
            logger.warning("Prefect alert artifact not created: %s: %s", type(e).__name__, e)
    return report
