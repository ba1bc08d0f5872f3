"""Every CSV glassbox writes goes through here. Text in the evidence can come from the data (category values,
column names), and a spreadsheet runs a cell that starts like a formula (OWASP's CSV injection): such text cells
get a leading `'`. Numbers are never touched: a negative number stays a number, as DVC plots read these files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A text value that a spreadsheet would read as a formula, quoted; anything else (numbers included) as is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _is_text(s: pd.Series) -> bool:
    return (
        pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype)
    )


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with formula-looking text cells and column names quoted; numeric columns are left as they are."""
    out = table.copy()
    for i in range(table.shape[1]):
        s = table.iloc[:, i]
        if _is_text(s):
            out.isetitem(i, s.astype(object).map(neutral))
    out.columns = [neutral(c) for c in table.columns]
    return out


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write `table` (no index) to `path` with formula-looking text neutralised; returns the path."""
    neutralised(table).to_csv(path, index=False)
    return path
