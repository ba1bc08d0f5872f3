"""Rows the server gave no usable answer for: failed requests, nulls, NaN, or answers of the wrong shape. A
caller that gets nothing back for some inputs falls back to a default (or crashes) exactly where the model
was needed, so every such row is counted, with example inputs and the server's own reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.columns import EXAMPLES
from tasks.limits import Limit, judged
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.serving.inputs import ServingInputs

REASON_IN_MESSAGE = 200  # characters of the server's commonest reason quoted in the message


class Params(checks.CheckParams):
    share: Limit = Field(Limit(warn=0.0, fail=0.01), description="share of rows without a finite served score")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    rows: int
    missing: int  # rows without a finite served score
    by_status: dict[str, int]  # missing rows by HTTP status (0: no HTTP answer)
    reasons: tuple[tuple[str, int], ...]  # the server's reasons with their row counts, commonest first
    examples: tuple[dict[str, Any], ...]  # the first rows without an answer, with their inputs

    @property
    def share(self) -> float:
        return self.missing / self.rows if self.rows else float("nan")

    def metrics(self) -> dict[str, float]:
        return {"share": self.share, "rows_missing": float(self.missing)} if self.rows else {"rows_missing": 0.0}


def measure(x: ServingInputs, p: Params) -> Measurement:
    log = x.log
    missing = ~np.isfinite(log["score"].to_numpy(dtype="float64"))
    bad = log.loc[missing]
    examples = tuple(
        {
            "source": r["source"],
            "row": int(r["row"]),
            "status": int(r["status"]),
            "reason": x.reasons.get(int(r["batch"])),
            "inputs": {c: r[c] for c in x.features},
        }
        for _, r in bad.head(EXAMPLES).iterrows()
    )
    by_status = {str(k): int(v) for k, v in bad["status"].value_counts().items()}
    reason_rows: dict[str, int] = {}
    for b in sorted(set(bad["batch"].astype(int)) & set(x.reasons)):
        reason = x.reasons[b]
        reason_rows[reason] = reason_rows.get(reason, 0) + int((bad["batch"] == b).sum())
    top = tuple(sorted(reason_rows.items(), key=lambda kv: -kv[1]))
    return Measurement(rows=len(log), missing=int(missing.sum()), by_status=by_status, reasons=top, examples=examples)


def judge(m: Measurement, p: Params) -> list[Finding]:
    if not m.rows:
        message = "no row was sent to the server: answers not checked"
    elif m.missing:
        why = m.reasons[0][0][:REASON_IN_MESSAGE] if m.reasons else "the server answered null or NaN"
        message = (
            f"{m.missing:,} of {m.rows:,} rows ({m.share:.3%}) got no finite score from the server "
            f"(rows by HTTP status {m.by_status}): {why}"
        )
    else:
        message = f"all {m.rows:,} rows got a finite score from the server"
    return [
        judged(
            m.share,
            p.share,
            message,
            evidence={
                "rows": m.rows,
                "rows_missing": m.missing,
                "rows_by_status": m.by_status,
                "reasons": [{"reason": r, "rows": n} for r, n in m.reasons],
                "examples": list(m.examples),
            },
        )
    ]
