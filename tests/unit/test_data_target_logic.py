"""Target logic changed: a training snapshot against the reference label profile (relabelled rows, label
rate, relation to the most related features); each labelled batch against training's rule (its rate beyond
what a shift of its rows carries, its relation beyond the rate); quiet on snapshots and batches made the same
way, shifted or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.data import target_logic_changed
from tasks.data.inputs import Baseline, Suite
from tasks.data.target_logic_changed import build_profile, crossfit, ranked_bins, rows_moved, training_cut
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


def snapshot(rows: int = 6000, seed: int = 0, threshold: float = 15.0, start: int = 0) -> pd.DataFrame:
    """Flights with a delay; `late` is the delay above `threshold` minutes (the label's definition)."""
    rng = np.random.default_rng(seed)
    hour = rng.integers(5, 24, rows)
    kind = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    delay = rng.normal(0, 20, rows) + 1.5 * (hour - 14) + np.where(kind == "a", 8, 0)
    return pd.DataFrame(
        {
            "id": [f"f{k}" for k in range(start, start + rows)],
            "hour": hour,
            "kind": kind,
            "delay": delay,
            "late": (delay > threshold).astype("int64"),
        }
    )


def profile_of(df: pd.DataFrame) -> dict:
    return build_profile(df, df["late"], ["hour", "kind"], "id", "late", 500)


def baseline(profile: dict | None, md5: str = "b" * 32) -> Baseline:
    target = Suite("target", "gx/expectations/target.json", 4, train_md5=md5)
    return Baseline(dir="gx/expectations", suites={"target": target}, label_profile=profile)


def compare(profile: dict | None, df: pd.DataFrame, md5: str = "b" * 32) -> Finding:
    train = df.drop(columns="delay")
    x = data_inputs(train, target="late", id="id", baseline=baseline(profile, md5), train_md5="a" * 32)
    [finding] = findings(target_logic_changed, x)
    return finding


def test_a_new_snapshot_of_the_same_logic_is_quiet() -> None:
    """Other rows of the same process (another seed, other ids): no relabelling measurable, rate and
    relation as before."""
    reference = profile_of(snapshot(seed=0))
    finding = compare(reference, snapshot(seed=1, start=100_000))
    assert finding.severity is Severity.info, finding.message
    assert "no row of the reference found again" in finding.message


def test_the_same_rows_under_a_new_definition_fail_as_relabelled() -> None:
    """'late' redefined as any delay (> 0 instead of > 15): rows both snapshots hold changed label 0 -> 1."""
    reference = profile_of(snapshot(seed=0))
    finding = compare(reference, snapshot(seed=0, threshold=0.0))
    assert finding.severity is Severity.fail
    assert finding.evidence["relabelled"]["0_to_1"] > 0 and finding.evidence["relabelled"]["1_to_0"] == 0
    assert finding.message.startswith("label rate / relation shift vs the reference snapshot")


def test_a_relation_that_flipped_fails_without_shared_rows() -> None:
    """New rows where the label now follows the hour the other way: the relation shift fails even though
    no row is shared and the label rate barely moves."""
    reference = profile_of(snapshot(seed=0))
    df = snapshot(seed=1, start=100_000)
    df["delay"] = df["delay"] - 3.0 * (df["hour"] - 14)
    df["late"] = (df["delay"] > 15.0).astype("int64")
    finding = compare(reference, df)
    assert finding.severity is Severity.fail
    assert finding.evidence["severities"]["relation"] == "fail" and finding.columns == ["hour"]


def test_a_rescaled_feature_keeps_its_relation() -> None:
    """The relation is measured on ranks: hours written in minutes change nothing."""
    reference = profile_of(snapshot(seed=0))
    df = snapshot(seed=1, start=100_000)
    df["hour"] = df["hour"] * 60
    assert compare(reference, df).severity is Severity.info


def test_without_a_stored_profile_nothing_is_judged() -> None:
    """A baseline written before profiles were recorded: info naming the command that writes one."""
    finding = compare(None, snapshot())
    assert finding.severity is Severity.info and "glassbox baseline --force" in finding.message


def test_the_snapshot_the_profile_came_from_is_compared_and_says_so() -> None:
    """The first run, against the profile recorded from this very snapshot: all measures 0, info, saying
    the comparison is 0 by construction."""
    df = snapshot(seed=0)
    finding = compare(profile_of(df), df, md5="a" * 32)
    assert finding.severity is Severity.info and "recorded from this snapshot" in finding.message
    assert finding.evidence["relabelled"]["changed"] == 0


def test_ranked_bins_keep_ties_together_and_missing_apart() -> None:
    """Deciles of rank: equal values share a bin, missing values get their own."""
    bins = ranked_bins(pd.Series([0.0, 0.0, 0.0, 1.0, 2.0, np.nan]))
    assert bins.iloc[0] == bins.iloc[1] == bins.iloc[2] and bins.iloc[5] == "(missing)"


# ---- labelled batches against training's rule ----------------------------------------------------------------

TEST, CURRENT = 1_000_000, 2_000_000  # id ranges: batches hold other rows than training


def batches_of(train: pd.DataFrame, batches: dict[str, pd.DataFrame], md5: str = "a" * 32) -> list[Finding]:
    """The check on a first run (profile recorded from this training snapshot) with labelled batches; returns
    the batches' findings (the training snapshot's comes first and is dropped)."""
    profile = profile_of(train)
    x = data_inputs(
        train.drop(columns="delay"),
        {name: df.drop(columns="delay", errors="ignore") for name, df in batches.items()},
        target="late",
        id="id",
        baseline=baseline(profile, md5),
        train_md5="a" * 32,
    )
    return findings(target_logic_changed, x)[1:]


def test_clean_batches_with_covariate_and_label_shift_are_quiet() -> None:
    """A current batch with more late-evening flights (covariate shift) and half its late flights dropped
    (label shift), next to a clean test set: the rate moves, but as far as its rows carry it, and the label
    follows the inputs as in training: both quiet."""
    current = snapshot(3000, seed=2, start=CURRENT)
    evening = np.random.default_rng(5).random(len(current)) < 0.4
    current.loc[evening, "hour"] = np.random.default_rng(6).integers(18, 24, int(evening.sum()))
    current["delay"] = np.random.default_rng(2).normal(0, 20, len(current)) + 1.5 * (current["hour"] - 14)
    current["delay"] += np.where(current["kind"] == "a", 8, 0)
    current["late"] = (current["delay"] > 15.0).astype("int64")
    current = current[(current["late"] == 0) | (np.random.default_rng(0).random(len(current)) < 0.5)]
    test, now = batches_of(snapshot(), {"test": snapshot(3000, seed=1, start=TEST), "current": current})
    assert test.severity is Severity.info and now.severity is Severity.info, now.message
    assert now.message.startswith("current: labels vs training's rule")


def test_a_batch_labelled_by_another_threshold_fails_on_its_rate() -> None:
    """The same kind of rows labelled late above 0 minutes instead of 15: the rate nearly doubles while the
    rows stay put, so no shift carries it."""
    [finding] = batches_of(snapshot(), {"current": snapshot(3000, seed=2, threshold=0.0, start=CURRENT)})
    assert finding.severity is Severity.fail, finding.message
    assert finding.evidence["rate"]["cohen_h"] > 0.4 and finding.evidence["severities"]["rate"] == "fail"


def test_a_relabelled_segment_fails_on_the_relation_naming_its_column() -> None:
    """Every flight of kind 'c' (20% of rows) labelled late: the label no longer follows the inputs as in
    training in that segment; the finding names `kind` and the bin."""
    current = snapshot(3000, seed=2, start=CURRENT)
    current.loc[current["kind"] == "c", "late"] = 1
    [finding] = batches_of(snapshot(), {"current": current})
    assert finding.severity is Severity.fail and finding.columns == ["kind"], finding.message
    assert finding.evidence["severities"]["relation"] == "fail" and "`kind` c:" in finding.message


def test_two_warnings_make_a_fail() -> None:
    """Kind 'a' flights (half the rows) late only above 30 minutes: a moderate rate change and a moderate
    relation change, each only a warning, together two independent signs: a fail."""
    current = snapshot(3000, seed=2, start=CURRENT)
    segment = current["kind"] == "a"
    current.loc[segment, "late"] = (current.loc[segment, "delay"] > 30).astype("int64")
    [finding] = batches_of(snapshot(), {"current": current})
    assert finding.evidence["severities"] == {"rate": "warn", "relation": "warn"}
    assert finding.severity is Severity.fail and "two independent signs" in finding.message


def test_training_relabelled_on_a_first_run_shows_in_the_test_set() -> None:
    """A first run (profile recorded from this very snapshot, so the snapshot comparison is 0) whose training
    labels use another threshold than the trusted test set: the test set's labels fail against training's rule."""
    [test] = batches_of(snapshot(threshold=0.0), {"test": snapshot(3000, seed=1, start=TEST)})
    assert test.severity is Severity.fail and test.message.startswith("test:"), test.message


def test_noisy_training_labels_do_not_read_as_another_rule() -> None:
    """20% of training labels flipped, a clean test set: its labels follow the inputs more sharply than
    training's (label_noise's to judge), which this check absorbs; quiet."""
    train = snapshot()
    flip = np.random.default_rng(7).random(len(train)) < 0.2
    train.loc[flip, "late"] = 1 - train.loc[flip, "late"]
    [test] = batches_of(train, {"test": snapshot(3000, seed=1, start=TEST)})
    assert test.severity is Severity.info and test.evidence["relation"]["slope"] > 1.0, test.message


def test_an_unlabelled_current_batch_is_not_compared() -> None:
    """Traffic without labels: said so, not passed."""
    [finding] = batches_of(snapshot(), {"current": snapshot(500, seed=2, start=CURRENT).drop(columns="late")})
    assert finding.severity is Severity.info and "not compared" in finding.message


def test_crossfit_cancels_what_the_halves_do_not_share() -> None:
    """Bin 'a' (half the rows, 40% expected) at 60% in the first half and 20% in the second (one day's cause,
    not a rule): the cross-fitted square is negative; at 60% in both halves it is the bin's share times its
    squared Cohen's h, 0.5 x 0.40^2 = 0.08."""
    bins = np.array(["a"] * 200 + ["b"] * 200)
    first = np.tile(np.r_[np.ones(50, bool), np.zeros(50, bool)], 4)
    expected = np.full(400, 0.4)
    y = np.zeros(400, dtype="int64")
    a_first, a_second = np.flatnonzero((bins == "a") & first), np.flatnonzero((bins == "a") & ~first)
    y[a_first[:60]] = 1  # 60% in the first half of bin a
    y[a_second[:20]] = 1  # 20% in the second
    b = np.flatnonzero(bins == "b")
    y[b[::5]] = 1
    y[b[1::5]] = 1  # bin b: 40%, as expected
    assert crossfit(bins, y, expected, first).value < 0
    y[a_second[:60]] = 1  # now 60% in both halves
    both = crossfit(bins, y, expected, first)
    assert 0.07 < both.value < 0.09 and both.worst is not None and both.worst.bin == "a"


def test_training_cut_puts_a_batch_into_training_bins() -> None:
    """Bins are training's: a value beyond training's range falls into the last decile, an unseen category
    into `(other)`, a missing value apart, a column the batch lacks is missing."""
    train = pd.DataFrame({"x": np.arange(100.0), "k": ["u"] * 60 + ["v"] * 40})
    batch = pd.DataFrame({"x": [5.0, 1e6, np.nan], "k": ["u", "w", None]})
    by_x, by_k = training_cut(train, "x")(batch), training_cut(train, "k")(batch)
    assert by_x[1] == training_cut(train, "x")(train.tail(1))[0] and by_x[2] == "(missing)"
    assert list(by_k) == ["u", "(other)", "(missing)"]
    assert list(training_cut(train, "x")(batch.drop(columns="x"))) == ["(missing)"] * 3


def test_rows_moved_ignores_sampling_and_sees_a_shift() -> None:
    """A sample of training's own scores has not moved (sampling alone is taken out); scores raised by 0.1 have."""
    scores = np.random.default_rng(0).beta(2, 5, 20_000)
    assert rows_moved(scores, scores[:500], seed=0) < 0.01
    assert 0.08 < rows_moved(scores, scores[:500] + 0.1, seed=0) < 0.12


def test_a_large_batch_is_compared_on_a_seeded_sample_that_still_sees_a_relabelled_segment() -> None:
    """Over `batch_rows` labelled rows a batch is compared on a seeded sample: the message says of how many,
    the relabelled segment still fails naming its column, and a clean batch stays quiet."""
    train = snapshot()
    relabelled = snapshot(6000, seed=2, start=CURRENT)
    relabelled.loc[relabelled["kind"] == "c", "late"] = 1
    x = data_inputs(
        train.drop(columns="delay"),
        {
            "test": snapshot(6000, seed=1, start=TEST).drop(columns="delay"),
            "current": relabelled.drop(columns="delay"),
        },
        target="late",
        id="id",
        baseline=baseline(profile_of(train), "a" * 32),
        train_md5="a" * 32,
    )
    params = target_logic_changed.Params(batch_rows=2000)
    _, test, now = findings(target_logic_changed, x, params)
    assert "a seeded sample of 2,000 of its 6,000 labelled rows" in now.message
    assert now.evidence["rows"] == 2000 and now.evidence["labelled_rows"] == 6000
    assert now.severity is Severity.fail and now.columns == ["kind"], now.message
    assert test.severity is Severity.info, test.message


def _crossfit_by_groupby(bins, y, expected, first):
    """crossfit as first written, with pandas groupby: the reference the bincount version must equal."""
    from tasks.data.target_logic_changed import HALF_MIN_ROWS, Bin, Crossfit, _signed_h

    df = pd.DataFrame({"bin": bins, "y": y, "e": expected, "first": first})
    halves = df.groupby(["bin", "first"]).agg(n=("y", "size"), o=("y", "mean"), e=("e", "mean")).unstack("first")
    if halves.empty or True not in halves["n"].columns or False not in halves["n"].columns:
        return Crossfit(0.0, 0.0)
    halves = halves.dropna()
    kept = halves[(halves["n"][True] >= HALF_MIN_ROWS) & (halves["n"][False] >= HALF_MIN_ROWS)]
    if kept.empty:
        return Crossfit(0.0, 0.0)
    n1, n2 = kept["n"][True].to_numpy(dtype="float64"), kept["n"][False].to_numpy(dtype="float64")
    h1 = _signed_h(kept["o"][True].to_numpy(), kept["e"][True].to_numpy())
    h2 = _signed_h(kept["o"][False].to_numpy(), kept["e"][False].to_numpy())
    w = (n1 + n2) / (n1 + n2).sum()
    var = h2**2 / n1 + h1**2 / n2 + 1 / (n1 * n2)
    whole = df[df["bin"].isin(kept.index)].groupby("bin").agg(n=("y", "size"), o=("y", "mean"), e=("e", "mean"))
    h = _signed_h(whole["o"].to_numpy(), whole["e"].to_numpy())
    at = int(np.argmax(np.abs(h) * np.sqrt(whole["n"].to_numpy(dtype="float64"))))
    row = whole.iloc[at]
    worst = Bin("", str(whole.index[at]), int(row["n"]), float(row["o"]), float(row["e"]))
    return Crossfit(float(np.sum(w * h1 * h2)), float(np.sqrt(np.sum(w**2 * var))), worst)


@pytest.mark.parametrize("seed", range(6))
def test_crossfit_equals_its_groupby_definition(seed: int) -> None:
    """The bincount crossfit gives what the groupby it replaced gave, to rounding: bins of every size (some under
    HALF_MIN_ROWS in a half, some in one half only), missing bins, a label that drifts in some bins; and a batch
    all in one half, or with no bin big enough, is (0, 0)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3000))
    names = np.array(["[-inf, 1)", "[1, 2.5)", "[2.5, inf)", "a", "b", "missing", "rare"], dtype=object)
    bins = names[rng.choice(len(names), n, p=[0.25, 0.2, 0.2, 0.15, 0.12, 0.07, 0.01])]
    bins[rng.random(n) < 0.05] = None
    expected = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < np.where(bins == "a", 0.9, expected)).astype("int64")
    first = rng.random(n) < 0.5
    first[bins == "b"] = True  # a bin seen in one half only
    for f in (first, np.ones(n, dtype=bool)):
        got, want = crossfit(bins, y, expected, f), _crossfit_by_groupby(bins, y, expected, f)
        assert got.value == pytest.approx(want.value, rel=1e-9, abs=1e-12)
        assert got.se == pytest.approx(want.se, rel=1e-9, abs=1e-12)
        assert (got.worst is None) == (want.worst is None)
        if got.worst is not None:
            assert (got.worst.bin, got.worst.rows) == (want.worst.bin, want.worst.rows)
            assert (got.worst.observed, got.worst.expected) == pytest.approx((want.worst.observed, want.worst.expected))
