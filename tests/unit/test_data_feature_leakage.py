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
    """The check (default limits: separation warn 0.6 / fail 0.8, identifier warn 0.9, after-timestamp warn 0.5 /
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


def test_a_feature_that_encodes_the_target_fails_with_its_separation() -> None:
    """A delay measured after the fact (the label plus noise) alone separates the classes: a fail naming the
    column, its separation and its cross-validated AUC."""
    df, y = honest()
    rng = np.random.default_rng(1)
    df["delay_after"] = y * 30 + rng.normal(0, 8, len(df))
    result = run(df, y, ["hour", "kind", "delay_after"])
    aucs = result.measurements["feature_leakage"].aucs
    failed = [f for f in result.findings if f.severity is Severity.fail]
    assert [f.columns for f in failed] == [["delay_after"]]
    assert "`delay_after` alone tells `y` apart at one cut: true-positive minus false-positive rate 0.9" in (
        failed[0].message
    )
    assert aucs["delay_after"] > 0.95 and "AUC 0.9" in failed[0].message


def test_a_strong_honest_feature_warns_and_does_not_fail() -> None:
    """A card balance higher among defaulters by 2.3 standard deviations: AUC about 0.95 alone, as ISLR's
    `balance` has, but the classes overlap over a range: separation about 0.75, a warning naming it, never the
    fail a 0/1 copy of the label with a LOWER AUC gets (right in 94% of rows: separation 0.88)."""
    df, y, rng = labelled(rows=6000, rate=0.3, seed=3)
    df["balance"] = (800 + 400 * (rng.normal(0, 1, len(df)) + 2.3 * y)).round(2)
    df["flag"] = np.where(rng.random(len(y)) < 0.94, y, 1 - y)
    result = run(df, y, ["balance", "flag"])
    m = result.measurements["feature_leakage"]
    assert m.aucs["balance"] > 0.93 and m.aucs["balance"] > m.aucs["flag"]
    assert 0.6 < m.separations["balance"] < 0.8 < m.separations["flag"]
    assert [(f.severity, f.columns) for f in result.findings] == [
        (Severity.fail, ["flag"]),
        (Severity.warn, ["balance"]),
    ]


def test_an_identifier_used_as_a_feature_warns() -> None:
    """A row number among the features: every value distinct, a warning naming it; categories are not."""
    df, y = honest()
    df["row_number"] = np.arange(len(df))
    flagged = [f for f in run(df, y, ["hour", "kind", "row_number"]).findings if f.evidence.get("kind") == "identifier"]
    assert [(f.severity, f.columns) for f in flagged] == [(Severity.warn, ["row_number"])]
    assert "identifier" in flagged[0].message


def test_free_text_distinct_in_every_row_is_not_an_identifier() -> None:
    """A movie title (free text, declared as text: neither category nor number) is distinct by nature and the
    model reads its words: no identifier warning; the same strings as a category would get one."""
    df, y = honest()
    df["title"] = [f"the story of {k}" for k in range(len(df))]
    train = df.assign(y=y)
    as_text = checked(
        feature_leakage,
        data_inputs(train, features=["hour", "kind", "title"], categorical=["kind"], numeric=["hour"]),
    )
    assert not [f for f in as_text.findings if f.evidence.get("kind") == "identifier"]
    as_category = checked(feature_leakage, data_inputs(train, features=["hour", "kind", "title"]))
    assert [f.columns for f in as_category.findings if f.evidence.get("kind") == "identifier"] == [["title"]]


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


def labelled(rows: int = 4000, rate: float = 0.4, seed: int = 2) -> tuple[pd.DataFrame, pd.Series, np.random.Generator]:
    rng = np.random.default_rng(seed)
    y = pd.Series((rng.random(rows) < rate).astype("int64"), name="y")
    df = pd.DataFrame({"at": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(rows), unit="h")})
    return df, y, rng


def test_a_binary_flag_equal_to_the_label_in_95_percent_of_rows_fails() -> None:
    """A 0/1 column set downstream of the outcome, equal to the label in 95% of rows: measured on its two
    values (quantile bins would put every row in one bin and score 0.5), AUC about 0.95: a fail naming it. At
    a rare label (5%) too."""
    for rate in (0.4, 0.05):
        df, y, rng = labelled(rate=rate)
        df["flag"] = np.where(rng.random(len(y)) < 0.95, y, 1 - y)
        result = run(df, y, ["flag"])
        assert result.measurements["feature_leakage"].aucs["flag"] > 0.9
        assert [(f.severity, f.columns) for f in result.findings] == [(Severity.fail, ["flag"])]


def test_a_five_valued_score_that_encodes_the_label_fails() -> None:
    """A 0-4 damage score recorded after the outcome (0 for negatives, 1-4 for positives, 7% of rows at
    random): measured per value, AUC above 0.95, a fail (quantile bins merged 0 with 1: 0.85, a warning)."""
    df, y, rng = labelled()
    told = np.where(y == 1, rng.integers(1, 5, len(y)), 0)
    df["damage"] = np.where(rng.random(len(y)) < 0.93, told, rng.integers(0, 5, len(y))).astype("int64")
    result = run(df, y, ["damage"])
    assert result.measurements["feature_leakage"].aucs["damage"] > 0.95
    assert [(f.severity, f.columns) for f in result.findings] == [(Severity.fail, ["damage"])]


def test_an_amount_known_only_after_the_outcome_is_measured_beyond_its_zeros() -> None:
    """An amount billed only to positives (0 for every other row): the zeros are one value of their own and
    the amounts are binned, so the leak shows (AUC near 1), where quantile bins mixing zeros and small amounts
    blurred it."""
    df, y, rng = labelled(rate=0.06)
    df["billed"] = np.where((y == 1) & (rng.random(len(y)) > 0.05), rng.lognormal(4.8, 0.3, len(y)).round(2), 0.0)
    result = run(df, y, ["billed"])
    assert result.measurements["feature_leakage"].aucs["billed"] > 0.9
    assert result.findings[0].severity is Severity.fail


def test_honest_binary_and_few_valued_features_are_quiet() -> None:
    """A 0/1 feature and a 5-valued one that shift the label rate honestly (a few points per value) are
    measured on their values and stay below the warn limit: one info line."""
    df, _, rng = labelled()
    student = rng.integers(0, 2, len(df))
    kids = rng.integers(0, 5, len(df))
    logit = -0.5 + 0.4 * student - 0.15 * kids
    y = pd.Series((rng.random(len(df)) < 1 / (1 + np.exp(-logit))).astype("int64"), name="y")
    df = df.assign(student=student, kids=kids)
    result = run(df, y, ["student", "kids"])
    aucs = result.measurements["feature_leakage"].aucs
    assert [f.severity for f in result.findings] == [Severity.info]
    assert 0.52 < aucs["student"] < 0.7 and 0.52 < aucs["kids"] < 0.7


def test_bin_codes_keep_few_values_and_heavy_values_apart() -> None:
    """A 0/1 column gets two codes, a 5-valued one five, missing values one more; a many-valued column with a
    heavy zero gets the zero alone and quantile bins over the rest."""
    assert len(np.unique(bin_codes(pd.Series([0, 1] * 50)))) == 2
    assert len(np.unique(bin_codes(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, None] * 20)))) == 6
    amounts = pd.Series([0.0] * 500 + list(np.linspace(1.0, 100.0, 500)))
    codes = bin_codes(amounts)
    assert len(np.unique(codes[:500])) == 1 and codes[0] not in set(codes[500:])
