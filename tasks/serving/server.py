"""The real model server (`mlflow models serve`) as a context manager, and the HTTP client that talks to it.

Serving and deployment both judge the model through this server rather than in-process, because the bugs of
this layer (schema enforcement, JSON round trips, the wrong model behind the URI) only exist on the wire.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

# Telemetry off; no download progress bars filling the server log.
SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
STOP_GRACE_S = 5.0
REASON_CHARS = 500


@dataclass(frozen=True)
class Answer:
    """One /invocations request as data: HTTP status (0 when no HTTP answer came), the predictions or the
    server's reason, how long the request took and when it was sent."""

    status: int
    predictions: Any
    reason: str | None
    latency_ms: float
    sent_at: datetime

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class ModelServer:
    """A running `mlflow models serve`: where it listens, what it serves, how long it took to start."""

    model_uri: str
    url: str
    process: subprocess.Popen
    log_path: Path
    startup_s: float = 0.0
    session: requests.Session = field(default_factory=requests.Session)

    def invoke(self, frame: pd.DataFrame, timeout_s: float) -> Answer:
        return invoke(self.url, frame, timeout_s=timeout_s, session=self.session)


def free_port(host: str) -> int:
    """A port the OS says is free now (the server binds it a moment later; the race is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def server_env(tracking_uri: str) -> dict[str, str]:
    """The venv's bin first on PATH (the server shells out to `uvicorn` by name) and the tracking store set,
    so `models:/` URIs resolve against the same registry the pipeline writes to."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(SERVER_ENV)
    return env


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole process group (the CLI, uvicorn and its workers), SIGKILL what is left."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    with suppress(ProcessLookupError):  # children may outlive the parent; the group id is the parent's pid
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_GRACE_S)


@contextmanager
def serve(
    model_uri: str,
    *,
    tracking_uri: str,
    log_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout_s: float = 120.0,
) -> Iterator[ModelServer]:
    """Start `mlflow models serve` on `host`, wait for /ping, yield it, stop its process group on exit.

    Raises RuntimeError (with the end of the server log) if the process dies or is not up in time: a server
    that cannot start is an infrastructure fault for the orchestrator to retry, not a verdict on the model.
    """
    port = port or free_port(host)
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        host,
        "-p",
        str(port),
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(tracking_uri),
            start_new_session=True,
        )
    server = ModelServer(model_uri=model_uri, url=f"http://{host}:{port}", process=process, log_path=log_path)
    try:
        _wait_ready(server, startup_timeout_s)
        server.startup_s = time.perf_counter() - start
        yield server
    finally:
        server.session.close()
        _stop(process)


def _wait_ready(server: ModelServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            raise RuntimeError(
                f"model server for {server.model_uri} exited with code {code} before answering /ping; "
                f"log {server.log_path}:\n{log_tail(server.log_path)}"
            )
        try:
            if requests.get(f"{server.url}/ping", timeout=1.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"model server for {server.model_uri} did not answer /ping within {timeout_s:g} s; "
        f"log {server.log_path}:\n{log_tail(server.log_path)}"
    )


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def payload(frame: pd.DataFrame) -> str:
    """`{"dataframe_split": {"columns", "data"}}` with missing values as null. Floats go out as Python's
    shortest round-trip repr, so the server sees exactly the values the offline model sees."""
    data = [[_plain(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    body = {"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": data}}
    return json.dumps(body, allow_nan=False, default=str)


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
        text = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        text = None
    text = text or response.text or response.reason or ""
    return f"HTTP {response.status_code}: {text.strip()[:REASON_CHARS]}"


def invoke(url: str, frame: pd.DataFrame, *, timeout_s: float, session: requests.Session | None = None) -> Answer:
    """POST one frame to /invocations. Error answers (4xx/5xx, no connection) come back as data."""
    body = payload(frame)
    sent_at = datetime.now(UTC)
    start = time.perf_counter()
    poster = session or requests
    try:
        response = poster.post(
            f"{url}/invocations", data=body, timeout=timeout_s, headers={"Content-Type": "application/json"}
        )
    except requests.RequestException as e:
        latency = (time.perf_counter() - start) * 1000
        return Answer(0, None, f"no answer: {type(e).__name__}: {e}"[:REASON_CHARS], latency, sent_at)
    latency = (time.perf_counter() - start) * 1000
    if not 200 <= response.status_code < 300:
        return Answer(response.status_code, None, _reason(response), latency, sent_at)
    try:
        predictions = response.json().get("predictions")
    except (ValueError, AttributeError):
        return Answer(response.status_code, None, f"unreadable answer: {response.text[:200]!r}", latency, sent_at)
    return Answer(response.status_code, predictions, None, latency, sent_at)


def positive_class(predictions: Any, n_rows: int) -> np.ndarray:
    """The positive-class probability per row from the server's predictions ([[p0, p1], ...] for a
    predict_proba model, plain numbers for a scorer); NaN where there is none or the shape is wrong."""
    out = np.full(n_rows, np.nan)
    if not isinstance(predictions, list) or len(predictions) != n_rows:
        return out
    for i, p in enumerate(predictions):
        value = p[1] if isinstance(p, list) and len(p) >= 2 else p
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[i] = float(value)
    return out


def latency_summary(latencies_ms: list[float] | np.ndarray) -> dict[str, float]:
    """p50/p99/max of per-request latencies; NaN when there were no requests."""
    values = np.asarray(latencies_ms, dtype="float64")
    if values.size == 0:
        return {"requests": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "requests": int(values.size),
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
    }
