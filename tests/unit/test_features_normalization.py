"""normalization_skew: a scaler applied on one side of the model only, told apart from drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.columns import normalization
from tasks.features import normalization_skew
from tasks.features.normalization_skew import affine_fit
from tasks.result import Severity
from tests.checking import feature_inputs, findings

P = normalization_skew.Params()
RNG = np.random.default_rng(0)
RAW = 50.0 + 10.0 * RNG.normal(size=2000)  # e.g. degrees: mean 50, sd 10
SERVE_RAW = 50.0 + 10.0 * RNG.normal(size=500)


def standardized(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (x - ref.mean()) / ref.std()


def skew(train: np.ndarray, serve: np.ndarray) -> list:
    return findings(
        normalization_skew, feature_inputs(pd.DataFrame({"t": train}), pd.DataFrame({"t": serve}), numeric=["t"])
    )


def test_standardized_training_and_raw_serving_fails_with_the_scale():
    """Training standardized, serving raw: a fail naming the missing scaling, with scale ~10 and offset ~50."""
    [f] = skew(standardized(RAW, RAW), SERVE_RAW)
    assert f.severity is Severity.fail and f.check == "normalization_skew"
    assert "missing at serving" in f.message and "'t'" in f.message
    assert f.evidence["normalized_side"] == "training" and f.evidence["normalization"] == "standardized"
    assert f.evidence["scale"] == pytest.approx(10, rel=0.15) and f.evidence["offset"] == pytest.approx(50, rel=0.05)


def test_scaling_applied_only_at_serving_fails_too():
    """Raw training, standardized serving: the other direction of the same bug."""
    [f] = skew(RAW, standardized(SERVE_RAW, RAW))
    assert f.severity is Severity.fail and f.evidence["normalized_side"] == "serving"
    assert "training never did" in f.message


def test_min_max_scaled_training_and_raw_serving_fails():
    """A min-max scaler (values in [0, 1]) missing at serving is named as such."""
    train = RNG.uniform(0, 1, 1000)
    train[[0, 1]] = [0.0, 1.0]
    [f] = skew(train, RNG.uniform(0, 100, 300))
    assert f.severity is Severity.fail and f.evidence["normalization"] == "min-max scaled"


def test_raw_columns_with_drift_are_not_normalization_skew():
    """Both sides raw (a plain drift of 0.5 sd): no finding; that is the data layer's covariate shift."""
    assert skew(RAW, SERVE_RAW + 5.0) == []


def test_both_sides_standardized_is_quiet():
    """The scaler applied on both paths: no finding."""
    assert skew(standardized(RAW, RAW), standardized(SERVE_RAW, RAW)) == []


def test_small_drift_of_a_normalized_column_is_info():
    """A normalized column drifting by a fifth of an sd is measured but below warn."""
    [f] = skew(standardized(RAW, RAW), standardized(SERVE_RAW, RAW) + 0.2)
    assert f.severity is Severity.info and "too close" in f.message


def test_a_change_of_shape_is_not_explained_by_a_scaler():
    """Serving values no affine map of training's explains (a skewed distribution) are not reported."""
    serve = np.exp(RNG.normal(0.0, 1.5, 500)) * 10
    assert affine_fit(standardized(RAW, RAW), serve)[2] < P.affine_fit_r2
    assert skew(standardized(RAW, RAW), serve) == []


def test_scale_recognises_normalized_values():
    """Standardized and min-max scaled values are recognised; raw ones are not."""
    assert normalization(pd.Series(standardized(RAW, RAW)), 0.1) == "standardized"
    assert normalization(pd.Series([0.0, 0.3, 1.0]), 0.1) == "min-max scaled"
    assert normalization(pd.Series(RAW), 0.1) is None
