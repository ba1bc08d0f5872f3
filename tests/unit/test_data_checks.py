"""The GX-based data checks turn expectation outcomes into findings: quiet on passes, severity from their params
limits, and an expectation GX failed counts at least at its own GX severity (critical / warning / info)."""

from __future__ import annotations

from tasks.data import category_set, missing_spike, reviewer_expectations, schema_change, value_range
from tasks.data.outcomes import Outcome
from tasks.limits import Limit
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import validated

LIMIT = Limit(warn=0.01, fail=0.05)


def outcome(
    kind: str, column: str | None = "x", success: bool = True, batch: str = "test", **fields: object
) -> Outcome:
    return Outcome(batch=batch, suite="inputs", type=kind, success=success, column=column, **fields)


def null_outcome(nulls: int, rows: int = 1000, base: float = 0.0, success: bool = True) -> Outcome:
    return outcome(
        "expect_column_values_to_not_be_null",
        success=success,
        meta={"check": "missing_spike", "train_null_share": base},
        result={"element_count": rows, "unexpected_count": nulls},
    )


def share_outcome(kind: str, mark: str, percent: float, success: bool = True, **fields: object) -> Outcome:
    return outcome(
        kind,
        success=success,
        kwargs={"column": "x", "min_value": 0, "max_value": 10, "value_set": ["a", "b"]},
        meta={"check": mark},
        result={
            "element_count": 1000,
            "unexpected_count": int(percent * 10),
            "unexpected_percent_nonmissing": percent,
            "partial_unexpected_counts": [{"value": -3, "count": 2}],
        },
        **fields,
    )


def ranged(percent: float, success: bool = True, **fields: object) -> Outcome:
    return share_outcome("expect_column_values_to_be_between", "value_range", percent, success, **fields)


def in_set(percent: float, success: bool = True, **fields: object) -> Outcome:
    return share_outcome("expect_column_values_to_be_in_set", "category_set", percent, success, **fields)


def test_schema_quiet_when_columns_and_types_match() -> None:
    """Matching columns and types give no finding."""
    outs = (
        outcome("expect_table_columns_to_match_set", column=None, kwargs={"column_set": ["x", "y"]}),
        outcome("expect_column_values_to_be_of_type", kwargs={"column": "x", "type_": "int64"}),
    )
    assert findings(schema_change, validated(*outs)) == []


def test_schema_fails_on_a_renamed_column() -> None:
    """A rename is a missing column (a fail naming it and the new name) and an added one (info: the model does
    not read it)."""
    table = outcome(
        "expect_table_columns_to_match_set",
        column=None,
        success=False,
        kwargs={"column_set": ["x", "y"]},
        result={"details": {"mismatched": {"missing": ["y"], "unexpected": ["why"]}}},
    )
    x = validated(table, columns=("x", "why"))
    found = findings(schema_change, x)
    assert [(f.severity, f.check) for f in found] == [
        (Severity.fail, "schema_change"),
        (Severity.info, "schema_change"),
    ]
    assert "'y' is missing" in found[0].message and "renamed" in found[0].message
    assert found[1].columns == ["why"]
    assert schema_change.shape_of(x.validations["test"]).broken == {"y"}


def test_schema_fails_on_an_expectation_on_an_absent_column() -> None:
    """Without any table expectation, an expectation on an absent column still reports it missing."""
    outs = (outcome("expect_column_values_to_be_of_type", column="gone", success=False, error="no column"),)
    found = findings(schema_change, validated(*outs, columns=("x",)))
    assert len(found) == 1 and found[0].severity is Severity.fail and found[0].columns == ["gone"]


def test_schema_fails_on_a_type_change() -> None:
    """Numbers read as strings: a fail with the expected and found type."""
    out = outcome(
        "expect_column_values_to_be_of_type",
        success=False,
        kwargs={"column": "x", "type_": "int64"},
        result={"observed_value": "str"},
    )
    x = validated(out)
    found = findings(schema_change, x)
    assert found[0].severity is Severity.fail and "expected int64, found str" in found[0].message
    assert schema_change.shape_of(x.validations["test"]).retyped == {"x"}


def test_nulls_quiet_when_share_is_as_in_training() -> None:
    """A null share at the training share is quiet; the rise is a metric."""
    run_ = missing_spike.measure(validated(null_outcome(100, base=0.1)), missing_spike.Params(share=LIMIT))
    assert missing_spike.judge(run_, missing_spike.Params(share=LIMIT)) == []
    assert abs(run_.found[0].value) < 1e-12


def test_nulls_warn_and_fail_on_the_rise_over_training() -> None:
    """The rise over the training share is judged: +2 points warns, +30 points fails."""
    p = missing_spike.Params(share=LIMIT)
    warn = findings(missing_spike, validated(null_outcome(120, base=0.1)), p)
    fail = findings(missing_spike, validated(null_outcome(400, base=0.1, success=False)), p)
    assert warn[0].severity is Severity.warn and fail[0].severity is Severity.fail
    assert "null share 40%" in fail[0].message and fail[0].check == "missing_spike"


def test_nulls_on_a_missing_column_are_left_to_the_schema_check() -> None:
    """An expectation on a column the batch does not have: schema_change's, not a null spike."""
    assert findings(missing_spike, validated(null_outcome(1000), columns=("y",))) == []


def test_ranges_quiet_inside_and_fire_outside() -> None:
    """No value out of range is quiet; 2% outside warns; 20% fails, with examples as evidence."""
    p = value_range.Params(share=LIMIT)
    assert findings(value_range, validated(ranged(0.0)), p) == []
    warn = findings(value_range, validated(ranged(2.0)), p)
    fail = findings(value_range, validated(ranged(20.0, success=False)), p)
    assert warn[0].severity is Severity.warn and fail[0].severity is Severity.fail
    assert fail[0].evidence["examples"] == [-3] and fail[0].evidence["value"] == 0.2


def test_ranges_on_serving_traffic_are_left_to_the_features_layer() -> None:
    """20% out of range on the current batch: info naming the features layer's out_of_range."""
    found = findings(value_range, validated(ranged(20.0, success=False, batch="current"), batch="current"))
    assert [f.severity for f in found] == [Severity.info]
    assert "judged by the features layer: out_of_range" in found[0].message


def test_categories_quiet_inside_and_fire_on_a_new_category() -> None:
    """Known categories are quiet; a new category in 20% of rows fails."""
    p = category_set.Params(share=LIMIT)
    assert findings(category_set, validated(in_set(0.5)), p) == []
    fail = findings(category_set, validated(in_set(20.0, success=False)), p)
    assert fail[0].severity is Severity.fail and fail[0].check == "category_set"


def test_a_failed_suite_expectation_is_at_least_its_own_severity() -> None:
    """A reviewer may tighten `mostly`: an expectation GX failed is a fail (critical) even under the params
    limit, a warn when the suite marks it `warning`."""
    p = value_range.Params(share=LIMIT)
    assert findings(value_range, validated(ranged(0.5, success=False)), p)[0].severity is Severity.fail
    warned = findings(value_range, validated(ranged(0.5, success=False, gx_severity="warning")), p)
    assert warned[0].severity is Severity.warn and "the suite's expectation failed" in warned[0].message


def test_an_expectation_that_could_not_run_is_not_a_pass() -> None:
    """An expectation that raised is reported as a fail, never silently passed."""
    out = in_set(0.0, success=False, error="boom")
    found = findings(category_set, validated(out))
    assert found[0].severity is Severity.fail and "boom" in found[0].message


def test_old_baseline_marks_are_still_judged_by_their_check() -> None:
    """A baseline written before the check contract names its expectations by the old check names."""
    old = share_outcome("expect_column_values_to_be_between", "out_of_range_share", 20.0, success=False)
    assert old.owner == "value_range"
    assert findings(value_range, validated(old))[0].severity is Severity.fail


def test_reviewer_expectations_keep_the_suite_verdict() -> None:
    """An expectation added by hand fails when GX fails it and is quiet when it passes."""
    kind = "expect_column_values_to_be_unique"
    assert findings(reviewer_expectations, validated(outcome(kind))) == []
    failed = findings(
        reviewer_expectations, validated(outcome(kind, success=False, result={"unexpected_percent": 3.0}))
    )
    assert failed[0].severity is Severity.fail and kind in failed[0].message


def test_a_reviewer_expectation_marked_warning_warns() -> None:
    """GX severity `warning` on a hand-written expectation that fails gives a warn, not a fail; `info` gives
    info."""
    kind = "expect_column_values_to_be_unique"
    result = {"unexpected_percent": 3.0}
    warn = findings(
        reviewer_expectations, validated(outcome(kind, success=False, result=result, gx_severity="warning"))
    )
    info = findings(reviewer_expectations, validated(outcome(kind, success=False, result=result, gx_severity="info")))
    assert [f.severity for f in warn] == [Severity.warn] and "severity warning" in warn[0].message
    assert [f.severity for f in info] == [Severity.info]


def test_a_built_expectation_type_without_a_glassbox_mark_is_the_reviewers() -> None:
    """A range a reviewer wrote by hand (no `meta.check`) is judged by its own verdict and severity, not by
    value_range's limits."""
    hand = outcome(
        "expect_column_values_to_be_between",
        success=False,
        kwargs={"column": "x", "max_value": 3},
        result={"unexpected_percent": 40.0},
        gx_severity="warning",
    )
    x = validated(hand)
    assert findings(value_range, x) == []
    assert [f.severity for f in findings(reviewer_expectations, x)] == [Severity.warn]
