"""Small statistics the data checks share: effect sizes, log-odds, labels as 0/1, bounded samples. (What a
column is, numeric or datetime or scaled-looking, is decided once for every layer in tasks/columns.py.)"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def cohen_h(p1: float, p2: float) -> float:
    """Cohen's h between two proportions: the difference of their arcsine-root transforms, an effect size
    that does not grow with the sample (0.2 small, 0.5 medium, 0.8 large)."""
    clip = lambda p: min(1.0, max(0.0, float(p)))  # noqa: E731 (a one-line guard)
    return abs(2 * math.asin(math.sqrt(clip(p1))) - 2 * math.asin(math.sqrt(clip(p2))))


def logit(p: float | np.ndarray, eps: float = 1e-6) -> float | np.ndarray:
    p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def expit(x: float | np.ndarray) -> float | np.ndarray:
    return 1 / (1 + np.exp(-x))


def binary_labels(df: pd.DataFrame, target: str, positive: str | int | bool | None = None) -> pd.Series | None:
    """The target as 0/1 over the rows that have one, or None when the column is absent or not a binary label
    (target_values says what is wrong with it; label checks then have nothing to measure)."""
    from tasks.frames import label_codes

    if target not in df.columns:
        return None
    codes, bad = label_codes(df[target], positive)
    y = codes.dropna()
    if y.empty or bad:
        return None
    return y.astype("int64")


def sample_positions(n: int, rows: int, seed: int) -> np.ndarray:
    """Positions of at most `rows` of `n` rows, seeded, in order (all of them when `n <= rows`)."""
    if n <= rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=rows, replace=False))


def sample(df: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most `rows` rows drawn with `seed` (the original index kept, so findings can name rows)."""
    return df if len(df) <= rows else df.sample(n=rows, random_state=seed)
