"""Evaluation: the candidate on the pinned, trusted test set, with MLflow's evaluation on the run, judged by
a score floor and by its margin over the registered champion on the same rows."""

from __future__ import annotations

import json

from tasks.context import StageContext
from tasks.evaluation.champion import check_margin, find_champion, no_champion, score_champion
from tasks.evaluation.mlflow_evaluation import evaluate_on_run
from tasks.evaluation.scoring import check_min_score, check_test_labels, classification_scores
from tasks.frames import binary_target, load_inputs, require_columns
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.pins import check_pin
from tasks.result import Finding, StageOutput

SCORES_FILE = "test_scores.json"


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params
    e = p.evaluation
    path = p.inputs.test
    findings: list[Finding] = [check_pin("test", path, p.inputs.pins.get("test"))]
    ref = ModelRef.read(ctx.of("training"))
    test = load_inputs(p.inputs, ("test",))["test"]
    require_columns(test, ref.features, path, "feature the candidate was trained on")
    y = binary_target(test, p.inputs.target, path)

    labels = check_test_labels(y.to_numpy())
    if labels is not None:
        return StageOutput(findings=[*findings, labels], metrics={"test_rows": float(len(test))})

    model = load_sklearn(ref.model_uri)
    scores = classification_scores(y.to_numpy(), positive_scores(model, test[ref.features]), e.threshold)
    data = test[ref.features].assign(**{p.inputs.target: y})
    mlflow_metrics, artifacts = evaluate_on_run(
        model, ref.model_id, data, ref.features, p.inputs.target, e.threshold, ctx.dir
    )
    findings.append(check_min_score(e.metric, scores[e.metric], e.min_score, len(test), e.threshold))
    metrics = {f"test_{k}": v for k, v in scores.items()} | {"test_rows": float(len(test))}

    champion = find_champion(p.tracking.registered_model, p.deployment.alias)
    comparison: dict[str, object] = {"champion": None}
    if champion is None:
        findings.append(no_champion(p.tracking.registered_model, p.deployment.alias))
    else:
        champ_scores = score_champion(champion, test)
        if isinstance(champ_scores, Finding):
            findings.append(champ_scores)
            comparison = {"champion": champion.__dict__, "compared": False}
        else:
            champ = classification_scores(y.to_numpy(), champ_scores, e.threshold)
            evidence = {
                "champion_version": champion.version,
                "champion_source": champion.source,
                "champion_run_id": champion.run_id,
                "challenger_model_id": ref.model_id,
                "challenger_model_uri": ref.model_uri,
                "same_model": champion.model_id is not None and champion.model_id == ref.model_id,
                "rows": len(test),
            }
            findings.append(check_margin(e.metric, scores[e.metric], champ[e.metric], e.champion_margin, evidence))
            metrics[f"champion_{e.metric}"] = champ[e.metric]
            metrics["champion_margin"] = scores[e.metric] - champ[e.metric]
            comparison = {"champion": champion.__dict__, "compared": True, "scores": champ}

    summary = {
        "metric": e.metric,
        "threshold": e.threshold,
        "candidate": {"model_uri": ref.model_uri, "model_id": ref.model_id, "scores": scores},
        "mlflow_evaluate": mlflow_metrics,
        **comparison,
    }
    (ctx.dir / SCORES_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return StageOutput(findings=findings, artifacts=[*artifacts, SCORES_FILE], metrics=metrics)
