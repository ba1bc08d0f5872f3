"""row_count: a file with fewer rows than a distribution can be judged on fails, and the drift checks leave such
a batch unjudged instead of reporting chance as drift (one row is 100% of whatever it holds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import covariate_shift, label_shift, row_count
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

RNG = np.random.default_rng(3)
TRAIN = pd.DataFrame(
    {"km": RNG.normal(500, 100, 400), "city": RNG.choice(["a", "b", "c"], 400), "y": RNG.integers(0, 2, 400)}
)


def test_one_row_batch_fails_row_count_and_is_not_called_drift() -> None:
    """A current batch of one row: row_count fails naming it; covariate_shift and label_shift say it is too small,
    at info."""
    one = TRAIN.iloc[[0]].assign(km=900.0, y=1)
    x = data_inputs(TRAIN, {"test": TRAIN.sample(100, random_state=0), "current": one}, min_rows=30)
    rows = findings(row_count, x)
    assert [(f.severity, f.message.split(":")[0]) for f in rows if f.severity is not Severity.info] == [
        (Severity.fail, "current")
    ]
    assert "1 rows, fewer than the 30" in next(f.message for f in rows if f.severity is Severity.fail)
    for check in (covariate_shift, label_shift):
        current = [f for f in findings(check, x) if f.message.startswith("current")]
        assert [f.severity for f in current] == [Severity.info] and "too few" in current[0].message, check


def test_enough_rows_are_info() -> None:
    """A 30-row batch meets the default floor."""
    x = data_inputs(TRAIN, {"current": TRAIN.sample(30, random_state=1)}, min_rows=30)
    assert {f.severity for f in findings(row_count, x)} == {Severity.info}
