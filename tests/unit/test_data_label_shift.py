"""Label shift: class priors training vs a labelled batch, judged by Cohen's h."""

from __future__ import annotations

import pandas as pd

from tasks.data import label_shift as check
from tasks.data.stats import cohen_h
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


def label_shift(train_y: pd.Series, batch_y: pd.Series | None, batch: str, target: str) -> Finding:
    """The check (default limit: Cohen's h warn 0.2 / fail 0.4) on one batch."""
    train = pd.DataFrame({target: train_y, "x": 0})
    frame = pd.DataFrame({"x": [0] * 10}) if batch_y is None else pd.DataFrame({target: batch_y, "x": 0})
    [finding] = findings(check, data_inputs(train, {batch: frame}, target=target))
    return finding


def labels(rate: float, rows: int = 1000) -> pd.Series:
    positives = round(rate * rows)
    return pd.Series([1] * positives + [0] * (rows - positives))


def test_similar_priors_are_quiet() -> None:
    """25% vs 22% late: a small move, info with both shares."""
    finding = label_shift(labels(0.25), labels(0.22), "current", "late")
    assert finding.severity is Severity.info
    assert "22.0% of rows vs 25.0% in training" in finding.message


def test_doubled_late_rate_fails_with_shares_before_and_after() -> None:
    """25% to 50%: Cohen's h above 0.5 (fail 0.4), a fail giving the class shares before and after."""
    finding = label_shift(labels(0.25), labels(0.5), "current", "late")
    assert finding.severity is Severity.fail
    assert finding.evidence["train_shares"] == {"0": 0.75, "1": 0.25}
    assert finding.evidence["batch_shares"] == {"0": 0.5, "1": 0.5}


def test_an_unlabelled_batch_is_not_compared() -> None:
    """No labels in the batch: info saying priors were not compared."""
    finding = label_shift(labels(0.25), None, "current", "late")
    assert finding.severity is Severity.info and "not compared" in finding.message


def test_cohen_h_is_symmetric_and_zero_on_equal_shares() -> None:
    """The effect size of a proportion change, independent of sample size."""
    assert cohen_h(0.3, 0.3) == 0.0
    assert abs(cohen_h(0.25, 0.5) - cohen_h(0.5, 0.25)) < 1e-12
    assert 0.52 < cohen_h(0.25, 0.5) < 0.53
