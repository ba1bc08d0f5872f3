"""Category set: values outside a categorical column's training categories in the trusted test set (a new
carrier code, a relabelled category), and labels that are not the training labels (not 0/1) in any labelled
batch (the baseline suites' `expect_column_values_to_be_in_set`).

On the current batch, new categories of the inputs are reported as info: the categories the model meets at
serving are the features layer's to judge (unseen_categories). Labels stay judged here.
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

CHECK = "category_set"
SERVING_OWNER = "unseen_categories"
INPUTS_SUITE = "inputs"


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.01, fail=0.05),
        description="share of a column's non-null values outside its training category set (the fail level "
        "also sets the `mostly` of the expectation the baseline writes)",
    )
    max_categories: int = Field(
        200,
        ge=1,
        description="the baseline writes a category set only for categorical features with at most this many "
        "distinct training values",
    )


def _read(v: Validation, o: Outcome) -> Measured | None:
    share = o.unexpected_share
    if share is None:
        return None
    known = o.kwargs.get("value_set") or []
    evidence = {
        "expected": o.meta.get("allows", f"{len(known)} known categories"),
        "known": len(known),
        "examples": o.examples,
        "unexpected_share": share,
        "unexpected_rows": o.result.get("unexpected_count"),
    }
    # input categories on serving traffic are the features layer's; labels outside the set stay judged here
    return Measured.of(o, share, v.serving and o.suite == INPUTS_SUITE, evidence)


def measure(x: DataInputs, p: Params) -> MeasuredOutcomes:
    return measure_outcomes(x, CHECK, lambda v: shape_of(v).broken, _read)


def judge(m: MeasuredOutcomes, p: Params) -> list[Finding]:
    """A finding per column with values outside its set beyond the warn limit; new input categories on
    serving traffic as info naming the features-layer check that judges them."""

    def message(r: Measured) -> str:
        return f"{r.batch}: column {r.column!r}: {pct(r.value)} of values outside the {r.evidence['known']} known"

    return judge_outcomes(m, p.share, message, SERVING_OWNER)
