"""Model servers forked from one preloaded process instead of started as fresh interpreters.

A fresh `python -m uvicorn ... mlflow.pyfunc.scoring_server.app:app` spent ~7 s of CPU before it answered /ping
(profiled: importing MLflow 4 s, skops' scan of every scikit-learn type it may trust 2 s, MLflow's map of the
installed packages for its requirement check 2.3 s), once per server and once per uvicorn worker: a run starts
four to six. Here one helper process per glassbox process (`python -m tasks.serving.zygote`, started on first
need) imports them once and forks each server from there: the same uvicorn command line, MLflow's own app, the
model loaded in the child, in a session of its own; ~1 s to answer. uvicorn spawns the workers of a server with
several (the serving stage's) as fresh interpreters; a forked server's are forked from it, each loading the model.

What a library reads from the environment when it is imported (a thread count, when OpenMP loads) is the
helper's, not the server's: a server with variables of its own (serving.env) starts as a fresh interpreter, as
does one launched where the helper cannot start or answer.

Not multiprocessing's forkserver: its children import the parent's `__main__` again (a user's script without a
main guard would run once more in every server).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

START_TIMEOUT_S = 120.0  # the helper's first answer includes its imports; later ones take milliseconds
UNKNOWN_EXIT = 1  # a server that ended after its helper did: gone, with a code no one could read


class Zygote:
    """The helper process and the pipe to it: one request at a time, its exits read by a thread."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tasks.serving.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
        )
        self.asking = threading.Lock()
        self.changed = threading.Condition()
        self.answers: list[dict] = []
        self.exits: dict[int, int] = {}
        self.alive = True
        threading.Thread(target=self._read, name="glassbox-zygote", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "exited" in message:
                    self.exits[int(message["exited"])] = int(message["code"])
                else:
                    self.answers.append(message)
                self.changed.notify_all()
        with self.changed:
            self.alive = False
            self.changed.notify_all()

    def start(self, args: list[str], env: Mapping[str, str], log_path: Path) -> Forked:
        """`uvicorn ARGS` forked with exactly `env` in this process's working folder, its output appended to
        `log_path`. OSError when the helper is gone or does not answer."""
        request = {"args": args, "env": dict(env), "log": str(log_path), "cwd": os.getcwd()}
        with self.asking:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except (OSError, ValueError) as e:
                raise OSError(f"the preloaded server process is gone: {e}") from None
            with self.changed:
                if not self.changed.wait_for(lambda: self.answers or not self.alive, START_TIMEOUT_S):
                    raise OSError(f"the preloaded server process did not answer in {START_TIMEOUT_S:g} s")
                if not self.answers:
                    raise OSError("the preloaded server process exited")
                answer = self.answers.pop(0)
        if "error" in answer:
            raise OSError(f"the preloaded server process could not fork: {answer['error']}")
        return Forked(self, int(answer["started"]))

    def close(self) -> None:
        with self.asking:
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Forked:
    """What the server code uses of subprocess.Popen (pid, poll, wait), for a server the helper forked."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid

    def _code(self) -> int | None:
        z = self.zygote
        if self.pid in z.exits:
            return z.exits[self.pid]
        if not z.alive and not _exists(self.pid):
            return UNKNOWN_EXIT
        return None

    def poll(self) -> int | None:
        with self.zygote.changed:
            return self._code()

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.zygote.changed:
            while (code := self._code()) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise subprocess.TimeoutExpired(f"model server {self.pid}", timeout or 0.0)
                # the helper reports every exit; once it is gone, whether the process exists is asked every 0.1 s
                self.zygote.changed.wait(left if self.zygote.alive else min(0.1, left or 0.1))
            return code


def _exists(pid: int) -> bool:
    """Whether `pid` still runs: not gone, and not a zombie nobody reaps (a container's first process may not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_zygote: Zygote | None = None
_starting = threading.Lock()


def zygote() -> Zygote:
    """This process's helper, started on first need (and again if the last one exited)."""
    global _zygote
    with _starting:
        if _zygote is None or not _zygote.alive:
            _zygote = Zygote()
            atexit.register(_zygote.close)
        return _zygote


def start_uvicorn(args: list[str], env: Mapping[str, str], log_path: Path) -> Forked:
    """`uvicorn ARGS` forked from the preloaded helper (see the module's docstring)."""
    return zygote().start(args, env, log_path)
