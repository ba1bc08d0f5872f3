"""One report per run (JSON, Markdown, HTML from the same data): which layer broke, what mismatched,
and what changed since the last good run."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from tasks.diagnosis import diagnose
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


def changes_since(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """What differs from the last run that did not fail: code, data, params, packages, verdicts, metrics."""
    if previous is None:
        return {"last_good_run_id": None, "note": "no earlier good run in this folder"}
    pp, cp = previous["provenance"], current["provenance"]
    changes: dict[str, Any] = {"last_good_run_id": previous["run_id"]}
    for key in ("git_commit", "params_sha256"):
        if pp.get(key) != cp.get(key):
            changes[key] = {"before": pp.get(key), "after": cp.get(key)}
    data = {
        k: {"before": pp.get("data_hashes", {}).get(k), "after": v}
        for k, v in cp.get("data_hashes", {}).items()
        if pp.get("data_hashes", {}).get(k) != v
    }
    if data:
        changes["data_hashes"] = data
    pkgs = {
        k: {"before": pp.get("packages", {}).get(k), "after": v}
        for k, v in cp.get("packages", {}).items()
        if pp.get("packages", {}).get(k) != v
    }
    if pkgs:
        changes["packages"] = pkgs
    before = {s["name"]: s for s in previous["stages"]}
    verdicts, metrics = {}, {}
    for s in current["stages"]:
        b = before.get(s["name"])
        if b is None:
            continue
        if b["verdict"] != s["verdict"]:
            verdicts[s["name"]] = {"before": b["verdict"], "after": s["verdict"]}
        for k, v in s.get("metrics", {}).items():
            old = b.get("metrics", {}).get(k)
            if old is not None and abs(old - v) > 1e-12:
                metrics[f"{s['name']}.{k}"] = {"before": old, "after": v, "delta": v - old}
    if verdicts:
        changes["verdicts"] = verdicts
    if metrics:
        changes["metrics"] = metrics
    return changes


def build_report(run: Any, stages: list[StageResult], out: Path, error: str | None = None) -> dict[str, Any]:
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
    }
    report["changes_since_last_good"] = changes_since(previous, report)
    known = frozenset(
        (s["name"], f["check"], f["severity"])
        for s in (previous or {}).get("stages", [])
        for f in s.get("findings", [])
    )
    report["diagnosis"] = diagnose(report, known)
    return report


def write_report(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(to_markdown(report))
    (out / "report.html").write_text(to_html(report))
    if report["status"] != "failed":
        (out / LAST_GOOD).write_text(json.dumps(report, indent=2) + "\n")


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
    lines += ["## Changes since the last good run", "", "```json", json.dumps(ch, indent=2), "```", ""]
    return "\n".join(lines)


def to_html(r: dict[str, Any]) -> str:
    e = html.escape
    colour = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "skipped": "#757575"}
    rows = []
    for s in r["stages"]:
        rows.append(
            f"<tr><td>{e(s['name'])}</td><td style='color:{colour[s['verdict']]};font-weight:bold'>"
            f"{_ICON[s['verdict']]}</td><td>{s['duration_s']:.1f}</td><td>{e(s['reason'] or '')}</td></tr>"
        )
    sections = []
    for s in r["stages"]:
        if not s["findings"]:
            continue
        items = "".join(
            f"<li><b style='color:{colour.get(f['severity'], '#000') if f['severity'] != 'info' else '#555'}'>"
            f"{e(f['severity'])}</b> <code>{e(f['check'])}</code> {e(', '.join(f['columns']))}: {e(f['message'])}"
            f"<details><summary>evidence</summary><pre>{e(json.dumps(f['evidence'], indent=2))}</pre></details></li>"
            for f in s["findings"]
        )
        arts = ", ".join(f"<a href='{e(s['name'])}/{e(a)}'>{e(a)}</a>" for a in s["artifacts"])
        sections.append(f"<h2>{e(s['name'])}</h2><ul>{items}</ul><p>artifacts: {arts}</p>")
    ff = r["first_failure"]
    head = f"First failure: {e(ff['stage'])} / {e(ff['check'])}: {e(ff['message'])}" if ff else "No gate failed."
    d = r.get("diagnosis")
    if d:
        symptoms = "".join(
            f"<li><code>{e(x['layer'])}</code> / <code>{e(x['check'])}</code> ({e(x['severity'])}): {e(x['message'])}"
            "</li>"
            for x in d["symptoms"]
        )
        head += f"<h2>Diagnosis</h2><p><b>{e(d['sentence'])}</b></p><p>Next: {e(d['root']['next'])}</p>" + (
            f"<p>Symptoms it explains:</p><ul>{symptoms}</ul>" if symptoms else ""
        )
    seen = r.get("seen_before") or []
    if seen:
        items = "".join(
            f"<li><code>{e(s['layer'])}</code> / <code>{e(s['check'])}</code> {e(', '.join(s['columns']))}: "
            + "".join(
                f"<br>{e(x['run_id'])}: {e('; '.join(n['text'] for n in x['notes']) or 'no note yet')}"
                for x in s["entries"]
            )
            + "</li>"
            for s in seen
        )
        head += f"<h2>Seen before (debug journal)</h2><ul>{items}</ul>"
    prov = e(json.dumps(r["provenance"], indent=2))
    changes = e(json.dumps(r["changes_since_last_good"], indent=2))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>glassbox report</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}td,th{padding:2px 10px}</style></head>"
        f"<body><h1>glassbox run {e(r['run_id'])}: {e(r['status'].upper())}</h1><p>{head}</p>"
        + (f"<p><b>Input error:</b> {e(r['error'])}</p>" if r.get("error") else "")
        + "<table><tr><th>stage</th><th>verdict</th><th>time (s)</th><th>note</th></tr>"
        + "".join(rows)
        + "</table>"
        + "".join(sections)
        + f"<h2>Provenance</h2><pre>{prov}</pre><h2>Changes since the last good run</h2><pre>{changes}</pre>"
        + "</body></html>\n"
    )
