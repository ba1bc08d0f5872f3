"""unseen_categories and out_of_range: messages a person acts on, and the limits that separate impossible
values from extrapolation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.features import out_of_range, unseen_categories
from tasks.result import Finding, Severity
from tests.checking import feature_inputs, findings

TRAIN = pd.DataFrame({"km": np.linspace(80.0, 5000.0, 1000), "dest": ["ORD", "ATL", "LAX", "MIA"] * 250})


def outside(batch):
    return findings(out_of_range, feature_inputs(TRAIN, batch, numeric=["km"]))


def unseen(batch):
    return findings(unseen_categories, feature_inputs(TRAIN, batch, categorical=["dest"]))


def test_a_few_percent_of_negative_values_fail_with_values_and_allowed_range():
    """2% negative distances (a sign bug) fail; the message names the column, values and allowed range."""
    batch = pd.DataFrame({"km": np.r_[-np.linspace(100, 900, 20), np.linspace(100, 4000, 980)]})
    [f] = outside(batch)
    assert f.severity is Severity.fail and f.evidence["share_beyond_allowed"] == 0.02
    assert "'km'" in f.message and "-900" in f.message and "[0, 7460]" in f.message and "2.00%" in f.message


def test_extrapolation_a_little_past_training_warns():
    """5% of values just above the training maximum: the model extrapolates, a warn, not a fail."""
    batch = pd.DataFrame({"km": np.r_[np.full(50, 5200.0), np.linspace(100, 4000, 950)]})
    [f] = outside(batch)
    assert f.severity is Severity.warn and "extrapolates" in f.message and "5200" in f.message


def test_values_inside_the_training_range_are_silent():
    """No value outside the training range: no finding."""
    assert outside(TRAIN.sample(100, random_state=0)) == []


def test_unseen_categories_name_values_counts_and_share():
    """New destinations in 20% of rows fail; the message lists each with its row count."""
    batch = pd.DataFrame({"dest": ["ORD"] * 80 + ["LCK"] * 12 + ["ONT"] * 8})
    [f] = unseen(batch)
    assert f.severity is Severity.fail and "'LCK' (12 rows)" in f.message and "20.00%" in f.message


def test_known_categories_are_silent():
    """Only categories training saw: no finding."""
    assert unseen(TRAIN.head(20)) == []


def test_a_sample_edge_in_a_count_column_is_not_judged_but_many_rows_and_a_new_sign_are():
    """A count column (0-4 in 3,500 training rows, as Caravan's insurance counts): one batch row of 8 is what
    a sample's range leaves (a row falls outside n rows' range with chance at most 2/(n+1)): info, saying so.
    Twenty such rows are not chance: judged. One negative count, a sign training never had, is judged too."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"policies": np.minimum(rng.poisson(0.4, 3500), 4)})
    ordinary = np.minimum(rng.poisson(0.4, 1164), 4).astype(float)

    def one(values: np.ndarray) -> Finding:
        [f] = findings(out_of_range, feature_inputs(train, pd.DataFrame({"policies": values}), numeric=["policies"]))
        return f

    edge = one(np.r_[8.0, ordinary[1:]])
    assert edge.severity is Severity.info and "not judged" in edge.message
    assert edge.evidence["rows_outside_training"] == 1 and edge.evidence["expected_outside_at_most"] < 1
    assert one(np.r_[np.full(20, 8.0), ordinary[20:]]).severity is Severity.fail
    negative = one(np.r_[-1.0, ordinary[1:]])
    assert negative.severity is Severity.warn and negative.evidence["rows_of_new_sign"] == 1
