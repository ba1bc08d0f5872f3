"""Unseen categories: values at serving that the model's encoders never learned (a new carrier code, a
relabelled category). The encoder maps them all to one "unknown" column, so the model answers for an average
of nothing it has seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs

SHOWN = 5  # new values named in a message
KEPT = 10  # new values kept with their counts in the evidence


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.01, fail=0.05), description="share of a batch's rows with a category training never saw"
    )


@dataclass(frozen=True)
class Unseen:
    batch: str
    column: str
    rows: int  # rows of the batch with a new value in this column
    distinct: int  # how many new values
    batch_rows: int
    values: dict[str, int]  # the commonest new values and their row counts

    @property
    def share(self) -> float:
        return self.rows / max(self.batch_rows, 1)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Unseen, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{b}.max_share": max((u.share for u in self.found if u.batch == b), default=0.0) for b in self.batches}


def unseen(train: pd.Series, batch: pd.Series) -> pd.Series:
    """The batch's non-null values (as text, the way encoders compare them) that training never had."""
    seen = train.dropna().astype(str).unique()  # distinct values first: a set of every row's string is slow
    values = batch.dropna().astype(str)
    return values[~values.isin(seen)]


def measure(x: FeatureInputs, p: Params) -> Measurement:
    found = []
    for name, batch in x.batches.items():
        for col in x.categorical:
            if col not in batch.columns or col not in x.train.columns:
                continue  # an absent column is the data layer's schema finding
            new = unseen(x.train[col], batch[col])
            if len(new):
                counts = {str(v): int(n) for v, n in new.value_counts().head(KEPT).items()}
                found.append(Unseen(name, col, len(new), new.nunique(), len(batch), counts))
    return Measurement(found=tuple(found), batches=tuple(x.batches))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per batch and column with new values (quiet when there are none)."""
    return [
        judged(
            u.share,
            p.share,
            f"{u.batch}: {u.column!r} has {u.distinct} categories training never saw, in {u.share:.2%} of rows: "
            + ", ".join(f"{v!r} ({n:,} rows)" for v, n in list(u.values.items())[:SHOWN]),
            columns=[u.column],
            evidence={"batch": u.batch, "rows": u.rows, "distinct": u.distinct, "values": u.values},
        )
        for u in m.found
    ]
