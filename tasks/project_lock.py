"""One run at a time per project: the stores (the MLflow database, the GX project, the inference store, the
report folder) are written by every stage, and two runs interleaving them would leave neither's evidence whole.
A second `glassbox run`, `stage`, `baseline` or `rollback` on the same project refuses at once with one line
naming the holder, instead of waiting behind a night's run.

An advisory `flock` on `.glassbox.lock` in the project folder: the kernel releases it when the holder exits in
any way (kill -9 included), so a crashed run never leaves a stale lock. Held again by the same process (the flow
inside `glassbox run`), it is reentrant.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tasks.errors import ConfigError

LOCK_FILE = ".glassbox.lock"
_held: dict[Path, tuple[int, int]] = {}  # lock path -> (open descriptor, depth) held by this process


@contextmanager
def project_lock(root: Path, what: str | None = None) -> Iterator[Path]:
    """Hold the project's lock for the block; a ConfigError naming the holder when another process has it."""
    path = (Path(root) / LOCK_FILE).resolve()
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield path
        finally:
            fd, depth = _held[path]
            _held[path] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 512, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise ConfigError(
            f"{path}: another glassbox run holds this project ({holder}); wait for it to end or stop it"
        ) from None
    os.ftruncate(fd, 0)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.pwrite(fd, f"pid {os.getpid()}, `{what or ' '.join(sys.argv[:3])}`, since {started}\n".encode(), 0)
    _held[path] = (fd, 1)
    try:
        yield path
    finally:
        del _held[path]
        os.close(fd)  # closing the descriptor releases the lock
