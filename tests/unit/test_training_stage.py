"""The training stage end to end on tiny data in a private MLflow store: the checks run on the inputs record
it prepares, their numbers are the stage's metrics, and the candidate is logged whatever they say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tasks import tracking
from tasks.context import StageContext
from tasks.features.parity import as_matrix, fingerprinted_rows, matrix_sha256, save_preprocessor
from tasks.features.stage import MANIFEST
from tasks.modeling import ModelRef, build_model
from tasks.params import Inputs, ModelSpec, Params, Tracking
from tasks.provenance import Provenance
from tasks.result import Finding, Severity
from tasks.training.checks import CHECKS
from tasks.training.stage import run

FEATURES = ["x1", "x2", "c"]
SPEC = ModelSpec(estimator="sklearn.linear_model.LogisticRegression")


def frame(n: int, seed: int, start: str, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    c = rng.choice(["a", "b"], size=n)
    y = (x1 + 0.5 * (c == "a") + rng.normal(scale=0.8, size=n) > 0.3).astype(int)
    ts = pd.date_range(start, periods=n, freq="h", tz="UTC")
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n)], "ts": ts, "x1": x1, "x2": x2, "c": c, "y": y})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("training")
    previous = mlflow.get_tracking_uri()
    track = Tracking(
        tracking_uri=f"sqlite:///{root}/mlflow.db",
        artifact_root=root / "artifacts",
        experiment="t",
        registered_model="m",
    )
    tracking.configure(track)
    yield {"root": root, "tracking": track}
    mlflow.set_tracking_uri(previous)


def run_stage(
    store: dict,
    name: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    validated: str | None = None,
    drawn: dict | None = None,
):
    """The features stage's outputs written as it writes them (a fitted preprocessor and its fingerprint),
    then the training stage in its own MLflow run."""
    root: Path = store["root"] / name
    (root / "features").mkdir(parents=True)
    (root / "training").mkdir()
    train.to_parquet(root / "train.parquet", index=False)
    test.to_parquet(root / "test.parquet", index=False)
    pre = clone(build_model(SPEC, ["c"], ["x1", "x2"])[:-1]).fit(train[FEATURES], train["y"])
    save_preprocessor(pre, root / "features" / "preprocessor.skops")
    manifest = {
        "features": FEATURES,
        "categorical": ["c"],
        "numeric": ["x1", "x2"],
        "text": [],
        "preprocessor": "preprocessor.skops",
    }
    if drawn:
        manifest["fingerprint_rows"] = drawn
    fingerprinted = train[FEATURES].iloc[fingerprinted_rows(len(train), manifest)]
    manifest["sha256"] = validated or matrix_sha256(as_matrix(pre.transform(fingerprinted)))
    (root / "features" / MANIFEST).write_text(json.dumps(manifest))
    inputs = Inputs(
        train=root / "train.parquet",
        test=root / "test.parquet",
        current=root / "test.parquet",
        target="y",
        timestamp="ts",
        id="id",
        features=FEATURES,
    )
    params = Params(inputs=inputs, model=SPEC, tracking=store["tracking"])
    prov = Provenance(git_commit=None, git_dirty=None, data_hashes={}, params_sha256="0", packages={})
    tracking.configure(params.tracking)
    with mlflow.start_run(run_name=name) as r:
        ctx = StageContext("training", params, root, name, prov, r.info.run_id)
        output = run(ctx)
    return output, ctx.dir


def by_check(findings: list[Finding], check: str) -> Finding:
    [finding] = [f for f in findings if f.check == check]
    return finding


def test_clean_training_runs_every_check_and_reports_their_numbers(store: dict) -> None:
    """Disjoint, later test set and a deterministic model: every check reports under its name, in order,
    none fails, and the checks' numbers are the stage's metrics, prefixed by the check's name."""
    output, folder = run_stage(store, "clean", frame(600, 1, "2024-01-01", "tr"), frame(200, 2, "2024-03-01", "te"))
    assert [f.check for f in output.findings] == [c.name for c in CHECKS]
    assert not [f for f in output.findings if f.severity is Severity.fail], output.findings
    m = output.metrics
    assert m["overfitting.train_val_gap"] == pytest.approx(m["train_roc_auc"] - m["validation_roc_auc"])
    assert m["split_overlap.by_key_share"] == 0.0 and m["temporal_overlap.share"] == 0.0
    assert m["nondeterministic_training.max_abs_diff"] == 0.0 and m["features_match.matches"] == 1.0
    assert m["fit_rows"] == 480 and m["validation_rows"] == 120
    assert ModelRef.read(folder).features == FEATURES


def test_leaked_test_rows_fail_and_the_candidate_is_still_logged(store: dict) -> None:
    """Test rows copied into training fail split_overlap; the candidate is logged all the same (its evidence)."""
    train, test = frame(600, 1, "2024-01-01", "tr"), frame(200, 2, "2024-03-01", "te")
    output, folder = run_stage(store, "leak", pd.concat([train, test.iloc[:40]], ignore_index=True), test)
    assert output.findings[0].check == "split_overlap" and output.findings[0].severity is Severity.fail
    assert by_check(output.findings, "temporal_overlap").severity is Severity.fail  # the copies are later rows
    ref = ModelRef.read(folder)
    assert mlflow.sklearn.load_model(ref.model_uri) is not None


def test_features_other_than_the_validated_ones_fail(store: dict) -> None:
    """A fingerprint in features.json that the shipped preprocessing does not reproduce fails features_match."""
    output, _ = run_stage(
        store, "mismatch", frame(600, 1, "2024-01-01", "tr"), frame(200, 2, "2024-03-01", "te"), validated="0" * 64
    )
    assert by_check(output.findings, "features_match").severity is Severity.fail
    assert output.metrics["features_match.matches"] == 0.0


def test_the_fingerprint_of_a_sample_is_matched_on_the_same_rows(store: dict) -> None:
    """On a large table the features layer fingerprints a seeded sample of rows: training fingerprints the same
    rows of the matrix it fits on and says so; the whole matrix's fingerprint is another one."""
    train, test = frame(600, 1, "2024-01-01", "tr"), frame(200, 2, "2024-03-01", "te")
    output, _ = run_stage(store, "sampled", train, test, drawn={"rows": 250, "seed": 3})
    found = by_check(output.findings, "features_match")
    assert found.severity is Severity.info and "a seeded sample of the 600 training rows" in found.message
    assert "250 x" in found.message and output.metrics["features_match.matches"] == 1.0
    pre = clone(build_model(SPEC, ["c"], ["x1", "x2"])[:-1]).fit(train[FEATURES], train["y"])
    whole = matrix_sha256(as_matrix(pre.transform(train[FEATURES])))
    output, _ = run_stage(store, "sampled-whole", train, test, validated=whole, drawn={"rows": 250, "seed": 3})
    assert by_check(output.findings, "features_match").severity is Severity.fail
