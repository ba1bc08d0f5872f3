"""Labels that arrive after serving (the flight landed, the loan defaulted), joined to the stored requests.

The feedback is `inputs.labels` (CSV or Parquet) keyed by a `request_id` column or by the id column
(`inputs.id`), holding the target column; without it, the current batch's own target column when it has one
(the demo's traffic comes with its outcomes). A request whose label has not arrived stays unlabelled: it counts
for drift and confidence, never for performance. The data layer does not read this file: feedback arrives
after the data gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.errors import ConfigError
from tasks.frames import label_codes, read_frame
from tasks.monitoring.store import REQUEST_ID, row_hash

if TYPE_CHECKING:
    from tasks.params import Inputs

NONE = "none"


def _keyed(df: pd.DataFrame, key: str, inputs: Inputs, path: Path) -> pd.Series:
    """The label per request id (the last row of a repeated id wins: a corrected label replaces the first)."""
    labels, bad = label_codes(df[inputs.target], inputs.positive_label)
    if bad:
        raise ConfigError(f"{path}: column {inputs.target!r} (target) must be binary, found values {bad[:5]}")
    keys = df[key].astype("string").astype(object)
    table = pd.Series(labels.to_numpy(), index=keys.to_numpy())
    return table[~table.index.duplicated(keep="last")]


def feedback(inputs: Inputs, features: list[str]) -> tuple[pd.Series | None, str]:
    """Labels by request id, and where they came from (a file path, or NONE with None)."""
    target = inputs.target
    if inputs.labels is not None:
        path = Path(inputs.labels)
        df = read_frame(path, inputs.delimiter)
        key = REQUEST_ID if REQUEST_ID in df.columns else inputs.id
        if key is None or key not in df.columns:
            raise ConfigError(
                f"{path}: no key column: expected {REQUEST_ID!r}"
                + (f" or the id column {inputs.id!r}" if inputs.id else " (or set inputs.id)")
            )
        if target not in df.columns:
            raise ConfigError(f"{path}: column {target!r} (target) not found; columns are {list(df.columns)[:20]}")
        return _keyed(df, key, inputs, path), str(path)
    current = read_frame(Path(inputs.current), inputs.delimiter)
    if target not in current.columns:
        return None, NONE
    if inputs.id and inputs.id in current.columns:
        return _keyed(current, inputs.id, inputs, Path(inputs.current)), str(inputs.current)
    raw = [c for c in dict.fromkeys([*(c for c in (inputs.timestamp,) if c), *features]) if c in current.columns]
    keyed = current.assign(**{REQUEST_ID: row_hash(current[raw])})
    return _keyed(keyed, REQUEST_ID, inputs, Path(inputs.current)), str(inputs.current)


def join(requests: pd.DataFrame, labels: pd.Series | None) -> pd.Series:
    """Each stored request's label (NaN where none arrived)."""
    if labels is None or requests.empty:
        return pd.Series(float("nan"), index=requests.index, dtype="float64")
    ids = requests[REQUEST_ID].astype("string").astype(object)
    return pd.Series(ids.map(labels).to_numpy(dtype="float64"), index=requests.index)
