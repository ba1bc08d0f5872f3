"""A plain view of GX validation results, read by key, and the rules the GX-based checks share for turning
them into findings.

GX measures (schema, nulls, ranges, category sets, a reviewer's own expectations); the checks judge. An
expectation that GX itself failed counts at least at its own `severity` (GX's FailureSeverity: critical ->
fail, warning -> warn, info -> info), so a reviewer decides how much a hand-written expectation weighs.

Types are judged logically (`logical_view`): GX's type expectation compares pandas storage types, and pandas
stores an integer column with a missing value as float64, strings as `str` or `object`, a zone-naive and a
zone-aware time as two dtypes. Where GX's verdict is only that, the batch's values decide: an integer column
whose values are all whole numbers is still integer (its nulls are missing_spike's), text is text however
stored, a time is a time (its zone is the features layer's timezone_shift); a decimal in an integer column,
text in a numeric one, numbers in a text one still are type changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tasks import checks
from tasks.columns import EXAMPLES, is_datetime
from tasks.limits import Limit
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

    from tasks.data.inputs import DataInputs

# GX's FailureSeverity values (great_expectations.expectations.metadata_types) onto glassbox's.
GX_SEVERITY = {"critical": Severity.fail, "warning": Severity.warn, "info": Severity.info}

TABLE_COLUMNS = "expect_table_columns_to_match_set"
COLUMN_EXISTS = "expect_column_to_exist"
COLUMN_TYPE = "expect_column_values_to_be_of_type"
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
SCHEMA_TYPES = (TABLE_COLUMNS, COLUMN_EXISTS, COLUMN_TYPE)
# The expectations the baseline writes, by the check that judges them with its limits (their `meta.check`).
# Schema expectations are always schema_change's; any other expectation (a reviewer's own) is judged by its
# own verdict and severity (reviewer_expectations).
BUILT = {"missing_spike": NOT_NULL, "value_range": BETWEEN, "category_set": IN_SET}
LOGICAL = "logical_type"  # in an Outcome's result: the logical view that passed a type GX failed on storage only
# `meta.check` as baselines written before the check contract name it.
OLD_MARKS = {
    "null_share": "missing_spike",
    "out_of_range_share": "value_range",
    "unexpected_category_share": "category_set",
}


@dataclass(frozen=True)
class Outcome:
    """One expectation's result on one batch."""

    batch: str
    suite: str
    type: str
    success: bool
    column: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    gx_severity: str = "critical"  # the expectation's own FailureSeverity (GX's default is critical)

    @property
    def severity(self) -> Severity:
        """What the expectation weighs when GX fails it (an unknown value counts as critical)."""
        return GX_SEVERITY.get(self.gx_severity, Severity.fail)

    @property
    def element_count(self) -> int | None:
        return self.result.get("element_count")

    @property
    def unexpected_share(self) -> float | None:
        """Share of non-null values that broke the expectation (what GX's `mostly` is compared with)."""
        pct = self.result.get("unexpected_percent_nonmissing", self.result.get("unexpected_percent"))
        return None if pct is None else float(pct) / 100.0

    @property
    def examples(self) -> list[Any]:
        """A few distinct unexpected values (GX samples the first ones it meets, so no counts are implied)."""
        counts = self.result.get("partial_unexpected_counts")
        values = [c.get("value") for c in counts] if counts else list(self.result.get("partial_unexpected_list") or [])
        distinct: list[Any] = []
        for v in values:
            if v not in distinct:
                distinct.append(v)
        return distinct[:EXAMPLES]

    def where(self) -> str:
        return f"column {self.column!r}" if self.column else "the table"

    @property
    def owner(self) -> str | None:
        """The built-in check that judges this expectation with its limits; None for a reviewer's own."""
        if self.type in SCHEMA_TYPES:
            return "schema_change"
        mark = str(self.meta.get("check") or "")
        mark = OLD_MARKS.get(mark, mark)
        return mark if BUILT.get(mark) == self.type else None


@dataclass(frozen=True)
class Validation:
    """One batch validated against the baseline suites: every expectation's outcome, the batch's columns,
    and whether it is serving traffic (whose values the features layer judges)."""

    batch: str
    rows: int
    columns: tuple[str, ...]
    suites: tuple[str, ...]  # the suites that ran on it
    outcomes: tuple[Outcome, ...]
    serving: bool = False
    results_file: str | None = None  # the GX results, relative to the stage folder
    unlabelled: bool = False  # no target column: the target suite did not apply

    def owned_by(self, check: str | None) -> list[Outcome]:
        """The outcomes a check judges (None: the reviewer's own expectations)."""
        return [o for o in self.outcomes if o.owner == check]


def _error_of(exception_info: dict[str, Any] | None) -> str | None:
    """GX reports an exception either flat or keyed by the metric that raised: take the first message."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        return exception_info.get("exception_message") if exception_info.get("raised_exception") else None
    for info in exception_info.values():
        if isinstance(info, dict) and info.get("exception_message"):
            return str(info["exception_message"])
    return None


def outcomes_of(batch: str, suite: str, validation: ExpectationSuiteValidationResult) -> list[Outcome]:
    out = []
    for r in validation.results:
        data = r.to_json_dict()
        config = data.get("expectation_config") or {}
        kwargs = dict(config.get("kwargs") or {})
        out.append(
            Outcome(
                batch=batch,
                suite=suite,
                type=str(config.get("type")),
                success=bool(data.get("success")),
                column=kwargs.get("column"),
                kwargs=kwargs,
                meta=dict(config.get("meta") or {}),
                result=dict(data.get("result") or {}),
                error=_error_of(data.get("exception_info")),
                gx_severity=str(config.get("severity") or "critical"),
            )
        )
    return out


def _number_kind(x: pd.Series) -> str:
    """`integer` when every value is a whole finite number (38.0 is 38), else `float`."""
    v = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64")
    return "integer" if np.isfinite(v).all() and (v == np.round(v)).all() else "float"


def logical_type(s: pd.Series) -> str | None:
    """What a column's values are, whatever pandas stores them as: `integer`, `float`, `boolean`, `string`,
    `datetime`, `timedelta`, or pandas' inferred kind for anything else (`mixed`, `bytes`...); None when it
    holds no value (nothing to type: its nulls are missing_spike's)."""
    if is_datetime(s):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return "timedelta"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    values = s.dropna()
    if values.empty:
        return None
    if pd.api.types.is_integer_dtype(s.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(s.dtype):
        return _number_kind(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        values = pd.Series(np.asarray(values, dtype=object))
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return _number_kind(values)
    if inferred in ("datetime", "datetime64"):
        return "datetime"
    return {"timedelta64": "timedelta", "timedelta": "timedelta"}.get(inferred, inferred)


def expected_type(type_name: str, train: pd.Series | None) -> str | None:
    """The logical type a stored suite's dtype name stands for (`int64` -> integer, `float64` -> float, `str`
    -> string, `Timestamp` / `datetime64` -> datetime, `bool` -> boolean); for a name that says nothing about
    the values (`object`, a category), the training column's (None when it is not known)."""
    name = type_name.lower()
    if name.startswith(("int", "uint")):
        return "integer"
    if name.startswith("float"):
        return "float"
    if name in ("str", "string"):
        return "string"
    if name in ("bool", "bool_", "boolean"):
        return "boolean"
    if name in ("timestamp", "datetime64", "datetimetz"):
        return "datetime"
    return logical_type(train) if train is not None else None


def same_logical_type(expected: str, found: str | None) -> bool:
    """Whether values of the `found` logical type fit a column of the `expected` one: the same type, whole
    numbers where numbers with decimals are expected, or no value at all."""
    return found is None or found == expected or (expected == "float" and found == "integer")


def logical_view(v: Validation, batch: pd.DataFrame | None, train: pd.DataFrame | None = None) -> Validation:
    """`v` with each type expectation GX failed only on the pandas storage type passed, its `result` noting
    the logical types under LOGICAL (with the batch's values: without them GX's verdict stands)."""
    if batch is None:
        return v
    outcomes = []
    for o in v.outcomes:
        if o.type == COLUMN_TYPE and not o.success and not o.error and o.column in batch.columns:
            reference = train[o.column] if train is not None and o.column in train.columns else None
            expected = expected_type(str(o.kwargs.get("type_")), reference)
            found = logical_type(batch[o.column])
            if expected is not None and same_logical_type(expected, found):
                note = {"expected": expected, "found": found, "stored": o.result.get("observed_value")}
                o = replace(o, success=True, result={**o.result, LOGICAL: note})
        outcomes.append(o)
    return replace(v, outcomes=tuple(outcomes))


def at_least_its_own(severity: Severity, outcome: Outcome) -> Severity:
    """The limit's verdict, raised to the expectation's own severity when GX failed it (a reviewer may
    tighten `mostly` or a bound in the stored suite: the suite is the contract)."""
    return severity if outcome.success else max(severity, outcome.severity)


@dataclass(frozen=True)
class Measured:
    """The number a built-in check reads from one expectation's result, with the suite's own verdict."""

    batch: str
    suite: str
    expectation: str
    column: str | None
    value: float  # what the check's limit judges
    passed: bool  # GX's verdict under the stored suite's own `mostly` / bounds
    own_severity: Severity  # the expectation's, when GX failed it
    serving: bool  # the batch is serving traffic
    evidence: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, o: Outcome, value: float, serving: bool, evidence: dict[str, Any]) -> Measured:
        return cls(o.batch, o.suite, o.type, o.column, value, o.success, o.severity, serving, evidence)


@dataclass(frozen=True)
class MeasuredOutcomes(checks.Measurement):
    """What a check reading GX results measured: a value per evaluated expectation it owns, and the ones GX
    could not evaluate (never skipped silently: each is a finding at its own severity)."""

    found: tuple[Measured, ...]
    errors: tuple[Outcome, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {
            f"{b}.max": max((max(0.0, m.value) for m in self.found if m.batch == b), default=0.0) for b in self.batches
        }


def measure_outcomes(
    x: DataInputs,
    check: str,
    skipped: Callable[[Validation], set[str]],
    read: Callable[[Validation, Outcome], Measured | None],
) -> MeasuredOutcomes:
    """Every outcome `check` owns, on every validated batch (in its logical view), read into a Measured (`read`
    returns None when there is nothing to judge); columns `skipped` names on a batch (absent, retyped) are
    schema_change's."""
    found: list[Measured] = []
    errors: list[Outcome] = []
    for v in x.validations.values():
        v = logical_view(v, x.batches.get(v.batch), x.train)
        skip = skipped(v)
        for o in v.owned_by(check):
            if o.column in skip:
                continue
            if o.error:
                errors.append(o)
            elif (m := read(v, o)) is not None:
                found.append(m)
    return MeasuredOutcomes(tuple(found), tuple(errors), tuple(x.validations))


def judge_outcomes(
    m: MeasuredOutcomes, limit: Limit, message: Callable[[Measured], str], serving_owner: str | None = None
) -> list[Finding]:
    """The GX errors, then a finding per value beyond the warn limit (or failed by the suite itself); on
    serving traffic, with a `serving_owner`, info naming the features-layer check that judges it."""
    findings = [error_finding(o) for o in m.errors]
    for r in m.found:
        f = limit_finding(r, limit, message(r))
        if f and serving_owner and r.serving:
            f = for_features_layer(f, serving_owner)
        if f:
            findings.append(f)
    return findings


def limit_finding(m: Measured, limit: Limit, message: str) -> Finding | None:
    """The limit's verdict on `m.value`; an expectation the stored suite itself failed is at least its own
    severity (a reviewer may tighten the suite: it is the contract). None when quiet: passes are not listed
    one by one (the `baseline` check counts them per batch)."""
    severity = limit.severity(m.value)
    if not m.passed and m.own_severity > severity:
        severity, message = m.own_severity, f"{message}; the suite's expectation failed"
    if severity is Severity.info:
        return None
    evidence = {
        "batch": m.batch,
        "suite": m.suite,
        "expectation": m.expectation,
        "value": m.value,
        "warn": limit.warn,
        "fail": limit.fail,
        **m.evidence,
    }
    return Finding(severity=severity, message=message, columns=[m.column] if m.column else [], evidence=evidence)


def for_features_layer(finding: Finding, owner: str) -> Finding:
    """A value check on serving traffic, kept as info: what the model meets at serving (values outside the
    training range, categories training never saw) is judged by the features layer's `owner` check."""
    return finding.model_copy(
        update={
            "severity": Severity.info,
            "message": f"{finding.message} (judged by the features layer: {owner})",
            "evidence": {**finding.evidence, "severity_here": finding.severity.value, "judged_by": owner},
        }
    )


def error_finding(outcome: Outcome) -> Finding:
    """An expectation that could not be evaluated is not a pass: a finding at the expectation's severity."""
    return Finding(
        severity=outcome.severity,
        message=f"{outcome.batch}: {outcome.type} on {outcome.where()} could not be evaluated: {outcome.error}",
        columns=[outcome.column] if outcome.column else [],
        evidence={
            "batch": outcome.batch,
            "suite": outcome.suite,
            "kwargs": outcome.kwargs,
            "error": outcome.error,
            "gx_severity": outcome.gx_severity,
        },
    )


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.3g}%"
