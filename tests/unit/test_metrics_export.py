"""Prometheus exposition: metrics.prom parses with the client's own parser and holds the counts, histograms,
verdicts and drift scores of a small in-memory run; the server binds 127.0.0.1, answers /metrics and re-reads
the file at each scrape; every expression of the sample Grafana dashboard names a metric glassbox writes."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from flows import cli
from tasks.metrics_export import LOG_PATH, TEXTFILE, drift_scores, serve_textfile, write_metrics
from tests.conftest import REPO

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def inference_log() -> pd.DataFrame:
    """Two requests per source: `test` answered in 8 and 40 ms; `current` in 120 ms with one NaN score, and
    a 503 that took 2 s and answered nothing (2 rows)."""
    return pd.DataFrame(
        {
            "source": ["test"] * 4 + ["current"] * 4,
            "row": [0, 1, 2, 3, 0, 1, 2, 3],
            "score": [0.05, 0.2, 0.95, 0.5, 0.3, np.nan, np.nan, np.nan],
            "status": [200] * 6 + [503, 503],
            "latency_ms": [8.0, 8.0, 40.0, 40.0, 120.0, 120.0, 2000.0, 2000.0],
            "batch": [0, 0, 1, 1, 2, 2, 3, 3],
            "served_at": [T0 + pd.Timedelta(seconds=s) for s in (0, 0, 1, 1, 2, 2, 3, 3)],
        }
    )


def report(status: str = "failed", drift: float = 0.31) -> dict:
    metrics = {
        "feature_drift.score.dep_delay": drift,
        "prediction_drift.score": 0.12,
        "drifted_share.share": 0.5,
        "window_drift.window_prediction_drift_last": 0.07,
        "concept_drift.window_skill_lost_last": 0.2,
        "concept_drift.window_skill_lost_max": 0.3,
    }
    return {
        "run_id": "run-1",
        "status": status,
        "provenance": {"git_commit": "abc123", "mlflow_run_id": "m1"},
        "stages": [
            {"name": "serving", "verdict": "pass", "duration_s": 12.5, "findings": [], "metrics": {"x.rows": 8.0}},
            {
                "name": "monitoring",
                "verdict": "fail",
                "duration_s": 3.0,
                "findings": [{"severity": "fail"}, {"severity": "info"}],
                "metrics": metrics,
            },
        ],
    }


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / LOG_PATH).parent.mkdir(parents=True)
    inference_log().to_parquet(tmp_path / LOG_PATH)
    return tmp_path


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def test_textfile_parses_and_holds_the_run(run_dir):
    """The textfile parses with prometheus_client's parser: rows, requests, errors (no finite score or non-2xx),
    latency and score histograms per source, each stage's verdict, drift scores; nothing temporary is left."""
    path = write_metrics(run_dir, report())
    assert path == run_dir / TEXTFILE and sorted(p.name for p in run_dir.iterdir()) == [TEXTFILE, "serving"]
    found = samples(path.read_text())
    assert value(found, "glassbox_serving_rows", source="current") == 4
    assert value(found, "glassbox_serving_requests", source="current") == 2
    assert value(found, "glassbox_serving_errors", source="current") == 3
    assert value(found, "glassbox_serving_errors", source="test") == 0
    assert value(found, "glassbox_serving_replay_seconds", source="current") == pytest.approx(3.0)
    latency = "glassbox_serving_request_latency_seconds"
    assert value(found, f"{latency}_bucket", source="test", le="0.01") == 1
    assert value(found, f"{latency}_bucket", source="test", le="0.05") == 2
    assert value(found, f"{latency}_bucket", source="current", le="1.0") == 1
    assert value(found, f"{latency}_count", source="current") == 2
    assert value(found, f"{latency}_sum", source="current") == pytest.approx(2.12)
    assert value(found, "glassbox_serving_score_bucket", source="test", le="0.2") == 2
    assert value(found, "glassbox_serving_score_count", source="current") == 1  # answered rows only
    assert value(found, "glassbox_stage_verdict", stage="monitoring", verdict="fail") == 1
    assert value(found, "glassbox_stage_verdict", stage="serving", verdict="fail") == 0
    assert value(found, "glassbox_stage_findings", stage="monitoring", severity="fail") == 1
    assert value(found, "glassbox_run_status", status="failed") == 1
    assert value(found, "glassbox_drift_score", check="feature_drift", column="dep_delay") == pytest.approx(0.31)
    assert value(found, "glassbox_stage_metric", stage="monitoring", metric="drifted_share.share") == 0.5
    assert value(found, "glassbox_monitoring_last_window", check="concept_drift", metric="skill_lost") == 0.2
    assert value(found, "glassbox_monitoring_last_window", check="window_drift", metric="prediction_drift") == 0.07
    assert (
        "glassbox_monitoring_last_window",
        frozenset({("check", "concept_drift"), ("metric", "skill_lost_max")}),
    ) not in found


def test_a_run_without_serving_still_writes_its_verdicts(tmp_path):
    """When serving did not run (an earlier gate failed) there is no inference log: the verdicts still go out."""
    found = samples(write_metrics(tmp_path, report()).read_text())
    assert value(found, "glassbox_run_status", status="failed") == 1
    assert not any(name.startswith("glassbox_serving") for name, _ in found)


def test_drift_scores_read_by_name_whatever_else_the_stage_logs():
    """Per-column and single scores of *drift* checks are drift scores; shares, counts and timings are not."""
    metrics = {
        "feature_drift.score.a.b": 0.4,
        "prediction_drift.score": 0.1,
        "prediction_drift.served_rows": 9.0,
        "drifted_share.share": 0.2,
        "concept_drift.seconds": 1.0,
    }
    assert drift_scores(metrics) == [("feature_drift", "a.b", 0.4), ("prediction_drift", "", 0.1)]


def test_server_binds_localhost_and_rereads_the_file(run_dir):
    """The server listens on 127.0.0.1 only, answers /metrics, and shows the file's current content each scrape
    (a missing file reads glassbox_metrics_textfile_ok 0, not an error)."""
    server, thread = serve_textfile(run_dir / TEXTFILE, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
        url = f"http://127.0.0.1:{server.server_port}/metrics"

        def scrape() -> dict:
            with urllib.request.urlopen(url, timeout=10) as r:
                assert r.status == 200
                return samples(r.read().decode())

        assert value(scrape(), "glassbox_metrics_textfile_ok") == 0
        write_metrics(run_dir, report(drift=0.31))
        first = scrape()
        assert value(first, "glassbox_metrics_textfile_ok") == 1
        assert value(first, "glassbox_serving_requests", source="test") == 2
        write_metrics(run_dir, report(status="passed", drift=0.05))
        second = scrape()
        assert value(second, "glassbox_drift_score", check="feature_drift", column="dep_delay") == pytest.approx(0.05)
        assert value(second, "glassbox_run_status", status="passed") == 1
    finally:
        server.shutdown()
        server.server_close()
    thread.join(timeout=10)


def test_cli_write_rebuilds_the_textfile_from_a_report(run_dir, capsys):
    """`glassbox metrics --write` rebuilds metrics.prom from a folder's report.json (after `dvc repro`); with no
    report it is one line and exit 2."""
    assert cli.main(["metrics", "--out", str(run_dir), "--write"]) == 2
    assert "report.json: not found" in capsys.readouterr().err
    (run_dir / "report.json").write_text(json.dumps(report()))
    assert cli.main(["metrics", "--out", str(run_dir), "--write"]) == 0
    assert value(samples((run_dir / TEXTFILE).read_text()), "glassbox_serving_rows", source="test") == 4


def test_cli_metrics_server_listens_on_localhost_only(run_dir):
    """`glassbox metrics` started as a user starts it (its own process, a free port) listens on 127.0.0.1 and on
    no other address, as the OS reports the process's sockets; Ctrl-C ends it with exit 0."""
    from tests.listening import listening, not_local

    write_metrics(run_dir, report())
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "flows.cli", "metrics", "--out", str(run_dir), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # the line it prints once it listens
        line = proc.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
        assert found, f"no serving line: {line!r}"
        sockets = listening(proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=300) == 0  # bounds a hang only: exit takes ~1 s idle, 30+ s seen under load
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ("127.0.0.1", int(found.group(1))) in sockets and not not_local(sockets), sockets


def test_dashboard_panels_read_metrics_glassbox_writes(run_dir):
    """The sample Grafana dashboard loads; every panel has a query and each query names only series glassbox
    writes (the drawn panels: request rate, error share, latency quantiles, scores, drift, verdicts)."""
    dashboard = json.loads((REPO / "deployments" / "grafana" / "glassbox.json").read_text())
    written = {name for name, _ in samples(write_metrics(run_dir, report()).read_text())}
    exprs = []
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bglassbox_[a-z0-9_]+", target["expr"]))
            assert names and names <= written, (panel["title"], names - written)
            exprs.append(target["expr"])
    joined = " ".join(exprs)
    for needed in (
        "serving_request_latency_seconds_bucket",
        "serving_errors",
        "serving_score_bucket",
        "drift_score",
        "stage_verdict",
    ):
        assert f"glassbox_{needed}" in joined, needed
