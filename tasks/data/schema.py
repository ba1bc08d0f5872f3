"""Schema: a missing, renamed or added column, or a changed type. Always a fail: nothing downstream can be
trusted on columns that are not what the model was trained on."""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.data.outcomes import Outcome, error_finding
from tasks.result import Finding, Severity

TABLE_COLUMNS = "expect_table_columns_to_match_set"
COLUMN_EXISTS = "expect_column_to_exist"
COLUMN_TYPE = "expect_column_values_to_be_of_type"
TYPES = (TABLE_COLUMNS, COLUMN_EXISTS, COLUMN_TYPE)


@dataclass
class Schema:
    findings: list[Finding] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    retyped: set[str] = field(default_factory=set)

    @property
    def broken(self) -> set[str]:
        """Columns whose value checks mean nothing on this batch (absent, or of another type)."""
        return self.missing | self.retyped


def schema_findings(batch: str, outcomes: list[Outcome], present: list[str]) -> Schema:
    """Missing columns (named by the table expectation or by any expectation on an absent column), added
    columns, and type changes, one fail finding per column."""
    s = Schema()
    expected: list[str] = []
    for o in outcomes:
        if o.type == TABLE_COLUMNS:
            expected = list(o.kwargs.get("column_set") or [])
            if not o.success:
                mismatch = (o.result.get("details") or {}).get("mismatched") or {}
                s.missing |= set(mismatch.get("missing") or [])
                s.added |= set(mismatch.get("unexpected") or [])
                if o.error:
                    s.findings.append(error_finding(o, "schema"))
        elif o.column is not None and o.column not in present:
            s.missing.add(o.column)
    evidence = {"batch": batch, "expected_columns": expected, "found_columns": list(present)}
    for column in sorted(s.missing):
        hint = f"; new columns {sorted(s.added)}: renamed?" if s.added else ""
        s.findings.append(
            Finding(
                check="schema",
                severity=Severity.fail,
                message=f"{batch}: column {column!r} is missing (expected: present, found: absent){hint}",
                columns=[column],
                evidence=evidence,
            )
        )
    for column in sorted(s.added):
        s.findings.append(
            Finding(
                check="schema",
                severity=Severity.fail,
                message=f"{batch}: column {column!r} was added (expected: not in training, found: present)",
                columns=[column],
                evidence=evidence,
            )
        )
    for o in outcomes:
        if o.type != COLUMN_TYPE or o.success or o.column in s.missing:
            continue
        if o.error:
            s.findings.append(error_finding(o, "schema"))
            continue
        found, expected = o.result.get("observed_value"), o.kwargs.get("type_")
        s.retyped.add(str(o.column))
        s.findings.append(
            Finding(
                check="schema",
                severity=Severity.fail,
                message=f"{batch}: column {o.column!r} changed type (expected {expected}, found {found})",
                columns=[str(o.column)],
                evidence={
                    "batch": batch,
                    "suite": o.suite,
                    "expected_type": expected,
                    "found_type": found,
                },
            )
        )
    return s
