"""The pure checks of the evaluation stage: scores at a threshold, the score floor, the champion margin."""

from __future__ import annotations

import math

import numpy as np

from tasks.evaluation.champion import check_margin, no_champion
from tasks.evaluation.scoring import check_min_score, check_test_labels, classification_scores, labels_at
from tasks.limits import Floor
from tasks.result import Severity

FLOOR = Floor(warn=0.7, fail=0.6)
MARGIN = Floor(warn=-0.005, fail=-0.02)


def test_labels_at_threshold_is_inclusive() -> None:
    """A score equal to the threshold is positive, as in sklearn's FixedThresholdClassifier."""
    assert labels_at(np.array([0.29, 0.3, 0.31]), 0.3).tolist() == [0, 1, 1]


def test_classification_scores_use_probabilities_for_ranking_and_threshold_for_labels() -> None:
    """roc_auc comes from the scores (a perfect ranking is 1.0 at any cut); labels from the threshold."""
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4])
    at_half = classification_scores(y, s, 0.5)
    at_quarter = classification_scores(y, s, 0.25)
    assert at_half["roc_auc"] == 1.0 and at_quarter["roc_auc"] == 1.0
    assert at_half["true_positives"] == 0 and at_half["accuracy"] == 0.5
    assert at_quarter["true_positives"] == 2 and at_quarter["accuracy"] == 1.0


def test_single_class_makes_ranking_metrics_undefined_and_fails_the_labels_check() -> None:
    """A test set with one class cannot be ranked: roc_auc is NaN and the labels check fails."""
    y = np.array([1, 1, 1])
    assert math.isnan(classification_scores(y, np.array([0.2, 0.5, 0.9]), 0.5)["roc_auc"])
    finding = check_test_labels(y)
    assert finding is not None and finding.severity is Severity.fail


def test_two_classes_pass_the_labels_check() -> None:
    """Both classes present: nothing to report."""
    assert check_test_labels(np.array([0, 1, 0])) is None


def test_min_score_fires_below_the_floor() -> None:
    """Below the fail floor is a fail, between the floors a warn."""
    assert check_min_score("roc_auc", 0.55, FLOOR, 100, 0.5).severity is Severity.fail
    assert check_min_score("roc_auc", 0.65, FLOOR, 100, 0.5).severity is Severity.warn


def test_min_score_quiet_above_the_floor() -> None:
    """A score above both floors is info."""
    assert check_min_score("roc_auc", 0.8, FLOOR, 100, 0.5).severity is Severity.info


def test_min_score_undefined_is_a_failure_not_a_pass() -> None:
    """A NaN score is never judged as passing."""
    assert check_min_score("roc_auc", math.nan, FLOOR, 100, 0.5).severity is Severity.fail


def test_margin_fires_when_the_challenger_is_worse() -> None:
    """A challenger 0.05 below the champion fails the margin."""
    finding = check_margin("roc_auc", 0.70, 0.75, MARGIN, {})
    assert finding.severity is Severity.fail
    assert math.isclose(finding.evidence["margin"], -0.05)


def test_margin_quiet_when_equal() -> None:
    """Equal scores (margin 0) pass."""
    assert check_margin("roc_auc", 0.75, 0.75, MARGIN, {}).severity is Severity.info


def test_no_champion_is_info_and_says_first_run() -> None:
    """The first run reports that there is no champion; it is not a passed comparison."""
    finding = no_champion("m", "champion")
    assert finding.severity is Severity.info and "no champion yet" in finding.message
    assert "margin" not in finding.evidence
