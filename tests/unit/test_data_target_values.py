"""target_values: every labelled file holds a binary label (0/1, or positive_label and one other value); a third
value, labels missing where each row needs one, or a one-class training snapshot fail, naming the column and the
values; the current batch may be unlabelled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import target_values
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

RNG = np.random.default_rng(1)
TRAIN = pd.DataFrame({"x": RNG.normal(size=200), "y": RNG.integers(0, 2, 200)})


def _worst(train: pd.DataFrame, batches: dict[str, pd.DataFrame] | None = None, **kw: object):
    found = findings(target_values, data_inputs(train, batches or {}, **kw))
    fails = [f for f in found if f.severity is Severity.fail]
    return fails, found


def test_clean_binary_labels_are_info() -> None:
    """0/1 labels everywhere, an unlabelled current batch: nothing above info."""
    fails, found = _worst(TRAIN, {"test": TRAIN.copy(), "current": TRAIN.drop(columns="y")})
    assert not fails and {f.severity for f in found} == {Severity.info}


def test_partially_labelled_current_batch_is_fine() -> None:
    """Traffic whose labels arrive later: missing labels in the current batch are expected."""
    current = TRAIN.assign(y=TRAIN.y.where(RNG.random(200) < 0.5))
    assert not _worst(TRAIN, {"current": current})[0]


def test_unknown_label_value_fails_naming_values() -> None:
    """A `2` in the test set's labels fails, naming the column, the value and its count."""
    test = TRAIN.assign(y=TRAIN.y.mask(TRAIN.index < 7, 2))
    fails, _ = _worst(TRAIN, {"test": test})
    assert len(fails) == 1 and fails[0].message.startswith("test: column 'y' (target)")
    assert "'2' (7 rows)" in fails[0].message


def test_one_class_training_snapshot_fails() -> None:
    """A training snapshot whose labels are all 0 cannot train a classifier."""
    fails, _ = _worst(TRAIN.assign(y=0))
    assert fails and "one class only" in fails[0].message


def test_missing_training_labels_fail() -> None:
    train = TRAIN.assign(y=TRAIN.y.astype("float").mask(TRAIN.index < 3))
    fails, _ = _worst(train)
    assert fails and "3 of 200 rows have no label" in fails[0].message


def test_positive_label_accepts_two_text_values_and_names_a_third() -> None:
    """With positive_label, '>50K' is 1 and the one other value 0; a third spelling fails."""
    train = TRAIN.assign(y=TRAIN.y.map({0: "<=50K", 1: ">50K"}))
    assert not _worst(train, positive_label=">50K")[0]
    current = train.assign(y=train.y.mask(train.index < 4, ">50K."))
    fails, _ = _worst(train, {"current": current}, positive_label=">50K")
    assert fails and fails[0].message.startswith("current:") and "'>50K.' (4 rows)" in fails[0].message
    assert "<=50K" not in fails[0].message.split(";")[0].split("label: ")[1]
