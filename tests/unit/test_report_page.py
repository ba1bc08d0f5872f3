"""The report page and the column evidence behind it: pictures of flagged columns, inline, escaped, ordered as a
person debugs; what changed since the last good run down to columns, params and the model."""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tasks import column_evidence
from tasks.changes import changes_since, flat
from tasks.report_html import to_html


def _finding(check: str, severity: str, columns: list[str], batch: str = "current", message: str = "m") -> dict:
    return {"check": check, "severity": severity, "columns": columns, "message": message, "evidence": {"batch": batch}}


def _report(stages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "run_id": "r2",
        "status": "failed",
        "provenance": {
            "git_commit": "b" * 40,
            "git_dirty": False,
            "data_hashes": {"train": "1" * 32},
            "params_sha256": "p",
            "packages": {"pandas": "3"},
            "mlflow_run_id": "m1",
        },
        "stages": stages,
        "first_failure": None,
        "changes_since_last_good": {"last_good_run_id": None, "note": "no earlier good run in this folder"},
        **extra,
    }


def _stage(name: str, verdict: str, findings: list[dict], **extra: Any) -> dict[str, Any]:
    return {"name": name, "verdict": verdict, "findings": findings, "artifacts": [], "reason": None, **extra}


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 2000),
            "flag": rng.integers(0, 2, 2000),
            "city": rng.choice(["a", "b", "c"], 2000),
            "n": pd.array(rng.integers(0, 50, 2000), dtype="Int64"),
        }
    )
    current = train.sample(500, random_state=1).reset_index(drop=True)
    current.loc[:200, "age"] = np.nan  # a null spike
    current["city"] = current["city"].replace({"c": "d"})
    return {"train": train, "current": current}


def test_flagged_columns_are_drawn_once_with_null_shares(frames, tmp_path):
    """Every warned or failed column gets a training-vs-batch picture (a histogram for numbers, category shares
    for few-valued columns, a binary flag included), drawn once however many findings name it; a column whose null
    share moved gets the null-share chart; info findings and absent columns draw nothing."""
    report = _report(
        [
            _stage(
                "data",
                "fail",
                [
                    _finding("missing_spike", "fail", ["age"]),
                    _finding("covariate_shift", "warn", ["age", "city", "flag", "not_a_column"]),
                    _finding("label_shift", "info", ["n"]),
                ],
            )
        ]
    )
    figures = column_evidence.draw(report, frames, tmp_path)["data"]
    assert set(figures) == {"missing_spike", "covariate_shift"}
    assert any("nulls_" in f for f in figures["missing_spike"])
    overlays = [f for f in figures["covariate_shift"] if "column_" in f]
    assert len(overlays) == 3  # age, city, flag; not the absent column
    assert figures["missing_spike"][0] in figures["covariate_shift"]  # the same picture, drawn once
    assert all((tmp_path / f).is_file() for fs in figures.values() for f in fs)
    files = sorted(p.name for p in (tmp_path / column_evidence.FOLDER).glob("*.png"))
    assert len(files) == 5  # three columns, and one null chart per finding whose columns' null share moved
    shares = pd.read_csv(
        tmp_path / column_evidence.FOLDER / next(f for f in files if "city" in f).replace(".png", ".csv")
    )
    assert set(shares["value"]) == {"a", "b", "c", "d"}  # categories of both sides, training's and the batch's


def test_stats_moved_names_the_column_and_the_statistic(frames):
    """A null spike, a renamed category and a dropped column are named; an identical input is quiet."""
    before = column_evidence.column_stats(frames)
    assert column_evidence.stats_moved(before, before) == []
    after_frames = {"train": frames["train"], "current": frames["current"].drop(columns=["n"])}
    moved = column_evidence.stats_moved(
        {"current": column_evidence.column_stats({"current": frames["train"]})["current"]},
        column_evidence.column_stats(after_frames),
    )
    said = {(m["column"], m["stat"]) for m in moved}
    assert ("n", "dropped") in said and ("age", "null_share") in said
    assert moved[0]["stat"] == "dropped"  # the largest change first


def test_changes_since_names_params_columns_and_model():
    prev = _report([], params={"a.b": 1, "c": "x"}, model={"model_id": "m-1"}, column_stats={"train": {}})
    prev["run_id"] = "r1"
    cur = _report([], params={"a.b": 2, "c": "x"}, model={"model_id": "m-2"}, column_stats={"train": {}})
    ch = changes_since(prev, cur)
    assert ch["params"] == {"a.b": {"before": 1, "after": 2}}
    assert ch["model"]["after"] == {"model_id": "m-2"}
    assert flat({"data": {"x": {"warn": 1}}, "y": []}) == {"data.x.warn": 1, "y": []}


def test_page_puts_problems_first_with_inline_pictures_and_escapes_data(tmp_path):
    """The strip names each layer's verdict; a failing check shows its own picture inline (a data URI, nothing
    fetched); infos are folded; a value from the data is text, never markup."""
    (tmp_path / "training").mkdir()
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    (tmp_path / "training" / "learning_curve.png").write_bytes(png)
    stages = [
        _stage("data", "pass", [_finding("baseline", "info", [], message="<b>fine</b>")]),
        _stage(
            "training",
            "fail",
            [_finding("overfitting", "fail", ["<script>alert(1)</script>"])],
            figures={"overfitting": ["learning_curve.png"]},
        ),
    ]
    r = _report(stages, first_failure={"stage": "training", "check": "overfitting", "message": "m"})
    page = to_html(r, tmp_path)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;fine&lt;/b&gt;" in page
    assert re.search(r"class='v-fail first' href='#layer-training'", page)
    assert page.index("overfitting") < page.index("Passed checks") < page.index("baseline")
    assert page.count("src='data:image/png;base64,") == 1
    assert not re.search(r"src=['\"](?!data:)", page)  # every asset inline; links (MLflow's UI) are not fetched
    assert "href='http://127.0.0.1:5000/#/runs/m1'" in page
    assert "<details><summary>data: 1 info lines" in page


def test_a_timestamp_column_is_drawn_as_hours_of_day(tmp_path):
    """A timezone bug moves the hour of day as written, not the instant: a timestamp column is drawn by hour."""
    at = pd.Series(pd.date_range("2024-01-01", periods=480, freq="h", tz="UTC"))
    frames = {
        "train": pd.DataFrame({"at": at}),
        "current": pd.DataFrame({"at": at.dt.tz_convert("America/New_York").astype(str)}),  # written with offsets
    }
    report = _report([_stage("features", "fail", [_finding("timezone_shift", "fail", ["at"])])])
    [picture] = column_evidence.draw(report, frames, tmp_path)["features"]["timezone_shift"]
    table = pd.read_csv(tmp_path / picture.replace(".png", ".csv"), dtype={"value": str})
    assert list(table["value"]) == [f"{h:02d}" for h in range(24)]
    assert table["train"].round(4).nunique() == 1  # every hour alike on both sides: the clock, not the data, moved
