"""Duplicate rows: the same rows repeated in a snapshot (an ingestion job that ran twice, a join that fanned
out, a logger that writes every row three times). Repeats weigh those rows double in training and can put the
same row on both sides of a split.

Judged against what the table's own values predict, not as a raw share: a small table whose columns take few
values has many identical rows by nature (the same answers to the same question), and those are the data, not a
bug. The natural rate is measured, not modelled: rows of an independent sample from the same source (the
trusted test set for training; training for the test set and the current batch) find an identical twin in
the table as often as the table's own rows find one among the others, when compared with as many rows. So on
the training snapshot, the test set and the current batch:

- observed: the share of the table's rows that have an identical twin in it;
- expected: the share of the reference's rows that have an identical twin among as many of the table's rows
  (one fewer than it has: a row is not its own twin);
- the excess is what a pipeline added; it is judged when it is also beyond the sampling noise of the two
  shares. A table with a near-unique column (an id, a timestamp, a measurement) has no natural twins:
  expected is 0 and the observed share is judged as it is.

Rows are compared on the inputs (the label is the label checks'), and only on the columns whose values the two
frames share as two samples of one source do: a column the other frame lacks or holds as another type
(schema_change's), or whose values moved (a shift, a unit, new nulls or categories: other checks') would make
the reference's rows stop finding twins and the excess look like copies. A column is left out when the share of
either frame's rows whose value the other frame has falls below the share of the reference's rows whose value
recurs in the reference itself (at the same sample size, beyond its noise).
Separately, extra occurrences of an `inputs.id` value (the same entity twice, whatever else differs), as a
share of rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.special import gammaln

from tasks import checks
from tasks.columns import EXAMPLES, is_datetime, is_numeric
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

# Each snapshot and the independent sample its natural rate of twins is measured with.
REFERENCE = {"train": "test", "test": "train", "current": "train"}
HALVES = 20  # half-samples the noise of the excess is measured on
NULL = "\x00<null>"  # how a missing text value is compared (NaN, None and pd.NA are the same missing value)


class Params(checks.CheckParams):
    row_share: Limit = Field(
        Limit(warn=0.002, fail=0.02),
        description="share of rows with an identical twin beyond the share the table's own values predict (an "
        "independent sample's rows finding a twin among as many rows); rows appended twice are two rows with a "
        "twin each, so 0.02 is 1% of the rows copied once",
    )
    sigmas: float = Field(
        3.0,
        ge=0.0,
        description="standard errors (binomial, from the sizes of the two samples) the excess must also exceed "
        "to be judged, and a column's value overlap must fall short by to be left out of the comparison",
    )
    id_share: Limit = Field(
        Limit(warn=0.0, fail=0.001), description="rows repeating an inputs.id value, as a share of rows"
    )


@dataclass(frozen=True)
class Overlap:
    """How one column's values are shared between a table and its reference, each compared with as many rows of
    the other as of itself. `known`: the share of the table's rows whose value the reference has; `found`: the
    share of the reference's rows whose value the table's distinct rows have. Two samples of one source share
    values with each other as each does with itself: `recurs` / `ref_recurs` (and `*_found` at the size
    `found` is measured at: the table's distinct rows) are the shares of each frame's rows whose value recurs in
    that frame; the lower of the two is the baseline, so rows repeated in either frame do not raise it."""

    column: str
    recurs: float
    ref_recurs: float
    known: float
    found: float
    recurs_found: float
    ref_recurs_found: float
    noise: float  # standard error of a difference of two of these shares

    def moved(self, twin_share: float, sigmas: float) -> str | None:
        """Why the column's values are not as in one source, or None: values the other frame does not have
        (a shift, a unit, new categories or nulls), or values recurring in the table beyond what its rows with a
        twin explain (a constant or a null filling part of the column: a copied row repeats every value once)."""
        margin = sigmas * self.noise
        if self.known < min(self.recurs, self.ref_recurs) - margin:
            return "values unlike the reference's"
        if self.found < min(self.recurs_found, self.ref_recurs_found) - margin:
            return "values unlike the reference's"
        if self.recurs - self.ref_recurs > twin_share + margin:
            return "values recur beyond the rows' twins"
        return None


@dataclass(frozen=True)
class Repeats:
    snapshot: str
    rows: int
    copies: int  # rows that are exact copies of an earlier row (on the compared columns)
    twins: int  # rows that have an identical twin in the table
    examples: tuple[str, ...]
    columns: tuple[str, ...] = ()  # the columns rows were compared on
    left_out: tuple[tuple[str, str], ...] = ()  # (column, why): values not shared as in one source
    reference: str | None = None  # the independent sample the natural rate comes from (None: not measured)
    reference_rows: int = 0
    reference_twins: float = 0.0  # expected reference rows with a twin among rows - 1 of the table's
    half_noise: float = 0.0  # standard error of the excess measured on half-samples of both frames
    id_column: str | None = None  # None: no id to count
    id_repeats: int = 0
    id_examples: tuple[str, ...] = ()

    @property
    def share(self) -> float:
        """Share of rows that have an identical twin in the table."""
        return self.twins / self.rows if self.rows else 0.0

    @property
    def expected(self) -> float | None:
        """The natural share of rows with a twin at this table's size (None: no reference to measure it)."""
        return self.reference_twins / self.reference_rows if self.reference and self.reference_rows else None

    @property
    def excess(self) -> float:
        return self.share - (self.expected or 0.0)

    @property
    def noise(self) -> float:
        """Standard error of the excess: the larger of the binomial one (the natural rate estimated with one
        success and one failure added: a reference of a few rows that found no twin does not prove there are
        none) and the one half-samples measure (rows of one pattern find twins together, so the shares vary
        more than independent rows would)."""
        if self.expected is None or not self.rows:
            return 0.0
        rate = (self.reference_twins + 1) / (self.reference_rows + 2)
        return max(math.sqrt(rate * (1 - rate) * (1 / self.reference_rows + 1 / self.rows)), self.half_noise)

    @property
    def id_share(self) -> float | None:
        return None if self.id_column is None else (self.id_repeats / self.rows if self.rows else 0.0)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    found: tuple[Repeats, ...]

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.found:
            out[f"{r.snapshot}.row_share"] = r.share
            out[f"{r.snapshot}.excess_share"] = r.excess
            if r.expected is not None:
                out[f"{r.snapshot}.expected_share"] = r.expected
            if r.id_share is not None:
                out[f"{r.snapshot}.id_share"] = r.id_share
        return out


def kind(s: pd.Series) -> str:
    """What a value is, for comparing rows across frames: numbers (booleans as 0/1), datetimes (naive or
    tz-aware) or text (anything else, compared as written)."""
    if is_datetime(s):
        return "datetime_tz" if getattr(s.dt, "tz", None) is not None else "datetime"
    if is_numeric(s) or pd.api.types.is_bool_dtype(s.dtype):
        return "number"
    return "text"


def comparable(s: pd.Series) -> pd.Series:
    """A column's values in one representation per kind, so equal values are equal in any frame: numbers as
    float64 (38 and 38.0 are one value; -0.0 is 0.0; NaN is the one missing value), datetimes as UTC
    nanoseconds, the rest as text."""
    k = kind(s)
    if k.startswith("datetime"):
        utc = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]") if k == "datetime_tz" else s.astype("datetime64[ns]")
        return utc.astype("int64").astype("float64").where(s.notna())
    if k == "number":
        x = pd.to_numeric(s, errors="coerce").astype("float64") + 0.0
        return x.where(x.notna())
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s.fillna(NULL)
    return s.astype(object).where(s.notna(), NULL).astype(str)


class Rows:
    """A frame's rows as 64-bit keys over any set of its columns (equal rows, equal keys), and its columns as
    comparable values; each column is converted and hashed once, however many comparisons use it."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._values: dict[str, np.ndarray] = {}
        self._hashed: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        if column not in self._values:
            self._values[column] = comparable(self.df[column]).to_numpy()
        return self._values[column]

    def _hash(self, column: str) -> np.ndarray:
        if column not in self._hashed:
            self._hashed[column] = pd.util.hash_array(self.values(column))
        return self._hashed[column]

    def keys(self, columns: list[str]) -> np.ndarray:
        key = np.zeros(len(self.df), dtype="uint64")
        for c in columns:
            key = key * np.uint64(1_000_003) ^ self._hash(c)  # wraps around: a hash combination
        return key

    def sample(self, rows: int, seed: int) -> np.ndarray:
        """Positions of at most `rows` rows, drawn with `seed`."""
        n = len(self.df)
        return np.arange(n) if n <= rows else np.sort(np.random.default_rng(seed).choice(n, rows, replace=False))


def row_keys(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of `columns` (equal rows, equal keys)."""
    return Rows(df).keys(columns)


def codes(*arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays' values as integer codes shared across them (equal values, equal codes; NaN is one value)."""
    joint, _ = pd.factorize(pd.Series(np.concatenate(arrays)), use_na_sentinel=False)
    return np.split(joint, np.cumsum([len(x) for x in arrays])[:-1])


def found_share(probes: np.ndarray, pool: np.ndarray, draw: int, itself: bool = False) -> float:
    """Expected share of `probes` whose value is among `draw` rows drawn at random from `pool` (both as codes),
    exactly (the hypergeometric law: no sampling noise of its own). `itself`: the probes are the pool, and a
    row's match is drawn from the others."""
    if not len(probes) or draw <= 0:
        return 0.0
    counts = np.bincount(pool, minlength=int(max(probes.max(), pool.max() if len(pool) else 0)) + 1)
    matches = counts[probes].astype("float64")
    size = len(pool)
    if itself:
        matches, size = matches - 1, size - 1
    draw = min(draw, size)
    rest = size - matches  # P(no match drawn) = C(rest, draw) / C(size, draw)
    none = np.zeros(len(probes))
    ok = rest >= draw
    r = rest[ok]
    none[ok] = np.exp(gammaln(r + 1) - gammaln(r - draw + 1) - gammaln(size + 1) + gammaln(size - draw + 1))
    return float(np.mean(1.0 - none))


def overlap(a: np.ndarray, r: np.ndarray, column: str, distinct: np.ndarray | None = None) -> Overlap:
    """One column's value overlap between a table's values `a` and its reference's `r` (comparable values).
    `distinct` marks the first of each set of identical rows of the table: the reference's values are looked
    for among those (with as many reference rows to compare), so rows repeated in the table do not make its
    values look fewer than the reference's."""
    a, r = codes(a, r)
    pool = a if distinct is None else a[distinct]
    draw, draw_found = min(len(a), len(r)) - 1, min(len(pool), len(r)) - 1
    ref_recurs = found_share(r, r, draw, itself=True)
    rate = (ref_recurs * len(r) + 1) / (len(r) + 2)
    return Overlap(
        column,
        recurs=found_share(a, a, draw, itself=True),
        ref_recurs=ref_recurs,
        known=found_share(a, r, draw),
        found=found_share(r, pool, draw_found),
        recurs_found=found_share(pool, pool, draw_found, itself=True),
        ref_recurs_found=found_share(r, r, draw_found, itself=True),
        noise=math.sqrt(rate * (1 - rate) * (1 / len(r) + 1 / len(a))),
    )


def excess(table: np.ndarray, probes: np.ndarray) -> float:
    """Share of the table's rows (codes) with a twin in it, less the share of the probes with a twin among
    as many of its rows (one fewer)."""
    within = float(pd.Series(table).duplicated(keep=False).mean())
    return within - found_share(probes, table, len(table) - 1)


def half_noise(table: np.ndarray, probes: np.ndarray, rng: np.random.Generator) -> float:
    """Standard error of `excess` from HALVES random halves of both frames: a share over half the rows varies
    twice as much as over all of them, so the halves' standard deviation over the square root of 2."""
    if len(table) < 4 or len(probes) < 4:
        return 0.0
    found = [
        excess(
            table[rng.choice(len(table), len(table) // 2, replace=False)],
            probes[rng.choice(len(probes), len(probes) // 2, replace=False)],
        )
        for _ in range(HALVES)
    ]
    return float(np.std(found, ddof=1) / math.sqrt(2))


def comparison(
    table: Rows, ref: Rows, target: str | None, rows: int, seed: int, sigmas: float
) -> tuple[list[str], dict[str, str]]:
    """The columns rows are compared on: those both frames have with the same kind of value, the label left
    out, less those whose values the frames do not share as two samples of one source (measured on at most
    `rows` rows of each), returned apart with the reason."""
    df, other = table.df, ref.df
    shared = [str(c) for c in df.columns if c != target and c in other.columns and kind(df[c]) == kind(other[c])]
    at, rt = table.sample(rows, seed), ref.sample(rows, seed)
    if len(at) < 2 or len(rt) < 2 or not shared:
        return shared, {}
    keys = pd.Series(table.keys(shared)[at])
    twins, distinct = float(keys.duplicated(keep=False).mean()), ~keys.duplicated(keep="first").to_numpy()
    moved = {}
    for c in shared:
        why = overlap(table.values(c)[at], ref.values(c)[rt], c, distinct).moved(twins, sigmas)
        if why:
            moved[c] = why
    return [c for c in shared if c not in moved], moved


def repeats(
    table: pd.DataFrame | Rows,
    snapshot: str,
    id_column: str | None,
    reference: tuple[str, pd.DataFrame | Rows] | None = None,
    *,
    target: str | None = None,
    rows: int = 20_000,
    seed: int = 0,
    sigmas: float = 3.0,
) -> Repeats:
    """Twins and copies of `df`'s rows and, with a reference, the natural share of twins: the share of the
    reference's rows with an identical twin among len(df) - 1 of `df`'s rows. `rows` and `seed` draw the
    samples the columns are chosen on; `sigmas` is how far a column's overlap must fall to be left out."""
    rows_of = table if isinstance(table, Rows) else Rows(table)
    df, n = rows_of.df, len(rows_of.df)
    ref_name, ref_rows = reference if reference is not None else (None, None)
    ref_rows = ref_rows if ref_rows is None or isinstance(ref_rows, Rows) else Rows(ref_rows)
    ref = None if ref_rows is None else ref_rows.df
    columns: list[str] = []
    moved: dict[str, str] = {}
    if ref is not None and not ref.empty:
        columns, moved = comparison(rows_of, ref_rows, target, rows, seed, sigmas)
    if not columns:  # nothing to measure the natural rate with: every input column, the raw share
        ref_name, ref = None, None
        columns = [str(c) for c in df.columns if c != target] or [str(c) for c in df.columns]
    keys = pd.Series(rows_of.keys(columns), index=df.index)
    copy = keys.duplicated(keep="first")
    copied = df[copy.to_numpy()]
    named = copied[id_column] if id_column and id_column in copied.columns else pd.Series(copied.index)
    found = Repeats(
        snapshot,
        n,
        int(copy.sum()),
        int(keys.duplicated(keep=False).sum()),
        tuple(str(v) for v in pd.unique(named)[:EXAMPLES]),
        columns=tuple(columns),
        left_out=tuple(moved.items()),
    )
    if ref_rows is not None and ref is not None and n >= 2:
        probes, pool = codes(ref_rows.keys(columns), keys.to_numpy())
        twins = found_share(probes, pool, n - 1) * len(ref)  # a row is not its own twin
        half = half_noise(pool, probes, np.random.default_rng(seed))
        found = replace(found, reference=ref_name, reference_rows=len(ref), reference_twins=twins, half_noise=half)
    if id_column and id_column in df.columns:
        ids = df[id_column]
        again = ids.notna() & ids.duplicated(keep="first")
        examples = tuple(str(v) for v in pd.unique(ids[again])[:EXAMPLES])
        found = replace(found, id_column=id_column, id_repeats=int(again.sum()), id_examples=examples)
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    frames = {name: Rows(df) for name, df in {"train": x.train, **x.batches}.items()}
    found = []
    for name, reference in REFERENCE.items():
        if name in frames:
            ref = (reference, frames[reference]) if reference in frames else None
            found.append(
                repeats(
                    frames[name], name, x.id, ref, target=x.target, rows=x.sample_rows, seed=x.seed, sigmas=p.sigmas
                )
            )
    return Measurement(tuple(found))


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _compared(r: Repeats) -> str:
    """The columns the rows were compared on, and the ones left out grouped by why (a few named)."""
    text = f"{len(r.columns)} columns compared"
    for why in dict.fromkeys(w for _, w in r.left_out):
        named = [f"`{c}`" for c, w in r.left_out if w == why]
        more = f" and {len(named) - EXAMPLES} more" if len(named) > EXAMPLES else ""
        text += f"; left out, {why}: {', '.join(named[:EXAMPLES])}{more}"
    return text


def hidden_copies(r: Repeats, sigmas: float) -> float:
    """The share of rows that could be copied unseen: a copied row and its original gain a twin only when the
    original had none by nature (1 - expected of them), and the excess must clear `sigmas` standard errors."""
    if r.expected is None:
        return 0.0
    room = 2.0 * (1.0 - r.expected)
    return min(1.0, sigmas * r.noise / room) if room > 0 else 1.0


def judge(m: Measurement, p: Params) -> list[Finding]:
    """A finding per measure that reaches its warn limit (twins only when also beyond sampling noise); one
    info line per snapshot when neither does."""
    findings: list[Finding] = []
    for r in m.found:
        if r.rows == 0:
            findings.append(Finding(severity=Severity.info, message=f"{r.snapshot}: no rows"))
            continue
        found = []
        if r.expected is None:
            expected = "0% expected (no independent sample to measure the natural share with)"
        else:
            expected = (
                f"{_pct(r.expected)} expected (rows of the {r.reference} set finding a twin among as many "
                f"{r.snapshot} rows)"
            )
        evidence = {
            "batch": r.snapshot,
            "kind": "whole_row",
            "rows": r.rows,
            "share": r.share,
            "expected_share": r.expected,
            "excess": r.excess,
            "noise": r.noise,
            "copies": r.copies,
            "twins": r.twins,
            "columns": list(r.columns),
            "left_out": dict(r.left_out),
            "reference": r.reference,
            "reference_rows": r.reference_rows,
        }
        if r.excess > p.sigmas * r.noise:
            whole = judged(
                r.excess,
                p.row_share,
                f"{r.snapshot}: {_pct(r.share)} of {r.rows:,} rows have an identical twin ({_compared(r)}), "
                f"{expected}: {100 * r.excess:.2f} points beyond what the data's own repeats explain; "
                f"{r.copies:,} rows are copies of an earlier row"
                + (f", e.g. {', '.join(r.examples)}" if r.copies else ""),
                evidence=evidence,
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
            ids_text = "" if r.id_share is None else f"; {100 * r.id_share:.2f}% repeat `{r.id_column}`"
            within = "" if r.expected is None else ", within what the data's own repeats explain"
            hidden = hidden_copies(r, p.sigmas)
            if hidden >= 0.01 and r.id_share is None:
                within += (
                    f"; rows repeat so much by nature that a copy of up to {hidden:.0%} of them would hide in "
                    "that (set inputs.id to count repeats by key)"
                )
            found.append(
                Finding(
                    severity=Severity.info,
                    message=f"{r.snapshot}: {_pct(r.share)} of {r.rows:,} rows have an identical twin "
                    f"({_compared(r)}), {expected}{within}{ids_text}",
                    evidence={**evidence, "id_share": r.id_share},
                )
            )
        findings += found
    return findings
