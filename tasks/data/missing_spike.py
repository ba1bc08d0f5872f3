"""Missing spike: nulls appear in a column that had few or none (a broken join, a dropped field, an upstream
outage). Judged as the rise of each column's null share over its training share (recorded in the baseline
suite), on the test set and on the current batch.

GX measures the null share (`expect_column_values_to_not_be_null`, with the training share in its meta);
missing columns are schema_change's. Missingness comes in bursts (an outage blanks every row of an hour), so a
few points is ordinary batch-to-batch variation; a broken field is tens of points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.data.outcomes import Measured, Outcome, error_finding, limit_finding, pct
from tasks.data.schema_change import shape_of
from tasks.limits import Limit
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

CHECK = "missing_spike"


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="rise of a column's null share over its training share, in absolute share (the fail level "
        "also sets the `mostly` of the expectation the baseline writes)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Measured, ...]  # value: the rise over training
    errors: tuple[Outcome, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {
            f"{b}.max_rise": max((max(0.0, m.value) for m in self.found if m.batch == b), default=0.0)
            for b in self.batches
        }


def measure(x: DataInputs, p: Params) -> Measurement:
    found: list[Measured] = []
    errors: list[Outcome] = []
    for v in x.validations.values():
        missing = shape_of(v).missing
        for o in v.owned_by(CHECK):
            if o.column in missing:
                continue
            if o.error:
                errors.append(o)
                continue
            rows, nulls = o.element_count, o.result.get("unexpected_count")
            if not rows or nulls is None:
                continue  # an empty batch has no null share; the row count is in the baseline check's summary
            share = nulls / rows
            base = float(o.meta.get("train_null_share") or 0.0)
            found.append(
                Measured(
                    batch=o.batch,
                    suite=o.suite,
                    expectation=o.type,
                    column=o.column,
                    value=share - base,
                    passed=o.success,
                    own_severity=o.severity,
                    serving=v.serving,
                    evidence={
                        "expected": o.meta.get("allows", f"mostly {o.kwargs.get('mostly')} non-null"),
                        "found": share,
                        "train_null_share": base,
                        "null_rows": nulls,
                        "rows": rows,
                    },
                )
            )
    return Measurement(tuple(found), tuple(errors), tuple(x.validations))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per column whose null share rose beyond the warn limit (quiet otherwise)."""
    findings = [error_finding(o) for o in m.errors]
    for r in m.found:
        share, base = r.evidence["found"], r.evidence["train_null_share"]
        f = limit_finding(
            r,
            p.share,
            f"{r.batch}: column {r.column!r} null share {pct(share)} vs {pct(base)} in training "
            f"(+{100 * r.value:.3g} points)",
        )
        if f:
            findings.append(f)
    return findings
