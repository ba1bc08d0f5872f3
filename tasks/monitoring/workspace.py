"""The windows' Evidently reports in a local Evidently workspace beside the inference store, one project per
served model and one snapshot per daily window, stamped with the window's first day, so
`evidently ui --workspace <store>/evidently` shows the drift of every window over time.

A window is logged once per model: a nightly run sees the last `lookback_days` again, and logging each of them
every night cost a full report (its figures are most of its time) per window per night and grew the workspace
by 30 snapshots a night. `logged.json` beside the projects says which (window, row count) each model has. A run
adds at most `limit` windows, the newest first: a first run over 30 days of traffic would otherwise draw 30
reports (95 s of a 100k-row first run's 130 s in a profile); the older ones are added by the next runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.atomic import write_text
from tasks.monitoring.windows import Window

FOLDER = "evidently"
INDEX = "logged.json"


def workspace_path(store: Path) -> Path:
    return Path(store) / FOLDER


def window_key(window: Window) -> str:
    """A window as logged: its days and its rows (a day still filling up is logged again when it grew)."""
    return f"{window.label}:{len(window)}"


def log_windows(
    store: Path, model_id: str, run_id: str, windows: list[Window], report: Callable[[Window], Any], limit: int
) -> tuple[int, int]:
    """Add the Evidently snapshot `report(window)` of the newest `limit` windows (in time order) the model's
    project does not have yet to the store's workspace; returns how many were added and how many wait."""
    index_path = workspace_path(store) / INDEX
    index: dict[str, list[str]] = json.loads(index_path.read_text()) if index_path.is_file() else {}
    have = set(index.get(model_id, []))
    missing = [w for w in windows if window_key(w) not in have]
    new = missing[-limit:] if limit > 0 else []
    if not new:
        return 0, len(missing)
    from evidently.ui.workspace import Workspace

    ws = Workspace.create(str(workspace_path(store)))
    name = f"glassbox {model_id}"
    found = ws.search_project(name)
    project = found[0] if found else ws.create_project(name, description="daily windows of the served traffic")
    added = 0
    for window in new:
        snapshot = report(window)
        if snapshot is None:
            continue
        # Report.run(timestamp=...) is Evidently's only setter: the window's first day is stamped on the snapshot.
        snapshot._timestamp = datetime.fromisoformat(window.first)
        ws.add_run(project.id, snapshot, name=f"{window.label} ({run_id})")
        have.add(window_key(window))
        added += 1
    index[model_id] = sorted(have)
    write_text(index_path, json.dumps(index, indent=1, sort_keys=True) + "\n")
    return added, len(missing) - len(new)
