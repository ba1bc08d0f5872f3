"""The training layer's plantings do what their docstrings say, at the stated sizes (the flow test proves the
checks catch them: tests/flow/test_faults.py)."""

from __future__ import annotations

import math

import numpy as np

from tasks.demo import plants
from tasks.demo.catalog import FAULTS
from tasks.demo.inject import clean_frames
from tasks.modeling import seeded
from tasks.params import SnapshotParams
from tasks.training.class_imbalance import Params as ImbalanceParams
from tests.unit.test_faults_plants import demo_like


def test_the_team_factory_is_not_reproducible_despite_the_seed():
    """Every random_state in the factory's pipeline is seeded, yet two fits differ: the under-sampling draws
    from an unseeded generator the seed never reaches."""
    df = demo_like(600, "2013-01-01", 0, "x")
    pipe = seeded(plants.undersampled_boosting(max_iter=10, min_samples_leaf=20), 42)
    assert [k for k in pipe.get_params() if k.endswith("random_state")] == ["model__estimator__random_state"]
    X, y = df.drop(columns="late"), df["late"].to_numpy()
    a, b = (seeded(pipe, 42).fit(X, y).predict_proba(X)[:, 1] for _ in range(2))
    assert not np.array_equal(a, b)
    assert FAULTS["nondeterministic_training"].params["model.factory"] == "tasks.demo.plants:undersampled_boosting"


def test_severe_delays_are_rare_in_every_file_of_the_sample():
    """On the 5% sample the fault tests use, "more than two hours late" is under the class_imbalance floor in
    training, and the files agree closely enough that no prior shift is planted with it (Cohen's h under the
    data layer's label_shift warn level, 0.2)."""
    planted = plants.class_imbalance(clean_frames(SnapshotParams(sample_fraction=0.05)), np.random.default_rng(0))
    rates = {name: float(df["late"].mean()) for name, df in planted.items()}
    assert 0.02 < rates["train"] < ImbalanceParams().minority_share.warn
    h = {n: abs(2 * math.asin(math.sqrt(rates["train"])) - 2 * math.asin(math.sqrt(r))) for n, r in rates.items()}
    assert max(h.values()) < 0.2, (rates, h)
