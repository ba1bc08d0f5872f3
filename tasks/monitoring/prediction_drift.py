"""Drift of the model's output: the served scores against the candidate's own scores on training rows, by
normed Wasserstein distance (in reference standard deviations). The model may be fine and its inputs may
each move a little, yet what it answers moves a lot: that is what the people downstream of it notice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs


class Params(checks.CheckParams):
    score: Limit = Field(
        Limit(warn=0.2, fail=0.5),
        description="normed Wasserstein distance of the served scores from the candidate's scores on training "
        "rows: 0.2 is a small effect size, 0.5 a medium one",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    method: str | None  # None when not measured
    score: float | None
    served: int  # current rows with a finite served score
    rows: int  # current rows
    why_not: str | None = None  # why the drift was not measured

    def metrics(self) -> dict[str, float]:
        out = {"served_rows": float(self.served)}
        if self.score is not None:
            out["score"] = self.score
        return out


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    drift = x.drift.columns.get(x.prediction) if x.drift is not None else None
    if drift is None:
        why = x.not_measured if x.drift is None else x.drift.unmeasured.get(x.prediction)
        return Measurement(None, None, x.served_rows, x.rows, why or "no result")
    return Measurement(drift.method, drift.score, x.served_rows, x.rows)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The score drift judged by its warn/fail pair; with no served scores to compare, a warning saying why."""
    if m.score is None:
        return [
            Finding(
                severity=Severity.warn,
                message=f"prediction drift not measured: {m.why_not} ({m.served} of {m.rows} rows scored)",
                evidence={"served_rows": m.served, "rows": m.rows},
            )
        ]
    limit = p.score
    return [
        judged(
            m.score,
            limit,
            f"prediction drift ({m.method}) of the served scores: {m.score:.3f} "
            f"(warn {limit.warn}, fail {limit.fail}; {m.served:,} of {m.rows:,} rows scored)",
            evidence={"method": m.method, "served_rows": m.served, "rows": m.rows},
        )
    ]
