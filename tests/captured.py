"""Everything a block writes where a person would see it, kept in one file: this process's stdout and stderr (file
descriptors 1 and 2, so subprocesses that inherit them too), `sys.stdout` / `sys.stderr` (which pytest replaces)
and the log records of the root logger and Prefect's own (some of Prefect's do not propagate to the root)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOGGERS = ("", "prefect", "prefect.extra", "prefect._internal")


@contextmanager
def captured(path: Path) -> Iterator[Path]:
    """Send the block's output and log records to `path` (appended), then put everything back."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    with path.open("ab") as sink:
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        text = open(sink.fileno(), "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115 (closed below)
        handler = logging.StreamHandler(text)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        old_streams = sys.stdout, sys.stderr
        try:
            for fd in saved:
                os.dup2(sink.fileno(), fd)
            sys.stdout = sys.stderr = text
            for name in LOGGERS:
                logging.getLogger(name).addHandler(handler)
            yield path
        finally:
            for name in LOGGERS:
                logging.getLogger(name).removeHandler(handler)
            sys.stdout, sys.stderr = old_streams
            text.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            text.close()
