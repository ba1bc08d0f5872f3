"""Scores of a binary classifier at a threshold: one function for the challenger and the champion alike."""

from __future__ import annotations

import math

import numpy as np

from tasks.evaluation.scoring import classification_scores, labels_at


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


def test_single_class_makes_ranking_metrics_undefined() -> None:
    """A test set with one class cannot be ranked: roc_auc and average precision are NaN."""
    scores = classification_scores(np.array([1, 1, 1]), np.array([0.2, 0.5, 0.9]), 0.5)
    assert math.isnan(scores["roc_auc"]) and math.isnan(scores["average_precision"])


def test_no_rows_give_undefined_rates_not_a_crash() -> None:
    """An empty test set has no score at all: every rate is NaN (judged as a failure), every count 0."""
    scores = classification_scores(np.array([], dtype=int), np.array([]), 0.5)
    assert all(math.isnan(scores[k]) for k in ("roc_auc", "average_precision", "accuracy", "f1"))
    assert scores["true_positives"] == 0.0
