from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from tasks.serving import server as server_module
from tasks.serving.server import free_port, latency_summary, payload, positive_class, serve


def test_payload_sends_missing_as_null_and_floats_exactly():
    """NaN, None and NaT go out as JSON null, and floats keep every digit: the server sees what we see."""
    x = 0.1 + 0.2  # 0.30000000000000004: lost by a 15-digit encoder
    frame = pd.DataFrame(
        {
            "a": [x, np.nan],
            "b": pd.Series(["u", None], dtype="str"),
            "c": pd.to_datetime(["2013-01-01T05:00:00Z", None], utc=True),
            "d": np.array([1, 2], dtype="int64"),
        }
    )
    body = json.loads(payload(frame))["dataframe_split"]
    assert body["columns"] == ["a", "b", "c", "d"]
    assert body["data"][0][0] == x and body["data"][0][3] == 1
    assert body["data"][1][:3] == [None, None, None]
    assert body["data"][0][2].startswith("2013-01-01T05:00:00")


def test_positive_class_reads_predict_proba_rows():
    """[[p0, p1], ...] answers give p1 per row; nulls give NaN."""
    got = positive_class([[0.25, 0.75], [0.9, 0.1], None], 3)
    assert got[:2].tolist() == [0.75, 0.1] and np.isnan(got[2])


def test_positive_class_wrong_shape_is_nan():
    """An answer with another row count than was sent cannot be matched to rows: every row is NaN."""
    assert np.isnan(positive_class([[0.2, 0.8]], 2)).all()
    assert np.isnan(positive_class(None, 2)).all()


def test_latency_summary_percentiles():
    """p50 and p99 over per-request latencies; no requests gives NaN, not zero."""
    s = latency_summary(list(range(1, 101)))
    assert s["requests"] == 100 and s["p50_ms"] == pytest.approx(50.5) and s["p99_ms"] == pytest.approx(99.01)
    assert np.isnan(latency_summary([])["p99_ms"])


@pytest.mark.slow
def test_server_that_dies_raises_with_its_log(tmp_path):
    """A model URI that cannot be served ends the process: a RuntimeError quoting the server log."""
    log = tmp_path / "server.log"
    with (
        pytest.raises(RuntimeError, match="exited with code") as e,
        serve(str(tmp_path / "no-such-model"), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=log),
    ):
        pass
    assert "no-such-model" in str(e.value) and log.is_file()


def test_server_not_up_in_time_raises_and_is_stopped(tmp_path, monkeypatch):
    """A server that does not answer /ping within the timeout is a RuntimeError, and its process is gone."""
    stopped = []
    real_stop = server_module._stop
    monkeypatch.setattr(server_module, "_stop", lambda p: (real_stop(p), stopped.append(p)))
    port = free_port("127.0.0.1")
    start = time.perf_counter()
    with (
        pytest.raises(RuntimeError, match="did not answer /ping within"),
        serve(
            str(tmp_path / "m"),
            tracking_uri=f"sqlite:///{tmp_path}/m.db",
            log_path=tmp_path / "s.log",
            port=port,
            startup_timeout_s=0.3,
        ),
    ):
        pass
    assert time.perf_counter() - start < 10
    assert len(stopped) == 1 and stopped[0].poll() is not None
