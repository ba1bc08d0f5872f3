"""Each data check turns expectation outcomes into findings: quiet on passes, severity from params limits."""

from __future__ import annotations

from tasks.data.categories import category_findings
from tasks.data.nulls import null_findings
from tasks.data.outcomes import Outcome
from tasks.data.ranges import range_findings
from tasks.data.reviewed import reviewed_findings
from tasks.data.schema import schema_findings
from tasks.limits import Limit
from tasks.result import Severity

LIMIT = Limit(warn=0.01, fail=0.05)


def outcome(kind: str, column: str | None = "x", success: bool = True, **fields: object) -> Outcome:
    return Outcome(batch="current", suite="inputs", type=kind, success=success, column=column, **fields)


def null_outcome(nulls: int, rows: int = 1000, base: float = 0.0, success: bool = True) -> Outcome:
    return outcome(
        "expect_column_values_to_not_be_null",
        success=success,
        meta={"train_null_share": base},
        result={"element_count": rows, "unexpected_count": nulls},
    )


def share_outcome(kind: str, percent: float, success: bool = True) -> Outcome:
    return outcome(
        kind,
        success=success,
        kwargs={"column": "x", "min_value": 0, "max_value": 10, "value_set": ["a", "b"]},
        result={
            "element_count": 1000,
            "unexpected_count": int(percent * 10),
            "unexpected_percent_nonmissing": percent,
            "partial_unexpected_counts": [{"value": -3, "count": 2}],
        },
    )


def test_schema_quiet_when_columns_and_types_match() -> None:
    """Matching columns and types give no finding."""
    outs = [
        outcome("expect_table_columns_to_match_set", column=None, kwargs={"column_set": ["x", "y"]}),
        outcome("expect_column_values_to_be_of_type", kwargs={"column": "x", "type_": "int64"}),
    ]
    assert schema_findings("current", outs, ["x", "y"]).findings == []


def test_schema_fails_on_a_renamed_column() -> None:
    """A rename is a missing column and an added one, each a fail naming the column."""
    table = outcome(
        "expect_table_columns_to_match_set",
        column=None,
        success=False,
        kwargs={"column_set": ["x", "y"]},
        result={"details": {"mismatched": {"missing": ["y"], "unexpected": ["why"]}}},
    )
    shape = schema_findings("current", [table], ["x", "why"])
    assert [f.severity for f in shape.findings] == [Severity.fail, Severity.fail]
    assert "'y' is missing" in shape.findings[0].message and "renamed" in shape.findings[0].message
    assert shape.findings[1].columns == ["why"]
    assert shape.broken == {"y"}


def test_schema_fails_on_an_expectation_on_an_absent_column() -> None:
    """Without any table expectation, an expectation on an absent column still reports it missing."""
    outs = [outcome("expect_column_values_to_be_of_type", column="gone", success=False, error="no column")]
    shape = schema_findings("current", outs, ["x"])
    assert len(shape.findings) == 1 and shape.findings[0].severity is Severity.fail
    assert shape.missing == {"gone"}


def test_schema_fails_on_a_type_change() -> None:
    """Numbers read as strings: a fail with the expected and found type."""
    out = outcome(
        "expect_column_values_to_be_of_type",
        success=False,
        kwargs={"column": "x", "type_": "int64"},
        result={"observed_value": "str"},
    )
    shape = schema_findings("current", [out], ["x"])
    assert shape.findings[0].severity is Severity.fail
    assert "expected int64, found str" in shape.findings[0].message
    assert shape.retyped == {"x"}


def test_nulls_quiet_when_share_is_as_in_training() -> None:
    """A null share at the training share is quiet."""
    findings, rises = null_findings([null_outcome(100, base=0.1)], LIMIT)
    assert findings == [] and abs(rises["x"]) < 1e-12


def test_nulls_warn_and_fail_on_the_rise_over_training() -> None:
    """The rise over the training share is judged: +2 points warns, +30 points fails."""
    warn, _ = null_findings([null_outcome(120, base=0.1)], LIMIT)
    fail, _ = null_findings([null_outcome(400, base=0.1, success=False)], LIMIT)
    assert warn[0].severity is Severity.warn and fail[0].severity is Severity.fail
    assert "null share 40%" in fail[0].message


def test_ranges_quiet_inside_and_fire_outside() -> None:
    """No value out of range is quiet; 2% outside warns; 20% fails, with examples as evidence."""
    kind = "expect_column_values_to_be_between"
    assert range_findings([share_outcome(kind, 0.0)], LIMIT)[0] == []
    warn, _ = range_findings([share_outcome(kind, 2.0)], LIMIT)
    fail, shares = range_findings([share_outcome(kind, 20.0, success=False)], LIMIT)
    assert warn[0].severity is Severity.warn and fail[0].severity is Severity.fail
    assert fail[0].evidence["examples"] == [-3] and shares["x"] == 0.2


def test_categories_quiet_inside_and_fire_on_a_new_category() -> None:
    """Known categories are quiet; a new category in 20% of rows fails."""
    kind = "expect_column_values_to_be_in_set"
    assert category_findings([share_outcome(kind, 0.5)], LIMIT)[0] == []
    fail, _ = category_findings([share_outcome(kind, 20.0, success=False)], LIMIT)
    assert fail[0].severity is Severity.fail and fail[0].check == "unexpected_category_share"


def test_a_failed_suite_expectation_is_at_least_a_fail() -> None:
    """A reviewer may tighten `mostly`: an expectation GX failed is a fail even under the params limit."""
    findings, _ = range_findings([share_outcome("expect_column_values_to_be_between", 0.5, success=False)], LIMIT)
    assert findings[0].severity is Severity.fail


def test_an_expectation_that_could_not_run_is_not_a_pass() -> None:
    """An expectation that raised is reported as a fail, never silently passed."""
    out = outcome("expect_column_values_to_be_in_set", success=False, error="boom")
    findings, _ = category_findings([out], LIMIT)
    assert findings[0].severity is Severity.fail and "boom" in findings[0].message


def test_reviewed_expectations_keep_the_suite_verdict() -> None:
    """An expectation added by hand fails when GX fails it and is quiet when it passes."""
    kind = "expect_column_values_to_be_unique"
    known = {"expect_column_values_to_be_in_set"}
    assert reviewed_findings([outcome(kind)], known) == []
    failed = reviewed_findings([outcome(kind, success=False, result={"unexpected_percent": 3.0})], known)
    assert failed[0].severity is Severity.fail and kind in failed[0].message
