"""The monitoring plantings do what their docstrings say, on a few demo-like rows: a traffic mix chosen by the
previous release's risk score, a relabelled feedback window in a labels file, traffic from the afternoon on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.demo import plants
from tests.unit.test_faults_plants import demo_like


def frames() -> plants.Frames:
    return {
        "train": demo_like(400, "2012-10-01", 0, "tr", freq="6h"),
        "test": demo_like(100, "2013-03-01", 1, "te"),
        "current": demo_like(480, "2013-04-01", 2, "cu"),
    }


def test_prediction_drift_keeps_the_riskiest_share_of_the_traffic_once_each() -> None:
    """The current batch becomes 40% of its flights, none twice, the ones the previous release scores riskiest;
    training and test are untouched."""
    f = frames()
    out = plants.prediction_drift(f, np.random.default_rng(0))
    cur = out["current"]
    assert len(cur) == round(plants.ALERT_SHARE * len(f["current"])) and cur["flight_id"].is_unique
    assert set(cur["flight_id"]) <= set(f["current"]["flight_id"])
    risk = plants.previous_release(f["train"]).predict_proba(
        f["current"][list(plants._CATEGORICAL) + [c for c in plants._NUMERIC if c not in plants.PREVIOUS_RELEASE_DROPS]]
    )[:, 1]
    kept = f["current"]["flight_id"].isin(cur["flight_id"]).to_numpy()
    assert risk[kept].min() >= risk[~kept].max()
    assert out["train"].equals(f["train"]) and out["test"].equals(f["test"])


def test_concept_drift_relabels_the_last_days_in_a_feedback_file() -> None:
    """The labels move to a file keyed by flight_id and the current batch loses its target; the last 10 local
    days keep their number of late flights, now the earliest ones (give or take), the days before are as
    they were; the inputs are untouched."""
    f = frames()
    out = plants.concept_drift(f, np.random.default_rng(0))
    labels, cur = out["labels"], out["current"]
    assert plants.TARGET not in cur.columns and cur.equals(f["current"].drop(columns=[plants.TARGET]))
    assert labels["flight_id"].tolist() == f["current"]["flight_id"].tolist()
    day = f["current"][plants.TIMESTAMP].dt.tz_convert(plants.LOCAL_ZONE).dt.date
    last = day.isin(sorted(day.unique())[-plants.RELABELLED_DAYS :])
    before = f["current"][plants.TARGET]
    assert labels[plants.TARGET][~last].equals(before[~last])
    per_day = pd.DataFrame({"day": day, "new": labels[plants.TARGET], "old": before})[last].groupby("day").sum()
    assert (per_day["new"] == per_day["old"]).all()
    hours = f["current"]["sched_hour"][last]
    late = labels[plants.TARGET][last] == 1
    assert hours[late].mean() < hours[~late].mean() - 2  # the late flights are now the early ones


def test_confidence_collapse_keeps_the_afternoon_and_evening_flights() -> None:
    """Only departures from 13:00 on reach the model; every one of them does."""
    f = frames()
    cur = plants.confidence_collapse(f, np.random.default_rng(0))["current"]
    assert (cur["sched_hour"] >= plants.UNSURE_FROM_HOUR).all()
    assert len(cur) == int((f["current"]["sched_hour"] >= plants.UNSURE_FROM_HOUR).sum())
