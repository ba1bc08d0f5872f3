"""Row-by-row parity: the served model must answer exactly what the same model answers offline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.limits import Limit
from tasks.result import Finding, judge

WORST_ROWS = 10


def served_vs_offline(
    log: pd.DataFrame,
    abs_tolerance: float,
    limit: Limit,
    id_column: str | None,
    offline_errors: dict[str, str] | None = None,
) -> Finding:
    """Share of answered rows whose served score differs from the offline score by more than the tolerance.

    A row the server answered but the offline model could not score counts as a mismatch: the two disagree."""
    served = log["score"].to_numpy(dtype="float64")
    offline = log["offline_score"].to_numpy(dtype="float64")
    answered = np.isfinite(served)
    diff = np.abs(served - offline)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    mismatched = answered & (diff > abs_tolerance)
    n_answered, n_mismatched = int(answered.sum()), int(mismatched.sum())
    share = n_mismatched / n_answered if n_answered else float("nan")
    worst = log.loc[mismatched].assign(_diff=diff[mismatched]).sort_values("_diff", ascending=False).head(WORST_ROWS)
    worst_rows = [
        {
            "source": r["source"],
            "row": int(r["row"]),
            "id": r[id_column] if id_column else None,
            "served": r["score"],
            "offline": r["offline_score"],
            "abs_diff": r["_diff"],
        }
        for _, r in worst.iterrows()
    ]
    max_diff = float(diff[answered].max()) if n_answered else float("nan")
    if not n_answered:
        message = "no row got a served answer: nothing to compare with the offline model"
    else:
        message = (
            f"{n_mismatched:,} of {n_answered:,} served answers ({share:.3%}) differ from the same model "
            f"offline by more than {abs_tolerance:g}; max difference {max_diff:.3g}"
        )
    return judge(
        "serving_prediction_mismatch",
        share,
        limit.warn,
        limit.fail,
        message,
        evidence={
            "rows_compared": n_answered,
            "rows_mismatched": n_mismatched,
            "max_abs_diff": max_diff,
            "abs_tolerance": abs_tolerance,
            "worst_rows": worst_rows,
            "offline_errors": offline_errors or {},
        },
    )
