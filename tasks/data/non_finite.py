"""Non-finite values: infinities, or numbers so large that their square overflows a float (|x| > 1e154), in a
numeric column. No model can use them: a scaler's variance becomes inf or NaN, a tree splits them off as if
they were data, a drift statistic drops or saturates on them. They come from a division by zero upstream, a
sentinel (`1e308`, `9.99e307`) written for "unknown", or a unit bug; any of them in any file fails, naming the
column, the count and the values, whatever share they are (an out-of-range but finite value is value_range's
and out_of_range's to judge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tasks import checks
from tasks.columns import LARGEST
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


@dataclass(frozen=True)
class Column:
    frame: str
    column: str
    rows: int
    count: int
    values: tuple[str, ...]


def _numbers(s: pd.Series) -> np.ndarray | None:
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    return s.dropna().to_numpy(dtype="float64", na_value=np.nan)


def measure(x: DataInputs, p: checks.NoParams) -> Measurement:
    found: list[Column] = []
    checked = 0
    for name, df in {"train": x.train, **x.batches}.items():
        for column in x.numeric:
            values = _numbers(df[column]) if column in df else None
            if values is None:
                continue
            checked += 1
            bad = values[~np.isfinite(values) | (np.abs(values) > LARGEST)]
            if bad.size:
                shown = tuple(str(v) for v in pd.unique(bad)[:3])
                found.append(Column(name, column, len(df), int(bad.size), shown))
    return Measurement(tuple(found), checked)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    columns: tuple[Column, ...]
    checked: int = 0  # numeric columns looked at, over all files

    def metrics(self) -> dict[str, float]:
        return {f"{c.frame}.{c.column}.non_finite": float(c.count) for c in self.columns}


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """One fail per column and file holding such values; one info line when there are none."""
    if not m.columns:
        return [Finding(severity=Severity.info, message=f"every value of {m.checked} numeric columns is finite")]
    return [
        Finding(
            severity=Severity.fail,
            message=f"{c.frame}: column {c.column!r} has {c.count} non-finite or overflowing values of {c.rows} "
            f"rows ({', '.join(c.values)}); expected finite numbers below {LARGEST:.1e} in magnitude",
            columns=[c.column],
            evidence={"frame": c.frame, "rows": c.rows, "count": c.count, "values": list(c.values)},
        )
        for c in m.columns
    ]
