from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.demo.catalog import FAULTS, list_faults
from tasks.demo.plants import Frames

CONTRACT = {
    "covariate_shift": ("data", "covariate_shift"),
    "label_noise": ("data", "label_noise"),
    "feature_leakage": ("data", "feature_leakage"),
    "schema_change": ("data", "schema_change"),
    "missing_spike": ("data", "missing_spike"),
    "duplicate_rows": ("data", "duplicate_rows"),
    "split_overlap": ("training", "split_overlap"),
    "label_shift": ("data", "label_shift"),
    "inconsistent_values": ("data", "inconsistent_values"),
    "target_logic_changed": ("data", "target_logic_changed"),
    "wrong_data_version": ("data", "wrong_data_version"),
    "normalization_skew": ("features", "normalization_skew"),
    "vocab_mismatch": ("features", "vocab_mismatch"),
    "timezone_shift": ("features", "timezone_shift"),
    "unseen_categories": ("features", "unseen_categories"),
    "out_of_range": ("features", "out_of_range"),
    "nondeterministic_training": ("training", "nondeterministic_training"),
    "unstable_training": ("training", "unstable_training"),
    "overfitting": ("training", "overfitting"),
    "class_imbalance": ("training", "class_imbalance"),
    "loss_not_decreasing": ("training", "loss_not_decreasing"),
    "wrong_metric": ("evaluation", "wrong_metric"),
    "bad_threshold": ("evaluation", "bad_threshold"),
    "test_set_changed": ("evaluation", "test_set_changed"),
    "spurious_feature": ("evaluation", "spurious_feature"),
    "challenger_worse": ("evaluation", "challenger_worse"),
    "serving_prediction_mismatch": ("serving", "serving_prediction_mismatch"),
    "serving_nan": ("serving", "serving_nan"),
    "serving_type_mismatch": ("serving", "serving_type_mismatch"),
    "wrong_model_deployed": ("deployment", "wrong_model_deployed"),
    "untagged_deployment": ("deployment", "untagged_deployment"),
    "broken_rollback": ("deployment", "broken_rollback"),
    "latency_regression": ("deployment", "latency_regression"),
    "prediction_drift": ("monitoring", "prediction_drift"),
    "concept_drift": ("monitoring", "concept_drift"),
    "confidence_collapse": ("monitoring", "confidence_collapse"),
}
# FAULTS.md rows whose finding is a warning
WARN_ONLY = {"unstable_training", "class_imbalance", "wrong_metric", "confidence_collapse"}


def demo_like(n: int, start: str, seed: int, prefix: str, freq: str = "h") -> pd.DataFrame:
    """A few rows with the demo's columns and dtypes."""
    rng = np.random.default_rng(seed)
    carrier = rng.choice(["UA", "AA", "B6"], size=n)
    origin = rng.choice(["EWR", "JFK", "LGA"], size=n)
    dest = rng.choice(["ORD", "LAX", "ATL", "BOS"], size=n)
    return pd.DataFrame(
        {
            "flight_id": [f"{prefix}{i}" for i in range(n)],
            "scheduled_at": pd.date_range(start, periods=n, freq=freq, tz="UTC"),
            "carrier": carrier,
            "origin": origin,
            "dest": dest,
            "route": [f"{c} Airlines from {o} Intl to {d} Intl" for c, o, d in zip(carrier, origin, dest, strict=True)],
            "distance": rng.integers(100, 3000, size=n),
            "sched_hour": rng.integers(5, 23, size=n),
            "month": np.ones(n, dtype="int64"),
            "weekday": rng.integers(0, 7, size=n),
            **{c: rng.normal(50, 10, size=n) for c in ("temp", "dewp", "humid", "wind_dir", "wind_speed")},
            **{c: rng.normal(1, 0.1, size=n) for c in ("precip", "pressure", "visib")},
            "late": (rng.random(n) < 0.25).astype("int64"),
        }
    )


@pytest.fixture
def frames() -> Frames:
    return {
        "train": demo_like(400, "2012-10-01", 0, "tr", freq="6h"),
        "test": demo_like(100, "2013-03-01", 1, "te"),
        "current": demo_like(200, "2013-04-01", 2, "cu"),
    }


def test_registry_matches_the_contract_table():
    """The registry holds the faults of the contract, each with its layer, check and severity (warn only where
    FAULTS.md says warn)."""
    assert {f.id: (f.layer, f.check) for f in list_faults()} == CONTRACT
    assert all(f.description and f.planted for f in list_faults())
    assert {f.id for f in list_faults() if f.severity.value == "warn"} <= WARN_ONLY


@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_planting_never_changes_its_input(frames, fault_id):
    """Each planting returns new frames and leaves the clean ones untouched; some frame does change."""
    before = {k: v.copy() for k, v in frames.items()}
    out = FAULTS[fault_id].plant(frames, np.random.default_rng(0))
    assert all(frames[k].equals(before[k]) for k in frames)
    assert set(out) - {"labels"} == set(frames)  # "labels": feedback that arrives after serving (inputs.labels)
    # target_logic_changed relabels only flights the package knows (see its own test); a fault of configuration
    # (params set), of the registry or of the git tree may leave the data as it is
    fault = FAULTS[fault_id]
    of_data = not (fault.params or fault.dropped_features or fault.registry or not fault.committed)
    if fault_id != "target_logic_changed" and of_data:
        assert any(not out[k].equals(frames[k]) for k in frames)


def plant(fault_id: str, frames: Frames) -> Frames:
    return FAULTS[fault_id].plant(frames, np.random.default_rng(0))


def test_sizes_are_the_stated_ones(frames):
    """Label noise flips 25% of training labels; duplicates add 10% of training rows; a tenth of the test rows
    are copied into training; 30% of a current column goes missing; 5% of current distances turn negative."""
    assert (plant("label_noise", frames)["train"]["late"] != frames["train"]["late"]).mean() == 0.25
    assert len(plant("duplicate_rows", frames)["train"]) == 440
    leaked = plant("split_overlap", frames)["train"]
    assert leaked["flight_id"].isin(frames["test"]["flight_id"]).sum() == 10
    assert leaked["scheduled_at"].is_monotonic_increasing
    assert plant("missing_spike", frames)["current"]["dewp"].isna().mean() == 0.30
    assert (plant("out_of_range", frames)["current"]["distance"] < 0).mean() == 0.05


def test_label_shift_doubles_the_positive_rate_without_repeating_rows(frames):
    """The current batch keeps its positives and drops negatives until its positive rate is twice training's."""
    cur = plant("label_shift", frames)["current"]
    assert abs(cur["late"].mean() - 2 * frames["train"]["late"].mean()) < 0.01
    assert cur["flight_id"].is_unique and cur["late"].sum() == frames["current"]["late"].sum()


def test_serving_side_faults_touch_only_the_current_batch(frames):
    """Shift, respelling, new categories, text from codes and the timestamp offset change `current` only."""
    for fid in ("covariate_shift", "inconsistent_values", "unseen_categories", "vocab_mismatch", "timezone_shift"):
        out = plant(fid, frames)
        assert out["train"].equals(frames["train"]) and out["test"].equals(frames["test"]), fid
    cur = plant("timezone_shift", frames)["current"]
    offset = cur["scheduled_at"] - frames["current"]["scheduled_at"]
    assert set(offset.dt.total_seconds() / 3600) <= {-4.0, -5.0} and str(cur["scheduled_at"].dt.tz) == "UTC"
    spelled = plant("inconsistent_values", frames)["current"]["carrier"]
    assert (
        set(spelled.str.strip().str.upper()) <= {"UA", "AA", "B6"} and (spelled != frames["current"]["carrier"]).any()
    )
    new = plant("unseen_categories", frames)["current"]
    assert (~new["dest"].isin(frames["train"]["dest"])).mean() == 0.20


def test_schema_and_scaling_faults(frames):
    """The schema change makes current `distance` text; the scaling fault standardizes training `temp` only
    on the training side."""
    assert pd.api.types.is_string_dtype(plant("schema_change", frames)["current"]["distance"])
    skewed = plant("normalization_skew", frames)
    assert abs(skewed["train"]["temp"].mean()) < 1e-9 and abs(skewed["train"]["temp"].std() - 1) < 1e-9
    assert skewed["current"]["temp"].equals(frames["current"]["temp"])


def test_wrong_data_version_is_an_older_training_window(frames):
    """The other snapshot ends 30 days before the pinned one."""
    train = plant("wrong_data_version", frames)["train"]
    assert train["scheduled_at"].max() <= frames["train"]["scheduled_at"].max() - pd.Timedelta(days=30)


def test_target_logic_change_relabels_real_flights_with_the_new_threshold(frames):
    """Training flights the package knows are relabelled late when they arrived after schedule at all (> 0 min)."""
    from tasks.demo.plants import OUTCOME_KEY, _flight_outcomes

    real = _flight_outcomes().iloc[:300]
    train = real[OUTCOME_KEY].assign(late=(real["arr_delay"] > 15).astype("int64")).reset_index(drop=True)
    out = plant("target_logic_changed", {**frames, "train": train})["train"]
    assert out["late"].tolist() == (real["arr_delay"] > 0).astype("int64").tolist()
    assert out["late"].mean() > train["late"].mean()
