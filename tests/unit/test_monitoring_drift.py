"""Drift by effect size with Evidently, and the checks that judge it: a shift of several standard deviations
fires, the same distribution on large samples stays quiet; each check reads the one drift run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from tasks.checks import ERROR_CHECK, Check, CheckParams, CheckRun, Configured, run_checks
from tasks.drift import CATEGORICAL_METHOD, NUMERIC_METHOD, ColumnDrift, DriftRun, measure_drift
from tasks.monitoring import checks, drifted_share, feature_drift, prediction_drift
from tasks.monitoring.inputs import MonitoringInputs
from tasks.params import MonitoringParams
from tasks.result import Finding, Severity

PRED = prediction_drift.Params(score={"warn": 0.1, "fail": 0.2})


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


def checked(module: ModuleType, inputs: MonitoringInputs, params: CheckParams | None = None) -> CheckRun:
    """One check through the runner (findings stamped with its name), failing the test if it crashed."""
    check = Check.from_module(module)
    run = run_checks([Configured(check, params or check.params())], inputs, Path(tempfile.mkdtemp()))
    assert not [f.message for f in run.findings if f.check == ERROR_CHECK]
    return run


def findings(module: ModuleType, inputs: MonitoringInputs, params: CheckParams | None = None) -> list[Finding]:
    return checked(module, inputs, params).findings


def drifts(n_drifted: int, n: int) -> list[ColumnDrift]:
    return [ColumnDrift(f"f{i}", NUMERIC_METHOD, 0.5 if i < n_drifted else 0.01, 0.1) for i in range(n)]


def monitored(
    features: list[ColumnDrift],
    prediction: ColumnDrift | None = None,
    unmeasured: dict[str, str] | None = None,
    served: int = 100,
    rows: int = 100,
) -> MonitoringInputs:
    """A monitoring inputs record around a drift run made of the given column results."""
    columns = {d.column: d for d in features} | ({"prediction": prediction} if prediction else {})
    return MonitoringInputs(
        current=pd.DataFrame(index=range(rows)),
        reference=pd.DataFrame(),
        features=[d.column for d in features] + [c for c in unmeasured or {} if c != "prediction"],
        prediction="prediction",
        drift=DriftRun(columns=columns, unmeasured=dict(unmeasured or {})),
        served_rows=served,
    )


def nothing_measured(why: str = "the inference log has no `current` rows") -> MonitoringInputs:
    return MonitoringInputs(
        current=pd.DataFrame(),
        reference=pd.DataFrame(),
        features=["f0"],
        prediction="prediction",
        drift=None,
        served_rows=0,
        not_measured=why,
    )


def test_checks_are_declared_in_diagnostic_order():
    """Inputs first, then the gate on their share, then the predictions; the threshold they share stays a
    stage setting (it is also the Evidently report's own flag)."""
    assert [c.name for c in checks.CHECKS] == [
        "feature_drift",
        "drifted_share",
        "prediction_drift",
        "window_drift",
        "label_drift",
        "concept_drift",
        "confidence_collapse",
    ]
    assert set(checks.Settings.model_fields) == {
        "column_drift_threshold",
        "reference_rows",
        "seed",
        "store",
        "lookback_days",
        "window_min_rows",
        "workspace_windows",
    }
    assert MonitoringParams().drifted_share.share.fail == 0.6


# the Evidently measurement (tasks/drift.py)


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
    """A column with no values in the current data is set aside with a reason, not crashing Evidently, and
    feature_drift reports it as a warning."""
    current = sample(500, 2).assign(x=np.nan)
    run = measure_drift(sample(500, 1), current, ["x"], ["c"], {"x": 0.1, "c": 0.1})
    assert "x" not in run.columns and "current" in run.unmeasured["x"]
    x = MonitoringInputs(pd.DataFrame(), pd.DataFrame(), ["x", "c"], "prediction", run, 0)
    [finding] = findings(feature_drift, x)
    assert finding.severity is Severity.warn and finding.columns == ["x"] and "not measured" in finding.message


# feature_drift


def test_each_drifted_column_is_a_named_warning() -> None:
    """Every drifted feature gets a warn finding naming the column, the method and the score."""
    run = checked(feature_drift, monitored(drifts(1, 15)))
    [finding] = run.findings
    assert finding.check == "feature_drift" and finding.severity is Severity.warn and finding.columns == ["f0"]
    assert finding.evidence["method"] == NUMERIC_METHOD and finding.evidence["score"] == 0.5
    assert run.metrics["feature_drift.score.f0"] == 0.5 and run.metrics["feature_drift.score.f1"] == 0.01


def test_no_drifted_column_no_warning() -> None:
    """Columns under the threshold produce no per-column findings."""
    assert findings(feature_drift, monitored(drifts(0, 15))) == []


def test_feature_drift_ignores_the_prediction_column() -> None:
    """The served scores drifting are prediction_drift's finding, not a feature's."""
    scores = ColumnDrift("prediction", NUMERIC_METHOD, 0.9, 0.1)
    assert findings(feature_drift, monitored(drifts(0, 3), scores)) == []
    assert findings(feature_drift, monitored(drifts(0, 3), unmeasured={"prediction": "no values"})) == []


def test_feature_drift_with_nothing_measured_says_so() -> None:
    """No drift run at all: an info note with the reason, never silence that reads as 'stable'."""
    [finding] = findings(feature_drift, nothing_measured())
    assert finding.severity is Severity.info and "`current` rows" in finding.message


# drifted_share


def test_one_drifted_column_among_fifteen_does_not_fire_the_share() -> None:
    """1 of 15 features drifting is under the share's warn level: info."""
    run = checked(drifted_share, monitored(drifts(1, 15)))
    [finding] = run.findings
    assert finding.check == "drifted_share" and finding.severity is Severity.info
    assert run.metrics["drifted_share.share"] == pytest.approx(1 / 15)


def test_broad_drift_fails_the_share() -> None:
    """10 of 15 features drifting is over the share's fail level, the drifted columns named."""
    [finding] = findings(drifted_share, monitored(drifts(10, 15)))
    assert finding.severity is Severity.fail and finding.evidence["n_drifted"] == 10
    assert finding.columns[0] == "f0" and len(finding.columns) == 10


def test_share_with_nothing_measured_is_a_warning_not_a_pass() -> None:
    """Features whose drift could not be measured: the share is not judged, and that is reported."""
    run = checked(drifted_share, monitored([], unmeasured={"f0": "no values in the current data"}))
    [finding] = run.findings
    assert finding.severity is Severity.warn and "not judged" in finding.message
    assert "drifted_share.share" not in run.metrics


def test_share_without_a_drift_run_names_why() -> None:
    """No current rows: a warning that input drift was not measured, with the reason."""
    [finding] = findings(drifted_share, nothing_measured())
    assert finding.severity is Severity.warn and finding.message.startswith("the inference log has no")


# prediction_drift


def test_prediction_drift_fires_over_the_limit() -> None:
    """A score drift of 0.3 is over the fail level."""
    x = monitored(drifts(0, 2), ColumnDrift("prediction", NUMERIC_METHOD, 0.3, 0.1), served=90)
    run = checked(prediction_drift, x, PRED)
    [finding] = run.findings
    assert finding.check == "prediction_drift" and finding.severity is Severity.fail
    assert finding.evidence["served_rows"] == 90 and run.metrics["prediction_drift.score"] == 0.3


def test_prediction_drift_quiet_under_the_limit() -> None:
    """A score drift of 0.02 is info."""
    x = monitored(drifts(0, 2), ColumnDrift("prediction", NUMERIC_METHOD, 0.02, 0.1))
    [finding] = findings(prediction_drift, x, PRED)
    assert finding.severity is Severity.info


def test_prediction_drift_without_served_scores_is_a_warning() -> None:
    """No served scores to compare: a warning saying why, not a pass."""
    x = monitored(drifts(0, 2), unmeasured={"prediction": "no values in the current data"}, served=0)
    run = checked(prediction_drift, x, PRED)
    [finding] = run.findings
    assert finding.severity is Severity.warn and "not measured: no values" in finding.message
    assert "prediction_drift.score" not in run.metrics


def test_concept_drift_without_any_feedback_is_info_not_a_warning() -> None:
    """A project whose traffic never carries labels (no labels file, no target in the batch) is not warned every
    night; labels that were expected (a labels file) and did not arrive still warn."""
    from tasks.monitoring import concept_drift

    p = concept_drift.Params()
    never = concept_drift.judge(concept_drift.Measurement(not_measured="no labels", unlabelled=True), p)
    late = concept_drift.judge(concept_drift.Measurement(not_measured="no labels"), p)
    assert [f.severity.value for f in never] == ["info"] and [f.severity.value for f in late] == ["warn"]
