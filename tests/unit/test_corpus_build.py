"""The corpus's plantings (benchmarks/corpus/faults.py) on tiny frames: each plants what it says, at the size it
says, deterministically, without touching its inputs; and the params.yaml build.py writes is one glassbox loads."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"
sys.path.insert(0, str(CORPUS))
faults = pytest.importorskip("faults")
sources = pytest.importorskip("sources")


def _frames(n: int = 200) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)

    def one(k: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "amount": rng.gamma(2.0, 50.0, k),
                "count": rng.integers(1, 9, k).astype("int64"),
                "other": rng.gamma(2.0, 50.0, k),
                "region": rng.choice(["north east", "south", "west"], k),
                "at": pd.date_range("2017-06-01", periods=k, freq="h", tz="UTC").astype("datetime64[us, UTC]"),
                "y": (rng.random(k) < 0.4).astype("int64"),
            }
        )

    return {"train": one(n), "test": one(n // 2), "current": one(n // 2)}


def _plant(p, frames=None):
    frames = frames or _frames()
    before = {k: v.copy() for k, v in frames.items()}
    out = p.apply(frames, np.random.default_rng(7), "y")
    for k in frames:  # inputs are never changed
        pd.testing.assert_frame_equal(frames[k], before[k])
    return frames, out


def test_label_noise_flips_the_share_of_each_class():
    f, out = _plant(faults.label_noise(0.2))
    y, noisy = f["train"]["y"], out["train"]["y"]
    for k in (0, 1):
        assert (noisy[y == k] != k).mean() == pytest.approx(0.2, abs=0.01)
    pd.testing.assert_frame_equal(out["test"], f["test"])


def test_joint_swap_keeps_the_values_and_changes_the_rows():
    f, out = _plant(faults.joint_swap("amount", "other", 0.5))
    a, b = f["current"], out["current"]
    assert sorted(np.r_[a["amount"], a["other"]]) == sorted(np.r_[b["amount"], b["other"]])
    assert (a["amount"] != b["amount"]).mean() == pytest.approx(0.5)


def test_missing_spike_in_an_integer_column_is_float_with_nulls():
    pytest.importorskip("badgers")  # the bench extra
    f, out = _plant(faults.missing_spike("count", 0.3))
    cur = out["current"]["count"]
    assert cur.dtype == "float64" and cur.isna().mean() == pytest.approx(0.3)
    assert (cur.dropna() == f["current"]["count"][cur.notna()]).all()


def test_unit_change_scales_a_share_and_keeps_an_integer_column_integer():
    f, out = _plant(faults.unit_change("count", 12, 0.5, "months", "unit_partial"))
    a, b = f["current"]["count"], out["current"]["count"]
    assert b.dtype == "int64"
    changed = a != b
    assert changed.mean() == pytest.approx(0.5) and (b[changed] == 12 * a[changed]).all()


def test_duplicates_and_label_shift_and_imbalance_sizes():
    f, out = _plant(faults.duplicate_current_x3())
    assert len(out["current"]) == 3 * len(f["current"]) and out["current"].duplicated().mean() == pytest.approx(2 / 3)
    f, out = _plant(faults.label_shift())
    assert out["current"]["y"].mean() >= min(0.9, f["train"]["y"].mean() + 0.2) - 0.02
    _, out = _plant(faults.class_imbalance(0.05))
    assert all(df["y"].mean() == pytest.approx(0.05, abs=0.01) for df in out.values())


def test_spelling_variants_are_the_same_values_written_otherwise():
    f, out = _plant(faults.spelling_variants("region", 0.25))
    a, b = f["current"]["region"], out["current"]["region"]
    assert (a != b).mean() == pytest.approx(0.25)
    canon = b.str.strip().str.lower().str.replace("_", " ")
    assert (canon == a).all()


def test_local_time_stamped_as_utc_is_off_by_the_offset():
    f, out = _plant(faults.tz_local_as_utc("at", "America/Chicago"))
    lag = (f["current"]["at"] - out["current"]["at"]).dt.total_seconds() / 3600
    assert set(lag) == {5.0}  # June: CDT, UTC-5
    assert out["current"]["at"].dtype == f["current"]["at"].dtype


def test_planting_is_deterministic():
    p = faults.leak_flag("flag", 0.95)
    a = p.apply(_frames(), np.random.default_rng(3), "y")
    b = p.apply(_frames(), np.random.default_rng(3), "y")
    pd.testing.assert_frame_equal(a["train"], b["train"])
    assert (a["train"]["flag"] == a["train"]["y"]).mean() == pytest.approx(0.95, abs=0.05)


def test_written_params_load_in_glassbox(tmp_path):
    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "build.py")  # not pypa's `build`
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    from tasks.params import load_params

    ds = sources.Dataset("tiny", "test", "tiny", "y", lambda: pd.DataFrame(), "y", timestamp="at")
    folder = build.write_scenario(tmp_path, ds, "time1", _frames(), faults.overfitting())
    params = load_params(folder / "params.yaml")
    assert params.inputs.timestamp == "at" and not params.snapshot.demo and "snapshot" not in params.gates
    assert params.model.estimator == "sklearn.tree.DecisionTreeClassifier"
    assert params.inputs.pins["train"] == build.md5(folder / "train.parquet")


def _runner():
    spec = importlib.util.spec_from_file_location("corpus_runner", CORPUS.parent / "corpus.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    return runner


def _report(status: str, *findings: tuple[str, str, str]) -> dict:
    """A report.json as `glassbox run` writes it: findings (stage, check, severity) and the first failure."""
    stages = {}
    for stage, check, severity in findings:
        stages.setdefault(stage, []).append({"check": check, "severity": severity, "message": f"{check} says"})
    first = next(({"stage": s, "check": c} for s, c, sev in findings if sev == "fail"), None)
    return {
        "status": status,
        "first_failure": first,
        "error": None,
        "stages": [{"name": s, "findings": f} for s, f in stages.items()],
    }


_FAULT = {
    "scenario": "d.random1.label_noise",
    "dataset": "d",
    "fault": "label_noise",
    "row": "label_noise",
    "layer": "data",
    "checks": ["label_noise"],
    "severity": "fail",
}
_CLEAN = _FAULT | {"scenario": "d.random1.clean", "fault": "clean", "row": None, "layer": None, "checks": []}


def test_runner_scores_right_kind_and_first_failure_from_the_report():
    r = _runner()
    caught = r.score(_FAULT, _report("failed", ("data", "label_noise", "fail")), 1)
    assert caught["right_kind"] and caught["first_right"] and caught["first_failure"] == "data / label_noise"
    symptom = r.score(
        _FAULT, _report("failed", ("data", "label_noise", "warn"), ("training", "overfitting", "fail")), 1
    )
    assert not symptom["right_kind"] and not symptom["first_right"]  # a warn is not the fail the row asks for
    elsewhere = r.score(
        _FAULT, _report("failed", ("data", "schema_change", "fail"), ("data", "label_noise", "fail")), 1
    )
    assert elsewhere["right_kind"] and not elsewhere["first_right"]
    quiet = r.score(_CLEAN, _report("warned", ("data", "covariate_shift", "warn")), 0)
    assert quiet["status"] == "warned" and quiet["noted"] == ["warn data/covariate_shift: covariate_shift says"]


def test_runner_reports_a_hang_as_such_and_the_closing_line_counts_it():
    r = _runner()
    rows = [
        r.score(_CLEAN, None, "hung") | {"time_s": 1.0},
        r.score(_CLEAN, _report("passed"), 0) | {"time_s": 1.0},
        r.score(_FAULT, _report("failed", ("data", "label_noise", "fail")), 1) | {"time_s": 1.0},
        r.score(_FAULT, None, "timeout") | {"time_s": 1.0},
    ]
    assert rows[0]["status"] == "hung" and rows[0]["right_kind"] is None and rows[3]["status"] == "timeout"
    assert r.summary(rows) == (
        "clean runs failed: 1/2; faults caught by a finding of the right kind: 1/2; first failure in the planted "
        "layer with the right kind: 1/2; runs without a verdict: 2 (hung, timeout)"
    )
    todo = "\n".join(r.todo(rows))
    assert "(no verdict)" in todo and "d.random1.clean: hung" in todo and "d.random1.label_noise: timeout" in todo


def test_runner_kills_a_silent_run_and_says_hung(tmp_path):
    r = _runner()
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "params.yaml").write_text("{}\n")
    (folder / "stale.db").write_text("left by an earlier run\n")
    cmd = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]
    code, _ = r.run_scenario(folder, cmd, None, timeout_s=60, stall_s=1)
    assert code == "hung"  # killed for silence, before the 60 s timeout (that would read "timeout"): no clock judged
    assert not (folder / "stale.db").exists() and (folder / "params.yaml").exists()
    # the project is a git repository of its own, its files committed: glassbox's provenance is the project's
    tracked = subprocess.run(["git", "ls-files"], cwd=folder, capture_output=True, text=True, check=True).stdout
    assert tracked.split() == ["params.yaml"]
    assert "no output for --stall" in (folder / "glassbox.log").read_text()


def test_runner_tells_a_fault_not_reached_from_a_fault_missed():
    r = _runner()
    overlap = _FAULT | {"scenario": "d.random1.split_overlap", "layer": "training", "checks": ["split_overlap"]}
    stopped = _report("failed", ("data", "feature_leakage", "fail"))
    stopped["stages"].append({"name": "training", "verdict": "skipped", "findings": []})
    ran = _report("failed", ("data", "feature_leakage", "warn"), ("training", "overfitting", "fail"))
    rows = [r.score(overlap, stopped, 1) | {"time_s": 1.0}, r.score(_FAULT, ran, 1) | {"time_s": 1.0}]
    todo = "\n".join(r.todo(rows))
    assert "d.random1.split_overlap: not reached: the run stopped earlier, at data / feature_leakage" in todo
    assert "d.random1.label_noise: MISSED (first failure training / overfitting)" in todo
