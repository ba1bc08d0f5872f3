"""Alerts: one JSON webhook per failing run, so someone opens the right run the morning after.

The alert is built from the report alone (its first failure, that finding's evidence, the stage's metrics for
that check, every other failing finding), so any check alerts, a monitoring window's included, without this
module knowing it. Delivery never raises and never hides the verdict: a webhook that is down or slow is
recorded (`alert.json`, the report's `alert`, an MLflow tag) and logged, and the run's exit code stays the
verdict's. The webhook URL may carry a token: only its host is ever written or logged.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from tasks.params import AlertsParams, Tracking
from tasks.redact import public_uri

ALERT_FILE = "alert.json"
KIND = "glassbox.alert"
OTHER_FINDINGS = 20  # further failing findings listed by name and message (the first one carries the numbers)
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

log = logging.getLogger("glassbox.alerts")


class Delivery(BaseModel):
    """What became of one alert's POST: safe to write anywhere (the host, never the URL)."""

    model_config = ConfigDict(frozen=True)

    sent: bool
    host: str | None = None
    status: int | None = None
    error: str | None = None
    attempts: int = 0

    def summary(self) -> str:
        if self.sent:
            return f"sent to {self.host} (HTTP {self.status}, attempt {self.attempts})"
        if self.host is None:
            return f"not sent: {self.error}"
        return f"not delivered to {self.host} after {self.attempts} attempt(s): {self.error}"


def due(report: dict[str, Any], p: AlertsParams) -> bool:
    """A failed run always alerts; a warned one too when `notify_on` is warn. A passing run never does."""
    return report["status"] == "failed" or (p.notify_on == "warn" and report["status"] == "warned")


def webhook_url(p: AlertsParams) -> str | None:
    """The URL from params, else from the environment variable params name; None when neither is set."""
    if p.webhook_url is not None:
        return p.webhook_url.get_secret_value()
    if p.webhook_url_env:
        return os.environ.get(p.webhook_url_env) or None
    return None


def host_of(url: str) -> str:
    """host[:port] only: no scheme, user, password, path or query (any of which may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def trimmed(value: Any, budget: int) -> Any:
    """`value` cut down to about `budget` bytes of JSON: leading keys and items kept whole while they fit, a
    long string cut, and what was left off counted (`_omitted`), so a big evidence dict cannot flood a chat."""
    size = len(json.dumps(value, default=str))
    if size <= budget:
        return value
    if isinstance(value, str):
        return value[: max(budget - 20, 0)] + f"... [{len(value)} chars]"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        left = budget - 40
        omitted = []
        for k, v in value.items():
            piece = trimmed(v, left - len(k) - 8) if left > len(k) + 40 else None
            cost = len(json.dumps(piece, default=str)) + len(k) + 6
            if piece is None or cost > left:
                omitted.append(k)
                continue
            out[k], left = piece, left - cost
        if omitted:
            out["_omitted"] = omitted[:20] + ([f"... {len(omitted) - 20} more"] if len(omitted) > 20 else [])
        return out
    if isinstance(value, list):
        items: list[Any] = []
        left = budget - 40
        for v in value:
            piece = trimmed(v, left) if left > 40 else None
            cost = len(json.dumps(piece, default=str)) + 2
            if piece is None or cost > left:
                break
            items.append(piece)
            left -= cost
        if len(items) < len(value):
            items.append(f"... {len(value) - len(items)} more of {len(value)}")
        return items
    return str(value)[:budget]


def _failing(report: dict[str, Any], level: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (stage, finding) at or above `level`, in flow order."""
    levels = ("fail",) if level == "fail" else ("fail", "warn")
    return [(s, f) for s in report["stages"] for f in s["findings"] if f["severity"] in levels]


def _check_metrics(stage: dict[str, Any], check: str) -> dict[str, float]:
    """The stage's metrics the check logged (the runner names them `<check>.<metric>`), timing left out."""
    prefix = f"{check}."
    return {
        k[len(prefix) :]: v
        for k, v in stage.get("metrics", {}).items()
        if k.startswith(prefix) and k != f"{check}.seconds"
    }


def mlflow_link(tracking: Tracking, run_id: str | None) -> dict[str, Any]:
    """Where to open the run: the tracking URI and run id; a UI URL when the tracking URI is an http server
    (the experiment id is asked of that server; if it does not answer, the URL is left out)."""
    uri = tracking.uri
    link: dict[str, Any] = {"tracking_uri": public_uri(uri), "experiment": tracking.experiment, "run_id": run_id}
    if run_id is None:
        return link
    if urlsplit(uri).scheme in ("http", "https"):
        try:
            import mlflow

            experiment_id = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id).info.experiment_id
            link["ui_url"] = f"{public_uri(uri).rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
        except Exception as e:  # the alert goes out without the URL rather than not at all
            log.warning("alert: no MLflow UI URL (%s)", type(e).__name__)
    else:
        link["open_with"] = f"mlflow ui --backend-store-uri {public_uri(uri)}"
    return link


def build_alert(report: dict[str, Any], out: Path, tracking: Tracking, p: AlertsParams) -> dict[str, Any]:
    """The alert as plain JSON: the first failure's layer, check, message, numbers and trimmed evidence; the
    other failing findings; every stage's verdict; the report and the MLflow run to open; the provenance."""
    level = "fail" if report["status"] == "failed" else "warn"
    found = _failing(report, level)
    stage, finding = found[0] if found else ({}, {})
    layer = stage.get("name")
    check = finding.get("check")
    message = finding.get("message") or report.get("error") or f"run {report['status']}"
    prov = report["provenance"]
    out = out.resolve()
    summary = f"glassbox {report['status'].upper()}: {layer or 'run'} / {check or 'error'}: {message}"
    return {
        "kind": KIND,
        "text": summary[:1000],
        "status": report["status"],
        "run_id": report["run_id"],
        "layer": layer,
        "check": check,
        "severity": finding.get("severity"),
        "message": message,
        "columns": finding.get("columns", []),
        "metrics": _check_metrics(stage, check) if check else {},
        "evidence": trimmed(finding.get("evidence", {}), p.evidence_bytes),
        "error": report.get("error"),
        "other_findings": [
            {"layer": s["name"], "check": f["check"], "severity": f["severity"], "message": f["message"][:500]}
            for s, f in found[1 : 1 + OTHER_FINDINGS]
        ],
        "more_findings": max(len(found) - 1 - OTHER_FINDINGS, 0),
        "stages": {s["name"]: s["verdict"] for s in report["stages"]},
        "report": {"html": str(out / "report.html"), "json": str(out / "report.json")},
        "mlflow": mlflow_link(tracking, prov.get("mlflow_run_id")),
        "provenance": {
            "git_commit": prov.get("git_commit"),
            "git_dirty": prov.get("git_dirty"),
            "data_hashes": prov.get("data_hashes", {}),
            "params_sha256": prov.get("params_sha256"),
        },
    }


def _scrubbed(text: str, url: str) -> str:
    """An error message with every piece of the URL that may hold a token taken out."""
    parts = urlsplit(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    for secret in sorted({url, path_query, parts.path, parts.query, parts.password or ""}, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "<redacted>")
    return re.sub(r"url: \S+", "url: <redacted>", text)[:300]


def _post(url: str, body: bytes, timeout_s: float) -> int:
    """One POST with the standard library (proxies from the environment, as requests would): unlike requests'
    urllib3, it logs nothing, so no debug log ever holds the URL. Returns the HTTP status."""
    headers = {"Content-Type": "application/json", "User-Agent": "glassbox"}
    parts = urlsplit(url)
    if parts.username is not None:  # user:password@host: urllib wants it as a header
        login = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
        url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status
    except urllib.error.HTTPError as e:  # an answer, not a failure to connect
        e.close()
        return e.code


def send(alert: dict[str, Any], url: str, p: AlertsParams) -> Delivery:
    """POST the alert; retry a refused connection, a timeout or a 5xx/429 answer `p.retries` times. Never raises."""
    host = host_of(url)
    body = json.dumps(alert).encode()
    error: str | None = None
    status: int | None = None
    attempt = 0
    for attempt in range(1, p.retries + 2):
        if attempt > 1 and p.retry_backoff_s:
            time.sleep(p.retry_backoff_s * (attempt - 1))  # a pause between retries, not a wait in a test
        try:
            status = _post(url, body, p.timeout_s)
        except (TimeoutError, urllib.error.URLError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError):
                status, error = None, f"no answer within {p.timeout_s:g} s"
            else:
                status, error = None, f"connection failed: {_scrubbed(str(reason), url)}"
            continue
        except Exception as e:  # a reset connection, a broken proxy setting: recorded, never raised
            status, error = None, f"{type(e).__name__}: {_scrubbed(str(e), url)}"
            continue
        if 200 <= status < 300:
            return Delivery(sent=True, host=host, status=status, attempts=attempt)
        error = f"HTTP {status}"
        if status not in RETRY_STATUSES:
            break
    return Delivery(sent=False, host=host, status=status, error=error, attempts=attempt)


def to_markdown(alert: dict[str, Any], delivery: Delivery | None) -> str:
    """The alert for a human (a Prefect artifact): the failure, its numbers, where to look."""
    lines = [
        f"# glassbox {alert['status'].upper()}: `{alert['layer'] or 'run'}` / `{alert['check'] or 'error'}`",
        "",
        alert["message"],
        "",
        f"- run: `{alert['run_id']}`",
        f"- report: `{alert['report']['html']}`",
    ]
    ml = alert["mlflow"]
    lines.append(f"- MLflow run: `{ml['run_id']}` in `{ml['tracking_uri']}` (experiment `{ml['experiment']}`)")
    if ml.get("ui_url"):
        lines.append(f"- open: {ml['ui_url']}")
    prov = alert["provenance"]
    lines.append(f"- commit: `{prov['git_commit']}` (dirty: {prov['git_dirty']})")
    lines += [f"- data `{k}` md5: `{v}`" for k, v in prov["data_hashes"].items()]
    if delivery is not None:
        lines.append(f"- webhook: {delivery.summary()}")
    if alert["metrics"]:
        lines += ["", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.6g} |" for k, v in alert["metrics"].items()]
    if alert["other_findings"]:
        lines += ["", "Other findings:", ""]
        lines += [
            f"- **{f['severity']}** `{f['layer']}` / `{f['check']}`: {f['message']}" for f in alert["other_findings"]
        ]
    lines += ["", "Stages: " + ", ".join(f"{k} {v}" for k, v in alert["stages"].items()), ""]
    lines += ["<details><summary>evidence</summary>", "", "```json", json.dumps(alert["evidence"], indent=2), "```"]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def record(out: Path, alert: dict[str, Any], delivery: Delivery | None, report: dict[str, Any]) -> dict[str, Any]:
    """`alert.json` beside the report (the alert and what became of it) and the delivery in the report's
    `alert` key; returns the report with it."""
    entry = {"file": ALERT_FILE, "layer": alert["layer"], "check": alert["check"]}
    entry["webhook"] = delivery.model_dump() if delivery is not None else None
    (out / ALERT_FILE).write_text(json.dumps({"delivery": entry["webhook"], "alert": alert}, indent=2) + "\n")
    return {**report, "alert": entry}


class Alerted(BaseModel):
    """An alert that was due: what it said, what became of its POST, and the report carrying its record."""

    alert: dict[str, Any]
    delivery: Delivery
    report: dict[str, Any]


def alert_run(report: dict[str, Any], out: Path, tracking: Tracking, p: AlertsParams) -> Alerted | None:
    """Build, send and record the alert for a finished run when one is due; None when none is. A missing URL
    is recorded as such (the Prefect artifact still carries the alert)."""
    if not due(report, p):
        return None
    alert = build_alert(report, out, tracking, p)
    url = webhook_url(p)
    if url is None:
        why = f"${p.webhook_url_env} is not set" if p.webhook_url_env else "no alerts.webhook_url in params"
        delivery = Delivery(sent=False, error=why)
    else:
        delivery = send(alert, url, p)
    return Alerted(alert=alert, delivery=delivery, report=record(out, alert, delivery, report))
