"""The training layer's split checks: split_overlap (by key and by row hash) and temporal_overlap."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd

from tasks.params import TrainingParams
from tasks.result import Finding, Severity
from tasks.training import split_overlap, temporal_overlap
from tasks.training.inputs import TrainingInputs
from tasks.training.split_overlap import row_hashes

P = TrainingParams()


def frame(n: int, start: str, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "ts": pd.date_range(start, periods=n, freq="h", tz="UTC"),
            "x": rng.normal(size=n),
            "c": rng.choice(["a", "b", "c"], size=n),
            "y": rng.integers(0, 2, size=n),
        }
    )


def inputs(train: pd.DataFrame, test: pd.DataFrame, key: str | None = "id", timestamp: str | None = "ts"):
    """Only the frames and roles matter to the split checks; the fit fields are placeholders."""
    return TrainingInputs(
        train=train,
        test=test,
        features=["x", "c"],
        target="y",
        y=np.zeros(len(train)),
        fit_rows=np.arange(len(train)),
        validation_rows=np.arange(0),
        metric="roc_auc",
        train_score=0.7,
        validation_score=0.7,
        validation_predictions=(np.zeros(0), np.zeros(0)),
        key=key,
        timestamp=timestamp,
    )


def run(check: ModuleType, x: TrainingInputs) -> Finding:
    p = getattr(P, check.__name__.rsplit(".", 1)[-1])
    [finding] = check.judge(check.measure(x, p), p)
    return finding


def overlap(train: pd.DataFrame, test: pd.DataFrame, key: str | None = "id") -> Finding:
    return run(split_overlap, inputs(train, test, key=key))


def test_disjoint_splits_are_quiet():
    """Different rows in training and test: split_overlap is info with zero counts."""
    f = overlap(frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te"))
    assert f.severity is Severity.info and f.evidence["by_key"] == 0 and f.evidence["by_row_hash"] == 0


def test_test_rows_copied_into_training_fail_by_key_and_by_row():
    """A tenth of the test rows appended to training: fail, counted both by key and by full-row hash."""
    train, test = frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te")
    leaked = pd.concat([train, test.iloc[:10]], ignore_index=True)
    f = overlap(leaked, test)
    assert f.severity is Severity.fail
    assert f.evidence["by_key"] == 10 and f.evidence["by_row_hash"] == 10
    assert "10 of 100" in f.message and "'id'" in f.message and f.evidence["examples"][0] == "te0"
    assert f.columns == ["id"]


def test_copies_with_regenerated_ids_fail_by_row_hash():
    """Copied test rows whose ids were regenerated still fail: the feature+target hash matches."""
    train, test = frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te")
    copies = test.iloc[:10].assign(id=[f"new{i}" for i in range(10)])
    f = overlap(pd.concat([train, copies], ignore_index=True), test)
    assert f.severity is Severity.fail and f.evidence["by_key"] == 0 and f.evidence["by_row_hash"] == 10


def test_natural_repeats_of_low_cardinality_rows_are_quiet():
    """Columns with few values repeat by nature: test rows identical to training rows at the same rate as
    training repeats itself are not an overlap (no key shared)."""
    rng = np.random.default_rng(0)

    def small(n: int, prefix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [f"{prefix}{i}" for i in range(n)],
                "x": rng.integers(0, 3, size=n).astype(float),
                "c": rng.choice(["a", "b"], size=n),
                "y": rng.integers(0, 2, size=n),
            }
        )

    f = overlap(small(2000, "tr"), small(400, "te"))
    assert f.evidence["by_row_hash_share"] > 0.9 and f.evidence["training_twin_share"] > 0.9
    assert f.severity is Severity.info


def mixed_repeats(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows of which about an eighth repeat by nature (a few common profiles), the rest unique: a wide coded
    table like ISLR's Caravan, where a small test set's match share wanders around training's twin share."""
    common = rng.random(n) < 0.15
    profile = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "x": np.where(common, profile, rng.integers(100, 10**9, n)).astype(float),
            "c": np.where(common, "p", rng.choice(list("abcdefgh"), n)),
            "y": np.where(common, profile % 2, rng.integers(0, 2, n)),
        }
    )


def test_natural_repeats_within_sampling_error_are_quiet_and_a_copy_still_fails():
    """With no key, a test set of 1,200 rows matches training a point or two above training's own twin share
    by chance (binomial error about 1 point): quiet across ten draws; 10% of the test rows copied into training
    stand out beyond that error and fail."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        train, test = mixed_repeats(3500, rng), mixed_repeats(1200, rng)
        clean = overlap(train, test, key=None)
        assert clean.severity is Severity.info, clean.message
        assert 0.1 < clean.evidence["training_twin_share"] < 0.2 and clean.evidence["excess_noise"] > 0.005
        leaked = overlap(pd.concat([train, test.iloc[:120]], ignore_index=True), test, key=None)
        assert leaked.severity is Severity.fail, leaked.message


def test_a_leak_hidden_in_natural_repetition_says_how_large_it_could_be():
    """Rows that almost all repeat by nature leave no room to see a copy without a key: the finding says how
    large a leak could hide there instead of passing it silently."""
    rng = np.random.default_rng(0)
    train, test = mixed_repeats(3500, rng).assign(x=1.0, c="p"), mixed_repeats(1200, rng).assign(x=1.0, c="p")
    f = overlap(train.iloc[:-30], test, key=None)
    assert f.severity is Severity.info and "would hide in that repetition" in f.message
    assert f.evidence["hidden_leak_share"] == 1.0


def test_row_hash_ignores_int_versus_float_storage():
    """The same value stored as int in one file and float in the other hashes alike."""
    a = pd.DataFrame({"x": [1, 2], "c": ["a", None]})
    b = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", None]})
    assert row_hashes(a, ["x", "c"]).tolist() == row_hashes(b, ["x", "c"]).tolist()


def test_no_key_still_checks_rows():
    """Without inputs.id the overlap is measured by row hash only, and says there was no key."""
    train, test = frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te")
    f = overlap(pd.concat([train, test.iloc[:20]], ignore_index=True), test, key=None)
    assert f.severity is Severity.fail and "no key" in f.message


def test_split_metrics_come_from_the_measurement():
    """The shares are the measurement's metrics (the runner prefixes them split_overlap.)."""
    train, test = frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te")
    m = split_overlap.measure(inputs(pd.concat([train, test.iloc[:10]]), test), P.split_overlap)
    assert m.metrics() == {"by_key_share": 0.1, "row_excess": 0.1}


def test_test_set_before_the_end_of_training_fails_with_the_window():
    """Training running past the start of the test period: fail, with the share and the overlap window."""
    train = frame(500, "2024-01-01", 0, "tr")  # to 2024-01-21 19:00
    test = frame(100, "2024-01-18", 1, "te")  # 2024-01-18 00:00 to 2024-01-22 03:00
    f = run(temporal_overlap, inputs(train, test))
    assert f.severity is Severity.fail
    assert f.evidence["test_rows_earlier"] == 91 and f.evidence["window_hours"] == 91.0
    assert "2024-01-18 00:00:00+00:00 to 2024-01-21 19:00:00+00:00" in f.message
    assert f.evidence["training_rows_in_window"] == 92
    assert temporal_overlap.measure(inputs(train, test), P.temporal_overlap).metrics() == {"share": 0.91}


def test_test_set_after_training_is_quiet():
    """A test period that starts after the latest training row: info, with the gap."""
    f = run(temporal_overlap, inputs(frame(500, "2024-01-01", 0, "tr"), frame(100, "2024-03-01", 1, "te")))
    assert f.severity is Severity.info and f.evidence["value"] == 0.0 and "no overlap" in f.message


def test_naive_and_aware_timestamps_compare_as_utc():
    """A naive test timestamp column is read as UTC, so a disjoint test set stays quiet."""
    test = frame(100, "2024-03-01", 1, "te")
    test["ts"] = test["ts"].dt.tz_localize(None)
    assert run(temporal_overlap, inputs(frame(500, "2024-01-01", 0, "tr"), test)).severity is Severity.info


def test_without_timestamp_the_temporal_check_says_it_did_not_run():
    """No inputs.timestamp: an info finding says the order was not checked, and there is no metric."""
    x = inputs(frame(50, "2024-01-01", 0, "tr"), frame(10, "2024-03-01", 1, "te"), timestamp=None)
    f = run(temporal_overlap, x)
    assert f.severity is Severity.info and "not checked" in f.message
    assert temporal_overlap.measure(x, P.temporal_overlap).metrics() == {}


def test_unreadable_timestamps_are_said_not_passed():
    """Timestamps that do not parse leave the order unknown: info, and it says so."""
    train = frame(50, "2024-01-01", 0, "tr").assign(ts="not a time")
    f = run(temporal_overlap, inputs(train, frame(10, "2024-03-01", 1, "te")))
    assert f.severity is Severity.info and "unknown" in f.message
