"""The form of each input file, before a run: a file that cannot be read as the expected table is one line naming
the file, what was found and what was expected; a valid but unusual file (CRLF, a BOM, quoted newlines, NULL
spellings, reordered columns) reads as the same table. String targets need `inputs.positive_label`."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.errors import ConfigError
from tasks.frames import label_codes, read_frame
from tasks.input_files import check_inputs, inspect
from tasks.params import load_params

RNG = np.random.default_rng(0)
FRAME = pd.DataFrame(
    {
        "age": RNG.integers(18, 80, 120),
        "income": RNG.normal(5e4, 1e4, 120).round(2),
        "city": RNG.choice(["oslo", "lima", "pune"], 120),
        "y": RNG.integers(0, 2, 120),
    }
)
CSV = FRAME.to_csv(index=False)


def _parquet(tmp: Path) -> bytes:
    FRAME.to_parquet(tmp / "source.parquet", index=False)
    return (tmp / "source.parquet").read_bytes()


def _ragged(extra: bool) -> bytes:
    lines = CSV.splitlines()
    lines[9] = lines[9] + ",9" if extra else "1,2,oslo"
    return ("\n".join(lines) + "\n").encode()


UNUSABLE: dict[str, tuple[str, Callable[[Path], bytes], str]] = {
    "empty": ("current.csv", lambda t: b"", "empty file"),
    "header only": ("current.csv", lambda t: b"age,income,city,y\n", "no data rows"),
    "binary": ("current.csv", lambda t: bytes(range(256)) * 40, "binary data"),
    "utf-16": ("current.csv", lambda t: CSV.encode("utf-16"), "UTF-16"),
    "utf-16 no bom": ("current.csv", lambda t: CSV.encode("utf-16-le"), "UTF-16"),
    "latin-1": ("current.csv", lambda t: CSV.replace("oslo", "malmö").encode("latin-1"), "not UTF-8"),
    "html": ("current.csv", lambda t: b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
    "json": ("current.csv", lambda t: FRAME.to_json(orient="records").encode(), "JSON"),
    "semicolons": ("current.csv", lambda t: FRAME.to_csv(index=False, sep=";").encode(), "separated by ';'"),
    "tabs": ("current.csv", lambda t: FRAME.to_csv(index=False, sep="\t").encode(), "separated by '\\t'"),
    "duplicate names": ("current.csv", lambda t: b"age,age,city,y\n1,2,oslo,0\n", "duplicate column names"),
    "no header": ("test.csv", lambda t: FRAME.to_csv(index=False, header=False).encode(), "no header row"),
    "a longer row": ("current.csv", lambda t: _ragged(True), "a row with 5 fields"),
    "a shorter row": ("current.csv", lambda t: _ragged(False), "a row with 3 fields"),
    "parquet named csv": ("current.csv", _parquet, "a Parquet file"),
    "gzip named csv": ("current.csv", lambda t: gzip.compress(CSV.encode()), "gzip"),
    "truncated parquet": ("current.parquet", lambda t: _parquet(t)[:300], "truncated Parquet"),
    "csv named parquet": ("current.parquet", lambda t: CSV.encode(), "not a Parquet file"),
    "no target": ("train.csv", lambda t: FRAME.drop(columns="y").to_csv(index=False).encode(), "'y' (target)"),
    "text target": ("train.csv", lambda t: FRAME.assign(y=FRAME.y.map({0: "no", 1: "yes"})).to_csv().encode(), ""),
}


def project(tmp: Path, files: dict[str, bytes] | None = None, **inputs: object) -> Path:
    """A user's project: train/test/current CSVs (the clean frame unless given) and params naming them."""
    names = {"train": "train.csv", "test": "test.csv", "current": "current.csv"}
    for name in names.values():
        (tmp / name).write_text(CSV)
    for name, data in (files or {}).items():
        (tmp / name).write_bytes(data)
        names[Path(name).stem] = name
    params = {"inputs": {**names, "target": "y", **inputs}, "snapshot": {"demo": False}}
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp / "params.yaml"


def _checked(params_path: Path) -> None:
    import os

    here = Path.cwd()
    os.chdir(params_path.parent)
    try:
        check_inputs(load_params(params_path.name))
    finally:
        os.chdir(here)


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_unusable_file_is_one_line_naming_file_and_expectation(tmp_path: Path, kind: str) -> None:
    """Each unusable kind stops the run with one line: the file's name, what was found, what was expected."""
    name, build, found = UNUSABLE[kind]
    params = project(tmp_path, {name: build(tmp_path)})
    with pytest.raises(ConfigError) as e:
        _checked(params)
    line = str(e.value)
    assert "\n" not in line and line.startswith(f"{name}:"), line
    assert found in line and "expected" in line, line


@pytest.mark.parametrize(
    "kind,text",
    [
        ("crlf", CSV.replace("\n", "\r\n")),
        ("bom", "\ufeff" + CSV),
        ("quoted newline", FRAME.assign(city=FRAME.city + "\nline two").to_csv(index=False)),
        ("reordered", FRAME[["y", "city", "age", "income"]].to_csv(index=False)),
        ("extra column", FRAME.assign(note="x").to_csv(index=False)),
        ("NULL spellings", CSV.replace("oslo", "NULL", 3).replace("lima", "NA", 3)),
    ],
)
def test_unusual_but_valid_file_reads_as_the_table(tmp_path: Path, kind: str, text: str) -> None:
    """CRLF, a BOM, quoted newlines, reordered or extra columns and NULL/NA spellings pass the form check and
    read as the same columns and rows."""
    params = project(tmp_path, {"current.csv": text.encode()})
    _checked(params)
    df = read_frame(tmp_path / "current.csv")
    assert len(df) == len(FRAME) and set(FRAME.columns) <= set(df.columns)
    assert df["age"].tolist() == FRAME["age"].tolist()
    if kind == "NULL spellings":
        assert df["city"].isna().sum() == 6


def test_configured_delimiter_reads_semicolons(tmp_path: Path) -> None:
    """`inputs.delimiter` is the one every input file is read with."""
    text = FRAME.to_csv(index=False, sep=";").encode()
    params = project(tmp_path, {"train.csv": text, "test.csv": text, "current.csv": text}, delimiter=";")
    _checked(params)
    assert len(read_frame(tmp_path / "train.csv", ";").columns) == 4


def test_text_target_needs_positive_label(tmp_path: Path) -> None:
    """A yes/no target without positive_label is named with its values; with it, the run may start; a
    positive_label that is not one of the values is named too."""
    text = FRAME.assign(y=FRAME.y.map({0: "no", 1: "yes"})).to_csv(index=False).encode()
    with pytest.raises(ConfigError, match=r"train.csv: column 'y' \(target\) holds the text values \['no', 'yes'\]"):
        _checked(project(tmp_path, {"train.csv": text}))
    _checked(project(tmp_path, {"train.csv": text}, positive_label="yes"))
    with pytest.raises(ConfigError, match="positive_label 'Yes' is not a value"):
        _checked(project(tmp_path, {"train.csv": text}, positive_label="Yes"))


def test_label_codes() -> None:
    """0/1 and true/false are labels; with positive_label, it is 1 and one other value 0; anything more is
    named, never coerced. A YAML `yes` (read as True) matches yes/true."""
    codes, bad = label_codes(pd.Series([0, 1, None, 1]), None)
    assert codes.tolist()[:2] == [0.0, 1.0] and np.isnan(codes[2]) and bad == []
    assert label_codes(pd.Series([0, 1, 2]), None)[1] == ["2"]
    assert label_codes(pd.Series(["yes", "no"]), None)[1] == ["no", "yes"]
    assert label_codes(pd.Series([">50K", "<=50K"]), ">50K")[0].tolist() == [1.0, 0.0]
    assert label_codes(pd.Series(["Yes", "No"]), True)[0].tolist() == [1.0, 0.0]
    assert label_codes(pd.Series(["yes", "no", "maybe"]), "yes")[1] == ["maybe", "no"]


def test_inspection_is_cached_per_file_version(tmp_path: Path) -> None:
    """The flow and the command that starts it both check: one scan per version of a file."""
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    first = inspect(path)
    assert inspect(path) is first
    path.write_text(CSV + "1,2,oslo,0\n")
    assert inspect(path).rows == len(FRAME) + 1


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_are_a_table_or_one_line(tmp_path: Path, data: bytes) -> None:
    """Whatever bytes a current batch holds, the form check either accepts them as a table with a header and
    rows, or says why in one line naming the file: never another exception."""
    path = tmp_path / "current.csv"
    path.write_bytes(b"age,income,city,y\n" + data if data[:1] != b"!" else data)
    try:
        form = inspect(path)
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).startswith(str(path))
        return
    assert form.rows >= 1 and form.columns


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.tuples(st.integers(-5, 5), st.text(max_size=12), st.sampled_from(["0", "1", "", "2", "yes"])),
        min_size=1,
        max_size=30,
    )
)
def test_any_text_cells_read_or_one_line(tmp_path: Path, cells: list[tuple[int, str, str]]) -> None:
    """Rows of arbitrary text written by a CSV writer: accepted forms read with pandas to as many rows as the
    form check counted; rejected ones are one line."""
    path = tmp_path / "current.csv"
    pd.DataFrame(cells, columns=["age", "city", "y"]).to_csv(path, index=False)
    try:
        form = inspect(path, watch="y")
    except ConfigError as e:
        assert "\n" not in str(e)
        return
    assert len(read_frame(path)) == form.rows


def test_labels_file_needs_a_key_and_binary_labels(tmp_path: Path) -> None:
    """Feedback without a key to join on, or with a label that is not one, is named before the run starts."""
    keyed = FRAME.assign(request_id=[f"r{i}" for i in range(len(FRAME))])
    params = project(tmp_path, {"labels.csv": keyed[["request_id", "y"]].to_csv(index=False).encode()})
    _checked(params)
    project(tmp_path, {"labels.csv": keyed[["y"]].to_csv(index=False).encode()})
    with pytest.raises(ConfigError, match=r"labels.csv: no key column.*expected a column 'request_id'"):
        _checked(params)
    bad = keyed.assign(y=keyed.y.astype(str).mask(keyed.index < 3, "maybe"))
    project(tmp_path, {"labels.csv": bad[["request_id", "y"]].to_csv(index=False).encode()})
    with pytest.raises(ConfigError, match=r"labels.csv: column 'y' \(target\) holds values that are not a label"):
        _checked(params)
