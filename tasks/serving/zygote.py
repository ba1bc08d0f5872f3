"""The preloaded helper of tasks/serving/forked.py: imports what every scoring server imports, then forks one
server per request read from stdin, and writes back each server's pid and, when it ends, its exit code.

Requests and answers are JSON lines: {"args", "env", "log", "cwd"} in; {"started": pid} (or {"error"}) and
{"exited": pid, "code"} out. It exits when its stdin closes (its glassbox process ended); the servers it forked
run on in sessions of their own, as servers started with Popen do, until stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import sys
import traceback


def _preload() -> None:
    """What every scoring server would otherwise import and compute for itself before it loads its model."""
    from tasks.serving.server import SERVER_ENV

    os.environ.update(SERVER_ENV)  # telemetry off before MLflow is imported
    import mlflow.pyfunc.scoring_server  # noqa: F401
    import skops.io  # noqa: F401 (its trusted-type scan runs at import)
    import uvicorn.main  # noqa: F401
    from mlflow.utils.requirements_utils import _init_packages_to_modules_map

    _init_packages_to_modules_map()  # the installed packages, for MLflow's requirement check (cached per process)


def _child(request: dict, fds: tuple[int, ...]) -> int:
    """In the forked child: the request's session, folder, output and environment, then uvicorn's command line."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    os.chdir(request["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for fd in {null, log, *fds} - {0, 1, 2}:
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    import uvicorn._subprocess
    from uvicorn.main import main

    # uvicorn spawns each worker as a fresh interpreter (its module-level "spawn" context); here they are forked
    # from this preloaded process, each loading the model itself as a spawned one would
    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")
    try:
        main.main(args=request["args"], prog_name="uvicorn")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _say(fd: int, message: dict) -> None:
    os.write(fd, json.dumps(message).encode() + b"\n")


def _reap(out: int) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _say(out, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _serve(line: bytes, fds: tuple[int, ...]) -> None:
    out = fds[0]
    try:
        request = json.loads(line)
        pid = os.fork()
    except Exception as e:  # a malformed request, or no more processes
        _say(out, {"error": f"{type(e).__name__}: {e}"})
        return
    if pid == 0:
        code = 1
        try:
            code = _child(request, fds)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _say(out, {"started": pid})


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches glassbox, which closes this helper's stdin
    _preload()
    out = os.dup(1)  # answers go here; stdout itself goes nowhere
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd hears of every exit
    pending = b""
    while True:
        ready, _, _ = select.select([0, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(out)
        if 0 in ready:
            data = os.read(0, 1 << 16)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                _serve(line, (out, wake_r, wake_w))


if __name__ == "__main__":
    main()
