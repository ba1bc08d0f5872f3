"""One report per run (JSON, Markdown, HTML from the same data): which layer broke, what mismatched,
and what changed since the last good run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tasks.atomic import write_text
from tasks.changes import changes_lines, changes_since
from tasks.diagnosis import diagnose
from tasks.provenance import commits_between
from tasks.report_html import to_html
from tasks.result import Severity, StageResult, Verdict

SCHEMA_VERSION = 1
LAST_GOOD = "last_good.json"


def status_of(stages: list[StageResult]) -> str:
    verdicts = {s.verdict for s in stages}
    if Verdict.fail in verdicts:
        return "failed"
    if Verdict.warn in verdicts:
        return "warned"
    return "passed"


def first_failure(stages: list[StageResult]) -> dict[str, str] | None:
    for s in stages:
        f = s.first_failure
        if s.verdict is Verdict.fail and f is not None:
            return {"stage": s.name, "check": f.check, "message": f.message}
    return None


def model_of(out: Path) -> dict[str, Any] | None:
    """The candidate this run trained (training's model.json) and, once deployed, the fingerprint of its
    answers (a hash of its predictions on fixed rows: the same model answers the same)."""
    from tasks.deployment.stage import REGISTERED_FILE  # the stages' modules load scikit-learn and MLflow:
    from tasks.modeling import MODEL_FILE  # not for `glassbox diff`, which only reads reports

    path = out / "training" / MODEL_FILE
    if not path.is_file():
        return None
    ref = json.loads(path.read_text())
    model = {"model_id": ref.get("model_id"), "model_uri": ref.get("model_uri")}
    registered = out / "deployment" / REGISTERED_FILE
    if registered.is_file():
        fingerprint = json.loads(registered.read_text()).get("fingerprint") or {}
        model["prediction_hash"] = fingerprint.get("candidate_hash")
    return model


def build_report(
    run: Any,
    stages: list[StageResult],
    out: Path,
    error: str | None = None,
    *,
    params: dict[str, Any] | None = None,
    column_stats: dict[str, Any] | None = None,
    repo: Path | None = None,
) -> dict[str, Any]:
    """The run's report. `params` (flat, as validated: secrets masked) and the inputs' `column_stats` let the
    next run say which params and which columns changed; `repo` lets it list the commits since the last good run."""
    previous = None
    if (out / LAST_GOOD).is_file():
        previous = json.loads((out / LAST_GOOD).read_text())
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": "failed" if error else status_of(stages),
        "provenance": run.provenance.model_dump(mode="json"),
        "stages": [s.model_dump(mode="json") for s in stages],
        "first_failure": first_failure(stages),
        "error": error,
        "model": model_of(out),
        "params": params,
        "column_stats": column_stats,
    }
    changes = changes_since(previous, report)
    if "git_commit" in changes and repo is not None:
        changes["git_commit"]["log"] = commits_between(
            changes["git_commit"]["before"], changes["git_commit"]["after"], repo
        )
    report["changes_since_last_good"] = changes
    known = frozenset(
        (s["name"], f["check"], f["severity"])
        for s in (previous or {}).get("stages", [])
        for f in s.get("findings", [])
    )
    report["diagnosis"] = diagnose(report, known)
    return report


def write_report(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    write_text(out / "report.md", to_markdown(report))
    write_text(out / "report.html", to_html(report, out))
    if report["status"] != "failed":
        write_text(out / LAST_GOOD, json.dumps(report, indent=2) + "\n")


_ICON = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skipped": "SKIP"}


def _problems(stage: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in stage["findings"] if f["severity"] != Severity.info.value]


def verdict_table(r: dict[str, Any]) -> str:
    """The run in a few lines of markdown, fit for a pull-request comment: the status, the first failure, and
    one row per layer with its verdict and its worst finding."""
    ff = r["first_failure"]
    lines = [
        f"### glassbox {r['status'].upper()} (run `{r['run_id']}`, commit `{str(r['provenance']['git_commit'])[:12]}`)"
    ]
    if r.get("error"):
        lines.append(f"\n**Input error:** {r['error']}")
    lines.append(
        f"\n**First failure:** `{ff['stage']}` / `{ff['check']}`: {ff['message']}" if ff else "\nNo gate failed."
    )
    if r.get("diagnosis"):
        lines.append(f"\n**Diagnosis:** {r['diagnosis']['sentence']} Next: {r['diagnosis']['root']['next']}.")
    lines += ["", "| layer | verdict | warn / fail | worst finding |", "|---|---|---|---|"]
    for s in r["stages"]:
        problems = _problems(s)
        worst = max(problems, key=lambda f: f["severity"] == Severity.fail.value, default=None)
        said = f"`{worst['check']}`: {worst['message']}" if worst else (s.get("reason") or "")
        said = said.replace("|", "\\|").replace("\n", " ")
        said = said if len(said) <= 200 else said[:199] + "…"
        lines.append(f"| {s['name']} | {_ICON[s['verdict']]} | {len(problems)} | {said} |")
    return "\n".join(lines) + "\n"


def _diagnosis_markdown(d: dict[str, Any] | None) -> list[str]:
    """The root cause, what to do next, and the symptoms it explains (tasks/diagnosis.py)."""
    if not d:
        return []
    lines = ["## Diagnosis", "", d["sentence"], "", f"**Next:** {d['root']['next']}", ""]
    if d["symptoms"]:
        lines += ["Symptoms it explains:", ""]
        lines += [f"- `{x['layer']}` / `{x['check']}` ({x['severity']}): {x['message']}" for x in d["symptoms"]]
        lines.append("")
    return lines


def _seen_before_markdown(seen: list[dict[str, Any]]) -> list[str]:
    """The debug journal's earlier entries for this run's failures, with what people found (tasks/journal.py)."""
    if not seen:
        return []
    lines = ["## Seen before (debug journal)", ""]
    for s in seen:
        cols = f" [{', '.join(s['columns'])}]" if s["columns"] else ""
        lines.append(f"- `{s['layer']}` / `{s['check']}`{cols} failed before in {len(s['entries'])} run(s):")
        for e in s["entries"]:
            said = "; ".join(n["text"] for n in e["notes"]) or "no note yet (`glassbox journal note RUN ...`)"
            lines.append(f"  - {e['run_id']}: {said}")
    return [*lines, ""]


def to_markdown(r: dict[str, Any]) -> str:
    p = r["provenance"]
    lines = [
        f"# glassbox run {r['run_id']}: {r['status'].upper()}",
        "",
        f"- git commit: `{p['git_commit']}` (dirty: {p['git_dirty']})",
        f"- params sha256: `{p['params_sha256'][:16]}`",
        f"- MLflow run: `{p.get('mlflow_run_id')}`",
        *[f"- data `{k}` md5: `{v}`" for k, v in p["data_hashes"].items()],
        "",
    ]
    if r.get("error"):
        lines += [f"**Input error:** {r['error']}", ""]
    ff = r["first_failure"]
    lines += [
        f"**First failure:** `{ff['stage']}` / `{ff['check']}`: {ff['message']}" if ff else "No gate failed.",
        "",
    ]
    lines += _diagnosis_markdown(r.get("diagnosis"))
    lines += _seen_before_markdown(r.get("seen_before") or [])
    lines += ["| stage | verdict | time (s) | findings |", "|---|---|---|---|"]
    for s in r["stages"]:
        counts = f"{len(_problems(s))} warn/fail of {len(s['findings'])}" if s["findings"] else (s["reason"] or "")
        lines.append(f"| {s['name']} | {_ICON[s['verdict']]} | {s['duration_s']:.1f} | {counts} |")
    lines.append("")
    for s in r["stages"]:
        if not s["findings"]:
            continue
        lines += [f"## {s['name']}: {_ICON[s['verdict']]}", ""]
        for f in s["findings"]:
            cols = f" [{', '.join(f['columns'])}]" if f["columns"] else ""
            lines.append(f"- **{f['severity']}** `{f['check']}`{cols}: {f['message']}")
        lines.append("")
    ch = r["changes_since_last_good"]
    lines += ["## Changes since the last good run", ""]
    if ch.get("last_good_run_id"):
        said = changes_lines(ch)
        lines += [f"Last good run: `{ch['last_good_run_id']}`", "", "```", *(said or ["nothing changed"]), "```", ""]
    else:
        lines += [ch.get("note", ""), ""]
    return "\n".join(lines)
