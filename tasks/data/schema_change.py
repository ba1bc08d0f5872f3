"""Schema change: a column missing, renamed or added, or its type changed, in a batch against the baseline
suites. Nothing downstream can be trusted on columns that are not what the model was trained on: a fail (at
the severity the stored suite gives the expectation, GX's `critical` by default).

Measured from the GX validation of each batch (the table's column set, each column's existence and type). A
column is missing when the table expectation says so or when any expectation names a column the batch does
not have; the other GX-based checks leave missing and retyped columns to this one (`shape_of`).

Types are judged logically (tasks/data/outcomes.py, `logical_view`): GX's type expectation compares pandas
storage types, and pandas stores an integer column with a missing value as float64. An integer column whose
batch values are all whole numbers is still integer, so nulls appearing in it are named by missing_spike, not
as a type change; text stored as `object` or `str` is text; a time is a time, zone-naive or aware (the zone is
the features layer's timezone_shift). A decimal in an integer column or text in a numeric one is a change.
A storage-only difference is reported as info.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from tasks import checks
from tasks.data.outcomes import COLUMN_TYPE, LOGICAL, TABLE_COLUMNS, Outcome, Validation, error_finding, logical_view
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


@dataclass(frozen=True)
class Problem:
    batch: str
    column: str
    kind: str  # missing | added | retyped | stored (storage type only: same logical type) | error (GX failed)
    severity: Severity  # the expectation's own (the worst of those that name a missing column)
    suite: str | None = None
    expected: str | None = None
    found: str | None = None
    error: Outcome | None = None
    logical: dict[str, str | None] | None = None  # stored: the logical types (expected, found) and the storage


@dataclass(frozen=True)
class Shape:
    """The columns of one batch against its suites."""

    batch: str
    expected: tuple[str, ...]
    present: tuple[str, ...]
    problems: tuple[Problem, ...]

    def _of(self, kind: str) -> set[str]:
        return {p.column for p in self.problems if p.kind == kind}

    @property
    def missing(self) -> set[str]:
        return self._of("missing")

    @property
    def added(self) -> set[str]:
        return self._of("added")

    @property
    def retyped(self) -> set[str]:
        return self._of("retyped")

    @property
    def broken(self) -> set[str]:
        """Columns whose value checks mean nothing on this batch (absent, or of another type)."""
        return self.missing | self.retyped


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    shapes: tuple[Shape, ...]
    # (batch, column) -> a few of a retyped column's values that are not of training's type
    examples: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        return {f"{s.batch}.problems": float(sum(p.kind != "stored" for p in s.problems)) for s in self.shapes}


def shape_of(v: Validation) -> Shape:
    """Missing columns (named by the table expectation or by any expectation on an absent column), added
    columns, type changes, and schema expectations GX could not evaluate."""
    present = set(v.columns)
    expected: list[str] = []
    missing: dict[str, Severity] = {}
    added: dict[str, Severity] = {}
    problems: list[Problem] = []

    def note(found: dict[str, Severity], column: str, o: Outcome) -> None:
        found[column] = max(found.get(column, Severity.info), o.severity)

    for o in v.outcomes:
        if o.type == TABLE_COLUMNS:
            expected = [str(c) for c in o.kwargs.get("column_set") or []]
            if o.success:
                continue
            if o.error:
                problems.append(Problem(v.batch, "", "error", o.severity, o.suite, error=o))
            mismatch = (o.result.get("details") or {}).get("mismatched") or {}
            for c in mismatch.get("missing") or []:
                note(missing, str(c), o)
            for c in mismatch.get("unexpected") or []:
                note(added, str(c), o)
        elif o.column is not None and o.column not in present:
            note(missing, str(o.column), o)
    problems += [Problem(v.batch, c, "missing", s) for c, s in sorted(missing.items())]
    problems += [Problem(v.batch, c, "added", s) for c, s in sorted(added.items())]
    for o in v.outcomes:
        if o.type != COLUMN_TYPE or o.column in missing:
            continue
        if o.success:
            if LOGICAL in o.result:  # GX failed the storage type; the values are of the same logical type
                note = o.result[LOGICAL]
                stored = Problem(v.batch, str(o.column), "stored", Severity.info, o.suite, logical=dict(note))
                problems.append(replace(stored, expected=str(o.kwargs.get("type_")), found=note.get("stored")))
            continue
        if o.error:
            problems.append(Problem(v.batch, str(o.column or ""), "error", o.severity, o.suite, error=o))
            continue
        problems.append(
            Problem(
                v.batch,
                str(o.column),
                "retyped",
                o.severity,
                o.suite,
                expected=str(o.kwargs.get("type_")),
                found=str(o.result.get("observed_value")),
            )
        )
    return Shape(v.batch, tuple(expected), tuple(v.columns), tuple(problems))


def measure(x: DataInputs, p: checks.NoParams) -> Measurement:
    """The shape of each batch in the logical view of its types (GX's storage verdict where it holds), and a few
    values of each retyped column that training's type cannot hold."""
    shapes = tuple(shape_of(logical_view(v, x.batches.get(v.batch), x.train)) for v in x.validations.values())
    examples = {
        (s.batch, c): odd_values(x.batches[s.batch][c], x.train[c])
        for s in shapes
        for c in s.retyped
        if s.batch in x.batches and c in x.batches[s.batch] and c in x.train
    }
    return Measurement(shapes=shapes, examples=examples)


def odd_values(batch: pd.Series, train: pd.Series, limit: int = 3) -> tuple[str, ...]:
    """Values of a batch column that training's type cannot hold: text where training had numbers, decimals
    where it had integers (as written, cut to 40 characters)."""
    known = batch.dropna()
    if not pd.api.types.is_numeric_dtype(train) or pd.api.types.is_bool_dtype(train):
        return ()
    numbers = pd.to_numeric(known, errors="coerce")
    odd = known[numbers.isna()]
    if odd.empty and pd.api.types.is_integer_dtype(train):
        odd = known[(numbers % 1).fillna(0) != 0]
    return tuple(str(v)[:40] for v in pd.unique(odd)[:limit])


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """One finding per missing, added or retyped column (quiet when the columns are as in the baseline); an
    info line per column whose storage type differs while its values are of the training's logical type."""
    findings: list[Finding] = []
    for s in m.shapes:
        evidence = {"batch": s.batch, "expected_columns": list(s.expected), "found_columns": list(s.present)}
        for pr in s.problems:
            if pr.kind == "error" and pr.error is not None:
                findings.append(error_finding(pr.error))
            elif pr.kind == "missing":
                hint = f"; new columns {sorted(s.added)}: renamed?" if s.added else ""
                findings.append(
                    Finding(
                        severity=pr.severity,
                        message=f"{s.batch}: column {pr.column!r} is missing (expected: present, found: absent){hint}",
                        columns=[pr.column],
                        evidence=evidence,
                    )
                )
            elif pr.kind == "stored":
                note = pr.logical or {}
                found = note.get("found") or "no value (all missing)"
                owner = (
                    "its time zone is timezone_shift's" if found == "datetime" else "missing values are missing_spike's"
                )
                findings.append(
                    Finding(
                        severity=Severity.info,
                        message=f"{s.batch}: column {pr.column!r} is stored as {pr.found} (training: {pr.expected}), "
                        f"its values are {found}: the same logical type as training's {note.get('expected')} "
                        f"({owner})",
                        columns=[pr.column],
                        evidence={
                            "batch": s.batch,
                            "suite": pr.suite,
                            "expected_type": pr.expected,
                            "found_type": pr.found,
                            "logical": note,
                        },
                    )
                )
            elif pr.kind == "added":
                continue  # one finding for all of a batch's added columns, below
            else:
                odd = m.examples.get((s.batch, pr.column))
                values = f"; values like {', '.join(repr(v) for v in odd)}" if odd else ""
                findings.append(
                    Finding(
                        severity=pr.severity,
                        message=f"{s.batch}: column {pr.column!r} changed type (expected {pr.expected}, found "
                        f"{pr.found}){values}",
                        columns=[pr.column],
                        evidence={
                            "batch": s.batch,
                            "suite": pr.suite,
                            "expected_type": pr.expected,
                            "found_type": pr.found,
                            "values": list(odd or ()),
                        },
                    )
                )
        if s.added:
            findings.append(_added(s, evidence))
    return findings


def _added(s: Shape, evidence: dict) -> Finding:
    """Columns the batch has and training had not: the model never reads them (its features are training's), so
    an extra column is info; more extra columns than the baseline's own is another table, a warning. A renamed
    column is also a missing one, which fails above."""
    added = sorted(s.added)
    many = len(added) > len(s.expected)
    shown = ", ".join(repr(c) for c in added[:5]) + (f" and {len(added) - 5} more" if len(added) > 5 else "")
    tail = (
        f": more than the {len(s.expected)} columns of the baseline: is this the file meant?"
        if many
        else ": not read by the model"
    )
    return Finding(
        severity=Severity.warn if many else Severity.info,
        message=f"{s.batch}: {len(added)} column{'s' if len(added) > 1 else ''} not in training ({shown}){tail}",
        columns=added[:20],
        evidence=evidence | {"added": added[:200]},
    )
