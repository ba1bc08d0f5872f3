"""Which columns are model inputs: a date-time column is never one (skops could not even load a preprocessing
fitted on Timestamps): left out when features are not listed, a one-line error naming it when they are."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.errors import ConfigError
from tasks.frames import feature_columns
from tasks.params import Inputs

FRAME = pd.DataFrame(
    {
        "x": [1.0, 2.0],
        "city": ["a", "b"],
        "signup": pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True),
        "wait": pd.to_timedelta([1, 2], unit="h"),
        "at": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "y": [0, 1],
    }
)


def _inputs(**kw) -> Inputs:
    return Inputs(train="a.parquet", test="b.parquet", current="c.parquet", target="y", **kw)


def test_unlisted_features_leave_date_times_out() -> None:
    assert feature_columns(_inputs(timestamp="at"), FRAME) == ["x", "city"]


def test_a_listed_date_time_feature_is_named() -> None:
    with pytest.raises(ConfigError, match=r"inputs.features: 'signup' is a date-time column \(datetime64"):
        feature_columns(_inputs(features=["x", "signup"]), FRAME)
    assert feature_columns(_inputs(features=["x", "city"]), FRAME) == ["x", "city"]
