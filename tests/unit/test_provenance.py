from __future__ import annotations

import subprocess
from pathlib import Path

from tasks.params import load_params
from tasks.provenance import collect, commits_between, git_state
from tests.conftest import REPO

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def _git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)


def test_git_state_names_no_commit_before_the_first_one(tmp_path):
    """A fresh `git init` with nothing committed has no commit to name: (None, None), never a made-up one."""
    _git(tmp_path, "init", "-q")
    assert git_state(tmp_path) == (None, None)


def test_git_state_follows_the_project_folder_and_its_changes(tmp_path):
    """The commit and dirty flag are the project's (the folder given), clean after a commit, dirty after an
    edit of a tracked file; untracked files (data, stores) do not count."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "params.yaml").write_text("a: 1\n")
    _git(tmp_path, "add", "params.yaml")
    _git(tmp_path, "commit", "-qm", "init")
    commit, dirty = git_state(tmp_path)
    assert commit and len(commit) == 40 and dirty is False
    (tmp_path / "mlflow.db").write_text("x")
    assert git_state(tmp_path)[1] is False
    (tmp_path / "params.yaml").write_text("a: 2\n")
    assert git_state(tmp_path) == (commit, True)


def test_a_journal_note_is_not_dirt_but_the_rest_of_the_repository_is(tmp_path):
    """Editing a committed debug-journal entry leaves the tree clean; a change elsewhere in the repository,
    even outside the project's folder, makes it dirty."""
    project = tmp_path / "project"
    (project / "journal").mkdir(parents=True)
    (project / "journal" / "run.json").write_text("{}")
    (tmp_path / "shared.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    (project / "journal" / "run.json").write_text('{"notes": []}')
    assert git_state(project)[1] is False
    (tmp_path / "shared.py").write_text("x = 2\n")
    assert git_state(project)[1] is True


def test_collect_reads_git_where_params_yaml_lives(tmp_path):
    """Provenance names the commit of the folder params.yaml was loaded from, not of the working directory."""
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    params = load_params(tmp_path / "params.yaml")
    assert params.root == tmp_path.resolve()
    _git(tmp_path, "init", "-q")
    assert collect(params).git_commit is None  # nothing committed there, whatever the working directory holds
    _git(tmp_path, "add", "params.yaml")
    _git(tmp_path, "commit", "-qm", "init")
    assert collect(params).git_commit == git_state(tmp_path)[0] and collect(params).git_dirty is False


def test_commits_between_takes_only_commit_hashes_never_options(tmp_path):
    """The commits come from report files: a hash lists the commits between, a value that git would read as an
    option (`--output=FILE`) is no commit (None) and writes nothing."""
    _git(tmp_path, "init", "-q")
    for text in ("a", "b"):
        (tmp_path / "f").write_text(text)
        _git(tmp_path, "add", "f")
        _git(tmp_path, "commit", "-qm", text)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    first = subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert commits_between(first, head, tmp_path) == [
        subprocess.run(
            ["git", "log", "--oneline", "--no-decorate", "-1"], cwd=tmp_path, capture_output=True, text=True
        ).stdout.strip()
    ]
    target = tmp_path / "written"
    assert commits_between(f"--output={target}", head, tmp_path) is None
    assert not any(tmp_path.glob("written*"))
