"""wrong_metric and the test_score floor on the chance scale: accuracy on imbalanced classes is judged against
the majority-class baseline, so a constant model cannot pass; threshold-free metrics and balanced classes are not
judged; a model with real skill is quiet. Calibrated synthetic scores, the labels drawn from them."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.evaluation import test_score, wrong_metric
from tasks.evaluation.inputs import EvaluationInputs
from tasks.evaluation.scoring import (
    bootstrap_counts,
    chance_score,
    classification_scores,
    on_chance_scale,
    resampled_chance,
    resampled_scores,
)
from tasks.params import EvaluationParams
from tasks.result import Severity

P = EvaluationParams()


def calibrated(rows: int, intercept: float, slope: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores that are the true probabilities (a logistic of a latent signal) and labels drawn from them."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (1.0 + np.exp(-(intercept + slope * rng.normal(size=rows))))
    return (rng.random(rows) < p).astype(int), p


def record(y: np.ndarray, s: np.ndarray, metric: str = "accuracy", threshold: float = 0.5) -> EvaluationInputs:
    return EvaluationInputs(
        test=pd.DataFrame({"y": y}),
        test_file=Path("test.parquet"),
        labels=y,
        scores=s,
        metric=metric,
        threshold=threshold,
        candidate_uri="models:/m-1",
        candidate_id="m-1",
        registered_model="m",
        alias="champion",
    )


def run(module, x: EvaluationInputs, params=None):  # noqa: ANN001, ANN202 (a check module)
    p = params or getattr(P, module.__name__.rsplit(".", 1)[-1])
    m = module.measure(x, p)
    return m, module.judge(m, p)


WEAK = calibrated(3000, -2.4, 0.6)  # ~10% positive, scores rarely reach 0.5: accuracy ~ the majority's
STRONG = calibrated(3000, -4.0, 3.0)  # ~10% positive, a sharp model


def test_chance_scale_is_auc_for_auc_and_half_for_a_constant():
    """ROC AUC is on its own scale; accuracy equal to the majority share, F1 of always-positive, average
    precision equal to the positive share all read 0.5; perfect reads 1."""
    y = np.array([0] * 9 + [1])
    assert on_chance_scale(0.73, chance_score("roc_auc", y)) == pytest.approx(0.73)
    assert on_chance_scale(0.9, chance_score("accuracy", y)) == pytest.approx(0.5)
    assert on_chance_scale(2 * 0.1 / 1.1, chance_score("f1", y)) == pytest.approx(0.5)
    assert on_chance_scale(0.1, chance_score("average_precision", y)) == pytest.approx(0.5)
    assert on_chance_scale(1.0, chance_score("accuracy", y)) == pytest.approx(1.0)
    assert math.isnan(on_chance_scale(1.0, chance_score("accuracy", np.zeros(5, dtype=int))))


@pytest.mark.parametrize("metric", ["roc_auc", "average_precision", "accuracy", "f1"])
def test_resampled_scores_match_the_plain_ones_on_the_rows_themselves(metric):
    """A 'resample' that draws each row once gives the plain metric (label metrics at the threshold); chance
    follows each resample's positive share."""
    y, s = WEAK
    ones = np.ones((1, len(y)))
    got = resampled_scores(metric, y, s, ones, threshold=0.3)[0]
    assert got == pytest.approx(classification_scores(y, s, 0.3)[metric])
    assert resampled_chance(metric, y, ones)[0] == pytest.approx(chance_score(metric, y))
    draws = bootstrap_counts(len(y), 5, np.random.default_rng(0))
    assert draws.shape == (5, len(y)) and (draws.sum(axis=1) == len(y)).all()


def test_threshold_free_gate_metric_is_not_judged():
    """ROC AUC does not reward the majority class: info, said as not judged."""
    _, [f] = run(wrong_metric, record(*WEAK, metric="roc_auc"))
    assert f.severity is Severity.info and "not judged" in f.message


def test_balanced_classes_are_not_judged():
    """With the rarer class above minority_share, accuracy means what it says: info."""
    y, s = calibrated(2000, 0.0, 0.3)
    m, [f] = run(wrong_metric, record(y, s))
    assert f.severity is Severity.info and "balanced enough" in f.message and m.minority_share > 0.4


def test_accuracy_barely_beating_the_majority_warns_with_the_baseline_and_a_better_metric():
    """Imbalanced classes, a model whose accuracy is the majority's: warn, naming the baseline's score, the
    better metric and its value."""
    y, s = WEAK
    m, [f] = run(wrong_metric, record(y, s))
    assert f.severity is Severity.warn
    assert m.baseline == pytest.approx(1 - y.mean()) and m.skill_upper < P.wrong_metric.skill.warn
    assert f"{m.baseline:.4f}" in f.message and "always predicting 0" in f.message
    assert "roc_auc" in f.message and f.evidence["roc_auc"] > 0.6  # the scores do rank: the metric hides it


def test_f1_is_judged_against_always_positive():
    """F1 at a fixed threshold: the baseline is always predicting 1."""
    y, s = WEAK
    m, [f] = run(wrong_metric, record(y, s, metric="f1"))
    assert m.baseline == pytest.approx(2 * y.mean() / (1 + y.mean()))
    assert "always predicting 1" in f.message and f.severity is Severity.warn


def test_a_model_with_real_skill_is_quiet_on_imbalanced_classes():
    """A sharp model removes most of the majority baseline's errors: info."""
    m, [f] = run(wrong_metric, record(*STRONG))
    assert f.severity is Severity.info and m.skill > 0.3 and m.minority_share < 0.2


def test_test_score_floor_is_on_the_chance_scale():
    """Accuracy 0.9 on 90% negatives is no skill: under the floor, not a pass; the sharp model passes;
    ROC AUC is judged as before."""
    m, [f] = run(test_score, record(*WEAK))
    assert m.value > 0.85 and m.scaled < 0.55 and f.severity is Severity.fail
    assert "no skill" in f.message and "wrong_metric" in f.message
    _, [ok] = run(test_score, record(*STRONG))
    assert ok.severity is Severity.info
    auc, [g] = run(test_score, record(*STRONG, metric="roc_auc"))
    assert auc.scaled == auc.value == g.evidence["value"]


def test_test_score_writes_the_curve_tables(tmp_path: Path):
    """The confusion matrix at the threshold and the ROC, PR and calibration curves as CSV."""
    m, _ = run(test_score, record(*STRONG, threshold=0.3))
    files = m.evidence(tmp_path)
    assert set(files) == {
        "confusion_matrix.csv",
        "roc_curve_plot.csv",
        "precision_recall_curve_plot.csv",
        "calibration_curve_plot.csv",
    }
    cm = pd.read_csv(tmp_path / "confusion_matrix.csv")
    assert cm["count"].sum() == len(STRONG[0]) and (cm["threshold"] == 0.3).all()
    assert cm.query("actual == 1 and predicted == 1")["count"].item() == m.scores["true_positives"]
    cal = pd.read_csv(tmp_path / "calibration_curve_plot.csv")
    assert cal["rows"].sum() == len(STRONG[0])
    one_class, _ = run(test_score, replace(record(*STRONG), labels=np.zeros(len(STRONG[0]), dtype=int)))
    assert list(one_class.curves) == ["confusion_matrix"]
