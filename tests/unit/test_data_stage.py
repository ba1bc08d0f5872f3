"""The data stage end to end on tiny parquet files: pins, the stored suite, validation, evidence."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.context import StageContext
from tasks.data.stage import run
from tasks.errors import ConfigError
from tasks.params import Params
from tasks.provenance import collect, file_md5
from tasks.result import Severity, StageOutput


def frame(rows: int, shift: int = 0) -> pd.DataFrame:
    """The same generating process for every split: clean data must be quiet."""
    i = np.arange(rows) + shift
    return pd.DataFrame(
        {
            "row_id": [f"r{k}" for k in i],
            "at": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(i, unit="h"),
            "kind": np.array(["a", "b", "c"])[i % 3],
            "km": (10 + (i * 7) % 500).astype("int64"),
            "temp": np.where(i % 20 == 0, np.nan, -5.0 + (i % 80) * 0.5),
            "y": (i * 7919 % 17 < 4).astype("int64"),  # no feature determines it: 17 is prime to their periods
        }
    )


def make_params(tmp_path: Path, **inputs: object) -> Params:
    return Params.model_validate(
        {
            "inputs": {
                "train": str(tmp_path / "train.parquet"),
                "test": str(tmp_path / "test.parquet"),
                "current": str(tmp_path / "current.parquet"),
                "target": "y",
                "id": "row_id",
                "timestamp": "at",
                "features": ["kind", "km", "temp"],
                **inputs,
            },
            "data": {"suite_dir": str(tmp_path / "gx")},
        }
    )


def write_splits(tmp_path: Path, current: pd.DataFrame | None = None, test: pd.DataFrame | None = None) -> None:
    frame(600).to_parquet(tmp_path / "train.parquet", index=False)
    (frame(200, shift=7) if test is None else test).to_parquet(tmp_path / "test.parquet", index=False)
    (frame(200, shift=11) if current is None else current).to_parquet(tmp_path / "current.parquet", index=False)


def run_stage(tmp_path: Path, params: Params | None = None, run_id: str = "run-1") -> tuple[StageOutput, Path]:
    params = params or make_params(tmp_path)
    ctx = StageContext("data", params, tmp_path / f"out-{run_id}", run_id, collect(params))
    ctx.dir.mkdir(parents=True)
    return run(ctx), ctx.dir


def problems(output: StageOutput) -> list[tuple[str, str, list[str]]]:
    return [(f.severity.value, f.check, f.columns) for f in output.findings if f.severity is not Severity.info]


@pytest.fixture(scope="module")
def built_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A suite built once from the clean training split, copied into each test that needs one."""
    root = tmp_path_factory.mktemp("suite")
    write_splits(root)
    run_stage(root)
    return root / "gx"


def with_suite(tmp_path: Path, built_suite: Path) -> None:
    shutil.copytree(built_suite, tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted"))


def test_clean_data_is_quiet_and_the_suite_is_built_for_review(tmp_path: Path) -> None:
    """First run on clean data: no warn or fail, the suite is built, reported for review, and ignored
    scratch stays out of git; results, Data Docs and metrics are written."""
    write_splits(tmp_path)
    output, out = run_stage(tmp_path)
    assert problems(output) == []
    built = [f for f in output.findings if f.check == "gx_suite"]
    assert len(built) == 1 and "review and commit" in built[0].message
    assert (tmp_path / "gx" / "expectations" / "inputs.json").is_file()
    assert (tmp_path / "gx" / "expectations" / "target.json").is_file()
    assert "uncommitted/" in (tmp_path / "gx" / ".gitignore").read_text().splitlines()
    for name in output.artifacts:
        assert (out / name).is_file(), name
    assert {"validation_test.json", "validation_current.json", "data_docs/index.html"} <= set(output.artifacts)
    assert sum(a.startswith("data_docs/validations/") for a in output.artifacts) == 4
    results = json.loads((out / "validation_test.json").read_text())
    assert set(results) == {"inputs", "target"} and results["inputs"]["success"] is True
    assert output.metrics["current_failed_expectations"] == 0
    assert output.metrics["test_rows"] == 200 and "current_unexpected_max" in output.metrics


def test_stored_suite_is_reused_unchanged(tmp_path: Path, built_suite: Path) -> None:
    """A second run uses the stored suite as is: no rebuild, the file is byte for byte the same."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    before = (tmp_path / "gx" / "expectations" / "inputs.json").read_bytes()
    output, _ = run_stage(tmp_path, run_id="run-2")
    assert (tmp_path / "gx" / "expectations" / "inputs.json").read_bytes() == before
    assert [f for f in output.findings if f.check == "gx_suite"] == []
    assert problems(output) == []


def test_a_hand_edited_suite_is_the_contract(tmp_path: Path, built_suite: Path) -> None:
    """The stored suite is reviewed code: a range tightened by hand is what the batch is judged by."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    path = tmp_path / "gx" / "expectations" / "inputs.json"
    suite = json.loads(path.read_text())
    for e in suite["expectations"]:
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] == "km":
            e["kwargs"]["max_value"] = 100
    path.write_text(json.dumps(suite, indent=2))
    output, _ = run_stage(tmp_path)
    assert ("fail", "out_of_range_share", ["km"]) in problems(output)


def test_the_target_suite_stores_the_reference_label_profile(tmp_path: Path, built_suite: Path) -> None:
    """The suite built from training carries the label profile later snapshots are judged against: the
    label rate, a sketch of labelled rows, the related features and the label-noise baseline."""
    profile = json.loads((built_suite / "expectations" / "target.json").read_text())["meta"]["glassbox"]
    profile = profile["label_profile"]
    assert profile["target"] == "y" and 0.2 < profile["label_rate"] < 0.3 and profile["keyed_by"] == "row_id"
    assert len(profile["labels"]["keys"].split()) == len(profile["labels"]["values"]) == 600
    assert {r["column"] for r in profile["relations"]} == {"kind", "km", "temp"}
    assert 0 <= profile["label_noise"]["flagged_share"] <= 1


def test_a_relabelled_training_snapshot_fails_against_the_stored_profile(tmp_path: Path, built_suite: Path) -> None:
    """A new training snapshot whose rows carry other labels than the reviewed one: target_logic_changed
    fails, saying how many of the shared rows changed."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    train = frame(600)
    train["y"] = np.where(np.arange(600) % 5 == 0, 1, train["y"])
    train.to_parquet(tmp_path / "train.parquet", index=False)
    output, _ = run_stage(tmp_path)
    logic = [f for f in output.findings if f.check == "target_logic_changed"]
    assert len(logic) == 1 and logic[0].severity is Severity.fail
    assert logic[0].evidence["relabelled"]["shared"] == 600 and logic[0].evidence["relabelled"]["1_to_0"] == 0


@pytest.mark.parametrize("damage", ["unknown type", "bad json"])
def test_a_broken_suite_is_an_input_error_naming_the_file(tmp_path: Path, built_suite: Path, damage: str) -> None:
    """A stored suite GX cannot load whole is never rebuilt over or silently thinned: one-line ConfigError."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    path = tmp_path / "gx" / "expectations" / "target.json"
    if damage == "bad json":
        path.write_text("{broken")
    else:
        suite = json.loads(path.read_text())
        suite["expectations"][0]["type"] = "expect_nonsense"
        path.write_text(json.dumps(suite))
    with pytest.raises(ConfigError, match="target.json"):
        run_stage(tmp_path)


def test_a_deleted_suite_is_rebuilt_and_rewired(tmp_path: Path, built_suite: Path) -> None:
    """Deleting a suite file rebuilds it from training; checkpoints that pointed at the old one follow."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    (tmp_path / "gx" / "expectations" / "inputs.json").unlink()
    output, _ = run_stage(tmp_path)
    assert any(f.check == "gx_suite" and "inputs.json" in f.message for f in output.findings)
    assert problems(output) == []


@pytest.mark.parametrize("pinned_in", ["params", "dvc sidecar"])
def test_pin_mismatch_fails(tmp_path: Path, built_suite: Path, pinned_in: str) -> None:
    """A training snapshot whose md5 is not the pinned one (in params or its `.dvc` file) fails the gate."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    params = make_params(tmp_path)
    if pinned_in == "params":
        params = make_params(tmp_path, pins={"train": "0" * 32})
    else:
        (tmp_path / "train.parquet.dvc").write_text("outs:\n- md5: " + "deadbeef" * 4 + "\n  path: train.parquet\n")
    output, _ = run_stage(tmp_path, params)
    versions = [f for f in output.findings if f.check == "data_version" and f.severity is Severity.fail]
    assert len(versions) == 1 and "train" in versions[0].message


def test_matching_pins_pass(tmp_path: Path, built_suite: Path) -> None:
    """Files that hash to their pins are reported as matching, not failed."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    pins = {k: file_md5(tmp_path / f"{k}.parquet") for k in ("train", "test", "current")}
    output, _ = run_stage(tmp_path, make_params(tmp_path, pins=pins))
    versions = [f for f in output.findings if f.check == "data_version"]
    assert len(versions) == 3 and all("matches its pin" in f.message for f in versions)
    assert problems(output) == []


def test_unlabelled_current_batch_is_not_failed_for_its_missing_target(tmp_path: Path, built_suite: Path) -> None:
    """Current traffic without the target column is validated on the inputs suite only."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, current=frame(200, shift=11).drop(columns=["y"]))
    output, out = run_stage(tmp_path)
    assert problems(output) == []
    assert set(json.loads((out / "validation_current.json").read_text())) == {"inputs"}


def test_test_set_without_target_fails(tmp_path: Path, built_suite: Path) -> None:
    """The trusted test set must carry labels: a missing target is a schema fail naming it."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, test=frame(200, shift=7).drop(columns=["y"]))
    output, _ = run_stage(tmp_path)
    assert problems(output) == [("fail", "schema", ["y"])]


def _mask(df: pd.DataFrame, share: float) -> np.ndarray:
    return (np.arange(len(df)) % round(1 / share)) == 0


FAULTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, str]]] = {
    "dropped column": (lambda d: d.drop(columns=["km"]), ("schema", "km")),
    "renamed column": (lambda d: d.rename(columns={"kind": "sort"}), ("schema", "sort")),
    "added column": (lambda d: d.assign(extra=1), ("schema", "extra")),
    "numbers as strings": (lambda d: d.assign(km=d["km"].astype(str)), ("schema", "km")),
    "null spike": (lambda d: d.assign(temp=d["temp"].mask(_mask(d, 0.25))), ("null_share", "temp")),
    "unit change x100": (lambda d: d.assign(km=d["km"] * 100), ("inconsistent_values", "km")),
    "labels not 0/1": (lambda d: d.assign(y=d["y"] * 2), ("unexpected_category_share", "y")),
}

# Values the model meets at serving: the features layer judges them, the data layer reports them as info.
SERVING_FAULTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, str]]] = {
    "negative distance": (
        lambda d: d.assign(km=d["km"].where(~_mask(d, 0.1), -d["km"])),
        ("out_of_range_share", "km"),
    ),
    "new category": (
        lambda d: d.assign(kind=d["kind"].where(~_mask(d, 0.2), "z")),
        ("unexpected_category_share", "kind"),
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_in_the_current_batch_fails(tmp_path: Path, built_suite: Path, fault: str) -> None:
    """Each fault injected into the current batch fails the check that owns it, naming the column; the
    test set stays quiet."""
    inject, (check, column) = FAULTS[fault]
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, current=inject(frame(200, shift=11)))
    output, _ = run_stage(tmp_path)
    failed = [f for f in output.findings if f.severity is Severity.fail]
    assert any(f.check == check and column in f.columns and f.message.startswith("current") for f in failed), [
        (f.check, f.columns, f.message) for f in failed
    ]
    assert all(f.message.startswith("current") for f in failed)


@pytest.mark.parametrize("fault", list(SERVING_FAULTS))
def test_serving_value_faults_are_left_to_the_features_layer(tmp_path: Path, built_suite: Path, fault: str) -> None:
    """Out-of-range values and unseen categories in the current batch do not fail the data stage: the GX
    result is kept as info that names the column and the features-layer check that judges it."""
    inject, (check, column) = SERVING_FAULTS[fault]
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, current=inject(frame(200, shift=11)))
    output, _ = run_stage(tmp_path)
    assert [f for f in output.findings if f.severity is Severity.fail] == []
    noted = [f for f in output.findings if f.check == check and column in f.columns]
    assert noted and all(f.severity is Severity.info and "features layer" in f.message for f in noted)
