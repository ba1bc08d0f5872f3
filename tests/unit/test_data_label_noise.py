"""Label noise: confident learning's flagged share, judged above the reference snapshot's share, so a weak
model's natural flags stay quiet and planted flips fire; on a first run (no reference from another snapshot)
the flagged share itself, as an upper estimate, warn-only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import label_noise
from tasks.data.inputs import Baseline, Suite
from tasks.data.label_noise import LabelIssues, Measurement, estimate, judge
from tasks.limits import Limit
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

P = label_noise.Params(excess=Limit(warn=0.03, fail=0.06))
MD5 = "a" * 32


def snapshot(rows: int = 4000, seed: int = 0, strength: float = 1.0) -> tuple[pd.DataFrame, pd.Series]:
    """A moderately hard problem (AUC ~0.75 at strength 1): confident learning flags many clean rows. At
    strength 4 the inputs explain the label well (AUC ~0.95)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    kind = rng.choice(["x", "y", "z"], size=rows)
    logit = -1.0 + strength * (1.0 * a + 0.5 * b + np.where(kind == "x", 0.5, 0.0))
    y = pd.Series((rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64"), name="y")
    df = pd.DataFrame({"id": [f"r{seed}_{k}" for k in range(rows)], "a": a, "b": b, "kind": kind})
    return df, y


def flipped(y: pd.Series, share: float, seed: int = 7) -> pd.Series:
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < share
    return y.where(~flip, 1 - y)


def issues(df: pd.DataFrame, y: pd.Series) -> LabelIssues:
    found = estimate(df, y, ["a", "b", "kind"], "id", 20_000, 0)
    assert isinstance(found, LabelIssues)
    return found


def against(now: LabelIssues, reference: LabelIssues | None, same: bool = False) -> Measurement:
    return Measurement(now, None, None if reference is None else reference.reference(), same)


def test_clean_snapshots_are_quiet_though_many_rows_are_flagged() -> None:
    """A weak model flags a sizeable share of clean rows; another clean snapshot of the same process flags
    about as many, so the excess stays under the warn limit."""
    reference = issues(*snapshot(seed=0))
    now = issues(*snapshot(seed=1))
    assert reference.share > 0.05
    [finding] = judge(against(now, reference), P)
    assert finding.severity is Severity.info, finding.message


def test_a_quarter_of_labels_flipped_fails_with_examples() -> None:
    """25% of labels flipped at random: the flagged share rises well above the reference's; the finding
    gives the estimated excess and example row ids."""
    df, y = snapshot(seed=0)
    [finding] = judge(against(issues(df, flipped(y, 0.25)), issues(df, y)), P)
    assert finding.severity is Severity.fail, finding.message
    assert finding.evidence["excess_share"] > 0.06
    assert "look wrong beyond the reference" in finding.message and "e.g. rows r0_" in finding.message
    assert len(finding.evidence["examples"]) == 5


def first_run(df: pd.DataFrame, y: pd.Series, baseline: Baseline | None = None) -> list:
    return findings(
        label_noise, data_inputs(df.assign(y=y), features=["a", "b", "kind"], id="id", train_md5=MD5, baseline=baseline)
    )


def test_first_run_with_a_quarter_of_labels_flipped_warns_with_an_upper_estimate() -> None:
    """No reference from another snapshot (a new dataset): on a problem the inputs explain well, 25% of labels
    flipped makes confident learning flag about as many rows; the absolute share warns, as an upper
    estimate, with examples."""
    df, y = snapshot(seed=0, strength=4.0)
    [finding] = first_run(df, flipped(y, 0.25))
    assert finding.severity is Severity.warn, finding.message
    assert finding.evidence["judged"] == "absolute" and finding.evidence["flagged_share"] > 0.2
    assert "upper estimate" in finding.message and "e.g. rows r0_" in finding.message


def test_first_run_on_clean_labels_is_quiet() -> None:
    """The same strong-signal dataset with its labels intact: a few rows flagged, an info finding."""
    df, y = snapshot(seed=0, strength=4.0)
    [finding] = first_run(df, y)
    assert finding.severity is Severity.info and finding.evidence["flagged_share"] < 0.1, finding.message


def test_a_reference_recorded_from_this_snapshot_is_judged_absolutely() -> None:
    """The baseline's reference share was recorded from this very snapshot (same md5): the excess would be 0
    by construction, so the flagged share itself is judged, and the message says why."""
    df, y = snapshot(seed=0, strength=4.0)
    noisy = flipped(y, 0.25)
    profile = {"label_rate": 0.3, "label_noise": issues(df, noisy).reference()}
    baseline = Baseline(
        dir="gx/expectations",
        suites={"target": Suite("target", "gx/expectations/target.json", 4, train_md5=MD5)},
        label_profile=profile,
    )
    [finding] = first_run(df, noisy, baseline)
    assert finding.severity is Severity.warn and "recorded from this snapshot" in finding.message


def test_too_few_rows_of_a_class_is_not_measured() -> None:
    """Three positive labels cannot be cross-validated: a reason, not a verdict."""
    df, _ = snapshot(rows=200)
    y = pd.Series(np.r_[np.ones(3), np.zeros(197)].astype("int64"))
    assert isinstance(estimate(df, y, ["a", "b"], "id", 20_000, 0), str)
    [finding] = first_run(df, y)
    assert finding.severity is Severity.info and "not measured" in finding.message


def test_a_first_run_on_labels_no_input_explains_is_not_judged() -> None:
    """Labels drawn at random (the fast model at chance): confident learning flags rows at random, so the
    first-run share is reported, not judged."""
    df, _ = snapshot(seed=0)
    y = pd.Series((np.random.default_rng(3).random(len(df)) < 0.3).astype("int64"), name="y")
    [finding] = first_run(df, y)
    assert finding.severity is Severity.info and finding.evidence["judged"] == "not judged", finding.message
