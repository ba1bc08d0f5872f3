"""CSV injection: text cells (and column names) that a spreadsheet would run as a formula are written with a
leading quote; numbers, negative ones included, stay numbers, as DVC plots read them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.csv_safe import FORMULA_START, neutral, neutralised, write_csv
from tasks.evidence import plot_bars


def test_each_formula_start_is_quoted_and_other_text_is_not():
    """=, +, -, @, tab and CR at the start of a text cell get a quote; text starting otherwise is unchanged."""
    for start in FORMULA_START:
        assert neutral(f"{start}1+1") == f"'{start}1+1"
    assert neutral("JFK") == "JFK" and neutral("a-b") == "a-b" and neutral("") == ""


def test_numbers_stay_numbers_and_text_columns_of_any_dtype_are_neutralised():
    """Negative floats and ints keep their value and dtype; object, pandas str and categorical text columns, and a
    text column name, are neutralised; missing values stay missing."""
    table = pd.DataFrame(
        {
            "value": [-0.5, 1.0, np.nan],
            "count": np.array([-3, 0, 7], dtype="int64"),
            "label": pd.Series(["=cmd|' /C calc'!A0", "ok", None], dtype="str"),
            "mixed": pd.Series(["@SUM(A1)", -2.0, "-x"], dtype="object"),
            "=name": pd.Categorical(["+1", "b", "+1"]),
        }
    )
    out = neutralised(table)
    assert out["value"].dtype == "float64" and out["value"].iloc[0] == -0.5 and np.isnan(out["value"].iloc[2])
    assert out["count"].dtype == "int64" and out["count"].tolist() == [-3, 0, 7]
    assert out["label"].iloc[0] == "'=cmd|' /C calc'!A0" and out["label"].iloc[1] == "ok"
    assert pd.isna(out["label"].iloc[2])
    assert out["mixed"].tolist() == ["'@SUM(A1)", -2.0, "'-x"]
    assert list(out.columns)[-1] == "'=name" and out["'=name"].tolist() == ["'+1", "b", "'+1"]
    assert table["label"].iloc[0].startswith("=")  # the caller's table is not changed


def test_write_csv_reads_back_negative_numbers_as_numbers(tmp_path):
    """Through the file: the quoted text reads back as text, a negative number as a negative float."""
    path = write_csv(pd.DataFrame({"label": ["-1", "=1+1"], "delta": [-0.25, 0.5]}), tmp_path / "t.csv")
    back = pd.read_csv(path)
    assert back["label"].tolist() == ["'-1", "'=1+1"]
    assert back["delta"].dtype == "float64" and back["delta"].tolist() == [-0.25, 0.5]


def test_evidence_csv_beside_a_plot_is_neutralised(tmp_path):
    """A stage's bar plot whose labels come from the data (a category named like a formula): the CSV written
    beside the PNG holds the quoted label and the negative value as a number."""
    table = pd.DataFrame({"category": ['=HYPERLINK("http://x")', "JFK"], "shift": [-0.2, 0.1]})
    files = plot_bars(tmp_path, "shift_by_category", table, "category", "shift", title="t")
    back = pd.read_csv(tmp_path / "shift_by_category.csv")
    assert files == ["shift_by_category.png", "shift_by_category.csv"]
    assert back["category"].tolist() == ['\'=HYPERLINK("http://x")', "JFK"]
    assert back["shift"].tolist() == [-0.2, 0.1]
