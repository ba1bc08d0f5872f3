"""Small statistics the data checks share: effect sizes, labels as 0/1, bounded samples, column kinds."""

from __future__ import annotations

import math
import re

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


def binary_labels(df: pd.DataFrame, target: str) -> pd.Series | None:
    """The target as 0/1 over the rows that have one, or None when the column is absent or not 0/1 (the
    GX target suite reports what is wrong with it; label checks then have nothing to measure)."""
    if target not in df.columns:
        return None
    y = df[target].dropna()
    if y.empty or not pd.api.types.is_numeric_dtype(y) or not set(pd.unique(y)) <= {0, 1}:
        return None
    return y.astype("int64")


def sample(df: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most `rows` rows drawn with `seed` (the original index kept, so findings can name rows)."""
    return df if len(df) <= rows else df.sample(n=rows, random_state=seed)


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s.dtype)


def finite(s: pd.Series) -> pd.Series:
    """The finite numbers of a numeric column (NaN and infinities dropped), as float64."""
    x = pd.to_numeric(s, errors="coerce").astype("float64")
    return x[np.isfinite(x)]


def looks_normalized(s: pd.Series, tolerance: float) -> bool:
    """Values that look standardized (mean 0, sd 1) or min-max scaled (0 to 1), within `tolerance`: the mark
    of a scaling step, which the features layer judges (normalization_skew)."""
    x = finite(s)
    if len(x) < 2:
        return False
    standardized = abs(x.mean()) <= tolerance and abs(x.std() - 1) <= tolerance
    min_max = abs(x.min()) <= tolerance and abs(x.max() - 1) <= tolerance
    return bool(standardized or min_max)


def as_number(s: pd.Series) -> pd.Series:
    """A column to bin or rank: numbers as float64, booleans as 0/1, datetimes as their ticks (only their
    order is used, so the unit does not matter); anything unparseable is NaN."""
    if is_datetime(s):
        return s.astype("int64").astype("float64").where(s.notna())
    return pd.to_numeric(s, errors="coerce").astype("float64")


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts, whatever the column is called."""
    return ".".join(re.sub(r"[^\w.\- /]", "_", p) for p in parts)
