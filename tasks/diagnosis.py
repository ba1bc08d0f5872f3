"""The diagnosis on top of a report: one root cause, ranked through the debugging hierarchy (data before
features before training before evaluation before serving, deployment and monitoring), with the symptoms it
explains under it and what to do next.

Ranking: the root is in the earliest layer with a failure (the gate that broke; later layers did not run or
only show consequences). Within that layer a failing check that another present finding explains is a
symptom, not the cause: EXPLAINS lists which checks produce which (a schema change makes nulls, ranges and
drift fire; a changed label definition makes labels look noisy and shifts the label rate). A warning in that
layer can be the root when it explains a failure there (a wrong metric makes the score fail). Where two
checks can each explain the other, the evidence decides (labels relabelled in one direction only are a
definition change, flipped both ways at the base rate's proportions noise; a train-validation gap past its
limit by no more than the seeds move the validation score is instability, by more memorising; served scores
that lost confidence toward 0.5 drift by a small effect, a drift past its fail line is more than a loss of
confidence). Everything else that warned or failed is listed as a symptom when the root explains it or names
the same columns, else as "also".
"""

from __future__ import annotations

from typing import Any

# cause -> the checks it makes fire (their findings are symptoms when the cause is present)
EXPLAINS: dict[str, frozenset[str]] = {
    "schema_change": frozenset(
        {"missing_spike", "value_range", "category_set", "covariate_shift", "inconsistent_values", "baseline"}
    ),
    "wrong_data_version": frozenset({"label_shift", "covariate_shift", "label_noise", "baseline"}),
    "text_values": frozenset({"category_set", "covariate_shift", "unseen_categories"}),
    "row_count": frozenset({"covariate_shift", "label_shift", "category_set", "value_range", "target_values"}),
    "non_finite": frozenset({"covariate_shift", "value_range", "out_of_range"}),
    "target_values": frozenset({"label_shift", "label_noise", "target_logic_changed", "category_set", "baseline"}),
    "target_logic_changed": frozenset({"label_noise", "label_shift", "covariate_shift", "baseline"}),
    "label_noise": frozenset({"target_logic_changed", "label_shift", "baseline"}),
    "duplicate_rows": frozenset({"label_shift", "covariate_shift", "baseline"}),
    "feature_leakage": frozenset({"covariate_shift"}),
    "missing_spike": frozenset({"covariate_shift"}),
    "inconsistent_values": frozenset({"category_set", "covariate_shift"}),
    "normalization_skew": frozenset({"out_of_range", "covariate_shift"}),
    "timezone_shift": frozenset({"covariate_shift", "out_of_range"}),
    "unseen_categories": frozenset({"covariate_shift"}),
    "split_overlap": frozenset({"temporal_overlap", "overfitting"}),
    "nondeterministic_training": frozenset({"unstable_training"}),
    "unstable_training": frozenset({"overfitting", "simpler_model"}),
    "overfitting": frozenset({"unstable_training", "simpler_model"}),
    "loss_not_decreasing": frozenset({"overfitting", "simpler_model"}),
    "wrong_metric": frozenset({"test_score", "bad_threshold", "slices"}),
    "test_set_changed": frozenset({"test_score", "bad_threshold", "slices", "challenger_worse"}),
    "challenger_worse": frozenset({"slices", "test_score"}),
    "spurious_feature": frozenset({"test_score", "slices"}),
    "serving_type_mismatch": frozenset({"serving_contract", "serving_nan", "serving_prediction_mismatch"}),
    "serving_contract": frozenset({"serving_nan", "serving_prediction_mismatch"}),
    "prediction_drift": frozenset({"concept_drift", "confidence_collapse", "window_drift"}),
    "confidence_collapse": frozenset({"prediction_drift", "window_drift"}),
    "feature_drift": frozenset({"drifted_share", "prediction_drift", "window_drift"}),
}

# What to do next, per check (a check not listed gets the generic step).
NEXT: dict[str, str] = {
    "schema_change": "compare the producer's export with the reviewed suite; fix the export or review a new baseline",
    "missing_spike": "find the upstream job or join that stopped filling the column",
    "covariate_shift": "check whether the population really changed (retrain) or a pipeline step broke upstream",
    "label_shift": "check how labels were collected for this window before retraining on it",
    "label_noise": "audit the flagged rows' labels at the source; fix the labelling job",
    "feature_leakage": "drop the feature or compute it only from information available at prediction time",
    "duplicate_rows": "deduplicate at ingestion by the id column; find the job that appended twice",
    "inconsistent_values": "normalise spellings at ingestion (one canonical value per category)",
    "target_logic_changed": "compare the label definition in the export with the reviewed one; relabel or re-review",
    "wrong_data_version": "point the pipeline at the pinned snapshot (dvc checkout) and rerun",
    "model_server": "read the server log in the serving folder: a model that cannot load, a crash or a hang",
    "text_values": "find the export step that lets formulas or whole records into a field; quote or reject them",
    "row_count": "check that the export or query wrote the whole file (a filter, a failed job, a partial copy)",
    "non_finite": "find the division or sentinel upstream that writes inf or 1e308; write a missing value instead",
    "target_values": "fix the export that writes the label column (or set inputs.positive_label) and rerun",
    "normalization_skew": "apply the same fitted scaler on both paths (keep it inside the model pipeline)",
    "vocab_mismatch": "ship the vocabulary fitted at training with the model; tokenize serving text the same way",
    "timezone_shift": "convert timestamps to UTC at ingestion on both paths before deriving hour features",
    "unseen_categories": "map the new values to known ones or retrain with them",
    "out_of_range": "validate inputs at the producer; reject or clip impossible values",
    "split_overlap": "split by id and time before any processing; rebuild the test set",
    "nondeterministic_training": "fix every seed and thread count in the training code",
    "unstable_training": "regularise or average over seeds; report results across seeds",
    "overfitting": "regularise, get more data, or simplify the model; check for leakage first",
    "class_imbalance": "reweight or resample the minority class and judge a threshold on costs",
    "loss_not_decreasing": "check the learning rate, input scaling and labels on a tiny overfit run",
    "wrong_metric": "judge the model on the metric the business cost depends on",
    "bad_threshold": "move the decision threshold to the least-cost one found on validation",
    "test_set_changed": "restore the pinned trusted test set (dvc checkout) and rerun evaluation",
    "spurious_feature": "remove or fix the feature the model leans on; retrain",
    "challenger_worse": "keep the champion; find what in the retrain made it worse",
    "serving_prediction_mismatch": "diff the server's environment and preprocessing with training's",
    "serving_nan": "handle the inputs the model cannot score (fallback category, validation) before serving",
    "serving_type_mismatch": "send the types the model signature declares; fix the client's serialization",
    "serving_contract": "fix the payload's serialization so the server receives what the file holds",
    "wrong_model_deployed": "glassbox rollback --to the validated version, and promote only through the pipeline",
    "untagged_deployment": "commit the code and register versions only from a clean tree",
    "broken_rollback": "re-register the previous version from its run; keep its artifacts",
    "latency_regression": "profile the candidate's predict; keep the champion until it is as fast",
    "prediction_drift": "look at the input drift behind it; retrain if the population changed",
    "concept_drift": "retrain on the newly labelled windows; review the feature set",
    "confidence_collapse": "check the inputs of the low-confidence windows; retrain if they are a new population",
    "baseline": "review the baseline suite (glassbox baseline) against the snapshot it should describe",
    "reviewer_expectations": "read the broken expectation in the GX Data Docs; fix the data or the expectation",
    "category_set": "map the new category values to known ones at ingestion, or review them into the baseline",
    "value_range": "find the producer that wrote impossible values or changed a unit; fix it at the source",
    "joint_shift": "compare the flagged rows' columns with their source: a swapped or mis-joined column",
    "preprocessing_parity": "ship the fitted preprocessing with the model and replay it, never refit it at serving",
    "features_match": "rerun the features stage so training fits on the features it validated",
    "temporal_overlap": "split by time: every test row later than the latest training row",
    "simpler_model": "find why the model does not beat a simple baseline (features, labels, leakage) before shipping",
    "test_labels": "restore a trusted test set that holds both classes",
    "test_score": "look at the slices and the curves below; find which layer's change cost the score",
    "slices": "look at the worst slice's rows: a data problem there, or a model that needs more of them",
    "registered_model_lineage": "register the candidate's own logged model; never point a version at another run",
    "latency_budget": "profile the model's predict (or raise the budget if the machine, not the model, is slow)",
    "shadow_disagreement": "read the slices where champion and candidate disagree before promoting",
    "feature_drift": "check whether the population changed (retrain) or an upstream step broke the column",
    "drifted_share": "check whether the population changed (retrain) or an upstream step broke the columns",
    "window_drift": "look at the windows that drifted: a date where an upstream change landed",
    "label_drift": "check how labels were collected in the drifted windows before retraining on them",
}
GENERIC = "open the finding's evidence and the stage folder"

RANK = {"fail": 2, "warn": 1}
# Checks that only ever warn by contract (FAULTS.md): their warning can be the cause of a failure they explain.
# Any other warning beside a failure in its layer is weaker evidence than the failure itself.
WARN_CAUSES = frozenset({"wrong_metric", "unstable_training", "class_imbalance", "confidence_collapse"})


def _one_directional(evidence: dict[str, Any]) -> bool | None:
    """Whether a relabelling went one way only (a definition change) rather than flips in both directions at
    the base rate's proportions (noise); None when the evidence does not say."""
    relabelled = evidence.get("relabelled") or {}
    rate = (evidence.get("label_rate") or {}).get("reference")
    up, down = relabelled.get("0_to_1"), relabelled.get("1_to_0")
    if up is None or down is None or rate is None or up + down == 0:
        return None
    from scipy.stats import binom

    n = up + down
    # Under random flips a changed label was a 1 with the reference rate: too few of either way is one-way.
    return bool(binom.cdf(down, n, rate) < 1e-3 or binom.cdf(up, n, 1 - rate) < 1e-3)


def _seeds_cover_gap(overfitting: dict[str, Any], unstable: dict[str, Any]) -> bool | None:
    """Whether the train-validation gap passes its limit by no more than the retrains' seeds move the validation
    score (the spread): another seed could bring it under the limit, so the instability explains the overfitting
    verdict; a gap past the limit by more is memorising, and a model that memorises its rows also retrains
    differently with each seed. None when the evidence does not say."""
    gap, limit, spread = overfitting.get("gap"), overfitting.get("gap_limit"), unstable.get("spread")
    if gap is None or limit is None or spread is None:
        return None
    return bool(gap - limit <= spread)


def _within_drift_warn_band(evidence: dict[str, Any]) -> bool | None:
    """Whether a prediction drift stayed below its fail line (a small effect: what scores drawn toward 0.5 by a
    collapse of confidence move); None when the drift was not measured.

    A collapse toward 0.5 and a drift of the scores measure one move of the served scores on two scales (the
    share of training's confidence above 0.5 lost; the Wasserstein distance in training's score sds), and a
    model whose scores sit below 0.5 loses confidence whenever its scores rise: the shape of the move does not
    tell the two apart (the demo's riskiest-flights caller loses more confidence, 41%, than its afternoon-only
    feed, 25%). Its size does: the collapse is a warning by contract (the model may still rank), and a drift
    past the fail line (a medium effect) is a change of the population served, the lost confidence one of
    its symptoms."""
    value, fail = evidence.get("value"), evidence.get("fail")
    if value is None:
        return None
    return fail is None or value < fail


def _explains(cause: dict[str, Any], other: dict[str, Any], findings: list[dict[str, Any]]) -> bool:
    if other["check"] not in EXPLAINS.get(cause["check"], ()):
        return False
    pair = {cause["check"], other["check"]}
    if pair == {"label_noise", "target_logic_changed"}:
        logic = next((f for f in findings if f["check"] == "target_logic_changed"), None)
        one_way = _one_directional(logic["evidence"]) if logic else None
        if one_way is None:
            return cause["check"] == "target_logic_changed"  # the narrower cause when nothing tells them apart
        return (cause["check"] == "target_logic_changed") == one_way
    if pair == {"overfitting", "unstable_training"}:
        fit, seeds = (cause, other) if cause["check"] == "overfitting" else (other, cause)
        covered = _seeds_cover_gap(fit.get("evidence") or {}, seeds.get("evidence") or {})
        if covered is None:
            return cause["check"] == "unstable_training"  # nothing tells them apart: the warn-only cause
        return (cause["check"] == "unstable_training") == covered
    if pair == {"confidence_collapse", "prediction_drift"}:
        drift = cause if cause["check"] == "prediction_drift" else other
        small = _within_drift_warn_band(drift.get("evidence") or {})
        if small is None:
            return False  # a drift not measured neither causes a collapse nor is caused by one
        return (cause["check"] == "confidence_collapse") == small
    return True


def _entry(stage: str, f: dict[str, Any]) -> dict[str, Any]:
    return {
        "layer": stage,
        "check": f["check"],
        "severity": f["severity"],
        "columns": list(f.get("columns") or []),
        "message": f["message"],
        "next": NEXT.get(f["check"], GENERIC),
    }


# Judged against wall-clock milliseconds (an absolute budget): it says how busy the machine was as much as what
# the model does, so it is named the root only when nothing else is.
MACHINE_BOUND = frozenset({"latency_budget"})


def diagnose(report: dict[str, Any], known: frozenset[tuple[str, str, str]] = frozenset()) -> dict[str, Any] | None:
    """The root cause with its symptoms, or None when nothing warned or failed. `known` are the (layer, check,
    severity) the last good run already had: a run that only warns is diagnosed by what is new, not by a
    warning that was there yesterday too."""
    problems = [
        (i, s["name"], f)
        for i, s in enumerate(report["stages"])
        for f in s.get("findings", [])
        if f["severity"] in RANK
    ]
    if not problems:
        return None
    worst = max(RANK[f["severity"]] for _, _, f in problems)
    ranked = [(i, n, f) for i, n, f in problems if RANK[f["severity"]] == worst]
    new = [(i, n, f) for i, n, f in ranked if (n, f["check"], f["severity"]) not in known]
    pool = new or ranked
    pool = [p for p in pool if p[2]["check"] not in MACHINE_BOUND] or pool
    layer = min(i for i, _, _ in pool)
    failing = [f for i, _, f in pool if i == layer]
    in_layer = [f for i, _, f in problems if i == layer]
    # A warn-only check of the layer that explains one of its failures is a candidate for the root as well.
    candidates = failing + [
        f
        for f in in_layer
        if f not in failing and f["check"] in WARN_CAUSES and any(_explains(f, g, in_layer) for g in failing)
    ]
    roots = [c for c in candidates if not any(o is not c and _explains(o, c, in_layer) for o in candidates)]
    root = (roots or candidates)[0]
    name = report["stages"][layer]["name"]
    root_cols = set(root.get("columns") or [])
    symptoms, also = [], []
    for _, stage, f in problems:
        if f is root:
            continue
        explained = _explains(root, f, in_layer) or bool(root_cols & set(f.get("columns") or []))
        (symptoms if explained else also).append(_entry(stage, f))
    cols = f" on {', '.join(sorted(root_cols))}" if root_cols else ""
    said = root["message"].rstrip(". ")
    explains = f" It explains {len(symptoms)} other finding(s)." if symptoms else ""
    sentence = f"Root cause in the {name} layer: {root['check']}{cols}. {said}.{explains}"
    return {"sentence": sentence, "root": _entry(name, root), "symptoms": symptoms, "also": also}
