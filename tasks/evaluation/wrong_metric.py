"""Wrong metric: accuracy (or F1 at a fixed threshold) as the gate on imbalanced classes. Where nine rows in
ten are one class, always predicting it scores 0.9 accuracy: a gate on accuracy then passes a model that has
learned nothing, and a metric copied from a balanced project hides it. Measured on the trusted test set: the
gate metric of the candidate and of the no-skill baseline (always the majority class for accuracy, always
positive for F1), and the share of the way from the baseline to perfect the candidate covers (for accuracy:
the share of the baseline's errors it removes, Cohen's kappa's idea), which means the same at every base
rate. Judged at its upper confidence bound (paired bootstrap of the test rows), so only a model that surely
barely beats the baseline is reported; a threshold-free gate metric (ROC AUC, average precision) is not
judged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.evaluation.scoring import (
    RANKING,
    bootstrap_counts,
    chance_score,
    classification_scores,
    resampled_chance,
    resampled_scores,
)
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs

SEED = 0  # the bootstrap's draws: the same inputs give the same measurement


class Params(checks.CheckParams):
    minority_share: float = Field(
        0.2,
        gt=0.0,
        le=0.5,
        description="the classes count as imbalanced when the rarer one is under this share of the test rows",
    )
    skill: Floor = Field(
        Floor(warn=0.2, fail=None),
        description="share of the way from the no-skill baseline's score to perfect that the candidate covers "
        "on the gate metric (accuracy: share of the majority baseline's errors it removes), at its upper "
        "confidence bound; under it the model barely beats the baseline (warn only: the metric may hide "
        "what the scores rank)",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided confidence of the upper bound")
    resamples: int = Field(200, ge=20, description="bootstrap resamples of the test rows")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    threshold: float
    rows: int
    minority_share: float = math.nan  # the rarer class's share of the test rows
    minority: int | None = None
    value: float = math.nan  # the candidate's gate metric
    baseline: float = math.nan  # the no-skill baseline's
    skill: float = math.nan  # (value - baseline) / (1 - baseline)
    skill_upper: float = math.nan  # its upper confidence bound
    ranking: dict[str, float] = field(default_factory=dict)  # the threshold-free metrics, for the better choice

    def metrics(self) -> dict[str, float]:
        if self.metric in RANKING:
            return {}
        return {
            "minority_share": self.minority_share,
            "baseline": self.baseline,
            "skill": self.skill,
            "skill_upper": self.skill_upper,
        }


def _skill(value: np.ndarray | float, baseline: np.ndarray | float) -> np.ndarray:
    value, baseline = np.asarray(value, dtype="float64"), np.asarray(baseline, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(baseline < 1.0, (value - baseline) / (1.0 - baseline), np.nan)


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    y = np.asarray(x.labels).astype(int)
    base = Measurement(metric=x.metric, threshold=x.threshold, rows=len(y))
    if x.metric in RANKING or not len(y):
        return base
    rate = float(y.mean())
    scores = classification_scores(y, x.scores, x.threshold)
    value, baseline = scores[x.metric], chance_score(x.metric, y)
    counts = bootstrap_counts(len(y), p.resamples, np.random.default_rng(SEED))
    resampled = _skill(
        resampled_scores(x.metric, y, x.scores, counts, x.threshold), resampled_chance(x.metric, y, counts)
    )
    resampled = resampled[~np.isnan(resampled)]
    return Measurement(
        metric=x.metric,
        threshold=x.threshold,
        rows=len(y),
        minority_share=min(rate, 1.0 - rate),
        minority=int(rate < 0.5),
        value=value,
        baseline=baseline,
        skill=float(_skill(value, baseline)),
        skill_upper=float(np.quantile(resampled, p.confidence)) if len(resampled) else math.nan,
        ranking={k: scores[k] for k in RANKING} | {"positive_share": rate},
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Threshold-free gate metrics and balanced classes are info; on imbalanced classes the candidate's skill
    over the no-skill baseline, at its upper bound, against the floor (warn)."""
    if m.metric in RANKING:
        return [
            Finding(
                severity=Severity.info,
                message=f"not judged: the gate metric {m.metric} is threshold-free (it does not reward predicting the "
                "majority class)",
                evidence={"metric": m.metric},
            )
        ]
    if not m.rows or math.isnan(m.skill):
        return [
            Finding(
                severity=Severity.info,
                message=f"not measured: {m.metric} has no baseline to compare with on the {m.rows:,} test rows",
                evidence={"metric": m.metric, "rows": m.rows},
            )
        ]
    baseline_is = f"always predicting {1 - m.minority if m.metric == 'accuracy' else 1}"
    evidence = {
        "metric": m.metric,
        "threshold": m.threshold,
        "rows": m.rows,
        "minority_share": m.minority_share,
        "candidate": m.value,
        "baseline": m.baseline,
        "baseline_rule": baseline_is,
        "skill": m.skill,
        "skill_upper": m.skill_upper,
        **m.ranking,
    }
    shares = f"the rarer class is {m.minority_share:.1%} of the {m.rows:,} test rows"
    said = (
        f"{m.metric} at threshold {m.threshold:g}: {m.value:.4f} vs {m.baseline:.4f} for {baseline_is} ({shares}); "
        f"the candidate covers {m.skill:.0%} of the way from that baseline to perfect (at most "
        f"{m.skill_upper:.0%}, {p.confidence:.0%} bound)"
    )
    if m.minority_share >= p.minority_share:
        return [
            Finding(
                severity=Severity.info,
                message=f"not judged: the classes are balanced enough for {m.metric} (rarer class "
                f"{m.minority_share:.1%} >= {p.minority_share:.0%}); {said}",
                evidence=evidence,
            )
        ]
    if p.skill.severity(m.skill_upper) is not Severity.info:
        better = "average_precision" if m.minority_share < 0.1 else "roc_auc"
        said += (
            f": on classes this imbalanced {m.metric} barely moves whatever the model learns; gate on {better} "
            f"instead (here roc_auc {m.ranking['roc_auc']:.4f}, 0.5 chance; average_precision "
            f"{m.ranking['average_precision']:.4f}, {m.ranking['positive_share']:.4f} chance) and choose the "
            "threshold by its cost (bad_threshold)"
        )
    return [judged(m.skill_upper, p.skill, said, evidence=evidence)]
