"""A throwaway copy of the project's configuration on a small sample of the demo, in a tmp folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import REPO

SAMPLE = 0.08


def demo_params(root: Path, *, sample: float = SAMPLE, gx_dir: str = "gx") -> Path:
    """params.yaml as shipped, on a sample, with every store (MLflow, GX) inside `root`."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["snapshot"]["sample_fraction"] = sample
    params["tracking"]["tracking_uri"] = "sqlite:///mlflow.db"
    params["tracking"]["artifact_root"] = "mlartifacts"
    params["inputs"]["pins"] = {}
    params["data"]["suite_dir"] = gx_dir
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
