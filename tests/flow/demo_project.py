"""A throwaway copy of the project's configuration on a small sample of the demo, in a tmp folder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import yaml

from tests.conftest import REPO

SAMPLE = 0.08


def demo_params(
    root: Path, *, sample: float = SAMPLE, gx_dir: str = "gx", max_iter: int | None = None, latency_rounds: int = 100
) -> Path:
    """params.yaml as shipped, on a sample, with every store (MLflow, GX) inside `root`. `max_iter`: fewer
    boosting rounds, where the model's quality is not under test; `latency_rounds`: the paired rounds of the
    latency checks (30, their min_rounds, still gives them their bounds; the shipped 300 are for real runs)."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["snapshot"]["sample_fraction"] = sample
    params["tracking"]["tracking_uri"] = "sqlite:///mlflow.db"
    params["tracking"]["artifact_root"] = "mlartifacts"
    params["inputs"]["pins"] = {}
    params["data"]["suite_dir"] = gx_dir
    params["deployment"]["latency_rounds"] = latency_rounds
    if max_iter is not None:
        params["model"]["params"]["max_iter"] = max_iter
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def git_commit_all(root: Path) -> None:
    """Make `root` a git repository with everything committed: a clean tree, as a release is built from."""
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
    ):
        subprocess.run(cmd, cwd=root, check=True, capture_output=True)


def copy_project(dest: Path) -> None:
    """The files `dvc repro` needs, as a user's clone has them."""
    for name in ("flows", "tasks", "deployments", "gx"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "uncommitted"))
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, dest / name)
    (dest / ".dvc").mkdir()
    shutil.copy(REPO / ".dvc" / "config", dest / ".dvc" / "config")


# One process that forks a spinning worker per core: every core busy, as on a shared machine.
HOG = """
import multiprocessing as mp, os
def spin():
    while True:
        pass
if __name__ == "__main__":
    workers = [mp.Process(target=spin, daemon=True) for _ in range(max((os.cpu_count() or 2) - 1, 1))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
"""


@contextmanager
def busy_cores() -> Iterator[subprocess.Popen]:
    """Every core busy until the block ends: the caller's run on one, a spinning process on each of the others
    (under `pytest -n 2` the box is then oversubscribed). The hog and its workers are one process group, stopped
    by its id."""
    hog = subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)
    try:
        yield hog
    finally:
        with suppress(ProcessLookupError):
            os.killpg(hog.pid, signal.SIGKILL)
        hog.wait(timeout=30)
