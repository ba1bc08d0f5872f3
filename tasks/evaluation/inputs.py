"""The evaluation layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tasks.evaluation.champion import Champion, ChampionScores
from tasks.limits import Floor


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
    delimiter: str = ","  # inputs.delimiter: the pinned version of a CSV test set is read with it too
    champion: Champion | None = None
    champion_scores: ChampionScores | None = None
    # The features the candidate was trained on (slices looks for categorical ones among them).
    features: tuple[str, ...] = ()
    # The candidate's scores on training's validation rows (columns label, score; None when training wrote none):
    # where bad_threshold chooses the best threshold, apart from the test rows it judges it on.
    validation: pd.DataFrame | None = None
    # test_score's floor, the default floor of each slice (None: the slices check's own default).
    score_floor: Floor | None = None
    # For spurious_feature: the fitted candidate pipeline (reads `features`), its `text` features, the training
    # file with its 0/1 labels and the positions of the rows the candidate was fitted on (what it rests on), and
    # the id and timestamp columns (inputs.id, inputs.timestamp).
    model: Any = None
    text: tuple[str, ...] = ()
    train: pd.DataFrame | None = None
    train_labels: np.ndarray | None = None
    fit_rows: np.ndarray | None = None
    key: str | None = None
    timestamp: str | None = None
