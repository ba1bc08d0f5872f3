"""Covariate shift: per-feature effect sizes training vs a batch, quiet on the same process, loud on a moved
distribution, and silent on what the features layer owns (out-of-range values, unseen categories, scaling)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import covariate_shift
from tasks.data.covariate_shift import prepared_batch
from tasks.result import Finding, Severity
from tests.checking import checked
from tests.data_inputs import data_inputs


def draw(
    rows: int, seed: int, loc: float = 50.0, weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "speed": rng.normal(loc, 10.0, rows),
            "kind": rng.choice(["a", "b", "c"], size=rows, p=list(weights)),
        }
    )


def shift(train: pd.DataFrame, batch: pd.DataFrame) -> tuple[Finding, dict[str, float]]:
    """The check (default limits: normed Wasserstein 0.5 / 1.0, Jensen-Shannon 0.17 / 0.33) on one batch."""
    x = data_inputs(train, {"current": batch}, numeric=["speed"], categorical=["kind"])
    run = checked(covariate_shift, x)
    [finding] = run.findings
    assert finding.check == "covariate_shift", finding.message
    return finding, run.metrics


def test_same_process_is_quiet() -> None:
    """Two samples of the same distributions: info, and the closest column is still named."""
    finding, metrics = shift(draw(3000, 0), draw(1000, 1))
    assert finding.severity is Severity.info
    assert "no feature moved" in finding.message
    assert metrics["covariate_shift.current.speed"] < 0.2


def test_a_numeric_feature_two_sds_away_fails_with_its_statistic() -> None:
    """A distribution moved by two standard deviations fails, naming the column, size and statistic."""
    finding, metrics = shift(draw(3000, 0), draw(1000, 1, loc=70.0))
    assert finding.severity is Severity.fail
    assert finding.columns == ["speed"]
    assert "normed Wasserstein" in finding.message and "`speed` 1.9" in finding.message  # 11% clipped at the max
    assert metrics["covariate_shift.current.wasserstein_max"] > 1.0


def test_a_category_mix_that_moved_fails_by_jensen_shannon() -> None:
    """The same categories in very different proportions fail by Jensen-Shannon distance."""
    finding, _ = shift(draw(3000, 0), draw(1000, 1, weights=(0.05, 0.15, 0.8)))
    assert finding.severity is Severity.fail
    assert finding.columns == ["kind"] and "Jensen-Shannon" in finding.message


def test_a_medium_shift_only_warns() -> None:
    """Seven tenths of a standard deviation is a medium effect: a warning, not a fail."""
    finding, _ = shift(draw(3000, 0), draw(1000, 1, loc=57.0))
    assert finding.severity is Severity.warn and finding.columns == ["speed"]


def test_impossible_values_and_unseen_categories_are_not_a_shift() -> None:
    """5% of values far beyond the training range and 30% of a new category: the features layer's faults
    (out_of_range, unseen_categories), so no shift here; how much was set aside is in the evidence."""
    batch = draw(1000, 1)
    batch.loc[batch.index[:50], "speed"] = -1e6
    batch.loc[batch.index[100:400], "kind"] = "new"
    finding, _ = shift(draw(3000, 0), batch)
    assert finding.severity is Severity.info
    assert finding.evidence["clipped_or_unseen_share"]["kind"] > 0.29


def test_a_column_scaled_on_one_side_is_left_to_the_features_layer() -> None:
    """A standardized batch column vs raw training values is a normalization skew: info pointing there."""
    batch = draw(1000, 1)
    batch["speed"] = (batch["speed"] - 50.0) / 10.0
    finding, _ = shift(draw(3000, 0), batch)
    assert finding.severity is Severity.info
    assert finding.evidence["deferred_to_features"] == ["speed"] and "normalization_skew" in finding.message


def test_prepared_batch_clips_to_the_training_range_and_blanks_unseen_categories() -> None:
    """The batch as measured: numbers clipped to [min, max] of training, unseen categories missing."""
    train = pd.DataFrame({"x": [0.0, 10.0], "k": ["a", "b"]})
    batch = pd.DataFrame({"x": [-5.0, 5.0, 50.0, np.nan], "k": ["a", "z", None, "b"]})
    out, touched = prepared_batch(train, batch, ["x"], ["k"])
    assert out["x"].tolist()[:3] == [0.0, 5.0, 10.0]
    assert out["k"].isna().tolist() == [False, True, True, False]
    assert touched == {"x": 2 / 3, "k": 1 / 3}
