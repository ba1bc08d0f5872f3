"""`dvc repro` runs the same stages through the same code, and a second one right after reruns nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.params import STAGES
from tests.flow.demo_project import copy_project, demo_params, git_commit_all

pytestmark = pytest.mark.slow


def _sh(cwd: Path, *cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("dvcrepo")
    copy_project(root)
    demo_params(root)
    git_commit_all(root)
    first = _sh(root, "dvc", "repro")
    return root, first


def test_dvc_repro_runs_every_stage_through_glassbox(repo):
    """`dvc repro` on the demo sample runs all stages and writes the same report as the flow."""
    root, first = repo
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for stage in STAGES:
        assert f"glassbox stage {stage}" in first.stdout
    report = json.loads((root / "reports/latest/report.json").read_text())
    assert [s["verdict"] for s in report["stages"]].count("skipped") == 0
    assert report["status"] in ("passed", "warned")
    # one pipeline run: every stage's result carries the same run id
    assert len({s["run_id"] for s in report["stages"]}) == 1


def test_second_repro_reruns_nothing(repo):
    """Right after a full repro, nothing changed, so nothing runs."""
    root, _ = repo
    again = _sh(root, "dvc", "repro")
    assert again.returncode == 0, again.stderr
    assert "glassbox stage" not in again.stdout
    status = _sh(root, "dvc", "status", "--json")
    assert json.loads(status.stdout or "{}") == {}


def test_metrics_and_params_diff_work(repo):
    """`dvc metrics show` reads what the stages wrote; `dvc params diff` sees a changed threshold."""
    root, _ = repo
    shown = _sh(root, "dvc", "metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "train_val_gap" in shown.stdout and "rows_served" in shown.stdout
    params = (root / "params.yaml").read_text().replace("validation_fraction: 0.2", "validation_fraction: 0.25")
    (root / "params.yaml").write_text(params)
    diff = _sh(root, "dvc", "params", "diff", "--json")
    assert diff.returncode == 0, diff.stderr
    assert "training.validation_fraction" in diff.stdout
