"""Expectations a reviewer added to the stored suite by hand: glassbox knows no limits for them, so the
suite's own verdict stands (a failed expectation is a fail)."""

from __future__ import annotations

from tasks.data.outcomes import Outcome, error_finding
from tasks.result import Finding, Severity


def reviewed_findings(outcomes: list[Outcome], known_types: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    for o in outcomes:
        if o.type in known_types or o.success:
            continue
        if o.error:
            findings.append(error_finding(o, "expectation"))
            continue
        where = f"column {o.column!r}" if o.column else "the table"
        observed = o.result.get("observed_value", o.unexpected_share)
        findings.append(
            Finding(
                check="expectation",
                severity=Severity.fail,
                message=f"{o.batch}: {o.type} failed on {where} (found {observed})",
                columns=[o.column] if o.column else [],
                evidence={
                    "batch": o.batch,
                    "suite": o.suite,
                    "kwargs": o.kwargs,
                    "found": observed,
                    "examples": o.examples,
                    "meta": o.meta,
                },
            )
        )
    return findings
