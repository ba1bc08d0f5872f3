"""Feature leakage: a feature that gives the answer away (the label in disguise, an id, a value known only
after the moment of prediction), so the model learns from something it will not have when it predicts.

Three signs, each from the training snapshot alone:

- a feature that alone tells the classes apart nearly perfectly: the separation of its out-of-fold scores
  (the target rate per value, or per quantile bin of a many-valued number, fitted on the other folds), i.e.
  true-positive minus false-positive rate at its best cut (Youden's J, the KS statistic). Separation, not AUC:
  an honest strong feature ranks well over a smooth, overlapping range (ISLR's `balance`: AUC 0.95 but J 0.74),
  a leak splits the classes at one cut (a 0/1 copy of the label right in 95% of rows: AUC 0.92, J 0.87); a 0/1
  flag or a few-valued score is measured on its values, never collapsed into one bin;
- an identifier used as a feature (nearly every value distinct): a model can only memorize it;
- a datetime later than the prediction moment (`inputs.timestamp`) in most rows: known only afterwards.

`single_feature_aucs` is also how the baseline ranks the features its label profile follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.metrics import roc_auc_score, roc_curve

from tasks import checks
from tasks.columns import as_number, is_datetime, is_numeric, metric_key
from tasks.data.stats import sample
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

BINS = 50  # codes of a numeric feature (its values when it has no more, else quantile bins): resolution enough
# for an AUC near 1 to show
FOLDS = 5
SMOOTHING = 20.0  # pseudo-rows pulling a bin's rate toward the base rate: a rare value is weak evidence


class Params(checks.CheckParams):
    separation: Limit = Field(
        Limit(warn=0.6, fail=0.8),
        description="true-positive minus false-positive rate at a feature's best cut, alone, out of fold (honest "
        "features of 7 datasets: 0.04-0.55, one strong honest feature 0.74; leaks 0.87-1.0)",
    )
    identifier_share: Limit = Field(
        Limit(warn=0.9, fail=None),
        description="share of distinct values of a non-float feature: an id (no fail by default: the evaluation "
        "layer judges whether the model leans on it)",
    )
    after_timestamp_share: Limit = Field(
        Limit(warn=0.5, fail=0.9),
        description="share of rows where a datetime feature is later than inputs.timestamp",
    )


@dataclass(frozen=True)
class Identifier:
    column: str
    distinct: int
    rows: int

    @property
    def share(self) -> float:
        return self.distinct / self.rows


@dataclass(frozen=True)
class After:
    column: str
    share: float
    rows: int


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    target: str
    timestamp: str | None
    aucs: dict[str, float]  # NaN: one class only
    separations: dict[str, float]  # Youden's J of the same out-of-fold scores
    rows: int  # labelled training rows the AUCs were measured on
    labelled: bool  # the target is a 0/1 label (else no AUC is measured)
    identifiers: tuple[Identifier, ...]
    after: tuple[After, ...]

    def metrics(self) -> dict[str, float]:
        found = {metric_key("auc", c): a for c, a in self.aucs.items() if not math.isnan(a)}
        split = {metric_key("separation", c): j for c, j in self.separations.items() if not math.isnan(j)}
        if not found:
            return {}
        return {**found, **split, "auc_max": max(found.values()), "separation_max": max(split.values())}


def bin_codes(s: pd.Series) -> np.ndarray:
    """Codes 0..k-1 of what a feature says about a row: for numbers (booleans as 0/1, datetimes as ticks),
    one code per value when the column has at most BINS distinct values (a 0/1 flag, a 5-point scale: their
    values are the categories), else one code per value that holds at least a bin's share of the rows (a 0 for
    "none", a default) and quantile bins over the rest; one code per value for anything else. Missing values
    get a code of their own (missingness can leak too)."""
    if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
        x = as_number(s)
        counts = x.value_counts()
        if len(counts) <= BINS:
            raw = pd.Index(counts.index).get_indexer(x).astype("float64")
        else:
            heavy = pd.Index(counts.index[counts.to_numpy() >= len(x) / BINS])
            raw = heavy.get_indexer(x).astype("float64")
            rest = x.notna().to_numpy() & (raw < 0)
            if x[rest].nunique() > 1:
                bins = pd.qcut(x[rest], max(1, BINS - len(heavy)), labels=False, duplicates="drop")
                raw[rest] = len(heavy) + bins.to_numpy(dtype="float64")
            else:
                raw[rest] = len(heavy)
        raw[x.isna().to_numpy()] = -1
    else:
        raw = pd.factorize(s, use_na_sentinel=True)[0]
    _, dense = np.unique(raw, return_inverse=True)
    return dense.astype("int64")


def fold_ids(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(rows) % FOLDS


def out_of_fold_scores(codes: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each row's target rate of its code, fitted on the other folds: what the feature alone tells."""
    scores = np.empty(len(y), dtype="float64")
    size = int(codes.max()) + 1
    for k in np.unique(folds):
        held, fit = folds == k, folds != k
        prior = float(y[fit].mean()) if fit.any() else 0.5
        positives = np.bincount(codes[fit], weights=y[fit], minlength=size)
        counts = np.bincount(codes[fit], minlength=size)
        rates = (positives + SMOOTHING * prior) / (counts + SMOOTHING)
        scores[held] = rates[codes[held]]
    return scores


def single_feature_scores(codes: np.ndarray, y: np.ndarray, folds: np.ndarray) -> tuple[float, float]:
    """AUC and separation (Youden's J) of the feature's out-of-fold scores; NaN for one class only."""
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    scores = out_of_fold_scores(codes, y, folds)
    fpr, tpr, _ = roc_curve(y, scores)
    return float(roc_auc_score(y, scores)), float(np.max(tpr - fpr))


def single_feature_auc(codes: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    return single_feature_scores(codes, y, folds)[0]


def single_feature_measures(
    df: pd.DataFrame, y: pd.Series, features: list[str], seed: int
) -> dict[str, tuple[float, float]]:
    """Each feature's cross-validated (AUC, separation) alone, on the rows of `df` that have a label."""
    rows = df.loc[y.index]
    labels = y.to_numpy()
    if not len(labels):
        return {c: (float("nan"), float("nan")) for c in features if c in rows.columns}
    folds = fold_ids(len(rows), seed)
    return {c: single_feature_scores(bin_codes(rows[c]), labels, folds) for c in features if c in rows.columns}


def single_feature_aucs(df: pd.DataFrame, y: pd.Series, features: list[str], seed: int) -> dict[str, float]:
    """Each feature's cross-validated AUC alone, on the rows of `df` that have a label."""
    return {c: auc for c, (auc, _) in single_feature_measures(df, y, features, seed).items()}


def labelled_sample(train: pd.DataFrame, y: pd.Series, rows: int, seed: int) -> pd.DataFrame:
    """The labelled training rows a model is fitted on: at most `rows`, drawn with `seed`."""
    return sample(train.loc[y.index], rows, seed)


def ranked(aucs: dict[str, float]) -> list[str]:
    """Features by single-feature AUC, strongest first (unmeasured last)."""
    return [c for c, _ in sorted(aucs.items(), key=lambda ca: -(0.0 if math.isnan(ca[1]) else ca[1]))]


def _utc(s: pd.Series) -> pd.Series:
    """Datetimes comparable across columns: naive ones read as UTC."""
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def identifiers(df: pd.DataFrame, features: list[str]) -> list[Identifier]:
    """Distinct values of each non-float feature (measurements and times are naturally near-unique)."""
    found = []
    for c in features:
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        present = int(s.notna().sum())
        if present >= 2:
            found.append(Identifier(c, int(s.nunique()), present))
    return found


def after_timestamp(df: pd.DataFrame, features: list[str], timestamp: str | None) -> list[After]:
    """Share of rows where each datetime feature is later than the prediction timestamp."""
    if not timestamp or timestamp not in df.columns or not is_datetime(df[timestamp]):
        return []
    at = _utc(df[timestamp])
    found = []
    for c in features:
        if c == timestamp or not is_datetime(df[c]):
            continue
        value = _utc(df[c])
        both = value.notna() & at.notna()
        if both.any():
            found.append(After(c, float((value[both] > at[both]).mean()), int(both.sum())))
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    features = [c for c in x.features if c in x.train.columns]
    measured: dict[str, tuple[float, float]] = {}
    rows = 0
    if x.labels is not None:
        labelled = labelled_sample(x.train, x.labels, x.sample_rows, x.seed)
        measured = single_feature_measures(labelled, x.labels.loc[labelled.index], features, x.seed)
        rows = len(labelled)
    return Measurement(
        target=x.target,
        timestamp=x.timestamp,
        aucs={c: auc for c, (auc, _) in measured.items()},
        separations={c: j for c, (_, j) in measured.items()},
        rows=rows,
        labelled=x.labels is not None,
        # free text (neither category nor number) is distinct by nature and the model reads its words, not it
        identifiers=tuple(identifiers(x.train, [c for c in features if c in x.categorical or c in x.numeric])),
        after=tuple(after_timestamp(x.train, features, x.timestamp)),
    )


def _predictive(m: Measurement, limit: Limit) -> list[Finding]:
    """A finding per feature at or above the warn limit; one info line naming the strongest otherwise."""
    if not m.labelled:
        return [
            Finding(
                severity=Severity.info,
                message=f"single-feature predictive power not measured: `{m.target}` is not a 0/1 label",
            )
        ]
    measured = {c: j for c, j in m.separations.items() if not math.isnan(j)}
    when = f" (before `{m.timestamp}`)" if m.timestamp else ""
    found = []
    for c, j in sorted(measured.items(), key=lambda cj: -cj[1]):
        auc = m.aucs[c]
        f = judged(
            j,
            limit,
            f"`{c}` alone tells `{m.target}` apart at one cut: true-positive minus false-positive rate {j:.3f} "
            f"(AUC {auc:.3f}; cross-validated, {m.rows:,} training rows): an honest feature rarely separates "
            f"the classes this cleanly alone; check that its value is known when predicting{when}",
            columns=[c],
            evidence={"kind": "single_feature_separation", "separation": j, "auc": auc, "rows": m.rows},
        )
        if f.severity is not Severity.info:
            found.append(f)
    if not found:
        best = max(measured.items(), key=lambda cj: cj[1], default=None)
        shown = f" (strongest: `{best[0]}` {best[1]:.3f}, AUC {m.aucs[best[0]]:.3f})" if best else ""
        found.append(
            Finding(
                severity=Severity.info,
                message=f"no feature alone separates `{m.target}` beyond {limit.warn}{shown}",
                evidence={"kind": "single_feature_separation", "separations": measured, "aucs": m.aucs, "rows": m.rows},
            )
        )
    return found


def judge(m: Measurement, p: Params) -> list[Finding]:
    findings = _predictive(m, p.separation)
    for i in m.identifiers:
        f = judged(
            i.share,
            p.identifier_share,
            f"`{i.column}` looks like an identifier: {100 * i.share:.1f}% of its {i.rows:,} training values are "
            "distinct; a model can only memorize it (drop it from the features)",
            columns=[i.column],
            evidence={"kind": "identifier", "distinct_share": i.share, "distinct": i.distinct, "rows": i.rows},
        )
        if f.severity is not Severity.info:
            findings.append(f)
    for a in m.after:
        f = judged(
            a.share,
            p.after_timestamp_share,
            f"`{a.column}` is later than `{m.timestamp}` (the prediction moment) in {100 * a.share:.1f}% of training "
            "rows: its value is known only afterwards",
            columns=[a.column],
            evidence={"kind": "after_timestamp", "share": a.share, "rows": a.rows},
        )
        if f.severity is not Severity.info:
            findings.append(f)
    return findings
