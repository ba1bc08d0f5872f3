"""Target logic changed: a training snapshot against the reference label profile (relabelled rows, label
rate, relation to the most related features); quiet on a snapshot made the same way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data.target_logic import build_profile, ranked_bins, target_logic_changed
from tasks.params import DataParams
from tasks.result import Severity

P = DataParams()


def snapshot(rows: int = 6000, seed: int = 0, threshold: float = 15.0, start: int = 0) -> pd.DataFrame:
    """Flights with a delay; `late` is the delay above `threshold` minutes (the label's definition)."""
    rng = np.random.default_rng(seed)
    hour = rng.integers(5, 24, rows)
    kind = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    delay = rng.normal(0, 20, rows) + 1.5 * (hour - 14) + np.where(kind == "a", 8, 0)
    return pd.DataFrame(
        {
            "id": [f"f{k}" for k in range(start, start + rows)],
            "hour": hour,
            "kind": kind,
            "delay": delay,
            "late": (delay > threshold).astype("int64"),
        }
    )


def profile_of(df: pd.DataFrame) -> dict:
    return build_profile(df, df["late"], ["hour", "kind"], "id", "late", 500)


def compare(profile: dict, df: pd.DataFrame):
    return target_logic_changed(profile, df.drop(columns="delay"), df["late"], "id", P, same_snapshot=False)


def test_a_new_snapshot_of_the_same_logic_is_quiet() -> None:
    """Other rows of the same process (another seed, other ids): no relabelling measurable, rate and
    relation as before."""
    reference = profile_of(snapshot(seed=0))
    finding = compare(reference, snapshot(seed=1, start=100_000))
    assert finding.severity is Severity.info, finding.message
    assert "no row of the reference found again" in finding.message


def test_the_same_rows_under_a_new_definition_fail_as_relabelled() -> None:
    """'late' redefined as any delay (> 0 instead of > 15): rows both snapshots hold changed label 0 -> 1."""
    reference = profile_of(snapshot(seed=0))
    finding = compare(reference, snapshot(seed=0, threshold=0.0))
    assert finding.severity is Severity.fail
    assert finding.evidence["relabelled"]["0_to_1"] > 0 and finding.evidence["relabelled"]["1_to_0"] == 0
    assert finding.message.startswith("label rate / relation shift vs the reference snapshot")


def test_a_relation_that_flipped_fails_without_shared_rows() -> None:
    """New rows where the label now follows the hour the other way: the relation shift fails even though
    no row is shared and the label rate barely moves."""
    reference = profile_of(snapshot(seed=0))
    df = snapshot(seed=1, start=100_000)
    df["delay"] = df["delay"] - 3.0 * (df["hour"] - 14)
    df["late"] = (df["delay"] > 15.0).astype("int64")
    finding = compare(reference, df)
    assert finding.severity is Severity.fail
    assert finding.evidence["severities"]["relation"] == "fail" and finding.columns == ["hour"]


def test_a_rescaled_feature_keeps_its_relation() -> None:
    """The relation is measured on ranks: hours written in minutes change nothing."""
    reference = profile_of(snapshot(seed=0))
    df = snapshot(seed=1, start=100_000)
    df["hour"] = df["hour"] * 60
    assert compare(reference, df).severity is Severity.info


def test_without_a_stored_profile_nothing_is_judged() -> None:
    """A suite built before profiles were recorded: info asking for a rebuild."""
    df = snapshot()
    finding = target_logic_changed(None, df, df["late"], "id", P, same_snapshot=False)
    assert finding.severity is Severity.info and "rebuild" in finding.message


def test_ranked_bins_keep_ties_together_and_missing_apart() -> None:
    """Deciles of rank: equal values share a bin, missing values get their own."""
    bins = ranked_bins(pd.Series([0.0, 0.0, 0.0, 1.0, 2.0, np.nan]))
    assert bins.iloc[0] == bins.iloc[1] == bins.iloc[2] and bins.iloc[5] == "(missing)"
