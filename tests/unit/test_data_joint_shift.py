"""Joint shift: rows whose columns stop going together as in training (two columns exchanged in part of a
batch, another entity's attributes joined in), quiet on clean batches of several shapes, including a batch from
another time window whose columns moved together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.data import joint_shift
from tasks.data.joint_shift import lower_bound, variety, wilson_lower
from tasks.result import Finding, Severity
from tests.checking import checked
from tests.data_inputs import data_inputs


def numeric_heavy(rows: int, seed: int, season: float = 0.0) -> pd.DataFrame:
    """Two sites' temperatures (the same distribution), each read again by a lagging sensor, a load driven by
    both, a free-standing gamma column. `season` moves both sites' weather together (in their sds)."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(season, 1.0, rows), rng.normal(season, 1.0, rows)
    return pd.DataFrame(
        {
            "inside": 20 + 3 * u + rng.normal(0, 0.5, rows),
            "outside": 20 + 3 * v + rng.normal(0, 0.5, rows),
            "inside_lag": 20 + 3 * u + rng.normal(0, 0.8, rows),
            "outside_lag": 20 + 3 * v + rng.normal(0, 0.8, rows),
            "load": 50 + 10 * u - 5 * v + rng.normal(0, 3, rows),
            "wait": rng.gamma(2.0, 1.0, rows),
            "y": (rng.random(rows) < 1 / (1 + np.exp(-u))).astype(int),
        }
    )


def low_cardinality(rows: int, seed: int, weights: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)) -> pd.DataFrame:
    """A region (the other window: other `weights`), a plan and 0/1 flags that depend on it, a small count:
    few-valued columns whose rows repeat by nature."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], rows, p=list(weights))
    urban = region == "north"
    car = (rng.random(rows) < np.where(urban, 0.3, 0.8)).astype(int)
    plan = np.where(rng.random(rows) < np.where(car == 1, 0.7, 0.2), "pro", rng.choice(["basic", "plus"], rows))
    return pd.DataFrame(
        {
            "region": region,
            "plan": plan,
            "car": car,
            "member": (rng.random(rows) < 0.5).astype(int),
            "kids": rng.poisson(np.where(car == 1, 2.0, 0.5)),
            "y": (rng.random(rows) < np.where(car == 1, 0.6, 0.3)).astype(int),
        }
    )


def strong_feature(rows: int, seed: int, longer: float = 1.0) -> pd.DataFrame:
    """A fare almost fixed by the distance (an honest, very strong relation), a toll fixed by the bridge flag:
    the kind of column a model explains at 99%. `longer` stretches the trips (another window)."""
    rng = np.random.default_rng(seed)
    distance = rng.gamma(3.0, 5.0 * longer, rows)
    bridge = (rng.random(rows) < 0.3).astype(int)
    return pd.DataFrame(
        {
            "distance": distance,
            "fare": 2.5 + 1.8 * distance + rng.normal(0, 0.3, rows),
            "bridge": bridge,
            "toll": 6.0 * bridge,
            "minutes": 4 + 2.2 * distance + rng.normal(0, 4, rows),
            "y": (rng.random(rows) < 0.2 + 0.02 * np.minimum(distance, 30)).astype(int),
        }
    )


def judged(
    train: pd.DataFrame, batch: pd.DataFrame, params: joint_shift.Params | None = None, **kw
) -> tuple[Finding, joint_shift.Measurement]:
    """The check (default params: share and exchanged limits warn 0.05 / fail 0.10, tail 0.99, margin 1.0) on
    one current batch: its finding and the measurement."""
    x = data_inputs(train, {"current": batch}, **kw)
    run = checked(joint_shift, x, params)
    [finding] = [f for f in run.findings if f.evidence.get("batch") == "current"]
    assert finding.check == "joint_shift", finding.message
    return finding, run.measurements["joint_shift"]


def exchanged(df: pd.DataFrame, a: str, b: str, share: float, seed: int = 5) -> pd.DataFrame:
    out = df.copy()
    rows = np.random.default_rng(seed).random(len(df)) < share
    out.loc[rows, [a, b]] = df.loc[rows, [b, a]].to_numpy()
    return out


SHAPES = {
    "numeric-heavy": (numeric_heavy, {}),
    "low-cardinality": (low_cardinality, {"weights": (0.25, 0.25, 0.25, 0.25)}),
    "strong feature": (strong_feature, {"longer": 1.4}),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_clean_batches_are_quiet_in_every_shape(shape: str) -> None:
    """A batch of the same process, and one from another window (the columns moved together: a season, another
    mix of regions, longer trips): info, every share of broken rows and exchanged pair below 3%."""
    draw, other_window = SHAPES[shape]
    train = draw(4000, 0)
    for batch in (draw(2000, 1), draw(2000, 2, **other_window)):
        finding, m = judged(train, batch)
        assert finding.severity is Severity.info, finding.message
        assert "rows keep training's relations" in finding.message
        [joint] = m.joints
        assert max(r.excess for r in joint.relations) < 0.03
        assert max((e.excess for e in joint.exchanges), default=0.0) < 0.03


def test_tiny_frames_are_quiet_when_clean_and_still_see_an_exchange() -> None:
    """300 training rows (150 fitted, 150 held out) and a batch of 250: clean batches of every shape quiet, the
    two sites exchanged in a quarter of the rows still a fail."""
    for draw, _ in SHAPES.values():
        finding, _ = judged(draw(300, 0), draw(250, 1))
        assert finding.severity is Severity.info, finding.message
    finding, _ = judged(numeric_heavy(300, 0), exchanged(numeric_heavy(250, 1), "inside", "outside", 0.25))
    assert finding.severity is Severity.fail and finding.columns[:2] == ["inside", "outside"], finding.message


def test_a_season_moving_every_column_by_two_sds_is_quiet() -> None:
    """The whole batch two sds warmer (both sites, their sensors and the load together): what moved is the
    window, not how the columns go together (covariate shift's business)."""
    finding, _ = judged(numeric_heavy(4000, 0), numeric_heavy(2000, 1, season=2.0))
    assert finding.severity is Severity.info, finding.message


def test_two_columns_exchanged_in_a_quarter_of_rows_fail_naming_the_pair() -> None:
    """The two sites' temperatures exchanged in 25% of rows (each keeps its distribution): a fail naming both,
    the share of rows that fit better exchanged well above held-out training's."""
    finding, m = judged(numeric_heavy(4000, 0), exchanged(numeric_heavy(2000, 1), "inside", "outside", 0.25))
    assert finding.severity is Severity.fail, finding.message
    assert finding.columns[:2] == ["inside", "outside"]
    assert "`inside` and `outside` look exchanged" in finding.message
    best = max(m.joints[0].exchanges, key=lambda e: e.excess)
    assert best.columns == ("inside", "outside") and best.excess > 0.10


def test_two_categories_exchanged_are_found_as_a_pair() -> None:
    """Home and work region (the same set of values, each tied to its own columns) exchanged in 25% of rows."""

    def regions(rows: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        home = rng.choice(["n", "s", "e", "w"], rows)
        work = rng.choice(["n", "s", "e", "w"], rows)
        return pd.DataFrame(
            {
                "home": home,
                "work": work,
                "home_zip": pd.Series(home).map({"n": 10, "s": 20, "e": 30, "w": 40}) + rng.integers(0, 5, rows),
                "office_zip": pd.Series(work).map({"n": 10, "s": 20, "e": 30, "w": 40}) + rng.integers(0, 5, rows),
                "y": rng.integers(0, 2, rows),
            }
        )

    finding, m = judged(regions(4000, 0), exchanged(regions(2000, 1), "home", "work", 0.25))
    assert finding.severity is Severity.fail, finding.message
    assert set(finding.columns[:2]) == {"home", "work"}
    assert max(m.joints[0].exchanges, key=lambda e: e.excess).columns == ("home", "work")


def test_another_entitys_attributes_joined_in_break_the_relations() -> None:
    """A quarter of rows get another row's `load` (a join on the wrong key): no pair, but the rows break the
    load's relation to the temperatures: at least a warning naming `load`."""
    batch = numeric_heavy(2000, 1)
    rows = np.random.default_rng(3).random(len(batch)) < 0.25
    batch.loc[rows, "load"] = np.random.default_rng(4).permutation(batch.loc[rows, "load"].to_numpy())
    finding, _ = judged(numeric_heavy(4000, 0), batch)
    assert finding.severity >= Severity.warn, finding.message
    assert "load" in finding.columns


def stamped(df: pd.DataFrame, start: str, days: int, seed: int) -> pd.DataFrame:
    """`df` with a `when` timestamp spread over `days` days from `start` (rows in time order)."""
    offsets = np.sort(np.random.default_rng(seed).uniform(0, days * 86_400, len(df)))
    return df.assign(when=pd.Timestamp(start) + pd.to_timedelta(offsets, unit="s"))


def test_odd_days_count_as_days_not_as_their_rows() -> None:
    """A batch of 10 days with timestamps in which two whole days (20% of rows) have their loads shuffled (days
    unlike any of training's): rows of one day are not independent, so the bound comes from the spread of the
    blocks of time, and two days of ten do not reach a warning; the same rows as independent rows (no timestamp)
    do."""
    train = stamped(numeric_heavy(4000, 0), "2024-01-01", 300, 0)
    batch = stamped(numeric_heavy(2000, 1), "2024-11-01", 10, 1)
    day = (batch["when"] >= "2024-11-05") & (batch["when"] < "2024-11-07")
    batch.loc[day, "load"] = np.random.default_rng(4).permutation(batch.loc[day, "load"].to_numpy())
    features = [c for c in train.columns if c not in ("y", "when")]
    with_time, m = judged(train, batch, timestamp="when", features=features)
    assert with_time.severity is Severity.info, with_time.message
    without, _ = judged(train.drop(columns="when"), batch.drop(columns="when"))
    assert without.severity >= Severity.warn and "load" in without.columns, without.message


def test_an_exchange_spread_over_the_days_is_still_found_with_timestamps() -> None:
    """The two sites exchanged in a quarter of the rows of every day: the blocks agree, the bound stays tight,
    and training is held out by alternate blocks of time: a fail naming the pair."""
    train = stamped(numeric_heavy(4000, 0), "2024-01-01", 300, 0)
    batch = stamped(exchanged(numeric_heavy(2000, 1), "inside", "outside", 0.25), "2024-11-01", 20, 1)
    features = [c for c in train.columns if c not in ("y", "when")]
    finding, _ = judged(train, batch, timestamp="when", features=features)
    assert finding.severity is Severity.fail and finding.columns[:2] == ["inside", "outside"], finding.message


def test_a_predictor_missing_where_training_never_is_is_set_aside() -> None:
    """A sensor outage blanks `inside` in 30% of rows (the missing_spike check's business): those rows are set
    aside (with the few holding a value in training's own outer 1% of a column), the rest keep their relations."""
    batch = numeric_heavy(2000, 1)
    batch.loc[batch.index[:600], "inside"] = np.nan
    finding, m = judged(numeric_heavy(4000, 0), batch)
    assert finding.severity is Severity.info, finding.message
    assert 0.3 <= m.joints[0].set_aside < 0.4


def test_a_column_scaled_on_one_side_is_left_to_the_features_layer() -> None:
    """`inside` standardized in the batch only: not modelled (normalization_skew), and no fail from it."""
    batch = numeric_heavy(2000, 1)
    batch["inside"] = (batch["inside"] - batch["inside"].mean()) / batch["inside"].std(ddof=0)
    finding, m = judged(numeric_heavy(4000, 0), batch)
    assert "inside" not in m.columns and "normalization_skew" in m.skipped["inside"]
    assert finding.severity is Severity.info, finding.message


def test_small_batches_and_too_few_columns_are_not_measured() -> None:
    """50 batch rows, or a single feature: an info saying why, never a pass."""
    finding, m = judged(numeric_heavy(4000, 0), numeric_heavy(50, 1))
    assert finding.severity is Severity.info and "not measured: 50 rows" in finding.message
    assert m.joints == ()
    train = numeric_heavy(4000, 0)[["inside", "y"]]
    x = data_inputs(train, {"current": numeric_heavy(2000, 1)[["inside", "y"]]})
    found = checked(joint_shift, x).findings
    assert [f.severity for f in found] == [Severity.info] and "1 feature(s) to model" in found[0].message


def test_the_columns_modelled_are_capped_and_the_finding_says_so() -> None:
    """max_columns 4 of 6 features: the most varied are modelled (the 0/1 `member` and the few-valued `kids`
    are not), the rest named as left out; the cost is bounded by the cap."""
    train = numeric_heavy(4000, 0).assign(member=lambda d: (d["wait"] > 2).astype(int))
    batch = numeric_heavy(2000, 1).assign(member=lambda d: (d["wait"] > 2).astype(int))
    finding, m = judged(train, batch, joint_shift.Params(max_columns=4))
    assert len(m.columns) == 4 and "member" not in m.columns
    assert "max_columns" in m.skipped["member"]
    assert "left out (max_columns)" in finding.message


def test_variety_ranks_spread_columns_above_few_valued_ones() -> None:
    """Entropy of a column's values: a spread number above a 0/1 flag above a constant; missing counts as a
    value."""
    rng = np.random.default_rng(0)
    spread, flag = pd.Series(rng.normal(size=500)), pd.Series(rng.integers(0, 2, 500))
    assert variety(spread) > variety(flag) > variety(pd.Series(np.ones(500))) == 0.0
    assert variety(pd.Series([1.0, np.nan] * 10)) == pytest.approx(np.log(2))


def test_hits_crowded_into_a_few_blocks_of_time_have_a_wider_bound() -> None:
    """200 hits of 2000 rows in 20 blocks: spread evenly, the bound is Wilson's; crowded into two blocks (one
    odd day), it drops to 0; without blocks, Wilson's either way."""
    blocks = np.repeat(np.arange(20), 100)
    spread, crowded = np.zeros(2000, bool), np.zeros(2000, bool)
    spread[::10], crowded[:200] = True, True
    assert lower_bound(spread, blocks, 0.95) == pytest.approx(wilson_lower(200, 2000, 0.95))
    assert lower_bound(crowded, blocks, 0.95) == 0.0
    assert lower_bound(crowded, None, 0.95) == pytest.approx(wilson_lower(200, 2000, 0.95))


def test_the_lower_bound_is_below_the_share_and_tightens_with_rows() -> None:
    """Wilson's one-sided lower bound: below k / n, closer to it with more rows, 0 for no rows."""
    assert wilson_lower(10, 100, 0.95) < 0.1 < wilson_lower(1000, 10_000, 0.95) + 0.01
    assert wilson_lower(0, 0, 0.95) == 0.0
