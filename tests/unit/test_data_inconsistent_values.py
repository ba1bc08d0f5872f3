"""Inconsistent values: one category spelled several ways, and a numeric column at another power of ten."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import inconsistent_values
from tasks.data.inconsistent_values import scale_factor, spelling_variants
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


def frame(rows: int = 2000, seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "carrier": rng.choice(["UA", "AA", "B6"], rows),
            "length_cm": rng.gamma(4.0, 40.0, rows) * scale,
            "temp": rng.normal(10.0, 8.0, rows) * scale,
        }
    )


def check(train: pd.DataFrame, batch: pd.DataFrame | None = None, name: str = "current") -> list[Finding]:
    """The check (default params: variants warn 0 / fail 1%, scale tolerance 0.15, a scale change fails) on
    training against itself and, when given, one batch; the findings about `name`."""
    batches = {} if batch is None else {name: batch}
    x = data_inputs(train, batches, target="none", numeric=["length_cm", "temp"], categorical=["carrier"])
    return [f for f in findings(inconsistent_values, x) if f.evidence.get("batch") == name]


def test_consistent_batches_are_quiet() -> None:
    """Same spellings, same units: one info line."""
    found = check(frame(seed=0), frame(seed=1))
    assert [f.severity for f in found] == [Severity.info]


def test_case_and_space_variants_fail_with_column_and_variants() -> None:
    """A quarter of carriers lower-cased or padded: a fail naming the column, the canonical spelling and
    its variants."""
    batch = frame(seed=1)
    rows = batch.index[::4]
    batch.loc[rows, "carrier"] = [v.lower() if k % 2 else f" {v}" for k, v in enumerate(batch.loc[rows, "carrier"])]
    found = [f for f in check(frame(seed=0), batch) if f.severity is not Severity.info]
    assert [(f.severity, f.columns) for f in found] == [(Severity.fail, ["carrier"])]
    assert "'UA' also as" in found[0].message and "25.00% of rows" in found[0].message
    assert set(found[0].evidence["variants"]["UA"]) == {"ua", " UA"}


def test_variants_inside_training_itself_are_found() -> None:
    """Training against itself: its rarer spelling is the variant."""
    train = frame()
    train.loc[train.index[:30], "carrier"] = "U.A."
    found = check(train, name="train")
    assert found[0].severity is Severity.fail and found[0].evidence["variants"] == {"UA": ["U.A."]}


def test_values_that_are_only_punctuation_are_not_grouped() -> None:
    """'-' and '?' reduce to nothing: not spellings of one value."""
    rows, groups = spelling_variants(pd.Series(["-", "?", "a"]), pd.Series(["-", "?"]))
    assert rows == 0 and groups == {}


def test_a_unit_change_fails_with_its_scale_factor() -> None:
    """Centimetres sent as metres (x0.01): a fail with the factor; the other column is unchanged."""
    batch = frame(seed=1)
    batch["length_cm"] = batch["length_cm"] / 100
    found = [f for f in check(frame(seed=0), batch) if f.severity is not Severity.info]
    assert [f.columns for f in found] == [["length_cm"]]
    assert found[0].evidence["scale_factor"] == 0.01 and "0.01 times" in found[0].message


def test_a_natural_shift_is_not_a_unit_change() -> None:
    """Values 30% larger, or spread twice as wide: no power of ten."""
    a = frame(seed=0)["length_cm"]
    assert scale_factor(a, a * 1.3, 0.15)[0] is None
    assert scale_factor(a, (a - a.mean()) * 2 + a.mean(), 0.15)[0] is None
    assert scale_factor(a, a * 1000, 0.15)[0] == 3


def test_a_column_standardized_on_one_side_is_not_a_unit_change() -> None:
    """Scaling to mean 0 / sd 1 on one side is the features layer's normalization skew."""
    batch = frame(seed=1)
    batch["temp"] = (batch["temp"] - batch["temp"].mean()) / batch["temp"].std()
    assert [f.severity for f in check(frame(seed=0), batch)] == [Severity.info]
