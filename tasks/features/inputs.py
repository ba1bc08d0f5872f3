"""The features layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

BATCHES = ("test", "current")


@dataclass(frozen=True)
class FeatureInputs:
    """What the model was fitted on and what it will meet at serving.

    `batches` are the frames the model meets after training (the trusted test set, the current traffic), by
    name, in order. `fitted` / `replayed` are the training features as fitted and as the shipped preprocessing
    replays them (None without a preprocessing step); `vocabularies` / `shipped_vocabularies` the fingerprints
    of the text vocabularies fitted and shipped; `vectorizers` the fitted text vectorizers by raw column.
    """

    train: pd.DataFrame
    batches: dict[str, pd.DataFrame]
    features: list[str]
    categorical: list[str]
    numeric: list[str]
    text: list[str]
    timestamps: list[str] = field(default_factory=list)
    hour_features: list[str] = field(default_factory=list)
    fitted: np.ndarray | None = None
    replayed: np.ndarray | None = None
    vocabularies: dict[str, str] = field(default_factory=dict)
    shipped_vocabularies: dict[str, str] = field(default_factory=dict)
    vectorizers: dict[str, Any] = field(default_factory=dict)
