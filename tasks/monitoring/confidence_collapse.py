"""Confidence collapse: the model has grown unsure of the traffic it serves. Confidence is max(p, 1 - p) of
each served score, read per daily window (mean and quantiles) against the candidate's scores on training rows.
The effect size is the share of training's confidence above a coin flip (mean confidence - 0.5) the traffic
has lost: it means the same for a model whose scores sit near 0 and 1 and for one whose scores hover near its
base rate. Judged on the windows' traffic as a whole at its lower confidence bound (a warning: the model may
still rank well; concept_drift judges that on the labels): one day of storms leaves the demo's model unsure for
a day (a quarter of its confidence), which the daily trend shows; a collapse that holds across the windows is
what this reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evidence import plot_lines
from tasks.limits import Limit
from tasks.monitoring.windows import short
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs

QUANTILES = (0.1, 0.25, 0.5)
COLUMNS = ["window", "rows", "mean", *(f"q{int(q * 100)}" for q in QUANTILES), "lost"]


class Params(checks.CheckParams):
    lost: Limit = Field(
        Limit(warn=0.1),
        description="share of training's mean confidence above 0.5 (confidence = max(p, 1 - p)) the windows' "
        "traffic has lost, at its lower confidence bound",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided, of that bound")


def confidence(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype="float64")
    s = s[np.isfinite(s)]
    return np.maximum(s, 1.0 - s)


def summary(label: str, conf: np.ndarray, train_mean: float) -> dict:
    row = {"window": label, "rows": len(conf), "mean": float(conf.mean()) if len(conf) else math.nan}
    row |= {f"q{int(q * 100)}": float(np.quantile(conf, q)) if len(conf) else math.nan for q in QUANTILES}
    row["lost"] = 1.0 - (row["mean"] - 0.5) / (train_mean - 0.5) if train_mean > 0.5 else math.nan
    return row


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS), compare=False)
    training: dict = field(default_factory=dict)  # the training rows' summary (same keys as a window's)
    pooled: dict = field(default_factory=dict)  # the windows' traffic as a whole, with its bound `lost_low`
    not_measured: str | None = None

    def metrics(self) -> dict[str, float]:
        t = self.table
        if t.empty or not self.pooled:
            return {"windows": float(len(t))}
        return {
            "windows": float(len(t)),
            "window_confidence_last": float(t["mean"].iloc[-1]),
            "window_confidence_lost_last": float(t["lost"].iloc[-1]),
            "window_confidence_lost_max": float(t["lost"].max()),
            "training_confidence": float(self.training["mean"]),
            "lost": float(self.pooled["lost"]),
            "lost_low": float(self.pooled["lost_low"]),
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """Mean confidence and its quantiles per window, with training's mean (PNG + CSV)."""
        if self.table.empty or not self.training:
            return []
        t = self.table.assign(training_mean=self.training["mean"])
        return plot_lines(
            out_dir,
            "window_confidence",
            t.assign(**{"from": short(t["window"].tolist())}),
            "from",
            ["mean", *(f"q{int(q * 100)}" for q in QUANTILES), "training_mean"],
            title="confidence max(p, 1-p) per window: mean and quantiles",
            xlabel="window (its first day, UTC)",
            ylabel="confidence",
        )


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    from scipy.stats import norm

    train = confidence(x.reference[x.prediction].to_numpy()) if x.prediction in x.reference else np.array([])
    if not len(train):
        return Measurement(not_measured="no scores of the candidate on training rows")
    training = summary("training", train, float(train.mean()))
    if training["mean"] <= 0.5:
        return Measurement(training=training, not_measured="the candidate is at a coin flip on training rows")
    if not x.windows or x.traffic is None:
        return Measurement(training=training, not_measured=x.no_windows or "no windows")
    scores = x.traffic[x.prediction].to_numpy(dtype="float64")
    rows = [summary(w.label, confidence(scores[w.rows]), training["mean"]) for w in x.windows]
    table = pd.DataFrame(rows, columns=COLUMNS)
    every = confidence(np.concatenate([scores[w.rows] for w in x.windows]))
    if not len(every):
        return Measurement(table=table, training=training, not_measured="no served scores in the windows")
    whole = summary("all windows", every, training["mean"])
    # the mean's standard error, both samples, on the lost share's scale
    se = math.sqrt(every.var(ddof=1) / len(every) + train.var(ddof=1) / len(train)) if len(every) > 1 else math.inf
    z = float(norm.ppf(p.confidence))
    whole["lost_low"] = whole["lost"] - z * se / (training["mean"] - 0.5)
    return Measurement(table=table, training=training, pooled=whole)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The windows' traffic as a whole judged at its lower bound; the worst window named in the message."""
    if m.not_measured:
        return [Finding(severity=Severity.warn, message=f"confidence not measured: {m.not_measured}")]
    t, w, tr = m.table, m.pooled, m.training
    worst = t.loc[t["lost"].idxmax()]
    quantiles = ", ".join(
        f"q{int(q * 100)} {tr[f'q{int(q * 100)}']:.3f} -> {w[f'q{int(q * 100)}']:.3f}" for q in QUANTILES
    )
    return [
        Finding(
            severity=p.lost.severity(w["lost_low"]),
            message=f"mean confidence max(p, 1-p) of {w['rows']:,} served requests in {len(t)} windows "
            f"{w['mean']:.3f} vs {tr['mean']:.3f} on training rows ({quantiles}): {w['lost']:.0%} of training's "
            f"confidence above 0.5 lost, at least {w['lost_low']:.0%} ({p.confidence:.0%} bound; warn "
            f"{p.lost.warn}, fail {p.lost.fail}); the least confident window {worst['window']} "
            f"{worst['mean']:.3f} ({worst['lost']:.0%} lost)",
            evidence={
                "value": w["lost_low"],
                "lost": w["lost"],
                "warn": p.lost.warn,
                "fail": p.lost.fail,
                "training": tr,
                "windows": t.replace({math.nan: None}).to_dict(orient="records"),
            },
        )
    ]
