"""The suite derived from the training snapshot: types, null shares, ranges, category sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.data import gxproject
from tasks.data.outcomes import outcomes_of
from tasks.data.suite import (
    INPUTS,
    TARGET,
    Contract,
    build_inputs_suite,
    build_target_suite,
    finite_extent,
    mostly,
    type_name,
    uncovered_categories,
    widened_range,
)
from tasks.params import DataParams, Inputs


def training_frame(rows: int = 120) -> pd.DataFrame:
    i = np.arange(rows)
    return pd.DataFrame(
        {
            "row_id": [f"r{k}" for k in i],
            "at": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
            "kind": np.array(["a", "b", "c"])[i % 3],
            "code": [f"c{k}" for k in i],  # many distinct values: no category set
            "km": (10 + i * 3).astype("int64"),
            "temp": np.where(i % 20 == 0, np.nan, -5.0 + i * 0.25),
            "y": (i % 4 == 0).astype("int64"),
        }
    )


def contract_inputs(**extra: object) -> Inputs:
    return Inputs.model_validate(
        {
            "train": "t.parquet",
            "test": "s.parquet",
            "current": "c.parquet",
            "target": "y",
            "id": "row_id",
            "timestamp": "at",
            **extra,
        }
    )


def by_type(suite, kind: str) -> dict:  # noqa: ANN001 - a GX suite
    return {e.column: e for e in suite.expectations if e.expectation_type == kind}


def test_type_names_match_what_gx_compares() -> None:
    """Pandas 3 strings are `str`, tz-aware datetimes `Timestamp`, naive `datetime64`, others by dtype."""
    df = training_frame()
    assert type_name(df["kind"].dtype) == "str"
    assert type_name(df["at"].dtype) == "Timestamp"
    assert type_name(df["at"].dt.tz_localize(None).dtype) == "datetime64"
    assert type_name(df["km"].dtype) == "int64"
    assert type_name(df["temp"].dtype) == "float64"
    assert type_name(pd.Series([True, False]).dtype) == "bool"


def test_mostly_is_one_minus_the_allowed_share() -> None:
    """`mostly` allows the fail share; no fail limit allows everything (nothing can fail on it)."""
    assert mostly(0.01) == 0.99
    assert mostly(1.5) == 0.0
    assert mostly(None) == 0.0


def test_range_widened_by_the_margin_and_not_across_zero() -> None:
    """A column never negative in training stays non-negative; the other side widens by margin x span."""
    assert widened_range(10.0, 30.0, 1.0, integer=False) == (0.0, 50.0)
    assert widened_range(-30.0, -10.0, 0.5, integer=False) == (-40.0, 0.0)
    assert widened_range(-5.0, 5.0, 0.5, integer=False) == (-10.0, 10.0)


def test_integer_range_stays_integer_and_never_narrower() -> None:
    """Integer columns get integer bounds, rounded outward; float bounds never cut into the training range."""
    low, high = widened_range(3.0, 8.0, 0.3, integer=True)
    assert (low, high) == (1, 10) and isinstance(low, int)
    low, high = widened_range(0.1234567, 0.1234569, 0.0, integer=False)
    assert low <= 0.1234567 and high >= 0.1234569


def test_finite_extent_ignores_infinities_and_nulls() -> None:
    """An infinity or a null in training is not a bound; an all-null column has none."""
    assert finite_extent(pd.Series([1.0, np.inf, np.nan, 4.0])) == (1.0, 4.0)
    assert finite_extent(pd.Series([np.nan, np.nan])) is None


def test_inputs_suite_covers_the_contract() -> None:
    """Columns, a type and null share per contract column, ranges for numbers, sets for small categoricals."""
    train = training_frame()
    contract = Contract.of(contract_inputs(), train)
    params = DataParams(category_set={"max_categories": 50})
    suite = build_inputs_suite(train, contract, params, {"built_from": "t.parquet"})
    table = [e for e in suite.expectations if e.expectation_type == "expect_table_columns_to_match_set"]
    assert set(table[0].column_set) == set(train.columns) - {"y"}
    assert set(by_type(suite, "expect_column_values_to_be_of_type")) == set(train.columns) - {"y"}
    nulls = by_type(suite, "expect_column_values_to_not_be_null")
    assert nulls["temp"].meta["train_null_share"] == pytest.approx(6 / 120)
    assert nulls["temp"].mostly == pytest.approx(1 - (6 / 120 + 0.10))
    ranges = by_type(suite, "expect_column_values_to_be_between")
    assert set(ranges) == {"km", "temp"}
    assert ranges["km"].min_value == 0 and ranges["km"].max_value == 10 + 119 * 3 + 119 * 3
    assert ranges["temp"].min_value < -5.0 < 0  # two-sided in training: may cross zero
    sets = by_type(suite, "expect_column_values_to_be_in_set")
    assert set(sets) == {"kind"} and sets["kind"].value_set == ["a", "b", "c"]
    assert "allows" in sets["kind"].meta and "allows" in ranges["km"].meta
    assert uncovered_categories(train, contract, params) == ["code"]
    # each expectation names the check that judges it
    assert {e.meta["check"] for e in suite.expectations} == {
        "schema_change",
        "missing_spike",
        "value_range",
        "category_set",
    }


def test_category_set_bounded_by_max_categories() -> None:
    """A categorical feature with more distinct values than `max_categories` gets no set."""
    train = training_frame()
    contract = Contract.of(contract_inputs(), train)
    suite = build_inputs_suite(train, contract, DataParams(category_set={"max_categories": 2}), {})
    assert by_type(suite, "expect_column_values_to_be_in_set") == {}


def test_target_suite_holds_the_labels() -> None:
    """The target suite names the label column, its type and its training values."""
    train = training_frame()
    suite = build_target_suite(train, Contract.of(contract_inputs(), train), DataParams(), {})
    assert suite.name == TARGET
    assert by_type(suite, "expect_column_values_to_be_in_set")["y"].value_set == [0, 1]
    assert "y" in by_type(suite, "expect_column_to_exist")


def test_built_suites_pass_on_their_own_training_frame(tmp_path) -> None:  # noqa: ANN001
    """Whatever the suite derives from training, the training frame itself satisfies it."""
    train = training_frame()
    contract = Contract.of(contract_inputs(), train)
    context = gxproject.open_project(tmp_path / "gx")
    for build, frame in (
        (build_inputs_suite, train.drop(columns=["y"])),
        (build_target_suite, train),
    ):
        suite = gxproject.add_suite(context, build(train, contract, DataParams(), {}))
        checkpoint = gxproject.checkpoint_for(context, "train", suite)
        outcomes = outcomes_of("train", suite.name, gxproject.validate(checkpoint, frame, "self-check"))
        failed = [(o.type, o.column, o.error, o.result.get("observed_value")) for o in outcomes if not o.success]
        assert failed == [], failed
        assert all(o.owner is not None and o.severity.value == "fail" for o in outcomes)  # none is a reviewer's
    assert {INPUTS, TARGET} <= {p.stem for p in (tmp_path / "gx" / "expectations").glob("*.json")}
