"""Label noise: the training labels judged against the trusted test set's (how much less consistent with the
inputs they are, as a share of wrong labels at its lower confidence bound), so a clean hard problem is quiet
and flipped labels fire on a first run; where a reference from another snapshot exists, confident learning's
flagged share above it too."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import label_noise
from tasks.data.inputs import Baseline, Suite
from tasks.data.label_noise import LabelIssues, Measurement, Trusted, auc_se, estimate, judge
from tasks.result import Severity
from tests.checking import findings
from tests.data_inputs import data_inputs

P = label_noise.Params()
MD5 = "a" * 32
FEATURES = ["a", "b", "kind"]


def snapshot(rows: int = 4000, seed: int = 0, strength: float = 1.0) -> pd.DataFrame:
    """A moderately hard problem (AUC ~0.75 at strength 1): confident learning flags many clean rows. At
    strength 4 the inputs explain the label well (AUC ~0.95), at 0.5 weakly (AUC ~0.6)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    kind = rng.choice(["x", "y", "z"], size=rows)
    logit = -1.0 + strength * (1.0 * a + 0.5 * b + np.where(kind == "x", 0.5, 0.0))
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64")
    return pd.DataFrame({"id": [f"r{seed}_{k}" for k in range(rows)], "a": a, "b": b, "kind": kind, "y": y})


def flipped(df: pd.DataFrame, share: float, seed: int = 7) -> pd.DataFrame:
    flip = np.random.default_rng(seed).random(len(df)) < share
    return df.assign(y=df["y"].where(~flip, 1 - df["y"]))


def check(train: pd.DataFrame, test: pd.DataFrame | None, baseline: Baseline | None = None) -> list:
    batches = {} if test is None else {"test": test}
    x = data_inputs(train, batches, features=FEATURES, id="id", train_md5=MD5, baseline=baseline)
    return findings(label_noise, x)


def issues(df: pd.DataFrame) -> LabelIssues:
    found = estimate(df, df["y"], FEATURES, "id", 20_000, 0)
    assert isinstance(found, LabelIssues)
    return found


def reference_from(df: pd.DataFrame, md5: str) -> Baseline:
    """A baseline whose label-noise reference was recorded from `df`, a snapshot with md5 `md5`."""
    return Baseline(
        dir="gx/expectations",
        suites={"target": Suite("target", "gx/expectations/target.json", 4, train_md5=md5)},
        label_profile={"label_rate": float(df["y"].mean()), "label_noise": issues(df).reference()},
    )


def test_a_fifth_of_labels_flipped_fails_on_a_first_run() -> None:
    """No reference from another snapshot: 20% of the training labels flipped on a problem the inputs explain
    well lower the training AUC (out of fold) far below the trusted test set's; the estimated share of wrong
    labels is about 20%, its lower bound fails, and the finding gives examples."""
    [finding] = check(flipped(snapshot(strength=4.0), 0.2), snapshot(2000, seed=1, strength=4.0))
    assert finding.severity is Severity.fail, finding.message
    assert finding.evidence["judged"] == "trusted test set"
    assert 0.14 < finding.evidence["estimated_share_lower"] <= finding.evidence["estimated_share"] < 0.26
    assert "judged against the trusted test set" in finding.message and "rows r0_" in finding.message


def test_a_clean_hard_problem_is_quiet_though_many_rows_are_flagged() -> None:
    """Inputs that explain the label weakly (AUC ~0.6) flag many clean rows by confident learning (what a
    first-run rule on the flagged share misread as noise); the test set is as hard, so nothing is judged wrong."""
    [finding] = check(snapshot(strength=0.5), snapshot(2000, seed=1, strength=0.5))
    assert finding.evidence["flagged_share"] > 0.15
    assert finding.severity is Severity.info and finding.evidence["estimated_share_lower"] == 0.0, finding.message


def test_a_hard_problem_with_a_fifth_flipped_still_fails() -> None:
    """The same weak problem (AUC ~0.6) on 8,000 rows with 20% of its labels flipped: the gap to the test set
    is small in AUC but large for that difficulty, and the lower bound passes the fail limit."""
    [finding] = check(flipped(snapshot(8000, strength=0.5), 0.2), snapshot(4000, seed=1, strength=0.5))
    assert finding.severity is Severity.fail, finding.message


def test_a_test_set_with_another_positive_rate_is_not_noise() -> None:
    """A trusted test set from a period with far fewer positives (41% -> 17%, a label shift): AUC does not
    move with the class priors, so clean training labels stay quiet."""
    test = snapshot(4000, seed=1, strength=2.0)
    test = test[(test["y"] == 0) | (np.random.default_rng(2).random(len(test)) < 0.3)]
    [finding] = check(snapshot(strength=2.0), test)
    assert test["y"].mean() < 0.2 and finding.severity is Severity.info, finding.message


def test_a_test_set_too_small_to_tell_stays_quiet() -> None:
    """600 training and 300 test rows of a moderate problem, 10% flipped: the estimate is reported, but its
    lower bound at 95% is near 0, so it does not warn."""
    [finding] = check(flipped(snapshot(600), 0.1), snapshot(300, seed=1))
    assert finding.severity is Severity.info, finding.message
    assert finding.evidence["estimated_share"] > finding.evidence["estimated_share_lower"]


def test_a_test_set_the_inputs_do_not_explain_is_not_judged() -> None:
    """Test labels drawn at random: nothing to compare the training labels' consistency with; not judged."""
    test = snapshot(2000, seed=1, strength=2.0)
    test["y"] = (np.random.default_rng(3).random(len(test)) < 0.3).astype("int64")
    [finding] = check(snapshot(strength=2.0), test)
    assert finding.severity is Severity.info and finding.evidence["judged"] == "not judged", finding.message


def test_without_a_labelled_test_set_it_says_so() -> None:
    """No test batch: the rule has no reference; an info naming why, never a pass."""
    [finding] = check(snapshot(), None)
    assert finding.severity is Severity.info and "no 0/1 labels" in finding.message


def test_the_estimate_is_the_smallest_share_that_explains_the_gap() -> None:
    """Balanced labels, AUC 0.8 on training vs 0.9 on the test set: (0.8-0.5)/(0.9-0.5) = 0.75 of the signal is
    kept, so at least 0.5 * 0.25 = 12.5% of the labels are wrong; a training AUC above the test's gives a
    negative estimate and a lower bound of 0; the standard error shrinks with rows."""
    t = Trusted(0.8, 0.005, 0.5, 0.9, 0.005, 10_000, 0.5, z=1.645)
    assert abs(t.estimate - 0.125) < 1e-9 and t.lower < t.estimate
    assert Trusted(0.9, 0.005, 0.5, 0.8, 0.005, 10_000, 0.5, z=1.645).lower == 0.0
    assert auc_se(0.8, 1000, 1000) < auc_se(0.8, 100, 100)


def test_clean_snapshots_are_quiet_against_a_reference_from_another_snapshot() -> None:
    """A weak model flags a sizeable share of clean rows; another clean snapshot of the same process flags
    about as many, so the excess over the reference stays under the warn limit."""
    reference, now = issues(snapshot(seed=0)), issues(snapshot(seed=2))
    assert reference.share > 0.05
    measured = Measurement(now, None, reference.reference(), False)
    [finding] = judge(measured, P)[1:]
    assert finding.severity is Severity.info and finding.evidence["judged"] == "reference snapshot"


def test_a_quarter_flipped_fails_on_both_rules_with_a_reference_from_another_snapshot() -> None:
    """The baseline's reference share recorded from a clean snapshot (another md5): 25% flipped fails the
    excess rule too, each rule in its own finding naming it."""
    clean = snapshot(seed=0)
    against_test, over_reference = check(
        flipped(clean, 0.25), snapshot(2000, seed=1), baseline=reference_from(clean, "b" * 32)
    )
    assert against_test.severity is Severity.fail and "trusted test set" in against_test.message
    assert over_reference.severity is Severity.fail and over_reference.evidence["excess_share"] > 0.06
    assert "beyond the reference snapshot" in over_reference.message and "e.g. rows r0_" in over_reference.message


def test_a_reference_recorded_from_this_snapshot_is_not_an_excess() -> None:
    """The baseline's reference share was recorded from this very snapshot (a first run): the excess would be
    0 by construction, so only the test-set rule judges, and the message says why."""
    noisy = flipped(snapshot(strength=4.0), 0.25)
    [finding] = check(noisy, snapshot(2000, seed=1, strength=4.0), baseline=reference_from(noisy, MD5))
    assert finding.severity is Severity.fail and "recorded from this snapshot" in finding.message


def test_too_few_rows_of_a_class_is_not_measured() -> None:
    """Three positive labels cannot be cross-validated: a reason, not a verdict."""
    df = snapshot(rows=200).assign(y=np.r_[np.ones(3), np.zeros(197)].astype("int64"))
    assert isinstance(estimate(df, df["y"], ["a", "b"], "id", 20_000, 0), str)
    [finding] = check(df, None)
    assert finding.severity is Severity.info and "not measured" in finding.message
