"""Overfitting: the candidate scores far better on the rows it was fitted on than on validation rows it never
saw. The validation score is what production can expect; a wide gap says the model learned the training rows
rather than the pattern, and that its test score will not hold on new data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    gap: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="training score minus validation score, on training.metric",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    train: float
    validation: float

    @property
    def gap(self) -> float:
        return self.train - self.validation

    def metrics(self) -> dict[str, float]:
        return {"train_val_gap": self.gap}


def measure(x: TrainingInputs, p: Params) -> Measurement:
    return Measurement(metric=x.metric, train=float(x.train_score), validation=float(x.validation_score))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The gap judged against the limit; an undefined score (one class in a part) is said, not passed."""
    evidence = {"metric": m.metric, "train": m.train, "validation": m.validation}
    if math.isnan(m.gap):
        return [
            Finding(
                severity=Severity.info,
                message=f"not measured: {m.metric} is undefined on the training or the validation rows "
                f"(train {m.train:.4f}, validation {m.validation:.4f}; a part with one class cannot be ranked)",
                evidence=evidence,
            )
        ]
    return [
        judged(
            m.gap,
            p.gap,
            f"{m.metric} {m.train:.4f} on training vs {m.validation:.4f} on validation: gap {m.gap:.4f} "
            f"(ceiling: warn {p.gap.warn}, fail {p.gap.fail})",
            evidence=evidence,
        )
    ]
