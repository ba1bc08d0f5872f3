"""The clean demo on a busy machine: another process keeps every core busy while the flow runs, twice (the
second run has a champion, so the candidate's latency is compared with it side by side), and no gate fails.

Nothing here asserts how fast this machine is: only that load on the machine is not blamed on the model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from flows import cli
from tests.flow.demo_project import demo_params, git_commit_all

pytestmark = pytest.mark.slow

# One process that forks a spinning worker per core (and one more, so that the flow never has a core to itself).
HOG = """
import multiprocessing as mp, os
def spin():
    while True:
        pass
if __name__ == "__main__":
    workers = [mp.Process(target=spin, daemon=True) for _ in range((os.cpu_count() or 2) + 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
"""


@contextmanager
def busy_cores() -> Iterator[subprocess.Popen]:
    """Every core busy until the block ends; the hog and its workers are one process group, stopped by its id."""
    hog = subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)
    try:
        yield hog
    finally:
        with suppress(ProcessLookupError):
            os.killpg(hog.pid, signal.SIGKILL)
        hog.wait(timeout=30)


def _run(root, params) -> tuple[int, dict]:
    code = cli.main(["run", "--params", str(params)])
    return code, json.loads((root / "reports" / "latest" / "report.json").read_text())


def _failing(report: dict) -> list:
    return [
        (s["name"], f["check"], f["message"])
        for s in report["stages"]
        for f in s["findings"]
        if f["severity"] == "fail" or s["verdict"] not in ("pass", "warn")
    ]


def test_clean_demo_passes_every_gate_while_the_machine_is_busy(tmp_path, monkeypatch):
    """With every core kept busy by another process, the clean demo passes every gate on its first run (no
    champion: only the latency budget is judged, and it only warns) and on its second run (the first run's
    model is the champion: latency_regression compares the two side by side and finds no slowdown)."""
    root = tmp_path
    params = demo_params(root)
    (root / ".gitignore").write_text("/reports/\n/data/\n/mlflow.db\n/mlartifacts/\n/gx/uncommitted/\n")
    git_commit_all(root)
    monkeypatch.chdir(root)
    with busy_cores() as hog:
        first_code, first = _run(root, params)
        second_code, second = _run(root, params)
        assert hog.poll() is None, "the load process ended early: the runs were not under load"
    assert first_code == 0 and not _failing(first), _failing(first)
    assert second_code == 0 and not _failing(second), _failing(second)
    deployment = next(s for s in second["stages"] if s["name"] == "deployment")
    regression = next(f for f in deployment["findings"] if f["check"] == "latency_regression")
    assert regression["evidence"]["champion_version"] is not None and regression["severity"] != "fail"
    assert deployment["metrics"]["promoted"] == 1.0
