"""Layer 2, features: fit the preprocessing once, prove the shipped artifact reproduces the training features,
and count what the model will meet at serving that it never saw."""

from __future__ import annotations

import json

from sklearn.base import clone

from tasks.context import StageContext
from tasks.features.parity import (
    as_matrix,
    load_preprocessor,
    matrix_sha256,
    replay_parity,
    save_preprocessor,
)
from tasks.features.serving_inputs import out_of_range, unseen_categories
from tasks.frames import binary_target, categorical_columns, feature_columns, load_inputs
from tasks.modeling import build_model
from tasks.result import Finding, Severity, StageOutput

PREPROCESSOR = "preprocessor.skops"
MANIFEST = "features.json"


def run(ctx: StageContext) -> StageOutput:
    inputs, p = ctx.params.inputs, ctx.params.features
    frames = load_inputs(inputs)
    train = frames["train"]
    features = feature_columns(inputs, train)
    categorical = categorical_columns(inputs, train, features)
    numeric = [c for c in features if c not in categorical]
    pipe = build_model(ctx.params.model, categorical, numeric)
    findings: list[Finding] = []
    manifest = {"features": features, "categorical": categorical, "numeric": numeric, "preprocessor": None}
    metrics: dict[str, float] = {"n_features_raw": float(len(features))}
    artifacts = [MANIFEST]

    if len(pipe.steps) > 1:
        pre = clone(pipe[:-1]).fit(train[features], binary_target(train, inputs.target, inputs.train))
        fitted = as_matrix(pre.transform(train[features]))
        save_preprocessor(pre, ctx.dir / PREPROCESSOR)
        replayed = as_matrix(load_preprocessor(ctx.dir / PREPROCESSOR).transform(train[features]))
        findings.append(replay_parity(fitted, replayed, p.parity_max_abs_diff))
        manifest.update(preprocessor=PREPROCESSOR, n_model_features=fitted.shape[1], sha256=matrix_sha256(fitted))
        metrics["n_features_model"] = float(fitted.shape[1])
        artifacts.append(PREPROCESSOR)
    else:
        findings.append(
            Finding(
                check="preprocessing_parity",
                severity=Severity.info,
                message="the model pipeline has no preprocessing steps: the model reads raw columns",
            )
        )

    for name in ("test", "current"):
        batch = frames[name]
        found = unseen_categories(train, batch, categorical, p, name) + out_of_range(train, batch, numeric, p, name)
        findings += found
        for check in ("unseen_categories", "out_of_range"):
            shares = [
                f.evidence.get("value", f.evidence.get("share_outside_training", 0.0))
                for f in found
                if f.check == check
            ]
            metrics[f"{name}_{check}_max_share"] = float(max(shares, default=0.0))
    (ctx.dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return StageOutput(findings=findings, artifacts=artifacts, metrics=metrics)
