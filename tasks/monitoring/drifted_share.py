"""The gate on input drift: the share of measured features that drifted. One drifted feature is named by
feature_drift and does not stop a run; a broad shift of the traffic (a new population, a broken upstream
feed) moves many features at once, and that is what this share catches."""

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
    share: Limit = Field(
        Limit(warn=0.3, fail=0.6),
        description="share of the measured features that drifted (score at or above monitoring.column_drift_threshold)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    measured: int  # features whose drift was measured
    drifted: tuple[str, ...]  # the drifted ones, the highest score first
    scores: dict[str, dict[str, float | str]]  # feature -> method and score
    not_measured: str | None = None  # why nothing was measured at all

    @property
    def share(self) -> float:
        return len(self.drifted) / self.measured if self.measured else float("nan")

    def metrics(self) -> dict[str, float]:
        if not self.measured:
            return {"measured": 0.0}
        return {"share": self.share, "drifted": float(len(self.drifted)), "measured": float(self.measured)}


def measure(x: MonitoringInputs, p: Params) -> Measurement:
    if x.drift is None:
        return Measurement(measured=0, drifted=(), scores={}, not_measured=x.not_measured or "no drift run")
    drifts = sorted((x.drift.columns[c] for c in x.features if c in x.drift.columns), key=lambda d: -d.score)
    return Measurement(
        measured=len(drifts),
        drifted=tuple(d.column for d in drifts if d.drifted),
        scores={d.column: {"method": d.method, "score": d.score} for d in drifts},
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The share judged by its warn/fail pair; a warning, not a pass, when no feature could be measured."""
    if m.not_measured:
        return [Finding(severity=Severity.warn, message=f"{m.not_measured}: input drift not measured")]
    if not m.measured:
        return [Finding(severity=Severity.warn, message="no feature's drift could be measured: input drift not judged")]
    limit = p.share
    return [
        judged(
            m.share,
            limit,
            f"{len(m.drifted)} of {m.measured} features drifted (share {m.share:.2f}; warn {limit.warn}, "
            f"fail {limit.fail})" + (f": {', '.join(m.drifted)}" if m.drifted else ""),
            columns=list(m.drifted),
            evidence={"n_drifted": len(m.drifted), "n_measured": m.measured, "scores": m.scores},
        )
    ]
