"""Inconsistent values: one thing written several ways (a category spelled "UA", "ua" and " UA"; a length sent
in metres where training had centimetres, or in miles by one of two sites), so one value reads as several, or
a column at another scale in all or part of a batch.

Three kinds:

- spelling variants of a category: values that become equal once case, spaces and punctuation are ignored
  ("UA", "ua", " UA"). Each group's canonical spelling is its commonest in training; rows in another
  spelling are the variant share of the batch (the training snapshot included, against itself).
- a unit change in a share of rows (two sites, two units: miles and km, years and months): the batch column
  modelled as a mixture (1 - w) * training + w * (k * training), the factor k (10^0.2 to 10^3.2 either way)
  and the share w that best explain the batch, by the distance between cumulative distributions at the
  batch's quantiles. Reported when that scaled copy explains the batch far better than every natural
  explanation does: no change, the whole batch shifted, rescaled (any factor) or affinely mapped, or
  training reweighted over a few of its quantile bins (a season, another population: covariate shift is
  reweighting, and reweighting cannot make a scaled copy of the whole distribution). Distances are taken
  net of the sampling noise expected between two samples of one distribution, so a fit within noise is
  not evidence. Judged on one-signed columns with some distinct values: on a column centred on zero a
  factor is a change of spread, which nature makes too; a factor of a few values has no shape to match.
- a unit change of the whole batch by a power of ten (cm to m, cents to dollars). Decided on two robust
  scales, the median and the 90th percentile of |x| (over the non-zero values when zero over all): both
  ratios must sit within `scale_tolerance` (log10 units) of the same 10^k, k != 0. (A seasonal column's
  spread narrows by a factor of 3 within a year; its typical magnitudes move far less, so spreads are not
  used.) A column reported as a partial unit change is not reported again as a whole-batch one.

A column scaled to mean 0 / sd 1 or to [0, 1] on one side only (the features layer's "looks normalized" rule)
is the features layer's normalization skew, not a unit change. An affine change (Celsius to Fahrenheit) is
not a factor: it is left to covariate shift.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from tasks import checks
from tasks.columns import finite, is_numeric, normalization
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SHOWN = 6  # variants named per group
# Ignored when values are compared: case, spaces and separating punctuation ("U.A.", "new-york", "a_b"). Kept:
# symbols that change what a value says (">16years" is not "16years", "C+" not "C", "<50K" not "50K") and a minus
# that signs a number ("-1" is not "1") or a decimal point ("3.5" is not "35"), marked first as U+2212 / U+2024.
_SIGN = re.compile(r"(?<![\w.])-(?=\d)")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_IGNORED = re.compile(r"[^\w<>=+%$\u20ac\u00a3\u00a5#&@*~^|!?\u2212\u2024]|_")


class Params(checks.CheckParams):
    variant_share: Limit = Field(
        Limit(warn=0.0, fail=0.01),
        description="share of a batch's rows whose category is another spelling of a value (case, spaces, punctuation)",
    )
    scale_tolerance: float = Field(
        0.15,
        gt=0.0,
        lt=0.5,
        description="log10 units around 10^k (k != 0) within which both the median and the 90th percentile of |x| "
        "must sit for a unit change",
    )
    scale_change: Severity = Field(
        Severity.fail,
        description="severity of a unit change: a numeric column at 10^k its training scale, or at any factor in a "
        "share of its rows",
    )
    factors: tuple[float, float] = Field(
        (0.2, 3.2),
        description="the |log10| range of factors k a share of rows is tried at (10^0.2 = 1.58: closer to 1 a "
        "factor cannot be told from drift; 10^3.2 = 1585: past a thousand)",
    )
    mixture_share: float = Field(
        0.05, gt=0.0, le=1.0, description="least share of a batch's rows at the factor for a partial unit change"
    )
    mixture_residual: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description="the scaled copy must leave at most this fraction of the distance the best natural explanation "
        "leaves (net of sampling noise; a true unit change leaves ~0, seasons and populations 0.5 to >1)",
    )
    mixture_evidence: float = Field(
        2.0,
        gt=0.0,
        description="... and natural explanations must leave a distance beyond this many times the sampling noise "
        "(when every explanation fits within noise there is nothing to tell apart)",
    )
    reweighting_bins: int = Field(
        5,
        ge=2,
        le=50,
        description="training quantile bins the natural explanation may reweight (covariate shift at coarse "
        "resolution: a season moves mass between ranges, it does not draw a scaled copy)",
    )
    sign_share: float = Field(
        0.05,
        ge=0.0,
        lt=0.5,
        description="a partial unit change is judged on a column whose training values (non-zero) have at most this "
        "share of the minority sign: on a column centred on zero a factor is a change of spread",
    )
    min_values: int = Field(
        3, ge=2, description="a partial unit change is judged on a column with at least this many distinct values"
    )

    @model_validator(mode="after")
    def _factor_range(self) -> Params:
        low, high = self.factors
        if not 0 < low < high:
            raise ValueError(f"factors: need 0 < low < high (|log10 k|), got {self.factors}")
        return self


@dataclass(frozen=True)
class Variants:
    batch: str
    column: str
    rows: int  # rows in a non-canonical spelling
    present: int  # non-null rows
    groups: dict[str, list[str]]  # canonical spelling -> its variants

    @property
    def share(self) -> float:
        return self.rows / self.present if self.present else 0.0


@dataclass(frozen=True)
class Scaled:
    batch: str
    column: str
    power: int  # the batch reads 10^power times training
    log10_ratios: dict[str, float]


@dataclass(frozen=True)
class Mixture:
    """How well a scaled copy of training explains a batch column, against natural explanations. Distances are
    root-mean-square differences of cumulative distributions at the batch's quantiles; `noise` is what two
    samples of one distribution give (Cramer-von Mises: E[d^2] = (1/n_train + 1/n_batch) / 6)."""

    batch: str
    column: str
    factor: float  # k: the batch's scaled rows read k times training
    share: float  # w: the share of the batch's rows at the factor
    rows: int  # finite batch values measured
    noise: float
    residual: float  # distance left by (1 - w) * training + w * (k * training)
    natural: dict[str, float]  # distance left by each natural explanation (see NATURAL)
    minority_sign: float  # share of training's non-zero values of the rarer sign
    values: int  # distinct training values
    units: str | None = None  # the pair of units the factor converts between, when recognisable and unambiguous

    def net(self, distance: float) -> float:
        """A distance net of sampling noise."""
        return math.sqrt(max(distance**2 - self.noise**2, 0.0))

    @property
    def best_natural(self) -> tuple[str, float]:
        name = min(self.natural, key=lambda k: self.natural[k])
        return name, self.natural[name]

    @property
    def gain(self) -> float:
        """How many times closer the scaled copy is than the best natural explanation, net of noise (noise as
        the floor of both)."""
        return max(self.net(self.best_natural[1]), self.noise) / max(self.net(self.residual), self.noise)


NATURAL = {
    "unchanged": "training as it is",
    "shifted": "training shifted",
    "rescaled": "the whole batch rescaled",
    "affine": "training mapped affinely",
    "reweighted": "training reweighted by range",
}
POINTS = 400  # batch quantiles the cumulative distributions are compared at
GRID = 0.005  # log10 step of the factor grid, refined twice around the best
REFINE = 20  # grid points either side of the best at each refinement (each step 1/20 of the previous)
# Factors a recognisable pair of units differ by: (k, what a batch at k times training is, what one at 1/k is).
UNITS: tuple[tuple[float, str, str], ...] = (
    (2.54, "inches to centimetres", "centimetres to inches"),
    (1.609344, "miles to kilometres", "kilometres to miles"),
    (1.852, "nautical miles to kilometres", "kilometres to nautical miles"),
    (3.28084, "metres to feet", "feet to metres"),
    (2.20462, "kilograms to pounds", "pounds to kilograms"),
    (28.3495, "ounces to grams", "grams to ounces"),
    (3.78541, "US gallons to litres", "litres to US gallons"),
    (4.184, "kilocalories to kilojoules", "kilojoules to kilocalories"),
    (6.89476, "psi to kPa", "kPa to psi"),
    (33.8639, "inches of mercury to hPa", "hPa to inches of mercury"),
    (12.0, "feet to inches, or years to months", "inches to feet, or months to years"),
    (16.0, "pounds to ounces", "ounces to pounds"),
    (60.0, "minutes to seconds, or hours to minutes", "seconds to minutes, or minutes to hours"),
    (24.0, "days to hours", "hours to days"),
    (7.0, "weeks to days", "days to weeks"),
    (30.4375, "months to days", "days to months"),
    (365.25, "years to days", "days to years"),
    (10.0, "centimetres to millimetres", "millimetres to centimetres"),
    (100.0, "metres to centimetres, dollars to cents, fractions to percent", "cents to dollars, percent to fractions"),
    (1000.0, "kilo- to base units (km to m, kg to g, s to ms)", "base to kilo- units (m to km, g to kg, ms to s)"),
)
UNIT_WITHIN = 0.01  # log10 distance (a 2.3% difference) within which a fitted factor is named after units
SNAP = 0.05  # log10 distance (12%) within which a named factor that fits as well within noise replaces the best


NAMED: tuple[tuple[float, str], ...] = tuple(
    (sign * math.log10(k), name) for k, up, down in UNITS for sign, name in ((1, up), (-1, down))
)  # (log10 factor, what a batch at that factor times training is)


def unit_pair(factor: float) -> str | None:
    """The pair of units a batch at `factor` times training suggests, when the factor is one of UNITS."""
    if not factor > 0:
        return None
    distance, name = min((abs(math.log10(factor) - s), name) for s, name in NAMED)
    return name if distance <= UNIT_WITHIN else None


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    batches: tuple[str, ...]
    variants: tuple[Variants, ...]
    scaled: tuple[Scaled, ...]
    mixtures: tuple[Mixture, ...]
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    scale_tolerance: float

    def metrics(self) -> dict[str, float]:
        out = {
            f"{b}.variant_share_max": max((v.share for v in self.variants if v.batch == b), default=0.0)
            for b in self.batches
        }
        for b in self.batches:
            if b != "train":
                out[f"{b}.scaled_columns"] = float(sum(s.batch == b for s in self.scaled))
                out[f"{b}.mixture_gain_max"] = max((m.gain for m in self.mixtures if m.batch == b), default=0.0)
        return out


def spelling_key(value: object) -> str:
    """What is left of a value once case, spaces and separating punctuation are ignored (symbols that change its
    meaning, such as > + % or a minus sign, are kept)."""
    return _IGNORED.sub("", _DECIMAL.sub("\u2024", _SIGN.sub("\u2212", str(value).casefold())))


def spelling_variants(train: pd.Series, batch: pd.Series) -> tuple[int, dict[str, list[str]]]:
    """Rows of `batch` in a non-canonical spelling, and the groups with more than one spelling."""
    train_counts = train.dropna().astype(str).value_counts()
    batch_counts = batch.dropna().astype(str).value_counts()
    spellings = pd.Index(train_counts.index).union(pd.Index(batch_counts.index))
    if len(spellings) < 2:
        return 0, {}
    keys = pd.Series([spelling_key(v) for v in spellings], index=spellings)
    keys = keys[keys != ""]  # nothing left to compare ("-", "?"): not a spelling of anything
    sizes = keys.value_counts()
    grouped = keys[keys.isin(sizes[sizes > 1].index)]
    if grouped.empty:
        return 0, {}
    table = pd.DataFrame(
        {
            "key": grouped,
            "train": train_counts.reindex(grouped.index, fill_value=0),
            "batch": batch_counts.reindex(grouped.index, fill_value=0),
        }
    )
    # Canonical: the commonest spelling in training, else in the batch.
    table = table.sort_values(["key", "train", "batch"], ascending=[True, False, False], kind="stable")
    canonical = table.groupby("key", sort=False).head(1)
    variants = table.drop(index=canonical.index)
    rows = int(variants["batch"].sum())
    groups = {
        str(spelling): [str(v) for v in variants.index[variants["key"] == key]]
        for spelling, key in canonical["key"].items()
    }
    return rows, groups


def _robust_scales(x: pd.Series) -> tuple[float | None, float | None]:
    """Median and 90th percentile of |x|, over the non-zero values when zero over all of them."""
    magnitude = x.abs()
    nonzero = magnitude[magnitude > 0]

    def at(q: float) -> float | None:
        for values in (magnitude, nonzero):
            v = float(np.percentile(values, q)) if len(values) else 0.0
            if v > 0 and math.isfinite(v):
                return v
        return None

    return at(50), at(90)


def scale_factor(
    train: pd.Series, batch: pd.Series, tolerance: float, rows: int | None = None, seed: int = 0
) -> tuple[int | None, dict[str, float]]:
    """The power of ten k (k != 0) that the batch's scale is of training's, or None; with the log10 ratios. With
    `rows`, from seeded samples of at most that many values a side (a median's error on 50,000 values is a
    fraction of a percent; the question is a factor of ten)."""
    a, b = finite(train), finite(batch)
    if rows is not None:
        rng = np.random.default_rng(seed)
        a, b = pd.Series(_bounded(a, rows, rng)), pd.Series(_bounded(b, rows, rng))
    if len(a) < 2 or len(b) < 2:
        return None, {}
    ratios: dict[str, float] = {}
    for name, ta, tb in zip(("median_abs", "p90_abs"), _robust_scales(a), _robust_scales(b), strict=True):
        if ta is not None and tb is not None:
            ratios[name] = math.log10(tb / ta)
    if not ratios:
        return None, ratios
    powers = {round(r) for r in ratios.values()}
    if len(powers) != 1:
        return None, ratios
    k = powers.pop()
    if k == 0 or any(abs(r - k) > tolerance for r in ratios.values()):
        return None, ratios
    return k, ratios


def _ecdf(ordered: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The empirical cumulative distribution of the sorted values `ordered`, at `x` (any shape). A value a
    rounding error below a data value counts as equal to it (whole years x12 land exactly on whole months)."""
    return np.searchsorted(ordered, x + 1e-9 * np.abs(x), side="right") / len(ordered)


def _bounded(values: pd.Series, rows: int, rng: np.random.Generator) -> np.ndarray:
    x = finite(values).to_numpy()
    return np.sort(rng.choice(x, rows, replace=False) if len(x) > rows else x)


class _Fit:
    """Distances of one batch column's distribution to models built from training's, at the batch quantiles."""

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b
        m = min(len(b), POINTS)
        self.q = np.quantile(b, (np.arange(m) + 0.5) / m, method="inverted_cdf")
        self.B = _ecdf(b, self.q)
        self.F = _ecdf(a, self.q)

    def distance(self, model: np.ndarray) -> np.ndarray:
        """RMS difference between the batch's cumulative distribution and `model` (last axis: the quantiles)."""
        return np.sqrt(np.mean((self.B - model) ** 2, axis=-1))

    def scaled(self, logk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each log10 factor: the least-squares share w of the scaled copy, the distance the mixture
        (1 - w) F + w F(x / k) leaves, and the distance of the whole batch rescaled, F(x / k)."""
        Fk = _ecdf(self.a, self.q[None, :] / 10.0 ** logk[:, None])
        d, r = Fk - self.F, self.B - self.F
        dd = (d**2).sum(axis=1)
        w = np.clip(np.divide((d * r).sum(axis=1), dd, out=np.zeros_like(dd), where=dd > 0), 0.0, 1.0)
        return w, self.distance(self.F + w[:, None] * d), self.distance(Fk)

    def shifted(self, delta: np.ndarray) -> np.ndarray:
        return self.distance(_ecdf(self.a, self.q[None, :] - delta[:, None]))

    def affine(self) -> float:
        """Training mapped by the line through the quantile-quantile plot (when it rises)."""
        p = (np.arange(200) + 0.5) / 200
        qa, qb = np.quantile(self.a, p), np.quantile(self.b, p)
        if np.ptp(qa) > 0:
            slope, intercept = np.polyfit(qa, qb, 1)
            if slope > 0:
                return float(self.distance(_ecdf(self.a, (self.q - intercept) / slope)))
        return float(self.distance(self.F))

    def reweighted(self, bins: int) -> float:
        """Training reweighted over `bins` of its quantile bins: each bin holds the batch's share of rows,
        spread as training spreads them within it (values beyond training's range stay unexplained)."""
        cuts = np.unique(np.quantile(self.a, np.linspace(0, 1, bins + 1)[1:-1], method="inverted_cdf"))
        at_f = np.concatenate([[0.0], _ecdf(self.a, cuts), [1.0]])
        at_b = np.concatenate([[0.0], _ecdf(self.b, cuts), [1.0]])
        j = np.searchsorted(cuts, self.q, side="left")
        width = at_f[j + 1] - at_f[j]
        within = np.divide(self.F - at_f[j], width, out=np.ones_like(width), where=width > 0).clip(0.0, 1.0)
        return float(self.distance(at_b[j] + (at_b[j + 1] - at_b[j]) * within))


def _refined(objective, best: float, step: float, allowed=lambda x: np.ones_like(x, dtype=bool)) -> float:
    """`best` refined by two finer grids around it (each 1/REFINE of the step before)."""
    for _ in range(2):
        grid = best + np.arange(-REFINE, REFINE + 1) * step
        grid = grid[allowed(grid)]
        if len(grid):
            values = objective(grid)
            best = float(grid[int(np.argmin(values))])
        step /= REFINE
    return best


def scaled_mixture(
    train: pd.Series, batch: pd.Series, name: str, column: str, p: Params, rows: int, seed: int
) -> Mixture | None:
    """The factor k and share w for which (1 - w) * training + w * (k * training) is closest to the batch,
    with the distances it and each natural explanation leave; None with fewer than two values a side."""
    rng = np.random.default_rng(seed)
    a, b = _bounded(train, rows, rng), _bounded(batch, rows, rng)
    if len(a) < 2 or len(b) < 2:
        return None
    fit = _Fit(a, b)
    noise = math.sqrt((1 / len(a) + 1 / len(b)) / 6)
    unchanged = float(fit.distance(fit.F))
    nonzero = a[a != 0]
    minority = float(min((nonzero > 0).mean(), (nonzero < 0).mean())) if len(nonzero) else 0.0
    values = len(np.unique(a))
    if unchanged**2 - noise**2 < (p.mixture_evidence * noise) ** 2:
        # The batch is training's distribution within noise: nothing for any explanation to explain (the judge
        # needs the natural explanations to leave more than this), so the factor is not searched for.
        return Mixture(name, column, 1.0, 0.0, len(b), noise, unchanged, {"unchanged": unchanged}, minority, values)
    low, high = p.factors
    # Every factor of the grid, and each one that puts training's median on a batch quantile (a narrow column,
    # latitudes, is matched only by a factor within its own relative spread).
    median = float(np.median(a))
    ratios = fit.q / median if median != 0 else np.array([])
    logk = np.concatenate([np.arange(-high, high + GRID / 2, GRID), np.log10(ratios[ratios > 0])])
    logk = logk[np.abs(logk) <= high]
    partial = (np.abs(logk) >= low) & (np.abs(logk) <= high)
    _, mixed, rescaled = fit.scaled(logk)
    in_range = lambda x: (np.abs(x) >= low) & (np.abs(x) <= high)  # noqa: E731
    best = _refined(lambda x: fit.scaled(x)[1], float(logk[partial][np.argmin(mixed[partial])]), GRID, in_range)
    share, residual = (float(v[0]) for v in fit.scaled(np.array([best]))[:2])
    # A recognisable factor near the best that fits as well, within sampling noise, is the better answer (a
    # column of whole years is fitted as well by x11.8 as by x12; a broad one cannot tell 2.51 from 2.54); when
    # several do, the data cannot tell which, and none is named.
    units = None
    near = [(s, name) for s, name in NAMED if abs(s - best) <= SNAP and low <= abs(s) <= high]
    if near:
        w_named, d_named, _ = fit.scaled(np.array([s for s, _ in near]))
        fits = [i for i in range(len(near)) if d_named[i] ** 2 <= residual**2 + noise**2]
        if len(fits) == 1:
            i = fits[0]
            best, share, residual, units = near[i][0], float(w_named[i]), float(d_named[i]), near[i][1]
        elif not fits:
            units = unit_pair(10.0**best)
    else:
        units = unit_pair(10.0**best)
    whole = _refined(lambda x: fit.scaled(x)[2], float(logk[np.argmin(rescaled)]), GRID)
    # Shifts: every one that puts training's median on a batch quantile, and a grid over all overlapping ones.
    lo, hi = b[0] - a[-1], b[-1] - a[0]
    deltas = np.concatenate([np.linspace(lo, hi, POINTS + 1), fit.q - median])
    step = (hi - lo) / POINTS if hi > lo else 1.0
    shift = _refined(fit.shifted, float(deltas[np.argmin(fit.shifted(deltas))]), step)
    return Mixture(
        batch=name,
        column=column,
        factor=10.0**best,
        share=share,
        rows=len(b),
        noise=noise,
        residual=residual,
        natural={
            "unchanged": unchanged,
            "shifted": float(fit.shifted(np.array([shift]))[0]),
            "rescaled": float(fit.scaled(np.array([whole]))[2][0]),
            "affine": fit.affine(),
            "reweighted": fit.reweighted(p.reweighting_bins),
        },
        minority_sign=minority,
        values=values,
        units=units,
    )


def variants_of(train: pd.DataFrame, batch: pd.DataFrame, name: str, columns: list[str]) -> list[Variants]:
    """Categorical columns of `batch` with more than one spelling of a value."""
    found = []
    for c in columns:
        if c not in train.columns or c not in batch.columns or is_numeric(batch[c]):
            continue
        present = int(batch[c].notna().sum())
        if not present:
            continue
        rows, groups = spelling_variants(train[c], batch[c])
        if groups:
            found.append(Variants(name, c, rows, present, groups))
    return found


def _comparable(train: pd.DataFrame, batch: pd.DataFrame, c: str, normalized: float) -> bool:
    """A numeric column on both sides, not scaled on one side only (the features layer's normalization skew)."""
    if c not in train.columns or c not in batch.columns or not is_numeric(batch[c]) or not is_numeric(train[c]):
        return False
    return (normalization(train[c], normalized) is None) == (normalization(batch[c], normalized) is None)


def scaled_of(train: pd.DataFrame, batch: pd.DataFrame, name: str, x: DataInputs, p: Params) -> list[Scaled]:
    """Numeric columns of `batch` at a power of ten of their training scale (bounded seeded samples a side)."""
    found = []
    for c in x.numeric:
        if not _comparable(train, batch, c, x.normalization_tolerance):
            continue
        k, ratios = scale_factor(train[c], batch[c], p.scale_tolerance, x.drift_reference_rows, x.seed)
        if k is not None:
            found.append(Scaled(name, c, k, ratios))
    return found


def mixtures_of(train: pd.DataFrame, batch: pd.DataFrame, name: str, x: DataInputs, p: Params) -> list[Mixture]:
    """The scaled-copy mixture fit of each numeric column of `batch` (bounded seeded samples a side)."""
    found = []
    for c in x.numeric:
        if _comparable(train, batch, c, x.normalization_tolerance):
            fit = scaled_mixture(train[c], batch[c], name, c, p, x.drift_reference_rows, x.seed)
            if fit is not None:
                found.append(fit)
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    frames = {"train": x.train, **x.batches}
    variants: list[Variants] = []
    scaled: list[Scaled] = []
    mixtures: list[Mixture] = []
    for name, frame in frames.items():
        variants += variants_of(x.train, frame, name, x.categorical)
        if frame is not x.train:
            scaled += scaled_of(x.train, frame, name, x, p)
            mixtures += mixtures_of(x.train, frame, name, x, p)
    return Measurement(
        tuple(frames),
        tuple(variants),
        tuple(scaled),
        tuple(mixtures),
        tuple(x.categorical),
        tuple(x.numeric),
        p.scale_tolerance,
    )


def partial_unit_change(m: Mixture, p: Params) -> bool:
    """A share of the batch's rows at a factor of training's: the scaled copy explains the batch far better
    than every natural explanation, which leaves something beyond noise to explain; on a one-signed column with
    some distinct values, in at least the minimum share of rows."""
    natural = m.net(m.best_natural[1])
    return (
        m.values >= p.min_values
        and m.minority_sign <= p.sign_share
        and m.share >= p.mixture_share
        and natural >= p.mixture_evidence * m.noise
        and m.net(m.residual) <= p.mixture_residual * natural
    )


def _partial_finding(m: Mixture, p: Params) -> Finding:
    units = m.units
    natural, distance = m.best_natural
    return Finding(
        severity=p.scale_change,
        message=(
            f"{m.batch}: `{m.column}` reads {m.factor:.4g} times its training values in {m.share:.0%} of rows"
            + (f" ({units}?)" if units else "")
            + f": a unit change in part of the batch (training plus a x{m.factor:.4g} copy of it leaves a "
            f"distance of {m.net(m.residual):.3f} to the batch, {NATURAL[natural]} {m.net(distance):.3f}; "
            f"sampling noise {m.noise:.3f})"
        ),
        columns=[m.column],
        evidence={
            "batch": m.batch,
            "kind": "partial_scale",
            "scale_factor": m.factor,
            "share": m.share,
            "units": units,
            "residual": m.residual,
            "natural": m.natural,
            "noise": m.noise,
            "rows": m.rows,
            "limit": p.mixture_residual,
        },
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Spelling variants at or above the warn limit and unit changes (in a share of rows, else of the whole
    batch by a power of ten), per batch and column; one info line per batch when nothing is found."""
    findings: list[Finding] = []
    for batch in m.batches:
        found = []
        for v in (v for v in m.variants if v.batch == batch):
            shown = "; ".join(f"{canon!r} also as {', '.join(map(repr, vs[:SHOWN]))}" for canon, vs in v.groups.items())
            f = judged(
                v.share,
                p.variant_share,
                f"{batch}: `{v.column}` spells the same value several ways in {100 * v.share:.2f}% of rows ({shown})",
                columns=[v.column],
                evidence={"batch": batch, "kind": "spelling", "rows": v.rows, "share": v.share, "variants": v.groups},
            )
            if f.severity is not Severity.info:
                found.append(f)
        partial = [x for x in m.mixtures if x.batch == batch and partial_unit_change(x, p)]
        found += [_partial_finding(x, p) for x in partial]
        for s in (s for s in m.scaled if s.batch == batch and s.column not in {x.column for x in partial}):
            factor = 10.0**s.power
            found.append(
                Finding(
                    severity=p.scale_change,
                    message=(
                        f"{batch}: `{s.column}` reads {factor:g} times its training values (median and 90th "
                        f"percentile of |x| both x10^{s.power}): a unit or scale change"
                    ),
                    columns=[s.column],
                    evidence={
                        "batch": batch,
                        "kind": "scale",
                        "scale_factor": factor,
                        "log10_ratios": s.log10_ratios,
                        "tolerance": m.scale_tolerance,
                    },
                )
            )
        if not found:
            found.append(
                Finding(
                    severity=Severity.info,
                    message=(
                        f"{batch}: no category spelled several ways"
                        + ("" if batch == "train" else ", no numeric column at another scale in all or part of it")
                    ),
                    evidence={"batch": batch, "categorical": list(m.categorical), "numeric": list(m.numeric)},
                )
            )
        findings += found
    return findings
