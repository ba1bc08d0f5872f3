"""timezone_shift: whole-hour shifts, naive beside aware values, local time taken for UTC."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.features import timezone_shift as check
from tasks.features.timezone_shift import hour_columns, hour_offsets, linked_offsets, timestamp_columns, zone_labels
from tasks.result import Finding, Severity
from tests.checking import feature_inputs, findings

P = check.Params(min_rows=200)
RNG = np.random.default_rng(0)


def flights(n: int, start: str) -> pd.DataFrame:
    """Departures with a daily cycle (busy mornings and evenings), stamped in UTC, with the local (UTC-5)
    hour of day as a feature and an unrelated small-integer column."""
    local_hour = RNG.choice([6, 7, 8, 9, 12, 17, 18, 19], size=n)
    day = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(RNG.integers(0, 60, n), unit="D")
    at = day + pd.to_timedelta(local_hour + 5, unit="h") + pd.to_timedelta(RNG.integers(0, 60, n), unit="min")
    return pd.DataFrame({"at": at, "hour": local_hour, "weekday": RNG.integers(0, 7, n), "km": RNG.uniform(1, 9, n)})


TRAIN = flights(3000, "2024-01-01")
SERVE = flights(600, "2024-03-01")


def severities(found: list) -> list[str]:
    return [f.severity.value for f in found]


def timezone_shift(train: pd.DataFrame, batch: pd.DataFrame, stamps: list[str], hours: list[str]) -> list[Finding]:
    x = feature_inputs(train, batch, numeric=[c for c in train if c != "at"], timestamps=stamps, hour_features=hours)
    return findings(check, x, P)


def profile_shift(train: pd.Series, batch: pd.Series) -> Finding | None:
    found = [f for f in timezone_shift(train.to_frame(), batch.to_frame(), ["at"], []) if "profile" in f.message]
    return found[0] if found else None


def test_clean_timestamps_are_quiet():
    """Same zone, same offset to the hour feature, same daily profile: three info findings."""
    found = timezone_shift(TRAIN, SERVE, ["at"], ["hour", "weekday"])
    assert severities(found) == ["info", "info", "info"]


def test_a_whole_hour_shift_fails_and_names_the_offset():
    """Serving timestamps 3 h late: the hour-feature offset and the hour profile both find +3 h."""
    shifted = SERVE.assign(at=SERVE["at"] + pd.Timedelta(hours=3))
    found = timezone_shift(TRAIN, shifted, ["at"], ["hour"])
    fails = [f for f in found if f.severity is Severity.fail]
    assert len(fails) == 2 and all(f.evidence["offset_hours"] == 3 for f in fails)
    assert "+3 h" in fails[0].message and "'hour'" in fails[0].message


def test_local_time_taken_for_utc_is_found_by_the_hour_feature():
    """Wall-clock times stamped as UTC put the timestamp 0 h from the local hour feature: a -5 h shift."""
    local = SERVE["at"].dt.tz_convert("Etc/GMT+5").dt.tz_localize(None).dt.tz_localize("UTC")
    [f] = [f for f in timezone_shift(TRAIN, SERVE.assign(at=local), ["at"], ["hour"]) if "'hour'" in f.message]
    assert f.severity is Severity.fail and f.evidence["offset_hours"] == -5


def test_a_shift_in_part_of_the_batch_is_judged_by_its_share():
    """10% of rows shifted by 5 h fail (above 5%); 0.5% is below warn."""
    at = SERVE["at"].copy()
    at.iloc[:60] += pd.Timedelta(hours=5)
    [f] = [f for f in timezone_shift(TRAIN, SERVE.assign(at=at), ["at"], ["hour"]) if "'hour'" in f.message]
    assert f.severity is Severity.fail and f.evidence["value"] == 0.1
    at = SERVE["at"].copy()
    at.iloc[:3] += pd.Timedelta(hours=5)
    [f] = [f for f in timezone_shift(TRAIN, SERVE.assign(at=at), ["at"], ["hour"]) if "'hour'" in f.message]
    assert f.severity is Severity.info


def test_naive_serving_timestamps_fail_when_training_was_aware():
    """A tz-aware training column arriving tz-naive at serving is named as naive vs aware."""
    found = timezone_shift(TRAIN, SERVE.assign(at=SERVE["at"].dt.tz_localize(None)), ["at"], [])
    [f] = [f for f in found if "naive" in f.message]
    assert f.severity is Severity.fail and "tz-naive values where training's were tz-aware" in f.message


def test_strings_mixing_naive_and_offset_values_fail():
    """ISO strings with offsets in training; at serving a fifth without one: naive and aware mixed."""
    train = TRAIN.assign(at=TRAIN["at"].dt.tz_convert("Etc/GMT+5").astype(str))
    serve = SERVE.assign(at=SERVE["at"].dt.tz_convert("Etc/GMT+5").astype(str))
    serve.loc[serve.index[:120], "at"] = serve["at"].iloc[:120].str[:19]
    assert timestamp_columns(train, []) == ["at"]
    [f] = [f for f in timezone_shift(train, serve, ["at"], []) if "written" in f.message or "naive" in f.message]
    assert f.severity is Severity.fail and "mixed" in f.message and f.evidence["value"] == 0.2


def test_zone_labels_read_offsets_and_zones():
    """Offsets of strings are normalized (Z is +00:00); datetimes give their zone or naive."""
    s = pd.Series(["2024-01-01T10:00:00Z", "2024-01-01 10:00:00+0530", "2024-01-01 10:00"])
    assert zone_labels(s).tolist() == ["+00:00", "+05:30", "naive"]
    assert set(zone_labels(TRAIN["at"])) == {"UTC"}


def test_only_an_hour_feature_that_follows_the_clock_is_linked():
    """The local hour is linked to the timestamp (one offset); a weekday column is not."""
    assert hour_columns(TRAIN, ["hour", "weekday", "km"]) == ["hour", "weekday"]
    assert linked_offsets(hour_offsets(TRAIN["at"], TRAIN["hour"]), P) == [5]
    assert linked_offsets(hour_offsets(TRAIN["at"], TRAIN["weekday"]), P) is None


def test_profile_without_a_daily_cycle_finds_nothing():
    """Timestamps spread evenly over the day: no whole-hour shift puts rows back in place."""
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    even = pd.Series(t0 + pd.to_timedelta(RNG.uniform(0, 24 * 90, 5000), unit="h"), name="at")
    later = pd.Series(t0 + pd.to_timedelta(RNG.uniform(0, 24 * 90, 1000) + 3, unit="h"), name="at")
    assert profile_shift(even, later).severity is Severity.info


def test_profile_needs_enough_rows():
    """A batch under `timezone_min_rows` is not judged on its profile."""
    assert profile_shift(TRAIN["at"], SERVE["at"].head(50)) is None
