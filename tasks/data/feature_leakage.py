"""Feature leakage: a feature that gives the answer away. Three signs, each from the data alone:

- predictive power no honest feature has alone: each feature's cross-validated AUC as the only input of a
  small model (its target rate per quantile bin or per value, fitted on the other folds);
- an identifier used as a feature (nearly every value distinct): a model can only memorize it;
- a datetime later than the prediction moment (`inputs.timestamp`) in most rows: known only afterwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tasks.data.stats import as_number, is_datetime, is_numeric, metric_key, sample
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

CHECK = "feature_leakage"
BINS = 50  # quantile bins of a numeric feature: enough resolution for an AUC near 1 to show
FOLDS = 5
SMOOTHING = 20.0  # pseudo-rows pulling a bin's rate toward the base rate: a rare value is weak evidence


def bin_codes(s: pd.Series) -> np.ndarray:
    """Codes 0..k-1: quantile bins for numbers and datetimes, one code per value otherwise; missing values
    get a code of their own (missingness can leak too)."""
    if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
        x = as_number(s)
        codes = pd.qcut(x, BINS, labels=False, duplicates="drop") if x.nunique() > 1 else x * 0
        raw = np.where(np.isnan(codes.to_numpy(dtype="float64")), -1, codes.to_numpy(dtype="float64"))
    else:
        raw = pd.factorize(s, use_na_sentinel=True)[0]
    _, dense = np.unique(raw, return_inverse=True)
    return dense.astype("int64")


def fold_ids(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(rows) % FOLDS


def single_feature_auc(codes: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    """AUC of out-of-fold target rates per code: what the feature alone tells about the label."""
    if len(np.unique(y)) < 2:
        return float("nan")
    scores = np.empty(len(y), dtype="float64")
    size = int(codes.max()) + 1
    for k in np.unique(folds):
        held, fit = folds == k, folds != k
        prior = float(y[fit].mean()) if fit.any() else 0.5
        positives = np.bincount(codes[fit], weights=y[fit], minlength=size)
        counts = np.bincount(codes[fit], minlength=size)
        rates = (positives + SMOOTHING * prior) / (counts + SMOOTHING)
        scores[held] = rates[codes[held]]
    return float(roc_auc_score(y, scores))


def single_feature_aucs(df: pd.DataFrame, y: pd.Series, features: list[str], seed: int) -> dict[str, float]:
    """Each feature's cross-validated AUC alone, on the rows of `df` that have a label."""
    rows = df.loc[y.index]
    labels = y.to_numpy()
    folds = fold_ids(len(rows), seed)
    return {c: single_feature_auc(bin_codes(rows[c]), labels, folds) for c in features if c in rows.columns}


def predictive_findings(
    aucs: dict[str, float], target: str, rows: int, timestamp: str | None, limit: Limit
) -> list[Finding]:
    """A finding per feature at or above the warn limit; one info line naming the strongest otherwise."""
    measured = {c: a for c, a in aucs.items() if a == a}  # NaN: one class only, nothing to predict
    when = f" (before `{timestamp}`)" if timestamp else ""
    found = []
    for c, auc in sorted(measured.items(), key=lambda ca: -ca[1]):
        f = judge(
            CHECK,
            auc,
            limit.warn,
            limit.fail,
            f"`{c}` alone predicts `{target}` with AUC {auc:.3f} (cross-validated, {rows:,} training rows): "
            f"an honest feature is rarely this strong alone; check that its value is known when predicting{when}",
            columns=[c],
            evidence={"kind": "single_feature_auc", "auc": auc, "rows": rows},
        )
        if f.severity is not Severity.info:
            found.append(f)
    if not found:
        best = max(measured.items(), key=lambda ca: ca[1], default=None)
        shown = f" (strongest: `{best[0]}` {best[1]:.3f})" if best else ""
        found.append(
            Finding(
                check=CHECK,
                severity=Severity.info,
                message=f"no feature alone predicts `{target}` with AUC above {limit.warn}{shown}",
                evidence={"kind": "single_feature_auc", "aucs": measured, "rows": rows},
            )
        )
    return found


def identifier_findings(df: pd.DataFrame, features: list[str], limit: Limit) -> list[Finding]:
    """Non-float features whose values are nearly all distinct: an id or a row number, not a property."""
    found = []
    for c in features:
        if c not in df.columns:
            continue
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
            continue  # measurements and times are naturally near-unique
        present = int(s.notna().sum())
        if present < 2:
            continue
        share = s.nunique() / present
        f = judge(
            CHECK,
            share,
            limit.warn,
            limit.fail,
            f"`{c}` looks like an identifier: {100 * share:.1f}% of its {present:,} training values are distinct; "
            "a model can only memorize it (drop it from the features)",
            columns=[c],
            evidence={"kind": "identifier", "distinct_share": share, "distinct": int(s.nunique()), "rows": present},
        )
        if f.severity is not Severity.info:
            found.append(f)
    return found


def _utc(s: pd.Series) -> pd.Series:
    """Datetimes comparable across columns: naive ones read as UTC."""
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def after_timestamp_findings(
    df: pd.DataFrame, features: list[str], timestamp: str | None, limit: Limit
) -> list[Finding]:
    """Datetime features later than the prediction timestamp: in most rows, a value from after the moment the
    prediction is made (an arrival time, a closing date)."""
    if not timestamp or timestamp not in df.columns or not is_datetime(df[timestamp]):
        return []
    at = _utc(df[timestamp])
    found = []
    for c in features:
        if c == timestamp or c not in df.columns or not is_datetime(df[c]):
            continue
        value = _utc(df[c])
        both = value.notna() & at.notna()
        if not both.any():
            continue
        share = float((value[both] > at[both]).mean())
        f = judge(
            CHECK,
            share,
            limit.warn,
            limit.fail,
            f"`{c}` is later than `{timestamp}` (the prediction moment) in {100 * share:.1f}% of training rows: "
            "its value is known only afterwards",
            columns=[c],
            evidence={"kind": "after_timestamp", "share": share, "rows": int(both.sum())},
        )
        if f.severity is not Severity.info:
            found.append(f)
    return found


def feature_leakage(
    train: pd.DataFrame,
    y: pd.Series | None,
    features: list[str],
    target: str,
    timestamp: str | None,
    *,
    auc_limit: Limit,
    identifier_limit: Limit,
    after_limit: Limit,
    rows: int,
    seed: int,
) -> tuple[list[Finding], dict[str, float], dict[str, float]]:
    """Findings, metrics, and each feature's single-feature AUC (the label profile ranks features by it)."""
    features = [c for c in features if c in train.columns]
    findings: list[Finding] = []
    aucs: dict[str, float] = {}
    if y is None:
        findings.append(
            Finding(
                check=CHECK,
                severity=Severity.info,
                message=f"single-feature predictive power not measured: `{target}` is not a 0/1 label",
            )
        )
    else:
        labelled = sample(train.loc[y.index], rows, seed)
        aucs = single_feature_aucs(labelled, y.loc[labelled.index], features, seed)
        findings += predictive_findings(aucs, target, len(labelled), timestamp, auc_limit)
    findings += identifier_findings(train, features, identifier_limit)
    findings += after_timestamp_findings(train, features, timestamp, after_limit)
    metrics = {metric_key("leakage_auc", c): a for c, a in aucs.items() if a == a}
    if metrics:
        metrics["leakage_auc_max"] = max(metrics.values())
    return findings, metrics, aucs
