"""The daily windows' drift numbers come from Evidently's stat tests without a Report (no figures drawn): the same
numbers the Report gives, column by column; a window's full report goes to the workspace once per model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tasks.drift import drift_scores, measure_drift
from tasks.monitoring import workspace
from tasks.monitoring.windows import Window


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n),
            "with_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "with_inf": np.where(rng.random(n) < 0.05, np.inf, rng.normal(size=n)),
            "count": rng.integers(0, 5, n),
            "nullable": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), dtype="Int64"),
            "city": pd.Series(rng.choice(["oslo", "lima", "pune"], n, p=[0.5, 0.3, 0.2]), dtype="str"),
            "code": rng.integers(0, 4, n),  # an integer category
            "empty": np.full(n, np.nan),
        }
    )


NUMERIC = ["x", "with_nan", "with_inf", "count", "nullable", "empty"]
CATEGORICAL = ["city", "code"]


def test_the_scores_are_the_reports_scores() -> None:
    reference, current = _frame(3000, 0), _frame(700, 1, shift=0.3)
    thresholds = dict.fromkeys([*NUMERIC, *CATEGORICAL], 0.1)
    report = measure_drift(reference, current, NUMERIC, CATEGORICAL, thresholds)
    direct = drift_scores(reference, current, NUMERIC, CATEGORICAL, thresholds)
    assert direct.columns == report.columns and direct.unmeasured == report.unmeasured == {
        "empty": "no values in the reference"
    }
    assert direct.columns["x"].drifted and not direct.columns["city"].drifted and direct.snapshot is None


def _reporter(reference_rows: int) -> tuple[list[str], Callable[[Window], Any]]:
    """A window's report as the stage makes it, and the labels of the windows it was made for, in order."""
    reference = _frame(reference_rows, 0)
    thresholds = dict.fromkeys(["x", "city"], 0.1)
    made: list[str] = []

    def report(w: Window) -> Any:
        made.append(w.label)
        return measure_drift(reference, _frame(len(w), 2), ["x"], ["city"], thresholds).snapshot

    return made, report


def test_a_window_is_logged_once_per_model_and_again_when_it_grew(tmp_path: Path) -> None:
    made, report = _reporter(500)
    day1, day2 = Window("2026-01-01", "2026-01-01", np.arange(300)), Window("2026-01-02", "2026-01-02", np.arange(200))
    assert workspace.log_windows(tmp_path, "m-1", "run-1", [day1, day2], report, 5) == (2, 0)
    assert workspace.log_windows(tmp_path, "m-1", "run-2", [day1, day2], report, 5) == (0, 0)  # as they were
    grown = Window("2026-01-02", "2026-01-02", np.arange(260))
    assert workspace.log_windows(tmp_path, "m-1", "run-3", [day1, grown], report, 5) == (1, 0)
    assert workspace.log_windows(tmp_path, "m-2", "run-3", [day1], report, 5) == (1, 0)  # another model: its own
    assert made == ["2026-01-01", "2026-01-02", "2026-01-02", "2026-01-01"]
    assert len(list((tmp_path / "evidently").glob("*/snapshots/*.json"))) == 4


def test_a_run_adds_the_newest_windows_up_to_its_limit_and_the_next_runs_the_rest(tmp_path: Path) -> None:
    """A first run over many days draws `limit` reports, newest first; the next runs add the older ones."""
    made, report = _reporter(300)
    days = [Window(f"2026-01-0{d}", f"2026-01-0{d}", np.arange(200)) for d in range(1, 6)]
    assert workspace.log_windows(tmp_path, "m", "run-1", days, report, 2) == (2, 3)
    assert made == ["2026-01-04", "2026-01-05"]
    assert workspace.log_windows(tmp_path, "m", "run-2", days, report, 2) == (2, 1)
    assert workspace.log_windows(tmp_path, "m", "run-3", days, report, 2) == (1, 0)
    assert workspace.log_windows(tmp_path, "m", "run-4", days, report, 0) == (0, 0)
    assert sorted(made) == [d.label for d in days]
