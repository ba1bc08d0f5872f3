"""Test set changed: the trusted test set must be the one pinned on day one. Every comparison over time (this
candidate against the champion, this run against the last) assumes the same rows; a test set edited,
regenerated or swapped makes those scores incomparable, however good they look.

How many rows differ needs the pinned version's rows: they are read where they honestly exist, the DVC cache
of the project holding the file (what `dvc add` stored on day one). Rows are compared as a multiset of whole-row
hashes on the columns both versions have, so a reordered file reads 0 rows changed (and still fails: it is not
the pinned file). Without the pinned rows, the finding says so."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks import checks
from tasks.errors import ConfigError
from tasks.frames import read_frame
from tasks.pins import Pin, dvc_cached, pin_finding, pin_of
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


@dataclass(frozen=True)
class RowDiff:
    """The found test set's rows against the pinned version's, as multisets of whole-row hashes."""

    source: str  # where the pinned rows were read
    pinned_rows: int
    found_rows: int
    gone: int  # pinned rows not found any more (removed or changed)
    new: int  # found rows not in the pinned version (added or changed)
    columns_gone: tuple[str, ...] = ()
    columns_new: tuple[str, ...] = ()

    def describe(self) -> str:
        what = f"{self.gone:,} of the {self.pinned_rows:,} pinned rows are gone or changed, {self.new:,} of the "
        what += f"{self.found_rows:,} rows now are new or changed"
        if self.gone == self.new == 0:
            what = f"the same {self.pinned_rows:,} rows, in another order or encoding"
        cols = (f"; columns gone: {list(self.columns_gone)}" if self.columns_gone else "") + (
            f"; columns new: {list(self.columns_new)}" if self.columns_new else ""
        )
        return f"{what}{cols} (pinned rows read from {self.source})"


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    pin: Pin  # the file's md5 against its pin (params inputs.pins.test, else its .dvc file)
    rows: RowDiff | None = None  # None: the file matches, is unpinned, or the pinned rows are not available
    rows_note: str = ""  # why rows were not compared

    def metrics(self) -> dict[str, float]:
        out = {"matches": float(self.pin.matches)} if self.pin.expected_md5 else {}
        if self.rows is not None:
            out.update(rows_gone=float(self.rows.gone), rows_new=float(self.rows.new))
        return out


def row_hashes(df: pd.DataFrame, columns: list[str]) -> Counter:
    return Counter(pd.util.hash_pandas_object(df[columns], index=False).tolist())


def compare_rows(pinned: pd.DataFrame, found: pd.DataFrame, source: str) -> RowDiff:
    common = [c for c in pinned.columns if c in found.columns]
    before, after = row_hashes(pinned, common), row_hashes(found, common)
    return RowDiff(
        source=source,
        pinned_rows=len(pinned),
        found_rows=len(found),
        gone=sum((before - after).values()),
        new=sum((after - before).values()),
        columns_gone=tuple(c for c in pinned.columns if c not in found.columns),
        columns_new=tuple(c for c in found.columns if c not in pinned.columns),
    )


def pinned_rows(pin: Pin, path: Path, sep: str = ",") -> tuple[pd.DataFrame | None, str]:
    """The pinned version's rows from the DVC cache, read as the file's own format; or None and why not."""
    cached = dvc_cached(pin.expected_md5, path)
    if cached is None:
        return None, (
            f"the pinned version's rows are not available (no DVC cache above {path} holds md5 "
            f"{pin.expected_md5}): how many rows differ cannot be told"
        )
    with tempfile.TemporaryDirectory(prefix="glassbox-pinned-") as tmp:
        copy = Path(tmp) / f"pinned{path.suffix}"
        shutil.copyfile(cached, copy)
        try:
            return read_frame(copy, sep), str(cached)
        except ConfigError as e:
            return None, f"the pinned version in the DVC cache ({cached}) cannot be read: {e}"


def measure(x: EvaluationInputs, p: checks.NoParams) -> Measurement:
    pin = pin_of("test", x.test_file, x.test_pin)
    if pin.matches or pin.expected_md5 is None:
        return Measurement(pin)
    old, note = pinned_rows(pin, Path(x.test_file), x.delimiter)
    if old is None:
        return Measurement(pin, rows_note=note)
    return Measurement(pin, rows=compare_rows(old, x.test, note))


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """Fail when the file differs from its pin, with how many rows differ; info when it matches, or is unpinned
    (and how to pin it)."""
    found = pin_finding(m.pin)
    if m.pin.matches or m.pin.expected_md5 is None:
        return [found]
    if m.rows is not None:
        r = m.rows
        extra = {
            "pinned_rows": r.pinned_rows,
            "found_rows": r.found_rows,
            "rows_gone": r.gone,
            "rows_new": r.new,
            "columns_gone": list(r.columns_gone),
            "columns_new": list(r.columns_new),
            "pinned_source": r.source,
        }
        detail = r.describe()
    else:
        extra, detail = {"rows_compared": False}, m.rows_note
    return [
        found.model_copy(
            update={
                "message": f"{found.message}: {detail}; scores on it cannot be compared with the champion's or "
                "earlier runs'",
                "evidence": {**found.evidence, **extra},
            }
        )
    ]
