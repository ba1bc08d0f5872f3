"""Covariate shift: a feature's distribution in a batch moved away from training (a new sensor, another
population), measured by effect size so a verdict does not flip with the sample size: normed Wasserstein
distance (in training standard deviations) for numbers, Jensen-Shannon distance for categories.

What the model meets beyond the training contract is the features layer's: values outside the training
range count here as the range's edge (so a few impossible values do not read as a moved distribution while
a whole distribution that moved still does), categories training never saw are left out, and a column
scaled on one side only (standardized or min-max) is reported as the features layer's normalization skew.
"""

from __future__ import annotations

import pandas as pd

from tasks.data.stats import finite, is_numeric, looks_normalized, metric_key
from tasks.drift import ColumnDrift, measure_drift
from tasks.limits import Limit
from tasks.result import Finding, Severity, severity_for

CHECK = "covariate_shift"
_RANK = {Severity.info: 0, Severity.warn: 1, Severity.fail: 2}
_STATISTIC = {"wasserstein": "normed Wasserstein", "jensenshannon": "Jensen-Shannon"}


def prepared_batch(
    train: pd.DataFrame, batch: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The batch as this check measures it: numbers clipped to the training [min, max], categories training
    never saw blanked. Returns the frame and, per column, the share of non-null values changed so."""
    out = pd.DataFrame(index=batch.index)
    touched: dict[str, float] = {}
    for c in numeric:
        values = pd.to_numeric(batch[c], errors="coerce").astype("float64")
        known = finite(train[c])
        if known.empty:
            out[c] = values
            continue
        clipped = values.clip(known.min(), known.max())
        out[c] = clipped
        present = values.notna().sum()
        touched[c] = float((clipped != values)[values.notna()].sum() / present) if present else 0.0
    for c in categorical:
        seen = set(train[c].dropna().unique())
        values = batch[c]
        new = values.notna() & ~values.isin(seen)
        out[c] = values.where(~new)
        present = values.notna().sum()
        touched[c] = float(new.sum() / present) if present else 0.0
    return out, touched


def _statistic(d: ColumnDrift) -> str:
    return _STATISTIC.get(d.method, d.method)


def covariate_shift(
    reference: pd.DataFrame,
    train: pd.DataFrame,
    batch: pd.DataFrame,
    batch_name: str,
    numeric: list[str],
    categorical: list[str],
    numeric_limit: Limit,
    categorical_limit: Limit,
    normalized_tolerance: float,
) -> tuple[Finding, dict[str, float]]:
    """One finding for the batch: every feature whose shift reaches its warn limit, worst first, with the
    statistic and its size. `reference` is a training sample; `train` the whole snapshot (its range and
    categories). Columns absent or of another type in the batch are the schema check's and are skipped."""
    numeric = [c for c in numeric if c in batch.columns and is_numeric(batch[c]) and c in reference.columns]
    categorical = [c for c in categorical if c in batch.columns and c in reference.columns]
    current, touched = prepared_batch(train, batch, numeric, categorical)
    limits = {c: numeric_limit for c in numeric} | {c: categorical_limit for c in categorical}
    thresholds = {c: (lim.warn if lim.warn is not None else lim.fail) or 0.0 for c, lim in limits.items()}
    drift = measure_drift(reference, current, numeric, categorical, thresholds)

    scored: list[tuple[Severity, ColumnDrift]] = []
    deferred: list[str] = []
    for c, d in drift.columns.items():
        severity = severity_for(d.score, limits[c].warn, limits[c].fail)
        if severity is not Severity.info and c in numeric:
            one_side = looks_normalized(train[c], normalized_tolerance) != looks_normalized(
                batch[c], normalized_tolerance
            )
            if one_side:
                deferred.append(c)
                severity = Severity.info
        scored.append((severity, d))
    scored.sort(key=lambda sd: (-_RANK[sd[0]], -sd[1].score / max(thresholds[sd[1].column], 1e-9)))
    flagged = [(s, d) for s, d in scored if s is not Severity.info]
    severity = max((s for s, _ in flagged), key=_RANK.__getitem__, default=Severity.info)

    def describe(d: ColumnDrift) -> str:
        size = f"{d.score:.2f}" + (" training sds" if d.method == "wasserstein" else "")
        return f"`{d.column}` {size} ({_statistic(d)})"

    limits_text = (
        f"limits: normed Wasserstein warn {numeric_limit.warn} / fail {numeric_limit.fail}, "
        f"Jensen-Shannon warn {categorical_limit.warn} / fail {categorical_limit.fail}"
    )
    if flagged:
        shown = ", ".join(describe(d) for _, d in flagged)
        message = f"{batch_name}: {len(flagged)} feature(s) moved away from training: {shown}; {limits_text}"
    elif scored:
        top = max(scored, key=lambda sd: sd[1].score / max(thresholds[sd[1].column], 1e-9))[1]
        message = f"{batch_name}: no feature moved beyond its warn limit (closest: {describe(top)}); {limits_text}"
    else:
        message = f"{batch_name}: no feature's shift could be measured"
    if deferred:
        message += (
            f"; {', '.join(f'`{c}`' for c in deferred)} looks scaled on one side only (standardized or "
            "min-max): judged by the features layer (normalization_skew)"
        )
    finding = Finding(
        check=CHECK,
        severity=severity,
        message=message,
        columns=[d.column for _, d in flagged],
        evidence={
            "batch": batch_name,
            "scores": {d.column: {"statistic": _statistic(d), "score": d.score} for _, d in scored},
            "numeric_limit": numeric_limit.model_dump(),
            "categorical_limit": categorical_limit.model_dump(),
            "reference_rows": len(reference),
            "batch_rows": len(batch),
            "clipped_or_unseen_share": {c: s for c, s in touched.items() if s > 0},
            "unmeasured": drift.unmeasured,
            "deferred_to_features": deferred,
        },
    )
    metrics = {metric_key(f"{batch_name}_shift", d.column): d.score for _, d in scored}
    metrics[f"{batch_name}_wasserstein_max"] = max((d.score for _, d in scored if d.column in numeric), default=0.0)
    return finding, metrics
