"""Out-of-range values: impossible numbers (a negative distance) or a unit change (x100) against the
training range widened by a margin."""

from __future__ import annotations

from tasks.data.outcomes import Outcome, evaluated, judged, pct
from tasks.limits import Limit
from tasks.result import Finding

TYPE = "expect_column_values_to_be_between"


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, int | float) else str(x)


def range_findings(outcomes: list[Outcome], limit: Limit) -> tuple[list[Finding], dict[str, float]]:
    """Judge the share of non-null values outside each numeric column's allowed range."""
    findings: list[Finding] = []
    shares: dict[str, float] = {}
    for o in evaluated(outcomes, TYPE, "out_of_range_share", findings):
        share = o.unexpected_share
        if share is None:
            continue  # no non-null values: nothing is out of range; the null check speaks for them
        shares[str(o.column)] = share
        low, high = o.kwargs.get("min_value"), o.kwargs.get("max_value")
        found = judged(
            o,
            "out_of_range_share",
            share,
            limit,
            f"{o.batch}: column {o.column!r} has {pct(share)} of values outside [{_num(low)}, {_num(high)}]",
            {
                "expected": o.meta.get("allows", f"values in [{low}, {high}]"),
                "examples": o.examples,
                "unexpected_share": share,
                "unexpected_rows": o.result.get("unexpected_count"),
                "train_min": o.meta.get("train_min"),
                "train_max": o.meta.get("train_max"),
            },
        )
        if found:
            findings.append(found)
    return findings, shares
