"""Unstable training: retrains with other seeds (and the fit rows in another order) move the validation score a
lot. Then a retrain's score change cannot be told from the seed's, a challenger can win or lose by its seed, and
the shipped model is one draw of many. Warn only: an unstable model may still be good on average.

Measured on a bounded sample of the fit rows (`sample_rows`): the candidate's estimator refitted with its own
seed, with `seeds` other seeds, and with its own seed on the rows shuffled, each scored on the validation rows.
The spread (highest minus lowest validation score) is judged as a share of the model's skill (its mean score
above a constant prediction's): the same share means the same instability on an easy and a hard problem. A
deterministic estimator (e.g. gradient boosting without early stopping or subsampling) gives identical fits:
after two seeds and one shuffled order agree exactly, the other seeds are not fitted and the spread is 0."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evidence import plot_bars
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity
from tasks.training import refits
from tasks.training.inputs import score

if TYPE_CHECKING:
    from pathlib import Path

    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    spread: Limit = Field(
        Limit(warn=0.10, fail=None),
        description="highest minus lowest validation score of the retrains, as a share of the model's skill "
        "(mean score above a constant prediction's); warn only",
    )
    seeds: int = Field(4, ge=1, description="other seeds the estimator is retrained with (its own seed + 1, + 2...)")
    sample_rows: int = Field(
        10_000, ge=200, description="at most this many fit rows train each retrain (a bounded cost on any table)"
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    rows: int = 0  # fit rows each retrain was fitted on
    fits: tuple[tuple[str, float], ...] = ()  # (which retrain, validation score)
    chance: float = math.nan  # a constant prediction's validation score
    deterministic: bool = False  # two seeds and a shuffled order gave identical predictions
    order_diff: float = math.nan  # largest prediction difference, own seed: shuffled vs sorted rows
    unmeasured: str = ""

    @property
    def scores(self) -> np.ndarray:
        return np.array([s for _, s in self.fits], dtype="float64")

    @property
    def spread(self) -> float:
        return float(np.ptp(self.scores)) if len(self.fits) else math.nan

    @property
    def skill(self) -> float:
        return float(np.mean(self.scores)) - self.chance if len(self.fits) else math.nan

    @property
    def spread_share(self) -> float:
        return self.spread / self.skill if self.skill > 0 else math.nan

    def metrics(self) -> dict[str, float]:
        if self.unmeasured or not self.fits:
            return {}
        out = {"spread": self.spread, "score_sd": float(np.std(self.scores, ddof=1)), "fits": float(len(self.fits))}
        if not math.isnan(self.spread_share):
            out["spread_share"] = self.spread_share
        return out

    def evidence(self, out_dir: Path) -> list[str]:
        if not self.fits:
            return []
        table = pd.DataFrame(self.fits, columns=["retrain", self.metric])
        return plot_bars(
            out_dir,
            "seed_spread",
            table,
            "retrain",
            self.metric,
            title=f"Validation {self.metric} of retrains on {self.rows:,} fit rows",
            line=self.chance if not math.isnan(self.chance) else None,
        )


def measure(x: TrainingInputs, p: Params) -> Measurement:
    if refits.estimator(x) is None or x.model_inputs is None:
        return Measurement(metric=x.metric, unmeasured="the stage passed no model to retrain")
    n = min(p.sample_rows, len(x.fit_rows))
    y = np.asarray(x.y)
    if len(np.unique(y[refits.fit_sample(x, n)])) < 2:
        return Measurement(metric=x.metric, unmeasured="the sample of the fit rows has one class")
    y_val = y[x.validation_rows]
    if len(np.unique(y_val)) < 2 and x.metric in ("roc_auc", "average_precision"):
        return Measurement(metric=x.metric, unmeasured="the validation rows have one class")
    chance = score(x.metric, y_val, np.full(len(y_val), float(y[x.fit_rows].mean())))
    own = refits.candidate_refit(x, n, x.seed)[1]
    fits = {f"seed {x.seed}": own}
    fits[f"seed {x.seed + 1}"] = refits.candidate_refit(x, n, x.seed + 1)[1]
    shuffled = refits.candidate_refit(x, n, x.seed, shuffled=True)[1]
    fits[f"seed {x.seed}, rows shuffled"] = shuffled
    deterministic = all(np.array_equal(own, other, equal_nan=True) for other in fits.values())
    if not deterministic:
        for k in range(2, p.seeds + 1):
            fits[f"seed {x.seed + k}"] = refits.candidate_refit(x, n, x.seed + k)[1]
    return Measurement(
        metric=x.metric,
        rows=n,
        fits=tuple((name, score(x.metric, y_val, s)) for name, s in fits.items()),
        chance=chance,
        deterministic=deterministic,
        order_diff=float(np.nanmax(np.abs(own - shuffled))) if len(own) else 0.0,
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The spread of the retrains' validation scores, as a share of the skill, against the limit; info when
    deterministic, not measured (info) when there is no model, one class, or no skill to spread."""
    if m.unmeasured:
        return [Finding(severity=Severity.info, message=f"not measured: {m.unmeasured}")]
    evidence = {
        "metric": m.metric,
        "rows": m.rows,
        "scores": dict(m.fits),
        "spread": m.spread,
        "chance": m.chance,
        "order_diff": m.order_diff,
    }
    listed = ", ".join(f"{name}: {s:.4f}" for name, s in m.fits)
    if m.deterministic:
        return [
            Finding(
                severity=Severity.info,
                message=f"deterministic: retrains on {m.rows:,} fit rows with another seed and with the rows "
                f"shuffled give identical predictions (spread 0; {listed}); the estimator does not use its seed "
                "or the row order here",
                evidence=evidence,
            )
        ]
    if math.isnan(m.spread_share):
        return [
            Finding(
                severity=Severity.info,
                message=f"not measured: the retrains score no better than a constant prediction ({m.metric} "
                f"{m.chance:.4f}) on average, so there is no skill to spread ({listed})",
                evidence=evidence,
            )
        ]
    order = (
        f"; the row order alone moves predictions by up to {m.order_diff:.3g}"
        if m.order_diff > 0
        else "; the row order does not matter"
    )
    message = (
        f"{len(m.fits)} retrains on {m.rows:,} fit rows ({listed}): validation {m.metric} spread {m.spread:.4f}, "
        f"{m.spread_share:.0%} of the skill above a constant prediction ({m.chance:.4f}) "
        f"({p.spread.describe()}){order}"
    )
    if p.spread.severity(m.spread_share) is not Severity.info:
        message = f"unstable training: {message}: a retrain's score moves with its seed, not only with its data"
    return [judged(m.spread_share, p.spread, message, evidence=evidence)]
