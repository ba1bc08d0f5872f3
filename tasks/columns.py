"""What a column is, decided once for every layer: numeric, datetime, finite numbers, scaled-looking; and the
few presentation rules every check shares (how many examples a message names, metric names MLflow accepts)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

EXAMPLES = 5  # example values, rows or ids a finding names


def is_numeric(s: pd.Series) -> bool:
    """Numbers a model reads as a magnitude: numeric dtypes, booleans excluded (they are two categories)."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s.dtype)


LARGEST = float(np.sqrt(np.finfo(np.float64).max))  # ~1.3e154: a larger number's square overflows to inf


def usable(x: pd.Series) -> pd.Series:
    """Where a float column holds a number arithmetic can use: finite, and small enough to square (a mean, a
    variance or a histogram's range over 1e308 is inf). The rest are non_finite's to name."""
    return np.isfinite(x) & (x.abs() <= LARGEST)


def finite(s: pd.Series) -> pd.Series:
    """The usable numbers of a column (NaN, infinities, overflowing values and anything unparseable dropped)."""
    x = pd.to_numeric(s, errors="coerce").astype("float64")
    return x[usable(x)]


def as_number(s: pd.Series) -> pd.Series:
    """A column to bin or rank: numbers as float64, booleans as 0/1, datetimes as their ticks (only their
    order is used, so the unit does not matter); anything unparseable, and inf, is NaN (inf is non_finite's to
    name; a model fitted on it would fail, a bin would hold it as data)."""
    if is_datetime(s):
        return s.astype("int64").astype("float64").where(s.notna())
    x = pd.to_numeric(s, errors="coerce").astype("float64")
    return x.where(usable(x))


def normalization(s: pd.Series, tolerance: float) -> str | None:
    """'standardized' (mean 0, sd 1) or 'min-max scaled' (0 to 1) when the finite values look like a scaler's
    output within `tolerance`, else None. The mark of a scaling step, which the features layer judges
    (normalization_skew) and the data layer leaves to it."""
    x = finite(s)
    if len(x) < 2:
        return None
    if abs(x.mean()) <= tolerance and abs(x.std(ddof=0) - 1.0) <= tolerance:
        return "standardized"
    if abs(x.min()) <= tolerance and abs(x.max() - 1.0) <= tolerance:
        return "min-max scaled"
    return None


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts, whatever the column is called."""
    return ".".join(re.sub(r"[^\w.\- /]", "_", str(p)) for p in parts)
