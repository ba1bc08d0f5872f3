"""Feature leakage: a feature too predictive alone, an identifier used as a feature, a datetime from after the
prediction moment; each firing on a planted leak and quiet on honest features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.checks import CheckRun
from tasks.data import feature_leakage
from tasks.data.feature_leakage import bin_codes, fold_ids, single_feature_auc
from tasks.result import Severity
from tests.checking import checked
from tests.data_inputs import data_inputs


def honest(rows: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Features that explain the label weakly, as real ones do."""
    rng = np.random.default_rng(seed)
    hour = rng.integers(5, 24, rows)
    kind = rng.choice(["a", "b", "c"], rows)
    at = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10_000, rows), unit="h")
    logit = -1.5 + 0.08 * (hour - 14) + np.where(kind == "a", 0.4, 0.0)
    y = pd.Series((rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64"), name="y")
    df = pd.DataFrame({"hour": hour, "kind": kind, "at": at, "y": y})
    return df, y


def run(df: pd.DataFrame, y: pd.Series | None, features: list[str]) -> CheckRun:
    """The check (default limits: AUC warn 0.75 / fail 0.85, identifier warn 0.9, after-timestamp warn 0.5 /
    fail 0.9) on the training frame."""
    train = df.assign(y=y if y is not None else "not a label")
    return checked(feature_leakage, data_inputs(train, features=features, timestamp="at"))


def test_honest_features_are_quiet() -> None:
    """Weak features give one info line naming the strongest, and their AUCs as metrics."""
    df, y = honest()
    result = run(df, y, ["hour", "kind"])
    assert [f.severity for f in result.findings] == [Severity.info]
    assert "strongest" in result.findings[0].message
    aucs = result.measurements["feature_leakage"].aucs
    assert 0.5 < aucs["hour"] < 0.75 and result.metrics["feature_leakage.auc_max"] == max(aucs.values())


def test_a_feature_that_encodes_the_target_fails_with_its_auc() -> None:
    """A delay measured after the fact (the label plus noise) alone predicts it: a fail naming the column
    and its cross-validated AUC."""
    df, y = honest()
    rng = np.random.default_rng(1)
    df["delay_after"] = y * 30 + rng.normal(0, 8, len(df))
    result = run(df, y, ["hour", "kind", "delay_after"])
    aucs = result.measurements["feature_leakage"].aucs
    failed = [f for f in result.findings if f.severity is Severity.fail]
    assert [f.columns for f in failed] == [["delay_after"]]
    assert "`delay_after` alone predicts `y` with AUC 0.9" in failed[0].message
    assert aucs["delay_after"] > 0.95


def test_an_identifier_used_as_a_feature_warns() -> None:
    """A row number among the features: every value distinct, a warning naming it; categories are not."""
    df, y = honest()
    df["row_number"] = np.arange(len(df))
    flagged = [f for f in run(df, y, ["hour", "kind", "row_number"]).findings if f.evidence.get("kind") == "identifier"]
    assert [(f.severity, f.columns) for f in flagged] == [(Severity.warn, ["row_number"])]
    assert "identifier" in flagged[0].message


def test_a_datetime_after_the_prediction_moment_fails() -> None:
    """An arrival time two hours after the timestamp in every row is known only afterwards; a booking time
    before it is fine."""
    df, y = honest()
    df["arrived_at"] = df["at"] + pd.Timedelta(hours=2)
    df["booked_at"] = df["at"] - pd.Timedelta(days=3)
    after = [
        f
        for f in run(df, y, ["hour", "arrived_at", "booked_at"]).findings
        if f.evidence.get("kind") == "after_timestamp"
    ]
    assert [(f.severity, f.columns) for f in after] == [(Severity.fail, ["arrived_at"])]


def test_without_binary_labels_predictive_power_is_not_measured() -> None:
    """A target that is not 0/1: said, not passed."""
    df, _ = honest()
    result = run(df, None, ["hour"])
    assert result.measurements["feature_leakage"].aucs == {}
    assert "not measured" in result.findings[0].message


def test_single_feature_auc_is_cross_validated() -> None:
    """A copy of the label scores 1, a value unique to each row (seen in no other fold) scores 0.5."""
    y = np.array([0, 1] * 500)
    folds = fold_ids(len(y), 0)
    assert single_feature_auc(bin_codes(pd.Series(y * 1.0)), y, folds) == 1.0
    unique = bin_codes(pd.Series([f"id{k}" for k in range(len(y))]))
    assert abs(single_feature_auc(unique, y, folds) - 0.5) < 0.02
