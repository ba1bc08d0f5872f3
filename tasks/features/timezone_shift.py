"""Timezone bugs: timestamps shifted by whole hours, naive beside aware values, local time taken for UTC.
Training fixes three things a timestamp column must keep at serving: the zones or UTC offsets it is written
in, the whole-hour offset between it and any hour-of-day feature computed from the same moment (a local clock
with daylight saving has two), and the shape of its hour-of-day profile. A shift shows in each."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tasks.params import FeaturesParams
from tasks.result import Finding, Severity, judge, severity_for

HOURS = 24
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) or s.dtype == object


def is_timestamp(s: pd.Series) -> bool:
    """A datetime column, or one of ISO-8601 strings (every non-null value starts like one)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if not _is_text(s):
        return False
    values = s.dropna().astype(str)
    if values.empty or not _ISO.match(values.iloc[0]):  # cheap rejection of the many text columns
        return False
    return bool(values.str.match(_ISO).all())


def timestamp_columns(train: pd.DataFrame, named: list[str]) -> list[str]:
    """The columns params name as timestamps plus every other column training holds as timestamps."""
    found = [c for c in named if c in train.columns]
    return found + [c for c in train.columns if c not in found and is_timestamp(train[c])]


def hour_columns(train: pd.DataFrame, candidates: list[str]) -> list[str]:
    """Integer columns whose values all lie in 0-23: possible hour-of-day features."""
    hours = []
    for c in candidates:
        s = train[c]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        x = s.dropna().to_numpy(dtype="float64")
        if x.size and np.all(x == np.round(x)) and x.min() >= 0 and x.max() < HOURS and np.unique(x).size > 1:
            hours.append(c)
    return hours


def zone_labels(s: pd.Series) -> pd.Series:
    """Per non-null value, the zone it is written in: the column's timezone or 'naive' for datetimes; the UTC
    offset suffix ('+00:00' for Z) or 'naive' for strings."""
    s = s.dropna()
    if pd.api.types.is_datetime64_any_dtype(s):
        tz = getattr(s.dt, "tz", None)
        return pd.Series("naive" if tz is None else str(tz), index=s.index)
    suffix = s.astype(str).str.strip().str.extract(_OFFSET, expand=False)
    suffix = suffix.str.replace("Z", "+00:00", regex=False).str.replace(r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
    return suffix.fillna("naive").astype(str)


def utc_hours(s: pd.Series) -> pd.Series:
    """Hour of day in UTC of aware values; the wall-clock hour of naive ones (they carry no zone)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        t = s.dt.tz_convert("UTC") if getattr(s.dt, "tz", None) is not None else s
    elif _is_text(s):
        t = pd.to_datetime(s.astype(str), utc=True, format="ISO8601", errors="coerce")
    else:
        return pd.Series(dtype="float64")
    return t.dt.hour.dropna().astype("int64")


def _wrap(hours: int) -> int:
    """Whole hours as a shift in [-12, 12)."""
    return (hours + HOURS // 2) % HOURS - HOURS // 2


def _dst_note(shift: int) -> str:
    return " (also what a daylight-saving change between the two periods gives)" if abs(shift) == 1 else ""


def _shares(s: pd.Series) -> pd.Series:
    return s.value_counts(normalize=True)


def zone_mismatch(train: pd.Series, batch: pd.Series, p: FeaturesParams, batch_name: str) -> Finding | None:
    """Share of serving values written in a zone (or offset, or without one) that training did not use."""
    ref, cur = _shares(zone_labels(train)), zone_labels(batch)
    if ref.empty or cur.empty:
        return None
    known = set(ref[ref >= p.timezone_known_share].index)
    unknown = cur[~cur.isin(known)]
    share = len(unknown) / len(cur)
    col = str(train.name)
    if unknown.empty:
        message = f"{batch_name}: {col!r} is written in the zones training used ({', '.join(sorted(known))})"
    else:
        new = _shares(unknown) * share
        shown = ", ".join(f"{z} in {v:.1%}" for z, v in new.head(3).items())
        if "naive" in set(unknown) and "naive" not in known:
            why = "tz-naive values where training's were tz-aware"
        elif "naive" in known and "naive" not in set(unknown):
            why = "tz-aware values where training's were naive"
        else:
            why = "another zone or UTC offset than training's: every hour and date derived from it moves"
        mixed = "naive" in set(cur) and bool((cur != "naive").any())
        message = (
            f"{batch_name}: {col!r} is {shown} of rows, training wrote it as "
            f"{', '.join(f'{z} ({v:.0%})' for z, v in ref.head(3).items())}: {why}"
            + ("; naive and aware values are mixed in this batch" if mixed else "")
        )
    return judge(
        "timezone_shift",
        share,
        p.timezone_shift_share.warn,
        p.timezone_shift_share.fail,
        message,
        columns=[col],
        evidence={
            "batch": batch_name,
            "training_zones": ref.head(5).to_dict(),
            "serving_zones": _shares(cur).head(5).to_dict(),
        },
    )


def hour_offsets(stamps: pd.Series, hours: pd.Series) -> pd.Series:
    """(UTC hour of the timestamp - hour feature) mod 24, on rows where both are known."""
    h = utc_hours(stamps)
    f = pd.to_numeric(hours, errors="coerce").dropna()
    both = h.index.intersection(f.index)
    return ((h[both] - f[both].astype("int64")) % HOURS).astype("int64")


def linked_offsets(train_offsets: pd.Series, p: FeaturesParams) -> list[int] | None:
    """Training's offsets of an hour feature from a timestamp, when the feature follows the timestamp's clock
    (its two commonest offsets cover `hour_link_share` of rows); None for a feature unrelated to it."""
    shares = _shares(train_offsets)
    if shares.empty or shares.head(2).sum() < p.hour_link_share:
        return None
    return [int(o) for o, v in shares.head(2).items() if v >= p.timezone_known_share]


def hour_feature_shift(
    train: pd.DataFrame, batch: pd.DataFrame, stamp: str, hour: str, p: FeaturesParams, batch_name: str
) -> Finding | None:
    """Share of serving rows whose timestamp and hour feature are offset by whole hours training never had."""
    known = linked_offsets(hour_offsets(train[stamp], train[hour]), p)
    cur = hour_offsets(batch[stamp], batch[hour])
    if not known or cur.empty:
        return None
    ref = _shares(hour_offsets(train[stamp], train[hour]))
    unknown = cur[~cur.isin(known)]
    share = len(unknown) / len(cur)
    trained = ", ".join(f"{o} h in {v:.0%}" for o, v in ref.head(2).items())
    evidence = {
        "batch": batch_name,
        "hour_feature": hour,
        "training_offsets": ref.head(5).to_dict(),
        "serving_offsets": _shares(cur).head(5).to_dict(),
    }
    if unknown.empty:
        message = (
            f"{batch_name}: {stamp!r} (UTC hour) and the hour feature {hour!r} keep training's offsets ({trained})"
        )
        shift = 0
    else:
        found = int(unknown.mode().iloc[0])
        shift = _wrap(found - known[0])
        message = (
            f"{batch_name}: {stamp!r} is {found} h from the hour feature {hour!r} in {share:.1%} of rows (training: "
            f"{trained}): timestamps shifted by {shift:+d} h against the hour feature, or one of them in local "
            f"time and the other in UTC{_dst_note(shift)}"
        )
    return judge(
        "timezone_shift",
        share,
        p.timezone_shift_share.warn,
        p.timezone_shift_share.fail,
        message,
        columns=[stamp, hour],
        evidence={**evidence, "offset_hours": shift},
    )


def hour_profile(stamps: pd.Series) -> np.ndarray:
    counts = np.bincount(utc_hours(stamps).to_numpy(), minlength=HOURS).astype("float64")
    return counts / counts.sum()


def profile_shift(train: pd.Series, batch: pd.Series, p: FeaturesParams, batch_name: str) -> Finding | None:
    """The whole-hour lag that best aligns the serving hour-of-day profile with training's, sized by the share
    of rows (total variation) it puts back in place. Data without a daily cycle puts nothing back."""
    col = str(train.name)
    n_ref, n_cur = len(utc_hours(train)), len(utc_hours(batch))
    if min(n_ref, n_cur) < p.timezone_min_rows:
        return None
    ref, cur = hour_profile(train), hour_profile(batch)
    # roll by -lag: a batch shifted by +lag hours lines up with training again
    tv = np.array([0.5 * np.abs(np.roll(cur, -lag) - ref).sum() for lag in range(HOURS)])
    lag = int(np.argmin(tv[1:])) + 1
    gain = max(float(tv[0] - tv[lag]), 0.0)
    shift = _wrap(lag) if gain > 0 else 0
    limit = p.timezone_profile_shift
    if severity_for(gain, limit.warn, limit.fail) is not Severity.info:
        message = (
            f"{batch_name}: the hour-of-day profile of {col!r} matches training's best shifted by {shift:+d} h; "
            f"the shift puts {gain:.1%} of rows back in place (total variation {tv[0]:.3f} -> {tv[lag]:.3f}): "
            f"timestamps shifted by whole hours, or local time taken for UTC{_dst_note(shift)}"
        )
    else:
        better = (
            f"a {shift:+d} h shift would put back only {gain:.1%} of rows" if shift else "no shift aligns it better"
        )
        message = (
            f"{batch_name}: the hour-of-day profile of {col!r} is aligned with training's (total variation "
            f"{tv[0]:.3f}; {better})"
        )
    return judge(
        "timezone_shift",
        gain,
        limit.warn,
        limit.fail,
        message,
        columns=[col],
        evidence={
            "batch": batch_name,
            "offset_hours": shift,
            "total_variation_unshifted": float(tv[0]),
            "total_variation_shifted": float(tv[lag]),
        },
    )


def timezone_shift(
    train: pd.DataFrame,
    batch: pd.DataFrame,
    stamps: list[str],
    hours: list[str],
    p: FeaturesParams,
    batch_name: str,
) -> list[Finding]:
    """Every timezone finding for the timestamp columns `stamps` and candidate hour features `hours`."""
    findings: list[Finding | None] = []
    for col in stamps:
        if col not in batch.columns:
            continue
        findings.append(zone_mismatch(train[col], batch[col], p, batch_name))
        findings += [hour_feature_shift(train, batch, col, h, p, batch_name) for h in hours if h in batch.columns]
        findings.append(profile_shift(train[col], batch[col], p, batch_name))
    return [f for f in findings if f is not None]
