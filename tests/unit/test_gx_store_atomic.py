"""GX's file store writes whole or not at all in glassbox (a run killed mid-write must not leave half a suite
the next run cannot load): a write that fails before its rename leaves the stored file as it was."""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx
import pytest

from tasks import atomic
from tasks.data.gxproject import add_suite, open_project


def test_a_failed_store_write_leaves_the_stored_suite_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = open_project(tmp_path)
    suite = add_suite(
        context, gx.ExpectationSuite(name="s", expectations=[gx.expectations.ExpectColumnToExist(column="a")])
    )
    path = tmp_path / "expectations" / "s.json"
    before = path.read_bytes()

    def interrupted(src: str, dst: str) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(OSError, match="killed before the rename"):
        suite.add_expectation(gx.expectations.ExpectColumnToExist(column="b"))  # GX saves the suite at once
    assert path.read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.undo()
    assert [e.column for e in open_project(tmp_path).suites.get("s").expectations] == ["a"]
