"""Drift of each of the model's inputs, named one by one: the served traffic against a sample of training, by
effect size (normed Wasserstein for numbers, Jensen-Shannon distance for categories and text). A drifted
feature is a warning, not a gate: one seasonal column among many should be looked at, not stop a run (the
share of drifted features carries the gate, see drifted_share). A feature whose drift could not be measured
is reported too, never counted as stable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.columns import metric_key
from tasks.drift import ColumnDrift
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.monitoring.inputs import MonitoringInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    measured: tuple[ColumnDrift, ...]  # every feature measured, the highest score first
    unmeasured: dict[str, str]  # feature -> why its drift could not be measured
    not_measured: str | None = None  # why nothing was measured at all

    @property
    def drifted(self) -> tuple[ColumnDrift, ...]:
        return tuple(d for d in self.measured if d.drifted)

    def metrics(self) -> dict[str, float]:
        scores = {metric_key("score", d.column): d.score for d in self.measured}
        return {**scores, "unmeasured": float(len(self.unmeasured))}


def measure(x: MonitoringInputs, p: checks.NoParams) -> Measurement:
    if x.drift is None:
        return Measurement(measured=(), unmeasured={}, not_measured=x.not_measured or "no drift run")
    measured = [x.drift.columns[c] for c in x.features if c in x.drift.columns]
    return Measurement(
        measured=tuple(sorted(measured, key=lambda d: -d.score)),
        unmeasured={c: why for c, why in x.drift.unmeasured.items() if c in x.features},
    )


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """A warning per drifted feature (method, score, threshold) and per unmeasured one; quiet otherwise."""
    if m.not_measured:
        return [Finding(severity=Severity.info, message=f"feature drift not measured: {m.not_measured}")]
    drifted = [
        Finding(
            severity=Severity.warn,
            message=f"{d.column} drifted: {d.method} {d.score:.3f} >= {d.threshold}",
            columns=[d.column],
            evidence={"method": d.method, "score": d.score, "threshold": d.threshold},
        )
        for d in m.drifted
    ]
    unmeasured = [
        Finding(
            severity=Severity.warn,
            message=f"{column}: drift not measured ({why})",
            columns=[column],
            evidence={"reason": why},
        )
        for column, why in m.unmeasured.items()
    ]
    return drifted + unmeasured
