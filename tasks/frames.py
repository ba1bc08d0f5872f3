"""Reading the user's data files, with one-line errors that name the file, the column and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.errors import ConfigError

if TYPE_CHECKING:
    from tasks.params import Inputs


def read_frame(path: Path, sep: str = ",") -> pd.DataFrame:
    """CSV or Parquet by suffix. A missing or unreadable file is a ConfigError, not a traceback (the form of
    the user's input files is checked before a run: tasks/input_files.py)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found (expected a CSV or Parquet file)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".gz", ".zip"):
            return pd.read_csv(path, sep=sep)
    except Exception as e:  # any parser error is the user's file, reported in one line
        raise ConfigError(f"{path}: cannot be read as {path.suffix.lstrip('.')} ({type(e).__name__}: {e})") from None
    raise ConfigError(f"{path}: unsupported file type {path.suffix!r} (expected .csv or .parquet)")


def require_columns(df: pd.DataFrame, columns: list[str], path: Path, role: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: column {missing[0]!r} ({role}) not found; columns are {list(df.columns)[:20]}")


def feature_columns(inputs: Inputs, df: pd.DataFrame) -> list[str]:
    """The model's raw inputs: `inputs.features`, or every column but the target, id, timestamp and date-times
    (a point in time is no input a model can generalise from: its hour or weekday is)."""
    if inputs.features is not None:
        dated = [c for c in inputs.features if c in df.columns and _is_datetime(df[c])]
        if dated:
            raise ConfigError(
                f"inputs.features: {dated[0]!r} is a date-time column ({df[dated[0]].dtype}); expected numbers,"
                " categories or text (derive its hour or weekday as a feature; name the event time inputs.timestamp)"
            )
        return list(inputs.features)
    reserved = {inputs.target, inputs.id, inputs.timestamp}
    return [c for c in df.columns if c not in reserved and not _is_datetime(df[c])]


def _is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s)


def categorical_columns(inputs: Inputs, df: pd.DataFrame, features: list[str]) -> list[str]:
    """`inputs.categorical`, or the features whose dtype is not numeric or boolean (text columns excluded)."""
    if inputs.categorical is not None:
        return list(inputs.categorical)
    return [
        c
        for c in features
        if c not in inputs.text and not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]


ONE, ZERO = frozenset({"1", "1.0", "true"}), frozenset({"0", "0.0", "false"})
YAML_TRUE = frozenset({"true", "yes", "y", "on", "1"})
YAML_FALSE = frozenset({"false", "no", "n", "off", "0"})


def is_positive(value: object, positive: str | int | bool) -> bool:
    """Whether a target value is the one `inputs.positive_label` names, compared as text (a YAML `yes` arrives
    as True: it matches yes/true/y/on, whatever the case)."""
    text = str(value).strip()
    if isinstance(positive, bool):
        return text.lower() in (YAML_TRUE if positive else YAML_FALSE)
    if text == str(positive):
        return True
    try:
        return float(text) == float(positive)
    except ValueError:
        return False


def label_codes(
    y: pd.Series, positive: str | int | bool | None, negative: str | None = None
) -> tuple[pd.Series, list[str]]:
    """The target as 1.0/0.0 (NaN where missing), and the values that are not a binary label's: without
    `positive`, anything but 0/1 (or true/false); with it, every value but the positive one and one other (the
    `negative` the training snapshot holds, when known)."""
    known = y.dropna()
    distinct = pd.unique(known)
    if positive is None:
        text = {v: str(v).strip().lower() for v in distinct}
        codes = {v: float(t in ONE) for v, t in text.items() if t in ONE or t in ZERO}
        bad = [v for v in distinct if v not in codes]
    else:
        codes = {v: 1.0 for v in distinct if is_positive(v, positive)}
        others = sorted((v for v in distinct if v not in codes), key=str)
        if negative is not None:
            bad = [v for v in others if str(v).strip() != negative]
        else:
            bad = others if len(others) > 1 else []
        codes |= {v: 0.0 for v in others}
    return y.map(codes).astype("float64"), sorted(map(str, bad))


def binary_target(df: pd.DataFrame, inputs: Inputs, path: Path) -> pd.Series:
    """The target as 0/1 for fitting and scoring. glassbox judges binary classifiers: missing or other values
    are the data layer's fail (target_values) before any stage gets here; reached anyway, an input error."""
    target = inputs.target
    codes, bad = label_codes(df[target], inputs.positive_label)
    if bad:
        raise ConfigError(f"{path}: column {target!r} (target) must be binary, found values {bad[:5]}")
    if codes.isna().any():
        raise ConfigError(f"{path}: column {target!r} (target) has {int(codes.isna().sum())} missing values")
    return codes.astype(int)


def load_inputs(inputs: Inputs, which: tuple[str, ...] = ("train", "test", "current")) -> dict[str, pd.DataFrame]:
    """Read the named input files and check that the columns params names exist in each."""
    frames: dict[str, pd.DataFrame] = {}
    for name in which:
        path = inputs.files()[name]
        df = read_frame(path, inputs.delimiter)
        needed = [c for c in (inputs.id, inputs.timestamp) if c]
        if name != "current":
            needed.append(inputs.target)
        require_columns(df, needed, path, "named in inputs")
        if inputs.features is not None:
            require_columns(df, list(inputs.features), path, "feature")
        frames[name] = df
    return frames
