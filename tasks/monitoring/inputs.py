"""The monitoring layer's inputs record: prepared once by the stage (one Evidently drift run over the served
inputs and predictions), read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tasks.drift import DriftRun


@dataclass(frozen=True)
class MonitoringInputs:
    """The current traffic as served against a sample of training, and the drift measured between them.

    `current` holds the `current` rows of the inference log: the features and the served score as column
    `prediction`; `reference` a fixed-seed sample of the training rows with the candidate's own scores in the
    same column. `drift` is the one Evidently run over both (per feature and for `prediction`: method, score,
    the threshold it is flagged at, or why it could not be measured); None when there was nothing to measure,
    with the reason in `not_measured`. `served_rows` counts current rows with a finite served score.
    `features` names the measured columns: a free-text feature `c` is measured as `c (words)`, its words per
    row, added to both frames.
    """

    current: pd.DataFrame
    reference: pd.DataFrame
    features: list[str]
    prediction: str
    drift: DriftRun | None
    served_rows: int
    not_measured: str | None = None

    @property
    def rows(self) -> int:
        return len(self.current)
