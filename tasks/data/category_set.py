"""Category set: values outside a categorical column's training categories in the trusted test set (a new
carrier code, a relabelled category), and labels that are not the training labels (not 0/1) in any labelled
batch (the baseline suites' `expect_column_values_to_be_in_set`).

On the current batch, new categories of the inputs are reported as info: the categories the model meets at
serving are the features layer's to judge (unseen_categories). Labels stay judged here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.data.outcomes import Measured, Outcome, error_finding, for_features_layer, limit_finding, pct
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


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Measured, ...]  # value: the share of non-null values outside the set
    errors: tuple[Outcome, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{b}.max_share": max((m.value for m in self.found if m.batch == b), default=0.0) for b in self.batches}


def measure(x: DataInputs, p: Params) -> Measurement:
    found: list[Measured] = []
    errors: list[Outcome] = []
    for v in x.validations.values():
        broken = shape_of(v).broken
        for o in v.owned_by(CHECK):
            if o.column in broken:
                continue
            if o.error:
                errors.append(o)
                continue
            share = o.unexpected_share
            if share is None:
                continue
            known = o.kwargs.get("value_set") or []
            found.append(
                Measured(
                    batch=o.batch,
                    suite=o.suite,
                    expectation=o.type,
                    column=o.column,
                    value=share,
                    passed=o.success,
                    own_severity=o.severity,
                    serving=v.serving and o.suite == INPUTS_SUITE,
                    evidence={
                        "expected": o.meta.get("allows", f"{len(known)} known categories"),
                        "known": len(known),
                        "examples": o.examples,
                        "unexpected_share": share,
                        "unexpected_rows": o.result.get("unexpected_count"),
                    },
                )
            )
    return Measurement(tuple(found), tuple(errors), tuple(x.validations))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per column with values outside its set beyond the warn limit; new input categories on
    serving traffic as info naming the features-layer check that judges them."""
    findings = [error_finding(o) for o in m.errors]
    for r in m.found:
        f = limit_finding(
            r,
            p.share,
            f"{r.batch}: column {r.column!r}: {pct(r.value)} of values outside the {r.evidence['known']} known",
        )
        if f:
            findings.append(for_features_layer(f, SERVING_OWNER) if r.serving else f)
    return findings
