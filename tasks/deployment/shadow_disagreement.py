"""Shadow: before the alias moves, the champion and the candidate answer the same replayed traffic. How often
their decisions differ, where (by category of the traffic's categorical features) and how their score
distributions compare is what changes for the people downstream on promotion. Many flipped decisions are not
a defect in themselves (a better model decides differently), so this warns only: look before you promote.

The share of flipped decisions is judged at its lower confidence bound (Wilson), so a small batch does not warn
by chance; rows either model left unanswered are not compared (serving_nan and broken_rollback name them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.data.joint_shift import wilson_lower
from tasks.evidence import plot_bars, plot_lines
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs

SCORES_PLOT = "shadow_scores"
SLICES_PLOT = "shadow_slices"
BINS = 20


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.1),
        description="share of replayed traffic rows whose decision (score >= evaluation.threshold) differs between "
        "candidate and champion, at its lower confidence bound: the same model retrained on the same data reads 0",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided confidence of that lower bound")
    min_slice_rows: int = Field(30, ge=1, description="rows a category needs to be listed among the slices")
    slices: int = Field(10, ge=1, description="categories listed, the most disagreeing first")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    champion_version: str | None
    rows: int  # traffic rows both answered
    flipped: int  # ... whose decisions differ
    lower: float  # lower confidence bound of flipped / rows
    threshold: float
    mean_abs_diff: float
    slices: pd.DataFrame  # column, category, rows, flipped, share (the most disagreeing first)
    histogram: pd.DataFrame  # score bin, candidate share, champion share
    unmeasured: str | None = None
    of_rows: int = 0  # the batch's rows when the replayed rows were a sample of it

    @property
    def share(self) -> float:
        return self.flipped / self.rows if self.rows else float("nan")

    def metrics(self) -> dict[str, float]:
        if self.unmeasured:
            return {}
        return {"share": self.share, "share_lower": self.lower, "rows": float(self.rows)}

    def evidence(self, out_dir: Path) -> list[str]:
        if self.unmeasured:
            return []
        files = plot_lines(
            out_dir,
            SCORES_PLOT,
            self.histogram,
            "score",
            ["candidate", "champion"],
            title=f"Scores on the replayed traffic: candidate vs champion (version {self.champion_version})",
            ylabel="share of rows",
            marks={"threshold": self.threshold},
        )
        if len(self.slices):
            table = self.slices.assign(slice=self.slices["column"] + " = " + self.slices["category"].astype(str))
            files += plot_bars(out_dir, SLICES_PLOT, table, "slice", "share", title="Decisions that differ, by slice")
        return files


def _slices(segments: pd.DataFrame, flips: np.ndarray, p: Params) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for column in segments.columns:
        grouped = pd.DataFrame({"category": segments[column].astype("string").fillna("(missing)"), "flip": flips})
        for category, g in grouped.groupby("category", sort=False):
            if len(g) >= p.min_slice_rows:
                n, k = len(g), int(g["flip"].sum())
                rows.append({"column": column, "category": str(category), "rows": n, "flipped": k, "share": k / n})
    table = pd.DataFrame(rows, columns=["column", "category", "rows", "flipped", "share"])
    return table.sort_values(["share", "rows"], ascending=False).head(p.slices).reset_index(drop=True)


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    s = x.shadow
    empty = pd.DataFrame()
    if s is None or s.reason:
        why = s.reason if s is not None else "no shadow replay"
        version = s.champion_version if s is not None else None
        return Measurement(version, 0, 0, float("nan"), float("nan"), float("nan"), empty, empty, why)
    cand, champ = np.asarray(s.candidate, dtype="float64"), np.asarray(s.champion, dtype="float64")
    both = np.isfinite(cand) & np.isfinite(champ)
    if not both.any():
        return Measurement(
            s.champion_version, 0, 0, float("nan"), s.threshold, float("nan"), empty, empty, "no row got both answers"
        )
    flips = (cand[both] >= s.threshold) != (champ[both] >= s.threshold)
    edges = np.linspace(0.0, 1.0, BINS + 1)
    histogram = pd.DataFrame(
        {
            "score": (edges[:-1] + edges[1:]) / 2,
            "candidate": np.histogram(np.clip(cand[both], 0, 1), edges)[0] / both.sum(),
            "champion": np.histogram(np.clip(champ[both], 0, 1), edges)[0] / both.sum(),
        }
    )
    n, k = int(both.sum()), int(flips.sum())
    return Measurement(
        champion_version=s.champion_version,
        rows=n,
        flipped=k,
        lower=wilson_lower(k, n, p.confidence),
        threshold=s.threshold,
        mean_abs_diff=float(np.abs(cand[both] - champ[both]).mean()),
        slices=_slices(s.segments.loc[both].reset_index(drop=True), flips, p),
        histogram=histogram,
        of_rows=s.of_rows,
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Info without a champion (or without answers to compare); else the flipped share at its lower bound."""
    if m.unmeasured:
        return [Finding(severity=Severity.info, message=f"no shadow comparison: {m.unmeasured}")]
    worst = m.slices.head(3)
    where = "; most in " + ", ".join(
        f"{r.column}={r.category} ({r.share:.0%} of {r.rows:,})" for r in worst.itertuples()
    )
    return [
        judged(
            m.lower,
            p.share,
            f"shadow: the candidate and the champion (version {m.champion_version}) decide differently on "
            f"{m.flipped:,} of {m.rows:,} replayed rows"
            + (f" (a seeded sample of the batch's {m.of_rows:,})" if m.of_rows else "")
            + f" ({m.share:.1%}, lower bound {m.lower:.1%}; threshold "
            f"{m.threshold:g}; mean score difference {m.mean_abs_diff:.3f})" + (where if m.flipped else ""),
            evidence={
                "champion_version": m.champion_version,
                "rows": m.rows,
                "batch_rows": m.of_rows or m.rows,
                "flipped": m.flipped,
                "share": m.share,
                "mean_abs_diff": m.mean_abs_diff,
                "slices": m.slices.to_dict(orient="records"),
            },
        )
    ]
