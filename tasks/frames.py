"""Reading the user's data files, with one-line errors that name the file, the column and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.errors import ConfigError

if TYPE_CHECKING:
    from tasks.params import Inputs


def read_frame(path: Path) -> pd.DataFrame:
    """CSV or Parquet by suffix. A missing or unreadable file is a ConfigError, not a traceback."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found (expected a CSV or Parquet file)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".gz", ".zip"):
            return pd.read_csv(path)
    except Exception as e:  # any parser error is the user's file, reported in one line
        raise ConfigError(f"{path}: cannot be read as {path.suffix.lstrip('.')} ({type(e).__name__}: {e})") from None
    raise ConfigError(f"{path}: unsupported file type {path.suffix!r} (expected .csv or .parquet)")


def require_columns(df: pd.DataFrame, columns: list[str], path: Path, role: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: column {missing[0]!r} ({role}) not found; columns are {list(df.columns)[:20]}")


def feature_columns(inputs: Inputs, df: pd.DataFrame) -> list[str]:
    """The model's raw inputs: `inputs.features`, or every column but the target, id and timestamp."""
    if inputs.features is not None:
        return list(inputs.features)
    reserved = {inputs.target, inputs.id, inputs.timestamp}
    return [c for c in df.columns if c not in reserved]


def categorical_columns(inputs: Inputs, df: pd.DataFrame, features: list[str]) -> list[str]:
    """`inputs.categorical`, or the features whose dtype is not numeric or boolean (text columns excluded)."""
    if inputs.categorical is not None:
        return list(inputs.categorical)
    return [
        c
        for c in features
        if c not in inputs.text and not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]


def binary_target(df: pd.DataFrame, target: str, path: Path) -> pd.Series:
    """The target as 0/1. glassbox judges binary classifiers; anything else is an input error."""
    y = df[target]
    values = set(pd.unique(y.dropna()))
    if y.isna().any():
        raise ConfigError(f"{path}: column {target!r} (target) has {int(y.isna().sum())} missing values")
    if not values <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise ConfigError(f"{path}: column {target!r} (target) must be binary 0/1, found values {shown}")
    return y.astype(int)


def load_inputs(inputs: Inputs, which: tuple[str, ...] = ("train", "test", "current")) -> dict[str, pd.DataFrame]:
    """Read the named input files and check that the columns params names exist in each."""
    frames: dict[str, pd.DataFrame] = {}
    for name in which:
        path = inputs.files()[name]
        df = read_frame(path)
        needed = [c for c in (inputs.id, inputs.timestamp) if c]
        if name != "current":
            needed.append(inputs.target)
        require_columns(df, needed, path, "named in inputs")
        if inputs.features is not None:
            require_columns(df, list(inputs.features), path, "feature")
        frames[name] = df
    return frames
