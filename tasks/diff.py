"""`glassbox diff A B`: what changed from run A to run B, from their reports alone (the same "what changed" a
report gives since the last good run: commit, data hashes, params, packages, verdicts, metrics), plus the
checks whose worst finding moved. It exits 1 when B is worse than A (the run's status or any stage's verdict),
so it can guard a pull request or a nightly comparison.

A run is named by its report folder (or its report.json), or by its glassbox run id or MLflow run id, looked
up in the project's MLflow store, where every run keeps its report as the parent run's artifact.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tasks.errors import ConfigError
from tasks.report import changes_since

STATUS_RANK = {"passed": 0, "warned": 1, "failed": 2}
VERDICT_RANK = {"pass": 0, "warn": 1, "fail": 2}  # a skipped stage was not judged: not compared
SEVERITY_RANK = {"info": 0, "warn": 1, "fail": 2}
REPORT_ARTIFACT = "report/report.json"
METRICS_SHOWN = 30  # metric changes listed in the text (--json has them all)
TIMING_SUFFIXES = (".seconds", "_s", "_ms")


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


def commits_between(before: str | None, after: str | None, repo: Path) -> list[str] | None:
    """`git log --oneline before..after` in the project's repository; None when either commit is unknown
    there (another clone, a run outside git)."""
    if not before or not after or "unknown" in (before, after):
        return None
    try:
        done = subprocess.run(
            ["git", "log", "--oneline", "--no-decorate", f"{before}..{after}"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.splitlines() if done.returncode == 0 else None


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


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text[:12] if len(text) in (32, 40, 64) else text  # md5, git sha, sha256: a prefix


def to_text(d: dict[str, Any]) -> str:
    a, b, ch = d["a"], d["b"], d["changes"]
    lines = [f"glassbox diff {a['run_id']} ({a['status']}) -> {b['run_id']} ({b['status']})"]
    lines.append("worse: " + "; ".join(d["worse"]) if d["worse"] else "worse: nothing")
    if "git_commit" in ch:
        c = ch["git_commit"]
        lines.append(f"commit: {_short(c['before'])} -> {_short(c['after'])}")
        log = c.get("log")
        lines += [f"  {line}" for line in log or []] if log is not None else ["  (commits not in this repository)"]
    for name, c in ch.get("data_hashes", {}).items():
        lines.append(f"data {name}: md5 {_short(c['before'])} -> {_short(c['after'])}")
    if "params_sha256" in ch:
        c = ch["params_sha256"]
        lines.append(f"params: sha256 {_short(c['before'])} -> {_short(c['after'])}")
    for name, c in ch.get("packages", {}).items():
        lines.append(f"package {name}: {c['before']} -> {c['after']}")
    for name, c in ch.get("verdicts", {}).items():
        lines.append(f"stage {name}: {c['before']} -> {c['after']}")
    for m in d["checks"]:
        says = f": {m['message']}" if m["message"] else ""
        lines.append(f"check {m['stage']}/{m['check']}: {m['before']} -> {m['after']}{says}")
    # Timings move on every run (a busy machine): left to --json. The rest, the largest relative moves first.
    metrics = sorted(
        ((k, c) for k, c in ch.get("metrics", {}).items() if not k.endswith(TIMING_SUFFIXES)),
        key=lambda kc: -abs(kc[1]["delta"]) / max(abs(kc[1]["before"]), 1e-9),
    )
    for name, c in metrics[:METRICS_SHOWN]:
        lines.append(f"metric {name}: {_short(c['before'])} -> {_short(c['after'])} ({c['delta']:+.4g})")
    if len(metrics) > METRICS_SHOWN:
        lines.append(f"... and {len(metrics) - METRICS_SHOWN} more metric changes (--json lists them all)")
    return "\n".join(lines) + "\n"
