"""Covariate shift: a feature's distribution in a batch moved away from training (a new sensor, another
population), measured by effect size so a verdict does not flip with the sample size: normed Wasserstein
distance (in training standard deviations) for numbers, Jensen-Shannon distance for categories, training (a
seeded sample of at most `data.drift_reference_rows` rows) vs the test set and vs the current batch.

What the model meets beyond the training contract is the features layer's: values outside the training
range count here as the range's edge (so a few impossible values do not read as a moved distribution while
a whole distribution that moved still does), categories training never saw are left out, and a column
scaled on one side only (standardized or min-max, the features layer's "looks normalized" rule) is reported
as the features layer's normalization skew. An identifier (a non-float feature nearly all of whose training
values are distinct: an id, a row number) is not compared: its values differ between files by nature, which is
no drift; the finding names it, and whether the model rests on it is the evaluation layer's spurious_feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import as_number, finite, is_datetime, is_numeric, metric_key, normalization
from tasks.data.row_count import judgeable
from tasks.data.stats import sample
from tasks.drift import drift_scores
from tasks.limits import Limit, Share
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

_STATISTIC = {"wasserstein": "normed Wasserstein", "jensenshannon": "Jensen-Shannon"}


class Params(checks.CheckParams):
    numeric: Limit = Field(
        Limit(warn=0.5, fail=1.0),
        description="normed Wasserstein distance of a numeric feature, in training sds (0.5 medium, 1.0 large)",
    )
    categorical: Limit = Field(
        Limit(warn=0.17, fail=0.33),
        description="Jensen-Shannon distance of a categorical feature (0.17 / 0.33: what two normal distributions "
        "0.5 / 1 sd apart give)",
    )
    identifier_share: Share = Field(
        0.9,
        description="a non-float feature with at least this share of distinct training values is an identifier: "
        "not compared (new ids in a batch are its nature)",
    )


@dataclass(frozen=True)
class Score:
    column: str
    statistic: str  # normed Wasserstein | Jensen-Shannon
    score: float
    numeric: bool
    one_sided_scaling: bool = False  # looks normalized on one side only: the features layer's


@dataclass(frozen=True)
class Shift:
    batch: str
    scores: tuple[Score, ...]
    reference_rows: int
    batch_rows: int
    touched: dict[str, float]  # share of non-null values clipped to the training range or unseen categories
    unmeasured: dict[str, str]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    shifts: tuple[Shift, ...]
    identifiers: dict[str, float] = field(default_factory=dict)  # column -> share of distinct training values
    too_few: dict[str, int] = field(default_factory=dict)  # batch -> its rows, too few to compare (row_count's)

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.shifts:
            out.update({metric_key(s.batch, d.column): d.score for d in s.scores})
            out[f"{s.batch}.wasserstein_max"] = max((d.score for d in s.scores if d.numeric), default=0.0)
        return out


def prepared_batch(
    train: pd.DataFrame, batch: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The batch as this check measures it: numbers clipped to the training [min, max], categories training
    never saw blanked. Returns the frame and, per column, the share of non-null values changed so."""
    out = pd.DataFrame(index=batch.index)
    touched: dict[str, float] = {}
    for c in numeric:
        values = as_number(batch[c])  # inf and overflowing values are non_finite's: missing here
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


def _warn_level(limit: Limit) -> float:
    return (limit.warn if limit.warn is not None else limit.fail) or 0.0


def shift_of(
    reference: pd.DataFrame,
    train: pd.DataFrame,
    batch: pd.DataFrame,
    name: str,
    numeric: list[str],
    categorical: list[str],
    p: Params,
    tolerance: float,
) -> Shift:
    """Each feature's shift, training vs one batch. `reference` is a training sample; `train` the whole
    snapshot (its range and categories). Columns absent or of another type in the batch are schema_change's."""
    numeric = [c for c in numeric if c in batch.columns and is_numeric(batch[c]) and c in reference.columns]
    categorical = [c for c in categorical if c in batch.columns and c in reference.columns]
    current, touched = prepared_batch(train, batch, numeric, categorical)
    reference = reference.assign(**{c: as_number(reference[c]) for c in numeric})
    thresholds = {c: _warn_level(p.numeric) for c in numeric} | {c: _warn_level(p.categorical) for c in categorical}
    drift = drift_scores(reference, current, numeric, categorical, thresholds)
    scores = []
    for c, d in drift.columns.items():
        one_sided = c in numeric and (normalization(train[c], tolerance) is None) != (
            normalization(batch[c], tolerance) is None
        )
        scores.append(Score(c, _STATISTIC.get(d.method, d.method), d.score, c in numeric, one_sided))
    return Shift(name, tuple(scores), len(reference), len(batch), touched, dict(drift.unmeasured))


def identifiers(train: pd.DataFrame, columns: list[str], share: float) -> dict[str, float]:
    """Non-float, non-datetime, non-boolean columns whose training values are at least `share` distinct."""
    found = {}
    for c in columns:
        s = train[c]
        if pd.api.types.is_float_dtype(s.dtype) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        present = int(s.notna().sum())
        if present >= 2 and s.nunique() / present >= share:
            found[c] = s.nunique() / present
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    ids = identifiers(x.train, [c for c in (*x.numeric, *x.categorical) if c in x.train.columns], p.identifier_share)
    numeric = [c for c in x.numeric if c not in ids]
    categorical = [c for c in x.categorical if c not in ids]
    columns = [c for c in (*numeric, *categorical) if c in x.train.columns]
    reference = sample(x.train[columns], x.drift_reference_rows, x.seed)
    return Measurement(
        tuple(
            shift_of(reference, x.train, frame, name, numeric, categorical, p, x.normalization_tolerance)
            for name, frame in x.batches.items()
            if judgeable(len(frame), x)
        ),
        ids,
        {name: len(frame) for name, frame in x.batches.items() if not judgeable(len(frame), x)},
    )


def _describe(d: Score) -> str:
    size = f"{d.score:.2f}" + (" training sds" if d.numeric else "")
    return f"`{d.column}` {size} ({d.statistic})"


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per batch: every feature whose shift reaches its warn limit, worst first, with the statistic
    and its size (info naming the closest one when none does)."""
    found = [_judged(s, p) for s in m.shifts]
    found += [
        Finding(severity=Severity.info, message=f"{name}: {rows} rows, too few to compare (row_count): not judged")
        for name, rows in m.too_few.items()
    ]
    if m.identifiers:
        shown = ", ".join(f"`{c}` ({v:.0%} distinct)" for c, v in m.identifiers.items())
        found.append(
            Finding(
                severity=Severity.info,
                message=f"not compared, identifiers: {shown}: an id's values differ between files by nature, which "
                "is no drift (whether the model rests on it: the evaluation layer's spurious_feature)",
                columns=list(m.identifiers),
                evidence={"identifiers": m.identifiers, "identifier_share": p.identifier_share},
            )
        )
    return found


def _judged(s: Shift, p: Params) -> Finding:
    def limit(d: Score) -> Limit:
        return p.numeric if d.numeric else p.categorical

    def relative(d: Score) -> float:
        return d.score / max(_warn_level(limit(d)), 1e-9)

    scored: list[tuple[Severity, Score]] = []
    deferred: list[str] = []
    for d in s.scores:
        severity = limit(d).severity(d.score)
        if severity is not Severity.info and d.one_sided_scaling:
            deferred.append(d.column)
            severity = Severity.info
        scored.append((severity, d))
    scored.sort(key=lambda sd: (-sd[0].rank, -relative(sd[1])))
    flagged = [(sev, d) for sev, d in scored if sev is not Severity.info]
    limits_text = (
        f"limits: normed Wasserstein warn {p.numeric.warn} / fail {p.numeric.fail}, "
        f"Jensen-Shannon warn {p.categorical.warn} / fail {p.categorical.fail}"
    )
    if flagged:
        shown = ", ".join(_describe(d) for _, d in flagged)
        message = f"{s.batch}: {len(flagged)} feature(s) moved away from training: {shown}; {limits_text}"
    elif scored:
        top = max((d for _, d in scored), key=relative)
        message = f"{s.batch}: no feature moved beyond its warn limit (closest: {_describe(top)}); {limits_text}"
    else:
        message = f"{s.batch}: no feature's shift could be measured"
    if deferred:
        message += (
            f"; {', '.join(f'`{c}`' for c in deferred)} looks scaled on one side only (standardized or "
            "min-max): judged by the features layer (normalization_skew)"
        )
    return Finding(
        severity=max((sev for sev, _ in flagged), default=Severity.info),
        message=message,
        columns=[d.column for _, d in flagged],
        evidence={
            "batch": s.batch,
            "scores": {d.column: {"statistic": d.statistic, "score": d.score} for _, d in scored},
            "numeric_limit": p.numeric.model_dump(),
            "categorical_limit": p.categorical.model_dump(),
            "reference_rows": s.reference_rows,
            "batch_rows": s.batch_rows,
            "clipped_or_unseen_share": {c: v for c, v in s.touched.items() if v > 0},
            "unmeasured": s.unmeasured,
            "deferred_to_features": deferred,
        },
    )
