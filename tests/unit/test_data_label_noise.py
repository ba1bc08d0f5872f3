"""Label noise: confident learning's flagged share, judged above the reference snapshot's share, so a weak
model's natural flags stay quiet and planted flips fire."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data.label_noise import LabelIssues, estimate, label_noise_finding
from tasks.limits import Limit
from tasks.result import Severity

LIMIT = Limit(warn=0.03, fail=0.06)


def snapshot(rows: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A moderately hard problem (AUC ~0.75): confident learning flags many clean rows."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    kind = rng.choice(["x", "y", "z"], size=rows)
    logit = -1.0 + 1.0 * a + 0.5 * b + np.where(kind == "x", 0.5, 0.0)
    y = pd.Series((rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64"))
    df = pd.DataFrame({"id": [f"r{seed}_{k}" for k in range(rows)], "a": a, "b": b, "kind": kind})
    return df, y


def flipped(y: pd.Series, share: float, seed: int = 7) -> pd.Series:
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < share
    return y.where(~flip, 1 - y)


def measure(df: pd.DataFrame, y: pd.Series) -> LabelIssues:
    found = estimate(df, y, ["a", "b", "kind"], "id", 20_000, 0)
    assert isinstance(found, LabelIssues)
    return found


def test_clean_snapshots_are_quiet_though_many_rows_are_flagged() -> None:
    """A weak model flags a sizeable share of clean rows; another clean snapshot of the same process flags
    about as many, so the excess stays under the warn limit."""
    reference = measure(*snapshot(seed=0))
    now = measure(*snapshot(seed=1))
    assert reference.share > 0.05
    finding = label_noise_finding(now, reference.reference(), LIMIT, same_snapshot=False)
    assert finding.severity is Severity.info, finding.message


def test_a_quarter_of_labels_flipped_fails_with_examples() -> None:
    """25% of labels flipped at random: the flagged share rises well above the reference's; the finding
    gives the estimated excess and example row ids."""
    df, y = snapshot(seed=0)
    reference = measure(df, y)
    now = measure(df, flipped(y, 0.25))
    finding = label_noise_finding(now, reference.reference(), LIMIT, same_snapshot=False)
    assert finding.severity is Severity.fail, finding.message
    assert finding.evidence["excess_share"] > 0.06
    assert "look wrong beyond the reference" in finding.message and "e.g. rows r0_" in finding.message
    assert len(finding.evidence["examples"]) == 5


def test_without_a_reference_the_share_is_reported_not_judged() -> None:
    """A suite that holds no reference share: info, with the measured share."""
    now = measure(*snapshot(seed=0))
    finding = label_noise_finding(now, None, LIMIT, same_snapshot=False)
    assert finding.severity is Severity.info and "not judged" in finding.message


def test_too_few_rows_of_a_class_is_not_measured() -> None:
    """Three positive labels cannot be cross-validated: a reason, not a verdict."""
    df, _ = snapshot(rows=200)
    y = pd.Series(np.r_[np.ones(3), np.zeros(197)].astype("int64"))
    found = estimate(df, y, ["a", "b"], "id", 20_000, 0)
    assert isinstance(found, str)
    assert label_noise_finding(found, None, LIMIT, same_snapshot=False).severity is Severity.info
