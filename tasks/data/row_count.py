"""Row count: a file with too few rows to judge. An export that stopped after one row, a filter that kept a
handful: every share measured on it is one of a few values, so a distribution compared with training's moves by
chance alone (one row is 100% of anything it holds). Below `data.row_count.rows` a file fails here, and the checks
that compare distributions (covariate_shift, label_shift) leave it unjudged instead of reporting chance as drift.

The default floor, 30 rows, is where a class share's standard error (at most 0.5/sqrt(n)) falls below 0.1 and
Cohen's h's (about 1/sqrt(n)) below half its fail limit: fewer rows cannot tell a real shift from sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.limits import Floor, judged
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


class Params(checks.CheckParams):
    rows: Floor = Field(
        Floor(warn=None, fail=30),
        description="rows a file needs for its distributions to be judged (training, test set, current batch)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    rows: dict[str, int]

    def metrics(self) -> dict[str, float]:
        return {f"{name}.rows": float(n) for name, n in self.rows.items()}


def measure(x: DataInputs, p: Params) -> Measurement:
    return Measurement({"train": len(x.train), **{name: len(df) for name, df in x.batches.items()}})


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per file: its row count against the floor."""
    floor = p.rows.fail if p.rows.fail is not None else p.rows.warn
    return [
        judged(
            float(n),
            p.rows,
            f"{name}: {n:,} rows"
            + (
                f", fewer than the {floor:g} a distribution can be judged on: is the file complete?"
                if floor is not None and n < floor
                else ""
            ),
            evidence={"file": name},
        )
        for name, n in m.rows.items()
    ]


def judgeable(rows: int, x: DataInputs) -> bool:
    """Whether a batch has the rows the distribution checks compare (the floor's fail level)."""
    return x.min_rows is None or rows >= x.min_rows
