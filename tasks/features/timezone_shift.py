"""Timezone bugs: timestamps shifted by whole hours, naive beside aware values, local time taken for UTC.
Training fixes three things a timestamp column must keep at serving: the zones or UTC offsets it is written
in, the whole-hour offset between it and any hour-of-day feature computed from the same moment (a local clock
with daylight saving has two), and the shape of its hour-of-day profile. A shift shows in each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, Share, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs


class Params(checks.CheckParams):
    known_share: Share = Field(
        0.01,
        description="a zone or UTC offset (or an hour-feature offset) is known when at least this share of "
        "training rows has it",
    )
    share: Limit = Field(
        Limit(warn=0.01, fail=0.05),
        description="share of a batch's rows in a zone, UTC offset or hour-feature offset training did not use",
    )
    hour_link_share: Share = Field(
        0.9,
        description="an hour-of-day feature follows a timestamp when training's two commonest offsets (a clock "
        "with daylight saving has two) cover this share of rows",
    )
    profile_shift: Limit = Field(
        Limit(warn=0.05, fail=0.1),
        description="share of rows (total variation) a whole-hour shift of the hour-of-day profile puts back in place",
    )
    min_rows: int = Field(1000, ge=1, description="rows a batch needs for its hour-of-day profile to be compared")


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


def _shares(s: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in s.value_counts(normalize=True).items()}


def _top(shares: dict[str, float], n: int) -> dict[str, float]:
    return dict(list(shares.items())[:n])


@dataclass(frozen=True)
class Zones:
    """The zones a timestamp column is written in, training vs a batch."""

    batch: str
    column: str
    training: dict[str, float]  # zone -> share of training rows, commonest first
    serving: dict[str, float]
    known: tuple[str, ...]
    unknown_share: float  # of the batch's non-null values
    unknown: dict[str, float]  # new zone -> share of the batch


@dataclass(frozen=True)
class HourLink:
    """The whole-hour offset between a timestamp's UTC hour and an hour-of-day feature."""

    batch: str
    column: str
    hour_feature: str
    training: dict[str, float]  # offset -> share, commonest first
    serving: dict[str, float]
    unknown_share: float
    found: int | None  # the commonest offset training never had
    shift: int  # found - training's commonest offset, in [-12, 12)


@dataclass(frozen=True)
class Profile:
    """The hour-of-day profile of a timestamp, and the whole-hour lag that best aligns it with training's."""

    batch: str
    column: str
    shift: int
    gain: float  # share of rows (total variation) the shift puts back in place
    unshifted: float
    shifted: float


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    zones: tuple[Zones, ...]
    links: tuple[HourLink, ...]
    profiles: tuple[Profile, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        out = {}
        for b in self.batches:
            shares = [z.unknown_share for z in self.zones if z.batch == b]
            shares += [h.unknown_share for h in self.links if h.batch == b]
            out[f"{b}.max_unknown_share"] = max(shares, default=0.0)
            out[f"{b}.max_profile_gain"] = max((p.gain for p in self.profiles if p.batch == b), default=0.0)
        return out


def zones(train: pd.Series, batch: pd.Series, p: Params, batch_name: str) -> Zones | None:
    ref, cur = zone_labels(train), zone_labels(batch)
    if ref.empty or cur.empty:
        return None
    trained = _shares(ref)
    known = tuple(z for z, v in trained.items() if v >= p.known_share)
    unknown = cur[~cur.isin(known)]
    share = len(unknown) / len(cur)
    new = {z: v * share for z, v in _shares(unknown).items()} if len(unknown) else {}
    return Zones(batch_name, str(train.name), trained, _shares(cur), known, share, new)


def hour_offsets(stamps: pd.Series, hours: pd.Series) -> pd.Series:
    """(UTC hour of the timestamp - hour feature) mod 24, on rows where both are known."""
    h = utc_hours(stamps)
    f = pd.to_numeric(hours, errors="coerce").dropna()
    both = h.index.intersection(f.index)
    return ((h[both] - f[both].astype("int64")) % HOURS).astype("int64")


def linked_offsets(train_offsets: pd.Series, p: Params) -> list[int] | None:
    """Training's offsets of an hour feature from a timestamp, when the feature follows the timestamp's clock
    (its two commonest offsets cover `hour_link_share` of rows); None for a feature unrelated to it."""
    shares = train_offsets.value_counts(normalize=True)
    if shares.empty or shares.head(2).sum() < p.hour_link_share:
        return None
    return [int(o) for o, v in shares.head(2).items() if v >= p.known_share]


def hour_link(
    train: pd.DataFrame, batch: pd.DataFrame, stamp: str, hour: str, p: Params, batch_name: str
) -> HourLink | None:
    trained = hour_offsets(train[stamp], train[hour])
    known = linked_offsets(trained, p)
    cur = hour_offsets(batch[stamp], batch[hour])
    if not known or cur.empty:
        return None
    unknown = cur[~cur.isin(known)]
    found = int(unknown.mode().iloc[0]) if len(unknown) else None
    shift = _wrap(found - known[0]) if found is not None else 0
    return HourLink(batch_name, stamp, hour, _shares(trained), _shares(cur), len(unknown) / len(cur), found, shift)


def hour_profile(stamps: pd.Series) -> np.ndarray:
    counts = np.bincount(utc_hours(stamps).to_numpy(), minlength=HOURS).astype("float64")
    return counts / counts.sum()


def profile(train: pd.Series, batch: pd.Series, p: Params, batch_name: str) -> Profile | None:
    """Data without a daily cycle puts nothing back: the gain is then about zero."""
    if min(len(utc_hours(train)), len(utc_hours(batch))) < p.min_rows:
        return None
    ref, cur = hour_profile(train), hour_profile(batch)
    # roll by -lag: a batch shifted by +lag hours lines up with training again
    tv = np.array([0.5 * np.abs(np.roll(cur, -lag) - ref).sum() for lag in range(HOURS)])
    lag = int(np.argmin(tv[1:])) + 1
    gain = max(float(tv[0] - tv[lag]), 0.0)
    return Profile(batch_name, str(train.name), _wrap(lag) if gain > 0 else 0, gain, float(tv[0]), float(tv[lag]))


def measure(x: FeatureInputs, p: Params) -> Measurement:
    found_zones, links, profiles = [], [], []
    for name, batch in x.batches.items():
        for col in x.timestamps:
            if col not in batch.columns or col not in x.train.columns:
                continue
            z = zones(x.train[col], batch[col], p, name)
            found_zones += [z] if z else []
            for h in x.hour_features:
                if h in batch.columns:
                    link = hour_link(x.train, batch, col, h, p, name)
                    links += [link] if link else []
            prof = profile(x.train[col], batch[col], p, name)
            profiles += [prof] if prof else []
    return Measurement(tuple(found_zones), tuple(links), tuple(profiles), tuple(x.batches))


def _zone_finding(z: Zones, p: Params) -> Finding:
    if not z.unknown:
        message = f"{z.batch}: {z.column!r} is written in the zones training used ({', '.join(sorted(z.known))})"
    else:
        shown = ", ".join(f"{zone} in {v:.1%}" for zone, v in _top(z.unknown, 3).items())
        if "naive" in z.unknown and "naive" not in z.known:
            why = "tz-naive values where training's were tz-aware"
        elif "naive" in z.known and "naive" not in z.unknown:
            why = "tz-aware values where training's were naive"
        else:
            why = "another zone or UTC offset than training's: every hour and date derived from it moves"
        mixed = "naive" in z.serving and any(zone != "naive" for zone in z.serving)
        message = (
            f"{z.batch}: {z.column!r} is {shown} of rows, training wrote it as "
            f"{', '.join(f'{zone} ({v:.0%})' for zone, v in _top(z.training, 3).items())}: {why}"
            + ("; naive and aware values are mixed in this batch" if mixed else "")
        )
    return judged(
        z.unknown_share,
        p.share,
        message,
        columns=[z.column],
        evidence={"batch": z.batch, "training_zones": _top(z.training, 5), "serving_zones": _top(z.serving, 5)},
    )


def _link_finding(h: HourLink, p: Params) -> Finding:
    trained = ", ".join(f"{o} h in {v:.0%}" for o, v in _top(h.training, 2).items())
    if h.found is None:
        message = (
            f"{h.batch}: {h.column!r} (UTC hour) and the hour feature {h.hour_feature!r} keep training's offsets "
            f"({trained})"
        )
    else:
        message = (
            f"{h.batch}: {h.column!r} is {h.found} h from the hour feature {h.hour_feature!r} in "
            f"{h.unknown_share:.1%} of rows (training: {trained}): timestamps shifted by {h.shift:+d} h against the "
            f"hour feature, or one of them in local time and the other in UTC{_dst_note(h.shift)}"
        )
    return judged(
        h.unknown_share,
        p.share,
        message,
        columns=[h.column, h.hour_feature],
        evidence={
            "batch": h.batch,
            "hour_feature": h.hour_feature,
            "training_offsets": _top(h.training, 5),
            "serving_offsets": _top(h.serving, 5),
            "offset_hours": h.shift,
        },
    )


def _profile_finding(pr: Profile, p: Params) -> Finding:
    if p.profile_shift.severity(pr.gain) is not Severity.info:
        message = (
            f"{pr.batch}: the hour-of-day profile of {pr.column!r} matches training's best shifted by "
            f"{pr.shift:+d} h; the shift puts {pr.gain:.1%} of rows back in place (total variation "
            f"{pr.unshifted:.3f} -> {pr.shifted:.3f}): timestamps shifted by whole hours, or local time taken for "
            f"UTC{_dst_note(pr.shift)}"
        )
    else:
        better = (
            f"a {pr.shift:+d} h shift would put back only {pr.gain:.1%} of rows"
            if pr.shift
            else "no shift aligns it better"
        )
        message = (
            f"{pr.batch}: the hour-of-day profile of {pr.column!r} is aligned with training's (total variation "
            f"{pr.unshifted:.3f}; {better})"
        )
    return judged(
        pr.gain,
        p.profile_shift,
        message,
        columns=[pr.column],
        evidence={
            "batch": pr.batch,
            "offset_hours": pr.shift,
            "total_variation_unshifted": pr.unshifted,
            "total_variation_shifted": pr.shifted,
        },
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Per batch and timestamp column: the zones, each linked hour feature's offset, the hour profile."""
    findings = []
    for b in m.batches:
        findings += [_zone_finding(z, p) for z in m.zones if z.batch == b]
        findings += [_link_finding(h, p) for h in m.links if h.batch == b]
        findings += [_profile_finding(pr, p) for pr in m.profiles if pr.batch == b]
    return findings
