"""Monitoring over daily windows, on tiny in-memory traffic: small days pooled, drift and label rate per window
named beyond their limits, performance on arrived labels held to the trusted test score (family-wise, so many
clean days stay quiet; a relabelled window fails), confidence against training's."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tasks.checks import ERROR_CHECK, Check, CheckParams, CheckRun, Configured, run_checks
from tasks.drift import NUMERIC_METHOD, ColumnDrift, DriftRun
from tasks.monitoring import concept_drift, confidence_collapse, label_drift, window_drift
from tasks.monitoring.inputs import MonitoringInputs, TrustedScore
from tasks.monitoring.stage import trusted_score
from tasks.monitoring.windows import Window, days, pooled
from tasks.result import Severity

DAY = pd.Timestamp("2024-05-01", tz="UTC")


def checked(module: ModuleType, x: MonitoringInputs, params: CheckParams | None = None) -> CheckRun:
    check = Check.from_module(module)
    out = Path(tempfile.mkdtemp())
    run = run_checks([Configured(check, params or check.params())], x, out)
    assert not [f.message for f in run.findings if f.check == ERROR_CHECK]
    for name in run.artifacts:  # the evidence the check names is written
        assert (out / name).is_file()
    return run


def severities(run: CheckRun) -> list[Severity]:
    return [f.severity for f in run.findings]


def scored(n: int, seed: int, *, relabel: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels drawn from them (a calibrated model); `relabel`: outcomes of another relation (the
    least likely rows are the positives)."""
    rng = np.random.default_rng(seed)
    s = rng.beta(2, 5, n)
    y = (rng.random(n) < s).astype(float)
    if relabel:
        y = np.zeros(n)
        y[np.argsort(s)[: int(0.3 * n)]] = 1.0
    return s, y


def trusted(seed: int = 99) -> TrustedScore:
    s, y = scored(20_000, seed)
    auc = float(roc_auc_score(y, s))
    return TrustedScore("roc_auc", auc, auc, 0.5, 20_000)


def monitored(
    per_day: list[tuple[np.ndarray, np.ndarray]],
    *,
    reference: np.ndarray | None = None,
    drift: dict[str, DriftRun] | None = None,
    trust: TrustedScore | None = None,
    train_rate: float = 0.29,
) -> MonitoringInputs:
    """A monitoring inputs record whose stored traffic is one day per (scores, labels) pair."""
    frames = [
        pd.DataFrame({"prediction": s, "label": y, "event_at": DAY + pd.Timedelta(days=i, hours=1)})
        for i, (s, y) in enumerate(per_day)
    ]
    traffic = pd.concat(frames, ignore_index=True)
    each = tuple(days(traffic["event_at"]))
    ref = reference if reference is not None else scored(5000, 7)[0]
    return MonitoringInputs(
        current=traffic[["prediction"]],
        reference=pd.DataFrame({"prediction": ref}),
        features=["f0"],
        prediction="prediction",
        drift=None,
        served_rows=len(traffic),
        traffic=traffic,
        windows=each,
        days=each,
        window_drift=drift or {},
        labels_from="labels.csv",
        train_label_rate=train_rate,
        trusted=trust if trust is not None else trusted(),
    )


# windows


def test_small_days_are_pooled_with_the_days_before_and_a_small_tail_joins_the_last() -> None:
    """Days under the minimum are pooled forward until enough; a remainder joins the last pooled window; when
    nothing ever gets enough, the whole is returned as not judged."""
    event = pd.Series(pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-02", "2024-05-03", "2024-05-04"], utc=True))
    each = days(event)
    assert [w.label for w in each] == ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
    done, rest = pooled(each, lambda r: len(r) >= 2)
    assert [w.label for w in done] == ["2024-05-01..2024-05-02", "2024-05-03..2024-05-04"] and rest == []
    done, rest = pooled(each, lambda r: len(r) >= 9)
    assert done == [] and [w.label for w in rest] == ["2024-05-01..2024-05-04"]
    assert len(Window("a", "a", np.arange(3))) == 3


# window_drift


def drift_run(share_drifted: int, prediction: float) -> DriftRun:
    cols = {f"f{i}": ColumnDrift(f"f{i}", NUMERIC_METHOD, 0.5 if i < share_drifted else 0.0, 0.2) for i in range(2)}
    return DriftRun(columns=cols | {"prediction": ColumnDrift("prediction", NUMERIC_METHOD, prediction, 0.2)})


def test_window_drift_quiet_when_every_window_is_within_its_limits() -> None:
    """Windows whose scores moved 0.1 sd and whose features stayed: one info summary with the trend."""
    x = monitored([scored(300, 1), scored(300, 2)])
    x = MonitoringInputs(
        **{**x.__dict__, "features": ["f0", "f1"], "window_drift": {w.label: drift_run(0, 0.1) for w in x.windows}}
    )
    run = checked(window_drift, x)
    assert severities(run) == [Severity.info] and run.metrics["window_drift.window_prediction_drift_max"] == 0.1
    assert "window_prediction_drift.png" in run.artifacts


def test_window_drift_names_the_windows_beyond_their_limits() -> None:
    """A day whose scores moved 1.5 sd and whose features all drifted is named in a warning per measure."""
    x = monitored([scored(300, 1), scored(300, 2)])
    runs = {x.windows[0].label: drift_run(0, 0.1), x.windows[1].label: drift_run(2, 1.5)}
    x = MonitoringInputs(**{**x.__dict__, "features": ["f0", "f1"], "window_drift": runs})
    found = checked(window_drift, x).findings
    warned = [f for f in found if f.severity is Severity.warn]
    assert len(warned) == 2 and all(x.windows[1].label in f.message for f in warned)
    assert warned[1].evidence["values"] == [1.5]


def test_window_drift_without_windows_is_a_warning_not_a_pass() -> None:
    """No stored traffic: a warning that says why."""
    x = monitored([scored(10, 1)])
    x = MonitoringInputs(**{**x.__dict__, "windows": (), "no_windows": "the store is empty"})
    [f] = checked(window_drift, x).findings
    assert f.severity is Severity.warn and "the store is empty" in f.message


# label_drift


def test_label_rate_like_training_is_quiet() -> None:
    """Windows whose label rate is training's (within sampling): info only."""
    run = checked(label_drift, monitored([scored(400, i) for i in range(3)]))
    assert severities(run) == [Severity.info] and run.metrics["label_drift.windows"] == 3


def test_label_rate_far_from_training_is_named() -> None:
    """A window where 90% of the labels are positive against training's 29%: Cohen's h beyond 0.8, a warning
    naming the window; the windows before it stay unnamed."""
    s, _ = scored(400, 5)
    y = (np.random.default_rng(5).random(400) < 0.9).astype(float)
    found = checked(label_drift, monitored([scored(400, 1), (s, y)])).findings
    [warn] = [f for f in found if f.severity is Severity.warn]
    assert warn.evidence["windows"] == ["2024-05-02"] and "0.290" in warn.message


def test_label_drift_without_labels_says_so() -> None:
    """No feedback has arrived: reported as not measured (info), never as a stable rate."""
    s, _ = scored(300, 1)
    [f] = checked(label_drift, monitored([(s, np.full(300, np.nan))])).findings
    assert f.severity is Severity.info and "no labels have arrived" in f.message


# concept_drift


def test_fourteen_clean_windows_stay_quiet() -> None:
    """Fourteen days of a calibrated model's own outcomes, each judged at its family-wise bound: no finding but
    the summary, although single days score under the trusted test set."""
    run = checked(concept_drift, monitored([scored(300, i) for i in range(14)]))
    assert severities(run) == [Severity.info] and run.metrics["concept_drift.windows"] == 14
    assert run.metrics["concept_drift.window_skill_lost_max"] < 0.25
    assert "window_concept_drift.png" in run.artifacts


def test_a_relabelled_window_fails_with_both_scores() -> None:
    """Outcomes of another relation in the last day: its score at its upper bound is below chance, all of the
    trusted score's skill lost: a fail naming the window and both scores."""
    run = checked(concept_drift, monitored([*(scored(300, i) for i in range(5)), scored(300, 9, relabel=True)]))
    [fail] = [f for f in run.findings if f.severity is Severity.fail]
    assert fail.evidence["window"] == "2024-05-06" and fail.evidence["value"] > 1.0
    assert "trusted test set" in fail.message and fail.evidence["trusted"] == pytest.approx(trusted().scaled)


def test_small_days_are_pooled_and_too_few_labels_are_not_judged() -> None:
    """Days of 60 labelled rows are pooled into windows of at least min_rows; with fewer rows than that in all,
    nothing is judged and that is a warning, not a pass."""
    run = checked(concept_drift, monitored([scored(60, i) for i in range(10)]))
    assert run.metrics["concept_drift.windows"] == 2  # 10 days x 60 rows, pooled to >= 200 rows each
    [f] = checked(concept_drift, monitored([scored(60, 1)])).findings
    assert f.severity is Severity.warn and "not judged" in f.message


def test_concept_drift_without_the_trusted_score_is_a_warning() -> None:
    """No evaluation output to compare with: not measured, said as a warning."""
    x = monitored([scored(300, 1)])
    [f] = checked(concept_drift, MonitoringInputs(**{**x.__dict__, "trusted": None})).findings
    assert f.severity is Severity.warn and "trusted test score" in f.message


def test_trusted_score_is_read_from_the_evaluation_summary(tmp_path: Path) -> None:
    """The gate metric and the confusion counts the evaluation stage wrote give the score and its chance level."""
    counts = {"true_negatives": 70.0, "false_positives": 10.0, "false_negatives": 5.0, "true_positives": 15.0}
    summary = {"metric": "accuracy", "threshold": 0.5, "candidate": {"scores": {"accuracy": 0.85, **counts}}}
    (tmp_path / "test_scores.json").write_text(json.dumps(summary))
    got = trusted_score(tmp_path)
    assert got is not None and got.rows == 100 and got.value == 0.85
    assert got.scaled == pytest.approx(0.5 + 0.5 * (0.85 - 0.8) / 0.2)  # chance: always negative, 0.80
    assert trusted_score(tmp_path / "missing") is None


# confidence_collapse


def test_confidence_like_training_is_quiet() -> None:
    """Traffic scored like the training rows: an info finding with the means and quantiles."""
    [f] = checked(confidence_collapse, monitored([scored(500, i) for i in range(3)])).findings
    assert f.severity is Severity.info and "q50" in f.message


def test_traffic_the_model_is_unsure_of_warns() -> None:
    """Scores gathered near 0.5: most of training's confidence above a coin flip lost, a warning."""
    rng = np.random.default_rng(3)
    unsure = [(rng.uniform(0.4, 0.6, 500), np.zeros(500)) for _ in range(3)]
    run = checked(confidence_collapse, monitored(unsure))
    [f] = run.findings
    assert f.severity is Severity.warn and f.evidence["value"] > 0.5
    assert run.metrics["confidence_collapse.window_confidence_lost_last"] > 0.5
