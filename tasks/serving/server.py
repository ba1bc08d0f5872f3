"""The real model server (MLflow's scoring server under uvicorn, as `mlflow models serve` runs it) as a context
manager, and the HTTP client that talks to it.

Serving and deployment both judge the model through this server rather than in-process, because the bugs of
this layer (schema enforcement, JSON round trips, the wrong model behind the URI) only exist on the wire.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import requests

from tasks.result import Finding, Severity
from tasks.serving import forked

# Telemetry off; no download progress bars filling the server log.
SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
# The only address a model server listens on: the served model answers anyone who can reach it.
LOCALHOST = "127.0.0.1"
STOP_GRACE_S = 5.0  # after SIGTERM, before SIGKILL
READY_POLL_TIMEOUT_S = 5.0  # one /ping while waiting for the server (the whole wait is `startup_timeout_s`)
READY_POLL_INTERVAL_S = 0.2
REASON_CHARS = 500
LAST_LINE_CHARS = 200  # of the server log's last line, quoted in a failure's message
SERVER_CHECK = "model_server"  # the finding a stage returns when its model server stopped serving
# uvicorn's words when another process holds the port ("[Errno 98] error while attempting to bind on address").
PORT_CLASH = re.compile(r"address already in use", re.IGNORECASE)
ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")  # "[Errno 111] Connection refused" inside urllib3's message
# One uvicorn worker: glassbox sends its requests one at a time, and a second worker still loading the model
# after the first answers /ping competes for the CPU with the requests being timed (on a 2-core machine it
# made one of two servers of the same model 30% slower in its first few hundred requests).
WORKERS = 1


def shared_cpus(count: int | None) -> frozenset[int] | None:
    """`count` CPUs this process may use (the last ones), for servers that must share them; None when pinning is
    off, not possible on this OS, or would not restrict anything."""
    if not count or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return frozenset(allowed[-count:]) if count < len(allowed) else None


class Process(Protocol):
    """A server's process: subprocess.Popen, or tasks/serving/forked.py's Forked."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


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
    """A running model server: where it listens, what it serves, how long it took to start, how many
    requests it answered; `request_retries` and `retry_wait_s` bound the attempts of a request that gets no
    connection."""

    model_uri: str
    url: str
    process: Process
    log_path: Path
    model_dir: Path | None = None  # the model's files fetched for this server, removed when it stops
    startup_s: float = 0.0
    started: float = 0.0  # time.perf_counter() at launch
    session: requests.Session = field(default_factory=requests.Session)
    request_retries: int = 2
    retry_wait_s: float = 1.0
    answered: int = 0
    counting: threading.Lock = field(default_factory=threading.Lock)  # requests may be in flight at once

    def invoke(self, frame: pd.DataFrame, timeout_s: float, body: str | None = None) -> Answer:
        """POST one frame. Any HTTP answer, error statuses included, is data for the checks; no answer is the
        server's failure (ServerFailure). Only a failed connection with the process still running is tried
        again (`request_retries` times, `retry_wait_s` apart: a worker restarting, a full accept queue); a process
        that exited is not, nor a request past `timeout_s` (a hung server would hold every retry as long)."""
        attempts = self.request_retries + 1
        error: requests.RequestException | None = None
        for attempt in range(attempts):
            if attempt:
                self._raise_if_exited(wait_s=self.retry_wait_s)
            try:
                answer = send(self.url, frame, timeout_s=timeout_s, session=self.session, body=body)
            except requests.ConnectionError as e:  # refused, reset, or no connection in time (ConnectTimeout)
                error = e
            except requests.Timeout:
                self._raise_if_exited()
                raise ServerFailure(
                    self, f"did not answer a request within {timeout_s:g} s (process still running)", kind="timeout"
                ) from None
            except requests.RequestException as e:  # the connection broke mid-answer
                error = e
            else:
                with self.counting:
                    self.answered += 1
                return answer
            self._raise_if_exited()
        raise ServerFailure(
            self,
            f"could not be reached after {attempts} attempts {self.retry_wait_s:g} s apart (process still running): "
            f"{why_no_connection(error)}",
            kind="unreachable",
        )

    def _raise_if_exited(self, wait_s: float = 0.0) -> None:
        """ServerFailure if the process has exited, or exits within `wait_s` (the wait ends when it does)."""
        code = exited_within(self.process, wait_s)
        if code is not None:
            when = f"after {self.answered} answered request{'' if self.answered == 1 else 's'}"
            raise ServerFailure(self, f"exited with code {exit_text(code)} {when}", kind="exited", exit_code=code)

    def ping(self, timeout_s: float) -> float:
        """Milliseconds /ping took on the same connection as the requests (NaN when it did not answer 200):
        the server's own round trip without the model, a calibration of how busy the machine is."""
        start = time.perf_counter()
        try:
            ok = self.session.get(f"{self.url}/ping", timeout=timeout_s).status_code == 200
        except requests.RequestException:
            ok = False
        return (time.perf_counter() - start) * 1000 if ok else float("nan")


class ServerFailure(RuntimeError):
    """The model server stopped serving: its model could not be fetched (no process started), it exited (before
    /ping or mid-replay), did not answer /ping within the startup timeout, left a request unanswered past the
    request timeout, or could not be reached while its process ran. A verdict on serving, reported as a
    `model_server` fail finding and not retried: a model the server cannot load, or that takes the server down,
    is what this layer exists to catch, and starting it again gives the same answer (a server slower to start
    than `startup_timeout_s` is judged too: that budget is a deployment's readiness probe). A port another
    process holds is the machine's fault instead: `PortInUse`."""

    def __init__(self, server: ModelServer | Unstarted, what: str, *, kind: str, exit_code: int | None = None) -> None:
        tail = log_tail(server.log_path)
        last = next((line.strip() for line in reversed(tail.splitlines()) if line.strip()), "")
        self.summary = f"model server for {server.model_uri} {what}" + (
            f"; its log ends: {last[:LAST_LINE_CHARS]}" if last else ""
        )
        self.evidence = {
            "kind": kind,
            "model_uri": server.model_uri,
            "url": server.url,
            "exit_code": exit_code,
            "requests_answered": server.answered,
            "log_path": str(server.log_path),
            "log_tail": tail,
        }
        super().__init__(f"{self.summary}\nlog {server.log_path}:\n{tail}")

    def finding(self) -> Finding:
        return Finding(check=SERVER_CHECK, severity=Severity.fail, message=self.summary, evidence=self.evidence)


@dataclass(frozen=True)
class Unstarted:
    """A server that was never started because its model could not be fetched (what its ServerFailure names)."""

    model_uri: str
    url: str
    log_path: Path
    answered: int = 0


class PortInUse(RuntimeError):
    """The server could not bind its port because another process holds it: an infrastructure fault, so the
    stage crashes and the orchestrator retries it (on another free port when `serving.port` is not set)."""


def exited_within(process: Process, wait_s: float) -> int | None:
    """The process's exit code if it has exited or exits within `wait_s` (returns as soon as it does), else None."""
    if wait_s <= 0:
        return process.poll()
    try:
        return process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return None


def why_no_connection(error: BaseException | None) -> str:
    """The OS's words for a failed connection ("Connection refused"), else the error's type and first words."""
    found = ERRNO_TEXT.search(str(error))
    return found.group(1).strip() if found else f"{type(error).__name__}: {str(error)[:LAST_LINE_CHARS]}"


def exit_text(code: int) -> str:
    """`-9 (SIGKILL)` for a process a signal ended, the plain code otherwise."""
    if code < 0:
        with suppress(ValueError):
            return f"{code} ({signal.Signals(-code).name})"
    return str(code)


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
    """The venv's bin first on PATH and the tracking store set (what the served model's code sees, as under
    `mlflow models serve`); `extra` (serving.env) on top of glassbox's environment, as a deployment's server
    would get it."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(SERVER_ENV)
    return env


def _stop(process: Process) -> None:
    """SIGTERM the whole process group (uvicorn and its workers), SIGKILL what is left. The group is signalled
    even when its leader has exited (killed, crashed): workers may outlive it, and a group id is not given to a
    new process while the group has members."""
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
    host: str = LOCALHOST,
    port: int | None = None,
    workers: int = WORKERS,
    env: Mapping[str, str] | None = None,
    request_retries: int = 2,
    retry_wait_s: float = 1.0,
) -> ModelServer:
    """Fetch the model and start the scoring server on it in its own process group; return at once (not yet
    ready: `wait_ready`). Starting several servers before waiting for any lets them load side by side. Any `host`
    but 127.0.0.1 is refused (ValueError): glassbox never exposes a model beyond this machine. A model the registry
    or the artifact store cannot hand over is a ServerFailure at once (no process is started)."""
    if host != LOCALHOST:
        raise ValueError(f"model server host {host!r}: glassbox serves models on {LOCALHOST} only")
    port = port or free_port(host)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model_dir = Path(tempfile.mkdtemp(prefix="glassbox-served-"))
    try:
        local = fetch_model(model_uri, tracking_uri, model_dir)
    except Exception as e:  # whatever keeps the model from being fetched keeps it from being served: the verdict
        shutil.rmtree(model_dir, ignore_errors=True)
        with log_path.open("a") as log:
            log.write(f"glassbox: could not fetch {model_uri}: {type(e).__name__}: {str(e)[:REASON_CHARS]}\n")
        raise ServerFailure(
            Unstarted(model_uri, f"http://{host}:{port}", log_path), "could not fetch its model", kind="not_fetched"
        ) from None
    cmd, model_env = serve_command(local, host, port, workers)
    full_env = {**server_env(tracking_uri, env), **model_env}
    fork = cmd[1:3] == ["-m", "uvicorn"] and not env  # tasks/serving/forked.py: where a fork is as good as a start
    with log_path.open("ab") as log:
        how = "forked from the preloaded process" if fork else "a new process"
        log.write(f"glassbox: serving {model_uri} from {local} ({how}): {shlex.join(cmd)}\n".encode())
        log.flush()
        process: Process | None = None
        if fork:
            try:
                process = forked.start_uvicorn(cmd[3:], full_env, log_path)
            except OSError as e:
                log.write(f"glassbox: {e}; starting a new process instead\n".encode())
                log.flush()
        if process is None:
            process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=full_env,
                start_new_session=True,
            )
    return ModelServer(
        model_uri=model_uri,
        url=f"http://{host}:{port}",
        process=process,
        log_path=log_path,
        model_dir=model_dir,
        started=started,
        request_retries=request_retries,
        retry_wait_s=retry_wait_s,
    )


def fetch_model(model_uri: str, tracking_uri: str, dest: Path) -> Path:
    """The model's files in `dest`, fetched by MLflow from the registry or the artifact store as `mlflow models
    serve` fetches them, but in this process, where MLflow and the store are loaded already: the CLI's own start
    (importing its commands, opening the store) was 5 s of the 12 s a server took to answer /ping."""
    from mlflow.artifacts import download_artifacts

    local = download_artifacts(
        artifact_uri=model_uri, dst_path=str(dest), tracking_uri=tracking_uri, registry_uri=tracking_uri
    )
    return Path(local)


def serve_command(model_path: Path, host: str, port: int, workers: int) -> tuple[list[str], dict[str, str]]:
    """The command `mlflow models serve --env-manager local` execs (MLflow's own: uvicorn with its scoring app)
    and the variables it sets (the model's path, the request timeout), run by this environment's Python."""
    from mlflow.pyfunc.scoring_server import get_cmd

    command, env = get_cmd(str(model_path), port, host, None, workers)
    added = {k: v for k, v in env.items() if os.environ.get(k) != v}
    return [sys.executable, "-m", *shlex.split(command)], added


def stop(server: ModelServer) -> None:
    """Close the client session, stop the server's process group and remove its model's files (safe to call
    twice)."""
    server.session.close()
    _stop(server.process)
    if server.model_dir is not None:
        shutil.rmtree(server.model_dir, ignore_errors=True)


@contextmanager
def serve(
    model_uri: str,
    *,
    tracking_uri: str,
    log_path: Path,
    host: str = LOCALHOST,
    port: int | None = None,
    startup_timeout_s: float = 120.0,
    workers: int = WORKERS,
    env: Mapping[str, str] | None = None,
    request_retries: int = 2,
    retry_wait_s: float = 1.0,
) -> Iterator[ModelServer]:
    """Start the model server on `host`, wait for /ping, yield it, stop its process group on exit (also when
    the body raises). A server that exits or is not up in time raises ServerFailure (a verdict, see there), one
    whose port is taken PortInUse (infrastructure), both quoting the end of the server log."""
    server = launch(
        model_uri,
        tracking_uri=tracking_uri,
        log_path=log_path,
        host=host,
        port=port,
        workers=workers,
        env=env,
        request_retries=request_retries,
        retry_wait_s=retry_wait_s,
    )
    try:
        wait_ready(server, startup_timeout_s)
        yield server
    finally:
        stop(server)


def wait_ready(server: ModelServer, timeout_s: float) -> None:
    """Poll /ping until it answers 200, at most `timeout_s`. ServerFailure (quoting the log) if the process exits
    first or time runs out; PortInUse if it exited because its port was taken. Sets `startup_s`, the seconds
    from launch to the first answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            _raise_exited_at_start(server, code)
        left = max(deadline - time.monotonic(), READY_POLL_INTERVAL_S)
        try:
            if requests.get(f"{server.url}/ping", timeout=min(READY_POLL_TIMEOUT_S, left)).status_code == 200:
                server.startup_s = time.perf_counter() - server.started
                return
        except requests.RequestException:
            pass
        exited_within(server.process, READY_POLL_INTERVAL_S)  # the pause between pings, cut short by an exit
    raise ServerFailure(server, f"did not answer /ping within {timeout_s:g} s", kind="not_ready")


def pin(server: ModelServer, cpus: frozenset[int]) -> None:
    """Restrict every thread of every process of the server (its process group: uvicorn and its workers) to
    `cpus`, once it answers; the threads they start later inherit it (Linux). Pinned only then, servers loading
    side by side load on every core: two pinned from the start loaded one after the other on one CPU."""
    group = server.process.pid  # launched with a session, hence a process group, of its own
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pgrp = int(stat.read_text().rsplit(")", 1)[1].split()[2])  # after "pid (comm)": state, ppid, pgrp
            if pgrp != group:
                continue
            for task in (stat.parent / "task").iterdir():
                os.sched_setaffinity(int(task.name), cpus)
        except (OSError, ValueError, IndexError):  # a process or thread that ended meanwhile
            continue


def _raise_exited_at_start(server: ModelServer, code: int) -> None:
    if PORT_CLASH.search(log_tail(server.log_path, lines=200)):
        raise PortInUse(
            f"model server for {server.model_uri} could not bind {server.url}: address already in use; "
            f"log {server.log_path}:\n{log_tail(server.log_path)}"
        )
    raise ServerFailure(
        server, f"exited with code {exit_text(code)} before answering /ping", kind="exited", exit_code=code
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


def _wire_values(column: pd.Series) -> list[Any]:
    """A column's values as JSON-ready Python values, missing as None: whole numeric columns at once (a million
    rows of 50 columns went value by value in minutes), object columns (mixed types from a type fault) one by
    one."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iufb":  # tolist(): Python int, float, bool
        values = column.to_numpy()
        if column.dtype.kind == "f":
            missing = np.isnan(values)
            if missing.any():
                out = values.tolist()
                for i in np.flatnonzero(missing):
                    out[i] = None
                return out
        return values.tolist()
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:  # str / string: text or missing
        return column.to_numpy(dtype=object, na_value=None).tolist()
    return [_plain(v) for v in column.astype(object).tolist()]


def payload(frame: pd.DataFrame) -> str:
    """`{"dataframe_split": {"columns", "data"}}` with missing values as null. Floats go out as Python's
    shortest round-trip repr, so the server sees exactly the values the offline model sees."""
    data = list(zip(*(_wire_values(frame[c]) for c in frame.columns), strict=True))  # rows (tuples dump as arrays)
    body = {"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": data}}
    return json.dumps(body, allow_nan=False, default=str)


def parsed_by_server(frame: pd.DataFrame, schema: Any, body: str | None = None) -> pd.DataFrame:
    """`frame` as the scoring server decodes glassbox's payload of it (`body`, when already written): MLflow's own
    parser with the model's input schema, as `/invocations` does before the model sees it (raises what the
    server would refuse)."""
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    return infer_and_parse_data(json.loads(payload(frame) if body is None else body), schema).set_axis(frame.index)


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
    sent_at = datetime.now(UTC)
    start = time.perf_counter()
    try:
        return send(url, frame, timeout_s=timeout_s, session=session)
    except requests.RequestException as e:
        latency = (time.perf_counter() - start) * 1000
        return Answer(0, None, f"no answer: {type(e).__name__}: {e}"[:REASON_CHARS], latency, sent_at)


def send(
    url: str, frame: pd.DataFrame, *, timeout_s: float, session: requests.Session | None = None, body: str | None = None
) -> Answer:
    """POST one frame (its payload `body`, when already written) to /invocations: any HTTP answer as data, no
    answer as the RequestException it raised."""
    body = payload(frame) if body is None else body
    sent_at = datetime.now(UTC)
    start = time.perf_counter()
    poster = session or requests
    response = poster.post(
        f"{url}/invocations", data=body, timeout=timeout_s, headers={"Content-Type": "application/json"}
    )
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
