from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.features import out_of_range, preprocessing_parity, unseen_categories
from tasks.features.parity import as_matrix, load_preprocessor, save_preprocessor
from tasks.limits import Limit
from tasks.modeling import build_preprocessor
from tasks.result import Severity
from tests.checking import feature_inputs, findings

TRAIN = pd.DataFrame({"city": ["a", "b", "a", "c"] * 25, "age": np.linspace(20, 60, 100)})


def replay_parity(fitted, replayed, limit=None):
    params = preprocessing_parity.Params(max_abs_diff=limit) if limit else None
    [f] = findings(preprocessing_parity, feature_inputs(TRAIN, fitted=fitted, replayed=replayed), params)
    return f


def unseen(batch):
    return findings(unseen_categories, feature_inputs(TRAIN, batch, categorical=["city"]))


def outside(batch):
    return findings(out_of_range, feature_inputs(TRAIN, batch, numeric=["age"]))


def test_parity_quiet_when_the_shipped_preprocessing_reproduces_training(tmp_path):
    """The fitted preprocessing saved with skops and reloaded gives the very same features."""
    pre = build_preprocessor(["city"], ["age"]).fit(TRAIN)
    save_preprocessor(pre, tmp_path / "pre.skops")
    replayed = as_matrix(load_preprocessor(tmp_path / "pre.skops").transform(TRAIN))
    f = replay_parity(as_matrix(pre.transform(TRAIN)), replayed)
    assert f.severity is Severity.info and f.evidence["value"] == 0.0


def test_parity_fires_when_serving_skips_the_scaling():
    """Raw values where training had scaled ones is a parity failure, with the difference as evidence."""
    pre = build_preprocessor(["city"], ["age"]).fit(TRAIN)
    fitted = as_matrix(pre.transform(TRAIN))
    unscaled = fitted.copy()
    unscaled[:, 0] = TRAIN["age"].to_numpy()
    f = replay_parity(fitted, unscaled)
    assert f.severity is Severity.fail and f.evidence["rows_differ"] == 100


def test_parity_says_when_there_is_no_preprocessing():
    """A model that reads raw columns has nothing to replay: one info finding says so."""
    [f] = findings(preprocessing_parity, feature_inputs(TRAIN))
    assert f.severity is Severity.info and "no preprocessing" in f.message


def test_parity_fires_on_a_different_feature_count():
    """A preprocessing that yields another number of features cannot be the one trained on."""
    f = replay_parity(np.zeros((3, 4)), np.zeros((3, 5)), Limit(warn=0, fail=0))
    assert f.severity is Severity.fail and "5 features" in f.message


def test_unseen_categories_judged_by_share():
    """A new category in 20% of serving rows fails; one in 0.5% is reported as info."""
    batch = pd.DataFrame({"city": ["a"] * 80 + ["zz"] * 20})
    f = unseen(batch)
    assert f[0].severity is Severity.fail and f[0].evidence["values"] == {"zz": 20}
    small = pd.DataFrame({"city": ["a"] * 199 + ["zz"]})
    assert unseen(small)[0].severity is Severity.info


def test_no_unseen_categories_is_silent():
    """Serving categories that training saw produce no finding at all."""
    assert unseen(TRAIN.head(10)) == []


def test_out_of_range_far_beyond_training_fails():
    """Negative ages, far outside what the model was fitted on, fail and are shown with the allowed range."""
    batch = pd.DataFrame({"age": [-30.0] * 10 + [30.0] * 90})
    f = outside(batch)[0]
    assert f.severity is Severity.fail and f.evidence["values"] == [-30.0]
    assert f.evidence["allowed_range"] == [0.0, 80.0]


def test_out_of_range_just_beyond_training_warns():
    """Values a little past the training range (extrapolation, not nonsense) warn."""
    batch = pd.DataFrame({"age": [62.0] * 10 + [30.0] * 90})
    assert outside(batch)[0].severity is Severity.warn


def test_in_range_is_silent():
    """Values inside the training range produce no finding."""
    assert outside(TRAIN) == []


def test_parity_on_a_sample_says_so_and_still_fires():
    """Over `rows` training rows the replay is on a seeded sample: the message names it, a skipped scaling still
    fails on it, and the sample is the same rows run after run."""
    from tasks.data.stats import sample_positions

    pre = build_preprocessor(["city"], ["age"]).fit(TRAIN)
    fitted = as_matrix(pre.transform(TRAIN))
    rows = sample_positions(len(TRAIN), 40, seed=7)
    assert len(rows) == 40 and list(rows) == sorted(set(rows)) and (rows == sample_positions(100, 40, 7)).all()
    assert (sample_positions(30, 40, 7) == np.arange(30)).all()
    same = replay_parity(fitted[rows], fitted[rows].copy())
    assert same.severity is Severity.info and "a seeded sample of 40 of the 100 raw training rows" in same.message
    unscaled = fitted[rows].copy()
    unscaled[:, 0] = TRAIN["age"].to_numpy()[rows]
    assert replay_parity(fitted[rows], unscaled).severity is Severity.fail
