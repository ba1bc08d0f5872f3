"""Value range: impossible numbers (a negative distance) or a unit change (x100) in the trusted test set,
against the training range widened by a margin (the baseline suite's `expect_column_values_to_be_between`).

On the current batch the result is reported as info: values the model meets at serving are the features
layer's to judge (out_of_range), where the root cause of a serving fault lives.
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


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Measured, ...]  # value: the share of non-null values outside the range
    errors: tuple[Outcome, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{b}.max_share": max((m.value for m in self.found if m.batch == b), default=0.0) for b in self.batches}


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, int | float) else str(x)


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
                continue  # no non-null values: nothing is out of range; missing_spike speaks for them
            found.append(
                Measured(
                    batch=o.batch,
                    suite=o.suite,
                    expectation=o.type,
                    column=o.column,
                    value=share,
                    passed=o.success,
                    own_severity=o.severity,
                    serving=v.serving,
                    evidence={
                        "expected": o.meta.get(
                            "allows", f"values in [{o.kwargs.get('min_value')}, {o.kwargs.get('max_value')}]"
                        ),
                        "min_value": o.kwargs.get("min_value"),
                        "max_value": o.kwargs.get("max_value"),
                        "examples": o.examples,
                        "unexpected_share": share,
                        "unexpected_rows": o.result.get("unexpected_count"),
                        "train_min": o.meta.get("train_min"),
                        "train_max": o.meta.get("train_max"),
                    },
                )
            )
    return Measurement(tuple(found), tuple(errors), tuple(x.validations))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per column with values outside its range beyond the warn limit; on serving traffic, info
    naming the features-layer check that judges it."""
    findings = [error_finding(o) for o in m.errors]
    for r in m.found:
        low, high = r.evidence["min_value"], r.evidence["max_value"]
        f = limit_finding(
            r,
            p.share,
            f"{r.batch}: column {r.column!r} has {pct(r.value)} of values outside [{_num(low)}, {_num(high)}]",
        )
        if f:
            findings.append(for_features_layer(f, SERVING_OWNER) if r.serving else f)
    return findings
