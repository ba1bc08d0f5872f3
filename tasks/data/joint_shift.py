"""Joint shift: a fault no single column shows, only how the columns go together in a row (one of two exporters
writes two columns in each other's place; a join attaches another entity's attributes), so every column keeps
its distribution while the rows stop making sense.

For each feature, a small boosting model fitted on training predicts it from the other features: what training
says the column is, given the rest of the row. Held-out training rows give the spread of honest errors. Two
shares of a batch's rows are judged, each at a one-sided lower confidence bound (a small batch must show it
clearly) and net of the same share of held-out training rows:
- rows that break a column's relation: its error beyond training's own tail (the `tail` quantile, and at least
  `outlier` error spreads for a number). The batch's errors are first allowed a location of their own (the
  median error; for a category, the batch's own class frequencies), so a column that moved as a whole (a
  season, a new sensor: covariate shift's business) does not read as a broken relation.
- rows that fit training's relations clearly better (by `margin`) with two columns' values exchanged, and then
  within training's tail in both, for the pairs of the columns whose relations moved most in the batch: an
  exchange is told row by row even where each value alone is ordinary. The finding calls the pair exchanged
  when each of the two columns fits better on its own, else a value out of place in one of them (a unit change
  in one column also fits better "exchanged" with any column near its new values).
Rows holding a value outside training's usual values (beyond its own `1 - tail` and `tail` quantiles, a category
it lacks, missing where training has no missing values) are set aside: what one column alone shows is the
business of the checks of single columns, and in training's sparse ends a model has too few rows to say what a
column should be. With a timestamp, training is held out by alternate blocks of time (a held-out row comes from
days the models never saw, as a batch's rows do) and a batch's bounds come from the spread of its blocks of time
(rows of one day are not independent: one foggy Sunday unlike training's days is one day, not a hundred rows).
A column scaled on one side only (standardized or min-max) is the features layer's
normalization skew, and datetimes move with the time window by nature: neither is modelled. At most
`max_columns` columns are modelled, the most varied (the finding says how many were left out), so the cost stays
bounded: one small model per column, reading the others.

Not a classifier telling training rows from the batch's: a batch drawn from a few weeks is told from months of
training by its joint values alone (each day's weather fingerprints the day: the demo's clean current batch is
told apart at AUC 0.996, and still at 0.96 with its columns permuted), so what the joint adds there is the time
window, and two columns exchanged in a quarter of the rows add less than the window does. Rows that break
relations training never breaks are the fault's own mark, and a season does not make them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from tasks import checks
from tasks.columns import is_datetime, is_numeric, metric_key, normalization
from tasks.data.fast_model import MODEL, Encoding
from tasks.limits import Limit
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SHOWN = 4  # columns named in a message
RANK = 0.9  # ranking only: columns are ranked for the exchange test by their batch's share beyond this quantile
BINS = 20  # quantile bins of a number when columns are ranked by how varied they are
TIME_BLOCKS = 20  # blocks of time training is cut into when it has a timestamp (alternate ones held out)
# The fast model with smaller leaves and fewer rounds: a strong relation (a fare fixed by the distance) is followed
# into training's sparser ranges, where a batch from another window has more of its rows (leaves of 40 rows there
# read a season of longer trips as broken fares); 40 rounds find the exchanges 60 do, at two thirds of the cost.
RELATION_MODEL = {**MODEL, "min_samples_leaf": 10, "max_iter": 40}


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="share of a batch's rows that break how a column follows the other columns in training, beyond "
        "training's own tail, net of held-out training rows' share (clean batches: the corpus's at most 0.007, the "
        "demo's 0.017; two well explained columns exchanged in a quarter of the rows ~0.11)",
    )
    exchanged: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="share of a batch's rows that fit training's relations clearly better with two columns' values "
        "exchanged, net of held-out training rows' share (clean batches of the corpus and the demo: at most 0.002; "
        "half of the rows exchanged 0.13 to 0.17, a quarter ~0.17, depending on how well the others explain the two "
        "columns)",
    )
    tail: float = Field(
        0.99,
        gt=0.5,
        lt=1.0,
        description="quantile of held-out training rows' errors beyond which a row breaks a column's relation",
    )
    outlier: float = Field(
        3.0,
        gt=0.0,
        description="a number breaks its relation only this many training error spreads (MAD) from the typical "
        "error, whatever training's tail (a relation training never misses has no tail to speak of)",
    )
    margin: float = Field(
        1.0,
        ge=0.0,
        description="how much better a row must fit with two values exchanged: summed over the two columns, in nats "
        "of rarity among held-out training rows (1: each about e times less rare); a row that fits about as well "
        "either way is no sign",
    )
    pairs: int = Field(
        4,
        ge=0,
        description="the columns whose relations moved most in a batch (share beyond training's 90% quantile, at its "
        "lower bound above training's) whose pairs are tried exchanged (4 columns: 6 pairs at most); 0: no exchange "
        "test",
    )
    confidence: float = Field(
        0.95, gt=0.5, lt=1.0, description="one-sided confidence of the lower bounds the batch's shares are judged on"
    )
    rows: int = Field(
        3000,
        ge=100,
        description="training rows each column's model is fitted on (as many again are held out), and batch rows "
        "judged",
    )
    min_rows: int = Field(
        200,
        ge=10,
        description="fewer training rows (fitted + held out) or batch rows (with every value one training has) than "
        "this: not measured",
    )
    max_columns: int = Field(
        30,
        ge=2,
        description="columns modelled at most (the most varied: entropy of their training values); each model reads "
        "the others, so the cost grows with the square of this",
    )
    max_classes: int = Field(
        6,
        ge=2,
        description="classes a categorical column is predicted as (its commonest; the rest as one): a model of k "
        "classes costs k numbers' models",
    )


@dataclass(frozen=True)
class Relation:
    """One column against the others in one batch."""

    column: str
    strength: float  # held-out share of the column's variance (numbers) or entropy (categories) the others explain
    expected: float  # share of held-out training rows beyond the tail
    flagged: float  # share of the batch's rows beyond it
    bound: float  # one-sided lower confidence bound of `flagged`
    rows: int  # batch rows

    @property
    def excess(self) -> float:
        """The batch's share of rows, ordinary in every column, that break the relation, beyond training's."""
        return max(0.0, self.bound - self.expected)


@dataclass(frozen=True)
class Exchange:
    """Two columns whose values, exchanged, make rows fit training's relations clearly better."""

    columns: tuple[str, str]
    expected: float  # share of held-out training rows that fit better exchanged
    found: float  # share of the batch's rows that do
    bound: float  # one-sided lower confidence bound of `found`
    rows: int  # batch rows
    mutual: float  # the same excess (at its bound) of rows where each of the two columns fits better exchanged

    @property
    def excess(self) -> float:
        return max(0.0, self.bound - self.expected)


@dataclass(frozen=True)
class Joint:
    batch: str
    rows: int  # batch rows judged (a bounded sample)
    set_aside: float  # share of them with a value outside training's usual values (left to single-column checks)
    relations: tuple[Relation, ...]
    exchanges: tuple[Exchange, ...]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    joints: tuple[Joint, ...]
    columns: tuple[str, ...]  # modelled
    skipped: dict[str, str]  # column -> why it is not modelled
    fit_rows: int
    unmeasured: dict[str, str]  # batch (or "train") -> why not measured
    set_aside: float = 0.0  # share of held-out training rows with a value outside training's usual values

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for j in self.joints:
            out.update({metric_key(j.batch, r.column): r.excess for r in j.relations})
            out[f"{j.batch}.excess_max"] = max((r.excess for r in j.relations), default=0.0)
            out[f"{j.batch}.exchanged_max"] = max((e.excess for e in j.exchanges), default=0.0)
        return out


def wilson_lower(k: int, n: int, confidence: float) -> float:
    """One-sided lower confidence bound of a share k / n (Wilson's score interval)."""
    if n == 0:
        return 0.0
    z = NormalDist().inv_cdf(confidence)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n))


def time_blocks(stamps: pd.Series | None) -> np.ndarray | None:
    """Each row's block of time (TIME_BLOCKS blocks of equal rows, in time order); None without usable stamps."""
    if stamps is None or not is_datetime(stamps) or stamps.isna().any() or len(stamps) < 2 * TIME_BLOCKS:
        return None
    order = stamps.rank(method="first").to_numpy() - 1
    return (order * TIME_BLOCKS // len(stamps)).astype(int)


def lower_bound(hits: np.ndarray, blocks: np.ndarray | None, confidence: float) -> float:
    """One-sided lower confidence bound of the share of `hits`: Wilson's for independent rows; with blocks of
    time, at most the bound from the spread of the blocks' shares (batch means), as rows of one day (one storm,
    one foggy Sunday) are not independent: a day unlike training's counts as one, not as its hundred rows."""
    k, n = int(hits.sum()), len(hits)
    bound = wilson_lower(k, n, confidence)
    if blocks is None or n == 0:
        return bound
    means = np.array([hits[blocks == b].mean() for b in np.unique(blocks)])
    if len(means) < 2:
        return bound
    spread = NormalDist().inv_cdf(confidence) * float(means.std(ddof=1)) / math.sqrt(len(means))
    return max(0.0, min(bound, k / n - spread))


def _robust_scale(errors: np.ndarray) -> float:
    """The spread of errors around their median: MAD (as a normal sd), else the mean absolute deviation when
    over half of them are equal, else a tiny positive number (a relation training never misses)."""
    centred = errors - np.median(errors)
    scale = 1.4826 * float(np.median(np.abs(centred)))
    if not scale > 0:
        scale = float(np.mean(np.abs(centred)))
    return scale if scale > 0 else 1e-12


def variety(s: pd.Series) -> float:
    """Entropy of a column's values (a number's in up to BINS quantile bins; missing as a value of its own)."""
    if is_numeric(s):
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")
        known = x[~np.isnan(x)]
        cuts = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1])) if len(known) else np.array([])
        codes = np.where(np.isnan(x), -1, np.searchsorted(cuts, x, side="right"))
    else:
        codes = pd.factorize(s, use_na_sentinel=True)[0]
    counts = np.unique(codes, return_counts=True)[1]
    share = counts / counts.sum() if counts.sum() else counts
    return float(-(share * np.log(share)).sum())


class _Model:
    """One column predicted from the others, fitted on training rows. `surprise` scores rows: for a number,
    its error in training's error spread around a typical error (the frame's own median error: a column that
    moved as a whole keeps its relation); for a category, how much less likely the other columns make its value
    than its frequency alone (-log p(value | others) + log p(value), the frame's class frequencies applied to
    both)."""

    def __init__(self, X: pd.DataFrame, categorical: list[bool], column: str, p: Params, seed: int) -> None:
        self.column = column
        self.numeric = not categorical[list(X.columns).index(column)]
        self.others = [c for c in X.columns if c != column]
        self.mask = [m for c, m in zip(X.columns, categorical, strict=True) if c != column]
        y = X[column].to_numpy()
        known = ~np.isnan(y)
        self.seen = np.unique(y[known])  # the training values (a category's set)
        # a number's usual range: training's own (1 - tail, tail) quantiles (its sparse ends are where a model has
        # too few rows to say what the column should be)
        self.range = tuple(np.quantile(y[known], [1 - p.tail, p.tail])) if known.any() else (np.nan, np.nan)
        self.missing = float((~known).mean())  # training's share of missing values
        self.scale = 1.0
        self.model: HistGradientBoostingRegressor | HistGradientBoostingClassifier | None = None
        if self.numeric:
            self.model = HistGradientBoostingRegressor(
                **RELATION_MODEL, categorical_features=self.mask, random_state=seed
            )
            self.model.fit(X.loc[known, self.others], y[known])
        else:
            codes, counts = np.unique(y[known].astype(int), return_counts=True)
            self.classes = codes[np.argsort(-counts, kind="stable")][: p.max_classes - 1]
            labels = self._labels(y[known])
            self.prior = np.bincount(labels, minlength=len(self.classes) + 1) / len(labels)
            if len(np.unique(labels)) > 1:
                self.model = HistGradientBoostingClassifier(
                    **RELATION_MODEL, categorical_features=self.mask, random_state=seed
                )
                self.model.fit(X.loc[known, self.others], labels)

    def _labels(self, y: np.ndarray) -> np.ndarray:
        """Class index of each value: one of the commonest, else the last ("the rest")."""
        index = {int(c): i for i, c in enumerate(self.classes)}
        return np.array([index.get(int(v), len(self.classes)) for v in y], dtype=int)

    def errors(self, X: pd.DataFrame) -> np.ndarray:
        """A number's errors (value minus prediction) per row, NaN where it has no value."""
        known = X[self.column].notna().to_numpy()
        out = np.full(len(X), np.nan)
        if known.any():
            out[known] = X[self.column].to_numpy()[known] - self.model.predict(X.loc[known, self.others])
        return out

    def calibrate(self, errors: np.ndarray) -> None:
        """Training's spread of a number's errors, from held-out rows' errors."""
        known = errors[~np.isnan(errors)]
        if len(known):
            self.scale = _robust_scale(known)

    def location(self, X: pd.DataFrame, errors: np.ndarray | None) -> float | np.ndarray:
        """The frame's own typical value: a number's median error, a category's class frequencies."""
        if self.numeric:
            known = errors[~np.isnan(errors)]
            return float(np.median(known)) if len(known) else 0.0
        labels = self._labels(X[self.column].dropna().to_numpy())
        return np.bincount(labels, minlength=len(self.prior)) / max(len(labels), 1)

    def surprise(self, X: pd.DataFrame, location: float | np.ndarray, errors: np.ndarray | None = None) -> np.ndarray:
        """Per row: how far its value is from what training's relation to the other columns says (NaN where the
        column has no value), around the frame's `location` (a number's `errors`, when known, are not predicted
        again)."""
        if self.numeric:
            return np.abs((self.errors(X) if errors is None else errors) - location) / self.scale
        known = X[self.column].notna().to_numpy()
        out = np.full(len(X), np.nan)
        if not known.any():
            return out
        labels = self._labels(X[self.column].to_numpy()[known])
        if self.model is None:
            out[known] = 0.0
            return out
        probs = np.zeros((len(labels), len(self.prior)))
        probs[:, self.model.classes_] = self.model.predict_proba(X.loc[known, self.others])
        # The frame's own class frequencies (a category that became commoner is no surprise), on both sides.
        frequency = np.asarray(location)
        probs = probs * np.divide(frequency + 1e-3, self.prior + 1e-3)
        probs = probs / probs.sum(axis=1, keepdims=True)
        given = np.clip(probs[np.arange(len(labels)), labels], 1e-9, 1.0)
        out[known] = np.log(np.clip(frequency[labels], 1e-9, 1.0)) - np.log(given)
        return out

    def ordinary(self, X: pd.DataFrame, missing_ok: float) -> np.ndarray:
        """Per row: the column's value is one training has (within its range, a category it has); a missing
        value is when training has at least `missing_ok` of them."""
        y = X[self.column].to_numpy()
        known = ~np.isnan(y)
        values = y[known]
        out = np.full(len(y), self.missing >= missing_ok)
        if self.numeric:
            out[known] = (values >= self.range[0]) & (values <= self.range[1])
        else:
            out[known] = np.isin(values, self.seen)
        return out

    def strength(self, X: pd.DataFrame, surprise: np.ndarray, errors: np.ndarray | None) -> float:
        """Held-out share of the column's variance (numbers) or entropy (categories) the other columns explain."""
        y = X[self.column].dropna().to_numpy()
        if not len(y):
            return 0.0
        if self.numeric:
            var = float(np.var(y))
            return 1.0 - float(np.nanvar(errors)) / var if var > 0 else 0.0
        frequency = self.location(X, None)
        entropy = -float(np.mean(np.log(np.clip(frequency[self._labels(y)], 1e-9, 1.0))))
        return -float(np.nanmean(surprise)) / entropy if entropy > 0 else 0.0


@dataclass(frozen=True)
class _Frame:
    """One frame (held-out training rows or a batch's sample) as the models see it: its raw values, its model
    input, which rows hold only values training has, and each column's location and surprise."""

    raw: pd.DataFrame
    X: pd.DataFrame
    ordinary: np.ndarray
    location: dict[str, float | np.ndarray]
    surprise: dict[str, np.ndarray]
    blocks: np.ndarray | None = None  # each row's block of time (a batch with a timestamp), for its bounds


def frame_of(
    raw: pd.DataFrame,
    encoding: Encoding,
    models: dict[str, _Model],
    missing_ok: float,
    calibrate: bool = False,
    blocks: np.ndarray | None = None,
) -> tuple[_Frame, dict[str, float]]:
    """The frame as the models see it (each model predicts it once), and each column's strength on it; with
    `calibrate` (held-out training rows), each number's error spread is learnt from it first."""
    X = encoding.matrix(raw)
    ordinary = np.ones(len(raw), bool)
    location, surprise, strength = {}, {}, {}
    for c, m in models.items():
        # a value the model reads as missing but the row has (a category training lacks) is not ordinary
        ordinary &= m.ordinary(X, missing_ok) & ~(raw[c].notna().to_numpy() & X[c].isna().to_numpy())
        errors = m.errors(X) if m.numeric else None
        if calibrate and errors is not None:
            m.calibrate(errors)
        location[c] = m.location(X, errors)
        surprise[c] = m.surprise(X, location[c], errors)
        strength[c] = m.strength(X, surprise[c], errors)
    return _Frame(raw, X, ordinary, location, surprise, blocks), strength


def thresholds_of(models: dict[str, _Model], held_out: _Frame, p: Params) -> dict[str, float]:
    """Per column: training's `tail` quantile of the surprise, at least `outlier` (a number `outlier` of
    training's error spreads from the typical error; a category the others make less likely than alone)."""
    out = {}
    for c, m in models.items():
        s = held_out.surprise[c]
        s = s[~np.isnan(s)]
        floor = p.outlier if m.numeric else 0.0
        out[c] = max(float(np.quantile(s, p.tail)) if len(s) else math.inf, floor)
    return out


def _beyond(frame: _Frame, column: str, threshold: float) -> np.ndarray:
    """Rows ordinary in every column whose surprise in `column` is beyond `threshold`."""
    s = frame.surprise[column]
    return frame.ordinary & ~np.isnan(s) & (np.nan_to_num(s, nan=-np.inf) > threshold)


def relation_of(
    column: str, reference: _Frame, batch: _Frame, threshold: float, strength: float, p: Params
) -> Relation:
    """The share of the batch's rows, ordinary in every column, that break the column's relation to the others,
    against the same share of held-out training rows."""
    hits = _beyond(batch, column, threshold)
    k, n = int(hits.sum()), len(batch.raw)
    return Relation(
        column=column,
        strength=strength,
        expected=float(_beyond(reference, column, threshold).mean()),
        flagged=k / n,
        bound=lower_bound(hits, batch.blocks, p.confidence),
        rows=n,
    )


def ranked(models: dict[str, _Model], reference: _Frame, batch: _Frame, confidence: float) -> list[str]:
    """The columns of which more of the batch's rows than of training's lie beyond training's RANK quantile of
    the column's surprise (at the lower confidence bound), most first: where an exchange, if any, shows."""
    score = {}
    for c in models:
        s = reference.surprise[c]
        s = s[~np.isnan(s)]
        if len(s):
            q = float(np.quantile(s, RANK))
            beyond = _beyond(batch, c, q)
            lower = lower_bound(beyond, batch.blocks, confidence) - float(_beyond(reference, c, q).mean())
            if lower > 0:
                score[c] = lower
    return sorted(score, key=lambda c: -score[c])


def rarity(held_out: np.ndarray, surprise: np.ndarray) -> np.ndarray:
    """How rare a surprise is among held-out training rows' (sorted, `held_out`): -log of the share of them at
    least as surprising (nats; NaN stays NaN). One scale for every column, whatever its errors look like (a
    column at one value in most rows has an error spread near 0, so its raw surprises are huge)."""
    at_least = len(held_out) - np.searchsorted(held_out, np.nan_to_num(surprise, nan=0.0), side="left")
    out = -np.log((at_least + 1) / (len(held_out) + 1))
    return np.where(np.isnan(surprise), np.nan, out)


def exchange_gain(
    models: dict[str, _Model],
    encoding: Encoding,
    frame: _Frame,
    pair: tuple[str, str],
    tails: dict[str, np.ndarray],
    thresholds: dict[str, float],
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether exchanging the values of the pair makes the row fit training's relations better by more
    than `margin` (summed rarity of the two columns' surprises, in nats) and then within training's tail in both;
    and whether each column fits better on its own (the mark of an exchange: a value out of place in one column,
    a unit change say, makes only that column fit better). Among ordinary rows where both have a value and they
    differ."""
    a, b = pair
    va, vb = frame.raw[a], frame.raw[b]
    differ = (va.astype(object) != vb.astype(object)).to_numpy()
    rows = frame.ordinary & va.notna().to_numpy() & vb.notna().to_numpy() & differ
    better, mutual = np.zeros(len(frame.raw), bool), np.zeros(len(frame.raw), bool)
    if not rows.any():
        return better, mutual
    exchanged = frame.raw[rows].copy()
    exchanged[a], exchanged[b] = vb[rows].to_numpy(), va[rows].to_numpy()
    X = encoding.matrix(exchanged)
    after = {c: models[c].surprise(X, frame.location[c]) for c in pair}
    gains = {
        c: np.nan_to_num(rarity(tails[c], frame.surprise[c][rows]) - rarity(tails[c], after[c]), nan=-np.inf)
        for c in pair
    }
    fits = [np.nan_to_num(after[c], nan=np.inf) <= thresholds[c] for c in pair]
    better[rows] = (gains[a] + gains[b] > margin) & fits[0] & fits[1]
    mutual[rows] = better[rows] & (gains[a] > 0) & (gains[b] > 0)
    return better, mutual


def exchanges_of(
    models: dict[str, _Model],
    encoding: Encoding,
    reference: _Frame,
    batch: _Frame,
    thresholds: dict[str, float],
    p: Params,
    cache: dict,
) -> list[Exchange]:
    """Pairs of the `pairs` columns whose relations moved most, and clearly (both numbers or both categories):
    the share of the batch's rows that fit clearly better exchanged, against held-out training's (cached per
    pair)."""
    top = ranked(models, reference, batch, p.confidence)[: p.pairs]
    tails = {c: np.sort(s[~np.isnan(s)]) for c, s in reference.surprise.items()}
    found = []
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            if models[a].numeric != models[b].numeric:
                continue
            pair = (a, b) if a < b else (b, a)
            if pair not in cache:
                better, mutual = exchange_gain(models, encoding, reference, pair, tails, thresholds, p.margin)
                cache[pair] = (float(better.mean()), float(mutual.mean()))
            better, mutual = exchange_gain(models, encoding, batch, pair, tails, thresholds, p.margin)
            expected, mutual_expected = cache[pair]
            mutual_excess = max(0.0, lower_bound(mutual, batch.blocks, p.confidence) - mutual_expected)
            bound = lower_bound(better, batch.blocks, p.confidence)
            found.append(Exchange(pair, expected, float(better.mean()), bound, len(batch.raw), mutual_excess))
    return found


def modelled(x: DataInputs, p: Params) -> tuple[list[str], dict[str, str]]:
    """The columns modelled, and why each other feature is not."""
    skipped: dict[str, str] = {}
    columns = []
    for c in (*x.numeric, *x.categorical):
        frames = [x.train, *x.batches.values()]
        if any(c not in f.columns for f in frames) or len({is_numeric(f[c]) for f in frames}) > 1:
            skipped[c] = "missing or of another kind in a batch (schema_change)"
        elif is_datetime(x.train[c]):
            skipped[c] = "a datetime: moves with the time window by nature"
        elif is_numeric(x.train[c]) and any(
            (normalization(x.train[c], x.normalization_tolerance) is None)
            != (normalization(f[c], x.normalization_tolerance) is None)
            for f in x.batches.values()
        ):
            skipped[c] = "scaled on one side only (the features layer's normalization_skew)"
        else:
            columns.append(c)
    if len(columns) > p.max_columns:
        sample = x.train[columns].sample(min(len(x.train), 2 * p.rows), random_state=x.seed)
        varied = sorted(columns, key=lambda c: -variety(sample[c]))[: p.max_columns]
        for c in columns:
            if c not in varied:
                skipped[c] = f"not among the {p.max_columns} most varied columns (max_columns)"
        columns = [c for c in columns if c in varied]
    return columns, skipped


def split(x: DataInputs, columns: list[str], n: int) -> pd.DataFrame:
    """2n training rows drawn with the seed: the first n are fitted, the last n held out. With a timestamp, by
    alternate blocks of time (TIME_BLOCKS in all): a held-out row then comes from days the models never saw, as a
    batch's rows do, so a relation that holds only within the days training covers (each day's weather tells the
    weekday) is calibrated as a new window meets it."""
    sample = x.train.sample(2 * n, random_state=x.seed)
    blocks = time_blocks(sample[x.timestamp]) if x.timestamp in sample.columns else None
    if blocks is None:
        return sample[columns].reset_index(drop=True)
    held = blocks % 2 == 1
    fit_rows, held_rows = sample[~held], sample[held]
    k = min(len(fit_rows), len(held_rows))
    return pd.concat([fit_rows.iloc[:k], held_rows.iloc[:k]])[columns].reset_index(drop=True)


def measure(x: DataInputs, p: Params) -> Measurement:
    columns, skipped = modelled(x, p)
    unmeasured: dict[str, str] = {}
    n = min(p.rows, len(x.train) // 2)
    if len(columns) < 2:
        unmeasured["train"] = f"{len(columns)} feature(s) to model: no relation between columns to judge"
    elif 2 * n < p.min_rows:
        unmeasured["train"] = f"{len(x.train)} training rows (fewer than {p.min_rows})"
    judged = {}
    for name, frame in x.batches.items():
        if len(frame) < p.min_rows:
            unmeasured[name] = f"{len(frame)} rows (fewer than {p.min_rows})"
        else:
            judged[name] = frame
    if "train" in unmeasured or not judged:
        return Measurement((), tuple(columns), skipped, 0, unmeasured)
    train = split(x, columns, n)
    n = len(train) // 2
    encoding = Encoding.of(train.iloc[:n], columns)  # learnt from the fitted rows; a column with no value: left out
    kept = [c for c, _ in encoding.columns]
    fit = encoding.matrix(train.iloc[:n])
    missing_ok = 1.0 - p.tail  # a missing value is ordinary where training has at least this share of them
    # One OpenMP thread: boosting's threads spin against each other on a small shared machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        models = {c: _Model(fit, encoding.categorical, c, p, x.seed) for c in kept}
        reference, strengths = frame_of(train.iloc[n:], encoding, models, missing_ok, calibrate=True)
        thresholds = thresholds_of(models, reference, p)
        cache: dict = {}
        joints = []
        for name, frame in judged.items():
            drawn = frame.sample(min(p.rows, len(frame)), random_state=x.seed)
            sample = drawn[columns].reset_index(drop=True)
            stamps = drawn[x.timestamp] if x.timestamp in drawn.columns else None
            batch, _ = frame_of(sample, encoding, models, missing_ok, blocks=time_blocks(stamps))
            if int(batch.ordinary.sum()) < p.min_rows:
                aside = 1.0 - float(batch.ordinary.mean())
                unmeasured[name] = (
                    f"{aside:.0%} of rows hold a value outside training's usual values, or missing where training has "
                    "none (left to the checks of single columns)"
                )
                continue
            relations = [relation_of(c, reference, batch, thresholds[c], strengths[c], p) for c in models]
            exchanges = exchanges_of(models, encoding, reference, batch, thresholds, p, cache) if p.pairs >= 2 else []
            aside = 1.0 - float(batch.ordinary.mean())
            joints.append(Joint(name, len(sample), aside, tuple(relations), tuple(exchanges)))
    return Measurement(tuple(joints), tuple(models), skipped, n, unmeasured, 1.0 - float(reference.ordinary.mean()))


def _named(r: Relation) -> str:
    return f"`{r.column}` {r.excess:.1%} (explained {max(r.strength, 0.0):.0%} by the others)"


def _exchanged(e: Exchange, p: Params) -> str:
    a, b = e.columns
    share = (
        f"{e.found:.1%} of rows fit training's relations clearly better with their values swapped (held-out "
        f"training rows {e.expected:.1%}; excess at its lower bound {e.excess:.1%}"
    )
    if e.mutual >= p.exchanged.warn:
        return f"`{a}` and `{b}` look exchanged (written in each other's place): {share}; each column: {e.mutual:.1%})"
    return (
        f"`{a}` and `{b}`: {share}), though with each column fitting better only {e.mutual:.1%}: rather values out of "
        "place in one of the two (another unit or source) than an exchange"
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per batch: a pair of columns whose values look exchanged, and the columns whose rows break
    training's relations with the other columns, worst first (info naming the closest when none reaches warn);
    batches not measured and columns not modelled are said so."""
    findings = [
        Finding(
            severity=Severity.info,
            message=f"{batch}: relations between columns not measured: {why}",
            evidence={"batch": batch, "unmeasured": why},
        )
        for batch, why in m.unmeasured.items()
    ]
    left = [c for c, why in m.skipped.items() if "max_columns" in why]
    coverage = f"; {len(m.columns)} columns modelled, {len(left)} left out (max_columns)" if left else ""
    limits = f"limits: rows {p.share.warn} / {p.share.fail}, exchanged {p.exchanged.warn} / {p.exchanged.fail}"
    for j in m.joints:
        relations = sorted(((p.share.severity(r.excess), r) for r in j.relations), key=lambda sr: -sr[1].excess)
        exchanges = sorted(((p.exchanged.severity(e.excess), e) for e in j.exchanges), key=lambda se: -se[1].excess)
        flagged = [(sev, r) for sev, r in relations if sev is not Severity.info]
        swapped = [(sev, e) for sev, e in exchanges if sev is not Severity.info]
        parts = [_exchanged(e, p) for _, e in swapped[:1]]
        if flagged:
            shown = ", ".join(_named(r) for _, r in flagged[:SHOWN])
            more = f" and {len(flagged) - SHOWN} more" if len(flagged) > SHOWN else ""
            parts.append(
                f"rows break how columns go together in training (share of rows beyond training's {p.tail:.0%} "
                f"tail, beyond held-out training rows'): {shown}{more}"
            )
        if parts:
            message = f"{j.batch}: " + "; ".join(parts)
        elif relations:
            closest = _named(relations[0][1])
            pair = ""
            if exchanges:
                e = exchanges[0][1]
                pair = f"; closest pair `{e.columns[0]}` and `{e.columns[1]}`, {e.excess:.1%} of rows better exchanged"
            message = f"{j.batch}: rows keep training's relations between columns (closest: {closest}{pair})"
        else:
            message = f"{j.batch}: no column's relation to the others could be measured"
        if j.set_aside - m.set_aside >= p.share.warn:
            message += (
                f"; {j.set_aside:.0%} of rows set aside (held-out training rows: {m.set_aside:.0%}): a value outside "
                "training's usual values, which the checks of single columns judge"
            )
        message += f"; {limits}{coverage}"
        columns = [c for _, e in swapped[:1] for c in e.columns]
        columns += [r.column for _, r in flagged if r.column not in columns]
        findings.append(
            Finding(
                severity=max((sev for sev, _ in [*flagged, *swapped]), default=Severity.info),
                message=message,
                columns=columns,
                evidence={
                    "batch": j.batch,
                    "rows": j.rows,
                    "fit_rows": m.fit_rows,
                    "set_aside": j.set_aside,
                    "set_aside_train": m.set_aside,
                    "excess": {r.column: r.excess for _, r in relations},
                    "flagged": {r.column: r.flagged for _, r in relations},
                    "expected": {r.column: r.expected for _, r in relations},
                    "strength": {r.column: r.strength for _, r in relations},
                    "exchanged": [
                        {
                            "columns": list(e.columns),
                            "found": e.found,
                            "expected": e.expected,
                            "excess": e.excess,
                            "mutual": e.mutual,
                        }
                        for _, e in exchanges
                    ],
                    "skipped": m.skipped,
                    "limit": {"share": p.share.model_dump(), "exchanged": p.exchanged.model_dump()},
                    "tail": p.tail,
                    "margin": p.margin,
                },
            )
        )
    return findings
