"""Plantings: each FAULTS.md row of the data, features and training layers as it happens to a real table, and,
next to each, what counts as catching it (the layer it must fail first in, the checks whose finding is of the
right kind, the severity FAULTS.md asks for).

Each factory takes the dataset's columns and returns a `Planting`; its `apply` takes the clean train / test /
current frames and a seeded generator and returns new frames (the inputs are never changed). A published
corruption tool does the work where one fits: badgers 0.0.15 (FixedShiftGenerator, MissingCompletelyAtRandom)
and cleanlab 2.9's noise matrices; jenga does not install on Python 3.11 (it requires < 3.10). The rest are hand
plantings of how the bug really happens (an export that writes numbers as text, a join of a column known only
later, a second site that records income per month).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd
from sources import Frames

Apply = Callable[[Frames, np.random.Generator, str], Frames]  # (frames, generator, target column)


@dataclass(frozen=True)
class Expect:
    """What catches the fault: the first failing layer, the check(s) whose finding is of the right kind (a new
    check for the same FAULTS.md row must be added to its tuple) and the severity FAULTS.md asks for."""

    layer: str
    checks: tuple[str, ...]
    severity: str = "fail"


@dataclass(frozen=True)
class Planting:
    fault: str  # the scenario's fault id
    row: str  # the FAULTS.md row it plants
    expect: Expect
    tool: str  # the corruption tool and its parameters, or "hand"
    what: str  # the bug as planted, in this dataset's columns
    apply: Apply
    model: dict | None = None  # the user's own model section (overfitting)
    pin_clean_train: bool = False  # params pin the clean training snapshot; the file is another one


def _copy(frames: Frames) -> Frames:
    return {k: v.copy() for k, v in frames.items()}


def _some(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of `share` of `n` rows, drawn without repeats."""
    return np.sort(rng.choice(n, size=int(round(share * n)), replace=False))


def _as(values: np.ndarray, like: pd.Series) -> np.ndarray | pd.Series:
    """Computed values back in the column's dtype (an integer count stays an integer)."""
    if pd.api.types.is_integer_dtype(like.dtype):
        return pd.Series(np.round(values), index=like.index).astype(like.dtype)
    return values


def _identity(frames: Frames, rng: np.random.Generator, target: str) -> Frames:
    return _copy(frames)


# --- data layer -------------------------------------------------------------------------------------------------


def covariate_shift(column: str, sds: float = 1.5) -> Planting:
    """A new upstream source: the current batch's `column` reads `sds` of its own standard deviations higher."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        from badgers.generators.tabular_data.drift import FixedShiftGenerator

        out = _copy(f)
        cur = out["current"]
        shifted, _ = FixedShiftGenerator().generate(cur[[column]].astype(float), None, shift_std=sds)
        cur[column] = _as(shifted[:, 0], cur[column])
        return out

    what = f"current `{column}` shifted by {sds} sd (a new upstream source)"
    tool = f"badgers FixedShiftGenerator(shift_std={sds})"
    return Planting("covariate_shift", "covariate_shift", Expect("data", ("covariate_shift",)), tool, what, apply)


def joint_swap(a: str, b: str, share: float = 0.5) -> Planting:
    """One of two exporters writes columns `a` and `b` in each other's place: each keeps nearly its own marginal
    distribution (the pair is chosen for that), so only their joint distribution with the rest shows it."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        rows = _some(len(cur), share, rng)
        ia, ib = cur.columns.get_loc(a), cur.columns.get_loc(b)
        va, vb = cur.iloc[rows, ia].to_numpy(), cur.iloc[rows, ib].to_numpy()
        cur.iloc[rows, ia], cur.iloc[rows, ib] = vb, va
        return out

    what = f"`{a}` and `{b}` exchanged in {share:.0%} of current rows (one of two exporters)"
    expect = Expect("data", ("covariate_shift", "joint_shift"))
    return Planting("joint_swap", "covariate_shift", expect, "hand", what, apply)


def label_noise(share: float = 0.2) -> Planting:
    """A labelling job gone wrong: `share` of each class's training labels flipped (cleanlab's noise matrix)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        from cleanlab.benchmarking.noise_generation import generate_noisy_labels

        out = _copy(f)
        train = out["train"]
        state = np.random.get_state()  # cleanlab draws from numpy's global generator: seed it, then restore it
        np.random.seed(int(rng.integers(2**31)))
        try:
            noisy = generate_noisy_labels(train[target].to_numpy(), np.array([[1 - share, share], [share, 1 - share]]))
        finally:
            np.random.set_state(state)
        train[target] = noisy.astype(train[target].dtype)
        return out

    tool = f"cleanlab generate_noisy_labels(noise_matrix=[[{1 - share:g}, {share:g}], [{share:g}, {1 - share:g}]])"
    what = f"{share:.0%} of training labels of each class flipped"
    return Planting("label_noise", "label_noise", Expect("data", ("label_noise",)), tool, what, apply)


def leak_flag(name: str, agree: float = 0.95) -> Planting:
    """A 0/1 flag set downstream of the outcome (a collections flag, a 'reviewed' mark) joined in as a feature:
    equal to the label in `agree` of the rows, in every file."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        for df in out.values():
            flip = rng.random(len(df)) > agree
            df[name] = np.where(flip, 1 - df[target], df[target]).astype("int64")
        return out

    what = f"0/1 column `{name}` equal to the label in {agree:.0%} of rows, in every file"
    return Planting("feature_leakage", "feature_leakage", _LEAK, "hand", what, apply)


def leak_column(source: str, name: str) -> Planting:
    """A raw field the label is derived from, known only after the outcome, joined in as feature `name`."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        for df in out.values():
            df[name] = df[source]
        return out

    what = f"`{source}` (the field the label is derived from) joined in as feature `{name}`, in every file"
    return Planting("feature_leakage", "feature_leakage", _LEAK, "hand", what, apply)


def leak_amount(name: str, median: float) -> Planting:
    """An amount billed only to buyers (0 for everyone else, and for 5% of buyers not yet billed) joined in."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        for df in out.values():
            billed = (df[target].to_numpy() == 1) & (rng.random(len(df)) > 0.05)
            df[name] = np.where(billed, np.round(rng.lognormal(np.log(median), 0.3, len(df)), 2), 0.0)
        return out

    what = f"`{name}` (billed only after a purchase, median {median:g}) joined in as a feature, in every file"
    return Planting("feature_leakage", "feature_leakage", _LEAK, "hand", what, apply)


_LEAK = Expect("data", ("feature_leakage",))
_SCHEMA = Expect("data", ("schema_change",))


def schema_as_text(column: str) -> Planting:
    """An upstream export now writes `column` as text in the current batch ("1089.5" instead of 1089.5)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        out["current"][column] = out["current"][column].astype(str)
        return out

    return Planting("schema_change", "schema_change", _SCHEMA, "hand", f"current `{column}` written as text", apply)


def schema_rename(column: str, new: str) -> Planting:
    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        out["current"] = out["current"].rename(columns={column: new})
        return out

    what = f"current `{column}` renamed to `{new}` (a new version of the upstream API)"
    return Planting("schema_rename", "schema_change", _SCHEMA, "hand", what, apply)


def schema_drop(column: str) -> Planting:
    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        out["current"] = out["current"].drop(columns=column)
        return out

    return Planting("schema_drop", "schema_change", _SCHEMA, "hand", f"current batch without `{column}`", apply)


def missing_spike(column: str, share: float = 0.3, fault: str = "missing_spike") -> Planting:
    """A source outage: `column` missing in `share` of the current rows. An integer column becomes float64 with
    NaN, which is what pandas does to it (the nulls are the fault; the dtype follows from them)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        from badgers.generators.tabular_data.missingness import MissingCompletelyAtRandom

        out = _copy(f)
        cur = out["current"]
        holed, _ = MissingCompletelyAtRandom(random_generator=rng).generate(
            cur[[column]].astype("float64"), None, percentage_missing=share
        )
        cur[column] = holed[:, 0]
        return out

    tool = f"badgers MissingCompletelyAtRandom(percentage_missing={share})"
    what = f"`{column}` missing in {share:.0%} of current rows"
    return Planting(fault, "missing_spike", Expect("data", ("missing_spike",)), tool, what, apply)


_DUPES = Expect("data", ("duplicate_rows",))


def duplicate_train(share: float = 0.1) -> Planting:
    """A re-run ingestion job appended `share` of the training rows a second time."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        train = out["train"]
        out["train"] = pd.concat([train, train.iloc[_some(len(train), share, rng)]], ignore_index=True)
        return out

    what = f"{share:.0%} of training rows appended a second time"
    return Planting("duplicate_rows", "duplicate_rows", _DUPES, "hand", what, apply)


def duplicate_current_x3() -> Planting:
    """A logging bug writes every row of the current batch three times."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        out["current"] = cur.loc[cur.index.repeat(3)].reset_index(drop=True)
        return out

    what = "every current row written three times (a logging bug)"
    return Planting("duplicate_current_x3", "duplicate_rows", _DUPES, "hand", what, apply)


def label_shift() -> Planting:
    """Traffic now comes from a population with a much higher positive rate: the current batch keeps its
    positives and only as many negatives as that rate allows (rate: twice training's, at least 20 points more)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        y = cur[target].to_numpy()
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        p = float(out["train"][target].mean())
        rate = min(max(2 * p, p + 0.2), 0.9)
        keep = rng.choice(neg, size=min(len(neg), int(round(len(pos) * (1 - rate) / rate))), replace=False)
        out["current"] = cur.iloc[np.sort(np.concatenate([pos, keep]))].reset_index(drop=True)
        return out

    what = "current batch resampled to a positive rate of max(2p, p + 0.2), p = training's"
    return Planting("label_shift", "label_shift", Expect("data", ("label_shift",)), "hand", what, apply)


_INCONSISTENT = Expect("data", ("inconsistent_values",))
_SPELLINGS: tuple[Callable[[str], str], ...] = (
    str.upper,
    str.title,
    lambda v: v.replace(" ", "_").replace("-", "_"),
    lambda v: f"{v} ",
    lambda v: re.sub(r"(\d)([a-z])", r"\1 \2", v).capitalize(),
)


def spelling_variants(column: str, share: float = 0.25) -> Planting:
    """A second source writes the categories its own way (case, spaces, underscores) in `share` of the rows."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        rows = _some(len(cur), share, rng)
        col = cur.columns.get_loc(column)
        values = []
        for v in cur.iloc[rows, col]:
            variants = [s(v) for s in _SPELLINGS if s(v) != v]
            values.append(variants[rng.integers(len(variants))] if variants else v)
        cur.iloc[rows, col] = values
        return out

    what = f"`{column}` respelled (case, spaces, underscores) in {share:.0%} of current rows"
    return Planting("spelling_variants", "inconsistent_values", _INCONSISTENT, "hand", what, apply)


def unit_change(column: str, factor: float, share: float, story: str, fault: str) -> Planting:
    """`column` recorded in another unit (`factor` times the training unit) in `share` of the current rows."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        rows = _some(len(cur), share, rng)
        col = cur.columns.get_loc(column)
        scaled = cur[column].iloc[rows].astype("float64") * factor
        if pd.api.types.is_integer_dtype(cur[column].dtype):
            scaled = scaled.round().astype(cur[column].dtype)  # whole units, as a feed writes an integer column
        cur.iloc[rows, col] = scaled.to_numpy()
        return out

    what = f"`{column}` x{factor:.4g} in {share:.0%} of current rows: {story}"
    return Planting(fault, "inconsistent_values", _INCONSISTENT, "hand", what, apply)


_TARGET_LOGIC = Expect("data", ("target_logic_changed",))


def target_logic(rule: Callable[[pd.DataFrame], pd.Series], story: str, where: str) -> Planting:
    """The label recomputed by another definition (`rule`) in the training snapshot (a new snapshot job; the
    pinned test set keeps the old one) or in the labelled current batch (the same rows, another label)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        df = out[where]
        df[target] = rule(df).astype(df[target].dtype).to_numpy()
        return out

    fault = "target_logic_train" if where == "train" else "target_logic_current"
    return Planting(fault, "target_logic_changed", _TARGET_LOGIC, "hand", f"{where} labels: {story}", apply)


def wrong_data_version(story: str, older: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]) -> Planting:
    """Retraining read another snapshot than the one pinned in params.yaml (the pin is the clean file's md5)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        out["train"] = older(out["train"], rng).reset_index(drop=True)
        return out

    expect = Expect("data", ("wrong_data_version",))
    return Planting("wrong_data_version", "wrong_data_version", expect, "hand", story, apply, pin_clean_train=True)


def earlier_extract(share: float = 0.85) -> Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]:
    """An extract taken before the last load: `share` of the rows."""
    return lambda df, rng: df.iloc[_some(len(df), share, rng)]


def ends_earlier(timestamp: str, days: int = 30) -> Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]:
    """Last month's snapshot: the rows up to `days` before the pinned one's last."""
    return lambda df, rng: df[df[timestamp] <= df[timestamp].max() - pd.Timedelta(days=days)]


# --- features layer ---------------------------------------------------------------------------------------------


def normalization_skew(column: str) -> Planting:
    """The feature pipeline standardized `column` (training mean and sd) for the training and test extracts,
    while the serving path sends raw values (the training pipeline always scaled: its contract is of scaled
    snapshots)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        mean, sd = float(out["train"][column].mean()), float(out["train"][column].std())
        for name in ("train", "test"):
            out[name][column] = (out[name][column] - mean) / sd
        return out

    expect = Expect("features", ("normalization_skew",))
    what = f"`{column}` standardized in train and test, raw at serving"
    return Planting("normalization_skew", "normalization_skew", expect, "hand", what, apply)


def vocab_percent_encoded(column: str) -> Planting:
    """The serving side sends the text percent-encoded, as it came in a URL query string ("The%20Godfather"),
    not decoded: a bag of words reads "20godfather" where training had "godfather". (A URL slug,
    "the-godfather", is not a mismatch for a default tokenizer: it splits on hyphens as on spaces.)"""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        cur[column] = cur[column].map(lambda t: quote(t) if isinstance(t, str) else t)
        return out

    expect = Expect("features", ("vocab_mismatch",))
    what = f"current `{column}` sent percent-encoded (not decoded from the URL)"
    return Planting("vocab_mismatch", "vocab_mismatch", expect, "hand", what, apply)


_TZ = Expect("features", ("timezone_shift",))


def tz_local_as_utc(column: str, zone: str) -> Planting:
    """The serving export stamps local wall-clock times as UTC: off by the UTC offset, still tz-aware."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        local = cur[column].dt.tz_convert(zone).dt.tz_localize(None)
        cur[column] = local.dt.tz_localize("UTC").astype(cur[column].dtype)
        return out

    what = f"current `{column}`: {zone} wall-clock times stamped as UTC"
    return Planting("timezone_shift", "timezone_shift", _TZ, "hand", what, apply)


def tz_naive_local(column: str, zone: str) -> Planting:
    """The serving export writes naive local times where training had tz-aware UTC ones."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        cur[column] = cur[column].dt.tz_convert(zone).dt.tz_localize(None)
        return out

    what = f"current `{column}`: naive {zone} wall-clock times (training: tz-aware UTC)"
    return Planting("timezone_naive", "timezone_shift", _TZ, "hand", what, apply)


def unseen_categories(column: str, new: tuple[str, ...], share: float = 0.2) -> Planting:
    """New values of `column` training never saw, in `share` of the current rows."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        cur = out["current"]
        rows = _some(len(cur), share, rng)
        cur.iloc[rows, cur.columns.get_loc(column)] = np.asarray(new, dtype=object)[
            rng.integers(len(new), size=len(rows))
        ]
        return out

    expect = Expect("features", ("unseen_categories",))
    what = f"`{column}` takes new values {list(new)} in {share:.0%} of current rows"
    return Planting("unseen_categories", "unseen_categories", expect, "hand", what, apply)


def out_of_range(story: str, corrupt: Callable[[pd.DataFrame, np.ndarray], None], share: float = 0.05) -> Planting:
    """Impossible values at serving in `share` of the current rows (`corrupt` writes them in place)."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        corrupt(out["current"], _some(len(out["current"]), share, rng))
        return out

    expect = Expect("features", ("out_of_range",))
    return Planting("out_of_range", "out_of_range", expect, "hand", f"{story} in {share:.0%} of current rows", apply)


def negate(column: str) -> Callable[[pd.DataFrame, np.ndarray], None]:
    """A sign bug: the value written negative (rows at 0 are moved to the column's median first)."""

    def corrupt(df: pd.DataFrame, rows: np.ndarray) -> None:
        col = df.columns.get_loc(column)
        v = df.iloc[rows, col].to_numpy()
        df.iloc[rows, col] = -np.where(v == 0, df[column].median(), v)

    return corrupt


def null_island(lat: str, lon: str) -> Callable[[pd.DataFrame, np.ndarray], None]:
    """A geocoder failure writes (0, 0)."""

    def corrupt(df: pd.DataFrame, rows: np.ndarray) -> None:
        df.iloc[rows, df.columns.get_loc(lat)] = 0.0
        df.iloc[rows, df.columns.get_loc(lon)] = 0.0

    return corrupt


# --- training layer ---------------------------------------------------------------------------------------------


def split_overlap(share: float = 0.1) -> Planting:
    """A training extract whose filter includes the trusted test rows: `share` of them are also in training."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        copied = out["test"].iloc[_some(len(out["test"]), share, rng)]
        out["train"] = pd.concat([out["train"], copied], ignore_index=True)
        return out

    expect = Expect("training", ("split_overlap",))
    return Planting("split_overlap", "split_overlap", expect, "hand", f"{share:.0%} of test rows also in train", apply)


def class_imbalance(rate: float = 0.02) -> Planting:
    """A rare-event population and no handling of it: positives kept at `rate` in every file (the same prior
    everywhere, so nothing shifted), the model left unweighted."""

    def apply(f: Frames, rng: np.random.Generator, target: str) -> Frames:
        out = _copy(f)
        for name, df in out.items():
            y = df[target].to_numpy()
            pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
            keep = rng.choice(pos, size=int(round(len(neg) * rate / (1 - rate))), replace=False)
            out[name] = df.iloc[np.sort(np.concatenate([neg, keep]))].reset_index(drop=True)
        return out

    expect = Expect("training", ("class_imbalance",), "warn")
    what = f"positives subsampled to {rate:.0%} in every file; default (unweighted) model"
    return Planting("class_imbalance", "class_imbalance", expect, "hand", what, apply)


def overfitting() -> Planting:
    """The user's own model: an unpruned decision tree (memorizes training; validation pays for it)."""
    model = {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {}}
    expect = Expect("training", ("overfitting",))
    what = "model: sklearn DecisionTreeClassifier with default (unpruned) params"
    return Planting("overfitting", "overfitting", expect, "hand", what, _identity, model=model)
