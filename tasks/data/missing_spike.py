"""Missing spike: nulls appear in a column that had few or none (a broken join, a dropped field, an upstream
outage). Judged as the rise of each column's null share over its training share (recorded in the baseline
suite), on the test set and on the current batch.

GX measures the null share (`expect_column_values_to_not_be_null`, with the training share in its meta);
missing columns are schema_change's. Missingness comes in bursts (an outage blanks every row of an hour), so a
few points is ordinary batch-to-batch variation; a broken field is tens of points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.data.outcomes import Measured, MeasuredOutcomes, Outcome, Validation, judge_outcomes, measure_outcomes, pct
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


def _read(v: Validation, o: Outcome) -> Measured | None:
    rows, nulls = o.element_count, o.result.get("unexpected_count")
    if not rows or nulls is None:
        return None  # an empty batch has no null share; the row count is in the baseline check's summary
    share, base = nulls / rows, float(o.meta.get("train_null_share") or 0.0)
    evidence = {
        "expected": o.meta.get("allows", f"mostly {o.kwargs.get('mostly')} non-null"),
        "found": share,
        "train_null_share": base,
        "null_rows": nulls,
        "rows": rows,
    }
    return Measured.of(o, share - base, v.serving, evidence)  # the rise over training


def measure(x: DataInputs, p: Params) -> MeasuredOutcomes:
    return measure_outcomes(x, CHECK, lambda v: shape_of(v).missing, _read)


def judge(m: MeasuredOutcomes, p: Params) -> list[Finding]:
    """A finding per column whose null share rose beyond the warn limit (quiet otherwise)."""

    def message(r: Measured) -> str:
        share, base = r.evidence["found"], r.evidence["train_null_share"]
        return (
            f"{r.batch}: column {r.column!r} null share {pct(share)} vs {pct(base)} in training "
            f"(+{100 * r.value:.3g} points)"
        )

    return judge_outcomes(m, p.share, message)
