"""Value range: impossible numbers (a negative distance) or a unit change (x100) in the trusted test set,
against the training range widened by a margin (the baseline suite's `expect_column_values_to_be_between`).

On the current batch the result is reported as info: values the model meets at serving are the features
layer's to judge (out_of_range), where the root cause of a serving fault lives.
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

CHECK = "value_range"
SERVING_OWNER = "out_of_range"


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.001, fail=0.01),
        description="share of a column's non-null values outside its allowed range (the fail level also sets "
        "the `mostly` of the expectation the baseline writes)",
    )
    margin: float = Field(
        1.0,
        ge=0.0,
        description="training spans added on each side of the training range when the baseline is written "
        "(never across zero when training was one-sided): impossible values, not new extremes",
    )


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, int | float) else str(x)


def _read(v: Validation, o: Outcome) -> Measured | None:
    share = o.unexpected_share
    if share is None:
        return None  # no non-null values: nothing is out of range; missing_spike speaks for them
    low, high = o.kwargs.get("min_value"), o.kwargs.get("max_value")
    evidence = {
        "expected": o.meta.get("allows", f"values in [{low}, {high}]"),
        "min_value": low,
        "max_value": high,
        "examples": o.examples,
        "unexpected_share": share,
        "unexpected_rows": o.result.get("unexpected_count"),
        "train_min": o.meta.get("train_min"),
        "train_max": o.meta.get("train_max"),
    }
    return Measured.of(o, share, v.serving, evidence)


def measure(x: DataInputs, p: Params) -> MeasuredOutcomes:
    return measure_outcomes(x, CHECK, lambda v: shape_of(v).broken, _read)


def judge(m: MeasuredOutcomes, p: Params) -> list[Finding]:
    """A finding per column with values outside its range beyond the warn limit; on serving traffic, info
    naming the features-layer check that judges it."""

    def message(r: Measured) -> str:
        low, high = _num(r.evidence["min_value"]), _num(r.evidence["max_value"])
        return f"{r.batch}: column {r.column!r} has {pct(r.value)} of values outside [{low}, {high}]"

    return judge_outcomes(m, p.share, message, SERVING_OWNER)
