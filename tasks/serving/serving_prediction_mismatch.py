"""Row-by-row parity: the model server must answer exactly what the same model answers offline. A JSON round
trip that loses precision, a conversion the server applies to the inputs, or another model behind the URI
all show up as served scores that differ from the offline ones on the very same rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.serving.inputs import ServingInputs

WORST_ROWS = 10  # mismatched rows kept in the evidence, the largest differences first


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.0, fail=0.001),
        description="share of answered rows whose served score differs from the offline score by > abs_tolerance",
    )
    abs_tolerance: float = Field(1e-9, ge=0.0, description="largest difference of two scores that still agree")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    compared: int  # rows the server answered with a finite score
    mismatched: int
    max_abs_diff: float  # NaN when nothing was compared
    worst_rows: tuple[dict[str, Any], ...]
    offline_errors: dict[str, str]  # source -> the offline model's error (its rows count as mismatches)

    @property
    def share(self) -> float:
        return self.mismatched / self.compared if self.compared else float("nan")

    def metrics(self) -> dict[str, float]:
        counts = {"rows_compared": float(self.compared), "rows_mismatched": float(self.mismatched)}
        return {"share": self.share, **counts} if self.compared else counts


def measure(x: ServingInputs, p: Params) -> Measurement:
    """Rows the server answered and whose served score differs from the offline one by more than the
    tolerance. A row answered by the server that the offline model could not score counts as a mismatch:
    the two disagree. Rows the server did not answer are serving_nan's business."""
    log = x.log
    served = log["score"].to_numpy(dtype="float64")
    offline = log["offline_score"].to_numpy(dtype="float64")
    answered = np.isfinite(served)
    diff = np.abs(served - offline)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    mismatched = answered & (diff > p.abs_tolerance)
    worst = log.loc[mismatched].assign(_diff=diff[mismatched]).sort_values("_diff", ascending=False).head(WORST_ROWS)
    worst_rows = tuple(
        {
            "source": r["source"],
            "row": int(r["row"]),
            "id": r[x.id_column] if x.id_column else None,
            "served": r["score"],
            "offline": r["offline_score"],
            "abs_diff": r["_diff"],
        }
        for _, r in worst.iterrows()
    )
    return Measurement(
        compared=int(answered.sum()),
        mismatched=int(mismatched.sum()),
        max_abs_diff=float(diff[answered].max()) if answered.any() else float("nan"),
        worst_rows=worst_rows,
        offline_errors=dict(x.offline_errors),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    if not m.compared:
        message = "no row got a served answer: nothing to compare with the offline model"
    else:
        message = (
            f"{m.mismatched:,} of {m.compared:,} served answers ({m.share:.3%}) differ from the same model "
            f"offline by more than {p.abs_tolerance:g}; max difference {m.max_abs_diff:.3g}"
        )
    return [
        judged(
            m.share,
            p.share,
            message,
            evidence={
                "rows_compared": m.compared,
                "rows_mismatched": m.mismatched,
                "max_abs_diff": m.max_abs_diff,
                "abs_tolerance": p.abs_tolerance,
                "worst_rows": list(m.worst_rows),
                "offline_errors": m.offline_errors,
            },
        )
    ]
