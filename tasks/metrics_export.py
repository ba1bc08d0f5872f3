"""Prometheus exposition of a run's evidence, with the official client: a textfile-collector file
(`metrics.prom`, written atomically beside the report) and a 127.0.0.1 server that re-reads it on each scrape.

Every value describes the latest run: a run is a batch job, so the counts are gauges of that run (a counter
reset by every run would make `rate()` lie) and the histograms hold that run's observations; a dashboard
reads them directly, without `rate()`. From the serving stage's inference log: rows, requests and errors
by source, the replay's duration, a request latency histogram and a served-score histogram. From the report:
each stage's verdict, duration, findings by severity and every metric it logged; the monitoring stage's drift
scores, read from its metrics by name (`<check>.score[.<column>]` of a check named `*drift*`), and the latest
daily window's values (`<check>.[window_]<metric>_last`), whatever checks produce them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

TEXTFILE = "metrics.prom"
LOG_PATH = Path("serving") / "inference_log.parquet"  # the serving stage's evidence (its contract)
PREFIX = "glassbox"
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
VERDICTS = ("pass", "warn", "fail", "skipped")
STATUSES = ("passed", "warned", "failed")
SEVERITIES = ("info", "warn", "fail")
DRIFT_STAGE = "monitoring"

log = logging.getLogger("glassbox.metrics")


def _histogram(name: str, doc: str, series: dict[str, np.ndarray], bounds: tuple[float, ...]) -> Metric:
    """One histogram family, a series per label value: cumulative bucket counts and the sum, from the values."""
    family = HistogramMetricFamily(name, doc, labels=["source"])
    for source, values in series.items():
        values = np.sort(values[np.isfinite(values)])
        buckets = [(floatToGoString(b), float(np.searchsorted(values, b, side="right"))) for b in bounds]
        buckets.append(("+Inf", float(len(values))))
        family.add_metric([source], buckets, float(values.sum()))
    return family


def _request_key(log_frame: pd.DataFrame) -> pd.Series:
    """What names a request: a request id when the log has one, else the replay's request number, else the row."""
    for column in ("request_id", "batch"):
        if column in log_frame.columns:
            return log_frame[column]
    return pd.Series(np.arange(len(log_frame)), index=log_frame.index)


def serving_families(log_frame: pd.DataFrame) -> list[Metric]:
    """Rows, requests, errors, replay duration, latency and score histograms per source of the inference log.
    An error is a row with no finite score or a non-2xx status (the server refused, or answered nothing)."""
    rows = GaugeMetricFamily(f"{PREFIX}_serving_rows", "input rows sent to the model server", labels=["source"])
    requests = GaugeMetricFamily(f"{PREFIX}_serving_requests", "requests sent to the model server", labels=["source"])
    errors = GaugeMetricFamily(
        f"{PREFIX}_serving_errors", "rows answered with no finite score or a non-2xx status", labels=["source"]
    )
    seconds = GaugeMetricFamily(
        f"{PREFIX}_serving_replay_seconds", "from the first request sent to the last answer", labels=["source"]
    )
    latencies: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    frame = log_frame.assign(_request=_request_key(log_frame))
    if "source" not in frame.columns:
        frame["source"] = "all"
    for source, part in frame.groupby("source", sort=True):
        source = str(source)
        score = pd.to_numeric(part["score"], errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(score)
        if "status" in part.columns:
            status = pd.to_numeric(part["status"], errors="coerce").to_numpy(dtype="float64")
            bad |= ~((status >= 200) & (status < 300))
        per_request = part.drop_duplicates("_request")
        rows.add_metric([source], float(len(part)))
        requests.add_metric([source], float(len(per_request)))
        errors.add_metric([source], float(bad.sum()))
        scores[source] = score
        if "latency_ms" in part.columns:
            latency_s = pd.to_numeric(per_request["latency_ms"], errors="coerce").to_numpy(dtype="float64") / 1000.0
            latencies[source] = latency_s
            if "served_at" in part.columns and len(per_request):
                sent = pd.to_datetime(per_request["served_at"], utc=True)
                done = sent + pd.to_timedelta(np.nan_to_num(latency_s), unit="s")
                seconds.add_metric([source], float((done.max() - sent.min()).total_seconds()))
    families: list[Metric] = [rows, requests, errors, seconds]
    families.append(
        _histogram(f"{PREFIX}_serving_request_latency_seconds", "latency of each request", latencies, LATENCY_BUCKETS_S)
    )
    families.append(
        _histogram(f"{PREFIX}_serving_score", "served positive-class score of each answered row", scores, SCORE_BUCKETS)
    )
    return families


def drift_scores(metrics: dict[str, float]) -> list[tuple[str, str, float]]:
    """(check, column, score) from a stage's metrics: `<check>.score.<column>` per column, `<check>.score` for
    the check's one score (column ""), for every check whose name says drift."""
    out = []
    for key, value in sorted(metrics.items()):
        check, _, rest = key.partition(".")
        if "drift" not in check or not (rest == "score" or rest.startswith("score.")):
            continue
        out.append((check, rest[len("score.") :] if rest != "score" else "", float(value)))
    return out


def last_window(metrics: dict[str, float]) -> list[tuple[str, str, float]]:
    """(check, metric, value) for the latest daily window, from a stage's metrics named `<check>.[window_]<metric>_last`
    (the monitoring checks that judge windows log their latest one so)."""
    out = []
    for key, value in sorted(metrics.items()):
        check, _, rest = key.partition(".")
        if rest.endswith("_last") and "." not in rest:
            out.append((check, rest.removeprefix("window_").removesuffix("_last"), float(value)))
    return out


def report_families(report: dict[str, Any]) -> list[Metric]:
    """The run's status and identity, each stage's verdict, duration, findings and metrics, and drift scores."""
    prov = report.get("provenance", {})
    info = InfoMetricFamily(f"{PREFIX}_run", "the run these metrics describe")
    info.add_metric(
        [],
        {
            "run_id": str(report.get("run_id")),
            "status": str(report.get("status")),
            "git_commit": str(prov.get("git_commit")),
            "mlflow_run_id": str(prov.get("mlflow_run_id")),
        },
    )
    status = GaugeMetricFamily(f"{PREFIX}_run_status", "1 for the run's status, 0 for the others", labels=["status"])
    for s in STATUSES:
        status.add_metric([s], float(report.get("status") == s))
    verdict = GaugeMetricFamily(
        f"{PREFIX}_stage_verdict", "1 for the stage's verdict, 0 for the others", labels=["stage", "verdict"]
    )
    duration = GaugeMetricFamily(f"{PREFIX}_stage_duration_seconds", "time the stage took", labels=["stage"])
    findings = GaugeMetricFamily(f"{PREFIX}_stage_findings", "findings by severity", labels=["stage", "severity"])
    metric = GaugeMetricFamily(f"{PREFIX}_stage_metric", "every metric a stage logged", labels=["stage", "metric"])
    drift = GaugeMetricFamily(
        f"{PREFIX}_drift_score", "monitoring drift scores of the latest window or batch", labels=["check", "column"]
    )
    window = GaugeMetricFamily(
        f"{PREFIX}_monitoring_last_window",
        "each window check's value on the latest daily window",
        labels=["check", "metric"],
    )
    for stage in report.get("stages", []):
        name = stage["name"]
        for v in VERDICTS:
            verdict.add_metric([name, v], float(stage["verdict"] == v))
        duration.add_metric([name], float(stage.get("duration_s") or 0.0))
        for sev in SEVERITIES:
            findings.add_metric([name, sev], float(sum(f["severity"] == sev for f in stage.get("findings", []))))
        for key, value in sorted(stage.get("metrics", {}).items()):
            metric.add_metric([name, key], float(value))
        if name == DRIFT_STAGE:
            for check, column, value in drift_scores(stage.get("metrics", {})):
                drift.add_metric([check, column], value)
            for check, what, value in last_window(stage.get("metrics", {})):
                window.add_metric([check, what], value)
    completed = GaugeMetricFamily(f"{PREFIX}_run_completed_timestamp_seconds", "when these metrics were written")
    completed.add_metric([], time.time())
    return [info, status, verdict, duration, findings, metric, drift, window, completed]


class RunCollector(Collector):
    """A run's metrics, computed once from its report and inference log (None when serving did not run)."""

    def __init__(self, report: dict[str, Any], inference_log: pd.DataFrame | None) -> None:
        self.families = report_families(report)
        if inference_log is not None:
            self.families += serving_families(inference_log)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def run_registry(report: dict[str, Any], inference_log: pd.DataFrame | None) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(RunCollector(report, inference_log))
    return registry


def write_metrics(out: Path, report: dict[str, Any]) -> Path:
    """Write `out/metrics.prom` (atomically: a temporary file renamed) from the report and, when the serving
    stage left one in `out`, its inference log."""
    log_file = out / LOG_PATH
    inference_log = pd.read_parquet(log_file) if log_file.is_file() else None
    path = out / TEXTFILE
    write_to_textfile(str(path), run_registry(report, inference_log))
    return path


class TextfileCollector(Collector):
    """The families in a textfile, read again at every scrape, so a long-running server always shows the latest
    run. A missing or unreadable file is not an error: `glassbox_metrics_textfile_ok` says 0."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(f"{PREFIX}_metrics_textfile_ok", f"1 when {self.path.name} was read and parsed")
        try:
            families = list(text_string_to_metric_families(self.path.read_text()))
        except (OSError, ValueError) as e:
            log.warning("metrics: cannot read %s (%s)", self.path, e)
            families = []
            ok.add_metric([], 0.0)
        else:
            ok.add_metric([], 1.0)
        yield from families
        yield ok


def serve_textfile(path: Path, port: int, host: str = "127.0.0.1") -> tuple[Any, threading.Thread]:
    """Serve `path` at http://host:port/metrics with the client's own HTTP server (a daemon thread). Returns the
    server (its `server_port` is the port taken when `port` is 0) and the thread; `server.shutdown()` stops it."""
    registry = CollectorRegistry()
    registry.register(TextfileCollector(path))
    return start_http_server(port, addr=host, registry=registry)
