"""Drift day by day: each daily window of the stored traffic against the training sample, by the same effect
sizes as the whole batch (the share of features at or above monitoring.column_drift_threshold; the served
scores' normed Wasserstein distance). A single day moves for real reasons the model has seen before (a day of
storms moves the demo's scores by most of a standard deviation): a window beyond its limit is named, and the
gate on drift stays the whole batch's (drifted_share, prediction_drift) unless a fail level is set here. The
trend across windows is drawn, one point per window."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evidence import plot_lines
from tasks.limits import Limit
from tasks.monitoring.windows import short
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs

COLUMNS = ["window", "rows", "measured", "drifted", "input_drift_share", "prediction_drift"]


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.7),
        description="a window's share of drifted features (as drifted_share counts them for the whole batch)",
    )
    prediction: Limit = Field(
        Limit(warn=1.0),
        description="a window's normed Wasserstein distance of the served scores from the candidate's scores on "
        "training rows (1.0: a large effect, the scores a standard deviation away)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS), compare=False)
    not_measured: str | None = None

    def metrics(self) -> dict[str, float]:
        t = self.table
        if t.empty:
            return {"windows": 0.0}
        last = t.iloc[-1]
        return {
            "windows": float(len(t)),
            "window_input_drift_share_last": float(last["input_drift_share"]),
            "window_input_drift_share_max": float(t["input_drift_share"].max()),
            "window_prediction_drift_last": float(last["prediction_drift"]),
            "window_prediction_drift_max": float(t["prediction_drift"].max()),
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """The share of drifted features and the prediction drift per window (PNG + CSV each)."""
        t = self.table
        if t.empty:
            return []
        files = plot_lines(
            out_dir,
            "window_input_drift_share",
            t.assign(**{"from": short(t["window"].tolist())}),
            "from",
            ["input_drift_share"],
            title="share of drifted features per daily window",
            xlabel="window (its first day, UTC)",
            ylabel="share of features",
        )
        return files + plot_lines(
            out_dir,
            "window_prediction_drift",
            t.assign(**{"from": short(t["window"].tolist())}),
            "from",
            ["prediction_drift"],
            title="prediction drift per daily window (normed Wasserstein)",
            xlabel="window (its first day, UTC)",
            ylabel="training score sds",
        )


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    if not x.windows:
        return Measurement(not_measured=x.no_windows or "no windows")
    rows = []
    for w in x.windows:
        run = x.window_drift.get(w.label)
        cols = [run.columns[c] for c in x.features if run is not None and c in run.columns]
        pred = run.columns.get(x.prediction) if run is not None else None
        rows.append(
            {
                "window": w.label,
                "rows": len(w),
                "measured": len(cols),
                "drifted": sum(d.drifted for d in cols),
                "input_drift_share": sum(d.drifted for d in cols) / len(cols) if cols else math.nan,
                "prediction_drift": pred.score if pred is not None else math.nan,
            }
        )
    return Measurement(table=pd.DataFrame(rows, columns=COLUMNS))


def _beyond(t: pd.DataFrame, column: str, limit: Limit, what: str, unit: str) -> list[Finding]:
    found = []
    for severity in (Severity.fail, Severity.warn):
        hit = t[[limit.severity(v) is severity for v in t[column]]]
        if hit.empty:
            continue
        named = ", ".join(f"{r.window} ({getattr(r, column):.2f})" for r in hit.itertuples())
        found.append(
            Finding(
                severity=severity,
                message=f"{what} beyond its {severity.value} level in {len(hit)} of {len(t)} daily windows: {named} "
                f"({unit}; warn {limit.warn}, fail {limit.fail})",
                evidence={
                    "windows": hit["window"].tolist(),
                    "values": [float(v) for v in hit[column]],
                    "warn": limit.warn,
                    "fail": limit.fail,
                },
            )
        )
    return found


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The windows beyond each limit, named with their values; an info summary of the trend otherwise; a
    warning when no window could be measured (never a pass)."""
    if m.not_measured:
        return [Finding(severity=Severity.warn, message=f"drift per window not measured: {m.not_measured}")]
    t = m.table
    found = _beyond(t, "input_drift_share", p.share, "input drift", "share of features drifted")
    found += _beyond(t, "prediction_drift", p.prediction, "prediction drift", "normed Wasserstein of the scores")
    last = t.iloc[-1]
    summary = Finding(
        severity=Severity.info,
        message=f"{len(t)} daily windows ({t['window'].iloc[0]} to {last['window']}): drifted feature share "
        f"{t['input_drift_share'].min():.2f} to {t['input_drift_share'].max():.2f}, prediction drift "
        f"{t['prediction_drift'].min():.2f} to {t['prediction_drift'].max():.2f}; the last window "
        f"{last['input_drift_share']:.2f} / {last['prediction_drift']:.2f}",
        evidence={"windows": t.replace({math.nan: None}).to_dict(orient="records")},
    )
    return [*found, summary]
