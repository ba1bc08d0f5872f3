"""Text values that are not data: spreadsheet formulas (`=HYPERLINK(...)`, `=1+1`, `+SUM(A1)`) and strings far
longer than any the column held in training (a 100,000-character blob in a category). Both come from a broken or
hostile export rather than from the world the model learnt: a formula is an injection into whoever opens the file
in a spreadsheet; a blob is a field that swallowed its neighbours or a paste gone wrong. Counted per text column
of each batch against training: a column whose training values already look like formulas or run long is left
alone (that is the data). A warning naming the column and a few values; the model-facing side of such values (an
unseen category) is the features layer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

FORMULA = re.compile(r"^\s*(=|[+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\()")  # `=...`, or `+NAME(`, `-NAME(`, `@NAME(`
SHOWN = 3


class Params(checks.CheckParams):
    length_ratio: float = Field(
        10.0, gt=1.0, description="a text value longer than this many times the column's longest in training"
    )
    min_length: int = Field(
        1000, ge=1, description="and longer than this many characters, is a blob, not a value of the column"
    )


@dataclass(frozen=True)
class Odd:
    batch: str
    column: str
    kind: str  # formula | blob
    rows: int
    count: int
    examples: tuple[str, ...]
    train_longest: int = 0


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    odd: tuple[Odd, ...]
    columns: int

    def metrics(self) -> dict[str, float]:
        return {f"{o.batch}.{o.column}.{o.kind}": float(o.count) for o in self.odd}


def _text(s: pd.Series) -> pd.Series | None:
    """The column's text values and how many rows hold each (in order of appearance): both tests are of a value,
    so each distinct value is tested once, not once per row. None for a column that holds no text."""
    if pd.api.types.is_object_dtype(s.dtype):
        counts = s.value_counts(sort=False)
        counts = counts[[isinstance(v, str) for v in counts.index]]
        return counts.set_axis(counts.index.astype(str))
    if pd.api.types.is_string_dtype(s.dtype):
        return s.value_counts(sort=False)
    return None


def measure(x: DataInputs, p: Params) -> Measurement:
    odd: list[Odd] = []
    texts = {c: t for c in x.features if c in x.train and (t := _text(x.train[c])) is not None}
    for c, train in texts.items():
        formulas_in_training = bool(train.index.str.match(FORMULA).any())
        longest = int(train.index.str.len().max()) if len(train) else 0
        limit = max(p.min_length, p.length_ratio * longest)
        for name, df in x.batches.items():
            values = _text(df[c]) if c in df else None
            if values is None or values.empty:
                continue
            if not formulas_in_training:
                hit = values[values.index.str.match(FORMULA)]
                if len(hit):
                    shown = tuple(v[:40] for v in hit.index[:SHOWN])
                    odd.append(Odd(name, c, "formula", len(df), int(hit.sum()), shown))
            blobs = values[values.index.str.len() > limit]
            if len(blobs):
                shown = tuple(f"{v[:20]}... ({len(v):,} characters)" for v in blobs.index[:SHOWN])
                odd.append(Odd(name, c, "blob", len(df), int(blobs.sum()), shown, longest))
    return Measurement(tuple(odd), len(texts))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A warning per column and batch holding formulas or blobs; one info line when none does."""
    if not m.odd:
        return [Finding(severity=Severity.info, message=f"no formula or oversized value in {m.columns} text columns")]
    findings = []
    for o in m.odd:
        what = (
            "spreadsheet formulas"
            if o.kind == "formula"
            else f"values over {p.length_ratio:g}x the longest in training ({o.train_longest:,} characters)"
        )
        findings.append(
            Finding(
                severity=Severity.warn,
                message=f"{o.batch}: column {o.column!r} holds {what} in {o.count} of {o.rows} rows: "
                f"{', '.join(repr(v) for v in o.examples)}",
                columns=[o.column],
                evidence={"batch": o.batch, "kind": o.kind, "count": o.count, "examples": list(o.examples)},
            )
        )
    return findings
