"""What produced an artifact: git commit and dirty flag, DVC data hashes, params hash, package versions."""

from __future__ import annotations

import hashlib
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from tasks.journal import JOURNAL_DIR

if TYPE_CHECKING:
    from tasks.params import Params


COMMIT = re.compile(r"[0-9a-f]{7,64}")  # a git object name as `git rev-parse` prints it (SHA-1 or SHA-256)

PACKAGES = (
    "glassbox",
    "prefect",
    "dvc",
    "great-expectations",
    "mlflow",
    "pandas",
    "evidently",
    "scikit-learn",
)


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    git_commit: str | None
    git_dirty: bool | None
    data_hashes: dict[str, str | None]
    params_sha256: str
    packages: dict[str, str | None]
    mlflow_run_id: str | None = None

    def tags(self) -> dict[str, str]:
        """The same provenance as flat MLflow tags."""
        tags = {
            "git_commit": self.git_commit or "unknown",
            "git_dirty": str(self.git_dirty).lower(),
            "params_sha256": self.params_sha256,
        }
        tags.update({f"data.{k}.md5": v or "missing" for k, v in self.data_hashes.items()})
        return tags


def file_md5(path: Path) -> str | None:
    """md5 of the file's bytes: the hash DVC records in `.dvc` files and dvc.lock for a single file."""
    if not path.is_file():
        return None
    h = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _git(*args: str, cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """The commit checked out in the repository holding `cwd` and whether tracked files changed since, the
    project's debug journal aside (None, None: not in a repository, or nothing committed yet)."""
    commit = _git("rev-parse", "--verify", "-q", "HEAD", cwd=cwd)
    if not commit:
        return None, None
    # The debug journal (tasks/journal.py) is notes about runs, not an input of any: editing it is not dirt.
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", f":(exclude){JOURNAL_DIR}", cwd=cwd)
    return commit, (bool(status) if status is not None else None)


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def collect(params: Params, mlflow_run_id: str | None = None) -> Provenance:
    commit, dirty = git_state(params.root)
    return Provenance(
        git_commit=commit,
        git_dirty=dirty,
        data_hashes={k: file_md5(p) for k, p in params.inputs.files().items()},
        params_sha256=params.sha256(),
        packages=package_versions(),
        mlflow_run_id=mlflow_run_id,
    )


def commits_between(before: str | None, after: str | None, repo: Path) -> list[str] | None:
    """`git log --oneline before..after` in the project's repository; None when either commit is unknown
    there (another clone, a run outside git) or is not a commit hash: the two come from report files (`glassbox
    diff` reads any two), and a value starting with `-` would be an option to git (`--output=FILE` writes a file)."""
    if not before or not after or not (COMMIT.fullmatch(before) and COMMIT.fullmatch(after)):
        return None
    try:
        done = subprocess.run(
            ["git", "log", "--oneline", "--no-decorate", f"{before}..{after}"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.splitlines() if done.returncode == 0 else None
