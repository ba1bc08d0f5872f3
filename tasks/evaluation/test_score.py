"""Test score: the candidate's score on the trusted test set must clear a floor. It is the one number measured
on rows no stage fitted or tuned on, so it is the gate on whether the model is good enough at all, before it
is compared with anything."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.evaluation.scoring import classification_scores
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


class Params(checks.CheckParams):
    floor: Floor = Field(
        Floor(warn=0.6, fail=0.55), description="floor on evaluation.metric on the trusted test set; 0.5 is chance"
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    threshold: float  # where label metrics cut the scores
    rows: int
    scores: dict[str, float] = field(default_factory=dict)  # every classification score, by name

    @property
    def value(self) -> float:
        return self.scores[self.metric]

    def metrics(self) -> dict[str, float]:
        return dict(self.scores)


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    scores = classification_scores(x.labels, x.scores, x.threshold)
    return Measurement(metric=x.metric, threshold=x.threshold, rows=len(x.labels), scores=scores)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The metric judged against the floor; an undefined score (one class) fails: it is never a pass."""
    evidence = {"metric": m.metric, "rows": m.rows, "threshold": m.threshold}
    if math.isnan(m.value):
        return [
            Finding(
                severity=Severity.fail,
                message=f"{m.metric} is undefined on the trusted test set ({m.rows:,} rows)",
                evidence=evidence,
            )
        ]
    return [
        judged(
            m.value,
            p.floor,
            f"{m.metric} on the trusted test set ({m.rows:,} rows): {m.value:.4f} "
            f"(floor: warn {p.floor.warn}, fail {p.floor.fail})",
            evidence=evidence,
        )
    ]
