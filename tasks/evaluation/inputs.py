"""The evaluation layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.evaluation.champion import Champion, ChampionScores


@dataclass(frozen=True)
class EvaluationInputs:
    """The candidate on the trusted test set, and the champion on the same rows.

    `test` is the trusted test set as read from `test_file`, `test_pin` the md5 it is pinned to in params
    (None: its `.dvc` file, if any, is the pin). `labels` are its binary 0/1 targets and `scores` the
    candidate's positive-class scores on its rows, in order; label metrics cut `scores` at `threshold`, and
    `metric` is the score the gates judge. `champion` is the version under `alias` of `registered_model`
    (None on the first run) and `champion_scores` its scores on the same rows, or the reason it gave none.
    """

    test: pd.DataFrame
    test_file: Path
    labels: np.ndarray
    scores: np.ndarray
    metric: str
    threshold: float
    candidate_uri: str
    candidate_id: str | None
    registered_model: str
    alias: str
    test_pin: str | None = None
    champion: Champion | None = None
    champion_scores: ChampionScores | None = None
