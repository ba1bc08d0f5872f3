"""Train/serve preprocessing parity: the preprocessing that ships must turn raw rows into the very features
the model is trained on. Replayed from the saved artifact on the raw training rows, any difference is a
preprocessing step that is not the one the model learned from. Over `rows` training rows the replay is on a
seeded sample of that many (a shipped step that is not the fitted one changes nearly every row); the training
layer's features_match fingerprints the output on the same rows of the matrix the model is fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs


class Params(checks.CheckParams):
    max_abs_diff: Limit = Field(
        Limit(warn=1e-9, fail=1e-6),
        description="largest |difference| between the features at fit time and the shipped preprocessing's",
    )
    rows: int = Field(
        100_000, ge=1_000, description="training rows replayed (a seeded sample of this many on larger tables)"
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    fitted_shape: tuple[int, ...] | None  # None: the model has no preprocessing step
    training_rows: int = 0  # of which fitted_shape[0] were replayed
    replayed_shape: tuple[int, ...] | None = None
    max_abs_diff: float = 0.0
    rows_differ: int = 0
    worst_feature_index: int | None = None

    def metrics(self) -> dict[str, float]:
        return {} if self.fitted_shape is None else {"max_abs_diff": self.max_abs_diff}


def measure(x: FeatureInputs, p: Params) -> Measurement:
    if x.fitted is None or x.replayed is None:
        return Measurement(fitted_shape=None)
    fitted, replayed = x.fitted, x.replayed
    total = len(x.train)
    if fitted.shape != replayed.shape:
        return Measurement(fitted.shape, total, replayed.shape, float("inf"))
    both_nan = np.isnan(fitted) & np.isnan(replayed)
    diff = np.where(both_nan, 0.0, np.abs(fitted - replayed))
    diff = np.where(np.isnan(diff), np.inf, diff)
    if not diff.size:
        return Measurement(fitted.shape, total, replayed.shape)
    return Measurement(
        fitted_shape=fitted.shape,
        training_rows=total,
        replayed_shape=replayed.shape,
        max_abs_diff=float(diff.max()),
        rows_differ=int((diff > (p.max_abs_diff.warn or 0.0)).any(axis=1).sum()),
        worst_feature_index=int(np.unravel_index(diff.argmax(), diff.shape)[1]),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    if m.fitted_shape is None:
        return [
            Finding(
                severity=Severity.info,
                message="the model pipeline has no preprocessing steps: the model reads raw columns",
            )
        ]
    if m.fitted_shape != m.replayed_shape:
        return [
            Finding(
                severity=Severity.fail,
                message=f"the shipped preprocessing gives {m.replayed_shape[1]} features per row, "
                f"training had {m.fitted_shape[1]}",
                evidence={"fitted_shape": m.fitted_shape, "replayed_shape": m.replayed_shape},
            )
        ]
    return [
        judged(
            m.max_abs_diff,
            p.max_abs_diff,
            f"shipped preprocessing replayed on {_replayed(m)} raw training rows: max |difference| "
            f"{m.max_abs_diff:.3g} ({m.rows_differ:,} rows differ)",
            evidence={"rows_differ": m.rows_differ, "worst_feature_index": m.worst_feature_index},
        )
    ]


def _replayed(m: Measurement) -> str:
    rows = (m.fitted_shape or (0,))[0]
    if m.training_rows > rows:
        return f"a seeded sample of {rows:,} of the {m.training_rows:,}"
    return f"{rows:,}"
