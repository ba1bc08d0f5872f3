"""Layer 3, training: train the estimator on the features the feature stage validated, judge the splits and
the fit (the checks refit what they compare it with, tasks/training/refits.py), and log the fit as the
candidate: the model validated here, not a refit, logged whatever the verdict (the gate, not the stage, decides
whether it goes further)."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from tasks.context import StageContext
from tasks.errors import ConfigError
from tasks.features.parity import as_matrix, fingerprinted_rows, load_preprocessor, trusted_roots
from tasks.features.stage import MANIFEST
from tasks.frames import binary_target, load_inputs
from tasks.modeling import ModelRef, build_model, log_model
from tasks.result import StageOutput
from tasks.training.checks import CHECKS
from tasks.training.inputs import TrainingInputs, score
from tasks.training.refits import rows

__all__ = ["VALIDATION_FILE", "run", "score", "validation_split"]

VALIDATION_FILE = "validation_scores.parquet"  # row (position in the training file), label, score


def validation_split(
    df: pd.DataFrame, timestamp: str | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The latest `fraction` of rows by time when there is a timestamp (what production will look like),
    else a stratification-free random split with the seed."""
    idx = np.arange(len(df))
    if timestamp:
        order = np.argsort(pd.to_datetime(df[timestamp], utc=True).to_numpy(), kind="stable")
        cut = int(len(df) * (1 - fraction))
        return np.sort(order[:cut]), np.sort(order[cut:])
    fit, val = train_test_split(idx, test_size=fraction, random_state=seed)
    return np.sort(fit), np.sort(val)


def run(ctx: StageContext) -> StageOutput:
    inputs, p, spec = ctx.params.inputs, ctx.params.training, ctx.params.model
    manifest = json.loads((ctx.of("features") / MANIFEST).read_text())
    features, categorical, numeric = manifest["features"], manifest["categorical"], manifest["numeric"]
    text = manifest.get("text", [])
    frames = load_inputs(inputs, ("train", "test"))
    train = frames["train"]
    y = binary_target(train, inputs, inputs.train).to_numpy()
    X = train[features]

    template = build_model(spec, categorical, numeric, text)
    if manifest["preprocessor"]:
        pre = load_preprocessor(ctx.of("features") / manifest["preprocessor"], trusted_roots(spec.factory))
        Xf = as_matrix(pre.transform(X))
    else:
        pre, Xf = None, X

    fit_idx, val_idx = validation_split(train, inputs.timestamp, p.validation_fraction, spec.seed)
    if len(np.unique(y[fit_idx])) < 2:
        raise ConfigError(f"{inputs.train}: column {inputs.target!r} (target) has one class in the training part")
    model = clone(template[-1]).fit(rows(Xf, fit_idx), y[fit_idx])
    val_scores = model.predict_proba(rows(Xf, val_idx))[:, 1]
    train_score = score(p.metric, y[fit_idx], model.predict_proba(rows(Xf, fit_idx))[:, 1])
    val_score = score(p.metric, y[val_idx], val_scores)

    # The candidate is logged whatever the checks say: the evidence of a failed run includes its model.
    candidate = Pipeline([("preprocess", pre), ("model", model)]) if pre is not None else Pipeline([("model", model)])
    mlflow.log_params({"estimator": type(model).__name__, "seed": spec.seed, **spec.params})
    info = log_model(candidate, X.iloc[val_idx])
    ModelRef(
        model_uri=info.model_uri,
        model_id=info.model_id,
        run_id=ctx.mlflow_run_id or "",
        features=features,
        categorical=categorical,
        text=text,
    ).write(ctx.dir)

    x = TrainingInputs(
        train=train,
        test=frames["test"],
        features=features,
        target=inputs.target,
        y=y,
        fit_rows=fit_idx,
        validation_rows=val_idx,
        metric=p.metric,
        train_score=train_score,
        validation_score=val_score,
        validation_predictions=(val_scores,),  # the one fit; nondeterministic_training makes its own second
        key=inputs.id,
        timestamp=inputs.timestamp,
        model_features=rows(Xf, fingerprinted_rows(len(train), manifest)) if pre is not None else None,
        fingerprint_of=len(train),
        validated_sha256=manifest.get("sha256") if pre is not None else None,
        model_inputs=Xf,
        model=candidate,
        seed=spec.seed,
    )
    checked = ctx.run_checks(CHECKS, x)
    # The candidate's validation scores: the evaluation layer chooses the cost-optimal threshold on them.
    pd.DataFrame({"row": val_idx, "label": y[val_idx], "score": val_scores}).to_parquet(
        ctx.dir / VALIDATION_FILE, index=False
    )
    metrics = {
        f"train_{p.metric}": train_score,
        f"validation_{p.metric}": val_score,
        "fit_rows": float(len(fit_idx)),
        "validation_rows": float(len(val_idx)),
        **checked.metrics,
    }
    return StageOutput(
        findings=checked.findings, artifacts=["model.json", VALIDATION_FILE, *checked.artifacts], metrics=metrics
    )
