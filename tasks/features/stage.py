"""Layer 2, features: fit the preprocessing once, prove the shipped artifact reproduces the training features
(and carries the vocabulary fitted on training text), and judge what the model will meet at serving against
what it was fitted on: scaling, timestamps, text vocabulary, categories and value ranges."""

from __future__ import annotations

import json

from sklearn.base import clone

from tasks.context import StageContext
from tasks.features.normalization import normalization_skew
from tasks.features.parity import (
    as_matrix,
    load_preprocessor,
    matrix_sha256,
    replay_parity,
    save_preprocessor,
)
from tasks.features.serving_inputs import out_of_range, unseen_categories
from tasks.features.timestamps import hour_columns, timestamp_columns, timezone_shift
from tasks.features.vocabulary import (
    count_tokens,
    oov_share,
    text_vectorizers,
    vocabulary_fingerprint,
    vocabulary_identity,
)
from tasks.frames import binary_target, categorical_columns, feature_columns, load_inputs
from tasks.modeling import build_model
from tasks.result import Finding, Severity, StageOutput

PREPROCESSOR = "preprocessor.skops"
MANIFEST = "features.json"
# Judged per batch; `<batch>_<check>_max` is the largest value measured (0.0: nothing found).
CHECKS = ("normalization_skew", "timezone_shift", "vocab_mismatch", "unseen_categories", "out_of_range")


def run(ctx: StageContext) -> StageOutput:
    inputs, p = ctx.params.inputs, ctx.params.features
    frames = load_inputs(inputs)
    train = frames["train"]
    features = feature_columns(inputs, train)
    categorical = categorical_columns(inputs, train, features)
    text = [c for c in features if c in inputs.text]
    numeric = [c for c in features if c not in categorical and c not in text]
    pipe = build_model(ctx.params.model, categorical, numeric, text)
    findings: list[Finding] = []
    manifest = {
        "features": features,
        "categorical": categorical,
        "numeric": numeric,
        "text": text,
        "preprocessor": None,
    }
    metrics: dict[str, float] = {"n_features_raw": float(len(features))}
    artifacts = [MANIFEST]

    vectorizers: dict = {}
    if len(pipe.steps) > 1:
        pre = clone(pipe[:-1]).fit(train[features], binary_target(train, inputs.target, inputs.train))
        fitted = as_matrix(pre.transform(train[features]))
        save_preprocessor(pre, ctx.dir / PREPROCESSOR)
        shipped = load_preprocessor(ctx.dir / PREPROCESSOR)
        replayed = as_matrix(shipped.transform(train[features]))
        findings.append(replay_parity(fitted, replayed, p.parity_max_abs_diff))
        vocabularies = vocabulary_fingerprint(pre)
        findings += vocabulary_identity(vocabulary_fingerprint(shipped), vocabularies, f"the shipped {PREPROCESSOR}")
        vectorizers = text_vectorizers(pre)
        manifest.update(
            preprocessor=PREPROCESSOR,
            n_model_features=fitted.shape[1],
            sha256=matrix_sha256(fitted),
            vocabulary_sha256=vocabularies,
        )
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

    stamps = timestamp_columns(train, [inputs.timestamp] if inputs.timestamp else [])
    hours = hour_columns(train, numeric)
    trained_tokens = {col: count_tokens(vec, train[col]) for col, vec in vectorizers.items() if col in train}
    for name in ("test", "current"):
        batch = frames[name]
        # the root causes first (a missing scaler also puts values out of range): the first failure names it
        found = [
            *normalization_skew(train, batch, numeric, p, name),
            *timezone_shift(train, batch, stamps, hours, p, name),
            *[oov_share(c, vectorizers[c], t, batch[c], p, name) for c, t in trained_tokens.items() if c in batch],
            *unseen_categories(train, batch, categorical, p, name),
            *out_of_range(train, batch, numeric, p, name),
        ]
        findings += found
        for check in CHECKS:
            metrics[f"{name}_{check}_max"] = 0.0
        for f in found:
            key = f"{name}_{f.check}_max"
            value = f.evidence.get("value", f.evidence.get("share_beyond_allowed"))
            if isinstance(value, int | float):
                metrics[key] = max(metrics[key], float(value))
    manifest.update(timestamps=stamps, hour_of_day_candidates=hours)
    (ctx.dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return StageOutput(findings=findings, artifacts=artifacts, metrics=metrics)
