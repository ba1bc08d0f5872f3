"""Drift of the model's output: the served scores against the candidate's own scores on training rows,
by normed Wasserstein distance (in reference standard deviations)."""

from __future__ import annotations

from tasks.drift import ColumnDrift
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge


def check_prediction_drift(
    drift: ColumnDrift | None, limit: Limit, served: int, rows: int, why_not: str | None = None
) -> Finding:
    """Judge the score drift; when there are no served scores to compare, say so (a warning, not a pass)."""
    if drift is None:
        return Finding(
            check="prediction_drift",
            severity=Severity.warn,
            message=f"prediction drift not measured: {why_not or 'no result'} ({served} of {rows} rows scored)",
            evidence={"served_rows": served, "rows": rows},
        )
    return judge(
        "prediction_drift",
        drift.score,
        limit.warn,
        limit.fail,
        f"prediction drift ({drift.method}) of the served scores: {drift.score:.3f} "
        f"(warn {limit.warn}, fail {limit.fail}; {served:,} of {rows:,} rows scored)",
        evidence={"method": drift.method, "served_rows": served, "rows": rows},
    )
