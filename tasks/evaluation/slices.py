"""Slices: a model good on average can be poor for one group (a carrier, an airport) and the average hides it.
The gate metric is measured per category of the slice columns named in params; when none are named, of the
categorical features the candidate's scores depend on most (the share of the scores' variance their categories
explain on the test set: a cheap proxy of importance that needs no refit), `features` of them. Each slice is
judged, on the test_score floor's scale (0.5 chance, 1 perfect), at its UPPER confidence bound: a small slice
fails only when even its best plausible score is under the floor. The bound is the slice's score plus its
bootstrap standard error times the normal quantile of a family-wise confidence (Bonferroni over the slices
judged): among 30 slices of a clean model one falls under a single 95% bound by chance, and a slice of 7
positives has a percentile interval far narrower than its real spread. A slice is held to
the floor or to the whole test set's own score, whichever is lower: a model under the floor everywhere is
test_score's finding, and a slice is news only where it is worse than the model as a whole (a warning at most
when the whole model already fails the floor). Slices too small, or with one class, are reported as not judged."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import is_datetime, is_numeric
from tasks.errors import ConfigError
from tasks.evaluation import test_score
from tasks.evaluation.scoring import (
    bootstrap_counts,
    chance_score,
    classification_scores,
    on_chance_scale,
    resampled_chance,
    resampled_scores,
)
from tasks.evidence import plot_bars
from tasks.limits import Floor
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs

SEED = 0  # the bootstrap's draws: the same inputs give the same measurement
MISSING = "(missing)"
EVIDENCE = "slices"


class Params(checks.CheckParams):
    columns: list[str] = Field(
        default_factory=list,
        description="test-set columns to slice by (empty: the most important categorical features)",
    )
    features: int = Field(3, ge=0, description="when no columns are named: how many categorical features to slice by")
    max_categories: int = Field(
        30, ge=2, description="a feature with more distinct test values is not sliced unless named (an id, free text)"
    )
    min_rows: int = Field(30, ge=2, description="a slice with fewer test rows is reported, not judged")
    min_class_rows: int = Field(5, ge=1, description="... or with fewer rows of either class")
    floor: Floor | None = Field(
        None, description="floor of each slice on the 0.5-chance scale at its upper bound (null: test_score's floor)"
    )
    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        description="one-sided confidence that no judged slice's score is above its bound (family-wise: each slice's "
        "bound is at 1 - (1 - confidence) / slices judged)",
    )
    resamples: int = Field(200, ge=20, description="bootstrap resamples of each slice's rows")
    shown: int = Field(20, ge=1, description="the bar plot shows the worst this many judged slices")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    floor: Floor
    columns: tuple[str, ...] = ()
    named: bool = False  # the columns were named in params (else chosen by the proxy)
    importance: dict[str, float] = field(default_factory=dict)  # column -> share of score variance explained
    table: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)  # one row per slice
    shown: int = 20  # slices the bar plot shows
    overall: float = math.nan  # the whole test set's score on the 0.5-chance scale

    @property
    def limit(self) -> Floor:
        """The floor each slice is held to: the configured one, lowered to the whole model's own score. When the
        whole model is under the fail floor (test_score's fail), a slice worse still is a warning, not a second
        fail of the same model."""
        if math.isnan(self.overall):
            return self.floor
        w, f = self.floor.warn, self.floor.fail
        if f is not None and self.overall < f:
            return Floor(warn=self.overall, fail=None)
        return Floor(warn=None if w is None else min(w, self.overall), fail=f)

    @property
    def judged(self) -> pd.DataFrame:
        return self.table[self.table["judged"]] if len(self.table) else self.table

    def metrics(self) -> dict[str, float]:
        j = self.judged
        return {
            "slices": float(len(self.table)),
            "judged": float(len(j)),
            "worst_upper": float(j["upper"].min()) if len(j) else math.nan,
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """Every slice as JSON; the worst judged ones as bars with their intervals and the floor (PNG + CSV)."""
        if self.table.empty:
            return []
        out_dir.mkdir(parents=True, exist_ok=True)
        records = self.table.replace({np.nan: None}).to_dict(orient="records")
        (out_dir / f"{EVIDENCE}.json").write_text(json.dumps(records, indent=1, default=str) + "\n")
        files = [f"{EVIDENCE}.json"]
        shown = self.judged.sort_values("upper").head(self.shown)
        if len(shown):
            shown = shown.assign(slice=shown["column"] + " = " + shown["category"].astype(str))
            files += plot_bars(
                out_dir,
                f"{EVIDENCE}_worst",
                shown[["slice", "rows", "positives", "score", "scaled", "low", "upper"]],
                "slice",
                "scaled",
                title=f"{self.metric} per slice (0.5 chance, 1 perfect; floor dashed)",
                low="low",
                high="upper",
                line=self.limit.fail if self.limit.fail is not None else self.limit.warn,
            )
        return files


def categorical(test: pd.DataFrame, features: tuple[str, ...], p: Params) -> list[str]:
    """The features that are categories: not numbers, not datetimes, at most `max_categories` distinct values."""
    return [
        c
        for c in features
        if c in test.columns
        and not is_numeric(test[c])
        and not is_datetime(test[c])
        and 2 <= test[c].nunique(dropna=False) <= p.max_categories
    ]


def explained_share(categories: pd.Series, scores: np.ndarray) -> float:
    """Share of the scores' variance the categories explain (the correlation ratio, eta squared)."""
    s = pd.Series(np.asarray(scores, dtype="float64"), index=categories.index)
    total = float(((s - s.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    groups = s.groupby(categories.astype(object).fillna(MISSING), sort=False)
    between = float((groups.size() * (groups.mean() - s.mean()) ** 2).sum())
    return between / total


def _slice(metric: str, y: np.ndarray, s: np.ndarray, threshold: float, p: Params, rng: np.random.Generator) -> dict:
    positives = int(y.sum())
    row = {"rows": len(y), "positives": positives, "score": math.nan, "scaled": math.nan, "low": math.nan}
    row |= {"upper": math.nan, "se": math.nan, "judged": False, "why": ""}
    if len(y) < p.min_rows or min(positives, len(y) - positives) < p.min_class_rows:
        return row | {"why": f"under {p.min_rows} rows or {p.min_class_rows} of a class"}
    value = classification_scores(y, s, threshold)[metric]
    counts = bootstrap_counts(len(y), p.resamples, rng)
    resampled = np.array(
        [
            on_chance_scale(v, c)
            for v, c in zip(
                resampled_scores(metric, y, s, counts, threshold), resampled_chance(metric, y, counts), strict=True
            )
        ]
    )
    resampled = resampled[~np.isnan(resampled)]
    if len(resampled) < 2:
        return row | {"score": value, "why": "the metric is undefined on its resamples"}
    return row | {
        "score": value,
        "scaled": on_chance_scale(value, chance_score(metric, y)),
        "se": float(np.std(resampled, ddof=1)),
        "judged": True,
    }


def _bounded(table: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Each judged slice's interval: its score +/- its standard error times the family-wise normal quantile."""
    from scipy.stats import norm

    judged = table["judged"].astype(bool)
    z = float(norm.ppf(1.0 - (1.0 - confidence) / max(int(judged.sum()), 1)))
    table.loc[judged, "low"] = table.loc[judged, "scaled"] - z * table.loc[judged, "se"]
    table.loc[judged, "upper"] = table.loc[judged, "scaled"] + z * table.loc[judged, "se"]
    return table


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    floor = p.floor or x.score_floor or test_score.Params().floor
    y, s = np.asarray(x.labels).astype(int), np.asarray(x.scores, dtype="float64")
    importance: dict[str, float] = {}
    if p.columns:
        missing = [c for c in p.columns if c not in x.test.columns]
        if missing:
            raise ConfigError(f"evaluation.slices.columns: {missing} not in the trusted test set {x.test_file}")
        columns = list(p.columns)
    else:
        importance = {c: explained_share(x.test[c], s) for c in categorical(x.test, x.features, p)}
        columns = sorted(importance, key=lambda c: -importance[c])[: p.features]
    rng = np.random.default_rng(SEED)
    rows = []
    for column in columns:
        values = x.test[column].astype(object).where(x.test[column].notna(), MISSING).to_numpy()
        for category in pd.unique(values):
            mask = values == category
            rows.append(
                {"column": column, "category": category, **_slice(x.metric, y[mask], s[mask], x.threshold, p, rng)}
            )
    table = pd.DataFrame(rows)
    if len(table):
        table = _bounded(table, p.confidence)
        table = table.sort_values(["judged", "upper"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return Measurement(
        metric=x.metric,
        floor=floor,
        columns=tuple(columns),
        named=bool(p.columns),
        importance=importance,
        table=table,
        shown=p.shown,
        overall=on_chance_scale(classification_scores(y, s, x.threshold)[x.metric], chance_score(x.metric, y)),
    )


def _g(v: float | None) -> str:
    return "off" if v is None else f"{v:.3g}"


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per slice under the floor at its upper bound (fail or warn, named with its size), and an
    info summary of what was sliced, judged and not judged."""
    how = "named in params" if m.named else "the categorical features the scores depend on most"
    if not m.columns:
        return [
            Finding(
                severity=Severity.info,
                message="not measured: no slice columns named and no categorical feature with at most "
                f"{p.max_categories} values among the candidate's features",
                evidence={"importance": m.importance},
            )
        ]
    t = m.table
    judged_rows = t[t["judged"]] if len(t) else t
    found = []
    for r in judged_rows.itertuples():
        severity = m.limit.severity(r.upper)
        if severity is Severity.info:
            continue
        found.append(
            Finding(
                severity=severity,
                message=f"slice {r.column} = {r.category!s} ({r.rows:,} test rows, {r.positives:,} positive): "
                f"{m.metric} {r.score:.4f}, {r.scaled:.3f} on the 0.5-chance scale, at most {r.upper:.3f} "
                f"({p.confidence:.0%} bound) under its floor (warn {_g(m.limit.warn)}, fail {_g(m.limit.fail)}: "
                f"{m.floor.warn} / {m.floor.fail}, or the whole test set's {m.overall:.3f} where lower)",
                columns=[r.column],
                evidence={
                    "column": r.column,
                    "category": str(r.category),
                    "rows": r.rows,
                    "positives": r.positives,
                    "score": r.score,
                    "value": r.upper,
                    "scaled": r.scaled,
                    "warn": m.limit.warn,
                    "fail": m.limit.fail,
                    "overall": m.overall,
                },
            )
        )
    worst = judged_rows.iloc[0] if len(judged_rows) else None
    summary = (
        f"{len(t):,} slices of {', '.join(m.columns)} ({how}); {len(judged_rows):,} judged"
        + (
            f", the worst {worst['column']} = {worst['category']!s} ({int(worst['rows']):,} rows, at most "
            f"{worst['upper']:.3f} on the 0.5-chance scale)"
            if worst is not None
            else ""
        )
        + f"; {len(t) - len(judged_rows):,} not judged (under {p.min_rows} rows or {p.min_class_rows} of a class)"
    )
    info = Finding(
        severity=Severity.info,
        message=summary,
        columns=list(m.columns),
        evidence={
            "columns": list(m.columns),
            "importance": m.importance,
            "slices": len(t),
            "judged": len(judged_rows),
            "warn": m.limit.warn,
            "fail": m.limit.fail,
            "overall": m.overall,
        },
    )
    return [*found, info]
