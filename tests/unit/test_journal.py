"""The debug journal: a failing run opens an entry, a note records the fix, the same failure again shows it."""

from __future__ import annotations

import json

import pytest

from flows import cli
from tasks import journal
from tasks.errors import ConfigError
from tasks.report import to_html, to_markdown
from tests.conftest import REPO


def report(run_id: str, status: str = "failed", columns: tuple[str, ...] = ("dewp",)) -> dict:
    severity = "fail" if status == "failed" else "info"
    return {
        "run_id": run_id,
        "status": status,
        "error": None,
        "first_failure": None,
        "changes_since_last_good": {},
        "provenance": {
            "git_commit": "c" * 40,
            "git_dirty": False,
            "params_sha256": "d" * 64,
            "mlflow_run_id": None,
            "data_hashes": {"current": "e" * 32},
        },
        "stages": [
            {
                "name": "data",
                "verdict": "fail" if severity == "fail" else "pass",
                "duration_s": 1.0,
                "reason": None,
                "artifacts": [],
                "metrics": {"missing_spike.current.max": 0.3, "covariate_shift.current.temp": 0.1},
                "findings": [
                    {
                        "check": "missing_spike",
                        "severity": severity,
                        "message": "current: `dewp` 30% missing",
                        "columns": list(columns),
                        "evidence": {},
                    }
                ],
            }
        ],
    }


def test_a_failing_run_opens_an_entry_a_passing_one_none(tmp_path):
    assert journal.open_entry(report("r0", status="passed"), tmp_path) is None
    path = journal.open_entry(report("20261201T000000Z-a"), tmp_path)
    entry = journal.read_entry(path)
    (failure,) = entry.failures
    assert (failure.layer, failure.check, failure.columns) == ("data", "missing_spike", ["dewp"])
    assert failure.numbers == {"missing_spike.current.max": 0.3}  # the failing check's own metrics
    assert entry.data_hashes == {"current": "e" * 32} and not list(tmp_path.glob(".*.tmp"))


def test_notes_are_kept_found_by_prefix_and_refused_when_unclear(tmp_path):
    journal.open_entry(report("20261201T000000Z-a"), tmp_path)
    journal.open_entry(report("20261202T000000Z-b"), tmp_path)
    entry = journal.add_note(tmp_path, "20261201", "export job wrote dewp as null after the schema change; fixed")
    assert entry.run_id == "20261201T000000Z-a"
    journal.open_entry(report("20261201T000000Z-a"), tmp_path)  # the same run written again keeps its notes
    assert journal.read_entry(tmp_path / "20261201T000000Z-a.json").notes[0].text.startswith("export job")
    with pytest.raises(ConfigError, match="2 entries"):
        journal.add_note(tmp_path, "2026120", "which one?")
    with pytest.raises(ConfigError, match="no entry"):
        journal.add_note(tmp_path, "1999", "nothing")
    with pytest.raises(ConfigError, match="empty"):
        journal.add_note(tmp_path, "20261201", "  ")


def test_the_same_failure_again_shows_the_earlier_entries_and_their_fixes(tmp_path):
    """Same layer, check and columns: shown newest first with the notes; other columns: not the same."""
    journal.open_entry(report("20261201T000000Z-a"), tmp_path)
    journal.add_note(tmp_path, "20261201T000000Z-a", "upstream <script>alert(1)</script> export; re-ran it")
    journal.open_entry(report("20261202T000000Z-b", columns=("temp",)), tmp_path)
    again = report("20261203T000000Z-c")
    (seen,) = journal.seen_before(again, tmp_path)
    assert seen["check"] == "missing_spike" and [e["run_id"] for e in seen["entries"]] == ["20261201T000000Z-a"]
    again["seen_before"] = journal.seen_before(again, tmp_path)
    assert "re-ran it" in to_markdown(again) and "Seen before" in to_markdown(again)
    page = to_html(again)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert journal.seen_before(report("20261203T000000Z-d", status="passed"), tmp_path) == []


def test_cli_lists_and_notes(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    assert cli.main(["journal", "--params", str(params)]) == 0
    assert "no entries yet" in capsys.readouterr().out
    journal.open_entry(report("20261201T000000Z-a"), tmp_path / "journal")
    assert cli.main(["journal", "note", "20261201", "cause: X; fix: Y", "--params", str(params)]) == 0
    assert cli.main(["journal", "--params", str(params)]) == 0
    out = capsys.readouterr().out
    assert 'data/missing_spike[dewp]  "cause: X; fix: Y"' in out
    assert cli.main(["journal", "note", "--params", str(params)]) == 2
    assert json.loads((tmp_path / "journal" / "20261201T000000Z-a.json").read_text())["notes"][0]["text"] == (
        "cause: X; fix: Y"
    )
