"""Challenger worse: the candidate must not score worse than the champion (the registered version under the
deployment alias) on the same trusted rows. A newer model is not a better one; promoting a worse one is the
regression no other gate sees, since each model alone may clear the score floor.

Judged on a paired bootstrap of the test rows: both models scored on the same resampled rows, the margin's
one-sided upper confidence bound is what the floor judges, so a margin the rows cannot tell from noise does not
fail (and a clearly worse challenger does, even when a lucky draw of rows flatters it).

The first run has no champion and says so (info); a champion that cannot score today's test set (a column
it needs is gone) is reported as a warn, not compared."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.evaluation.scoring import bootstrap_counts, classification_scores, resampled_scores
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.champion import Champion
    from tasks.evaluation.inputs import EvaluationInputs


class Params(checks.CheckParams):
    margin: Floor = Field(
        Floor(warn=-0.005, fail=-0.02),
        description="challenger minus champion on evaluation.metric on the trusted test set's rows, judged at "
        "its upper confidence bound (paired bootstrap)",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided confidence of the margin's upper bound")
    resamples: int = Field(200, ge=20, description="paired bootstrap resamples of the test rows")
    seed: int = Field(0, description="for the bootstrap")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    registered_model: str
    alias: str
    champion: Champion | None  # None: no version under the alias yet (the first run)
    rows: int = 0
    reason: str | None = None  # why the champion was not compared (it gave no scores)
    reason_columns: tuple[str, ...] = ()
    challenger: float = math.nan
    champion_scores: dict[str, float] = field(default_factory=dict)  # every classification score, by name
    same_model: bool = False  # the candidate is the champion's own logged model
    candidate_uri: str = ""
    candidate_id: str | None = None
    low: float = math.nan  # the margin's two-sided interval at the check's confidence (paired bootstrap)
    high: float = math.nan  # ... and its one-sided upper bound: what the floor judges
    resamples: int = 0

    @property
    def compared(self) -> bool:
        return self.champion is not None and self.reason is None

    @property
    def champion_score(self) -> float:
        return self.champion_scores.get(self.metric, math.nan)

    @property
    def margin(self) -> float:
        return self.challenger - self.champion_score

    def metrics(self) -> dict[str, float]:
        if not self.compared:
            return {}
        return {f"champion_{self.metric}": self.champion_score, "margin": self.margin, "margin_upper": self.high}


def paired_margin(
    y: np.ndarray, challenger: np.ndarray, champion: np.ndarray, metric: str, threshold: float, p: Params
) -> tuple[float, float]:
    """The margin (challenger minus champion) on bootstrap resamples of the same rows, both models scored on each
    resample: its lower quantile at 1 - confidence and its upper bound at confidence (NaN when undefined)."""
    counts = bootstrap_counts(len(y), p.resamples, np.random.default_rng(p.seed))
    diff = resampled_scores(metric, y, challenger, counts, threshold) - resampled_scores(
        metric, y, champion, counts, threshold
    )
    diff = diff[np.isfinite(diff)]
    if not len(diff):
        return math.nan, math.nan
    return float(np.quantile(diff, 1 - p.confidence)), float(np.quantile(diff, p.confidence))


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    base = {"metric": x.metric, "registered_model": x.registered_model, "alias": x.alias, "rows": len(x.labels)}
    if x.champion is None:
        return Measurement(champion=None, **base)
    given = x.champion_scores
    if given is None or given.scores is None:
        reason = given.reason if given is not None and given.reason else "the champion gave no scores"
        columns = given.columns if given is not None else ()
        return Measurement(champion=x.champion, reason=reason, reason_columns=tuple(columns), **base)
    challenger = classification_scores(x.labels, x.scores, x.threshold)[x.metric]
    low, high = paired_margin(x.labels, x.scores, given.scores, x.metric, x.threshold, p)
    return Measurement(
        low=low,
        high=high,
        resamples=p.resamples,
        champion=x.champion,
        challenger=challenger,
        champion_scores=classification_scores(x.labels, given.scores, x.threshold),
        same_model=x.champion.model_id is not None and x.champion.model_id == x.candidate_id,
        candidate_uri=x.candidate_uri,
        candidate_id=x.candidate_id,
        **base,
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Info on the first run; warn when the champion could not score; else the margin against its floor."""
    if m.champion is None:
        return [
            Finding(
                severity=Severity.info,
                message=f"no champion yet: first run ({m.registered_model!r} has no version with alias {m.alias!r}); "
                "nothing to compare with",
                evidence={"registered_model": m.registered_model, "alias": m.alias},
            )
        ]
    where = {"champion_version": m.champion.version, "champion_source": m.champion.source}
    if m.reason is not None:
        return [Finding(severity=Severity.warn, message=m.reason, columns=list(m.reason_columns), evidence=where)]
    evidence = {
        **where,
        "metric": m.metric,
        "challenger": m.challenger,
        "champion": m.champion_score,
        "margin": m.margin,
        "champion_run_id": m.champion.run_id,
        "challenger_model_id": m.candidate_id,
        "challenger_model_uri": m.candidate_uri,
        "same_model": m.same_model,
        "rows": m.rows,
    }
    if math.isnan(m.margin):
        return [
            Finding(
                severity=Severity.info,
                message=f"not compared: {m.metric} is undefined on the trusted test set ({m.rows:,} rows) for the "
                f"challenger or champion v{m.champion.version}",
                evidence=evidence,
            )
        ]
    evidence.update(margin_low=m.low, margin_upper=m.high, confidence=p.confidence, resamples=m.resamples)
    bound = m.high if math.isfinite(m.high) else m.margin
    interval = (
        f"; paired bootstrap of the {m.rows:,} rows: {m.low:+.4f} to {m.high:+.4f} "
        f"(upper bound at {p.confidence:.0%}, judged)"
        if math.isfinite(m.high)
        else ""
    )
    message = (
        f"challenger {m.metric} {m.challenger:.4f} vs champion v{m.champion.version} {m.champion_score:.4f}: "
        f"margin {m.margin:+.4f}{interval} (floor: warn {p.margin.warn}, fail {p.margin.fail})"
    )
    if p.margin.severity(bound) is not Severity.info:
        message += ": the challenger is worse than the champion on the same rows beyond noise; keep the champion"
    elif p.margin.severity(m.margin) is not Severity.info:
        message += ": lower on these rows, but within what resampling them gives (not judged worse)"
    return [judged(bound, p.margin, message, evidence=evidence)]
