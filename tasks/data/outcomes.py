"""A plain view of GX expectation results, read by key, and the one rule for turning them into findings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

EXAMPLES = 5


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
            )
        )
    return out


def judged(
    outcome: Outcome, check: str, value: float, limit: Limit, message: str, evidence: dict[str, Any]
) -> Finding | None:
    """Severity from the params warn/fail pair on `value`; an expectation the reviewed suite itself failed is
    at least a fail (a reviewer may tighten it). None when quiet: passes are not listed one by one."""
    ev = {"batch": outcome.batch, "suite": outcome.suite, "expectation": outcome.type, **evidence}
    columns = [outcome.column] if outcome.column else []
    finding = judge(check, value, limit.warn, limit.fail, message, columns=columns, evidence=ev)
    if not outcome.success and finding.severity is not Severity.fail:
        finding = finding.model_copy(
            update={"severity": Severity.fail, "message": f"{message}; the suite's expectation failed"}
        )
    return None if finding.severity is Severity.info else finding


def error_finding(outcome: Outcome, check: str) -> Finding:
    """An expectation that could not be evaluated is not a pass: it is reported as a failure to check."""
    where = f"column {outcome.column!r}" if outcome.column else "the table"
    return Finding(
        check=check,
        severity=Severity.fail,
        message=f"{outcome.batch}: {outcome.type} on {where} could not be evaluated: {outcome.error}",
        columns=[outcome.column] if outcome.column else [],
        evidence={
            "batch": outcome.batch,
            "suite": outcome.suite,
            "kwargs": outcome.kwargs,
            "error": outcome.error,
        },
    )


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.3g}%"


def evaluated(outcomes: list[Outcome], type_: str, check: str, findings: list[Finding]) -> Iterator[Outcome]:
    """The outcomes of one expectation type that GX could evaluate; the others are reported into `findings`
    as failures to check, never skipped silently."""
    for o in outcomes:
        if o.type != type_:
            continue
        if o.error:
            findings.append(error_finding(o, check))
            continue
        yield o
