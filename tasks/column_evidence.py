"""The columns a warning or a failure names, drawn as a person checks them: the training distribution over the
batch the finding judged (test or current), and the null share of each, on the report page beside the finding.
And a few statistics per column of every input, so the report can say which columns moved since the last good
run, not only that a file's hash did.

Drawn after the stages, from the input files and the findings alone: every check that names columns gets its
pictures, a user's own check included, without drawing anything itself."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tasks.errors import ConfigError
from tasks.evidence import plot_groups, plot_histograms

if TYPE_CHECKING:
    from tasks.params import Inputs

FOLDER = "figures"
REFERENCE = "train"
MAX_COLUMNS = 12  # columns drawn per run: the worst findings' first; the rest are in the findings' numbers
TOP_CATEGORIES = 12
NULLS_MOVED = 0.01  # a null-share chart is drawn when a column's share moved by a point or more
NUMERIC_MIN_DISTINCT = 13  # fewer distinct numbers read better as categories (hours, flags, counts)


def read_frames(inputs: Inputs) -> dict[str, pd.DataFrame]:
    """The inputs as the stages read them; none when a file is unreadable (the stage that read it has already
    said so in one line: the report is not where a second error belongs)."""
    from tasks.frames import load_inputs  # params and frames load every check: not for `glassbox diff`

    try:
        return load_inputs(inputs)
    except (ConfigError, OSError, ValueError):
        return {}


def _numeric(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() >= NUMERIC_MIN_DISTINCT
    )


def column_stats(frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per input, per column: rows' null share and distinct values, and mean and std for numbers."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for role, df in frames.items():
        cols: dict[str, dict[str, float | None]] = {}
        for c in df.columns:
            s = df[c]
            stat: dict[str, float | None] = {"null_share": float(s.isna().mean()) if len(s) else None}
            stat["distinct"] = float(s.nunique())
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                v = pd.to_numeric(s, errors="coerce").astype("float64")
                v = v[np.isfinite(v)]
                stat["mean"] = float(v.mean()) if len(v) else None
                stat["std"] = float(v.std()) if len(v) > 1 else None
            cols[str(c)] = stat
        out[role] = cols
    return out


def _safe(text: str) -> str:
    tag = hashlib.sha1(text.encode()).hexdigest()[:6]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', text)[:40]}-{tag}"


def _hours(s: pd.Series) -> pd.Series | None:
    """Hour of day as written (the wall clock of the zone the value carries), for a timestamp column; None for
    any other column. A timezone bug moves this picture and no other."""
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.hour.astype("Int64").astype("string").str.zfill(2)
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    hours = s.astype("string").str.extract(r"^\d{4}-\d{2}-\d{2}[T ](\d{2}):\d{2}", expand=False)
    written = s.notna().sum()
    return hours.str.zfill(2) if written and hours.notna().sum() >= 0.9 * written else None


def _overlay(out: Path, name: str, column: str, ref: pd.Series, batch: pd.Series, batch_name: str) -> list[str]:
    nulls = f"nulls {ref.isna().mean():.1%} vs {batch.isna().mean():.1%}"
    title = f"{column}: {REFERENCE} vs {batch_name} ({nulls})"
    hours = _hours(ref), _hours(batch)
    if hours[0] is not None and hours[1] is not None:
        ref, batch, title = hours[0], hours[1], f"{column}, hour of day as written: {REFERENCE} vs {batch_name}"
    if _numeric(ref) or _numeric(batch):
        as_num = {
            REFERENCE: pd.to_numeric(ref, errors="coerce").to_numpy(dtype="float64", na_value=np.nan),
            batch_name: pd.to_numeric(batch, errors="coerce").to_numpy(dtype="float64", na_value=np.nan),
        }
        return plot_histograms(out, name, as_num, title=title, xlabel=column)
    shares = pd.DataFrame(
        {
            REFERENCE: ref.astype("string").fillna("(null)").value_counts(normalize=True),
            batch_name: batch.astype("string").fillna("(null)").value_counts(normalize=True),
        }
    ).fillna(0.0)
    if hours[0] is not None and hours[1] is not None:
        shares = shares.sort_index()  # the 24 hours in order
    else:
        shares = shares.loc[shares.max(axis=1).sort_values(ascending=False).index[:TOP_CATEGORIES]]
    table = shares.rename_axis("value").reset_index()
    return plot_groups(out, name, table, "value", [REFERENCE, batch_name], title=title, xlabel="share of rows")


def _flagged(report: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    """(stage, check, batch, columns) of every warning and failure that names columns, failures first."""
    found = [
        (f["severity"] != "fail", s["name"], f["check"], str(f["evidence"].get("batch") or "current"), f["columns"])
        for s in report["stages"]
        for f in s["findings"]
        if f["severity"] in ("warn", "fail") and f["columns"]
    ]
    return [(stage, check, batch, cols) for _, stage, check, batch, cols in sorted(found, key=lambda t: t[0])]


def draw(report: dict[str, Any], frames: dict[str, pd.DataFrame], out: Path) -> dict[str, dict[str, list[str]]]:
    """Pictures for the flagged columns, written to `out/figures`: stage -> check -> files relative to `out`.
    A column is drawn once per batch however many findings name it; null shares get one bar chart per finding."""
    drawn: dict[tuple[str, str], list[str]] = {}
    figures: dict[str, dict[str, list[str]]] = {}
    folder = out / FOLDER
    shutil.rmtree(folder, ignore_errors=True)  # an earlier run's pictures are not this run's evidence
    ref = frames.get(REFERENCE)
    if ref is None:
        return figures
    for stage, check, batch_name, columns in _flagged(report):
        batch = frames.get(batch_name)
        if batch is None:
            continue
        present = [c for c in columns if c in ref.columns and c in batch.columns]
        files: list[str] = []
        for c in present:
            key = (batch_name, c)
            if key not in drawn and len(drawn) < MAX_COLUMNS:
                pictures = _overlay(folder, f"column_{batch_name}_{_safe(c)}", c, ref[c], batch[c], batch_name)
                drawn[key] = [f"{FOLDER}/{p}" for p in pictures if p.endswith(".png")]
            files += drawn.get(key, [])
        nulls = pd.DataFrame({"column": present, REFERENCE: [float(ref[c].isna().mean()) for c in present]}).assign(
            **{batch_name: [float(batch[c].isna().mean()) for c in present]}
        )
        if len(present) and float((nulls[batch_name] - nulls[REFERENCE]).abs().max()) >= NULLS_MOVED:
            name = f"nulls_{stage}_{check}_{batch_name}"
            pictures = plot_groups(
                folder, name, nulls, "column", [REFERENCE, batch_name], title="null share", xlabel="share of rows"
            )
            files += [f"{FOLDER}/{p}" for p in pictures if p.endswith(".png")]
        if files:
            have = figures.setdefault(stage, {}).setdefault(check, [])
            have += [f for f in files if f not in have]
    return figures


def stats_moved(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Columns whose statistics moved between two runs' inputs, biggest first: a column added or dropped, a null
    share that moved by a point or more, a mean that moved by a tenth of the earlier spread or more, distinct
    values up or down by a tenth or more."""
    moved: list[tuple[float, dict[str, Any]]] = []
    for role in sorted(set(before) & set(after)):
        b, a = before[role], after[role]
        for c in sorted(set(b) | set(a)):
            if c not in a or c not in b:
                what = "dropped" if c not in a else "added"
                moved.append((np.inf, {"input": role, "column": c, "stat": what, "before": None, "after": None}))
                continue
            x, y = b[c], a[c]
            sizes = {
                "null_share": abs((y.get("null_share") or 0.0) - (x.get("null_share") or 0.0)) / 0.01,
                "distinct": abs(y["distinct"] - x["distinct"]) / max(0.1 * x["distinct"], 1.0),
            }
            if x.get("mean") is not None and y.get("mean") is not None:
                sizes["mean"] = abs(y["mean"] - x["mean"]) / max(0.1 * (x.get("std") or 0.0), 1e-12)
            for stat, size in sizes.items():
                if size >= 1.0:
                    entry = {"input": role, "column": c, "stat": stat, "before": x.get(stat), "after": y.get(stat)}
                    moved.append((size, entry))
    return [e for _, e in sorted(moved, key=lambda t: -t[0])]
