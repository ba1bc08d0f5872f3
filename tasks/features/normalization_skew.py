"""Normalization skew: a column scaled on one side of the model and raw on the other. Training values that
look standardized (mean 0, sd 1) or min-max scaled (within [0, 1]) beside serving values that do not, where
one is an affine map of the other, are a scaling step that one path applies and the other skips. A plain
drift changes the shape of a distribution; a missing scaler only moves and stretches it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.params import FeaturesParams
from tasks.result import Finding, Severity, judge, severity_for

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

    def normalized(self, tolerance: float) -> str | None:
        """'standardized' or 'min-max scaled' when the values look like a scaler's output, else None."""
        if abs(self.mean) <= tolerance and abs(self.sd - 1.0) <= tolerance:
            return "standardized"
        if abs(self.lo) <= tolerance and abs(self.hi - 1.0) <= tolerance:
            return "min-max scaled"
        return None

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


def normalization_skew(
    train: pd.DataFrame, batch: pd.DataFrame, columns: list[str], p: FeaturesParams, batch_name: str
) -> list[Finding]:
    """One finding per numeric column normalized on one side only and affinely related to the other side,
    sized by the distance between the sides (Wasserstein, in sds of the normalized side) and judged by
    `normalization_mismatch`. Columns normalized on both sides, or on neither, are not this bug."""
    findings = []
    for col in columns:
        ref, cur = _numbers(train[col]), _numbers(batch[col])
        if len(np.unique(ref)) < 2 or len(np.unique(cur)) < 2:
            continue
        s_ref, s_cur = Scale.of(ref), Scale.of(cur)
        k_ref, k_cur = s_ref.normalized(p.normalized_tolerance), s_cur.normalized(p.normalized_tolerance)
        if (k_ref is None) == (k_cur is None):
            continue
        a, b, r2, distance = affine_fit(ref, cur)
        if not r2 >= p.affine_fit_r2:  # NaN included: no affine map, so a change of shape (drift), not scaling
            continue
        # In units of the normalized side's sd: raw units left unscaled are many of them, a drift is a fraction.
        mismatch = distance / (s_ref.sd if k_ref is not None else s_cur.sd)
        limit = p.normalization_mismatch
        severity = severity_for(mismatch, limit.warn, limit.fail)
        if k_ref is not None:
            side = f"looks {k_ref} in training ({s_ref.describe()}) but not at serving ({s_cur.describe()})"
            cause = "the scaling applied in training is missing at serving"
        else:
            side = f"looks {k_cur} at serving ({s_cur.describe()}) but not in training ({s_ref.describe()})"
            cause = "serving applies a scaling training never did"
        verdict = {
            Severity.fail: cause,
            Severity.warn: f"{cause}, or a strong drift of a normalized column",
            Severity.info: "too close to be a missing scaler (a drift, if anything)",
        }[severity]
        findings.append(
            judge(
                "normalization_skew",
                mismatch,
                limit.warn,
                limit.fail,
                f"{batch_name}: {col!r} {side}; serving = {a:.4g} x training {'-' if b < 0 else '+'} {abs(b):.4g} "
                f"(R^2 {r2:.3f} over quantiles), {mismatch:.3g} sds of the normalized side apart: {verdict}",
                columns=[col],
                evidence={
                    "batch": batch_name,
                    "training": s_ref.__dict__,
                    "serving": s_cur.__dict__,
                    "normalized_side": "training" if k_ref else "serving",
                    "normalization": k_ref or k_cur,
                    "scale": a,
                    "offset": b,
                    "r2": r2,
                },
            )
        )
    return findings
