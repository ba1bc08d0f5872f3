"""Schema change judged on logical types: GX's type expectation compares pandas storage types, and pandas
stores an integer column with a missing value as float64; the batch's values decide whether the type really
changed (a decimal in an integer column, text in a numeric one) or only its storage did (whole numbers with
nulls: the nulls are missing_spike's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tasks.checks import NoParams
from tasks.data import missing_spike, schema_change
from tasks.data.outcomes import COLUMN_TYPE, Outcome, Validation, logical_type, logical_view
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs
from tests.unit.test_data_stage import built_suite, frame, run_stage, with_suite, write_splits  # noqa: F401

TRAIN = pd.DataFrame({"age": np.arange(40, dtype="int64") + 20, "name": [f"n{k}" for k in range(40)], "y": 0})


def typed(column: str, expected: str, observed: str, success: bool = False) -> Outcome:
    return Outcome(
        batch="current",
        suite="inputs",
        type=COLUMN_TYPE,
        success=success,
        column=column,
        kwargs={"column": column, "type_": expected},
        result={"observed_value": observed},
    )


def nulls(column: str, count: int, rows: int) -> Outcome:
    return Outcome(
        batch="current",
        suite="inputs",
        type="expect_column_values_to_not_be_null",
        success=False,
        column=column,
        kwargs={"column": column, "mostly": 0.9},
        meta={"check": "missing_spike", "train_null_share": 0.0},
        result={"element_count": rows, "unexpected_count": count},
    )


def batch_inputs(current: pd.DataFrame, *outcomes: Outcome):
    v = Validation(
        batch="current",
        rows=len(current),
        columns=tuple(current.columns),
        suites=("inputs",),
        outcomes=outcomes,
        serving=True,
    )
    return data_inputs(TRAIN, {"current": current}, validations={"current": v})


def test_whole_numbers_with_nulls_stay_integer_and_the_nulls_are_missing_spikes() -> None:
    """`age` with 30% nulls arrives as float64 (38.0): GX fails int64; its values are whole numbers, so no
    type change (an info line says it is only storage) and the nulls are named by missing_spike."""
    current = TRAIN.assign(age=TRAIN["age"].astype("float64").mask(np.arange(40) % 3 == 0))
    x = batch_inputs(current, typed("age", "int64", "float64"), nulls("age", 14, 40))
    found = findings(schema_change, x)
    assert [(f.severity, f.columns) for f in found] == [(Severity.info, ["age"])]
    assert "stored as float64" in found[0].message and "integer" in found[0].message
    assert schema_change.measure(x, NoParams()).shapes[0].retyped == set()
    spike = findings(missing_spike, x)
    assert [(f.severity, f.columns) for f in spike] == [(Severity.fail, ["age"])]


def test_whole_floats_without_nulls_are_still_integer() -> None:
    """An export that writes 38.0 for 38 (float64, no nulls): the same integer column."""
    x = batch_inputs(TRAIN.assign(age=TRAIN["age"] * 1.0), typed("age", "int64", "float64"))
    assert [f.severity for f in findings(schema_change, x)] == [Severity.info]


def test_decimals_or_text_in_an_integer_column_are_a_type_change() -> None:
    """Real decimals (38.5) in an integer column, or numbers written as text ("38"), or text in a text column
    turned into numbers: each a fail with the expected and found type."""
    cases = [
        ("age", TRAIN.assign(age=TRAIN["age"] + 0.5), "int64", "float64"),
        ("age", TRAIN.assign(age=TRAIN["age"].astype(str)), "int64", "str"),
        ("name", TRAIN.assign(name=np.arange(40)), "str", "int64"),
    ]
    for column, current, expected, observed in cases:
        found = findings(schema_change, batch_inputs(current, typed(column, expected, observed)))
        assert [(f.severity, f.columns) for f in found] == [(Severity.fail, [column])], (column, observed)
        assert f"expected {expected}, found {observed}" in found[0].message


def test_text_stored_as_object_is_still_text() -> None:
    """Strings held as `object` where training had pandas' `str`: the same logical type, info only."""
    current = TRAIN.assign(name=TRAIN["name"].astype(object))
    found = findings(schema_change, batch_inputs(current, typed("name", "str", "object")))
    assert [f.severity for f in found] == [Severity.info]


def test_without_the_batch_values_gx_verdict_stands() -> None:
    """A validation whose batch frame is not at hand: nothing to look at, the storage verdict is kept."""
    v = Validation("current", 40, ("age",), ("inputs",), (typed("age", "int64", "float64"),))
    assert logical_view(v, None).outcomes[0].success is False


def test_logical_type_reads_the_values() -> None:
    """Whole floats are integer, decimals float, text string, a time a time with or without its zone, a
    column of nulls has no type."""
    assert logical_type(pd.Series([38.0, None, 41.0])) == "integer"
    assert logical_type(pd.Series([38.5, 41.0])) == "float"
    assert logical_type(pd.Series(["a", None], dtype=object)) == "string"
    assert logical_type(pd.Series([1, 2], dtype="Int64")) == "integer"
    assert logical_type(pd.Series(pd.to_datetime(["2024-01-01"]))) == "datetime"
    assert logical_type(pd.Series(pd.to_datetime(["2024-01-01"], utc=True))) == "datetime"
    assert logical_type(pd.Series([None, None], dtype="float64")) is None
    assert logical_type(pd.Series([1, "a"], dtype=object)) == "mixed-integer"


def test_nulls_in_an_integer_column_end_to_end_fail_missing_spike_first(tmp_path: Path, built_suite: Path) -> None:  # noqa: F811
    """The data stage with GX: a quarter of the current batch's `km` (int64 in training) missing, so pandas
    stores it as float64. The first failing finding is missing_spike naming `km`; schema_change only notes
    the storage type."""
    with_suite(tmp_path, built_suite)
    current = frame(200, shift=11)
    current["km"] = current["km"].where(np.arange(200) % 4 != 0)
    write_splits(tmp_path, current=current)
    output, _ = run_stage(tmp_path)
    failed = [f for f in output.findings if f.severity is Severity.fail]
    assert failed and (failed[0].check, failed[0].columns) == ("missing_spike", ["km"])
    schema = [f for f in output.findings if f.check == "schema_change"]
    assert [(f.severity, f.columns) for f in schema] == [(Severity.info, ["km"])]
    assert "stored as float64 (training: int64)" in schema[0].message


def test_text_in_a_numeric_column_names_the_values() -> None:
    """Formulas or thousands separators in a numeric column: the type change names a few of the values."""
    current = TRAIN.assign(age=TRAIN["age"].astype(str).mask(np.arange(40) % 10 == 0, "=1+1"))
    found = findings(schema_change, batch_inputs(current, typed("age", "int64", "str")))
    assert [f.severity for f in found] == [Severity.fail] and "values like '=1+1'" in found[0].message


def _with_columns(current: pd.DataFrame, expected: list[str]) -> Outcome:
    added = [c for c in current.columns if c not in expected]
    return Outcome(
        batch="current",
        suite="inputs",
        type="expect_table_columns_to_match_set",
        success=False,
        column=None,
        kwargs={"column_set": expected},
        result={"details": {"mismatched": {"unexpected": added}}},
    )


def test_an_extra_column_is_info_and_thousands_are_a_warning() -> None:
    """One column the model does not read is info (an inference log carries request metadata); more new
    columns than the baseline has is another table: one warning, not one finding per column."""
    one = TRAIN.assign(request="r")
    found = findings(schema_change, batch_inputs(one, _with_columns(one, ["age", "name", "y"])))
    assert [(f.severity, f.columns) for f in found] == [(Severity.info, ["request"])]
    many = pd.concat([TRAIN, pd.DataFrame({f"x{k}": 0 for k in range(50)}, index=TRAIN.index)], axis=1)
    found = findings(schema_change, batch_inputs(many, _with_columns(many, ["age", "name", "y"])))
    assert [f.severity for f in found] == [Severity.warn] and "50 columns not in training" in found[0].message
