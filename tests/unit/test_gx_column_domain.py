"""GX's column-expectation records narrowed to the column (tasks/data/gxproject.py): the same validation results,
to the partial unexpected values and their row indexes, as GX's own whole-frame records, on a frame with planted
violations, missing values, a row condition and a column-pair expectation."""

from __future__ import annotations

import json

import great_expectations as gx
import numpy as np
import pandas as pd
import pytest
from great_expectations.execution_engine import PandasExecutionEngine

from tasks.data import gxproject


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["a", "b", "c"], n),
            "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "other": rng.normal(0, 1, n),
        },
        index=pd.RangeIndex(100, 100 + n),
    )
    df.loc[df.index[:40], "age"] = 1e9
    df.loc[df.index[40:300], "age"] = np.nan
    df.loc[df.index[300:320], "city"] = "zzz"
    df.loc[df.index[320:340], "count"] = pd.NA
    return df


def suite() -> gx.ExpectationSuite:
    e = gx.expectations
    return gx.ExpectationSuite(
        name="s",
        expectations=[
            e.ExpectTableColumnsToMatchSet(column_set=["age", "city", "count", "other"]),
            e.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=120, mostly=0.99),
            e.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=120),
            e.ExpectColumnValuesToNotBeNull(column="age", mostly=0.95),
            e.ExpectColumnValuesToBeInSet(column="city", value_set=["a", "b", "c"]),
            e.ExpectColumnValuesToBeOfType(column="city", type_="str"),
            e.ExpectColumnValuesToBeBetween(column="count", min_value=0, max_value=5, mostly=0.5),
            e.ExpectColumnValuesToBeBetween(
                column="other", min_value=-1, max_value=1, row_condition='city=="a"', condition_parser="pandas"
            ),
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="age", column_B="other", ignore_row_if="either_value_is_missing"
            ),
            e.ExpectColumnMeanToBeBetween(column="other", min_value=-0.1, max_value=0.1),
        ],
    )


def validate(df: pd.DataFrame) -> list[tuple]:
    context = gx.get_context(mode="ephemeral")
    s = context.suites.add(suite())
    batch = context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("w")
    result = batch.get_batch(batch_parameters={"dataframe": df}).validate(s, result_format="COMPLETE")
    return [
        (r.expectation_config.type, r.success, json.dumps(r.result, sort_keys=True, default=str))
        for r in result.results
    ]


def test_the_narrowed_records_give_gx_s_own_results(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PandasExecutionEngine.get_domain_records is gxproject._one_column_domain
    df = frame()
    narrowed = validate(df)
    monkeypatch.setattr(PandasExecutionEngine, "get_domain_records", gxproject._domain_records)
    whole = validate(df)
    assert narrowed == whole
    failed = {kind for kind, success, _ in narrowed if not success}
    assert {"expect_column_values_to_be_between", "expect_column_values_to_be_in_set"} <= failed
    assert any("1000000000.0" in result for _, _, result in narrowed)  # the planted values are named
