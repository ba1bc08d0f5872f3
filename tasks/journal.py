"""The debug journal (seed 1: "keep a debug journal"). Every failing run opens an entry (the run, and each
failing check with its layer, columns, message and numbers); a person records what the cause and the fix were
(`glassbox journal note RUN "..."`); when the same check fails again on the same columns, the report shows
those earlier entries and their notes first, so the second time costs minutes, not a day.

Plain JSON files in the project, `journal/<run id>.json`, one per failing run: reviewable and mergeable in
git like code. The folder is left out of the dirty-tree check (tasks/provenance.py), so committing or editing
a note never marks the next registered model as built from a dirty tree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tasks.atomic import write_text
from tasks.errors import ConfigError

JOURNAL_DIR = "journal"
NUMBERS = 12  # the failing check's metrics kept per failure


class Failure(BaseModel):
    layer: str
    check: str
    columns: list[str] = []
    message: str
    numbers: dict[str, float] = {}

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """What makes two failures "the same": the layer, the check and the columns it named."""
        return self.layer, self.check, tuple(sorted(self.columns))


class Note(BaseModel):
    at: str
    text: str


class Entry(BaseModel):
    run_id: str
    opened_at: str
    git_commit: str | None = None
    data_hashes: dict[str, str | None] = {}
    failures: list[Failure]
    notes: list[Note] = []


def _write(path: Path, entry: Entry) -> None:
    """Atomically: a reader (or a killed run) never leaves half an entry."""
    write_text(path, entry.model_dump_json(indent=2) + "\n")


def failures_of(report: dict[str, Any]) -> list[Failure]:
    out = []
    for stage in report["stages"]:
        for f in stage.get("findings", []):
            if f["severity"] != "fail":
                continue
            prefix = f"{f['check']}."
            numbers = {k: v for k, v in stage.get("metrics", {}).items() if k.startswith(prefix)}
            numbers = dict(list(numbers.items())[:NUMBERS])
            out.append(
                Failure(
                    layer=stage["name"], check=f["check"], columns=f["columns"], message=f["message"], numbers=numbers
                )
            )
    return out


def open_entry(report: dict[str, Any], folder: Path) -> Path | None:
    """The entry of a failed run (None for a run that did not fail). Written again for the same run, it keeps
    the notes already made."""
    failures = failures_of(report)
    if report["status"] != "failed" or not failures:
        return None
    path = Path(folder) / f"{report['run_id']}.json"
    notes = read_entry(path).notes if path.is_file() else []
    prov = report["provenance"]
    entry = Entry(
        run_id=report["run_id"],
        opened_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=prov.get("git_commit"),
        data_hashes=prov.get("data_hashes", {}),
        failures=failures,
        notes=notes,
    )
    _write(path, entry)
    return path


def read_entry(path: Path) -> Entry:
    try:
        return Entry.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError) as e:
        raise ConfigError(f"{path}: not a journal entry ({type(e).__name__})") from None


def entries(folder: Path) -> list[Entry]:
    """Every entry, oldest first (run ids start with their UTC time)."""
    folder = Path(folder)
    return sorted((read_entry(p) for p in folder.glob("*.json")), key=lambda e: e.run_id) if folder.is_dir() else []


def add_note(folder: Path, run: str, text: str) -> Entry:
    """Append a note to the entry of `run` (its run id, or a prefix naming one entry)."""
    if not text.strip():
        raise ConfigError("journal note: the note is empty; say what the cause was and what fixed it")
    found = [e for e in entries(folder) if e.run_id.startswith(run)]
    exact = [e for e in found if e.run_id == run]
    if len(exact or found) != 1:
        what = "no entry" if not found else f"{len(found)} entries ({', '.join(e.run_id for e in found)})"
        raise ConfigError(f"{folder}: {what} for run {run!r}; `glassbox journal` lists them")
    entry = (exact or found)[0]
    entry.notes.append(Note(at=datetime.now(UTC).isoformat(timespec="seconds"), text=text.strip()))
    _write(Path(folder) / f"{entry.run_id}.json", entry)
    return entry


def seen_before(report: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """For each failure of this run, the earlier entries with the same layer, check and columns, newest
    first, with their notes."""
    past = [e for e in entries(folder) if e.run_id != report["run_id"]]
    out = []
    for failure in failures_of(report):
        same = [e for e in reversed(past) if any(f.key == failure.key for f in e.failures)]
        if same:
            out.append(
                {
                    "layer": failure.layer,
                    "check": failure.check,
                    "columns": failure.columns,
                    "entries": [
                        {
                            "run_id": e.run_id,
                            "opened_at": e.opened_at,
                            "message": next(f.message for f in e.failures if f.key == failure.key),
                            "notes": [n.model_dump() for n in e.notes],
                        }
                        for e in same
                    ],
                }
            )
    return out


def listing(folder: Path) -> list[str]:
    """One line per entry: run, its failures, and its latest note (or that it has none yet)."""
    lines = []
    for e in entries(folder):
        failed = ", ".join(
            f"{f.layer}/{f.check}" + (f"[{','.join(f.columns)}]" if f.columns else "") for f in e.failures
        )
        note = f'"{e.notes[-1].text}"' if e.notes else "no note yet"
        lines.append(f"{e.run_id}  {failed}  {note}")
    return lines
