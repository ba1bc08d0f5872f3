"""Latency regression: the candidate must not answer much slower than the champion it would replace. Both are
served side by side and asked single-row requests in alternation, so a busy or slow machine slows both alike
and the ratio of their latencies is the model's doing; a slowdown is claimed only when the lower confidence bound
on the ratio, not one unlucky request, passes the limit. (The upper bound was judged before: on a busy machine a
few stalled rounds widen a p90 ratio's interval to 3.6 around 0.98, and the same model failed against itself.)"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.deployment.latency import ratio_bounds, stalled
from tasks.evidence import plot_histograms
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs

Quantile = Annotated[float, Field(gt=0.0, lt=1.0)]


class Params(checks.CheckParams):
    slowdown: Limit = Field(
        Limit(warn=1.5, fail=2.0),
        description="candidate / champion latency at each quantile, judged on its lower confidence bound "
        "(1.5: each request takes half as long again)",
    )
    quantiles: tuple[Quantile, ...] = Field(
        (0.5, 0.9), min_length=1, description="latency quantiles compared (0.5 the typical request, 0.9 the tail)"
    )
    confidence: float = Field(0.95, ge=0.5, lt=1.0, description="one-sided confidence of the bound on each ratio")
    resamples: int = Field(2000, ge=100, le=100_000, description="bootstrap resamples of the paired rounds")
    seed: int = Field(0, description="seed of the bootstrap")
    min_rounds: int = Field(
        30, ge=5, description="fewest rounds with both answers and no stall needed to compare at all"
    )


@dataclass(frozen=True)
class Ratio:
    quantile: float
    candidate_ms: float
    champion_ms: float
    lower: float
    ratio: float
    upper: float

    @property
    def label(self) -> str:
        return f"p{self.quantile * 100:g}"


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    alias: str
    champion_version: str | None
    champion_error: str | None
    rounds: int
    used: int  # rounds with both answers and no stall
    stalled: int
    candidate_failed: int
    champion_failed: int
    confidence: float
    ratios: tuple[Ratio, ...] = ()
    candidate_ms: tuple[float, ...] = ()  # per round, stalled rounds left out: the histogram a person sees
    champion_ms: tuple[float, ...] = ()

    @property
    def worst(self) -> Ratio | None:
        return max(self.ratios, key=lambda r: r.lower, default=None)

    def metrics(self) -> dict[str, float]:
        out = {"rounds_used": float(self.used), "stalled_rounds": float(self.stalled)}
        for r in self.ratios:
            out[f"{r.label}_ratio"] = r.ratio
            out[f"{r.label}_ratio_lower"] = r.lower
            out[f"{r.label}_ratio_upper"] = r.upper
        return out

    def evidence(self, out_dir: Path) -> list[str]:
        samples = {"candidate": np.asarray(self.candidate_ms)}
        if self.champion_ms:
            samples[f"champion v{self.champion_version}"] = np.asarray(self.champion_ms)
        if not self.candidate_ms:
            return []
        return plot_histograms(
            out_dir, "latency_histogram", samples, title="single-row latency per round", xlabel="ms", logx=True
        )


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    probe = x.latency
    a = np.asarray(probe.candidate_ms, dtype="float64")
    b = np.asarray(probe.champion_ms, dtype="float64") if probe.champion_ms else np.full(a.shape, np.nan)
    stall = stalled(np.asarray(probe.calibration_ms, dtype="float64"), probe.stall_factor, probe.stall_min_ms)
    keep = np.isfinite(a) & np.isfinite(b) & ~stall
    base = {
        "alias": x.alias,
        "champion_version": probe.champion_version,
        "champion_error": probe.champion_error,
        "rounds": int(a.size),
        "used": int(keep.sum()),
        "stalled": int(stall.sum()),
        "candidate_failed": int((~np.isfinite(a)).sum()),
        "champion_failed": int((~np.isfinite(b)).sum()) if probe.champion_ms else 0,
        "confidence": p.confidence,
        "candidate_ms": tuple(float(v) for v in a[np.isfinite(a) & ~stall]),
        "champion_ms": tuple(float(v) for v in b[np.isfinite(b) & ~stall]),
    }
    if not probe.champion_ms or keep.sum() < p.min_rounds:
        return Measurement(**base)
    ratios = []
    for i, q in enumerate(p.quantiles):
        lower, ratio, upper = ratio_bounds(a[keep], b[keep], q, p.confidence, p.resamples, p.seed + i)
        ratios.append(Ratio(q, float(np.quantile(a[keep], q)), float(np.quantile(b[keep], q)), lower, ratio, upper))
    return Measurement(**base, ratios=tuple(ratios))


def judge(m: Measurement, p: Params) -> list[Finding]:
    evidence = {
        "champion_version": m.champion_version,
        "rounds": m.rounds,
        "rounds_used": m.used,
        "stalled_rounds": m.stalled,
        "candidate_failed": m.candidate_failed,
        "champion_failed": m.champion_failed,
    }
    if m.champion_version is None:
        return [
            Finding(
                severity=Severity.info,
                evidence=evidence,
                message=f"no champion: no version holds @{m.alias} yet, so the candidate's latency has nothing to "
                "be compared with; only its absolute budget is judged (latency_budget)",
            )
        ]
    if m.champion_error or m.worst is None:
        why = m.champion_error or (
            f"only {m.used} of {m.rounds} rounds have both answers and no stall of the machine "
            f"({m.stalled} stalled, {m.candidate_failed} candidate and {m.champion_failed} champion requests "
            f"failed); at least {p.min_rounds} needed"
        )
        return [
            Finding(
                severity=Severity.warn,
                evidence={**evidence, "reason": why},
                message=f"not measured: the candidate's latency could not be compared with champion version "
                f"{m.champion_version}: {why}"[:1000],
            )
        ]
    worst = m.worst
    pct = f"{m.confidence:.0%}"
    parts = [
        f"{r.label} {r.candidate_ms:.1f} vs {r.champion_ms:.1f} ms "
        f"(ratio {r.ratio:.2f}, {pct} bounds {r.lower:.2f} to {r.upper:.2f})"
        for r in m.ratios
    ]
    left_out = f", {m.rounds - m.used} rounds left out ({m.stalled} stalled)" if m.used < m.rounds else ""
    message = (
        f"candidate vs champion version {m.champion_version}, {m.used} rounds of interleaved single-row requests"
        f"{left_out}: {'; '.join(parts)}; slowdown limit warn {p.slowdown.warn}x / fail {p.slowdown.fail}x"
    )
    found = judged(
        worst.lower,
        p.slowdown,
        message,
        evidence={
            **evidence,
            "judged": f"{worst.label} ratio lower bound",
            "confidence": m.confidence,
            "ratios": [asdict(r) for r in m.ratios],
        },
    )
    if found.severity is not Severity.info:
        found = found.model_copy(update={"message": "the candidate is slower than the champion: " + found.message})
    return [found]
