"""Every registered check on the frames that break naive code (empty, an all-null column, one row, no labels,
one class): each check ends in findings or a `check_error`, never a lost stage, and on these shapes no
built-in check should crash at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.checks import ERROR_CHECK, configured, run_checks
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


def data_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from tests.data_inputs import data_inputs as inputs_of

    train, test, current = base(), edge(base(40, 1)), edge(base(40, 2)).drop(columns=["y"], errors="ignore")
    if on_train:
        train = edge(train)
    features = ["km", "kind", "flag", "hour", "at"]
    return inputs_of(
        train,
        {"test": test, "current": current},
        features=features,
        numeric=["km", "flag", "hour"],
        categorical=["kind"],
        timestamp="at",
        sample_rows=1000,
        drift_reference_rows=1000,
    )


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


def training_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from tasks.training.inputs import TrainingInputs

    train, test = base(), edge(base(40, 1))
    if on_train:
        train = edge(train)
    y = train["y"].to_numpy() if "y" in train else np.zeros(len(train), dtype=int)
    rows = np.arange(len(train))
    fit, val = rows[: len(rows) * 4 // 5], rows[len(rows) * 4 // 5 :]
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=len(val))
    return TrainingInputs(
        train=train,
        test=test,
        features=["km", "kind", "flag"],
        target="y",
        y=y,
        fit_rows=fit,
        validation_rows=val,
        metric="roc_auc",
        train_score=float("nan") if len(set(y)) < 2 else 0.8,
        validation_score=float("nan") if len(set(y[val])) < 2 else 0.7,
        validation_predictions=(scores, scores.copy()),
        key=None,
        timestamp="at",
    )


def evaluation_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from tasks.evaluation.inputs import EvaluationInputs

    test = edge(base(40, 1))
    labels = test["y"].to_numpy() if "y" in test else np.zeros(0, dtype=int)
    return EvaluationInputs(
        test=test,
        test_file=Path("test.parquet"),
        labels=labels,
        scores=np.random.default_rng(0).uniform(size=len(labels)),
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="models:/m-1",
        candidate_id="m-1",
        registered_model="m",
        alias="champion",
    )


def served_log(frame: pd.DataFrame) -> pd.DataFrame:
    score = np.random.default_rng(0).uniform(size=len(frame))
    return frame.assign(
        source="current",
        row=np.arange(len(frame)),
        score=score,
        offline_score=score,
        status=200,
        latency_ms=5.0,
        batch=0,
        model_uri="models:/m-1",
        model_id="m-1",
        served_at=pd.Timestamp("2024-01-01", tz="UTC"),
    )


def serving_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from tasks.serving.inputs import ServingInputs

    current = edge(base(40, 1))
    return ServingInputs(
        log=served_log(current),
        frames={"current": current},
        features=["km", "kind", "flag"],
        expected_types={"km": "double", "kind": "string", "flag": "long"},
        latencies_ms=(5.0,) * len(current),
    )


def monitoring_inputs(edge: Callable[[pd.DataFrame], pd.DataFrame], on_train: bool):
    from tasks.drift import measure_drift
    from tasks.monitoring.inputs import MonitoringInputs

    features = ["km", "kind", "flag"]
    rng = np.random.default_rng(0)
    reference = base()[features].assign(prediction=rng.uniform(size=60))
    current = edge(base(40, 1))[features]
    current = current.assign(prediction=rng.uniform(size=len(current)))
    thresholds = dict.fromkeys([*features, "prediction"], 0.2)
    drift = measure_drift(reference, current, ["km", "flag", "prediction"], ["kind"], thresholds)
    served = int(np.isfinite(current["prediction"]).sum())
    return MonitoringInputs(current, reference, features, "prediction", drift, served)


def layer(name: str, inputs_of: Callable):
    import tasks.params as params

    return (params.LAYERS[name].CHECKS, getattr(params, f"{name.capitalize()}Params"), inputs_of)


LAYERS = {
    "data": layer("data", data_inputs),
    "features": layer("features", features_inputs),
    "training": layer("training", training_inputs),
    "evaluation": layer("evaluation", evaluation_inputs),
    "serving": layer("serving", serving_inputs),
    "monitoring": layer("monitoring", monitoring_inputs),
}


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
