"""Target logic changed: a training snapshot against the reference label profile (relabelled rows, label
rate, relation to the most related features); quiet on a snapshot made the same way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import target_logic_changed
from tasks.data.inputs import Baseline, Suite
from tasks.data.target_logic_changed import build_profile, ranked_bins
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


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


def baseline(profile: dict | None, md5: str = "b" * 32) -> Baseline:
    target = Suite("target", "gx/expectations/target.json", 4, train_md5=md5)
    return Baseline(dir="gx/expectations", suites={"target": target}, label_profile=profile)


def compare(profile: dict | None, df: pd.DataFrame, md5: str = "b" * 32) -> Finding:
    train = df.drop(columns="delay")
    x = data_inputs(train, target="late", id="id", baseline=baseline(profile, md5), train_md5="a" * 32)
    [finding] = findings(target_logic_changed, x)
    return finding


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
    """A baseline written before profiles were recorded: info naming the command that writes one."""
    finding = compare(None, snapshot())
    assert finding.severity is Severity.info and "glassbox baseline --force" in finding.message


def test_the_snapshot_the_profile_came_from_is_compared_and_says_so() -> None:
    """The first run, against the profile recorded from this very snapshot: all measures 0, info, saying
    the comparison is 0 by construction."""
    df = snapshot(seed=0)
    finding = compare(profile_of(df), df, md5="a" * 32)
    assert finding.severity is Severity.info and "recorded from this snapshot" in finding.message
    assert finding.evidence["relabelled"]["changed"] == 0


def test_ranked_bins_keep_ties_together_and_missing_apart() -> None:
    """Deciles of rank: equal values share a bin, missing values get their own."""
    bins = ranked_bins(pd.Series([0.0, 0.0, 0.0, 1.0, 2.0, np.nan]))
    assert bins.iloc[0] == bins.iloc[1] == bins.iloc[2] and bins.iloc[5] == "(missing)"
