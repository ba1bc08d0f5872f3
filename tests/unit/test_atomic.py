"""A file glassbox writes is replaced whole or not at all: a write that fails half-way leaves the previous
version and no temporary file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks import atomic


def test_failed_write_keeps_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.json"
    atomic.write_text(path, '{"run": 1}\n')

    def interrupted(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(path, '{"run": 2}\n')
    assert path.read_text() == '{"run": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_write_creates_the_folder(tmp_path: Path) -> None:
    atomic.write_text(tmp_path / "a" / "b.txt", "x")
    assert (tmp_path / "a" / "b.txt").read_text() == "x"
