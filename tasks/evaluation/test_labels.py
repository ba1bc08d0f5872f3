"""Test labels: the trusted test set must hold both classes. With one class nothing can be ranked, so the score
floor and the comparison with the champion have nothing to judge; a gate that passed them would pass on
nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tasks import checks
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    classes: tuple[int, ...]
    rows: int
    positives: int

    def metrics(self) -> dict[str, float]:
        return {"positive_share": self.positives / self.rows} if self.rows else {}


def measure(x: EvaluationInputs, p: checks.NoParams) -> Measurement:
    y = np.asarray(x.labels).astype(int)
    return Measurement(classes=tuple(sorted(int(c) for c in np.unique(y))), rows=len(y), positives=int(y.sum()))


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """Fail with one class (or none); info with the class counts when both are there."""
    evidence = {"classes": list(m.classes), "rows": m.rows, "positives": m.positives}
    if len(m.classes) == 2:
        return [
            Finding(
                severity=Severity.info,
                message=f"the trusted test set has both classes: {m.positives:,} positive of {m.rows:,} rows "
                f"({m.positives / m.rows:.2%})",
                evidence=evidence,
            )
        ]
    found = f"only class {list(m.classes)} in {m.rows:,} rows" if m.classes else "no rows"
    return [
        Finding(
            severity=Severity.fail,
            message=f"the trusted test set has {found}: nothing to score",
            evidence=evidence,
        )
    ]
