"""Label drift day by day: the positive rate of each daily window's labelled requests (the feedback that has
arrived) against training's, by Cohen's h at the window's confidence bound nearest training's rate (Wilson
interval, family-wise over the windows: Bonferroni), so a small window's noise is not a drift. Days with too
few labelled rows are pooled with the days before them. Outcomes vary by day for real (a storm day of the demo
is three times as late as a calm one): a window beyond its limit is named, the gate is off unless set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.data.stats import cohen_h
from tasks.evidence import plot_lines
from tasks.limits import Limit
from tasks.monitoring.windows import Window, pooled, short
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs

COLUMNS = ["window", "labelled", "positives", "rate", "low", "high", "train_rate", "cohen_h"]


class Params(checks.CheckParams):
    cohen_h: Limit = Field(
        Limit(warn=0.8),
        description="Cohen's h of a window's label rate vs training's at the window's bound nearest training "
        "(0.2 small, 0.5 medium, 0.8 large)",
    )
    min_rows: int = Field(100, ge=10, description="labelled rows a window needs (fewer: pooled with the days before)")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="family-wise, of the windows' intervals")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS), compare=False)
    train_rate: float = math.nan
    not_measured: str | None = None

    def metrics(self) -> dict[str, float]:
        t = self.table
        if t.empty:
            return {"windows": 0.0}
        return {
            "windows": float(len(t)),
            "window_label_rate_last": float(t["rate"].iloc[-1]),
            "window_label_drift_last": float(t["cohen_h"].iloc[-1]),
            "window_label_drift_max": float(t["cohen_h"].max()),
            "train_rate": self.train_rate,
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """The label rate per window with its interval, and training's rate (PNG + CSV)."""
        if self.table.empty:
            return []
        return plot_lines(
            out_dir,
            "window_label_rate",
            self.table.assign(**{"from": short(self.table["window"].tolist())}),
            "from",
            ["rate", "train_rate"],
            title="label rate per window (labelled requests) vs training",
            xlabel="window (its first day, UTC)",
            ylabel="positive share",
            bands={"rate": ("low", "high")},
        )


def wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    from scipy.stats import norm

    if not x.days or x.traffic is None:
        return Measurement(not_measured=x.no_windows or "no windows")
    y = x.traffic[x.label].to_numpy(dtype="float64")
    if not np.isfinite(y).any():
        return Measurement(not_measured=f"no labels have arrived (feedback: {x.labels_from})")
    labelled = [Window(w.first, w.last, w.rows[np.isfinite(y[w.rows])]) for w in x.days]
    judged, rest = pooled([w for w in labelled if len(w)], lambda r: len(r) >= p.min_rows)
    if not judged:
        n = sum(len(w) for w in rest)
        return Measurement(train_rate=x.train_label_rate, not_measured=f"{n} labelled rows, under {p.min_rows}")
    z = float(norm.ppf(1 - (1 - p.confidence) / len(judged)))
    rows = []
    for w in judged:
        k, n = int(y[w.rows].sum()), len(w)
        low, high = wilson(k, n, z)
        nearest = min(max(x.train_label_rate, low), high)  # the rate within the interval closest to training's
        rows.append([w.label, n, k, k / n, low, high, x.train_label_rate, cohen_h(x.train_label_rate, nearest)])
    return Measurement(table=pd.DataFrame(rows, columns=COLUMNS), train_rate=x.train_label_rate)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Windows whose label rate is beyond the limit at their bound, named with both rates; an info summary."""
    if m.not_measured:
        return [Finding(severity=Severity.info, message=f"label drift per window not measured: {m.not_measured}")]
    t = m.table
    found = []
    for severity in (Severity.fail, Severity.warn):
        hit = t[[p.cohen_h.severity(v) is severity for v in t["cohen_h"]]]
        if hit.empty:
            continue
        named = ", ".join(f"{r.window} {r.rate:.3f} (h {r.cohen_h:.2f})" for r in hit.itertuples())
        found.append(
            Finding(
                severity=severity,
                message=f"label rate moved from training's {m.train_rate:.3f} in {len(hit)} of {len(t)} windows: "
                f"{named} (Cohen's h at the {p.confidence:.0%} family-wise bound; warn {p.cohen_h.warn}, "
                f"fail {p.cohen_h.fail})",
                evidence={"windows": hit["window"].tolist(), "rates": hit["rate"].tolist(), "train": m.train_rate},
            )
        )
    summary = Finding(
        severity=Severity.info,
        message=f"label rate of {len(t)} windows {t['rate'].min():.3f} to {t['rate'].max():.3f} "
        f"(training {m.train_rate:.3f}; {int(t['labelled'].sum()):,} labelled requests)",
        evidence={"windows": t.replace({math.nan: None}).to_dict(orient="records")},
    )
    return [*found, summary]
