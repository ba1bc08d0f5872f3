"""Null share: a column that goes missing more often than in training (a broken join, a dropped field)."""

from __future__ import annotations

from tasks.data.outcomes import Outcome, evaluated, judged, pct
from tasks.limits import Limit
from tasks.result import Finding

TYPE = "expect_column_values_to_not_be_null"


def null_findings(outcomes: list[Outcome], limit: Limit) -> tuple[list[Finding], dict[str, float]]:
    """Judge each column's rise in null share over its training share (stored in the suite's meta)."""
    findings: list[Finding] = []
    rises: dict[str, float] = {}
    for o in evaluated(outcomes, TYPE, "null_share", findings):
        rows, nulls = o.element_count, o.result.get("unexpected_count")
        if not rows or nulls is None:
            continue  # an empty batch has no null share; the row count is in the batch summary
        share = nulls / rows
        base = float(o.meta.get("train_null_share") or 0.0)
        rise = share - base
        rises[str(o.column)] = rise
        found = judged(
            o,
            "null_share",
            rise,
            limit,
            f"{o.batch}: column {o.column!r} null share {pct(share)} vs {pct(base)} in training "
            f"(+{100 * rise:.3g} points)",
            {
                "expected": o.meta.get("allows", f"mostly {o.kwargs.get('mostly')} non-null"),
                "found": share,
                "train_null_share": base,
                "null_rows": nulls,
                "rows": rows,
            },
        )
        if found:
            findings.append(found)
    return findings, rises
