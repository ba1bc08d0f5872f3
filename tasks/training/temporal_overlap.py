"""Temporal overlap: trusted test rows earlier than the latest training row. The model was fitted on the future
of what it is tested on, so the test score flatters it for forecasting, even when no row is shared. Judged on
the share of such test rows; the message names the window where the two splits overlap and how many training
rows fall in it. Needs `inputs.timestamp`; without it the check says it did not run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.001, fail=0.05),
        description="share of trusted test rows earlier than the latest training row (the model saw their "
        "future); set fail to null when rows have no time order that matters",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    timestamp: str | None  # None: no inputs.timestamp in both files, not measured
    test_rows: int = 0  # test rows with a readable timestamp (0: nothing readable, not measured)
    earlier: int = 0  # ... earlier than the latest training row
    latest_train: pd.Timestamp | None = None
    earliest_test: pd.Timestamp | None = None
    window_start: pd.Timestamp | None = None  # where training and test overlap in time (when they do)
    window_end: pd.Timestamp | None = None
    training_rows_in_window: int = 0

    @property
    def measured(self) -> bool:
        return self.timestamp is not None and self.test_rows > 0 and self.latest_train is not None

    @property
    def share(self) -> float:
        return self.earlier / self.test_rows if self.test_rows else 0.0

    def metrics(self) -> dict[str, float]:
        return {"share": self.share} if self.measured else {}


def _utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True, errors="coerce").dropna()


def measure(x: TrainingInputs, p: Params) -> Measurement:
    ts = x.timestamp
    if not ts or ts not in x.train.columns or ts not in x.test.columns:
        return Measurement(timestamp=None)
    train_ts, test_ts = _utc(x.train[ts]), _utc(x.test[ts])
    if train_ts.empty or test_ts.empty:
        return Measurement(timestamp=ts)
    latest = train_ts.max()
    earlier = test_ts < latest
    found = Measurement(
        timestamp=ts,
        test_rows=len(test_ts),
        earlier=int(earlier.sum()),
        latest_train=latest,
        earliest_test=test_ts.min(),
    )
    if not earlier.any():
        return found
    start, end = max(test_ts.min(), train_ts.min()), min(latest, test_ts.max())
    in_window = int(((train_ts >= start) & (train_ts <= end)).sum())
    return replace(found, window_start=start, window_end=end, training_rows_in_window=in_window)


def _hours(delta: pd.Timedelta) -> float:
    return delta.total_seconds() / 3600.0


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Info when the test set starts after training, or when the order cannot be read; else the share judged."""
    if m.timestamp is None:
        return [
            Finding(
                severity=Severity.info,
                message="no inputs.timestamp: whether the test set comes after training was not checked",
            )
        ]
    if not m.measured:
        return [
            Finding(
                severity=Severity.info,
                message=f"no readable {m.timestamp!r} values in training or test: the order of the splits is unknown",
                columns=[m.timestamp],
            )
        ]
    evidence: dict[str, Any] = {"latest_train": m.latest_train, "earliest_test": m.earliest_test}
    if not m.earlier:
        gap = m.earliest_test - m.latest_train
        return [
            judged(
                0.0,
                p.share,
                f"the trusted test set starts {gap} after the latest training row ({m.latest_train}): "
                "no overlap in time",
                columns=[m.timestamp],
                evidence={**evidence, "gap_hours": _hours(gap)},
            )
        ]
    window = _hours(m.window_end - m.window_start)
    return [
        judged(
            m.share,
            p.share,
            f"{m.earlier:,} of {m.test_rows:,} trusted test rows ({m.share:.2%}) are earlier than the latest "
            f"training row: training and test overlap from {m.window_start} to {m.window_end} ({window:,.1f} h), "
            f"with {m.training_rows_in_window:,} training rows in that window; the model has seen the future of "
            "what it is tested on: split by time",
            columns=[m.timestamp],
            evidence={
                **evidence,
                "test_rows_earlier": m.earlier,
                "window_start": m.window_start,
                "window_end": m.window_end,
                "window_hours": window,
                "training_rows_in_window": m.training_rows_in_window,
            },
        )
    ]
