"""Latency budget: the candidate's single-row latency against an absolute budget in milliseconds. An absolute
number depends on the machine as much as on the model, so it warns by default (latency_regression, measured
against the champion on the same machine, is the gate); it is judged on an upper confidence bound of a tail
quantile, not on the slowest request, and rounds where the machine stalled are left out and reported apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.deployment.latency import quantile_upper_bound, requests_for_bound, stalled
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs


class Params(checks.CheckParams):
    ms: Limit = Field(
        Limit(warn=250.0, fail=None),
        description="budget in ms for the upper bound on the quantile (no fail by default: set one to gate on it)",
    )
    quantile: float = Field(
        0.95,
        gt=0.0,
        lt=1.0,
        description="the latency quantile budgeted (0.99 needs at least 299 answered requests for a 95% bound)",
    )
    confidence: float = Field(0.95, ge=0.5, lt=1.0, description="one-sided confidence of the bound on the quantile")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    requests: int
    answered: int  # answered requests outside stalled rounds: the sample judged
    failed: int
    stalled: int  # rounds left out
    quantile: float
    confidence: float
    p50_ms: float
    quantile_ms: float
    bound_ms: float
    exact: bool  # False: too few requests for the bound, `bound_ms` is the max
    needed: int  # answered requests for the max to be the bound
    calibration_ms: float  # median calibration of the rounds kept
    stalled_calibration_ms: float  # median calibration of the stalled rounds (NaN: none)
    stalled_calibration_max_ms: float
    stalled_candidate_ms: float  # the candidate's median latency in the stalled rounds

    @property
    def label(self) -> str:
        return f"p{self.quantile * 100:g}"

    def metrics(self) -> dict[str, float]:
        return {
            "p50_ms": self.p50_ms,
            f"{self.label}_ms": self.quantile_ms,
            f"{self.label}_upper_ms": self.bound_ms,
            "stalled_rounds": float(self.stalled),
        }


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    probe = x.latency
    a = np.asarray(probe.candidate_ms, dtype="float64")
    cal = np.asarray(probe.calibration_ms, dtype="float64")
    stall = stalled(cal, probe.stall_factor, probe.stall_min_ms)
    kept = a[np.isfinite(a) & ~stall]
    bound, exact = quantile_upper_bound(kept, p.quantile, p.confidence)
    stalled_cal = cal[stall]
    return Measurement(
        requests=int(a.size),
        answered=int(kept.size),
        failed=int((~np.isfinite(a)).sum()),
        stalled=int(stall.sum()),
        quantile=p.quantile,
        confidence=p.confidence,
        p50_ms=_median(kept),
        quantile_ms=float(np.quantile(kept, p.quantile)) if kept.size else float("nan"),
        bound_ms=bound,
        exact=exact,
        needed=requests_for_bound(p.quantile, p.confidence),
        calibration_ms=_median(cal[~stall]),
        stalled_calibration_ms=_median(stalled_cal),
        stalled_calibration_max_ms=float(np.nanmax(stalled_cal)) if np.isfinite(stalled_cal).any() else float("nan"),
        stalled_candidate_ms=_median(a[stall]),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    evidence = {
        "requests": m.requests,
        "answered": m.answered,
        "failed": m.failed,
        "stalled_rounds": m.stalled,
        "p50_ms": m.p50_ms,
        f"{m.label}_ms": m.quantile_ms,
        "upper_bound_ms": m.bound_ms,
        "bound_is_exact": m.exact,
        "confidence": m.confidence,
        "calibration_ms": m.calibration_ms,
    }
    findings = []
    if m.answered == 0:
        findings.append(
            Finding(
                severity=Severity.warn,
                evidence=evidence,
                message=f"not measured: none of {m.requests} single-row requests was answered outside a stall "
                f"({m.failed} failed, {m.stalled} rounds stalled)",
            )
        )
    else:
        bound = (
            f"{m.confidence:.0%} upper bound on {m.label} {m.bound_ms:.1f} ms"
            if m.exact
            else f"{m.label} bound {m.bound_ms:.1f} ms (the slowest request: {m.answered} answered requests are "
            f"too few for a {m.confidence:.0%} bound on {m.label}, {m.needed} needed)"
        )
        left_out = []
        if m.stalled:
            left_out.append(f"{m.stalled} stalled rounds left out")
        if m.failed:
            left_out.append(f"{m.failed} failed")
        extra = f" ({', '.join(left_out)})" if left_out else ""
        findings.append(
            judged(
                m.bound_ms,
                p.ms,
                f"candidate, {m.answered} single-row requests{extra}: p50 {m.p50_ms:.1f} ms, {m.label} "
                f"{m.quantile_ms:.1f} ms, {bound} (budget warn {p.ms.warn} / fail {p.ms.fail} ms; "
                f"calibration {m.calibration_ms:.1f} ms)",
                evidence=evidence,
            )
        )
    if m.stalled:
        findings.append(
            Finding(
                severity=Severity.info,
                evidence={
                    "stalled_rounds": m.stalled,
                    "rounds": m.requests,
                    "calibration_ms": m.calibration_ms,
                    "stalled_calibration_ms": m.stalled_calibration_ms,
                    "stalled_calibration_max_ms": m.stalled_calibration_max_ms,
                    "stalled_candidate_ms": m.stalled_candidate_ms,
                },
                message=f"environment: the machine stalled in {m.stalled} of {m.requests} rounds: the calibration "
                f"(/ping of the same servers, how late a 2 ms sleep woke) took {m.stalled_calibration_ms:.1f} ms "
                f"median there (up to {m.stalled_calibration_max_ms:.1f} ms) against {m.calibration_ms:.1f} ms in the "
                f"other rounds, and the candidate's requests {m.stalled_candidate_ms:.1f} ms; those rounds are left "
                "out of the latency statistics (a busy machine, not the model)",
            )
        )
    return findings
