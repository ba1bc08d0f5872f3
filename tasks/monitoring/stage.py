"""Layer 7, monitoring: the served traffic (the inference log's `current` rows) against a sample of training.

Preparation: one Evidently drift run over every feature and the served scores (saved as HTML and JSON on the
run); the checks (tasks/monitoring/checks.py) then judge that one measurement: each drifted feature, the share
of drifted features, the drift of the predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.context import StageContext
from tasks.drift import measure_drift
from tasks.frames import load_inputs
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.monitoring.checks import CHECKS
from tasks.monitoring.inference_log import SCORE, load_current, reference_sample
from tasks.monitoring.inputs import MonitoringInputs
from tasks.result import StageOutput

HTML_FILE = "drift.html"
JSON_FILE = "drift.json"
NO_CURRENT = "the inference log has no `current` rows"


def prediction_column(features: list[str]) -> str:
    """The name the scores get in the drift report, clear of every feature name."""
    name = "prediction"
    while name in features:
        name = "_" + name
    return name


def words_column(column: str) -> str:
    return f"{column} (words)"


def word_counts(text: pd.Series) -> pd.Series:
    """Words per row of a free-text column as a bag of words reads them (scikit-learn's default token: two or
    more word characters; a hyphenated slug has as many words as the title); missing stays missing."""
    return text.astype("string").str.count(r"\b\w\w+\b").astype("float64")


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params
    m = p.monitoring
    ref = ModelRef.read(ctx.of("training"))
    pred = prediction_column(ref.features)
    log = load_current(ctx.of("serving"), ref.features)
    current = log[[*ref.features, SCORE]].rename(columns={SCORE: pred})
    current[pred] = current[pred].astype("float64")
    train = load_inputs(p.inputs, ("train",))["train"]
    reference = reference_sample(train[ref.features], m.reference_rows, m.seed)
    reference[pred] = positive_scores(load_sklearn(ref.model_uri), reference[ref.features])

    # Free text is compared by its length in words (tokens): as categories, unique strings (titles, comments) differ
    # between any two samples, and what is written is the features layer's (vocab_mismatch).
    measured = [words_column(c) if c in ref.text else c for c in ref.features]
    for c in ref.text:
        reference[words_column(c)], current[words_column(c)] = word_counts(reference[c]), word_counts(current[c])
    drift = None
    artifacts: list[str] = []
    if len(current):
        categorical = [c for c in ref.features if c in ref.categorical and c not in ref.text]
        numeric = [c for c in measured if c not in categorical]
        thresholds = {c: m.column_drift_threshold for c in measured}
        # The report's own "detected" flag for the scores follows the warn level of the check that judges them.
        warn = m.prediction_drift.score.warn
        thresholds[pred] = warn if warn is not None else m.column_drift_threshold
        drift = measure_drift(reference, current, [*numeric, pred], categorical, thresholds)
        if drift.snapshot is not None:
            drift.snapshot.save_html(str(ctx.dir / HTML_FILE))
            drift.snapshot.save_json(str(ctx.dir / JSON_FILE))
            artifacts = [HTML_FILE, JSON_FILE]

    x = MonitoringInputs(
        current=current,
        reference=reference,
        features=measured,
        prediction=pred,
        drift=drift,
        served_rows=int(np.isfinite(current[pred].to_numpy()).sum()),
        not_measured=None if drift is not None else NO_CURRENT,
    )
    checked = ctx.run_checks(CHECKS, x)
    metrics = {"current_rows": float(len(current)), "reference_rows": float(len(reference))}
    return StageOutput(
        findings=checked.findings,
        artifacts=[*artifacts, *checked.artifacts],
        metrics={**metrics, **checked.metrics},
    )
