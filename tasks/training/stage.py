"""Layer 3, training: train the estimator on the features the feature stage validated, twice, and log the
model that passed as the candidate. The candidate is the model validated here, not a refit."""

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
from tasks.features.parity import as_matrix, load_preprocessor, matrix_sha256
from tasks.features.stage import MANIFEST
from tasks.frames import binary_target, load_inputs
from tasks.modeling import ModelRef, build_model, log_model
from tasks.result import Finding, Severity, StageOutput
from tasks.training.checks import generalisation_gap, reproducibility, score
from tasks.training.splits import split_findings, split_metrics


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
    y = binary_target(train, inputs.target, inputs.train).to_numpy()
    X = train[features]
    # Before fitting: a test set that training has seen (or whose future it has seen) voids every score.
    findings: list[Finding] = split_findings(
        train,
        frames["test"],
        key=inputs.id,
        timestamp=inputs.timestamp,
        columns=[*features, inputs.target],
        by_key=p.split_overlap_share,
        by_row=p.split_overlap_row_excess,
        temporal=p.temporal_overlap_share,
    )

    template = build_model(spec, categorical, numeric, text)
    if manifest["preprocessor"]:
        pre = load_preprocessor(ctx.of("features") / manifest["preprocessor"])
        Xf = as_matrix(pre.transform(X))
        if matrix_sha256(Xf) != manifest["sha256"]:
            findings.append(
                Finding(
                    check="features_match",
                    severity=Severity.fail,
                    message="the preprocessing does not reproduce the features the feature stage validated",
                    evidence={"expected_sha256": manifest["sha256"], "found_sha256": matrix_sha256(Xf)},
                )
            )
    else:
        pre, Xf = None, X

    fit_idx, val_idx = validation_split(train, inputs.timestamp, p.validation_fraction, spec.seed)
    if len(np.unique(y[fit_idx])) < 2:
        raise ConfigError(f"{inputs.train}: column {inputs.target!r} (target) has one class in the training part")
    rows = (lambda a, i: a.iloc[i]) if isinstance(Xf, pd.DataFrame) else (lambda a, i: a[i])
    models = [clone(template[-1]).fit(rows(Xf, fit_idx), y[fit_idx]) for _ in range(2)]
    val_scores = [m.predict_proba(rows(Xf, val_idx))[:, 1] for m in models]
    findings.append(reproducibility(val_scores[0], val_scores[1], p.repro_max_abs_diff))

    train_score = score(p.metric, y[fit_idx], models[0].predict_proba(rows(Xf, fit_idx))[:, 1])
    val_score = score(p.metric, y[val_idx], val_scores[0])
    findings.append(generalisation_gap(p.metric, train_score, val_score, p.train_val_gap))

    candidate = (
        Pipeline([("preprocess", pre), ("model", models[0])]) if pre is not None else Pipeline([("model", models[0])])
    )
    mlflow.log_params({"estimator": type(models[0]).__name__, "seed": spec.seed, **spec.params})
    info = log_model(candidate, X.iloc[val_idx])
    ref = ModelRef(
        model_uri=info.model_uri,
        model_id=info.model_id,
        run_id=ctx.mlflow_run_id or "",
        features=features,
        categorical=categorical,
        text=text,
    )
    ref.write(ctx.dir)
    metrics = {
        f"train_{p.metric}": train_score,
        f"validation_{p.metric}": val_score,
        "train_val_gap": train_score - val_score,
        "repro_max_abs_diff": float(np.max(np.abs(val_scores[0] - val_scores[1]))),
        "fit_rows": float(len(fit_idx)),
        "validation_rows": float(len(val_idx)),
        **split_metrics(findings),
    }
    return StageOutput(findings=findings, artifacts=["model.json"], metrics=metrics)
