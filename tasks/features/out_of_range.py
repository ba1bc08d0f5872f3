"""Out-of-range inputs: numbers at serving beyond what the model was fitted on. A little past the training
range the model extrapolates (a warn); far beyond it, or of a sign training never had (a negative age), the
value is impossible for it (a fail).

A training sample's range is not the population's: by exchangeability, a row drawn like training falls outside
the range of n training rows with chance at most 2/(n+1), whatever the distribution (a count column with a rare
high value included). So a column is judged only when its batch has more rows outside the training range than
that allows (Poisson upper tail below `alpha`), or rows of a sign training never had: one row of 8 in a 0-4
count column of a 3,500-row table is a sample's edge, not a broken input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.stats import poisson

from tasks import checks
from tasks.limits import Limit
from tasks.result import Finding, Severity

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
    alpha: float = Field(
        0.001,
        gt=0.0,
        lt=1.0,
        description="chance that a batch drawn like training puts this many rows outside the training range (at "
        "most 2/(n+1) per row, by exchangeability), below which the rows are judged",
    )


@dataclass(frozen=True)
class Outside:
    batch: str
    column: str
    training_range: tuple[float, float]
    allowed_range: tuple[float, float]
    share_outside: float  # of the batch's rows
    share_beyond: float
    rows_beyond: int
    rows_outside: int
    rows_of_new_sign: int  # below 0 where training had none, or above 0 where training had none
    expected_outside: float  # rows outside the training range a batch drawn like training has, at most
    chance: float  # of at least rows_outside rows outside, for a batch drawn like training
    examples: tuple[float, ...]

    def judged(self, alpha: float) -> bool:
        return self.rows_of_new_sign > 0 or self.chance < alpha


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
            new_sign = ((cur < 0) & (lo >= 0)) | ((cur > 0) & (hi <= 0))
            expected = 2.0 * len(cur) / (len(ref) + 1)
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
                    rows_outside=int(outside.sum()),
                    rows_of_new_sign=int(new_sign.sum()),
                    expected_outside=expected,
                    chance=float(poisson.sf(int(outside.sum()) - 1, expected)),
                    examples=tuple(np.unique(shown.to_numpy())[:KEPT].tolist()),
                )
            )
    return Measurement(found=tuple(found), batches=tuple(x.batches))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The worse of the two verdicts per batch and column: impossible values, or extrapolation."""
    findings = []
    for o in m.found:
        severity = max(p.share.severity(o.share_beyond), p.extrapolation_share.severity(o.share_outside))
        if not o.judged(p.alpha):
            severity = Severity.info
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
        if not o.judged(p.alpha):
            message += (
                f"; {o.rows_outside:,} row(s) outside where a batch drawn like training has up to "
                f"{o.expected_outside:.1f} (a sample's range is not the population's): not judged"
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
                    "rows_outside_training": o.rows_outside,
                    "rows_of_new_sign": o.rows_of_new_sign,
                    "expected_outside_at_most": o.expected_outside,
                    "chance": o.chance,
                    "limits": {
                        "share": p.share.model_dump(),
                        "extrapolation_share": p.extrapolation_share.model_dump(),
                    },
                },
            )
        )
    return findings
