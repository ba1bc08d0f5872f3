"""Reviewer expectations: expectations a reviewer added to the stored baseline suites by hand (uniqueness of
an id, a column pair, a mean in a band...). glassbox knows no limits for them, so the suite's own verdict
stands, at the severity the reviewer gave the expectation: GX's `severity` (critical -> fail, warning -> warn,
info -> info; critical when not set).

Any expectation that is not one the baseline writes for schema_change, missing_spike, value_range or
category_set (by its type and `meta.check`) is a reviewer's. Expectations on a column that is missing or
changed type are left to schema_change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.data.outcomes import Outcome, error_finding
from tasks.data.schema_change import shape_of
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    failed: tuple[Outcome, ...]  # GX failed them, or could not evaluate them
    counted: dict[str, int]  # reviewer expectations per batch

    def metrics(self) -> dict[str, float]:
        return {
            **{f"{b}.expectations": float(n) for b, n in self.counted.items()},
            **{f"{b}.failed": float(sum(o.batch == b for o in self.failed)) for b in self.counted},
        }


def measure(x: DataInputs, p: checks.NoParams) -> Measurement:
    failed: list[Outcome] = []
    counted: dict[str, int] = {}
    for v in x.validations.values():
        broken = shape_of(v).broken
        own = [o for o in v.owned_by(None) if o.column not in broken]
        counted[v.batch] = len(own)
        failed += [o for o in own if not o.success]
    return Measurement(tuple(failed), counted)


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """A finding per failed expectation at its own severity (quiet when they all pass)."""
    findings: list[Finding] = []
    for o in m.failed:
        if o.error:
            findings.append(error_finding(o))
            continue
        observed = o.result.get("observed_value", o.unexpected_share)
        findings.append(
            Finding(
                severity=o.severity,
                message=f"{o.batch}: {o.type} failed on {o.where()} (found {observed}; severity {o.gx_severity} in "
                "the suite)",
                columns=[o.column] if o.column else [],
                evidence={
                    "batch": o.batch,
                    "suite": o.suite,
                    "kwargs": o.kwargs,
                    "found": observed,
                    "examples": o.examples,
                    "meta": o.meta,
                    "gx_severity": o.gx_severity,
                },
            )
        )
    return findings
