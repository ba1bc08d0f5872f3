"""A data-layer inputs record on in-memory frames, for unit tests of the data checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tasks.data.inputs import Baseline, DataInputs
from tasks.data.outcomes import Outcome, Validation
from tasks.data.stats import binary_labels


def data_inputs(
    train: pd.DataFrame,
    batches: dict[str, pd.DataFrame] | None = None,
    *,
    target: str = "y",
    numeric: list[str] | None = None,
    categorical: list[str] | None = None,
    features: list[str] | None = None,
    baseline: Baseline | None = None,
    **kw: Any,
) -> DataInputs:
    """Roles default to what the frame says: every column but the target is a feature, numbers are numeric,
    the rest categorical."""
    batches = {} if batches is None else batches
    features = features or [c for c in train.columns if c != target]
    if numeric is None:
        numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]
    if categorical is None:
        categorical = [c for c in features if c not in numeric]
    fields: dict[str, Any] = {
        "id": None,
        "timestamp": None,
        "labels": binary_labels(train, target),
        "batch_labels": {name: binary_labels(df, target) for name, df in batches.items()},
        "files": {},
        "pinned": {},
        "train_md5": "0" * 32,
        "baseline": baseline or Baseline(dir="gx/expectations"),
        **kw,
    }
    return DataInputs(
        train=train,
        batches=batches,
        target=target,
        features=features,
        categorical=categorical,
        numeric=numeric,
        **fields,
    )


def validated(*outcomes: Outcome, batch: str = "test", columns: tuple[str, ...] = ("x", "y")) -> DataInputs:
    """Inputs holding one batch's GX outcomes (what the GX-based checks read)."""
    v = Validation(
        batch=batch, rows=1000, columns=columns, suites=("inputs",), outcomes=outcomes, serving=batch == "current"
    )
    return data_inputs(pd.DataFrame({"y": [0, 1]}), validations={batch: v}, files={"train": Path("t.parquet")})
