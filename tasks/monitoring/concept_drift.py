"""Concept drift: the same kind of inputs, other outcomes. The gate metric (evaluation.metric) on each daily
window's labelled requests, their served scores against the labels that arrived, held to the candidate's score
on the trusted test set (the evaluation stage's). The loss is read as the share of the trusted score's skill
(its distance above chance, on the scale where 0.5 is chance and 1 perfect) that the window has lost at its
UPPER confidence bound: the window's bootstrap standard error times the normal quantile of a family-wise
confidence (Bonferroni over the windows judged), so fourteen clean days do not raise one alarm by chance and a
noisy day is not a drift. Days with too few labelled rows, or too few of a class, are pooled with the days
before them; what never gets enough is reported as not judged, never passed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evaluation.scoring import (
    bootstrap_counts,
    chance_score,
    classification_scores,
    on_chance_scale,
    resampled_chance,
    resampled_scores,
)
from tasks.evidence import plot_lines
from tasks.limits import Limit
from tasks.monitoring.labels import NONE
from tasks.monitoring.windows import Window, pooled, short
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs, TrustedScore

SEED = 0
COLUMNS = ["window", "rows", "positives", "score", "scaled", "se", "low", "upper", "trusted", "skill_lost"]


class Params(checks.CheckParams):
    skill_lost: Limit = Field(
        Limit(warn=0.25, fail=0.5),
        description="share of the trusted test score's skill (above chance, 0.5-chance scale) a window has lost "
        "at its upper confidence bound (0: as good as the test set; 1: no better than chance)",
    )
    min_rows: int = Field(200, ge=10, description="labelled rows a window needs (fewer: pooled with the days before)")
    min_class_rows: int = Field(20, ge=1, description="... and rows of each class")
    confidence: float = Field(
        0.95, gt=0.5, lt=1.0, description="one-sided, family-wise over the windows judged (Bonferroni)"
    )
    resamples: int = Field(200, ge=20, description="bootstrap resamples of each window's labelled rows")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS), compare=False)
    metric: str = ""
    trusted: float = math.nan  # the test score on the 0.5-chance scale
    trusted_value: float = math.nan
    not_judged: tuple[str, ...] = ()  # windows (or their remainder) with too few labelled rows
    not_measured: str | None = None
    unlabelled: bool = False  # no feedback is configured or present: labels never arrive in this project

    def metrics(self) -> dict[str, float]:
        t = self.table
        out = {"windows": float(len(t)), "not_judged": float(len(self.not_judged))}
        if t.empty:
            return out
        return out | {
            "window_score_last": float(t["scaled"].iloc[-1]),
            "window_skill_lost_last": float(t["skill_lost"].iloc[-1]),
            "window_skill_lost_max": float(t["skill_lost"].max()),
            "trusted": self.trusted,
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """The metric per window (0.5-chance scale) with its family-wise interval, and the trusted test score."""
        if self.table.empty:
            return []
        return plot_lines(
            out_dir,
            "window_concept_drift",
            self.table.assign(**{"from": short(self.table["window"].tolist())}),
            "from",
            ["scaled", "trusted"],
            title=f"{self.metric} per window on arrived labels vs the trusted test set",
            xlabel="window (its first day, UTC)",
            ylabel="0.5 chance, 1 perfect",
            bands={"scaled": ("low", "upper")},
        )


def _window(
    w: Window, y: np.ndarray, s: np.ndarray, metric: str, threshold: float, p: Params, rng: np.random.Generator
) -> dict | None:
    yw, sw = y[w.rows].astype(int), s[w.rows]
    value = classification_scores(yw, sw, threshold)[metric]
    counts = bootstrap_counts(len(yw), p.resamples, rng)
    resampled = np.array(
        [
            on_chance_scale(v, c)
            for v, c in zip(
                resampled_scores(metric, yw, sw, counts, threshold), resampled_chance(metric, yw, counts), strict=True
            )
        ]
    )
    resampled = resampled[np.isfinite(resampled)]
    if len(resampled) < 2 or not math.isfinite(value):
        return None
    return {
        "window": w.label,
        "rows": len(yw),
        "positives": int(yw.sum()),
        "score": value,
        "scaled": on_chance_scale(value, chance_score(metric, yw)),
        "se": float(np.std(resampled, ddof=1)),
    }


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    from scipy.stats import norm

    trusted: TrustedScore | None = x.trusted
    if trusted is None:
        return Measurement(not_measured="no trusted test score from the evaluation stage")
    base = {"metric": trusted.metric, "trusted": trusted.scaled, "trusted_value": trusted.value}
    if not trusted.scaled > 0.5:
        return Measurement(**base, not_measured=f"the trusted test score {trusted.scaled:.3f} has no skill to lose")
    if not x.days or x.traffic is None:
        return Measurement(**base, not_measured=x.no_windows or "no windows")
    y = x.traffic[x.label].to_numpy(dtype="float64")
    s = x.traffic[x.prediction].to_numpy(dtype="float64")
    usable = np.isfinite(y) & np.isfinite(s)
    if not usable.any():
        return Measurement(
            **base,
            not_measured=f"no labels have arrived for served requests (feedback: {x.labels_from})",
            unlabelled=x.labels_from == NONE,
        )
    labelled = [Window(w.first, w.last, w.rows[usable[w.rows]]) for w in x.days]

    def enough(rows: np.ndarray) -> bool:
        k = int(y[rows].sum())
        return len(rows) >= p.min_rows and min(k, len(rows) - k) >= p.min_class_rows

    judged, rest = pooled([w for w in labelled if len(w)], enough)
    rng = np.random.default_rng(SEED)
    rows = [r for w in judged if (r := _window(w, y, s, trusted.metric, trusted.threshold, p, rng)) is not None]
    not_judged = tuple(w.label for w in rest) + tuple(
        w.label for w in judged if w.label not in {r["window"] for r in rows}
    )
    table = pd.DataFrame(rows, columns=COLUMNS[:6])
    if len(table):
        z = float(norm.ppf(1 - (1 - p.confidence) / len(table)))
        table["low"] = table["scaled"] - z * table["se"]
        table["upper"] = table["scaled"] + z * table["se"]
        table["trusted"] = trusted.scaled
        table["skill_lost"] = (trusted.scaled - table["upper"]) / (trusted.scaled - 0.5)
    return Measurement(table=table.reindex(columns=COLUMNS), **base, not_judged=not_judged)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per window whose skill lost at its bound is beyond the limit (metric on the window, at most,
    vs the trusted test set); a warning when nothing could be judged (info when the project has no feedback at
    all: unlabelled traffic is a setting, not a fault); an info summary."""
    if m.not_measured:
        severity = Severity.info if m.unlabelled else Severity.warn
        return [Finding(severity=severity, message=f"concept drift not measured: {m.not_measured}")]
    t = m.table
    if t.empty:
        return [
            Finding(
                severity=Severity.warn,
                message=f"concept drift not judged: no window has {p.min_rows} labelled rows with {p.min_class_rows} "
                f"of each class ({', '.join(m.not_judged) or 'no labelled rows'})",
                evidence={"not_judged": list(m.not_judged)},
            )
        ]
    found = []
    for r in t.itertuples():
        severity = p.skill_lost.severity(r.skill_lost)
        if severity is Severity.info:
            continue
        found.append(
            Finding(
                severity=severity,
                message=f"window {r.window} ({r.rows:,} labelled requests, {r.positives:,} positive): {m.metric} "
                f"{r.score:.4f} ({r.scaled:.3f} on the 0.5-chance scale, at most {r.upper:.3f} at the "
                f"{p.confidence:.0%} family-wise bound) vs {m.trusted_value:.4f} ({m.trusted:.3f}) on the trusted "
                f"test set: {r.skill_lost:.0%} of its skill lost (warn {p.skill_lost.warn}, fail {p.skill_lost.fail})",
                evidence={
                    "window": r.window,
                    "rows": r.rows,
                    "positives": r.positives,
                    "score": r.score,
                    "scaled": r.scaled,
                    "upper": r.upper,
                    "trusted": m.trusted,
                    "value": r.skill_lost,
                    "warn": p.skill_lost.warn,
                    "fail": p.skill_lost.fail,
                },
            )
        )
    worst = t.loc[t["skill_lost"].idxmax()]
    summary = Finding(
        severity=Severity.info,
        message=f"{len(t)} windows judged on arrived labels ({m.metric} {t['score'].min():.3f} to "
        f"{t['score'].max():.3f}; trusted test set {m.trusted_value:.3f}); the worst {worst['window']} at most "
        f"{worst['upper']:.3f} on the 0.5-chance scale"
        + (f"; not judged (too few labelled rows): {', '.join(m.not_judged)}" if m.not_judged else ""),
        evidence={"windows": t.replace({math.nan: None}).to_dict(orient="records"), "not_judged": list(m.not_judged)},
    )
    return [*found, summary]
