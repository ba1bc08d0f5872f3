"""Nondeterministic training: two fits with the same data, seed and params must give the same model. When they
do not, a retrain cannot be reproduced, a rollback cannot be rebuilt and a change in the scores cannot be
told from noise. The stage fits once; this check fits the candidate's estimator again on the same fit rows (up
to `sample_rows` of them) and compares the predictions on the validation rows. Over that, two fits on a seeded
sample of `sample_rows` rows are compared instead: a second full fit doubled the stage's cost on big tables, and
what makes a fit irreproducible (an unseeded draw, an order-dependent step) shows on a sample as well."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity
from tasks.training import refits

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    sample_rows: int = Field(
        20_000,
        ge=100,
        description="fit rows up to which the candidate itself is fitted again and compared; over it, two fits on "
        "a seeded sample of this many rows (over 10,000: scikit-learn's boosted trees draw their early-stopping "
        "split from that size on)",
    )
    max_abs_diff: Limit = Field(
        Limit(warn=0.0, fail=1e-6),
        description="largest |difference| between the predicted scores of two fits with the same data, seed and "
        "params, over the validation rows",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    fits: int  # how many fits were compared
    rows: int  # validation rows scored by each
    sample: int  # fit rows of each when the fits were on a sample, else 0 (the candidate and a refit)
    max_abs_diff: float  # largest difference of any fit from the first
    rows_differ: int  # validation rows where any fit differs from the first

    def metrics(self) -> dict[str, float]:
        return {"max_abs_diff": self.max_abs_diff} if self.fits > 1 else {}


def measure(x: TrainingInputs, p: Params) -> Measurement:
    scores, sample = [np.asarray(s, dtype="float64") for s in x.validation_predictions], 0
    if len(scores) == 1 and x.model_inputs is not None and refits.estimator(x) is not None:
        if len(x.fit_rows) <= p.sample_rows:
            scores.append(refits.candidate_again(x))
        else:
            sample = p.sample_rows
            scores = [refits.candidate_refit(x, sample, x.seed, repeat=r)[1] for r in (0, 1)]
    if len(scores) < 2:
        rows = len(scores[0]) if scores else 0
        return Measurement(fits=len(scores), rows=rows, sample=0, max_abs_diff=0.0, rows_differ=0)
    first = scores[0]
    diff = np.max([np.abs(first - other) for other in scores[1:]], axis=0)
    # a NaN on one side only is a difference; NaN on both sides is the same answer
    both_nan = np.all([np.isnan(first) & np.isnan(other) for other in scores[1:]], axis=0)
    diff = np.where(both_nan, 0.0, np.where(np.isnan(diff), np.inf, diff))
    return Measurement(
        fits=len(scores),
        rows=len(first),
        sample=sample,
        max_abs_diff=float(diff.max()) if diff.size else 0.0,
        rows_differ=int((diff > 0).sum()),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The largest prediction difference judged against the limit (info when the fits agree)."""
    if m.fits < 2:
        return [Finding(severity=Severity.warn, message=f"not measured: {m.fits} fit(s) to compare, 2 needed")]
    return [
        judged(
            m.max_abs_diff,
            p.max_abs_diff,
            f"{m.fits} trainings with the same data{f' (a sample of {m.sample:,} fit rows)' if m.sample else ''}, seed "
            f"and params: max prediction difference {m.max_abs_diff:.3g}, {m.rows_differ:,} of {m.rows:,} "
            "validation rows differ",
            evidence={"rows_differ": m.rows_differ, "rows": m.rows, "fits": m.fits, "sample_rows": m.sample},
        )
    ]
