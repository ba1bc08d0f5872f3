"""Out-of-range inputs: numbers at serving beyond what the model was fitted on. A little past the training
range the model extrapolates (a warn); far beyond it, or of a sign training never had (a negative age), the
value is impossible for it (a fail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs

KEPT = 10  # example values kept in the evidence


class Params(checks.CheckParams):
    extrapolation_share: Limit = Field(
        Limit(warn=0.01, fail=None), description="share of a batch's rows outside the training range"
    )
    share: Limit = Field(
        Limit(warn=0.0, fail=0.01),
        description="share of a batch's rows beyond the training range widened by `range_margin` spans (or of a "
        "sign training never had): values no real input has",
    )
    range_margin: float = Field(0.5, ge=0.0, description="training spans added on each side of the allowed range")


@dataclass(frozen=True)
class Outside:
    batch: str
    column: str
    training_range: tuple[float, float]
    allowed_range: tuple[float, float]
    share_outside: float  # of the batch's rows
    share_beyond: float
    rows_beyond: int
    examples: tuple[float, ...]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Outside, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {
            f"{b}.max_share_beyond": max((o.share_beyond for o in self.found if o.batch == b), default=0.0)
            for b in self.batches
        }


def allowed(lo: float, hi: float, margin: float) -> tuple[float, float]:
    """The training range widened by `margin` spans, never across zero when training was one-sided."""
    pad = margin * (hi - lo)
    low, high = lo - pad, hi + pad
    return (max(low, 0.0) if lo >= 0 else low), (min(high, 0.0) if hi <= 0 else high)


def _numbers(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").dropna()


def measure(x: FeatureInputs, p: Params) -> Measurement:
    found = []
    for name, batch in x.batches.items():
        for col in x.numeric:
            if col not in batch.columns or col not in x.train.columns:
                continue
            ref, cur = _numbers(x.train[col]), _numbers(batch[col])
            if ref.empty or cur.empty:
                continue
            lo, hi = float(ref.min()), float(ref.max())
            wide = allowed(lo, hi, p.range_margin)
            outside = (cur < lo) | (cur > hi)
            if not outside.any():
                continue
            far = (cur < wide[0]) | (cur > wide[1])
            n = max(len(batch), 1)
            shown = cur[far if far.any() else outside]
            found.append(
                Outside(
                    batch=name,
                    column=col,
                    training_range=(lo, hi),
                    allowed_range=wide,
                    share_outside=float(outside.sum() / n),
                    share_beyond=float(far.sum() / n),
                    rows_beyond=int(far.sum()),
                    examples=tuple(np.unique(shown.to_numpy())[:KEPT].tolist()),
                )
            )
    return Measurement(found=tuple(found), batches=tuple(x.batches))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The worse of the two verdicts per batch and column: impossible values, or extrapolation."""
    findings = []
    for o in m.found:
        severity = max(p.share.severity(o.share_beyond), p.extrapolation_share.severity(o.share_outside))
        (lo, hi), (wlo, whi) = o.training_range, o.allowed_range
        values = ", ".join(f"{v:g}" for v in o.examples[:5])
        if o.rows_beyond:
            message = (
                f"{o.batch}: {o.column!r}: {o.share_beyond:.2%} of rows beyond the allowed range [{wlo:g}, {whi:g}] "
                f"(the training range [{lo:g}, {hi:g}] widened by {p.range_margin:g} spans), e.g. {values}; "
                f"{o.share_outside:.2%} outside the training range"
            )
        else:
            message = (
                f"{o.batch}: {o.column!r}: {o.share_outside:.2%} of rows outside the training range [{lo:g}, {hi:g}] "
                f"(the model extrapolates), e.g. {values}; none beyond the allowed [{wlo:g}, {whi:g}]"
            )
        findings.append(
            Finding(
                severity=severity,
                message=message,
                columns=[o.column],
                evidence={
                    "batch": o.batch,
                    "training_range": o.training_range,
                    "allowed_range": o.allowed_range,
                    "share_outside_training": o.share_outside,
                    "share_beyond_allowed": o.share_beyond,
                    "values": o.examples,
                    "rows_beyond_allowed": o.rows_beyond,
                    "limits": {
                        "share": p.share.model_dump(),
                        "extrapolation_share": p.extrapolation_share.model_dump(),
                    },
                },
            )
        )
    return findings
