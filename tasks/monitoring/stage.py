"""Layer 7, monitoring: the served traffic (the inference log's `current` rows) against a sample of training,
then the inference store's traffic day by day.

Preparation: one Evidently drift run over every feature and the served scores (saved as HTML and JSON on the
run); the store's requests of this model (monitoring.store, monitoring.lookback_days) cut into daily windows,
the labels that arrived joined to them, one Evidently drift run per window; the trusted test score from the
evaluation stage. The checks (tasks/monitoring/checks.py) then judge: each drifted feature, the share of
drifted features, the drift of the predictions; per window drift, label rate, performance on the arrived
labels against the trusted test score, and confidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tasks.context import StageContext
from tasks.drift import DriftRun, drift_scores, measure_drift
from tasks.evaluation.scoring import chance_score, on_chance_scale
from tasks.evaluation.stage import SCORES_FILE
from tasks.frames import binary_target, load_inputs
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.monitoring import labels, store, windows, workspace
from tasks.monitoring.checks import CHECKS
from tasks.monitoring.inference_log import SCORE, load_current, reference_sample
from tasks.monitoring.inputs import MonitoringInputs, TrustedScore
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


def label_column(columns: list[str]) -> str:
    name = "label"
    while name in columns:
        name = "_" + name
    return name


def trusted_score(evaluation_dir: Path) -> TrustedScore | None:
    """The candidate's gate metric on the trusted test set as the evaluation stage wrote it (None when absent)."""
    path = evaluation_dir / SCORES_FILE
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    metric = summary.get("metric")
    scores = (summary.get("candidate") or {}).get("scores") or {}
    if metric not in scores or scores[metric] is None:
        return None
    counts = [
        float(scores.get(k, 0.0)) for k in ("true_negatives", "false_positives", "false_negatives", "true_positives")
    ]
    rows, positives = int(sum(counts)), int(counts[2] + counts[3])
    if not rows:
        return None
    chance = chance_score(metric, np.r_[np.ones(positives), np.zeros(rows - positives)])
    value = float(scores[metric])
    return TrustedScore(metric, value, on_chance_scale(value, chance), float(summary.get("threshold", 0.5)), rows)


def stored_traffic(
    ctx: StageContext, ref: ModelRef, measured: list[str], pred: str, label: str
) -> tuple[pd.DataFrame | None, str, str | None]:
    """This model's stored requests within the lookback, as the checks read them; the feedback's source; why
    there is no traffic (or None)."""
    p = ctx.params
    m = p.monitoring
    rows = store.read(m.store, ref.model_id)
    if rows.empty:
        return None, labels.NONE, f"the inference store {m.store} holds no request served by model {ref.model_id}"
    rows = rows.iloc[windows.recent(rows[store.EVENT_AT], m.lookback_days)].reset_index(drop=True)
    missing = [c for c in ref.features if c not in rows.columns]
    if missing:
        return None, labels.NONE, f"the stored requests have no column {missing[0]!r}"
    traffic = rows[[*ref.features, store.EVENT_AT]].copy()
    for c in ref.text:
        traffic[words_column(c)] = word_counts(traffic[c])
    traffic[pred] = rows[store.SCORE].astype("float64")
    feedback, source = labels.feedback(p.inputs, list(ref.features))
    traffic[label] = labels.join(rows, feedback)
    return traffic[[*measured, pred, label, store.EVENT_AT]], source, None


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
    categorical = [c for c in ref.features if c in ref.categorical and c not in ref.text]
    numeric = [c for c in measured if c not in categorical]
    thresholds = {c: m.column_drift_threshold for c in measured}
    # The report's own "detected" flag for the scores follows the warn level of the check that judges them.
    warn = m.prediction_drift.score.warn
    thresholds[pred] = warn if warn is not None else m.column_drift_threshold
    if len(current):
        drift = measure_drift(reference, current, [*numeric, pred], categorical, thresholds)
        if drift.snapshot is not None:
            drift.snapshot.save_html(str(ctx.dir / HTML_FILE))
            drift.snapshot.save_json(str(ctx.dir / JSON_FILE))
            artifacts = [HTML_FILE, JSON_FILE]

    label = label_column([*ref.features, *measured, pred])
    traffic, labels_from, no_windows = stored_traffic(ctx, ref, measured, pred, label)
    cut: tuple[windows.Window, ...] = ()
    days: tuple[windows.Window, ...] = ()
    window_drift: dict[str, DriftRun] = {}
    if traffic is not None:
        days = tuple(windows.days(traffic[store.EVENT_AT]))
        cut = tuple(windows.pooled(days, lambda r: len(r) >= m.window_min_rows)[0])
        if not cut:
            no_windows = f"{len(traffic)} stored requests, under monitoring.window_min_rows ({m.window_min_rows})"
        for w in cut:  # the checks' numbers; a window's full report only for the workspace, once
            window_drift[w.label] = drift_scores(
                reference, traffic.iloc[w.rows], [*numeric, pred], categorical, thresholds
            )

    def report(w: windows.Window) -> Any:
        return measure_drift(reference, traffic.iloc[w.rows], [*numeric, pred], categorical, thresholds).snapshot

    logged, pending = workspace.log_windows(m.store, ref.model_id, ctx.run_id, list(cut), report, m.workspace_windows)

    x = MonitoringInputs(
        current=current,
        reference=reference,
        features=measured,
        prediction=pred,
        drift=drift,
        served_rows=int(np.isfinite(current[pred].to_numpy()).sum()),
        not_measured=None if drift is not None else NO_CURRENT,
        traffic=traffic,
        label=label,
        windows=cut,
        days=days,
        window_drift=window_drift,
        no_windows=no_windows,
        labels_from=labels_from,
        train_label_rate=float(binary_target(train, p.inputs, p.inputs.train).mean()),
        trusted=trusted_score(ctx.of("evaluation")),
    )
    checked = ctx.run_checks(CHECKS, x)
    metrics = {
        "current_rows": float(len(current)),
        "reference_rows": float(len(reference)),
        "stored_requests": float(len(traffic)) if traffic is not None else 0.0,
        "labelled_requests": float(traffic[label].notna().sum()) if traffic is not None else 0.0,
        "windows": float(len(cut)),
        "evidently_snapshots": float(logged),  # in the workspace `evidently ui --workspace <store>/evidently` opens
        "evidently_snapshots_pending": float(pending),  # windows the next runs add (workspace_windows per run)
    }
    return StageOutput(
        findings=checked.findings,
        artifacts=[*artifacts, *checked.artifacts],
        metrics={**metrics, **checked.metrics},
    )
