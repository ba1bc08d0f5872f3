"""Unexpected categories: values outside the training category set (a new carrier code, a relabelled
category, labels that are not 0/1)."""

from __future__ import annotations

from tasks.data.outcomes import Outcome, evaluated, judged, pct
from tasks.limits import Limit
from tasks.result import Finding

TYPE = "expect_column_values_to_be_in_set"


def category_findings(outcomes: list[Outcome], limit: Limit) -> tuple[list[Finding], dict[str, float]]:
    """Judge the share of non-null values outside each categorical column's training set."""
    findings: list[Finding] = []
    shares: dict[str, float] = {}
    for o in evaluated(outcomes, TYPE, "unexpected_category_share", findings):
        share = o.unexpected_share
        if share is None:
            continue
        shares[str(o.column)] = share
        known = o.kwargs.get("value_set") or []
        found = judged(
            o,
            "unexpected_category_share",
            share,
            limit,
            f"{o.batch}: column {o.column!r}: {pct(share)} of values outside the {len(known)} known",
            {
                "expected": o.meta.get("allows", f"{len(known)} known categories"),
                "examples": o.examples,
                "unexpected_share": share,
                "unexpected_rows": o.result.get("unexpected_count"),
            },
        )
        if found:
            findings.append(found)
    return findings, shares
