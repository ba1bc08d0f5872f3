"""Layer 4, evaluation: the candidate on the pinned, trusted test set, with MLflow's evaluation on the run,
judged by the test set's pin and labels, a score floor, and its margin over the registered champion on the
same rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.checks import FIGURE_SUFFIXES
from tasks.context import StageContext
from tasks.evaluation import challenger_worse, test_score
from tasks.evaluation.champion import find_champion, score_champion
from tasks.evaluation.checks import CHECKS
from tasks.evaluation.inputs import EvaluationInputs
from tasks.evaluation.mlflow_evaluation import evaluate_on_run
from tasks.frames import binary_target, load_inputs, require_columns
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.result import StageOutput
from tasks.training.stage import VALIDATION_FILE, validation_split

SCORES_FILE = "test_scores.json"


def _validation_scores(ctx: StageContext) -> pd.DataFrame | None:
    """The candidate's scores on training's validation rows, where bad_threshold chooses its best threshold."""
    path = ctx.of("training") / VALIDATION_FILE
    return pd.read_parquet(path, columns=["label", "score"]) if path.exists() else None


def _fit_rows(ctx: StageContext) -> tuple[pd.DataFrame | None, np.ndarray | None, np.ndarray | None]:
    """The training file, its 0/1 labels and the rows the candidate was fitted on, split as training split them
    (spurious_feature measures what the model rests on there); Nones when the file is not there (the check then
    measures on the test set only and says so)."""
    p = ctx.params
    if not Path(p.inputs.train).is_file():
        return None, None, None
    train = load_inputs(p.inputs, ("train",))["train"]
    y = binary_target(train, p.inputs, p.inputs.train).to_numpy()
    fit_rows, _ = validation_split(train, p.inputs.timestamp, p.training.validation_fraction, p.model.seed)
    return train, y, fit_rows


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params
    e = p.evaluation
    path = p.inputs.test
    ref = ModelRef.read(ctx.of("training"))
    test = load_inputs(p.inputs, ("test",))["test"]
    train, train_y, fit_rows = _fit_rows(ctx)
    require_columns(test, ref.features, path, "feature the candidate was trained on")
    y = binary_target(test, p.inputs, path).to_numpy()

    model = load_sklearn(ref.model_uri)
    scores = positive_scores(model, test[ref.features])
    champion = find_champion(p.tracking.registered_model, p.deployment.alias)
    mlflow_metrics: dict[str, float] = {}
    artifacts: list[str] = []
    if len(np.unique(y)) == 2:  # MLflow's evaluator needs both classes (test_labels says so when not)
        data = test[ref.features].assign(**{p.inputs.target: y})
        mlflow_metrics, artifacts = evaluate_on_run(
            model, ref.model_id, data, ref.features, p.inputs.target, e.threshold, ctx.dir
        )
        ctx.figures["test_score"] = [a for a in artifacts if a.endswith(FIGURE_SUFFIXES)]

    x = EvaluationInputs(
        test=test,
        test_file=path,
        test_pin=p.inputs.pins.get("test"),
        delimiter=p.inputs.delimiter,
        labels=y,
        scores=scores,
        metric=e.metric,
        threshold=e.threshold,
        candidate_uri=ref.model_uri,
        candidate_id=ref.model_id,
        registered_model=p.tracking.registered_model,
        alias=p.deployment.alias,
        champion=champion,
        champion_scores=score_champion(champion, test) if champion is not None else None,
        features=tuple(ref.features),
        validation=_validation_scores(ctx),
        score_floor=e.test_score.floor,
        model=model,
        text=tuple(ref.text),
        train=train,
        train_labels=train_y,
        fit_rows=fit_rows,
        key=p.inputs.id,
        timestamp=p.inputs.timestamp,
    )
    checked = ctx.run_checks(CHECKS, x)

    # the checks' numbers, typed (a check that crashed left none)
    scored = checked.measurements.get("test_score")
    scored = scored if isinstance(scored, test_score.Measurement) else None
    compared = checked.measurements.get("challenger_worse")
    compared = compared if isinstance(compared, challenger_worse.Measurement) else None
    summary: dict[str, object] = {
        "metric": e.metric,
        "threshold": e.threshold,
        "candidate": {
            "model_uri": ref.model_uri,
            "model_id": ref.model_id,
            "scores": scored.scores if scored is not None else None,
        },
        "mlflow_evaluate": mlflow_metrics,
        "champion": asdict(champion) if champion is not None else None,
    }
    if champion is not None and compared is not None:
        summary["compared"] = compared.compared
        if compared.compared:
            summary["scores"] = compared.champion_scores
    (ctx.dir / SCORES_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return StageOutput(
        findings=checked.findings,
        artifacts=[*artifacts, SCORES_FILE, *checked.artifacts],
        metrics={"test_rows": float(len(test)), **checked.metrics},
    )
