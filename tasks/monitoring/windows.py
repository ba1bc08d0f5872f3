"""Daily windows of the stored traffic, by event time (UTC days). A day with too few requests to say anything
is pooled with the days before it (a quiet Sunday joins Saturday), so every window is judged on enough rows
and none is passed for being small; the same pooling serves the labelled rows of the performance check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Window:
    """Consecutive days of traffic: `rows` are positions in the traffic frame, `first`/`last` the UTC days."""

    first: str
    last: str
    rows: np.ndarray

    @property
    def label(self) -> str:
        return self.first if self.first == self.last else f"{self.first}..{self.last}"

    def __len__(self) -> int:
        return len(self.rows)


def days(event_at: pd.Series) -> list[Window]:
    """One window per UTC day that has traffic, in time order."""
    day = pd.to_datetime(event_at, utc=True).dt.strftime("%Y-%m-%d").to_numpy()
    return [Window(d, d, np.flatnonzero(day == d)) for d in sorted(set(day))]


def merged(a: Window, b: Window) -> Window:
    return Window(a.first, b.last, np.sort(np.concatenate([a.rows, b.rows])))


def pooled(windows: Sequence[Window], enough: Callable[[np.ndarray], bool]) -> tuple[list[Window], list[Window]]:
    """Consecutive windows pooled until each is `enough`; a remainder that never gets there joins the last
    pooled window. Returns (windows that are enough, the remainder when nothing was: reported, not judged)."""
    done: list[Window] = []
    open_: Window | None = None
    for w in windows:
        open_ = w if open_ is None else merged(open_, w)
        if enough(open_.rows):
            done.append(open_)
            open_ = None
    if open_ is not None:
        if done:
            done[-1] = merged(done[-1], open_)
        else:
            return [], [open_]
    return done, []


def recent(event_at: pd.Series, lookback_days: int) -> np.ndarray:
    """Positions of the rows within `lookback_days` UTC days of the latest event."""
    if event_at.empty:
        return np.arange(0)
    t = pd.to_datetime(event_at, utc=True)
    start = t.max().normalize() - pd.Timedelta(days=lookback_days - 1)
    return np.flatnonzero((t >= start).to_numpy())


def short(labels: list[str]) -> list[str]:
    """Each window's first day as the x tick of a trend plot: MM-DD when every window is in one year."""
    firsts = [label.split("..")[0] for label in labels]
    return [f[5:] for f in firsts] if len({f[:4] for f in firsts}) == 1 else firsts
