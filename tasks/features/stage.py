"""Layer 2, features: fit the preprocessing once, prove the shipped artifact reproduces the training features
(and carries the vocabulary fitted on training text), and judge what the model will meet at serving against
what it was fitted on: scaling, timestamps, text vocabulary, categories and value ranges."""

from __future__ import annotations

import json

from sklearn.base import clone

from tasks.context import StageContext
from tasks.features.checks import CHECKS
from tasks.features.inputs import BATCHES, FeatureInputs
from tasks.features.parity import (
    as_matrix,
    fingerprinted_rows,
    load_preprocessor,
    matrix_sha256,
    save_preprocessor,
    trusted_roots,
)
from tasks.features.timezone_shift import hour_columns, timestamp_columns
from tasks.features.vocabulary import text_vectorizers, vocabulary_fingerprint
from tasks.frames import binary_target, categorical_columns, feature_columns, load_inputs
from tasks.modeling import build_model
from tasks.result import StageOutput

PREPROCESSOR = "preprocessor.skops"
MANIFEST = "features.json"


def run(ctx: StageContext) -> StageOutput:
    inputs = ctx.params.inputs
    frames = load_inputs(inputs)
    train = frames["train"]
    features = feature_columns(inputs, train)
    categorical = categorical_columns(inputs, train, features)
    text = [c for c in features if c in inputs.text]
    numeric = [c for c in features if c not in categorical and c not in text]
    pipe = build_model(ctx.params.model, categorical, numeric, text)
    manifest: dict = {"features": features, "categorical": categorical, "numeric": numeric, "text": text}
    metrics: dict[str, float] = {"n_features_raw": float(len(features))}
    artifacts = [MANIFEST]

    prepared: dict = {}
    if len(pipe.steps) > 1:
        pre = clone(pipe[:-1]).fit(train[features], binary_target(train, inputs, inputs.train))
        save_preprocessor(pre, ctx.dir / PREPROCESSOR)
        shipped = load_preprocessor(ctx.dir / PREPROCESSOR, trusted_roots(ctx.params.model.factory))
        vocabularies = vocabulary_fingerprint(pre)
        # Transforms are row by row: the fitted and the shipped preprocessing are compared, and their output
        # fingerprinted for the training layer, on one seeded sample of rows (every row of a smaller table).
        drawn = {"rows": ctx.params.features.preprocessing_parity.rows, "seed": ctx.params.model.seed}
        manifest["fingerprint_rows"] = drawn
        sampled = train[features].iloc[fingerprinted_rows(len(train), manifest)]
        fitted = as_matrix(pre.transform(sampled))
        prepared = {
            "fitted": fitted,
            "replayed": as_matrix(shipped.transform(sampled)),
            "vocabularies": vocabularies,
            "shipped_vocabularies": vocabulary_fingerprint(shipped),
            "vectorizers": text_vectorizers(pre),
        }
        manifest.update(
            preprocessor=PREPROCESSOR,
            n_model_features=fitted.shape[1],
            sha256=matrix_sha256(fitted),
            vocabulary_sha256=vocabularies,
        )
        metrics["n_features_model"] = float(fitted.shape[1])
        artifacts.append(PREPROCESSOR)
    else:
        manifest["preprocessor"] = None

    stamps = timestamp_columns(train, [inputs.timestamp] if inputs.timestamp else [])
    hours = hour_columns(train, numeric)
    x = FeatureInputs(
        train=train,
        batches={name: frames[name] for name in BATCHES},
        features=features,
        categorical=categorical,
        numeric=numeric,
        text=text,
        timestamps=stamps,
        hour_features=hours,
        **prepared,
    )
    checked = ctx.run_checks(CHECKS, x)
    manifest.update(timestamps=stamps, hour_of_day_candidates=hours)
    (ctx.dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return StageOutput(
        findings=checked.findings, artifacts=[*artifacts, *checked.artifacts], metrics={**metrics, **checked.metrics}
    )
