"""non_finite: inf, -inf or a number whose square overflows (a 1e308 sentinel) in a numeric column of any file
fails, naming the column, the count and the values; large but finite values and missing values do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import non_finite
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

RNG = np.random.default_rng(2)
TRAIN = pd.DataFrame({"km": RNG.normal(500, 100, 100), "n": RNG.integers(0, 9, 100), "y": RNG.integers(0, 2, 100)})


def test_finite_values_are_info() -> None:
    """Large (1e100), negative and missing values are finite: one info line."""
    current = TRAIN.assign(km=TRAIN.km.mask(TRAIN.index < 5).mask(TRAIN.index == 7, 1e100))
    found = findings(non_finite, data_inputs(TRAIN, {"current": current}))
    assert [f.severity for f in found] == [Severity.info]


def test_inf_and_overflowing_sentinels_fail_per_column_and_file() -> None:
    """inf in the current batch and 1e308 in training: two fails, each naming its file, column and values."""
    current = TRAIN.assign(km=TRAIN.km.mask(TRAIN.index < 3, np.inf))
    train = TRAIN.assign(n=TRAIN.n.astype("float64").mask(TRAIN.index == 4, 1e308))
    found = findings(non_finite, data_inputs(train, {"current": current}))
    assert [(f.severity, f.columns) for f in found] == [(Severity.fail, ["n"]), (Severity.fail, ["km"])]
    assert found[0].message.startswith("train: column 'n' has 1 non-finite") and "1e+308" in found[0].message
    assert found[1].message.startswith("current: column 'km' has 3") and "inf" in found[1].message
