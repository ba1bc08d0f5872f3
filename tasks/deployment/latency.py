"""Latency statistics that a busy machine does not fool: stalled rounds told apart by a calibration measured
at the same moments, a distribution-free upper bound on a quantile, and a paired bootstrap bound on the ratio
of two servers' quantiles measured side by side.

Pure functions on arrays of milliseconds (NaN = a request that got no answer); the latency checks call them.
"""

from __future__ import annotations

import math

import numpy as np


def stalled(calibration_ms: np.ndarray, factor: float, min_ms: float) -> np.ndarray:
    """Rounds where the machine stalled: the calibration (a trivial request to the same server, sent in the same
    round) took more than `factor` times its median over the run and more than `min_ms`. A calibration that got
    no answer counts as stalled; with no calibration at all, no round is."""
    cal = np.asarray(calibration_ms, dtype="float64")
    finite = cal[np.isfinite(cal)]
    if finite.size == 0:
        return np.zeros(cal.shape, dtype=bool)
    limit = max(factor * float(np.median(finite)), min_ms)
    return ~np.isfinite(cal) | (cal > limit)


def quantile_upper_bound(values: np.ndarray, q: float, confidence: float) -> tuple[float, bool]:
    """A distribution-free upper confidence bound on the q-quantile of `values` (NaN dropped): the smallest order
    statistic X(k) with P(Binomial(n, q) < k) >= confidence. Returns (bound, exact); when n is too small for
    that confidence the bound does not exist and the max is returned with exact=False."""
    x = np.sort(np.asarray(values, dtype="float64"))
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), False
    ok = binomial_cdf(n, q) >= confidence  # ok[k - 1]: P(Binomial(n, q) <= k - 1) >= confidence
    if not ok.any():
        return float(x[-1]), False
    return float(x[int(np.argmax(ok))]), True


def binomial_cdf(n: int, q: float) -> np.ndarray:
    """P(Binomial(n, q) <= j) for j = 0..n-1, summed in log space (no overflow for thousands of requests)."""
    if q >= 1.0:
        return np.zeros(n)
    if q <= 0.0:
        return np.ones(n)
    log_pmf = (
        np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in range(n)])
        + np.arange(n) * math.log(q)
        + (n - np.arange(n)) * math.log1p(-q)
    )
    return np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)


def requests_for_bound(q: float, confidence: float) -> int:
    """How many answered requests make the max a `confidence` upper bound on the q-quantile (1 - q^n >= c)."""
    return math.ceil(math.log(1 - confidence) / math.log(q))


def ratio_bounds(
    a: np.ndarray, b: np.ndarray, q: float, confidence: float, resamples: int, seed: int
) -> tuple[float, float, float]:
    """The ratio quantile_q(a) / quantile_q(b) of paired samples (round i of a was measured beside round i of b),
    with a one-sided `confidence` bootstrap interval on each side: (lower, ratio, upper). Rounds are resampled
    whole, so whatever slowed a round for both sides stays paired."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    ratio = float(np.quantile(a, q) / np.quantile(b, q))
    idx = np.random.default_rng(seed).integers(0, a.size, size=(resamples, a.size))
    boot = np.quantile(a[idx], q, axis=1) / np.quantile(b[idx], q, axis=1)
    return float(np.quantile(boot, 1 - confidence)), ratio, float(np.quantile(boot, confidence))
