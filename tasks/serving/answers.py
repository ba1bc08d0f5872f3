"""Rows the server gave no usable answer for: failed requests, nulls, NaN, or answers of the wrong shape."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.limits import Limit
from tasks.result import Finding, judge

EXAMPLES = 5
REASON_IN_MESSAGE = 200


def missing_answers(log: pd.DataFrame, features: list[str], reasons: dict[int, str], limit: Limit) -> Finding:
    """Share of rows without a finite served score, with example inputs and the server's reasons."""
    missing = ~np.isfinite(log["score"].to_numpy(dtype="float64"))
    n_missing, n_rows = int(missing.sum()), len(log)
    share = n_missing / n_rows if n_rows else float("nan")
    bad = log.loc[missing]
    examples = [
        {
            "source": r["source"],
            "row": int(r["row"]),
            "status": int(r["status"]),
            "reason": reasons.get(int(r["batch"])),
            "inputs": {c: r[c] for c in features},
        }
        for _, r in bad.head(EXAMPLES).iterrows()
    ]
    by_status = {str(k): int(v) for k, v in bad["status"].value_counts().items()}
    bad_batches = sorted(set(bad["batch"].astype(int)) & set(reasons))
    reason_rows: dict[str, int] = {}
    for b in bad_batches:
        reason_rows[reasons[b]] = reason_rows.get(reasons[b], 0) + int((bad["batch"] == b).sum())
    top = sorted(reason_rows.items(), key=lambda kv: -kv[1])
    if n_missing:
        why = top[0][0][:REASON_IN_MESSAGE] if top else "the server answered null or NaN"
        message = (
            f"{n_missing:,} of {n_rows:,} rows ({share:.3%}) got no finite score from the server "
            f"(rows by HTTP status {by_status}): {why}"
        )
    else:
        message = f"all {n_rows:,} rows got a finite score from the server"
    return judge(
        "serving_nan",
        share,
        limit.warn,
        limit.fail,
        message,
        evidence={
            "rows": n_rows,
            "rows_missing": n_missing,
            "rows_by_status": by_status,
            "reasons": [{"reason": r, "rows": n} for r, n in top],
            "examples": examples,
        },
    )
