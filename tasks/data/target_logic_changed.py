"""Target logic changed: the label definition changed ("late" now means any delay, a threshold moved, a
segment relabelled), so the model learns, or is judged on, another question than the one it was reviewed on.

A new training snapshot is compared with the baseline's label profile (`label_profile` in the target suite's
meta, written by `glassbox baseline` from a reviewed snapshot) on three measures:

- relabelled rows: rows both snapshots hold (by `inputs.id`, else by every other column) whose label differs.
  A label is a fact about a past row; a definition change rewrites it. The profile keeps a bottom-k sketch
  (the `profile_rows` smallest key hashes), so the same rows are found again in any later snapshot.
- label rate: Cohen's h between the two positive shares.
- relation: for the features most related to the label (by single-feature AUC), the target rate per decile
  of the feature's rank (or per frequent value) against the reference curve moved by the overall label-rate
  change (in log-odds); the root mean square Cohen's h over the bins, the worst feature. Ranks, not values,
  so a rescaled feature keeps its curve.

On the snapshot the profile was recorded from (the first run on a new dataset) these are 0 by construction.

Each labelled batch (the trusted test set, a labelled current batch) is compared with training's rule through
the fast model fitted on training (tasks/data/fast_model.py), on two measures that an ordinary shift leaves
alone (a plain label-rate change is label_shift's):

- unexplained rate (`batch_rate`): a shift carries a label-rate change only as far as the batch's rows moved.
  A label shift (the class mix changed, each class's inputs as before) moves the distribution of the model's
  scores by exactly the rate change times the distance between training's two classes' scores (Wasserstein);
  a covariate shift moves the rate by no more than it moves the scores. So the rates within (score distance
  beyond sampling) / (class distance) of training's, widened by the batch's sampling at the confidence, are
  explained; Cohen's h from the batch's rate to the nearest of them is not. A new rule on the same kind of rows
  moves the rate while the rows stay put.
- relation (`batch_relation`): per bin of the model's score and of each feature, the batch's label
  rate against what training's model predicts for those rows, once moved to the batch's own rate (a label
  shift is a pure log-odds shift) and, if the batch's labels follow the score more sharply than training's own
  do, steepened to them (the mark of noisy training labels: label_noise's). RMS Cohen's h over the bins,
  cross-fitted between the batch's two halves (in time order, else file order: the product of the halves'
  deviations, so noise that differs between them, rows of one day sharing a cause, cancels), beyond the
  model's own misfit measured the same way on training, at its lower confidence bound over the columns
  compared (every feature and the score); the worst column.

A batch fails on either measure beyond its fail limit, or on both beyond their warn limits (two independent
signs: the rate is an intercept, the relation what is left once it is absorbed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import as_number, is_datetime, is_numeric
from tasks.data.stats import cohen_h, expit, logit
from tasks.limits import Limit
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

DECILES = 10
VALUE_MIN_SHARE = 0.01  # a category gets its own bin from this share of the reference rows
VALUE_BINS = 20
MISSING, OTHER = "(missing)", "(other)"


class Params(checks.CheckParams):
    relabelled_share: Limit = Field(
        Limit(warn=0.001, fail=0.01), description="share of the rows both snapshots hold whose label changed"
    )
    label_rate: Limit = Field(
        Limit(warn=0.2, fail=0.5), description="label rate, this snapshot vs the reference one: Cohen's h"
    )
    relation_shift: Limit = Field(
        Limit(warn=0.2, fail=0.4),
        description="RMS Cohen's h of the target rate per feature bin beyond the label-rate change, the worst of "
        "the profiled features",
    )
    batch_rate: Limit = Field(
        Limit(warn=0.2, fail=0.4),
        description="a labelled batch's label rate beyond the rates a shift of its rows can carry: Cohen's h to "
        "the nearest (clean, shifted or relabelled-by-noise batches of six datasets, the demo and synthetic "
        "shapes stay below 0.17; 'yes' only instead of 'yes or perhaps' on the same rows reads 0.52-0.56)",
    )
    batch_relation: Limit = Field(
        Limit(warn=0.2, fail=0.3),
        description="a labelled batch's label rate per bin of the model score and of each feature vs training's "
        "model moved to the batch's rate: RMS Cohen's h cross-fitted between the batch's halves, beyond the "
        "model's misfit on training, its lower confidence bound, the worst column (clean splits read 0, the "
        "demo's drifting test fortnight 0.11; a relabelled segment or a wider rule 0.25-0.9)",
    )
    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        description="how sure the explainable label rates of a batch are widened to (sampling of its rows)",
    )
    profile_features: int = Field(
        5, ge=1, description="features the baseline's label profile follows (the most related by single-feature AUC)"
    )
    profile_rows: int = Field(
        2000, ge=0, description="labelled rows the baseline's label profile remembers (by key hash)"
    )
    batch_rows: int = Field(
        50_000,
        ge=1_000,
        description="labelled rows of a batch compared with training's rule (a seeded sample of this many in a "
        "larger batch: at 50,000 rows a rate's standard error is under 0.5 points)",
    )


def row_keys(df: pd.DataFrame, target: str, id_column: str | None) -> pd.Series:
    """A 64-bit hash per row: of `id_column` when there is one, else of every other column."""
    if id_column and id_column in df.columns:
        return pd.util.hash_pandas_object(df[id_column].astype(str), index=False)
    return pd.util.hash_pandas_object(df.drop(columns=[target], errors="ignore"), index=False)


def ranked_bins(s: pd.Series) -> pd.Series:
    """Decile of each value's rank, "d0".."d9" (ties share one), `(missing)` for missing values."""
    x = as_number(s)
    decile = np.minimum(np.floor(x.rank(pct=True, method="average").to_numpy() * DECILES), DECILES - 1)
    codes = np.where(np.isnan(decile), -1, decile).astype("int64")
    names = np.array([MISSING, *(f"d{k}" for k in range(DECILES))], dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes + 1, categories=names), index=s.index)


def value_bins(s: pd.Series, values: list[str]) -> pd.Series:
    """The frequent values themselves, `(other)` for the rest, `(missing)` for missing values."""
    kept = s.where(s.isin(values))
    codes = pd.Categorical(kept, categories=values).codes
    codes = np.where(s.isna().to_numpy(), len(values) + 1, np.where(codes < 0, len(values), codes))
    return pd.Series(pd.Categorical.from_codes(codes, categories=[*values, OTHER, MISSING]), index=s.index)


def _kind(s: pd.Series) -> str:
    return "rank" if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype) else "value"


def relation_table(x: pd.Series, y: pd.Series, kind: str, values: list[str] | None = None) -> dict[str, list[float]]:
    """{bin: [share of rows, target rate, rows]} of the label against one feature."""
    rows = x.loc[y.index]
    bins = ranked_bins(rows) if kind == "rank" else value_bins(rows, values or [])
    grouped = y.groupby(bins, observed=True).agg(["mean", "size"])
    n = len(y)
    return {
        str(b): [round(r["size"] / n, 6), round(float(r["mean"]), 6), int(r["size"])] for b, r in grouped.iterrows()
    }


def frequent_values(s: pd.Series) -> list[str]:
    shares = s.dropna().value_counts(normalize=True)
    return [str(v) for v in shares[shares >= VALUE_MIN_SHARE].index[:VALUE_BINS]]


def build_profile(
    train: pd.DataFrame,
    y: pd.Series,
    related: list[str],
    id_column: str | None,
    target: str,
    rows: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The reference label profile of a training snapshot (what the target suite stores)."""
    labelled = train.loc[y.index]
    keys = row_keys(labelled, target, id_column)
    unique = ~keys.duplicated(keep=False)
    sketch = keys[unique].sort_values().iloc[:rows]
    relations = []
    for c in related:
        if c not in train.columns:
            continue
        kind = _kind(train[c])
        values = frequent_values(train[c]) if kind == "value" else None
        relations.append(
            {
                "column": c,
                "kind": kind,
                **({"values": values} if values is not None else {}),
                "bins": relation_table(train[c], y, kind, values),
            }
        )
    return {
        "target": target,
        "rows": len(y),
        "label_rate": round(float(y.mean()), 6),
        "keyed_by": id_column if id_column and id_column in train.columns else "every column but the target",
        "labels": {
            "keys": " ".join(f"{int(k):016x}" for k in sketch),
            "values": "".join(str(int(v)) for v in y.loc[sketch.index]),
        },
        "relations": relations,
        **(extra or {}),
    }


def relabelled(profile: dict[str, Any], train: pd.DataFrame, y: pd.Series, id_column: str | None) -> dict[str, Any]:
    """Rows of the reference sketch found again, and how many of them carry another label now."""
    stored = profile.get("labels") or {}
    keys, values = str(stored.get("keys") or "").split(), str(stored.get("values") or "")
    if not keys or len(keys) != len(values):
        return {"shared": 0}
    try:
        hashes = np.array([int(k, 16) for k in keys], dtype="uint64")
    except ValueError:
        return {"shared": 0}
    reference = pd.Series([int(v) for v in values], index=hashes)
    id_used = id_column if profile.get("keyed_by") == id_column else None
    now_keys = row_keys(train.loc[y.index], str(profile.get("target")), id_used)
    shared = now_keys.isin(reference.index)
    before = reference.loc[now_keys[shared]].to_numpy()
    after = y[shared].to_numpy()
    return {
        "shared": int(shared.sum()),
        "changed": int((before != after).sum()),
        "0_to_1": int(((before == 0) & (after == 1)).sum()),
        "1_to_0": int(((before == 1) & (after == 0)).sum()),
    }


def relation_shift(profile: dict[str, Any], train: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """Per stored feature: RMS Cohen's h of the bins' target rates vs the reference curve moved by the overall
    log-odds change (so a pure label-rate change leaves the relation at about zero)."""
    moved = float(logit(float(y.mean())) - logit(float(profile["label_rate"])))
    shifts: dict[str, float] = {}
    for rel in profile.get("relations") or []:
        c = rel.get("column")
        if c not in train.columns:
            continue
        now = relation_table(train[c], y, rel.get("kind", "rank"), rel.get("values"))
        total = weighted = 0.0
        for b, (share, rate, _rows) in (rel.get("bins") or {}).items():
            if b not in now:
                continue
            expected = float(expit(logit(rate) + moved))
            weighted += share * cohen_h(expected, now[b][1]) ** 2
            total += share
        if total > 0:
            shifts[c] = math.sqrt(weighted / total)
    return shifts


# ---- labelled batches against training's rule ------------------------------------------------------------

SCORE = "(model score)"
HALF_MIN_ROWS = 10  # rows a bin needs in each half of a batch to count (fewer: its rate is mostly noise)
Cut = Callable[[pd.DataFrame], np.ndarray]


def _signed_h(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Cohen's h with its sign (observed above expected: positive)."""
    arc = lambda q: 2 * np.arcsin(np.sqrt(np.clip(q, 0.0, 1.0)))  # noqa: E731 (a one-line transform)
    return arc(np.asarray(observed, dtype="float64")) - arc(np.asarray(expected, dtype="float64"))


def _edges_cut(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bounds = [-np.inf, *edges, np.inf]
    names = np.array([f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)], dtype=object)
    out = names[np.searchsorted(edges, values, side="right")]
    out[np.isnan(values)] = MISSING
    return out


def _deciles(x: np.ndarray) -> np.ndarray:
    x = x[~np.isnan(x)]
    return np.unique(np.quantile(x, np.linspace(0, 1, DECILES + 1)[1:-1])) if len(x) else np.array([])


def training_cut(train: pd.DataFrame, column: str) -> Cut:
    """A column's bins as training defines them: deciles of its training values (a batch's rows fall into
    training's bins, so a covariate shift moves rows between bins, never the bins), or its frequent training
    values and `(other)`; missing values apart."""
    s = train[column]
    if _kind(s) == "rank":
        edges = _deciles(as_number(s).to_numpy(dtype="float64"))

        def by_rank(df: pd.DataFrame) -> np.ndarray:
            if column not in df.columns:
                return np.full(len(df), MISSING, dtype=object)
            return _edges_cut(as_number(df[column]).to_numpy(dtype="float64"), edges)

        return by_rank
    values = frequent_values(s)

    def by_value(df: pd.DataFrame) -> np.ndarray:
        if column not in df.columns:
            return np.full(len(df), MISSING, dtype=object)
        t = df[column]
        text = t.astype(str).to_numpy(dtype=object)
        out = np.where(np.isin(text, values), text, OTHER)
        out[t.isna().to_numpy()] = MISSING
        return out

    return by_value


def first_half(df: pd.DataFrame, timestamp: str | None) -> np.ndarray:
    """Which rows are the batch's first half: in time order when the timestamp is a datetime column, else in
    the order of the file (rows logged together sit together)."""
    if timestamp and timestamp in df.columns and is_datetime(df[timestamp]):
        order = np.argsort(as_number(df[timestamp]).to_numpy(dtype="float64"), kind="stable")
    else:
        order = np.argsort(np.arange(len(df)), kind="stable")
    first = np.zeros(len(df), dtype=bool)
    first[order[: len(df) // 2]] = True
    return first


@dataclass(frozen=True)
class Bin:
    """The bin of a column where the batch's labels part most from training's rule (rows weigh in)."""

    column: str
    bin: str
    rows: int
    observed: float
    expected: float


@dataclass(frozen=True)
class Crossfit:
    """A column's cross-fitted squared deviation (`value`, in squared Cohen's h) and its standard error."""

    value: float
    se: float
    worst: Bin | None = None


def crossfit(bins: np.ndarray, y: np.ndarray, expected: np.ndarray, first: np.ndarray) -> Crossfit:
    """Sum over bins of (bin's share) x (Cohen's h of the first half) x (of the second half), over the bins
    with HALF_MIN_ROWS rows in each half: the squared RMS deviation, with the noise the halves do not share
    averaging out (unlike a plain square, whose noise adds up); its standard error (a proportion's arcsine
    transform has variance 1/n); and the bin that deviates most. Counted with bincount over the bins' codes (in
    sorted order, a missing bin left out): a data stage calls this per column and batch."""
    codes, names = pd.factorize(pd.Series(bins, dtype=object), sort=True)
    first = np.asarray(first, dtype=bool)
    y, expected = np.asarray(y, dtype="float64"), np.asarray(expected, dtype="float64")
    if not first.any() or first.all():
        return Crossfit(0.0, 0.0)

    def half(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, label sum and expected sum per bin."""
        binned = rows & (codes >= 0)
        c, k = codes[binned], len(names)
        return (
            np.bincount(c, minlength=k).astype("float64"),
            np.bincount(c, weights=y[binned], minlength=k),
            np.bincount(c, weights=expected[binned], minlength=k),
        )

    (n1, y1, e1), (n2, y2, e2) = half(first), half(~first)
    kept = (n1 >= HALF_MIN_ROWS) & (n2 >= HALF_MIN_ROWS)
    if not kept.any():
        return Crossfit(0.0, 0.0)
    n1, y1, e1, n2, y2, e2 = (a[kept] for a in (n1, y1, e1, n2, y2, e2))
    h1, h2 = _signed_h(y1 / n1, e1 / n1), _signed_h(y2 / n2, e2 / n2)
    w = (n1 + n2) / (n1 + n2).sum()
    var = h2**2 / n1 + h1**2 / n2 + 1 / (n1 * n2)
    n, o, e = n1 + n2, (y1 + y2) / (n1 + n2), (e1 + e2) / (n1 + n2)
    h = _signed_h(o, e)
    at = int(np.argmax(np.abs(h) * np.sqrt(n)))
    worst = Bin("", str(np.asarray(names, dtype=object)[kept][at]), int(n[at]), float(o[at]), float(e[at]))
    return Crossfit(float(np.sum(w * h1 * h2)), float(np.sqrt(np.sum(w**2 * var))), worst)


def fitted_to(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Training's model moved to the batch's labels: expit(shift + slope * logit(score)), by maximum likelihood
    with the slope at least 1 (a label shift is a pure shift in log-odds; labels following the score more
    sharply than training's own is what noisy training labels look like, label_noise's to judge)."""
    from scipy.optimize import minimize

    z = np.asarray(logit(scores), dtype="float64")

    def loss(ab: np.ndarray) -> float:
        t = ab[0] + ab[1] * z
        return float(np.sum(np.logaddexp(0.0, t) - y * t))

    start = np.array([float(logit(max(min(y.mean(), 1 - 1e-6), 1e-6)) - logit(scores.mean())), 1.0])
    best = minimize(loss, start, method="L-BFGS-B", bounds=[(-30.0, 30.0), (1.0, 20.0)])
    shift, slope = float(best.x[0]), float(best.x[1])
    return np.asarray(expit(shift + slope * z), dtype="float64"), shift, slope


@dataclass(frozen=True)
class BatchLogic:
    """One labelled batch's labels against training's rule."""

    batch: str
    rows: int  # labelled rows compared
    why_not: str | None = None  # why it was not compared (no labels)
    labelled: int = 0  # labelled rows in the batch (more than `rows` when they were sampled)
    rate: float = float("nan")
    train_rate: float = float("nan")  # of the training sample the model was fitted on
    model_rate: float = float("nan")  # the rate training's rule gives its rows (what a covariate shift makes it)
    moved: float = float("nan")  # how far the model's scores on its rows moved from training's (Wasserstein)
    classes: float = float("nan")  # how far training's positives' scores are from its negatives' (Wasserstein)
    low: float = float("nan")  # the label rates its rows explain, at the confidence
    high: float = float("nan")
    rate_h: float = float("nan")  # Cohen's h from the rate to the nearest explainable one
    slope: float = 1.0  # how much more sharply its labels follow training's score (>= 1)
    relations: dict[str, float] | None = None  # per column: cross-fitted RMS Cohen's h beyond training's misfit
    lower: dict[str, float] | None = None  # ... its lower bound at the confidence (corrected for the columns)
    worst_bins: dict[str, Bin] | None = None

    @property
    def worst(self) -> tuple[str, float] | None:
        """The column whose relation moved most surely (the highest lower bound), with that bound."""
        return max((self.lower or {}).items(), key=lambda kv: kv[1], default=None)


NULL_DRAWS = 5  # training samples of a batch's size: how far scores move by sampling alone


def _wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(a, b)) if len(a) and len(b) else 0.0


def rows_moved(train_scores: np.ndarray, scores: np.ndarray, seed: int) -> float:
    """How far the distribution of the model's scores on a batch's rows is from training's (Wasserstein-1),
    beyond what a sample of the batch's size drawn from training shows by chance."""
    rng = np.random.default_rng(seed)
    chance = np.mean([_wasserstein(rng.choice(train_scores, len(scores)), train_scores) for _ in range(NULL_DRAWS)])
    moved = _wasserstein(scores, train_scores)
    return math.sqrt(max(moved * moved - float(chance) ** 2, 0.0))  # a chance distance adds in quadrature


def compare_batches(x: DataInputs, p: Params) -> tuple[tuple[BatchLogic, ...], str | None]:
    """Every batch against training's rule; a reason string when no batch could be compared at all."""
    from statistics import NormalDist

    from tasks.data.fast_model import fitted

    if x.labels is None or x.labels.empty:
        return (), "the training target is not a 0/1 label"
    labelled = {name: x.batch_labels.get(name) for name in x.batches}
    todo = {name: y for name, y in labelled.items() if y is not None and not y.empty}
    unlabelled = tuple(BatchLogic(name, 0, "no 0/1 labels") for name in labelled if name not in todo)
    if not todo:
        return unlabelled, None
    fit = fitted(x.train, x.labels, x.features, x.sample_rows, x.seed)
    if isinstance(fit, str):
        return unlabelled, fit
    z = NormalDist().inv_cdf(p.confidence)
    rows = x.train.loc[fit.rows]
    cuts: dict[str, Cut] = {SCORE: _score_cut(fit.oof[:, 1])}
    for c, _levels in fit.encoding.columns:
        cuts[c] = training_cut(rows, c)
    # The worst of many columns: each column's bound at the confidence Sidak-corrected for their number.
    z_columns = NormalDist().inv_cdf(p.confidence ** (1 / len(cuts)))
    train_scores = rows.assign(**{SCORE: fit.oof[:, 1]})
    first_train = first_half(rows, x.timestamp)
    misfit = {c: crossfit(cut(train_scores), fit.labels, fit.oof[:, 1], first_train).value for c, cut in cuts.items()}
    train_scores = fit.oof[:, 1]
    train_rate = float(fit.labels.mean())
    classes = _wasserstein(train_scores[fit.labels == 1], train_scores[fit.labels == 0])
    found = []
    for name, every in todo.items():
        y = every if len(every) <= p.batch_rows else every.sample(p.batch_rows, random_state=x.seed).sort_index()
        batch = x.batches[name].loc[y.index]
        labels = y.to_numpy().astype("int64")
        scores = fit.probabilities(batch)[:, 1]
        n, rate = len(labels), float(labels.mean())
        moved = rows_moved(train_scores, scores, x.seed)
        carry = moved / classes if classes > 0 else 1.0
        se = math.sqrt(max(rate * (1 - rate), 1 / n) / n)
        low = min(max(train_rate - carry - z * se, 0.0), 1.0)
        high = min(max(train_rate + carry + z * se, 0.0), 1.0)
        expected, _shift, slope = fitted_to(scores, labels)
        first = first_half(batch, x.timestamp)
        with_scores = batch.assign(**{SCORE: scores})
        relations, lower, worst_bins = {}, {}, {}
        for c, cut in cuts.items():
            column = crossfit(cut(with_scores), labels, expected, first)
            beyond = column.value - max(misfit[c], 0.0)
            relations[c] = math.sqrt(max(beyond, 0.0))
            lower[c] = math.sqrt(max(beyond - z_columns * column.se, 0.0))
            if column.worst is not None:
                worst_bins[c] = dataclasses.replace(column.worst, column=c)
        found.append(
            BatchLogic(
                batch=name,
                rows=n,
                labelled=len(every),
                rate=rate,
                train_rate=train_rate,
                model_rate=float(scores.mean()),
                moved=moved,
                classes=classes,
                low=low,
                high=high,
                rate_h=cohen_h(rate, min(max(rate, low), high)),
                slope=slope,
                relations=relations,
                lower=lower,
                worst_bins=worst_bins,
            )
        )
    return (*found, *unlabelled), None


def _score_cut(train_scores: np.ndarray) -> Cut:
    edges = _deciles(np.asarray(train_scores, dtype="float64"))
    return lambda df: _edges_cut(df[SCORE].to_numpy(dtype="float64"), edges)


# ---- the check ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    why_not: str | None  # why the training snapshot was not compared
    same_snapshot: bool  # the profile was recorded from this very snapshot
    rows: dict[str, int]  # shared, changed, 0_to_1, 1_to_0
    reference_rate: float = float("nan")
    rate: float = float("nan")
    rate_h: float = float("nan")
    relations: dict[str, float] | None = None  # relation shift per profiled feature
    reference_rows: int | None = None
    batches: tuple[BatchLogic, ...] = ()
    why_not_batches: str | None = None  # why no batch was compared

    @property
    def changed_share(self) -> float | None:
        return self.rows["changed"] / self.rows["shared"] if self.rows.get("shared") else None

    @property
    def worst(self) -> tuple[str, float] | None:
        return max((self.relations or {}).items(), key=lambda kv: kv[1], default=None)

    def metrics(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for b in self.batches:
            if b.why_not is None:
                found[f"{b.batch}.rate_h"] = b.rate_h
                if b.worst:
                    found[f"{b.batch}.relation_max"] = b.worst[1]
        if self.why_not:
            return found
        found["label_rate_h"] = self.rate_h
        if self.changed_share is not None:
            found["relabelled_share"] = self.changed_share
        if self.worst:
            found["relation_shift_max"] = self.worst[1]
        return found


def measure(x: DataInputs, p: Params) -> Measurement:
    batches, why_not_batches = compare_batches(x, p)
    profile = x.baseline.label_profile
    same = bool(x.train_md5) and x.baseline.profile_md5 == x.train_md5
    if profile is None or "label_rate" not in profile:
        why = (
            "the baseline holds no reference label profile: write it from a reviewed snapshot with "
            "`glassbox baseline --force`"
        )
        return Measurement(why, same, {}, batches=batches, why_not_batches=why_not_batches)
    y = x.labels
    if y is None or y.empty:
        return Measurement("no 0/1 labels", same, {}, batches=batches, why_not_batches=why_not_batches)
    before, after = float(profile["label_rate"]), float(y.mean())
    return Measurement(
        why_not=None,
        same_snapshot=same,
        rows=relabelled(profile, x.train, y, x.id),
        reference_rate=before,
        rate=after,
        rate_h=cohen_h(before, after),
        relations=relation_shift(profile, x.train, y),
        reference_rows=profile.get("rows"),
        batches=batches,
        why_not_batches=why_not_batches,
    )


def _training_finding(m: Measurement, p: Params) -> Finding:
    if m.why_not:
        return Finding(severity=Severity.info, message=f"label logic not compared: {m.why_not}")
    changed_share, worst = m.changed_share, m.worst
    severities = {
        "relabelled": p.relabelled_share.severity(changed_share),
        "label_rate": p.label_rate.severity(m.rate_h),
        "relation": p.relation_shift.severity(worst[1] if worst else None),
    }
    parts = []
    if changed_share is None:
        parts.append("no row of the reference found again (relabelling not measured)")
    else:
        parts.append(
            f"{100 * changed_share:.1f}% of the {m.rows['shared']:,} rows both hold now carry another label "
            f"(0->1: {m.rows['0_to_1']:,}, 1->0: {m.rows['1_to_0']:,})"
        )
    parts.append(f"label rate {100 * m.rate:.1f}% vs {100 * m.reference_rate:.1f}% (Cohen's h {m.rate_h:.2f})")
    if worst:
        parts.append(f"relation shift {worst[1]:.2f} (`{worst[0]}`, RMS Cohen's h beyond the rate change)")
    lead = "label rate / relation shift vs the reference snapshot"
    if m.same_snapshot:
        lead += " (recorded from this snapshot: 0 by construction until a new training snapshot comes)"
    return Finding(
        severity=max(severities.values()),
        message=f"{lead}: " + "; ".join(parts),
        columns=[worst[0]] if worst and severities["relation"] is not Severity.info else [],
        evidence={
            "relabelled": {**m.rows, "share": changed_share, "limit": p.relabelled_share.model_dump()},
            "label_rate": {
                "reference": m.reference_rate,
                "now": m.rate,
                "cohen_h": m.rate_h,
                "limit": p.label_rate.model_dump(),
            },
            "relation_shift": {"per_feature": m.relations, "limit": p.relation_shift.model_dump()},
            "severities": {k: v.value for k, v in severities.items()},
            "reference_rows": m.reference_rows,
        },
    )


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _batch_finding(b: BatchLogic, p: Params) -> Finding:
    if b.why_not:
        return Finding(
            severity=Severity.info, message=f"{b.batch}: label rule not compared with training's: {b.why_not}"
        )
    worst = b.worst
    severities = {
        "rate": p.batch_rate.severity(b.rate_h),
        "relation": p.batch_relation.severity(worst[1] if worst else None),
    }
    explained = (
        f"label rate {_pct(b.rate)} vs {_pct(b.train_rate)} in training, where its rows explain {_pct(b.low)} to "
        f"{_pct(b.high)} (the model's scores on them moved by {b.moved:.3f} beyond sampling, and a label shift moves "
        f"them by the rate change times {b.classes:.3f}, the distance between training's two classes' scores; "
        f"training's rule gives its rows {_pct(b.model_rate)}): Cohen's h {b.rate_h:.2f} beyond"
    )
    parts = [explained]
    if worst:
        c, value = worst
        point = (b.relations or {}).get(c, value)
        parts.append(
            f"relation {value:.2f} at least (`{c}`, {point:.2f} measured: RMS Cohen's h of the label rate per bin vs "
            "training's model moved to the batch's rate, cross-fitted between the batch's halves, beyond the "
            f"model's misfit on training; lower bound at {100 * p.confidence:g}% over {len(b.lower or {})} columns)"
        )
        shown = (b.worst_bins or {}).get(c)
        if shown is not None and severities["relation"] is not Severity.info:
            parts.append(
                f"e.g. `{c}` {shown.bin}: {_pct(shown.observed)} of {shown.rows:,} rows labelled 1 where training's "
                f"rule gives {_pct(shown.expected)}"
            )
    flagged = worst is not None and severities["relation"] is not Severity.info
    severity = max(severities.values())
    if min(severities.values()) is Severity.warn:  # two independent signs: the rate and the relation beyond it
        severity = Severity.fail
        parts.append("both the rate and the relation beyond their warn limits: two independent signs, a fail")
    return Finding(
        severity=severity,
        message=f"{b.batch}: labels vs training's rule, {_compared(b)}: " + "; ".join(parts),
        columns=[worst[0]] if flagged and worst[0] != SCORE else [],
        evidence={
            "batch": b.batch,
            "rows": b.rows,
            "labelled_rows": max(b.labelled, b.rows),
            "rate": {
                "now": b.rate,
                "training": b.train_rate,
                "training_rule": b.model_rate,
                "scores_moved": b.moved,
                "classes_apart": b.classes,
                "explained": [b.low, b.high],
                "cohen_h": b.rate_h,
                "limit": p.batch_rate.model_dump(),
            },
            "relation": {
                "per_column": b.relations,
                "lower_bound": b.lower,
                "worst_bins": {c: dataclasses.asdict(w) for c, w in (b.worst_bins or {}).items()},
                "slope": b.slope,
                "limit": p.batch_relation.model_dump(),
            },
            "severities": {k: v.value for k, v in severities.items()},
        },
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The training snapshot against the reference profile (the worst of its three measures), then each
    labelled batch against training's rule (the worse of its two)."""
    findings = [_training_finding(m, p)]
    if m.why_not_batches:
        findings.append(
            Finding(severity=Severity.info, message=f"batches' label rule not compared: {m.why_not_batches}")
        )
    return findings + [_batch_finding(b, p) for b in m.batches]


def _compared(b: BatchLogic) -> str:
    if b.labelled > b.rows:
        return f"a seeded sample of {b.rows:,} of its {b.labelled:,} labelled rows"
    return f"{b.rows:,} labelled rows"
