"""Inconsistent values: one category spelled several ways, a numeric column at another power of ten, and a unit
change by any factor in a share of a batch's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.data import inconsistent_values
from tasks.data.inconsistent_values import scale_factor, spelling_variants
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


def frame(rows: int = 2000, seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "carrier": rng.choice(["UA", "AA", "B6"], rows),
            "length_cm": rng.gamma(4.0, 40.0, rows) * scale,
            "temp": rng.normal(10.0, 8.0, rows) * scale,
        }
    )


def check(train: pd.DataFrame, batch: pd.DataFrame | None = None, name: str = "current") -> list[Finding]:
    """The check (default params: variants warn 0 / fail 1%, scale tolerance 0.15, a scale change fails) on
    training against itself and, when given, one batch; the findings about `name`."""
    batches = {} if batch is None else {name: batch}
    x = data_inputs(train, batches, target="none", numeric=["length_cm", "temp"], categorical=["carrier"])
    return [f for f in findings(inconsistent_values, x) if f.evidence.get("batch") == name]


def test_consistent_batches_are_quiet() -> None:
    """Same spellings, same units: one info line."""
    found = check(frame(seed=0), frame(seed=1))
    assert [f.severity for f in found] == [Severity.info]


def test_case_and_space_variants_fail_with_column_and_variants() -> None:
    """A quarter of carriers lower-cased or padded: a fail naming the column, the canonical spelling and
    its variants."""
    batch = frame(seed=1)
    rows = batch.index[::4]
    batch.loc[rows, "carrier"] = [v.lower() if k % 2 else f" {v}" for k, v in enumerate(batch.loc[rows, "carrier"])]
    found = [f for f in check(frame(seed=0), batch) if f.severity is not Severity.info]
    assert [(f.severity, f.columns) for f in found] == [(Severity.fail, ["carrier"])]
    assert "'UA' also as" in found[0].message and "25.00% of rows" in found[0].message
    assert set(found[0].evidence["variants"]["UA"]) == {"ua", " UA"}


def test_variants_inside_training_itself_are_found() -> None:
    """Training against itself: its rarer spelling is the variant."""
    train = frame()
    train.loc[train.index[:30], "carrier"] = "U.A."
    found = check(train, name="train")
    assert found[0].severity is Severity.fail and found[0].evidence["variants"] == {"UA": ["U.A."]}


def test_values_that_are_only_punctuation_are_not_grouped() -> None:
    """'-' and '?' reduce to nothing: not spellings of one value."""
    rows, groups = spelling_variants(pd.Series(["-", "?", "a"]), pd.Series(["-", "?"]))
    assert rows == 0 and groups == {}


def test_a_unit_change_fails_with_its_scale_factor() -> None:
    """Centimetres sent as metres (x0.01): a fail with the factor; the other column is unchanged."""
    batch = frame(seed=1)
    batch["length_cm"] = batch["length_cm"] / 100
    found = [f for f in check(frame(seed=0), batch) if f.severity is not Severity.info]
    assert [f.columns for f in found] == [["length_cm"]]
    assert found[0].evidence["scale_factor"] == 0.01 and "0.01 times" in found[0].message


def test_a_natural_shift_is_not_a_unit_change() -> None:
    """Values 30% larger, or spread twice as wide: no power of ten."""
    a = frame(seed=0)["length_cm"]
    assert scale_factor(a, a * 1.3, 0.15)[0] is None
    assert scale_factor(a, (a - a.mean()) * 2 + a.mean(), 0.15)[0] is None
    assert scale_factor(a, a * 1000, 0.15)[0] == 3


def test_a_column_standardized_on_one_side_is_not_a_unit_change() -> None:
    """Scaling to mean 0 / sd 1 on one side is the features layer's normalization skew."""
    batch = frame(seed=1)
    batch["temp"] = (batch["temp"] - batch["temp"].mean()) / batch["temp"].std()
    assert [f.severity for f in check(frame(seed=0), batch)] == [Severity.info]


def measured(train: np.ndarray, batch: np.ndarray) -> list[Finding]:
    """The check on one numeric column `x` (training against one current batch): its non-info findings."""
    x = data_inputs(pd.DataFrame({"x": train}), {"current": pd.DataFrame({"x": batch})}, target="none", numeric=["x"])
    return [f for f in findings(inconsistent_values, x) if f.severity is not Severity.info]


def in_half(values: np.ndarray, factor: float, seed: int = 9) -> np.ndarray:
    """`values` with half of the rows (drawn at random) times `factor`: one of two sites in another unit."""
    out = values.copy()
    out[np.random.default_rng(seed).random(len(out)) < 0.5] *= factor
    return out


def test_heights_in_centimetres_in_half_the_rows_are_a_unit_change() -> None:
    """Heights in inches (normal 67 / 4); one of two sites sends centimetres: x2.54 in half of the batch's rows.
    A fail naming the column, the factor, the share and the units it converts between."""
    rng = np.random.default_rng(0)
    [found] = measured(rng.normal(67, 4, 6000), in_half(rng.normal(67, 4, 3000), 2.54))
    assert found.severity is Severity.fail and found.columns == ["x"]
    assert found.evidence["kind"] == "partial_scale" and found.evidence["scale_factor"] == pytest.approx(2.54, rel=0.01)
    assert found.evidence["share"] == pytest.approx(0.5, abs=0.05)
    assert "2.54 times" in found.message and "inches to centimetres" in found.message


def test_weights_in_kilograms_in_half_the_rows_are_a_unit_change() -> None:
    """Weights in pounds (log-normal around 170); half of the batch in kilograms: x0.4536, named as such."""
    rng = np.random.default_rng(0)
    [found] = measured(rng.lognormal(np.log(170), 0.2, 6000), in_half(rng.lognormal(np.log(170), 0.2, 3000), 0.4536))
    assert found.columns == ["x"] and found.evidence["scale_factor"] == pytest.approx(0.4536, rel=0.01)
    assert "0.4536 times" in found.message and "pounds to kilograms" in found.message


def test_a_broad_skewed_column_is_caught_at_a_factor_too() -> None:
    """A broad gamma column (cv 0.5: the two halves overlap) x2.54 in half of the rows: still told from every
    natural explanation at these sizes (6000 / 3000 rows)."""
    rng = np.random.default_rng(0)
    [found] = measured(rng.gamma(4.0, 40.0, 6000), in_half(rng.gamma(4.0, 40.0, 3000), 2.54))
    assert found.evidence["scale_factor"] == pytest.approx(2.54, rel=0.02)


@pytest.mark.parametrize(
    "story",
    ["price tiers 30% -> 60% premium", "children 30% -> 60%", "two modes both moving", "whole batch x1.3"],
)
def test_honest_bimodal_and_rescaled_columns_are_not_unit_changes(story: str) -> None:
    """Columns with two honest modes (a premium tier at ~2.5x the basic price; children and adults) whose mix
    changes, modes that both move, a whole batch 30% larger: each is training reweighted, shifted or rescaled,
    never a scaled copy in part of the rows. No finding."""
    rng = np.random.default_rng(0)

    def two_modes(n: int, share: float, low: tuple[float, float], high: tuple[float, float]) -> np.ndarray:
        second = rng.random(n) < share
        return np.where(second, rng.normal(*high, n), rng.normal(*low, n))

    train, batch = {
        "price tiers 30% -> 60% premium": (
            np.exp(two_modes(6000, 0.3, (np.log(100), 0.15), (np.log(250), 0.15))),
            np.exp(two_modes(3000, 0.6, (np.log(100), 0.15), (np.log(250), 0.15))),
        ),
        "children 30% -> 60%": (
            two_modes(6000, 0.3, (40, 8), (12, 3)).clip(1),
            two_modes(3000, 0.6, (40, 8), (12, 3)).clip(1),
        ),
        "two modes both moving": (two_modes(6000, 0.5, (20, 3), (50, 6)), two_modes(3000, 0.5, (23, 3), (55, 6))),
        "whole batch x1.3": (rng.lognormal(np.log(170), 0.2, 6000), rng.lognormal(np.log(170), 0.2, 3000) * 1.3),
    }[story]
    assert measured(train, batch) == []


def test_a_column_centred_on_zero_is_not_judged_for_a_partial_factor() -> None:
    """On a column of both signs a factor is a change of spread, which nature makes too: left to covariate shift."""
    rng = np.random.default_rng(0)
    assert measured(rng.normal(0, 8, 6000), in_half(rng.normal(0, 8, 3000), 2.54)) == []


def test_symbols_that_change_a_value_are_not_spelling() -> None:
    """'>16years' is not '16years', '-1' not '1', '3.5' not '35', 'C+' not 'C'; 'U.A.' still is 'ua'."""
    for a, b in ((">16years", "16years"), ("-1", "1"), ("3.5", "35"), ("C+", "C")):
        assert spelling_variants(pd.Series([a, b] * 5), pd.Series([a, b])) == (0, {})
    rows, groups = spelling_variants(pd.Series(["UA"] * 9), pd.Series(["U.A.", "UA", "ua"]))
    assert rows == 2 and groups == {"UA": ["U.A.", "ua"]}


def test_scale_factor_on_seeded_samples_of_a_large_column() -> None:
    """With `rows`, the scales come from seeded samples a side: the same factor of ten, or none, as every row
    gives, and the same ratios from run to run."""
    a = pd.Series(np.random.default_rng(4).lognormal(3, 1, 200_000))
    for batch, k in ((a * 1000, 3), (a * 0.01, -2), (a * 1.3, None)):
        whole, sampled = scale_factor(a, batch, 0.15), scale_factor(a, batch, 0.15, rows=5000, seed=1)
        assert whole[0] == sampled[0] == k
        assert sampled == scale_factor(a, batch, 0.15, rows=5000, seed=1)
        assert all(abs(whole[1][r] - sampled[1][r]) < 0.05 for r in whole[1])
