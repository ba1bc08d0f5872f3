"""The data contract on the server's side of the wire. The reviewed GX inputs suite that guards training
validates each replayed source twice: the rows as read from their file, and the same rows as the model
server decodes glassbox's payload of them (MLflow's own parser, the model's input schema). An expectation
that holds on the file and breaks on the wire was broken in transit (a type the payload cannot carry, a
value changed by serialization): a finding at the expectation's own severity, as the data layer weighs it.
Expectations the file itself breaks are the data and features layers' findings and are not repeated here,
so the check is silent wherever the wire carries the file faithfully, whatever the data. A column that arrives
as written (the same dtype and values, missing where the file is) is judged by GX as the file is, by
construction: only the columns that differ are validated, on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks import checks
from tasks.data.outcomes import Outcome, Validation, logical_view, outcomes_of
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.serving.inputs import ServingInputs


@dataclass(frozen=True)
class Broken:
    """One expectation whose outcome got worse between the file and the wire."""

    expectation: str
    column: str | None
    severity: Severity  # the expectation's own
    holds: bool  # still holds on the wire (within `mostly`), with more unexpected values than the file
    file: dict[str, Any]
    wire: dict[str, Any]


@dataclass(frozen=True)
class SourceContract:
    source: str
    rows: int  # rows the server's parser accepted (the rows compared)
    refused: int  # rows in batches the parser refused (serving_nan counts them as unanswered)
    checked: int  # expectations on the served columns
    broken_in_file: int  # already broken before the wire (the earlier layers' findings), of those validated
    changed: tuple[Broken, ...]
    validated: tuple[str, ...] = ()  # served columns that differ between file and wire: validated on both sides

    @property
    def broken(self) -> tuple[Broken, ...]:
        return tuple(b for b in self.changed if not b.holds)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    suite: str | None  # None: no reviewed inputs suite, nothing checked
    sources: tuple[SourceContract, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{s.source}.broken_in_transit": float(len(s.broken)) for s in self.sources}


def _summary(o: Outcome) -> dict[str, Any]:
    keep = ("observed_value", "element_count", "unexpected_count", "unexpected_percent")
    return {
        "success": o.success,
        **{k: o.result[k] for k in keep if k in o.result},
        "examples": o.examples,
        **({"error": o.error} if o.error else {}),
    }


def _unexpected(o: Outcome) -> int:
    return int(o.result.get("unexpected_count") or 0)


def _validation(source: str, suite: str, result: Any, frame: Any) -> Validation:
    """One GX result as the data layer reads it, type expectations judged on logical types (an integer column
    stored as float because of a null is still integer, on either side)."""
    outcomes = tuple(outcomes_of(source, suite, result))
    raw = Validation(source, len(frame), tuple(map(str, frame.columns)), (suite,), outcomes)
    return logical_view(raw, frame)


def compare(source: str, suite: Any, file: Any, wire: Any, refused: int) -> SourceContract:
    from tasks.data.gxproject import validate_in_memory  # GX loads only when a suite is judged

    if wire.empty:  # every batch refused by the server's parser: nothing reached the model to hold to it
        return SourceContract(source, rows=0, refused=refused, checked=0, broken_in_file=0, changed=())
    served = set(map(str, wire.columns))
    checked = sum(getattr(e, "column", None) in served for e in suite.expectations)
    differ = [c for c in wire.columns if not file[c].equals(wire[c])]
    if not differ:
        return SourceContract(source, len(wire), refused, checked, broken_in_file=0, changed=())
    results = validate_in_memory(suite, {"file": file[differ], "wire": wire[differ]})
    before = _validation(source, suite.name, results["file"], file).outcomes
    after = _validation(source, suite.name, results["wire"], wire).outcomes
    changed = []
    for f, w in zip(before, after, strict=True):
        worse = (f.success and not w.success) or (w.success and _unexpected(w) > _unexpected(f))
        if worse:
            changed.append(Broken(w.type, w.column, w.severity, w.success, _summary(f), _summary(w)))
    return SourceContract(
        source=source,
        rows=len(wire),
        refused=refused,
        checked=checked,
        broken_in_file=sum(not f.success for f in before),
        changed=tuple(changed),
        validated=tuple(map(str, differ)),
    )


def measure(x: ServingInputs, p: checks.NoParams) -> Measurement:
    if x.contract is None:
        return Measurement(suite=None, sources=())
    sources = []
    for source, wire in x.received.items():
        file = x.frames[source].loc[wire.index, list(wire.columns)]
        refused = len(x.frames[source]) - len(wire)
        sources.append(compare(source, x.contract, file, wire, refused))
    return Measurement(suite=x.contract.name, sources=tuple(sources))


def _named(b: Broken) -> str:
    where = f"{b.column!r} " if b.column else ""
    seen = {k: b.wire[k] for k in ("observed_value", "unexpected_count") if k in b.wire}
    return f"{where}{b.expectation} ({seen})"


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """One finding per source, at the worst own severity of the expectations broken in transit."""
    if m.suite is None:
        return [
            Finding(
                severity=Severity.info,
                message="no reviewed GX inputs suite: the contract was not checked at the server",
            )
        ]
    findings = []
    for s in m.sources:
        refused = f"; {s.refused:,} rows the server's parser refused are left out" if s.refused else ""
        earlier = f"; {s.broken_in_file} already broken in the file (earlier layers)" if s.broken_in_file else ""
        if not s.rows:
            message = f"{s.source}: the server's parser refused every batch ({s.refused:,} rows): nothing to validate"
        elif s.broken:
            message = (
                f"{s.source}: {len(s.broken)} of {s.checked} expectations of the {m.suite!r} suite hold on the file "
                f"but break on what the server received: {'; '.join(map(_named, s.broken))}"
            )
        else:
            validated = (
                f" ({len(s.validated)} column(s) decoded otherwise than stored, validated on both sides: "
                f"{', '.join(s.validated[:5])}{'...' if len(s.validated) > 5 else ''}; the others arrived as written)"
                if s.validated
                else " (every served column arrived as written: the same dtype and values)"
            )
            message = (
                f"{s.source}: the {s.checked} expectations of the {m.suite!r} suite on the served columns judge "
                f"the {s.rows:,} rows the server received as they judge the file{validated}{earlier}{refused}"
            )
            held = [b for b in s.changed if b.holds]
            if held:
                within = "; ".join(map(_named, held))
                message += f"; more unexpected values on the wire, within the suite's tolerance: {within}"
        severity = max((b.severity for b in s.broken), default=Severity.info)
        findings.append(
            Finding(
                severity=severity,
                message=message,
                columns=sorted({b.column for b in s.broken if b.column}),
                evidence={
                    "source": s.source,
                    "suite": m.suite,
                    "rows": s.rows,
                    "rows_refused": s.refused,
                    "expectations": s.checked,
                    "broken_in_file": s.broken_in_file,
                    "validated_columns": list(s.validated),
                    "changed": [
                        {
                            "expectation": b.expectation,
                            "column": b.column,
                            "severity": b.severity.value,
                            "holds": b.holds,
                            "file": b.file,
                            "wire": b.wire,
                        }
                        for b in s.changed
                    ],
                },
            )
        )
    return findings
