"""text_values: spreadsheet formulas and strings far longer than any in training, in a text column of a batch,
warn naming the column and values; negative numbers written as text, hyphenated words, and a column whose
training values already look so, stay quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import text_values
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

RNG = np.random.default_rng(4)
TRAIN = pd.DataFrame(
    {
        "city": RNG.choice(["oslo", "lima", "new-york", "-"], 300),
        "x": RNG.normal(size=300),
        "y": RNG.integers(0, 2, 300),
    }
)


def _found(current: pd.DataFrame, train: pd.DataFrame = TRAIN):
    return findings(text_values, data_inputs(train, {"current": current}))


def test_clean_text_is_info() -> None:
    assert [f.severity for f in _found(TRAIN.copy())] == [Severity.info]


def test_formulas_warn_naming_values() -> None:
    current = TRAIN.assign(city=TRAIN.city.mask(TRAIN.index < 6, '=HYPERLINK("http://x","y")'))
    [f] = _found(current)
    assert f.severity is Severity.warn and f.columns == ["city"] and "6 of 300 rows" in f.message
    assert "=HYPERLINK" in f.message


def test_a_blob_warns_with_its_length() -> None:
    current = TRAIN.assign(city=TRAIN.city.mask(TRAIN.index == 3, "a" * 100_000))
    [f] = _found(current)
    assert f.severity is Severity.warn and "100,000 characters" in f.message


def test_formula_like_training_values_are_the_data() -> None:
    """A column that held `=` values in training (an operator column, say) is not flagged for them."""
    train = TRAIN.assign(city=TRAIN.city.mask(TRAIN.index < 30, "=1"))
    assert [f.severity for f in _found(train.copy(), train)] == [Severity.info]
