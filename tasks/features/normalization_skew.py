"""Normalization skew: a column scaled on one side of the model and raw on the other. Training values that
look standardized (mean 0, sd 1) or min-max scaled (within [0, 1]) beside serving values that do not, where
one is an affine map of the other, are a scaling step that one path applies and the other skips. A plain
drift changes the shape of a distribution; a missing scaler only moves and stretches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import normalization
from tasks.limits import Limit, Share, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs


class Params(checks.CheckParams):
    tolerance: float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        description="a column looks normalized when |mean| and |sd - 1| (standardized) or |min| and |max - 1| "
        "(min-max scaled) are within this (the data layer uses the same rule to leave such columns to this check)",
    )
    affine_fit_r2: Share = Field(
        0.9,
        description="R^2 of serving vs training quantiles an affine map must reach: a scaler only moves and "
        "stretches, a drift changes the shape",
    )
    mismatch: Limit = Field(
        Limit(warn=0.5, fail=1.0),
        description="distance between the two sides, in standard deviations of the normalized side",
    )


# Quantile levels compared between the two sides (the tails are left out: a few outliers must not decide).
LEVELS = np.linspace(0.01, 0.99, 99)


@dataclass(frozen=True)
class Scale:
    mean: float
    sd: float
    lo: float
    hi: float

    @classmethod
    def of(cls, x: np.ndarray) -> Scale:
        return cls(float(x.mean()), float(x.std()), float(x.min()), float(x.max()))

    def describe(self) -> str:
        return f"mean {_g(self.mean)}, sd {_g(self.sd)}, range [{_g(self.lo)}, {_g(self.hi)}]"


def _g(x: float) -> str:
    """3 significant digits; float noise of a fitted scaler (1e-17) shown as the 0 it is."""
    return f"{0.0 if abs(x) < 1e-9 else x:.3g}"


def affine_fit(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, float, float]:
    """Scale a, offset b and R^2 of `quantiles(cur) ~ a * quantiles(ref) + b`, and the mean |difference| of
    the quantiles (a Wasserstein distance between the two distributions, in their units)."""
    q_ref, q_cur = np.quantile(ref, LEVELS), np.quantile(cur, LEVELS)
    distance = float(np.abs(q_cur - q_ref).mean())
    if np.ptp(q_ref) == 0 or np.ptp(q_cur) == 0:
        return float("nan"), float("nan"), float("nan"), distance
    a, b = np.polyfit(q_ref, q_cur, 1)
    residual = q_cur - (a * q_ref + b)
    r2 = 1.0 - float(residual @ residual) / float(((q_cur - q_cur.mean()) ** 2).sum())
    return float(a), float(b), r2, distance


def _numbers(s: pd.Series) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return x[np.isfinite(x)]


@dataclass(frozen=True)
class Skew:
    """A column normalized on one side only, with an affine map between the sides."""

    batch: str
    column: str
    training: Scale
    serving: Scale
    normalized_side: str  # "training" or "serving"
    normalization: str  # "standardized" or "min-max scaled"
    scale: float
    offset: float
    r2: float
    mismatch: float  # Wasserstein distance in sds of the normalized side


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Skew, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {
            f"{b}.max_mismatch": max((s.mismatch for s in self.found if s.batch == b), default=0.0)
            for b in self.batches
        }


def measure(x: FeatureInputs, p: Params) -> Measurement:
    """Numeric columns normalized on one side only and affinely related to the other side. Columns normalized
    on both sides, or on neither, are not this bug; without an affine map it is a change of shape (drift)."""
    found = []
    for name, batch in x.batches.items():
        for col in x.numeric:
            if col not in batch.columns or col not in x.train.columns:
                continue
            k_ref, k_cur = normalization(x.train[col], p.tolerance), normalization(batch[col], p.tolerance)
            if (k_ref is None) == (k_cur is None):
                continue
            ref, cur = _numbers(x.train[col]), _numbers(batch[col])
            if len(np.unique(ref)) < 2 or len(np.unique(cur)) < 2:
                continue
            a, b, r2, distance = affine_fit(ref, cur)
            if not r2 >= p.affine_fit_r2:  # NaN included
                continue
            s_ref, s_cur = Scale.of(ref), Scale.of(cur)
            # In units of the normalized side's sd: raw units left unscaled are many, a drift is a fraction.
            mismatch = distance / (s_ref.sd if k_ref is not None else s_cur.sd)
            side = "training" if k_ref is not None else "serving"
            found.append(Skew(name, col, s_ref, s_cur, side, k_ref or k_cur or "", a, b, r2, mismatch))
    return Measurement(found=tuple(found), batches=tuple(x.batches))


def judge(m: Measurement, p: Params) -> list[Finding]:
    findings = []
    for s in m.found:
        if s.normalized_side == "training":
            side = (
                f"looks {s.normalization} in training ({s.training.describe()}) but not at serving "
                f"({s.serving.describe()})"
            )
            cause = "the scaling applied in training is missing at serving"
        else:
            side = (
                f"looks {s.normalization} at serving ({s.serving.describe()}) but not in training "
                f"({s.training.describe()})"
            )
            cause = "serving applies a scaling training never did"
        verdict = {
            Severity.fail: cause,
            Severity.warn: f"{cause}, or a strong drift of a normalized column",
            Severity.info: "too close to be a missing scaler (a drift, if anything)",
        }[p.mismatch.severity(s.mismatch)]
        findings.append(
            judged(
                s.mismatch,
                p.mismatch,
                f"{s.batch}: {s.column!r} {side}; serving = {s.scale:.4g} x training "
                f"{'-' if s.offset < 0 else '+'} {abs(s.offset):.4g} (R^2 {s.r2:.3f} over quantiles), "
                f"{s.mismatch:.3g} sds of the normalized side apart: {verdict}",
                columns=[s.column],
                evidence={
                    "batch": s.batch,
                    "training": s.training.__dict__,
                    "serving": s.serving.__dict__,
                    "normalized_side": s.normalized_side,
                    "normalization": s.normalization,
                    "scale": s.scale,
                    "offset": s.offset,
                    "r2": s.r2,
                },
            )
        )
    return findings
