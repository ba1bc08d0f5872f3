"""Every data check on frames hypothesis makes hostile (one row, inf and 1e308, nullable integers, formulas and
100,000-character strings, a constant or all-missing column, a third label value, one class): each check measures
and judges, never crashes (a `check_error` would be a bug), and a frame with a planted problem gets a warn or fail
naming its column."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.checks import ERROR_CHECK, configured, run_checks
from tasks.data.checks import CHECKS, Settings
from tasks.result import Severity
from tests.data_inputs import data_inputs

NUMBERS = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 1e308, 0.0]),
)
TEXT = st.one_of(
    st.sampled_from(["oslo", "lima", "pune", "=1+1", '=HYPERLINK("x")', "", "NULL"]),
    st.just("x" * 100_000),
    st.none(),
)


@st.composite
def frames(draw: st.DrawFn, min_rows: int = 1) -> pd.DataFrame:
    n = draw(st.integers(min_rows, 40))
    df = pd.DataFrame(
        {
            "num": draw(st.lists(NUMBERS, min_size=n, max_size=n)),
            "count": pd.array(draw(st.lists(st.one_of(st.integers(0, 9), st.none()), min_size=n, max_size=n)), "Int64"),
            "city": draw(st.lists(TEXT, min_size=n, max_size=n)),
            "flag": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
            "y": draw(st.lists(st.sampled_from([0, 1, 1, 0, 2]), min_size=n, max_size=n)),
        }
    )
    if draw(st.booleans()):
        df["num"] = draw(st.sampled_from([np.nan, 7.0]))  # all missing, or constant
    return df


def _findings(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame) -> list:
    x = data_inputs(
        train,
        {"test": test, "current": current},
        numeric=["num", "count"],
        categorical=["city", "flag"],
        sample_rows=200,
        drift_reference_rows=200,
        min_rows=30,
    )
    return run_checks(configured(CHECKS, Settings()), x, Path(tempfile.mkdtemp())).findings


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(train=frames(min_rows=2), test=frames(), current=frames())
def test_no_data_check_crashes_on_hostile_frames(train: pd.DataFrame, test: pd.DataFrame, current: pd.DataFrame):
    """Whatever the frames hold, every data check ends in findings; none is a crash."""
    crashed = [f.message for f in _findings(train, test, current) if f.check == ERROR_CHECK]
    assert not crashed, crashed


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(base=frames(min_rows=40), where=st.sampled_from(["inf", "label", "formula"]))
def test_a_planted_problem_is_named(base: pd.DataFrame, where: str):
    """inf in a numeric column, a third label value, a formula in a text column: a warn or fail names it."""
    clean = base.assign(num=np.arange(len(base), dtype="float64"), city="oslo", y=np.arange(len(base)) % 2)
    current = clean.copy()
    if where == "inf":
        current.loc[current.index[:2], "num"] = np.inf
    elif where == "label":
        current.loc[current.index[:2], "y"] = 2
    else:
        current.loc[current.index[:2], "city"] = "=1+1"
    column = {"inf": "num", "label": "y", "formula": "city"}[where]
    found = _findings(clean, clean.copy(), current)
    named = [
        f for f in found if f.severity is not Severity.info and f.message.startswith("current") and column in f.message
    ]
    assert named, [(f.check, f.severity.value, f.message[:80]) for f in found if f.severity is not Severity.info]
