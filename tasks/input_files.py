"""The form of each input file, checked before anything runs: a file that cannot be read as the table glassbox
expects (empty, binary, another encoding, JSON or HTML where CSV is expected, a Parquet file cut short, ragged
rows, another delimiter, duplicate or missing column names) is a one-line error naming the file, what was found
and what was expected (exit 2). Found before a Prefect server starts and before a stage removes the last run's
evidence; a file that reads as a table with wrong values is the data layer's to judge, not this module's.

The whole of a CSV file is scanned once, with pyarrow's CSV reader (fields counted in C, values not converted):
pandas fills a short row with missing values and reads on, so a ragged row would become a silent null.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import ConfigError

if TYPE_CHECKING:
    from tasks.params import Inputs, Params

HEAD = 1 << 16  # bytes sniffed for the file's kind
CHUNK = 1 << 24  # bytes decoded at a time when the whole file is checked as UTF-8
BLOCK = 1 << 26  # the CSV reader's block: a whole file up to this size, so a long row is never cut
PARQUET = (".parquet", ".pq")
CSV = (".csv",)
COMPRESSED = {".gz": b"\x1f\x8b", ".zip": b"PK\x03\x04", ".bz2": b"BZh", ".xz": b"\xfd7zXZ\x00", ".zst": b"(\xb5/\xfd"}
SIGNATURES = (  # what a file that is not CSV text usually starts with
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\xff\xfe", "UTF-16 text (little-endian byte-order mark)"),
    (b"\xfe\xff", "UTF-16 text (big-endian byte-order mark)"),
)
DELIMITERS = (",", ";", "\t", "|")
VALUES = 20  # distinct target values kept: a label has two
_checked: dict[tuple[str, int, int, str, str | None], FileForm] = {}


@dataclass(frozen=True)
class FileForm:
    """What a readable input file holds: its columns and its number of data rows."""

    path: Path
    columns: tuple[str, ...]
    rows: int
    values: tuple[str, ...] | None = None  # the watched column's distinct values as text (at most VALUES + 1)


def _unusable(path: Path, found: str, expected: str) -> ConfigError:
    return ConfigError(f"{path}: {found}; expected {expected}")


def _shown(text: str, limit: int = 60) -> str:
    text = text.replace("\r", "").replace("\n", "\\n")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _sniff_kind(path: Path, head: bytes) -> None:
    """Reject a file whose first bytes say it is not CSV text."""
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            hint = " (rename it .parquet)" if magic == b"PAR1" else ""
            raise _unusable(path, f"{what}{hint}", "UTF-8 CSV text with a header row")
    if b"\x00" in head:
        at = head.index(b"\x00")
        utf16 = head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
        found = "UTF-16 text (no byte-order mark)" if utf16 else f"binary data (a NUL byte at offset {at})"
        raise _unusable(path, found, "UTF-8 CSV text with a header row")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    if start[:1] in (b"{", b"["):
        raise _unusable(path, "JSON text", "CSV text with a header row (write the table with to_csv)")
    if start[:1] == b"<" and b">" in start:
        raise _unusable(path, "HTML or XML markup", "CSV text with a header row")


def _check_utf8(path: Path) -> None:
    """The whole file decodes as UTF-8 (a BOM is allowed): latin-1 or cp1252 bytes are named with their offset."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as e:
                byte = chunk[e.start]
                raise _unusable(
                    path,
                    f"not UTF-8 text (byte 0x{byte:02x} at offset {offset + e.start}: latin-1 or cp1252?)",
                    "UTF-8 CSV text: re-save the file as UTF-8",
                ) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _unusable(path, "not UTF-8 text (the file ends inside a character)", "UTF-8 CSV text") from None


def _header(path: Path, head: bytes, sep: str) -> list[str]:
    text = head.decode("utf-8-sig", errors="replace")
    line = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    if not line or not any(field.strip() for field in line):
        raise _unusable(path, "no header row (the first line is empty)", "a first line naming the columns")
    if len(line) == 1:
        first = text.splitlines()[0] if text else ""
        others = [d for d in DELIMITERS if d != sep and len(next(csv.reader([first], delimiter=d))) > 1]
        if others:
            raise _unusable(
                path,
                f"one column {_shown(line[0])}: the fields look separated by {others[0]!r}",
                f"fields separated by {sep!r} (or set inputs.delimiter: {others[0]!r})",
            )
    dupes = sorted({c for c in line if line.count(c) > 1})
    if dupes and _looks_like_data(line):
        raise _no_header(path, line, sep)
    if dupes:
        raise _unusable(path, f"duplicate column names {dupes[:5]}", "each column named once")
    return line


def _looks_like_data(fields: list[str] | tuple[str, ...]) -> bool:
    """A first line of values, not names: at least half of its fields are numbers."""
    return sum(_is_number(c) for c in fields) >= len(fields) / 2


def _no_header(path: Path, fields: list[str] | tuple[str, ...], sep: str) -> ConfigError:
    return _unusable(path, f"no header row (the first line is data: {_shown(sep.join(fields))})", "column names first")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _count_rows(path: Path, columns: list[str], sep: str, watch: str | None) -> tuple[int, tuple[str, ...] | None]:
    """Data rows and the watched column's distinct values; every row's fields are counted against the header's,
    and a ragged row is an error naming it."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    ragged: list[tuple[int, int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        ragged.append((row.actual_columns, row.expected_columns, row.text or ""))
        return "skip"

    kept = f"f{columns.index(watch)}" if watch in columns else "f0"
    rows, seen = 0, set()
    try:
        # One thread, closed when done: a reader's thread pool still alive at interpreter exit can abort the
        # process ("terminate called without an active exception") when the next line is an error exit.
        with pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=[f"f{i}" for i in range(len(columns))],
                skip_rows=1,
                block_size=min(max(path.stat().st_size + 1, 1 << 20), BLOCK),  # a row never straddles blocks
                use_threads=False,
            ),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                include_columns=[kept], column_types={kept: pa.string()}, strings_can_be_null=True
            ),
        ) as reader:
            for batch in reader:
                rows += batch.num_rows
                if watch in columns and len(seen) <= VALUES:
                    seen.update(v for v in batch.column(0).unique().to_pylist() if v is not None)
    except pa.ArrowInvalid as e:
        if "skip initial" in str(e) or "Empty CSV" in str(e):  # the header is the whole file
            return 0, ()
        raise _unusable(path, f"unparseable CSV ({str(e).splitlines()[0][:160]})", "CSV text") from None
    if ragged:
        actual, expected, text = ragged[0]
        more = f" (and {len(ragged) - 1} more such rows)" if len(ragged) > 1 else ""
        raise _unusable(
            path,
            f"a row with {actual} fields where the header has {expected}: {_shown(text)}{more}",
            f"every row with the header's {expected} fields",
        )
    return rows, _distinct(seen) if watch in columns else None


def _distinct(seen: set) -> tuple[str, ...]:
    return tuple(sorted(str(v).strip() for v in seen)[: VALUES + 1])


def _csv_form(path: Path, sep: str, watch: str | None) -> FileForm:
    with path.open("rb") as f:
        head = f.read(HEAD)
    if not head:
        raise _unusable(path, "empty file (0 bytes)", "CSV text with a header row and data rows")
    suffix = "".join(path.suffixes[-2:]).lower()
    compressed = next((s for s in COMPRESSED if suffix.endswith(s)), None)
    if compressed:  # pandas decompresses by suffix; the form of what is inside is checked when it is read
        if not head.startswith(COMPRESSED[compressed]):
            raise _unusable(path, f"not {compressed} data (starts with {head[:8]!r})", f"a {compressed} file")
        return FileForm(path, (), -1)
    _sniff_kind(path, head)
    _check_utf8(path)
    columns = _header(path, head, sep)
    rows, values = _count_rows(path, columns, sep, watch)
    if rows == 0:
        raise _unusable(path, f"a header and no data rows (columns {columns[:5]})", "at least one data row")
    return FileForm(path, tuple(columns), rows, values)


def _parquet_form(path: Path, watch: str | None) -> FileForm:
    import pyarrow.parquet as pq

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(max(size - 4, 0))
        tail = f.read(4)
    if size == 0:
        raise _unusable(path, "empty file (0 bytes)", "a Parquet file")
    if head != b"PAR1":
        with path.open("rb") as f:
            start = f.read(HEAD)
        looks = "CSV text?" if b"," in start[:200] and b"\x00" not in start else "not Parquet"
        raise _unusable(path, f"not a Parquet file (starts with {start[:16]!r}: {looks})", "a Parquet file")
    if tail != b"PAR1":
        raise _unusable(path, "a truncated Parquet file (no footer: it ends before its metadata)", "a whole file")
    try:
        meta = pq.read_metadata(path)
    except Exception as e:  # a corrupt footer: the user's file, one line
        raise _unusable(path, f"an unreadable Parquet footer ({type(e).__name__}: {e})", "a whole file") from None
    names = list(meta.schema.to_arrow_schema().names)
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise _unusable(path, f"duplicate column names {dupes[:5]}", "each column named once")
    if meta.num_rows == 0:
        raise _unusable(path, f"a schema and no rows (columns {names[:5]})", "at least one row")
    values = None
    if watch in names:
        column = pq.read_table(path, columns=[watch]).column(0)
        values = _distinct(set(column.drop_null().unique().to_pylist()))
    return FileForm(path, tuple(names), meta.num_rows, values)


def inspect(path: Path, sep: str = ",", watch: str | None = None) -> FileForm:
    """The file's columns, rows and the distinct values of the `watch` column (the target), or a ConfigError
    naming what makes it unusable. Checked once per file version in a process (the flow and the command that
    starts it both ask)."""
    path = Path(path)
    if not path.is_file():
        raise _unusable(path, "file not found", "a CSV or Parquet file")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sep, watch)
    if key not in _checked:
        suffix = path.suffix.lower()
        if suffix in PARQUET:
            _checked[key] = _parquet_form(path, watch)
        elif suffix in CSV or suffix in COMPRESSED:
            _checked[key] = _csv_form(path, sep, watch)
        else:
            raise _unusable(path, f"unsupported file type {path.suffix!r}", ".csv or .parquet")
    return _checked[key]


def _required(inputs: Inputs, role: str) -> dict[str, str]:
    """The columns params names that a file of this role must have, with what each is."""
    if role == "labels":
        return {inputs.target: "target"}
    named = {c: what for c, what in ((inputs.id, "id"), (inputs.timestamp, "timestamp")) if c}
    if role != "current":  # the current batch may be unlabelled traffic
        named[inputs.target] = "target"
    return {**{c: "feature" for c in inputs.features or ()}, **named}


def _check_columns(form: FileForm, required: dict[str, str]) -> None:
    missing = [c for c in required if c not in form.columns]
    if not missing or not form.columns:
        return
    if _looks_like_data(form.columns):
        raise _no_header(form.path, form.columns, ",")
    shown = ", ".join(f"{c!r} ({required[c]})" for c in missing[:3])
    raise _unusable(
        form.path, f"no column {shown}; its columns are {list(form.columns)[:12]}", "the columns params names"
    )


def _check_label_key(form: FileForm, inputs: Inputs) -> None:
    """Feedback is joined to the served requests by a request_id column or the id column."""
    import pandas as pd

    from tasks.frames import label_codes
    from tasks.monitoring.store import REQUEST_ID

    if REQUEST_ID not in form.columns and (inputs.id is None or inputs.id not in form.columns):
        keys = repr(REQUEST_ID) + (f" or the id column {inputs.id!r}" if inputs.id else " (or set inputs.id)")
        raise _unusable(form.path, f"no key column; its columns are {list(form.columns)[:12]}", f"a column {keys}")
    bad = label_codes(pd.Series(form.values or (), dtype=object), inputs.positive_label)[1]
    if bad:
        raise _unusable(
            form.path,
            f"column {inputs.target!r} (target) holds values that are not a label: {bad[:5]}",
            "0/1, or the two values inputs.positive_label names",
        )


def check_inputs(params: Params) -> dict[str, FileForm]:
    """Every input file's form and the columns params names in it, before a run starts. The demo's files are the
    snapshot stage's to write: until they exist there is nothing to check."""
    inputs = params.inputs
    files = {**inputs.files(), **({"labels": inputs.labels} if inputs.labels else {})}
    forms: dict[str, FileForm] = {}
    for role, path in files.items():
        if params.snapshot.demo and not Path(path).exists():
            continue
        forms[role] = inspect(path, inputs.delimiter, inputs.target)
        _check_columns(forms[role], _required(inputs, role))
        if role == "labels":
            _check_label_key(forms[role], inputs)
    if "train" in forms:
        _check_label_spelling(forms["train"], inputs)
    return forms


def _check_label_spelling(train: FileForm, inputs: Inputs) -> None:
    """A two-valued text target needs its positive value named, and a named one must be among the values: which
    value means 1 is the user's to say, never guessed. Other target problems (one class, a third value) are
    the data layer's findings."""
    from tasks.frames import is_positive

    values = train.values
    if values is None or len(values) != 2:
        return
    column = f"column {inputs.target!r} (target)"
    if inputs.positive_label is None:
        if not all(_is_number(v) or v.lower() in ("true", "false") for v in values):
            raise _unusable(
                train.path,
                f"{column} holds the text values {list(values)}",
                f"0/1, or inputs.positive_label naming the value that means 1 (e.g. {values[-1]!r})",
            )
    elif not any(is_positive(v, inputs.positive_label) for v in values):
        raise _unusable(
            train.path,
            f"inputs.positive_label {inputs.positive_label!r} is not a value of {column}: {list(values)}",
            "one of them (quote it in params.yaml: YAML reads yes/no/on/off as true/false)",
        )
