"""Every registered check on the frames that break naive code (empty, an all-null column, one row, no labels,
one class): each check ends in findings or a `check_error`, never a lost stage, and on these shapes no
built-in check should crash at all."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tasks.checks import ERROR_CHECK, configured, run_checks
from tasks.features.checks import CHECKS as FEATURE_CHECKS
from tasks.params import FeaturesParams
from tests.checking import feature_inputs


def base(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    at = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 24 * 30, n), unit="h")
    return pd.DataFrame(
        {
            "at": at,
            "hour": at.hour,
            "kind": rng.choice(["a", "b", "c"], n),
            "note": rng.choice(["red car", "blue van", "green bus"], n),
            "km": rng.uniform(1, 100, n),
            "flag": rng.integers(0, 2, n),
            "y": rng.integers(0, 2, n),
        }
    )


EDGES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "empty": lambda df: df.iloc[0:0],
    "all_null_column": lambda df: df.assign(km=np.nan, kind=None),
    "one_row": lambda df: df.iloc[:1],
    "unlabelled": lambda df: df.drop(columns=["y"]),
    "single_class": lambda df: df.assign(y=1),
}


def features_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from sklearn.feature_extraction.text import CountVectorizer

    train, batch = base(), edge(base(40, 1))
    if on_train:
        train = edge(train)
    vectorizer = CountVectorizer().fit(base()["note"])
    return feature_inputs(
        train,
        batch,
        numeric=["km", "hour", "flag"],
        categorical=["kind"],
        text=["note"],
        timestamps=["at"],
        hour_features=["hour"],
        vectorizers={"note": vectorizer},
        fitted=np.zeros((len(train), 2)),
        replayed=np.zeros((len(train), 2)),
    )


LAYERS = {"features": (FEATURE_CHECKS, FeaturesParams, features_inputs)}


@pytest.mark.parametrize("on_train", [False, True], ids=["batch", "train"])
@pytest.mark.parametrize("edge", list(EDGES))
@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_check_survives_edge_frames(layer, edge, on_train, tmp_path):
    """Each check of the layer returns findings (or nothing) on the edge frame; none crashes."""
    builtin, params_model, inputs_of = LAYERS[layer]
    run = run_checks(configured(builtin, params_model()), inputs_of(EDGES[edge], on_train), tmp_path)
    crashed = [f.message for f in run.findings if f.check == ERROR_CHECK]
    assert not crashed, crashed
    assert {f"{c.name}.seconds" for c in builtin} <= set(run.metrics)
