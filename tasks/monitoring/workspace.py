"""The windows' Evidently reports in a local Evidently workspace beside the inference store, one project per
served model and one snapshot per daily window and run, stamped with the window's first day, so
`evidently ui --workspace <store>/evidently` shows the drift of every window over time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.monitoring.windows import Window

FOLDER = "evidently"


def workspace_path(store: Path) -> Path:
    return Path(store) / FOLDER


def log_windows(store: Path, model_id: str, run_id: str, snapshots: list[tuple[Window, Any]]) -> int:
    """Add each window's Evidently snapshot to the model's project in the store's workspace; returns how many."""
    from evidently.ui.workspace import Workspace

    done = [(w, s) for w, s in snapshots if s is not None]
    if not done:
        return 0
    ws = Workspace.create(str(workspace_path(store)))
    name = f"glassbox {model_id}"
    found = ws.search_project(name)
    project = found[0] if found else ws.create_project(name, description="daily windows of the served traffic")
    for window, snapshot in done:
        # Report.run(timestamp=...) is Evidently's only setter; the drift run (tasks/drift.py) is shared with the
        # whole batch, so the window's first day is stamped on the snapshot it returned.
        snapshot._timestamp = datetime.fromisoformat(window.first)
        ws.add_run(project.id, snapshot, name=f"{window.label} ({run_id})")
    return len(done)
