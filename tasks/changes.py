"""What changed between two runs, from their reports alone: code (and the commits between), data hashes,
params, the inputs' column statistics, the model, packages, stage verdicts, metrics. The report says it since
the last good run; `glassbox diff` between any two."""

from __future__ import annotations

from typing import Any

from tasks.column_evidence import stats_moved

METRICS_SHOWN = 30  # metric changes listed in text (report.json and --json have them all)
TIMING_SUFFIXES = (".seconds", "_s", "_ms")


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
    params = _moved(previous.get("params") or {}, current.get("params") or {})
    if params and previous.get("params") is not None:
        changes["params"] = params
    columns = stats_moved(previous.get("column_stats") or {}, current.get("column_stats") or {})
    if columns:
        changes["columns"] = columns
    if previous.get("model") and current.get("model") and previous["model"] != current["model"]:
        changes["model"] = {"before": previous["model"], "after": current["model"]}
    return changes


def _moved(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys (`data.missing_spike.share.warn`), the shape a params diff reads in."""
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def metric_changes(ch: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Metric changes, the largest relative move first. Timings move on every run (a busy machine): left out,
    they are in the report's JSON."""
    return sorted(
        ((k, c) for k, c in ch.get("metrics", {}).items() if not k.endswith(TIMING_SUFFIXES)),
        key=lambda kc: -abs(kc[1]["delta"]) / max(abs(kc[1]["before"]), 1e-9),
    )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text[:12] if len(text) in (32, 40, 64) else text  # md5, git sha, sha256: a prefix


def changes_lines(ch: dict[str, Any]) -> list[str]:
    """The changes as lines of text (`glassbox diff`, report.md)."""
    lines: list[str] = []
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
    for key, c in ch.get("params", {}).items():
        lines.append(f"param {key}: {_short(c['before'])} -> {_short(c['after'])}")
    for c in ch.get("columns", [])[:METRICS_SHOWN]:
        lines.append(f"column {c['input']}.{c['column']} {c['stat']}: {_short(c['before'])} -> {_short(c['after'])}")
    if "model" in ch:
        b, a = ch["model"]["before"], ch["model"]["after"]
        lines += [f"model {k}: {_short(b.get(k))} -> {_short(a.get(k))}" for k in a if b.get(k) != a.get(k)]
    for name, c in ch.get("packages", {}).items():
        lines.append(f"package {name}: {c['before']} -> {c['after']}")
    for name, c in ch.get("verdicts", {}).items():
        lines.append(f"stage {name}: {c['before']} -> {c['after']}")
    metrics = metric_changes(ch)
    for name, c in metrics[:METRICS_SHOWN]:
        lines.append(f"metric {name}: {_short(c['before'])} -> {_short(c['after'])} ({c['delta']:+.4g})")
    if len(metrics) > METRICS_SHOWN:
        lines.append(f"... and {len(metrics) - METRICS_SHOWN} more metric changes (the JSON lists them all)")
    return lines
