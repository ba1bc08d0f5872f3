"""Drift by effect size with Evidently, and the checks that judge it: a shift of several standard deviations
fires, the same distribution on large samples stays quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.drift import CATEGORICAL_METHOD, NUMERIC_METHOD, ColumnDrift, measure_drift
from tasks.limits import Limit
from tasks.monitoring.input_drift import check_drifted_share, column_findings, unmeasured_findings
from tasks.monitoring.prediction_drift import check_prediction_drift
from tasks.result import Severity

SHARE = Limit(warn=0.3, fail=0.6)
PRED = Limit(warn=0.1, fail=0.2)


def sample(n: int, seed: int, shift: float = 0.0, p_a: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(loc=shift, size=n),
            "c": np.where(rng.random(n) < p_a, "a", "b"),
        }
    )


def drift_of(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, ColumnDrift]:
    return measure_drift(reference, current, ["x"], ["c"], {"x": 0.1, "c": 0.1}).columns


def test_same_distribution_on_large_samples_is_quiet() -> None:
    """Two large samples of one distribution: effect sizes stay far under the threshold."""
    drift = drift_of(sample(5000, 1), sample(5000, 2))
    assert drift["x"].method == NUMERIC_METHOD and drift["c"].method == CATEGORICAL_METHOD
    assert not drift["x"].drifted and not drift["c"].drifted
    assert drift["x"].score < 0.05


def test_shift_of_several_std_fires() -> None:
    """A numeric column moved by 3 standard deviations scores about 3 (normed Wasserstein) and drifts."""
    drift = drift_of(sample(2000, 1), sample(2000, 2, shift=3.0))
    assert drift["x"].drifted and drift["x"].score == pytest.approx(3.0, abs=0.2)
    assert not drift["c"].drifted


def test_category_mix_change_fires() -> None:
    """A category share moving from 50% to 90% drifts by Jensen-Shannon distance."""
    drift = drift_of(sample(2000, 1), sample(2000, 2, p_a=0.9))
    assert drift["c"].drifted and not drift["x"].drifted


def test_empty_column_is_unmeasured_not_stable() -> None:
    """A column with no values in the current data is set aside with a reason, not crashing Evidently."""
    current = sample(500, 2).assign(x=np.nan)
    run = measure_drift(sample(500, 1), current, ["x"], ["c"], {"x": 0.1, "c": 0.1})
    assert "x" not in run.columns and "current" in run.unmeasured["x"]
    [finding] = unmeasured_findings(run.unmeasured)
    assert finding.severity is Severity.warn and finding.columns == ["x"]


def drifts(n_drifted: int, n: int) -> list[ColumnDrift]:
    return [ColumnDrift(f"f{i}", NUMERIC_METHOD, 0.5 if i < n_drifted else 0.01, 0.1) for i in range(n)]


def test_each_drifted_column_is_a_named_warning() -> None:
    """Every drifted feature gets a warn finding naming the column, the method and the score."""
    [finding] = column_findings(drifts(1, 15))
    assert finding.severity is Severity.warn and finding.columns == ["f0"]
    assert finding.evidence["method"] == NUMERIC_METHOD and finding.evidence["score"] == 0.5


def test_no_drifted_column_no_warning() -> None:
    """Columns under the threshold produce no per-column findings."""
    assert column_findings(drifts(0, 15)) == []


def test_one_drifted_column_among_fifteen_does_not_fire_the_share() -> None:
    """1 of 15 features drifting is under the share's warn level: info."""
    assert check_drifted_share(drifts(1, 15), SHARE).severity is Severity.info


def test_broad_drift_fails_the_share() -> None:
    """10 of 15 features drifting is over the share's fail level."""
    finding = check_drifted_share(drifts(10, 15), SHARE)
    assert finding.severity is Severity.fail and finding.evidence["n_drifted"] == 10


def test_share_with_nothing_measured_is_a_warning_not_a_pass() -> None:
    """No measured feature: the share is not judged, and that is reported."""
    assert check_drifted_share([], SHARE).severity is Severity.warn


def test_prediction_drift_fires_over_the_limit() -> None:
    """A score drift of 0.3 is over the fail level."""
    finding = check_prediction_drift(ColumnDrift("prediction", NUMERIC_METHOD, 0.3, 0.1), PRED, 90, 100)
    assert finding.severity is Severity.fail


def test_prediction_drift_quiet_under_the_limit() -> None:
    """A score drift of 0.02 is info."""
    finding = check_prediction_drift(ColumnDrift("prediction", NUMERIC_METHOD, 0.02, 0.1), PRED, 100, 100)
    assert finding.severity is Severity.info


def test_prediction_drift_without_served_scores_is_a_warning() -> None:
    """No served scores to compare: a warning saying why, not a pass."""
    finding = check_prediction_drift(None, PRED, 0, 100, "no values in the current data")
    assert finding.severity is Severity.warn and "not measured" in finding.message
