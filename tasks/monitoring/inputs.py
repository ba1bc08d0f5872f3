"""The monitoring layer's inputs record: prepared once by the stage (one Evidently drift run over the served
inputs and predictions), read by every check (and by users' own)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from tasks.drift import DriftRun
from tasks.monitoring.windows import Window


@dataclass(frozen=True)
class TrustedScore:
    """The candidate's gate metric on the trusted test set, as the evaluation stage measured it: `value`, and
    `scaled` on the scale where 0.5 is chance and 1 perfect; `threshold` where label metrics cut the scores."""

    metric: str
    value: float
    scaled: float
    threshold: float
    rows: int


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
    # The inference store's requests of this model within monitoring.lookback_days (the measured features, the
    # served score as `prediction`, the feedback label as `label`: NaN until it arrives, `event_at`), cut into
    # daily `windows` (days too small pooled); `window_drift` the drift run of each window by its label;
    # `no_windows` why there are none.
    traffic: pd.DataFrame | None = None
    label: str = "label"
    windows: tuple[Window, ...] = ()
    days: tuple[Window, ...] = ()  # one window per day with traffic (the labelled checks pool them their own way)
    window_drift: dict[str, DriftRun] = field(default_factory=dict)
    no_windows: str | None = None
    labels_from: str = "none"  # the feedback's source: a file, or "none"
    train_label_rate: float = math.nan  # the training rows' positive share
    trusted: TrustedScore | None = None  # the test score the windows' performance is held to (None: not found)

    @property
    def rows(self) -> int:
        return len(self.current)
