"""Duplicate rows: the same rows repeated in a snapshot (an ingestion job that ran twice, a join that fanned
out). Repeats weigh those rows double in training and can put the same row on both sides of a split.

Two measures, as shares of the snapshot's rows, on the training snapshot and the trusted test set: extra
copies of whole rows (every column, nothing excluded) and extra occurrences of an `inputs.id` value (the same
entity twice, whatever else differs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import EXAMPLES
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SNAPSHOTS = ("train", "test")


class Params(checks.CheckParams):
    row_share: Limit = Field(
        Limit(warn=0.001, fail=0.01), description="whole rows repeated (every column equal), as a share of rows"
    )
    id_share: Limit = Field(
        Limit(warn=0.0, fail=0.001), description="rows repeating an inputs.id value, as a share of rows"
    )


@dataclass(frozen=True)
class Repeats:
    snapshot: str
    rows: int
    copies: int  # rows that are exact copies of an earlier row
    examples: tuple[str, ...]
    id_column: str | None = None  # None: no id to count
    id_repeats: int = 0
    id_examples: tuple[str, ...] = ()

    @property
    def share(self) -> float:
        return self.copies / self.rows if self.rows else 0.0

    @property
    def id_share(self) -> float | None:
        return None if self.id_column is None else (self.id_repeats / self.rows if self.rows else 0.0)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Repeats, ...]

    def metrics(self) -> dict[str, float]:
        out = {f"{r.snapshot}.row_share": r.share for r in self.found}
        out.update({f"{r.snapshot}.id_share": r.id_share for r in self.found if r.id_share is not None})
        return out


def repeats(df: pd.DataFrame, snapshot: str, id_column: str | None) -> Repeats:
    n = len(df)
    try:
        repeated = df.duplicated(keep="first")
    except TypeError:  # unhashable cells (lists from a nested Parquet column): compare their text
        repeated = df.astype(str).duplicated(keep="first")
    rows = df[repeated]
    named = rows[id_column] if id_column and id_column in rows.columns else pd.Series(rows.index)
    found = Repeats(snapshot, n, int(repeated.sum()), tuple(str(v) for v in pd.unique(named)[:EXAMPLES]))
    if id_column and id_column in df.columns:
        ids = df[id_column]
        again = ids.notna() & ids.duplicated(keep="first")
        examples = tuple(str(v) for v in pd.unique(ids[again])[:EXAMPLES])
        found = Repeats(snapshot, n, found.copies, found.examples, id_column, int(again.sum()), examples)
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    frames = {"train": x.train, **x.batches}
    return Measurement(tuple(repeats(frames[s], s, x.id) for s in SNAPSHOTS if s in frames))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per measure that reaches its warn limit; one info line per snapshot when neither does."""
    findings: list[Finding] = []
    for r in m.found:
        if r.rows == 0:
            findings.append(Finding(severity=Severity.info, message=f"{r.snapshot}: no rows"))
            continue
        found = []
        whole = judged(
            r.share,
            p.row_share,
            f"{r.snapshot}: {r.copies:,} rows ({100 * r.share:.2f}%) are exact copies of another row (every column "
            "equal)" + (f", e.g. {', '.join(r.examples)}" if r.copies else ""),
            evidence={"batch": r.snapshot, "kind": "whole_row", "copies": r.copies, "rows": r.rows, "share": r.share},
        )
        if whole.severity is not Severity.info:
            found.append(whole)
        if r.id_share is not None:
            ids = judged(
                r.id_share,
                p.id_share,
                f"{r.snapshot}: {r.id_repeats:,} rows ({100 * r.id_share:.2f}%) repeat an `{r.id_column}` already "
                "seen" + (f", e.g. {', '.join(r.id_examples)}" if r.id_repeats else ""),
                columns=[str(r.id_column)],
                evidence={
                    "batch": r.snapshot,
                    "kind": "id",
                    "repeats": r.id_repeats,
                    "rows": r.rows,
                    "share": r.id_share,
                },
            )
            if ids.severity is not Severity.info:
                found.append(ids)
        if not found:
            ids_text = "" if r.id_share is None else f", {100 * r.id_share:.2f}% repeated `{r.id_column}`"
            found.append(
                Finding(
                    severity=Severity.info,
                    message=f"{r.snapshot}: {100 * r.share:.2f}% repeated rows{ids_text} in {r.rows:,}",
                    evidence={"batch": r.snapshot, "copies": r.copies, "rows": r.rows, "id_share": r.id_share},
                )
            )
        findings += found
    return findings
