"""Monitoring: Evidently drift of the served inputs and predictions (the inference log) against training,
with the report as HTML and JSON on the run."""

from __future__ import annotations

import re

import numpy as np

from tasks.context import StageContext
from tasks.drift import measure_drift
from tasks.frames import load_inputs
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.monitoring.inference_log import SCORE, load_current, reference_sample
from tasks.monitoring.input_drift import check_drifted_share, column_findings, unmeasured_findings
from tasks.monitoring.prediction_drift import check_prediction_drift
from tasks.result import Finding, Severity, StageOutput

HTML_FILE = "drift.html"
JSON_FILE = "drift.json"


def prediction_column(features: list[str]) -> str:
    """The name the scores get in the drift report, clear of every feature name."""
    name = "prediction"
    while name in features:
        name = "_" + name
    return name


def metric_key(column: str) -> str:
    """Column names become MLflow metric names: keep only the characters MLflow accepts."""
    return "drift." + re.sub(r"[^\w.\- /]", "_", column)


def no_current_rows() -> Finding:
    """Nothing was replayed: drift is not measured, and that is said rather than passed."""
    return Finding(
        check="drifted_share",
        severity=Severity.warn,
        message="the inference log has no `current` rows: input and prediction drift not measured",
    )


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params
    m = p.monitoring
    ref = ModelRef.read(ctx.of("training"))
    pred = prediction_column(ref.features)
    log = load_current(ctx.of("serving"), ref.features)
    if log.empty:
        return StageOutput(findings=[no_current_rows()], metrics={"current_rows": 0.0})
    current = log[[*ref.features, SCORE]].rename(columns={SCORE: pred})
    current[pred] = current[pred].astype("float64")
    train = load_inputs(p.inputs, ("train",))["train"]
    reference = reference_sample(train[ref.features], m.reference_rows, m.seed)
    reference[pred] = positive_scores(load_sklearn(ref.model_uri), reference[ref.features])

    # Free text is compared as a categorical value: its drift is a change in what is written.
    categorical = [c for c in ref.features if c in ref.categorical or c in ref.text]
    numeric = [c for c in ref.features if c not in categorical]
    thresholds = {c: m.column_drift_threshold for c in ref.features}
    # The report's own "detected" flag for the scores follows the warn level of the gate that judges them.
    warn = m.prediction_drift_score.warn
    thresholds[pred] = warn if warn is not None else m.column_drift_threshold
    drift = measure_drift(reference, current, [*numeric, pred], categorical, thresholds)

    artifacts: list[str] = []
    if drift.snapshot is not None:
        drift.snapshot.save_html(str(ctx.dir / HTML_FILE))
        drift.snapshot.save_json(str(ctx.dir / JSON_FILE))
        artifacts = [HTML_FILE, JSON_FILE]

    features = [drift.columns[c] for c in ref.features if c in drift.columns]
    served = int(np.isfinite(current[pred].to_numpy()).sum())
    findings = [
        *column_findings(features),
        *unmeasured_findings({c: why for c, why in drift.unmeasured.items() if c != pred}),
        check_drifted_share(features, m.drifted_share),
        check_prediction_drift(
            drift.columns.get(pred),
            m.prediction_drift_score,
            served,
            len(current),
            drift.unmeasured.get(pred),
        ),
    ]
    n_drifted = sum(d.drifted for d in features)
    metrics: dict[str, float] = {
        "n_drifted": float(n_drifted),
        "n_measured": float(len(features)),
        "current_rows": float(len(current)),
        "reference_rows": float(len(reference)),
        **{metric_key(d.column): d.score for d in features},
    }
    if features:
        metrics["drifted_share"] = n_drifted / len(features)
    if pred in drift.columns:
        metrics["prediction_drift_score"] = drift.columns[pred].score
    return StageOutput(findings=findings, artifacts=artifacts, metrics=metrics)
