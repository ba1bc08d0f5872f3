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
from collections.abc import Iterator, Mapping
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
STOP_GRACE_S = 5.0  # after SIGTERM, before SIGKILL
READY_POLL_TIMEOUT_S = 5.0  # one /ping while waiting for the server (the whole wait is `startup_timeout_s`)
READY_POLL_INTERVAL_S = 0.2
REASON_CHARS = 500
# One uvicorn worker: glassbox sends its requests one at a time, and a second worker still loading the model
# after the first answers /ping competes for the CPU with the requests being timed (on a 2-core machine it
# made one of two servers of the same model 30% slower in its first few hundred requests).
WORKERS = 1
# `python -m <module> ...` restricted to a set of CPUs (argv[1], comma-separated) before the module is imported,
# so every process and thread the server starts (uvicorn, its workers) inherits the restriction (Linux only).
PINNED = (
    "import os, runpy, sys; os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')}); "
    "sys.argv = sys.argv[2:]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def shared_cpus(count: int | None) -> frozenset[int] | None:
    """`count` CPUs this process may use (the last ones), for servers that must share them; None when pinning is
    off, not possible on this OS, or would not restrict anything."""
    if not count or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return frozenset(allowed[-count:]) if count < len(allowed) else None


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
    started: float = 0.0  # time.perf_counter() at launch
    session: requests.Session = field(default_factory=requests.Session)

    def invoke(self, frame: pd.DataFrame, timeout_s: float) -> Answer:
        return invoke(self.url, frame, timeout_s=timeout_s, session=self.session)

    def ping(self, timeout_s: float) -> float:
        """Milliseconds /ping took on the same connection as the requests (NaN when it did not answer 200):
        the server's own round trip without the model, a calibration of how busy the machine is."""
        start = time.perf_counter()
        try:
            ok = self.session.get(f"{self.url}/ping", timeout=timeout_s).status_code == 200
        except requests.RequestException:
            ok = False
        return (time.perf_counter() - start) * 1000 if ok else float("nan")


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


def server_env(tracking_uri: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The venv's bin first on PATH (the server shells out to `uvicorn` by name) and the tracking store set,
    so `models:/` URIs resolve against the same registry the pipeline writes to; `extra` (serving.env) on top
    of glassbox's environment, as a deployment's server would get it."""
    env = {**os.environ, **(extra or {})}
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


def launch(
    model_uri: str,
    *,
    tracking_uri: str,
    log_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int = WORKERS,
    cpus: frozenset[int] | None = None,
    env: Mapping[str, str] | None = None,
) -> ModelServer:
    """Start `mlflow models serve` for `model_uri` in its own process group and return at once (not yet
    ready: `wait_ready`). Starting several servers before waiting for any lets them load side by side.
    `cpus`: the CPUs the server (every process and thread it starts) may run on; None: any."""
    port = port or free_port(host)
    python = [sys.executable, "-c", PINNED, ",".join(map(str, sorted(cpus)))] if cpus else [sys.executable, "-m"]
    cmd = [
        *python,
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
        "-w",
        str(workers),
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(tracking_uri, env),
            start_new_session=True,
        )
    return ModelServer(
        model_uri=model_uri, url=f"http://{host}:{port}", process=process, log_path=log_path, started=started
    )


def stop(server: ModelServer) -> None:
    """Close the client session and stop the server's process group (safe to call twice)."""
    server.session.close()
    _stop(server.process)


@contextmanager
def serve(
    model_uri: str,
    *,
    tracking_uri: str,
    log_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout_s: float = 120.0,
    workers: int = WORKERS,
    env: Mapping[str, str] | None = None,
) -> Iterator[ModelServer]:
    """Start `mlflow models serve` on `host`, wait for /ping, yield it, stop its process group on exit.

    Raises RuntimeError (with the end of the server log) if the process dies or is not up in time: a server
    that cannot start is an infrastructure fault for the orchestrator to retry, not a verdict on the model.
    """
    server = launch(
        model_uri, tracking_uri=tracking_uri, log_path=log_path, host=host, port=port, workers=workers, env=env
    )
    try:
        wait_ready(server, startup_timeout_s)
        yield server
    finally:
        stop(server)


def wait_ready(server: ModelServer, timeout_s: float) -> None:
    """Poll /ping until it answers 200; RuntimeError (quoting the log) if the process dies or time runs out.
    Sets `startup_s`, the seconds from launch to the first answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            raise RuntimeError(
                f"model server for {server.model_uri} exited with code {code} before answering /ping; "
                f"log {server.log_path}:\n{log_tail(server.log_path)}"
            )
        left = max(deadline - time.monotonic(), READY_POLL_INTERVAL_S)
        try:
            if requests.get(f"{server.url}/ping", timeout=min(READY_POLL_TIMEOUT_S, left)).status_code == 200:
                server.startup_s = time.perf_counter() - server.started
                return
        except requests.RequestException:
            pass
        time.sleep(READY_POLL_INTERVAL_S)
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


def parsed_by_server(frame: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """`frame` as the scoring server decodes glassbox's payload of it: MLflow's own parser with the model's
    input schema, as `/invocations` does before the model sees it (raises what the server would refuse)."""
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    return infer_and_parse_data(json.loads(payload(frame)), schema).set_axis(frame.index)


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
