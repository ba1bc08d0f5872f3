"""The data stage end to end on tiny parquet files: pins, the baseline (read, or written on a first run),
validation against it, evidence; and `glassbox baseline` (write_baseline)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.context import StageContext
from tasks.data.baseline import write_baseline
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


def make_params(tmp_path: Path, data: dict | None = None, **inputs: object) -> Params:
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
            "data": {"suite_dir": str(tmp_path / "gx"), **(data or {})},
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
    """A baseline written once from the clean training split (`glassbox baseline`), copied into each test."""
    root = tmp_path_factory.mktemp("suite")
    write_splits(root)
    write_baseline(make_params(root), root / "train.parquet")
    return root / "gx"


def with_suite(tmp_path: Path, built_suite: Path) -> None:
    shutil.copytree(built_suite, tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted"))


def by_check(output: StageOutput, check: str) -> list:
    return [f for f in output.findings if f.check == check]


def test_first_run_writes_the_baseline_and_says_so(tmp_path: Path) -> None:
    """First run on clean data without a baseline (bootstrap on, the default): the baseline is written from the
    training snapshot, one info finding says so (review and commit, batches judged against it, training by
    absolute measures), nothing warns or fails; results, Data Docs and metrics are written."""
    write_splits(tmp_path)
    output, out = run_stage(tmp_path)
    assert problems(output) == []
    [written] = [f for f in by_check(output, "baseline") if "just written" in f.message]
    assert written.severity is Severity.info and "review and commit" in written.message
    assert "absolute measures" in written.message and file_md5(tmp_path / "train.parquet") in written.message
    assert (tmp_path / "gx" / "expectations" / "inputs.json").is_file()
    assert (tmp_path / "gx" / "expectations" / "target.json").is_file()
    assert "uncommitted/" in (tmp_path / "gx" / ".gitignore").read_text().splitlines()
    for name in output.artifacts:
        assert (out / name).is_file(), name
    assert {"validation_test.json", "validation_current.json", "data_docs/index.html"} <= set(output.artifacts)
    assert sum(a.startswith("data_docs/validations/") for a in output.artifacts) == 4
    results = json.loads((out / "validation_test.json").read_text())
    assert set(results) == {"inputs", "target"} and results["inputs"]["success"] is True
    assert output.metrics["baseline.current.failed_expectations"] == 0
    assert output.metrics["test.rows"] == 200 and "value_range.current.max" in output.metrics
    [noise] = by_check(output, "label_noise")
    # the label follows no feature: a first-run estimate from a chance-level model is reported, not judged
    assert noise.evidence["judged"] == "not judged" and "recorded from this snapshot" in noise.message


def test_without_a_baseline_and_bootstrap_off_one_fail_names_the_command(tmp_path: Path) -> None:
    """No baseline and data.baseline_bootstrap false: nothing is written, one fail finding names
    `glassbox baseline`; the checks that need no baseline still run."""
    write_splits(tmp_path)
    output, _ = run_stage(tmp_path, make_params(tmp_path, data={"baseline_bootstrap": False}))
    assert not (tmp_path / "gx" / "expectations" / "inputs.json").exists()
    assert [(f.severity, f.check) for f in output.findings if f.severity is not Severity.info] == [
        (Severity.fail, "baseline")
    ]
    assert "`glassbox baseline`" in by_check(output, "baseline")[0].message
    assert by_check(output, "duplicate_rows") and by_check(output, "covariate_shift")


def test_stored_baseline_is_reused_unchanged(tmp_path: Path, built_suite: Path) -> None:
    """A run with a baseline reads it as is: nothing written, the file is byte for byte the same."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    before = (tmp_path / "gx" / "expectations" / "inputs.json").read_bytes()
    output, _ = run_stage(tmp_path, run_id="run-2")
    assert (tmp_path / "gx" / "expectations" / "inputs.json").read_bytes() == before
    assert not any("just written" in f.message for f in by_check(output, "baseline"))
    assert problems(output) == []


def test_write_baseline_refuses_to_overwrite_without_force(tmp_path: Path, built_suite: Path) -> None:
    """`glassbox baseline` on an existing baseline: a ConfigError naming the files; --force rewrites both from
    the snapshot named, which the suites then record."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    params = make_params(tmp_path)
    with pytest.raises(ConfigError, match=r"inputs\.json.*target\.json.*--force"):
        write_baseline(params, tmp_path / "train.parquet")
    other = tmp_path / "other.parquet"
    frame(300, shift=5).to_parquet(other, index=False)
    lines = write_baseline(params, other, force=True)
    assert sum(line.startswith("wrote ") for line in lines) == 2 and "review and commit" in lines[-1]
    meta = json.loads((tmp_path / "gx" / "expectations" / "target.json").read_text())["meta"]["glassbox"]
    assert meta["built_from"] == str(other) and meta["train_md5"] == file_md5(other)
    assert meta["label_profile"]["rows"] == 300


def test_a_baseline_from_another_snapshot_warns_as_stale(tmp_path: Path, built_suite: Path) -> None:
    """A training snapshot other than the one the baseline was written from: a warn per suite saying so."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    frame(600, shift=1).to_parquet(tmp_path / "train.parquet", index=False)
    output, _ = run_stage(tmp_path)
    stale = [f for f in by_check(output, "baseline") if f.severity is Severity.warn]
    assert {f.evidence["suite"] for f in stale} == {"inputs", "target"}
    assert all("review that its contract still holds" in f.message for f in stale)


def test_a_hand_edited_suite_is_the_contract(tmp_path: Path, built_suite: Path) -> None:
    """The stored suite is reviewed code: a range tightened by hand is what the test set is judged by."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    path = tmp_path / "gx" / "expectations" / "inputs.json"
    suite = json.loads(path.read_text())
    for e in suite["expectations"]:
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] == "km":
            e["kwargs"]["max_value"] = 100
    path.write_text(json.dumps(suite, indent=2))
    output, _ = run_stage(tmp_path)
    assert ("fail", "value_range", ["km"]) in problems(output)


def test_a_reviewer_expectation_marked_warning_warns(tmp_path: Path, built_suite: Path) -> None:
    """An expectation a reviewer added with GX severity `warning` that fails on both batches: a warn each,
    not a fail (the gate still passes)."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    path = tmp_path / "gx" / "expectations" / "inputs.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append(
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "kind"}, "severity": "warning", "meta": {}}
    )
    path.write_text(json.dumps(suite, indent=2))
    output, _ = run_stage(tmp_path)
    assert problems(output) == [("warn", "reviewer_expectations", ["kind"])] * 2


def test_the_target_suite_stores_the_reference_label_profile(built_suite: Path) -> None:
    """The baseline written from training carries the label profile later snapshots are judged against: the
    label rate, a sketch of labelled rows, the related features and the label-noise reference share."""
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
    [logic] = [f for f in by_check(output, "target_logic_changed") if "batch" not in f.evidence]
    assert logic.severity is Severity.fail
    assert logic.evidence["relabelled"]["shared"] == 600 and logic.evidence["relabelled"]["1_to_0"] == 0


@pytest.mark.parametrize("damage", ["unknown type", "bad json"])
def test_a_broken_suite_is_an_input_error_naming_the_file(tmp_path: Path, built_suite: Path, damage: str) -> None:
    """A stored suite GX cannot load whole is never rewritten or silently thinned: one-line ConfigError."""
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


def test_a_deleted_suite_is_written_again_and_rewired(tmp_path: Path, built_suite: Path) -> None:
    """Deleting one suite file: the first run writes it again from training (the other is kept as is);
    checkpoints that pointed at the old one follow."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    target = (tmp_path / "gx" / "expectations" / "target.json").read_bytes()
    (tmp_path / "gx" / "expectations" / "inputs.json").unlink()
    output, _ = run_stage(tmp_path)
    [written] = [f for f in by_check(output, "baseline") if "just written" in f.message]
    assert written.evidence["written"] == [str(tmp_path / "gx" / "expectations" / "inputs.json")]
    assert (tmp_path / "gx" / "expectations" / "target.json").read_bytes() == target
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
    versions = [f for f in by_check(output, "wrong_data_version") if f.severity is Severity.fail]
    assert len(versions) == 1 and "train" in versions[0].message


def test_matching_pins_pass(tmp_path: Path, built_suite: Path) -> None:
    """Files that hash to their pins are reported as matching, not failed."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path)
    pins = {k: file_md5(tmp_path / f"{k}.parquet") for k in ("train", "test", "current")}
    output, _ = run_stage(tmp_path, make_params(tmp_path, pins=pins))
    versions = by_check(output, "wrong_data_version")
    assert len(versions) == 3 and all("matches its pin" in f.message for f in versions)
    assert problems(output) == []


def test_unlabelled_current_batch_is_not_failed_for_its_missing_target(tmp_path: Path, built_suite: Path) -> None:
    """Current traffic without the target column is validated on the inputs suite only."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, current=frame(200, shift=11).drop(columns=["y"]))
    output, out = run_stage(tmp_path)
    assert problems(output) == []
    assert set(json.loads((out / "validation_current.json").read_text())) == {"inputs"}
    assert any("unlabelled" in f.message for f in by_check(output, "baseline"))


def test_test_set_without_target_fails(tmp_path: Path, built_suite: Path) -> None:
    """The trusted test set must carry labels: a missing target is a schema fail naming it."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, test=frame(200, shift=7).drop(columns=["y"]))
    output, _ = run_stage(tmp_path)
    assert problems(output) == [("fail", "schema_change", ["y"])]


def _mask(df: pd.DataFrame, share: float) -> np.ndarray:
    return (np.arange(len(df)) % round(1 / share)) == 0


FAULTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, str]]] = {
    "dropped column": (lambda d: d.drop(columns=["km"]), ("schema_change", "km")),
    "renamed column": (lambda d: d.rename(columns={"kind": "sort"}), ("schema_change", "kind")),
    "numbers as strings": (lambda d: d.assign(km=d["km"].astype(str)), ("schema_change", "km")),
    "null spike": (lambda d: d.assign(temp=d["temp"].mask(_mask(d, 0.25))), ("missing_spike", "temp")),
    "unit change x100": (lambda d: d.assign(km=d["km"] * 100), ("inconsistent_values", "km")),
    "labels not 0/1": (lambda d: d.assign(y=d["y"] * 2), ("category_set", "y")),
}

# Values the model meets at serving: the features layer judges them, the data layer reports them as info.
SERVING_FAULTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, str]]] = {
    "negative distance": (
        lambda d: d.assign(km=d["km"].where(~_mask(d, 0.1), -d["km"])),
        ("value_range", "km"),
    ),
    "new category": (
        lambda d: d.assign(kind=d["kind"].where(~_mask(d, 0.2), "z")),
        ("category_set", "kind"),
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


def test_an_added_column_is_info(tmp_path: Path, built_suite: Path) -> None:
    """An extra column in the current batch (request metadata in an inference log) is not read by the model:
    schema_change names it at info, and nothing fails."""
    with_suite(tmp_path, built_suite)
    write_splits(tmp_path, current=frame(200, shift=11).assign(extra=1))
    output, _ = run_stage(tmp_path)
    assert not [f for f in output.findings if f.severity is Severity.fail]
    added = [f for f in output.findings if f.check == "schema_change" and "extra" in f.columns]
    assert [f.severity for f in added] == [Severity.info] and "not read by the model" in added[0].message


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
