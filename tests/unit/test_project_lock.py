"""One run at a time per project: a second run refuses at once with one line naming the holder; the lock is the
kernel's, so a holder killed with kill -9 leaves nothing stale; the flow inside `glassbox run` takes it again
(reentrant)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tasks.errors import ConfigError
from tasks.project_lock import project_lock
from tests.conftest import REPO

HOLD = """
import sys
from tasks.project_lock import project_lock
with project_lock(sys.argv[1], "glassbox run (test holder)"):
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(root: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_refused_naming_the_first_and_free_after_kill_9(tmp_path: Path) -> None:
    """Another process holds the project: refused with its pid and command; once it is killed (-9), the lock
    is free at once."""
    proc = _holder(tmp_path)
    try:
        with (
            pytest.raises(ConfigError, match=rf"pid {proc.pid}, `glassbox run \(test holder\)`"),
            project_lock(tmp_path),
        ):
            pass
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with project_lock(tmp_path) as path:
        assert path.name == ".glassbox.lock"


def test_reentrant_in_one_process(tmp_path: Path) -> None:
    """`glassbox run` holds it and the flow it starts takes it again without blocking itself."""
    with project_lock(tmp_path), project_lock(tmp_path):
        pass
    with project_lock(tmp_path):
        pass


def test_glassbox_run_refuses_while_another_run_holds_the_project(tmp_path: Path) -> None:
    """The second `glassbox run` exits 2 with one line, before any input is read or a server starts."""
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"inputs": {"train": "a.csv", "test": "b.csv", "current": "c.csv", "target": "y"}})
    )
    proc = _holder(tmp_path)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--params", str(tmp_path / "params.yaml")],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "another glassbox run holds this project" in lines[0], done.stderr
