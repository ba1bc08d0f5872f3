"""One planting function per fault: what the bug really does to the demo's train / test / current frames.

Each takes the clean frames and a seeded generator and returns new frames (the inputs are never changed).
They know the demo's columns (this is the bundled demo's fault kit), but nothing about the checks that
must catch them: each plants the bug as it happens in a real system, at a realistic size.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from tasks.demo.flights import package_data_dir

if TYPE_CHECKING:
    from tasks.demo.inject import Registry

Frames = dict[str, pd.DataFrame]

TARGET = "late"
TIMESTAMP = "scheduled_at"
LOCAL_ZONE = "America/New_York"  # the three New York airports of the demo
# What the package knows about each flight after it happened: joined to the demo rows by these columns.
OUTCOME_KEY = ["scheduled_at", "carrier", "origin", "dest"]


def _copy(frames: Frames) -> Frames:
    return {name: df.copy() for name, df in frames.items()}


def _some(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of `share` of `n` rows, drawn at random without repeats."""
    return np.sort(rng.choice(n, size=int(round(share * n)), replace=False))


@cache
def _flight_outcomes() -> pd.DataFrame:
    """Departure and arrival delays of every flight in the package (known only after the flight), one row
    per demo key; the few keys two flights share are left out rather than guessed."""
    raw = pd.read_csv(package_data_dir() / "flights.csv.zip")
    raw["scheduled_at"] = pd.to_datetime(raw["time_hour"], utc=True) + pd.to_timedelta(raw["minute"], unit="min")
    raw = raw[raw["arr_delay"].notna()]
    raw = raw.drop_duplicates(OUTCOME_KEY, keep=False)
    return raw[[*OUTCOME_KEY, "dep_delay", "arr_delay"]].reset_index(drop=True)


def _with_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    outcomes = _flight_outcomes()
    key = df[OUTCOME_KEY].copy()
    key["scheduled_at"] = key["scheduled_at"].astype(outcomes["scheduled_at"].dtype)
    joined = key.merge(outcomes, on=OUTCOME_KEY, how="left", validate="many_to_one")
    joined.index = df.index
    return joined[["dep_delay", "arr_delay"]]


def covariate_shift(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """A new weather source at serving: current `wind_speed` reads 2.5 training standard deviations higher."""
    out = _copy(frames)
    sd = float(out["train"]["wind_speed"].std())
    out["current"]["wind_speed"] = out["current"]["wind_speed"] + 2.5 * sd
    return out


def label_noise(frames: Frames, rng: np.random.Generator) -> Frames:
    """A labelling job gone wrong: a quarter of the training labels flipped at random."""
    out = _copy(frames)
    train = out["train"]
    rows = _some(len(train), 0.25, rng)
    col = train.columns.get_loc(TARGET)
    train.iloc[rows, col] = 1 - train.iloc[rows, col]
    return out


def feature_leakage(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The real `arr_delay` (minutes late at arrival, the field `late` is derived from, known only once the
    flight has landed) joined in as a feature by a query that took one column too many. (The departure delay,
    a subtler leak that is not near-perfect alone, AUC 0.90, is a warning: single-table statistics cannot tell
    it from an honest strong feature.)"""
    out = _copy(frames)
    for df in out.values():
        df["arr_delay"] = _with_outcomes(df)["arr_delay"]
    return out


def schema_change(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """An upstream export now writes `distance` as text in the current batch ("1089" instead of 1089)."""
    out = _copy(frames)
    out["current"]["distance"] = out["current"]["distance"].astype(str)
    return out


def missing_spike(frames: Frames, rng: np.random.Generator) -> Frames:
    """A dew-point sensor outage: `dewp` missing in 30% of the current batch."""
    out = _copy(frames)
    cur = out["current"]
    cur.iloc[_some(len(cur), 0.30, rng), cur.columns.get_loc("dewp")] = np.nan
    return out


def duplicate_rows(frames: Frames, rng: np.random.Generator) -> Frames:
    """A re-run ingestion job appended rows twice: 10% of the training rows repeated."""
    out = _copy(frames)
    train = out["train"]
    repeated = train.iloc[_some(len(train), 0.10, rng)]
    out["train"] = pd.concat([train, repeated]).sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)
    return out


def split_overlap(frames: Frames, rng: np.random.Generator) -> Frames:
    """A training extract whose date filter includes the test weeks: 10% of the trusted test rows are also
    in training."""
    out = _copy(frames)
    test = out["test"]
    copied = test.iloc[_some(len(test), 0.10, rng)]
    merged = pd.concat([out["train"], copied], ignore_index=True)
    out["train"] = merged.sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)
    return out


def label_shift(frames: Frames, rng: np.random.Generator) -> Frames:
    """Traffic now comes from a population with twice the training late rate: the current batch keeps its
    late flights and only as many on-time ones as that rate allows."""
    out = _copy(frames)
    cur = out["current"]
    pos, neg = np.flatnonzero(cur[TARGET].to_numpy() == 1), np.flatnonzero(cur[TARGET].to_numpy() == 0)
    rate = min(2 * float(out["train"][TARGET].mean()), 0.9)
    keep_neg = rng.choice(neg, size=min(len(neg), int(round(len(pos) * (1 - rate) / rate))), replace=False)
    out["current"] = cur.iloc[np.sort(np.concatenate([pos, keep_neg]))].reset_index(drop=True)
    return out


def inconsistent_values(frames: Frames, rng: np.random.Generator) -> Frames:
    """A second booking system writes carrier codes its own way: in 25% of the current rows `carrier` is
    lower-cased or padded with spaces ("ua", " UA", "UA ")."""
    out = _copy(frames)
    cur = out["current"]
    rows = _some(len(cur), 0.25, rng)
    spellings = [str.lower, lambda v: f" {v}", lambda v: f"{v} "]
    pick = rng.integers(0, len(spellings), size=len(rows))
    col = cur.columns.get_loc("carrier")
    cur.iloc[rows, col] = [spellings[k](v) for k, v in zip(pick, cur.iloc[rows, col], strict=True)]
    return out


def target_logic_changed(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """A new snapshot job defines "late" as any arrival after schedule (arrival delay > 0 minutes) instead of
    more than 15 minutes: the training labels are recomputed from the real arrival delays; the pinned test
    set keeps the old definition."""
    out = _copy(frames)
    train = out["train"]
    delay = _with_outcomes(train)["arr_delay"]
    known = delay.notna()
    train.loc[known, TARGET] = (delay[known] > 0).astype(train[TARGET].dtype)
    return out


def wrong_data_version(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """Retraining read last month's snapshot: the training file ends 30 days earlier than the pinned one."""
    out = _copy(frames)
    train = out["train"]
    cutoff = train[TIMESTAMP].max() - pd.Timedelta(days=30)
    out["train"] = train[train[TIMESTAMP] <= cutoff].reset_index(drop=True)
    return out


def normalization_skew(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The feature pipeline standardized `temp` (training mean and sd) for the training and test extracts,
    while the serving path sends raw degrees Fahrenheit."""
    out = _copy(frames)
    mean, sd = float(out["train"]["temp"].mean()), float(out["train"]["temp"].std())
    for name in ("train", "test"):
        out[name]["temp"] = (out[name]["temp"] - mean) / sd
    return out


def vocab_mismatch(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The serving side writes the `route` text from codes ("UA from EWR to ORD") where training had names
    ("United Air Lines Inc. from Newark Liberty Intl to Chicago Ohare Intl")."""
    out = _copy(frames)
    cur = out["current"]
    if "route" not in cur.columns:
        raise ValueError("vocab_mismatch: the demo's current batch has no text column 'route'")
    cur["route"] = cur["carrier"] + " from " + cur["origin"] + " to " + cur["dest"]
    return out


def timezone_shift(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The serving export stamps New York wall-clock times as UTC: current `scheduled_at` is off by the
    UTC offset (4 hours in October), still tz-aware, so nothing breaks loudly."""
    out = _copy(frames)
    cur = out["current"]
    local = cur[TIMESTAMP].dt.tz_convert(LOCAL_ZONE).dt.tz_localize(None)
    cur[TIMESTAMP] = local.dt.tz_localize("UTC").astype(cur[TIMESTAMP].dtype)
    return out


def unseen_categories(frames: Frames, rng: np.random.Generator) -> Frames:
    """New routes opened: 20% of the current flights go to three international airports training never saw
    (`dest`, and the `route` text with them)."""
    out = _copy(frames)
    cur = out["current"]
    airports = pd.read_csv(package_data_dir() / "airports.csv")
    seen = set(out["train"]["dest"].dropna())
    candidates = airports[airports["name"].str.endswith(" Intl") & ~airports["faa"].isin(seen)]
    new = candidates.iloc[rng.choice(len(candidates), size=3, replace=False)]
    rows = _some(len(cur), 0.20, rng)
    pick = new.iloc[rng.integers(0, len(new), size=len(rows))]
    cur.iloc[rows, cur.columns.get_loc("dest")] = pick["faa"].to_numpy()
    if "route" in cur.columns:
        col = cur.columns.get_loc("route")
        head = cur.iloc[rows, col].str.rsplit(" to ", n=1).str[0]
        cur.iloc[rows, col] = (head + " to " + pick["name"].to_numpy()).to_numpy()
    return out


def out_of_range(frames: Frames, rng: np.random.Generator) -> Frames:
    """A sign bug in a distance computation at serving: 5% of the current rows have a negative `distance`."""
    out = _copy(frames)
    cur = out["current"]
    col = cur.columns.get_loc("distance")
    rows = _some(len(cur), 0.05, rng)
    cur.iloc[rows, col] = -cur.iloc[rows, col]
    return out


def wrong_metric(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (a fault of configuration)
    """The gate metric was copied from a balanced project: accuracy (evaluation.metric and training.metric) judges
    a test set where about one flight in eight is late; the data are untouched."""
    return _copy(frames)


def bad_threshold(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (a fault of configuration)
    """The decision threshold was copied from another model, whose scores ran lower (evaluation.threshold 0.2
    instead of one chosen on this model's costs); the data are untouched."""
    return _copy(frames)


# The demo's columns as the team's own model factory hard-codes them (a factory gets no column lists).
_CATEGORICAL = ["carrier", "origin", "dest"]
_NUMERIC = ["distance", "sched_hour", "weekday", "temp", "dewp", "humid", "wind_dir", "wind_speed", "precip"]
_NUMERIC += ["pressure", "visib"]


class UndersampledBoosting(ClassifierMixin, BaseEstimator):
    """The team's own fix for the late flights being the smaller class: drop on-time rows at random until the
    classes are even, then fit boosted trees. The draw uses a fresh NumPy generator with no seed (the class has
    no random_state parameter for the project's seed to reach)."""

    def __init__(self, estimator: object = None) -> None:
        self.estimator = estimator

    def fit(self, X: object, y: object) -> UndersampledBoosting:
        y = np.asarray(y)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        small, large = (pos, neg) if len(pos) < len(neg) else (neg, pos)
        keep = np.sort(np.concatenate([small, np.random.default_rng().choice(large, len(small), replace=False)]))
        rows = X.iloc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
        self.estimator_ = clone(self.estimator).fit(rows, y[keep])
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: object) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X: object) -> np.ndarray:
        return self.estimator_.predict(X)


def undersampled_boosting(**params: object) -> Pipeline:
    """The team's model factory (`model.factory`): the standard preprocessing, then boosted trees with `params`
    fitted on an even sample of the classes."""
    from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

    return Pipeline(
        [
            ("preprocess", build_preprocessor(_CATEGORICAL, _NUMERIC, ["route"])),
            ("model", UndersampledBoosting(HistGradientBoostingClassifier(**params))),
        ]
    )


def nondeterministic_training(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The team's own model factory (model.factory) under-samples the on-time flights with an unseeded NumPy
    generator before fitting the boosted trees: no random_state parameter, so the project's seed never reaches
    it; the data are untouched."""
    return _copy(frames)


def unstable_training(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The boosted trees swapped for a random forest cut to three trees to make the nightly retrain fast (leaves
    of at least 100 rows, so it does not overfit): which three trees it grows is the seed's draw, and the score
    with it; the data are untouched."""
    return _copy(frames)


def overfitting(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The boosted trees swapped for one readable decision tree, its regularization removed to chase the
    training score (no depth limit, leaves of a single row); the data are untouched."""
    return _copy(frames)


SEVERE_DELAY = 120  # minutes late at arrival: the rare event the class_imbalance planting predicts


def class_imbalance(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The team predicts severe delays instead: `late` is an arrival more than two hours late (about 3.6% of
    training flights), in every file, from the real arrival delays (flights without one dropped), and the
    model weighs nothing for the rare class."""
    out = _copy(frames)
    for name, df in out.items():
        delay = _with_outcomes(df)["arr_delay"]
        known = df[delay.notna()].copy()
        known[TARGET] = (delay[delay.notna()] > SEVERE_DELAY).astype(df[TARGET].dtype)
        out[name] = known.reset_index(drop=True)
    return out


def loss_not_decreasing(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The team switched to a neural network (model.estimator MLPClassifier, adam) and kept the learning rate of
    its plain-SGD recipe, learning_rate_init 0.1: a hundred times adam's default 0.001 (ten times the highest
    rate adam is usually tuned to); the data are untouched."""
    return _copy(frames)


def test_set_changed(frames: Frames, rng: np.random.Generator) -> Frames:
    """The trusted test file regenerated behind its pin: the export re-run over the same days drew another
    sample (a random 80% of the rows) and wrote them in no particular order."""
    out = _copy(frames)
    test = out["test"]
    rows = _some(len(test), 0.80, rng)
    out["test"] = test.iloc[rng.permutation(rows)].reset_index(drop=True)
    return out


def spurious_feature(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """A row-number column left in: the export wrote the pandas index into every file (`reset_index()` before
    `to_parquet`), an `index` column 0..n-1 per file, in time order, and the feature list took it in. In
    training it tells the model which days were bad; in production it means nothing."""
    out = _copy(frames)
    for df in out.values():
        df.insert(0, "index", np.arange(len(df), dtype="int64"))
    return out


def challenger_worse(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (a fault of configuration)
    """A feature-list refactor lost `sched_hour` (the hour of departure, the model's strongest feature): the
    retrained challenger, on the same data, is compared with the champion in production (the clean model)."""
    return _copy(frames)


# serving and deployment faults (FAULTS.md order)

FEATURES_VERSION = "FLIGHTS_FEATURES_VERSION"  # the environment variable the team's feature code reads
KM_PER_MILE = 1.609344


class DistanceUnits(TransformerMixin, BaseEstimator):
    """The team's feature code, shipped with the model: release 1 keeps `distance` in miles, release 2 of the
    feature package gives kilometres. Which release runs is a setting read from the environment when the model
    scores (as the package reads its settings), not something the saved model pins."""

    def fit(self, X: pd.DataFrame, y: object = None) -> DistanceUnits:  # noqa: ARG002 (sklearn's signature)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if os.environ.get(FEATURES_VERSION, "1") == "2":
            return X.assign(distance=X["distance"] * KM_PER_MILE)
        return X


def versioned_features(**params: object) -> Pipeline:
    """The team's model factory (`model.factory`): its feature code, the standard preprocessing, boosted trees."""
    from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

    return Pipeline(
        [
            ("features", DistanceUnits()),
            ("preprocess", build_preprocessor(_CATEGORICAL, _NUMERIC, ["route"])),
            ("model", HistGradientBoostingClassifier(**params)),
        ]
    )


class SegmentCalibrated(ClassifierMixin, BaseEstimator):
    """Boosted trees, then each segment's scores rescaled so that their mean is that segment's late rate on the
    fit rows: a table by segment (`column`), looked up when scoring, with no row for a segment it never saw."""

    def __init__(self, estimator: object = None, column: str = "origin") -> None:
        self.estimator = estimator
        self.column = column

    def fit(self, X: pd.DataFrame, y: object) -> SegmentCalibrated:
        y = np.asarray(y)
        self.estimator_ = clone(self.estimator).fit(X, y)
        rates = pd.DataFrame({"key": X[self.column].astype(str).to_numpy(), "y": y})
        rates["p"] = self.estimator_.predict_proba(X)[:, 1]
        by = rates.groupby("key")
        self.factors_ = {str(k): float(v) for k, v in (by["y"].mean() / by["p"].mean()).items()}
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        factor = X[self.column].astype(str).map(self.factors_).to_numpy(dtype="float64")  # unknown: NaN
        p = np.clip(self.estimator_.predict_proba(X)[:, 1] * factor, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def origin_calibrated(**params: object) -> SegmentCalibrated:
    """The team's model factory (`model.factory`): the standard pipeline, recalibrated per origin airport."""
    from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

    pipe = Pipeline(
        [
            ("preprocess", build_preprocessor(_CATEGORICAL, _NUMERIC, ["route"])),
            ("model", HistGradientBoostingClassifier(**params)),
        ]
    )
    return SegmentCalibrated(pipe, column="origin")


def serving_prediction_mismatch(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The model server started on a box with release 2 of the team's feature package (FLIGHTS_FEATURES_VERSION=2
    in its environment, serving.env): the model was trained with release 1, which reads `distance` in miles,
    and the server's copy reads kilometres; the data are untouched."""
    return _copy(frames)


def serving_nan(frames: Frames, rng: np.random.Generator) -> Frames:
    """The model file recalibrates its scores per origin airport from a table with no fallback, and the feed
    took in a fourth airport: 3% of the current traffic departs from Stewart (SWF), an origin training never had
    (within the features layer's warning band for unseen categories); the server answers NaN for those rows."""
    out = _copy(frames)
    current = out["current"]
    rows = _some(len(current), 0.03, rng)
    current.iloc[rows, current.columns.get_loc("origin")] = "SWF"
    route = current["route"].iloc[rows].str.replace(r" from .*? to ", " from Stewart Intl to ", n=1, regex=True)
    current.iloc[rows, current.columns.get_loc("route")] = route
    return out


def serving_type_mismatch(frames: Frames, rng: np.random.Generator) -> Frames:
    """The departure-time feed began sending blanks for a few flights (1% of the current rows): the batch's
    integer `sched_hour` becomes a float column (7.0, NaN), what the client then sends to a server whose
    signature says integer."""
    out = _copy(frames)
    current = out["current"]
    rows = _some(len(current), 0.01, rng)
    hour = current["sched_hour"].astype("float64")
    hour.iloc[rows] = np.nan
    current["sched_hour"] = hour
    return out


def wrong_model_deployed(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (registry)
    """Production's alias moved by hand: the registry holds an older version (trained on the first half of the
    fit rows) and the clean champion glassbox promoted after it; someone pointed `@champion` back at the old
    version outside any run; the data are untouched."""
    return _copy(frames)


def untagged_deployment(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (provenance)
    """The retrain ran in a fresh `git init` of the project folder before anything was committed: the version
    it registers can name no commit; the data are untouched."""
    return _copy(frames)


def broken_rollback(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (registry)
    """An artifact clean-up job deleted the files of the champion in production (the rollback target of the next
    promotion): the registry still lists the version, its model is gone; the data are untouched."""
    return _copy(frames)


def latency_regression(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (configuration)
    """The boosted trees swapped for a huge ensemble: a random forest of 500 trees, each on 5% of the rows
    (as good on the test set as the champion, several times slower per request); the data are untouched."""
    return _copy(frames)


def alias_moved_by_hand(registry: Registry) -> None:
    """Version 1, trained on the first half of the fit rows, was promoted; version 2, the clean model, was
    promoted after it; then the alias was pointed back at version 1 by hand (the registry UI, a script)."""
    registry.promote(registry.register(0.5))
    registry.promote(registry.register(1.0))
    registry.client.set_registered_model_alias(registry.name, registry.alias, "1")


def champion_files_deleted(registry: Registry) -> None:
    """The clean model registered and promoted; then its model files removed from the artifact store."""
    version = registry.register(1.0)
    registry.promote(version)
    mv = registry.client.get_model_version(registry.name, version)
    model_id = getattr(mv, "model_id", None) or str(mv.source).removeprefix("models:/")
    location = registry.client.get_logged_model(model_id).artifact_location
    folder = Path(location.removeprefix("file://"))
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()


# monitoring faults (FAULTS.md order)

ALERT_SHARE = 0.4  # the share of a batch's flights the previous release flags as at risk
PREVIOUS_RELEASE_DROPS = ("pressure", "visib")  # features the previous release did not have yet


def previous_release(train: pd.DataFrame) -> Pipeline:
    """The team's previous model release: boosted trees on the demo's columns, without the pressure and
    visibility features added since, fitted on the training snapshot."""
    from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

    numeric = [c for c in _NUMERIC if c not in PREVIOUS_RELEASE_DROPS]
    model = Pipeline(
        [
            ("preprocess", build_preprocessor(_CATEGORICAL, numeric, [])),
            ("model", HistGradientBoostingClassifier(max_iter=100, max_depth=5, min_samples_leaf=400, random_state=0)),
        ]
    )
    return model.fit(train[_CATEGORICAL + numeric], train[TARGET])


def prediction_drift(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """A new caller: the delay-alert service now sends the model only the flights the previous model release
    flags as at risk (the riskiest 40% of the current flights by that release's score), to be scored again.
    Each input moves a little (later hours, wetter weather, some carriers); the scores, where those small moves
    add up, a lot. Labels arrive with the batch as before."""
    out = _copy(frames)
    cur = out["current"]
    upstream = previous_release(out["train"])
    risk = upstream.predict_proba(cur[[c for c in upstream.feature_names_in_]])[:, 1]
    flagged = np.sort(np.argsort(-risk, kind="stable")[: int(round(ALERT_SHARE * len(cur)))])
    out["current"] = cur.iloc[flagged].reset_index(drop=True)
    return out


RELABELLED_DAYS = 10  # the feedback of the last ten days
CREW_HOURS_NOISE = 2.0  # hours: which flights a short morning shift delays is not strictly by the clock


def concept_drift(frames: Frames, rng: np.random.Generator) -> Frames:
    """A ground-crew shortage on the morning shifts: for the last 10 days of the current batch the delays hit the
    early departures instead of the evening ones (each day keeps its real number of late flights, now the
    earliest-scheduled ones, give or take a few hours). The inputs are unchanged; the outcomes arrive later
    as a feedback file keyed by flight_id (inputs.labels), and the current batch carries no labels."""
    out = _copy(frames)
    cur = out["current"]
    labels = cur[["flight_id", TARGET]].copy()
    day = cur[TIMESTAMP].dt.tz_convert(LOCAL_ZONE).dt.date
    last = sorted(day.unique())[-RELABELLED_DAYS:]
    for d in last:
        rows = np.flatnonzero((day == d).to_numpy())
        late = int(cur[TARGET].iloc[rows].sum())
        order = np.argsort(cur["sched_hour"].iloc[rows].to_numpy() + rng.normal(0.0, CREW_HOURS_NOISE, len(rows)))
        relabelled = np.zeros(len(rows), dtype=labels[TARGET].dtype)
        relabelled[order[:late]] = 1
        labels.iloc[rows, labels.columns.get_loc(TARGET)] = relabelled
    out["current"] = cur.drop(columns=[TARGET])
    out["labels"] = labels
    return out


UNSURE_FROM_HOUR = 13  # departures from 13:00 on: where the model's scores sit nearest even odds


def confidence_collapse(frames: Frames, rng: np.random.Generator) -> Frames:  # noqa: ARG001 (deterministic)
    """The morning feed broke: only the flights departing from 13:00 on reach the model, the afternoon and
    evening departures whose outcomes it is least sure of (its scores nearest even odds). Labels arrive with
    the batch as before."""
    out = _copy(frames)
    cur = out["current"]
    out["current"] = cur[cur["sched_hour"] >= UNSURE_FROM_HOUR].reset_index(drop=True)
    return out
