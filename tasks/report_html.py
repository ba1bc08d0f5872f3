"""The report page a person opens: one self-contained HTML file (pictures inline, no script, nothing fetched),
ordered as a person debugs. The seven layers in a strip coloured by verdict; the diagnosis on top; warnings and
failures next, each check with its numbers and its pictures; then what changed since the last good run; the
passed checks folded per layer; provenance in words with links to the MLflow run, the GX Data Docs and the
Evidently report. Every value is escaped: data reaches this page (category values, column names)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from tasks.changes import metric_changes
from tasks.diagnosis import GENERIC, NEXT

VERDICT_WORD = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skipped": "SKIPPED"}
SHOWN = 25  # rows of a "what changed" table shown; the rest are in report.json
LOCAL_MLFLOW_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves by default
MIME = {".png": "image/png", ".svg": "image/svg+xml"}

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72em;margin:0 auto;padding:0 1em 3em;
color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.8em 0 .2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
.sub{color:#555;margin:0 0 .8em}
.strip{display:flex;gap:4px;margin:.6em 0}
.strip a{flex:1;text-decoration:none;color:#fff;padding:.45em .3em;border-radius:4px;text-align:center;font-size:.9em}
.strip a small{display:block;opacity:.9}
.strip a.first{outline:3px solid #000;outline-offset:2px}
.v-pass{background:#2e7d32}.v-warn{background:#ef6c00}.v-fail{background:#c62828}.v-skipped{background:#9e9e9e}
.diag{border-left:6px solid #c62828;background:#fff4f4;padding:.5em 1em;margin:1em 0}
.diag.warned{border-color:#ef6c00;background:#fff8ef}.diag.passed{border-color:#2e7d32;background:#f3faf3}
.diag .sentence{font-size:1.15em;font-weight:600}
.check{border:1px solid #ddd;border-radius:6px;padding:.4em .9em;margin:.8em 0}
.check.fail{border-left:6px solid #c62828}.check.warn{border-left:6px solid #ef6c00}
.badge{color:#fff;border-radius:3px;padding:0 .4em;font-size:.8em;font-weight:700}
.next{color:#333}.next b{color:#000}
.figs{display:flex;flex-wrap:wrap;gap:8px}.figs img{max-width:100%;width:460px;border:1px solid #eee}
table{border-collapse:collapse;margin:.4em 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left;
vertical-align:top}
details{margin:.3em 0}summary{cursor:pointer}pre{background:#f7f7f7;padding:.5em;overflow:auto;max-height:24em}
.muted{color:#666}
"""


def _img(path: Path, alt: str) -> str:
    """A picture inlined as a data URI: the page is one file that opens anywhere, offline."""
    mime = MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img src='data:{mime};base64,{data}' alt='{escape(alt)}'>"


def _figures(r: dict[str, Any], out: Path, stage: dict[str, Any], check: str, shown: dict[Path, str]) -> str:
    """The check's own pictures (drawn by its measurement) and the pictures of the columns it names; a picture
    already on the page (several checks name the same drifted column) is pointed to, not repeated."""
    own = [out / stage["name"] / f for f in stage.get("figures", {}).get(check, [])]
    columns = [out / f for f in (r.get("column_figures") or {}).get(stage["name"], {}).get(check, [])]
    imgs, above = [], []
    for p in [*columns, *own]:
        if p in shown:
            above.append(shown[p])
            continue
        img = _img(p, f"{check}: {p.stem}")
        if img:
            imgs.append(img)
            shown[p] = f"{stage['name']}/{check}"
    html = f"<div class='figs'>{''.join(imgs)}</div>" if imgs else ""
    if above:
        where = ", ".join(sorted(set(above)))
        html += f"<p class='muted'>{len(above)} more picture(s) shown above, under {escape(where)}.</p>"
    return html


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{escape(_short(v))}</td>" for v in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + f"</tr>{body}</table>"


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _strip(r: dict[str, Any]) -> str:
    ff = (r.get("first_failure") or {}).get("stage")
    cells = []
    for s in r["stages"]:
        counts = {sev: sum(f["severity"] == sev for f in s["findings"]) for sev in ("fail", "warn")}
        said = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or (
            "not run" if s["verdict"] == "skipped" else "all passed"
        )
        first = " first" if s["name"] == ff else ""
        label = " · first failure" if first else ""
        cells.append(
            f"<a class='v-{escape(s['verdict'])}{first}' href='#layer-{escape(s['name'])}'>{escape(s['name'])}"
            f"<small>{VERDICT_WORD[s['verdict']]}{label} · {escape(said)}</small></a>"
        )
    return f"<nav class='strip'>{''.join(cells)}</nav>"


def _diagnosis(r: dict[str, Any]) -> str:
    d = r.get("diagnosis")
    if not d:
        word = "No gate failed and no warning was raised." if r["status"] == "passed" else ""
        return f"<section class='diag passed'><p class='sentence'>{escape(word)}</p></section>" if word else ""
    symptoms = "".join(
        f"<li><code>{escape(x['layer'])}</code> / <code>{escape(x['check'])}</code> ({escape(x['severity'])}): "
        f"{escape(x['message'])}</li>"
        for x in d["symptoms"]
    )
    return (
        f"<section id='diagnosis' class='diag {escape(r['status'])}'><h2>Diagnosis</h2>"
        f"<p class='sentence'>{escape(d['sentence'])}</p>"
        f"<p class='next'><b>Next:</b> {escape(d['root']['next'])}</p>"
        + (f"<p>Symptoms it explains:</p><ul>{symptoms}</ul>" if symptoms else "")
        + "</section>"
    )


def _seen_before(r: dict[str, Any]) -> str:
    seen = r.get("seen_before") or []
    if not seen:
        return ""
    items = "".join(
        f"<li><code>{escape(s['layer'])}</code> / <code>{escape(s['check'])}</code> {escape(', '.join(s['columns']))}"
        + "<ul>"
        + "".join(
            f"<li>{escape(x['run_id'])}: {escape('; '.join(n['text'] for n in x['notes']) or 'no note yet')}</li>"
            for x in s["entries"]
        )
        + "</ul></li>"
        for s in seen
    )
    return f"<section><h2>Seen before (debug journal)</h2><ul>{items}</ul></section>"


def _by_check(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        grouped.setdefault(f["check"], []).append(f)
    return grouped


def _problems(r: dict[str, Any], out: Path, shown: dict[Path, str]) -> str:
    parts = []
    for s in r["stages"]:
        problems = [f for f in s["findings"] if f["severity"] in ("fail", "warn")]
        if not problems:
            continue
        grouped = _by_check(problems)
        order = sorted(grouped, key=lambda c: not any(f["severity"] == "fail" for f in grouped[c]))
        checks = []
        for check in order:
            fs = sorted(grouped[check], key=lambda f: f["severity"] != "fail")
            worst = fs[0]["severity"]
            lines = "".join(
                f"<p><span class='badge v-{escape(f['severity'])}'>{escape(f['severity'].upper())}</span> "
                + (f"<b>{escape(', '.join(f['columns']))}</b>: " if f["columns"] else "")
                + f"{escape(f['message'])}</p>"
                for f in fs
            )
            numbers = escape(json.dumps([f["evidence"] for f in fs], indent=1, default=str))
            checks.append(
                f"<div class='check {escape(worst)}'><h4><code>{escape(check)}</code></h4>{lines}"
                f"<p class='next'><b>Next:</b> {escape(NEXT.get(check, GENERIC))}</p>"
                f"{_figures(r, out, s, check, shown)}"
                f"<details><summary>numbers</summary><pre>{numbers}</pre></details></div>"
            )
        parts.append(
            f"<h3 id='layer-{escape(s['name'])}'>{escape(s['name'])}: {VERDICT_WORD[s['verdict']]}</h3>"
            + "".join(checks)
        )
    if not parts:
        return "<section><h2>Warnings and failures</h2><p>None.</p></section>"
    return "<section id='problems'><h2>Warnings and failures</h2>" + "".join(parts) + "</section>"


def _changes(r: dict[str, Any]) -> str:
    ch = r.get("changes_since_last_good") or {}
    if not ch.get("last_good_run_id"):
        note = escape(ch.get("note", ""))
        return f"<section id='changes'><h2>What changed since the last good run</h2><p>{note}</p></section>"
    parts = [f"<p>Last good run: <code>{escape(ch['last_good_run_id'])}</code>.</p>"]
    if "git_commit" in ch:
        c = ch["git_commit"]
        log = c.get("log")
        commits = (
            "<ul>" + "".join(f"<li><code>{escape(line)}</code></li>" for line in log) + "</ul>"
            if log
            else "<p class='muted'>(commits not in this repository)</p>"
            if log is None
            else ""
        )
        parts.append(
            f"<h4>Code</h4><p>commit {escape(_short(c['before']))} → {escape(_short(c['after']))}</p>{commits}"
        )
    else:
        parts.append("<p>Code: same commit.</p>")
    if "data_hashes" in ch:
        rows = [(k, v["before"], v["after"]) for k, v in ch["data_hashes"].items()]
        parts.append("<h4>Data (md5, as DVC records it)</h4>" + _table(("input", "before", "after"), rows))
    else:
        parts.append("<p>Data: same files (md5).</p>")
    if "columns" in ch:
        rows = [(c["input"], c["column"], c["stat"], c["before"], c["after"]) for c in ch["columns"][:SHOWN]]
        parts.append(
            "<h4>Columns whose statistics moved</h4>"
            + _table(("input", "column", "statistic", "before", "after"), rows)
        )
    if "params" in ch:
        rows = [(k, v["before"], v["after"]) for k, v in list(ch["params"].items())[:SHOWN]]
        parts.append("<h4>Params</h4>" + _table(("key", "before", "after"), rows))
    if "model" in ch:
        b, a = ch["model"]["before"], ch["model"]["after"]
        rows = [(k, b.get(k), a.get(k)) for k in a if b.get(k) != a.get(k)]
        parts.append("<h4>Model</h4>" + _table(("", "before", "after"), rows))
    if "verdicts" in ch:
        rows = [(k, v["before"], v["after"]) for k, v in ch["verdicts"].items()]
        parts.append("<h4>Verdicts</h4>" + _table(("stage", "before", "after"), rows))
    metrics = metric_changes(ch)
    if metrics:
        rows = [(k, c["before"], c["after"], c["delta"]) for k, c in metrics[:SHOWN]]
        parts.append(
            "<h4>Metrics (largest relative change first; timings left out)</h4>"
            + _table(("metric", "before", "after", "change"), rows)
        )
    if "packages" in ch:
        rows = [(k, v["before"], v["after"]) for k, v in ch["packages"].items()]
        parts.append("<h4>Packages</h4>" + _table(("package", "before", "after"), rows))
    return "<section id='changes'><h2>What changed since the last good run</h2>" + "".join(parts) + "</section>"


def _passed(r: dict[str, Any], out: Path, shown: dict[Path, str]) -> str:
    parts = []
    for s in r["stages"]:
        infos = [f for f in s["findings"] if f["severity"] == "info"]
        quiet = [
            c
            for c in s.get("figures", {})
            if not any(f["check"] == c and f["severity"] != "info" for f in s["findings"])
        ]
        if not infos and not quiet:
            continue
        items = "".join(
            f"<li><code>{escape(f['check'])}</code>"
            + (f" [{escape(', '.join(f['columns']))}]" if f["columns"] else "")
            + f": {escape(f['message'])}</li>"
            for f in infos
        )
        pictures = "".join(_figures(r, out, s, c, shown) for c in quiet)
        parts.append(
            f"<details><summary>{escape(s['name'])}: {len(infos)} info lines</summary>"
            f"<ul>{items}</ul>{pictures}</details>"
        )
    reasons = [(s["name"], s["reason"]) for s in r["stages"] if s["verdict"] == "skipped" and s.get("reason")]
    skipped = _table(("stage", "why not run"), reasons) if reasons else ""
    return "<section id='passed'><h2>Passed checks, by layer</h2>" + "".join(parts) + skipped + "</section>"


def _link(out: Path, stage: str, artifact: str, r: dict[str, Any], text: str) -> str:
    s = next((x for x in r["stages"] if x["name"] == stage), None)
    if s is None or artifact not in s["artifacts"] or not (out / stage / artifact).is_file():
        return ""
    return f"<li><a href='{escape(stage)}/{escape(artifact)}'>{escape(text)}</a></li>"


def _provenance(r: dict[str, Any], out: Path) -> str:
    p = r["provenance"]
    commit = p.get("git_commit")
    tree = {True: "with uncommitted changes (dirty)", False: "clean working tree"}.get(p.get("git_dirty"), "")
    code = (
        f"Code at commit <code>{escape(commit)}</code>, {tree}."
        if commit
        else "Code: not in a git repository (no commit to tie this run to)."
    )
    data = _table(("input", "md5 (the hash DVC records)"), p.get("data_hashes", {}).items())
    packages = ", ".join(f"{escape(k)} {escape(str(v))}" for k, v in p.get("packages", {}).items())
    params = r.get("params") or {}
    uri = str(params.get("tracking.tracking_uri") or "")
    run_id = p.get("mlflow_run_id")
    if run_id and uri.startswith(("http://", "https://")):
        mlflow = f"<li><a href='{escape(uri.rstrip('/'))}/#/runs/{escape(run_id)}'>MLflow run {escape(run_id)}</a></li>"
    elif run_id:  # a file store has no server: the link works once `mlflow ui` serves it on its default port
        mlflow = (
            f"<li><a href='{LOCAL_MLFLOW_UI}/#/runs/{escape(run_id)}'>MLflow run {escape(run_id)}</a> after "
            f"<code>mlflow ui --backend-store-uri {escape(uri)}</code> (the store is a file)</li>"
        )
    else:
        mlflow = ""
    links = (
        mlflow
        + _link(out, "data", "data_docs/index.html", r, "Great Expectations Data Docs (the data layer's validations)")
        + _link(out, "monitoring", "drift.html", r, "Evidently drift report (training vs current)")
        + "".join(_link(out, s["name"], "result.json", r, f"{s['name']} result.json") for s in r["stages"])
    )
    return (
        "<section id='provenance'><h2>Provenance</h2>"
        f"<p>{code} Params as validated hash to <code>{escape(p.get('params_sha256', ''))}</code>.</p>"
        f"<p>Data versions:</p>{data}<p>Packages: {packages}.</p><ul>{links}</ul></section>"
    )


def to_html(r: dict[str, Any], out: Path | None = None) -> str:
    """The page for report `r`, whose stage folders (and their pictures) are under `out` (none: no pictures)."""
    out = out if out is not None else Path("/nonexistent")
    shown: dict[Path, str] = {}  # picture -> where on the page it is
    p = r["provenance"]
    error = f"<p class='diag'><b>Input error:</b> {escape(r['error'])}</p>" if r.get("error") else ""
    ff = r.get("first_failure")
    first = (
        f"First failure: <code>{escape(ff['stage'])}</code> / <code>{escape(ff['check'])}</code>: "
        + escape(ff["message"])
        if ff
        else "No gate failed."
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>glassbox {escape(r['status'])}: run {escape(r['run_id'])}</title><style>{CSS}</style></head><body>"
        f"<h1>glassbox run {escape(r['run_id'])}: {escape(r['status'].upper())}</h1>"
        f"<p class='sub'>commit <code>{escape(str(p.get('git_commit'))[:12])}</code> · {first}</p>"
        + _strip(r)
        + error
        + _diagnosis(r)
        + _seen_before(r)
        + _problems(r, out, shown)
        + _changes(r)
        + _passed(r, out, shown)
        + _provenance(r, out)
        + "</body></html>\n"
    )
