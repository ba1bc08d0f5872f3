"""A simpler model is not better: the candidate must earn its complexity. Beside it on the same split, the
baselines a person would try first, a plain logistic regression and a shallow tree (depth 3), fitted on the
candidate's fit rows (a sample above `sample_rows`; the same fits the overfitting check compares with) and
scored on its validation rows. When the best baseline validates about as well, the candidate adds cost, opacity
and ways to break without adding skill. Warn only: a more complex model as good as a simple one is a choice to
look at, not a broken run (the overfitting check fails a candidate that is clearly worse).

Judged: the candidate's advantage, its validation score minus the best baseline's, at its upper confidence bound
over a paired bootstrap of the validation rows (both models scored on each resample, so what the rows share
cancels). Warn when even that bound is under the limit (0: the rows show the candidate does not beat the
baseline). An advantage the rows cannot bound away from 0 either way is said (info), not warned: a few hundred
validation rows are no evidence that the baseline is as good (a model that beats a logistic regression by 0.005
AUC on 114 rows is not a simpler model's loss). A candidate that is itself a linear model is not compared."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity
from tasks.training import refits
from tasks.training.inputs import score
from tasks.training.overfitting import resampled_scores

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs

SEED = 0  # the bootstrap draws: the same inputs give the same measurement
BASELINES = (refits.LOGISTIC, refits.SHALLOW_TREE)


class Params(checks.CheckParams):
    advantage: Floor = Field(
        Floor(warn=0.0, fail=None),
        description="the candidate's validation score minus the best baseline's (logistic regression, shallow "
        "tree), at its upper confidence bound, in the metric's units: under 0 the rows show the candidate does "
        "not beat a simpler model; warn only",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided confidence of the bound (paired bootstrap)")
    resamples: int = Field(200, ge=20, description="bootstrap resamples of the validation rows")
    sample_rows: int = Field(
        20_000,
        ge=200,
        description="at most this many fit rows train each baseline, and this many validation rows are "
        "resampled; equal to overfitting.sample_rows (the default), the baselines are fitted once for both",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    candidate: float = math.nan  # the candidate's validation score
    baseline: str = ""  # the baseline that validated best
    baseline_validation: float = math.nan
    baselines: tuple[tuple[str, float], ...] = ()  # every baseline's validation score
    chance: float = math.nan
    advantage_bound: float = math.nan  # upper confidence bound of candidate minus baseline
    baseline_rows: int = 0
    validation_rows: int = 0
    unmeasured: str = ""

    @property
    def advantage(self) -> float:
        return self.candidate - self.baseline_validation

    def metrics(self) -> dict[str, float]:
        if self.unmeasured:
            return {}
        return {
            "baseline_validation": self.baseline_validation,
            "advantage": self.advantage,
            "advantage_bound": self.advantage_bound,
        }


def is_linear(model: Any) -> bool:
    """A fitted linear classifier (one weight per input: logistic regression, a linear SVM, SGD)."""
    return getattr(model, "coef_", None) is not None and not hasattr(model, "coefs_")


def advantage_bound(
    metric: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray, p: Params, rng: np.random.Generator
) -> float:
    """Upper `p.confidence` bound of (candidate - baseline) `metric` on the same validation rows (paired
    bootstrap); resamples where the metric is undefined are skipped, NaN with none left."""
    if len(y) > p.sample_rows:
        keep = rng.choice(len(y), size=p.sample_rows, replace=False)
        y, candidate, baseline = y[keep], candidate[keep], baseline[keep]
    counts = rng.multinomial(len(y), np.full(len(y), 1.0 / len(y)), size=p.resamples)
    diffs = resampled_scores(metric, y, candidate, counts) - resampled_scores(metric, y, baseline, counts)
    diffs = diffs[~np.isnan(diffs)]
    return float(np.quantile(diffs, p.confidence)) if len(diffs) else math.nan


def measure(x: TrainingInputs, p: Params) -> Measurement:
    base = Measurement(metric=x.metric, candidate=float(x.validation_score))
    if not len(x.validation_predictions) or x.model_inputs is None:
        return Measurement(metric=x.metric, unmeasured="the stage passed no model inputs to fit a baseline on")
    if is_linear(refits.estimator(x)):
        return Measurement(
            metric=x.metric,
            unmeasured=f"the candidate ({type(refits.estimator(x)).__name__}) is a linear model: no simpler "
            "baseline to compare it with",
        )
    refs = refits.references(x, p.sample_rows)
    if refs.unmeasured:
        return Measurement(metric=x.metric, unmeasured=refs.unmeasured)
    y_val = np.asarray(x.y)[x.validation_rows]
    validated = {name: score(x.metric, y_val, refs.validation[name]) for name in BASELINES}
    best = max(validated, key=lambda k: -math.inf if math.isnan(validated[k]) else validated[k])
    candidate = np.asarray(x.validation_predictions[0], dtype="float64")
    rng = np.random.default_rng(SEED)
    return Measurement(
        metric=base.metric,
        candidate=base.candidate,
        baseline=best,
        baseline_validation=validated[best],
        baselines=tuple(validated.items()),
        chance=score(x.metric, y_val, np.full(len(y_val), float(np.asarray(x.y)[x.fit_rows].mean()))),
        advantage_bound=advantage_bound(x.metric, y_val, candidate, refs.validation[best], p, rng),
        baseline_rows=len(refs.rows),
        validation_rows=len(y_val),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The upper bound of the candidate's advantage over the best baseline, as a share of its skill, against the
    floor; info when it is not measured, the candidate has no skill, or the rows cannot bound the advantage."""
    if m.unmeasured:
        return [Finding(severity=Severity.info, message=f"not measured: {m.unmeasured}")]
    listed = ", ".join(f"{name} {s:.4f}" for name, s in m.baselines)
    evidence = {
        "metric": m.metric,
        "candidate": m.candidate,
        "baselines": dict(m.baselines),
        "baseline": m.baseline,
        "chance": m.chance,
        "advantage": m.advantage,
        "advantage_bound": m.advantage_bound,
        "confidence": p.confidence,
        "baseline_rows": m.baseline_rows,
        "validation_rows": m.validation_rows,
    }
    scores = (
        f"validation {m.metric}: candidate {m.candidate:.4f}, baselines fitted on {m.baseline_rows:,} of the same "
        f"fit rows {listed} (a constant prediction {m.chance:.4f})"
    )
    if math.isnan(m.advantage_bound):
        why = "no bootstrap resample where the metric is defined (one class)"
        return [Finding(severity=Severity.info, message=f"not measured: {why}; {scores}", evidence=evidence)]
    bound = (
        f"the candidate {'beats' if m.advantage > 0 else 'trails'} the best baseline ({m.baseline}) by "
        f"{abs(m.advantage):.4f}, its advantage at most {m.advantage_bound:.4f} at {p.confidence:.0%} confidence "
        f"({p.advantage.describe()}, {m.validation_rows:,} validation rows)"
    )
    if p.advantage.severity(m.advantage_bound) is Severity.info:
        verdict = (
            "it earns its complexity"
            if m.advantage > 0
            else "too few validation rows to tell whether the baseline is as good"
        )
        return [judged(m.advantage_bound, p.advantage, f"{scores}; {bound}: {verdict}", evidence=evidence)]
    message = (
        f"a simpler model does as well: {scores}; {bound}: the candidate adds complexity without adding skill "
        f"(ship the {m.baseline}, or find what the candidate should learn that it does not)"
    )
    return [judged(m.advantage_bound, p.advantage, message, evidence=evidence)]
