"""serving_contract: the reviewed GX suite judges the rows the server decoded as it judges the file; only what
breaks in transit is a finding."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature

from tasks.checks import NoParams
from tasks.result import Severity
from tasks.serving import serving_contract
from tasks.serving.inputs import ServingInputs
from tasks.serving.server import parsed_by_server


def suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="inputs",
        expectations=[
            gxe.ExpectColumnValuesToBeOfType(column="n", type_="int64"),
            gxe.ExpectColumnValuesToBeBetween(column="n", min_value=0, max_value=100),
            gxe.ExpectColumnValuesToNotBeNull(column="n", mostly=0.9),
            gxe.ExpectColumnValuesToBeOfType(column="city", type_="str"),
            gxe.ExpectColumnValuesToBeInSet(column="city", value_set=["a", "b"], mostly=0.9),
            gxe.ExpectColumnValuesToBeOfType(column="x", type_="float64"),
            gxe.ExpectColumnValuesToBeOfType(column="at", type_="Timestamp"),  # what the suite builder writes
            gxe.ExpectColumnValuesToBeOfType(column="other", type_="float64"),  # not served: left out
        ],
    )


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "n": rng.integers(0, 100, n),
            "city": rng.choice(["a", "b"], n),
            "x": rng.normal(size=n),
            "at": pd.date_range("2013-01-01", periods=n, freq="h", tz="UTC"),
        }
    )


def judge(file: pd.DataFrame, wire: pd.DataFrame, contract=None):
    x = ServingInputs(
        log=pd.DataFrame(),
        frames={"current": file},
        features=list(wire.columns),
        received={"current": wire},
        contract=suite() if contract is None else contract,
    )
    m = serving_contract.measure(x, NoParams())
    return m, serving_contract.judge(m, NoParams())


def test_the_wire_as_the_server_decodes_it_keeps_the_file_quiet():
    """Integers, text, floats with nulls, an integer column with a null (stored as float) and zoned times go
    through the payload and MLflow's parser with the model's schema and come back judged as the file is."""
    file = frame()
    file.loc[3, "x"] = np.nan
    file["n"] = file["n"].astype("float64")
    file.loc[5, "n"] = np.nan  # an integer column with a null: float storage on both sides, still integer
    wire = parsed_by_server(file, infer_signature(file).inputs)  # trained where `n` had nulls too: a double
    m, (f,) = judge(file, wire)
    assert f.severity is Severity.info and not m.sources[0].changed, f.message
    assert m.sources[0].checked == 7  # the expectation on a column that is not served is left out


def test_a_type_broken_in_transit_fails_naming_the_column():
    """Numbers that arrive as text hold on the file and break on the wire."""
    file = frame()
    wire = file.assign(n=file["n"].astype(str))
    m, (f,) = judge(file, wire)
    assert f.severity is Severity.fail and f.columns == ["n"], f.message
    assert "'n' expect_column_values_to_be_of_type" in f.message
    assert m.metrics() == {"current.broken_in_transit": float(len(m.sources[0].broken))}


def test_values_changed_within_tolerance_are_named_but_do_not_fail():
    """A few categories respelled in transit stay within the suite's `mostly`: info that names them."""
    file = frame()
    wire = file.assign(city=file["city"].where(file.index >= 5, "A"))
    m, (f,) = judge(file, wire)
    assert f.severity is Severity.info and "within the suite's tolerance" in f.message
    assert [b.column for b in m.sources[0].changed] == ["city"]


def test_what_the_file_already_breaks_is_not_repeated():
    """An out-of-range file value broken the same way on the wire is the earlier layers' finding: carried as
    written, the column is not validated again; decoded otherwise (floats for integers), it is validated on both
    sides and the break it shares with the file is not repeated."""
    file = frame().assign(n=lambda d: d["n"].where(d.index >= 50, 500))
    m, (f,) = judge(file, file.copy())
    assert f.severity is Severity.info and m.sources[0].validated == () and "arrived as written" in f.message
    file.loc[7, "n"] = np.nan  # integers with a null: stored as floats on both sides, still integers
    wire = file.assign(n=file["n"] + 0.0, city=file["city"].astype(object))
    m, (f,) = judge(file.assign(n=file["n"].astype("Float64")), wire)
    assert f.severity is Severity.info and m.sources[0].broken_in_file == 1 and "already broken" in f.message, f.message
    assert m.sources[0].validated == ("n", "city")


def test_the_expectations_own_severity_is_the_findings():
    """A reviewer who made the expectations on `n` warnings gets a warning when the wire breaks them."""
    lenient = suite()
    for e in lenient.expectations:
        if e.column == "n":
            e.severity = "warning"
    file = frame()
    _, (f,) = judge(file, file.assign(n=file["n"].astype(str)), contract=lenient)
    assert f.severity is Severity.warn


def test_without_a_suite_nothing_is_claimed():
    x = ServingInputs(log=pd.DataFrame(), frames={}, features=[])
    (f,) = serving_contract.judge(serving_contract.measure(x, NoParams()), NoParams())
    assert f.severity is Severity.info and "not checked" in f.message


@pytest.mark.parametrize("column", ["n", "x"])
def test_the_parser_refuses_what_the_schema_cannot_hold(column):
    """Text where the schema says number: the server would answer 400, and so does the parser here."""
    schema = infer_signature(frame()).inputs
    with pytest.raises(Exception):  # noqa: B017, PT011  MLflow's own exception types vary by version
        parsed_by_server(frame().assign(**{column: "many"}), schema)


def test_a_source_the_parser_refused_whole_is_said_not_validated():
    """Every batch refused (serving_nan's rows): no GX run on nothing, a line that says so."""
    file = frame()
    m, (f,) = judge(file, file.iloc[:0])
    assert f.severity is Severity.info and m.sources[0].refused == len(file) and "refused every batch" in f.message
