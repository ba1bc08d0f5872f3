"""The features stage end to end on tiny parquet files: artifacts, manifest, clean data quiet, a planted
fault named first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.context import StageContext
from tasks.features.parity import load_preprocessor
from tasks.features.stage import MANIFEST, PREPROCESSOR, run
from tasks.features.vocabulary import vocabulary_fingerprint
from tasks.params import Params
from tasks.provenance import Provenance
from tasks.result import Severity, StageOutput

WORDS = np.array(["Newark Liberty", "La Guardia", "Chicago Ohare", "Atlanta Hartsfield", "Miami"])


def frame(n: int, seed: int) -> pd.DataFrame:
    """One generating process for every split (UTC stamps, local hour feature 5 h behind)."""
    rng = np.random.default_rng(seed)
    hour = rng.choice([6, 8, 9, 17, 18], size=n)
    at = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 30, n) * 24 + hour + 5, unit="h")
    return pd.DataFrame(
        {
            "at": at,
            "hour": hour,
            "kind": rng.choice(["a", "b", "c"], size=n),
            "route": [f"from {a} to {b}" for a, b in zip(rng.choice(WORDS, n), rng.choice(WORDS, n), strict=True)],
            "km": rng.uniform(100, 900, n),
            "y": rng.integers(0, 2, n),
        }
    )


def run_stage(
    tmp_path: Path,
    current: pd.DataFrame | None = None,
    train: pd.DataFrame | None = None,
    user_checks: list[str] | None = None,
) -> StageOutput:
    (frame(600, 0) if train is None else train).to_parquet(tmp_path / "train.parquet", index=False)
    frame(200, 1).to_parquet(tmp_path / "test.parquet", index=False)
    (frame(200, 2) if current is None else current).to_parquet(tmp_path / "current.parquet", index=False)
    params = Params.model_validate(
        {
            "inputs": {
                **{k: str(tmp_path / f"{k}.parquet") for k in ("train", "test", "current")},
                "target": "y",
                "timestamp": "at",
                "features": ["hour", "kind", "route", "km"],
                "text": ["route"],
            },
            "model": {"estimator": "sklearn.linear_model.LogisticRegression"},
            "features": {"timezone_shift": {"min_rows": 100}},
            "checks": {"features": user_checks or []},
        }
    )
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    ctx = StageContext("features", params, tmp_path / "out", "run-1", prov)
    ctx.dir.mkdir(parents=True, exist_ok=True)
    return run(ctx)


def test_clean_data_ships_the_preprocessor_and_stays_quiet(tmp_path):
    """Clean splits: no warn or fail; the manifest names the text column, timestamps, hour feature and the
    vocabulary fingerprint the shipped preprocessor carries."""
    out = run_stage(tmp_path)
    assert [f.message for f in out.findings if f.severity is not Severity.info] == []
    assert set(out.artifacts) == {MANIFEST, PREPROCESSOR}
    manifest = json.loads((tmp_path / "out" / "features" / MANIFEST).read_text())
    assert manifest["text"] == ["route"] and manifest["categorical"] == ["kind"]
    assert manifest["timestamps"] == ["at"] and manifest["hour_of_day_candidates"] == ["hour"]
    shipped = load_preprocessor(tmp_path / "out" / "features" / PREPROCESSOR)
    assert manifest["vocabulary_sha256"] == vocabulary_fingerprint(shipped)
    checks = {f.check for f in out.findings}
    assert {"preprocessing_parity", "vocab_mismatch", "timezone_shift"} <= checks
    assert out.metrics["vocab_mismatch.current.max_excess_oov_share"] == 0.0
    assert all(f"{c}.seconds" in out.metrics for c in checks - {"check_error"})


def test_a_missing_scaler_is_the_first_failure(tmp_path):
    """Training standardized, serving raw: normalization_skew fails and comes before its out_of_range symptom."""
    train = frame(600, 0)
    train["km"] = (train["km"] - train["km"].mean()) / train["km"].std(ddof=0)
    out = run_stage(tmp_path, train=train)
    fails = [f.check for f in out.findings if f.severity is Severity.fail and "current" in f.message]
    assert fails[0] == "normalization_skew" and "out_of_range" in fails


def test_planted_serving_faults_fail_in_this_stage(tmp_path):
    """Shifted timestamps and route codes at serving: timezone_shift and vocab_mismatch fail."""
    current = frame(200, 2)
    current["at"] = current["at"] + pd.Timedelta(hours=4)
    current["route"] = "from EWR to ORD"
    out = run_stage(tmp_path, current=current)
    failed = {f.check for f in out.findings if f.severity is Severity.fail}
    assert failed == {"timezone_shift", "vocab_mismatch"}


def test_a_raising_user_check_fails_the_gate_and_keeps_every_other_finding(tmp_path, monkeypatch):
    """A user's check that raises becomes a check_error fail with its traceback; the built-in checks still
    report, and the stage's verdict is a fail that stops the run."""
    from tasks.gates import stop_reason
    from tasks.result import StageResult, verdict_of

    (tmp_path / "raising_checks.py").write_text(
        "from tasks import checks\n"
        "def measure(x, p):\n"
        "    return checks.Measurement() if x.batches['current'].empty else 1 / 0\n"
        "def judge(m, p):\n"
        "    return []\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    clean = run_stage(tmp_path)
    out = run_stage(tmp_path, user_checks=["raising_checks"])
    [error] = [f for f in out.findings if f.check == "check_error"]
    assert error.severity is Severity.fail and "raising_checks" in error.message
    assert "ZeroDivisionError" in error.message
    assert (tmp_path / "out" / "features" / error.evidence["traceback"]).is_file()
    assert [f for f in out.findings if f.check != "check_error"] == clean.findings
    result = StageResult(name="features", verdict=verdict_of(out.findings), findings=out.findings)
    params = Params.model_validate({"inputs": {"train": "a", "test": "b", "current": "c", "target": "y"}})
    assert stop_reason(result, params) == "stopped by failing gate 'features' (check_error)"
