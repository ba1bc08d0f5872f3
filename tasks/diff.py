"""`glassbox diff A B`: what changed from run A to run B, from their reports alone (the same "what changed" a
report gives since the last good run: commit, data hashes, params, packages, verdicts, metrics), plus the
checks whose worst finding moved. It exits 1 when B is worse than A (the run's status or any stage's verdict),
so it can guard a pull request or a nightly comparison.

A run is named by its report folder (or its report.json), or by its glassbox run id or MLflow run id, looked
up in the project's MLflow store, where every run keeps its report as the parent run's artifact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tasks.changes import changes_lines, changes_since
from tasks.errors import ConfigError
from tasks.provenance import commits_between

STATUS_RANK = {"passed": 0, "warned": 1, "failed": 2}
VERDICT_RANK = {"pass": 0, "warn": 1, "fail": 2}  # a skipped stage was not judged: not compared
SEVERITY_RANK = {"info": 0, "warn": 1, "fail": 2}
REPORT_ARTIFACT = "report/report.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a readable glassbox report ({type(e).__name__})") from None
    if not isinstance(report, dict) or "stages" not in report or "provenance" not in report:
        raise ConfigError(f"{path}: not a glassbox report.json (no stages or provenance)")
    return report


def load_report(ref: str, tracking_uri: str) -> dict[str, Any]:
    """The report of a folder, a report.json, or a run id (glassbox's or MLflow's) in the MLflow store."""
    path = Path(ref)
    if path.is_dir():
        path = path / "report.json"
    if path.is_file():
        return _read(path)
    if path.suffix or len(path.parts) > 1:
        raise ConfigError(f"{ref}: no report there (expected a report folder, a report.json or a run id)")
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    try:
        experiments = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(experiments, filter_string=f"attributes.run_name = 'glassbox-{ref}'", max_results=1)
        run_id = runs[0].info.run_id if runs else client.get_run(ref).info.run_id
        local = client.download_artifacts(run_id, REPORT_ARTIFACT)
    except MlflowException as e:
        raise ConfigError(f"{ref}: no such run with a report in {tracking_uri} ({e.error_code})") from None
    return _read(Path(local))


def _worst(stage: dict[str, Any]) -> dict[str, str]:
    """Each check's worst severity in one stage."""
    worst: dict[str, str] = {}
    for f in stage.get("findings", []):
        if SEVERITY_RANK.get(f["severity"], 0) >= SEVERITY_RANK.get(worst.get(f["check"], "info"), 0):
            worst[f["check"]] = f["severity"]
    return worst


def checks_moved(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks whose worst finding changed severity (a check absent on one side is info there), with B's
    first message at that severity."""
    before = {s["name"]: s for s in a["stages"]}
    moved = []
    for s in b["stages"]:
        old = before.get(s["name"])
        if old is None or "skipped" in (s["verdict"], old["verdict"]):
            continue
        was, now = _worst(old), _worst(s)
        for check in sorted(set(was) | set(now)):
            w, n = was.get(check, "info"), now.get(check, "info")
            if w != n:
                message = next(
                    (f["message"] for f in s["findings"] if f["check"] == check and f["severity"] == n), None
                )
                moved.append({"stage": s["name"], "check": check, "before": w, "after": n, "message": message})
    return moved


def diff(a: dict[str, Any], b: dict[str, Any], repo: Path) -> dict[str, Any]:
    changes = changes_since(a, b)
    changes.pop("last_good_run_id", None)
    commits = changes.get("git_commit")
    if commits:
        commits["log"] = commits_between(commits["before"], commits["after"], repo)
    return {
        "a": {"run_id": a["run_id"], "status": a["status"]},
        "b": {"run_id": b["run_id"], "status": b["status"]},
        "changes": changes,
        "checks": checks_moved(a, b),
        "worse": worse(a, b),
    }


def worse(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What got worse from A to B: the run's status, and each stage's verdict (both judged in both runs)."""
    out = []
    if STATUS_RANK[b["status"]] > STATUS_RANK[a["status"]]:
        out.append(f"status {a['status']} -> {b['status']}")
    before = {s["name"]: s["verdict"] for s in a["stages"]}
    for s in b["stages"]:
        old = before.get(s["name"])
        if old in VERDICT_RANK and s["verdict"] in VERDICT_RANK and VERDICT_RANK[s["verdict"]] > VERDICT_RANK[old]:
            out.append(f"{s['name']} {old} -> {s['verdict']}")
    return out


def to_text(d: dict[str, Any]) -> str:
    a, b, ch = d["a"], d["b"], d["changes"]
    lines = [f"glassbox diff {a['run_id']} ({a['status']}) -> {b['run_id']} ({b['status']})"]
    lines.append("worse: " + "; ".join(d["worse"]) if d["worse"] else "worse: nothing")
    lines += changes_lines(ch)
    for m in d["checks"]:
        says = f": {m['message']}" if m["message"] else ""
        lines.append(f"check {m['stage']}/{m['check']}: {m['before']} -> {m['after']}{says}")
    return "\n".join(lines) + "\n"
