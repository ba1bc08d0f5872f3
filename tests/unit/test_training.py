from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.params import TrainingParams
from tasks.result import Severity
from tasks.training.checks import generalisation_gap, reproducibility
from tasks.training.stage import validation_split

P = TrainingParams()


def test_identical_retrains_are_quiet():
    """Two identical prediction vectors: reproducible, info."""
    p = np.linspace(0, 1, 50)
    assert reproducibility(p, p.copy(), P.repro_max_abs_diff).severity is Severity.info


def test_nondeterministic_retrain_fails():
    """Predictions that differ between two same-seed trainings fail, with how many rows differ."""
    p = np.linspace(0, 1, 50)
    q = p.copy()
    q[:5] += 0.01
    f = reproducibility(p, q, P.repro_max_abs_diff)
    assert f.severity is Severity.fail and f.evidence["rows_differ"] == 5


def test_overfitting_gap_fails_and_small_gap_is_quiet():
    """Train far above validation fails with the gap and the threshold; a small gap is info."""
    f = generalisation_gap("roc_auc", 0.99, 0.70, P.train_val_gap)
    assert f.severity is Severity.fail and abs(f.evidence["value"] - 0.29) < 1e-9 and f.evidence["fail"] == 0.10
    assert generalisation_gap("roc_auc", 0.72, 0.71, P.train_val_gap).severity is Severity.info


def test_validation_is_the_latest_rows_when_there_is_a_timestamp():
    """With a timestamp, validation is the most recent share of rows, whatever the file order."""
    df = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")[::-1]})
    fit, val = validation_split(df, "ts", 0.2, seed=0)
    assert sorted(df["ts"].iloc[val]) == sorted(df["ts"].nlargest(2))
    assert len(fit) == 8
