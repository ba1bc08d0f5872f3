"""The data gate: the pinned snapshots and their contract, the current batch's schema, nulls and shift.

A GX suite from the training snapshot (reviewed code once stored) is validated on the test set and on the
current batch; on the current batch its range and category-set results are the features layer's to judge
(values the model meets at serving) and are reported here as info. Beside it, checks GX cannot express:
covariate and label shift (training vs each batch), feature leakage, label noise, duplicate rows, inconsistent
values, and a changed label definition (the training snapshot vs the reference label profile that the target
suite stores when it is built).

Writes into the stage folder: `validation_<batch>.json` (the GX results per suite, SUMMARY format) and
`data_docs/` (a copy of the Data Docs site with this run's validation pages).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import great_expectations as gx
import pandas as pd

from tasks.context import StageContext
from tasks.data import categories, gxproject, nulls, ranges, schema
from tasks.data.covariate_shift import covariate_shift
from tasks.data.duplicate_rows import duplicate_rows
from tasks.data.feature_leakage import feature_leakage
from tasks.data.inconsistent_values import inconsistent_values
from tasks.data.label_noise import estimate, flagged_metric, label_noise_finding
from tasks.data.label_shift import label_shift
from tasks.data.outcomes import Outcome, outcomes_of, pct
from tasks.data.reviewed import reviewed_findings
from tasks.data.stats import binary_labels, is_numeric, sample
from tasks.data.suite import (
    INPUTS,
    TARGET,
    Contract,
    build_inputs_suite,
    build_target_suite,
    built_from,
    uncovered_categories,
)
from tasks.data.target_logic import build_profile, target_logic_changed
from tasks.frames import load_inputs, read_frame
from tasks.params import DataParams, Inputs, Params
from tasks.pins import check_pin
from tasks.result import Finding, Severity, StageOutput

BATCHES = ("test", "current")
KNOWN_TYPES = {*schema.TYPES, nulls.TYPE, ranges.TYPE, categories.TYPE}


def ensure_suites(
    context: gx.data_context.AbstractDataContext,
    inputs: Inputs,
    p: DataParams,
    train_md5: str | None,
    train: pd.DataFrame,
    profile: dict | None = None,
) -> tuple[dict[str, gx.ExpectationSuite], list[Finding]]:
    """The stored suites as they are (reviewed code); a missing one is built from the training snapshot
    (the target suite with its reference label `profile`), stored, and reported so it gets reviewed and
    committed."""
    suites = {name: gxproject.stored_suite(context, p.suite_dir, name) for name in (INPUTS, TARGET)}
    missing = [name for name, s in suites.items() if s is None]
    findings: list[Finding] = []
    if missing:
        contract = Contract.of(inputs, train)
        source = {
            "built_from": str(inputs.train),
            "train_md5": train_md5,
            "train_rows": len(train),
            "note": "built by the glassbox data stage from the training snapshot; reviewed code from then "
            "on: edit it by hand, or delete it to rebuild",
        }
        builders = {
            INPUTS: lambda: build_inputs_suite(train, contract, p, source),
            TARGET: lambda: build_target_suite(train, contract, p, source, profile),
        }
        for name in missing:
            suites[name] = gxproject.add_suite(context, builders[name]())
        files = [str(p.suite_dir / "expectations" / f"{name}.json") for name in missing]
        findings.append(
            Finding(
                check="gx_suite",
                severity=Severity.info,
                message=f"suite built from the training snapshot: review and commit {', '.join(files)}",
                evidence={
                    "files": files,
                    "expectations": {name: len(suites[name].expectations) for name in missing},
                    "train_md5": train_md5,
                    "categorical_without_set": uncovered_categories(train, contract, p),
                },
            )
        )
    for name, suite in suites.items():
        if name in missing:
            continue
        source = built_from(suite)
        stored_md5 = source.get("train_md5")
        if stored_md5 and train_md5 and stored_md5 != train_md5:
            findings.append(
                Finding(
                    check="gx_suite",
                    severity=Severity.warn,
                    message=(
                        f"suite {name!r} was built from training md5 {stored_md5}, the training snapshot is "
                        f"now {train_md5}: review that its contract still holds (delete it to rebuild)"
                    ),
                    evidence={"suite": name, "built_from": source.get("built_from"), "train_md5": train_md5},
                )
            )
        features = (source.get("contract") or {}).get("features")
        if inputs.features is not None and features is not None and set(features) != set(inputs.features):
            findings.append(
                Finding(
                    check="gx_suite",
                    severity=Severity.warn,
                    message=f"suite {name!r} was built for other features than params names: review it",
                    columns=sorted(set(features) ^ set(inputs.features)),
                    evidence={"suite_features": features, "params_features": list(inputs.features)},
                )
            )
    return {name: s for name, s in suites.items() if s is not None}, findings


SERVING_VALUES = {ranges.TYPE: "out_of_range", categories.TYPE: "unseen_categories"}


def for_features_layer(finding: Finding) -> Finding:
    """A value check on the current batch, kept as info: what the model meets at serving (values outside the
    training range, categories training never saw) is judged by the features layer."""
    owner = "out_of_range" if finding.check == "out_of_range_share" else "unseen_categories"
    return finding.model_copy(
        update={
            "severity": Severity.info,
            "message": f"{finding.message} (judged by the features layer: {owner})",
            "evidence": {**finding.evidence, "severity_here": finding.severity.value, "judged_by": owner},
        }
    )


def batch_findings(
    batch: str, outcomes: list[Outcome], present: list[str], p: DataParams, serving: bool = False
) -> tuple[list[Finding], dict[str, float]]:
    """Every expectation result on one batch, turned into findings by the check that owns its type.
    Value checks on a column that is absent or changed type are left out: the schema finding says it. On
    serving traffic (`serving`) the inputs suite's range and category-set results are info for the features
    layer; the snapshots keep the whole contract."""
    shape = schema.schema_findings(batch, outcomes, present)
    on_columns = [o for o in outcomes if o.type not in schema.TYPES and o.column not in shape.missing]
    valued = [o for o in on_columns if o.column not in shape.retyped]
    null_found, rises = nulls.null_findings(on_columns, p.null_share)
    range_found, outside = ranges.range_findings(valued, p.out_of_range_share)
    cat_found, unknown = categories.category_findings(valued, p.unexpected_category_share)
    if serving:
        range_found = [for_features_layer(f) for f in range_found]
        cat_found = [for_features_layer(f) if f.evidence.get("suite") == INPUTS else f for f in cat_found]
    findings = [
        *shape.findings,
        *null_found,
        *range_found,
        *cat_found,
        *reviewed_findings(valued, KNOWN_TYPES),
    ]
    shares = [max(0.0, r) for r in rises.values()] + list(outside.values()) + list(unknown.values())
    metrics = {
        f"{batch}_expectations": float(len(outcomes)),
        f"{batch}_failed_expectations": float(sum(not o.success for o in outcomes)),
        f"{batch}_schema_problems": float(len(shape.findings)),
        f"{batch}_unexpected_max": max(shares, default=0.0),
    }
    return findings, metrics


def validate_batch(
    ctx: StageContext, context: gx.data_context.AbstractDataContext, suites: dict, batch: str, df: pd.DataFrame
) -> tuple[list[Finding], dict[str, float], str]:
    """Validate one batch: the inputs suite on everything but the target, the target suite when the batch
    has labels (the test set must; the current batch may be unlabelled traffic)."""
    inputs = ctx.params.inputs
    plan: list[tuple[gx.ExpectationSuite, pd.DataFrame]] = [
        (suites[INPUTS], df.drop(columns=[inputs.target], errors="ignore"))
    ]
    notes: list[Finding] = []
    if batch == "test" or inputs.target in df.columns:
        plan.append((suites[TARGET], df))
    else:
        notes.append(
            Finding(
                check="gx_validation",
                severity=Severity.info,
                message=f"{batch}: no column {inputs.target!r}: unlabelled, the target suite does not apply",
                evidence={"batch": batch},
            )
        )
    results: dict[str, dict] = {}
    outcomes: list[Outcome] = []
    for suite, frame in plan:
        checkpoint = gxproject.checkpoint_for(context, batch, suite)
        validation = gxproject.validate(checkpoint, frame, ctx.run_id)
        results[suite.name] = validation.to_json_dict()
        outcomes += outcomes_of(batch, suite.name, validation)
    name = f"validation_{batch}.json"
    (ctx.dir / name).write_text(json.dumps(results, indent=2, default=str) + "\n")
    findings, metrics = batch_findings(batch, outcomes, list(df.columns), ctx.params.data, serving=batch == "current")
    metrics[f"{batch}_rows"] = float(len(df))
    failed = int(metrics[f"{batch}_failed_expectations"])
    summary = Finding(
        check="gx_validation",
        severity=Severity.info,
        message=(
            f"{batch}: {len(outcomes)} expectations ({', '.join(results)}) on {len(df):,} rows, {failed} "
            f"failed; largest unexpected share {pct(metrics[f'{batch}_unexpected_max'])}"
        ),
        evidence={"batch": batch, "results": name, "failed": failed, "rows": len(df)},
    )
    return [summary, *notes, *findings], metrics, name


class Timer:
    """Seconds per check, reported as metrics (`<check>_seconds`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, check: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[check] = self.seconds.get(check, 0.0) + time.perf_counter() - start

    def metrics(self) -> dict[str, float]:
        return {f"{check}_seconds": round(s, 3) for check, s in self.seconds.items()}


def feature_roles(params: Params, train: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(features, categorical, numeric) as the contract names them; text columns are neither category nor
    number here (the features layer checks text)."""
    contract = Contract.of(params.inputs, train)
    features = [c for c in contract.features if c in train.columns]
    categorical = [c for c in contract.categorical if c in train.columns]
    text = set(params.inputs.text)
    numeric = [c for c in features if c not in categorical and c not in text and is_numeric(train[c])]
    return features, categorical, numeric


def label_checks(
    params: Params, train: pd.DataFrame, y: pd.Series | None, features: list[str], timer: Timer
) -> tuple[list[Finding], dict[str, float], dict | None, Any]:
    """Leakage and label noise on the training snapshot, and the label profile a new target suite stores."""
    inputs, p = params.inputs, params.data
    found, metrics, aucs = timer(
        "feature_leakage",
        lambda: feature_leakage(
            train,
            y,
            features,
            inputs.target,
            inputs.timestamp,
            auc_limit=p.leakage_auc,
            identifier_limit=p.identifier_share,
            after_limit=p.after_timestamp_share,
            rows=p.sample_rows,
            seed=p.seed,
        ),
    )
    if y is None:
        return found, metrics, None, "the target is not a 0/1 label"
    issues = timer("label_noise", lambda: estimate(train, y, features, inputs.id, p.sample_rows, p.seed))
    related = [c for c, _ in sorted(aucs.items(), key=lambda ca: -(ca[1] if ca[1] == ca[1] else 0))]
    extra = {"label_noise": issues.reference()} if not isinstance(issues, str) else {}
    profile = timer(
        "target_logic_changed",
        lambda: build_profile(train, y, related[: p.profile_features], inputs.id, inputs.target, p.profile_rows, extra),
    )
    return found, {**metrics, **flagged_metric(issues)}, profile, issues


def run(ctx: StageContext) -> StageOutput:
    inputs, p = ctx.params.inputs, ctx.params.data
    timer = Timer()
    pins = {name: check_pin(name, path, inputs.pins.get(name)) for name, path in inputs.files().items()}
    findings = list(pins.values())
    train = load_inputs(inputs, ("train",))["train"]
    batches = {batch: read_frame(inputs.files()[batch]) for batch in BATCHES}
    y = binary_labels(train, inputs.target)
    features, categorical, numeric = feature_roles(ctx.params, train)

    label_found, metrics, profile, issues = label_checks(ctx.params, train, y, features, timer)
    findings += label_found
    context = gxproject.open_project(p.suite_dir)
    train_md5 = pins["train"].evidence.get("found_md5")
    suites, suite_findings = ensure_suites(context, inputs, p, train_md5, train, profile)
    findings += suite_findings
    source = built_from(suites[TARGET]) if TARGET in suites else {}
    reference = source.get("label_profile")
    built_now = bool(train_md5) and source.get("train_md5") == train_md5  # the reference is this very snapshot
    if y is not None:
        findings.append(
            label_noise_finding(
                issues, (reference or {}).get("label_noise"), p.label_noise_excess, same_snapshot=built_now
            )
        )
    findings.append(
        timer(
            "target_logic_changed",
            lambda: target_logic_changed(reference, train, y, inputs.id, p, same_snapshot=built_now),
        )
    )
    for name, frame in (("train", train), ("test", batches["test"])):
        findings += timer(
            "duplicate_rows",
            lambda frame=frame, name=name: duplicate_rows(
                frame, name, inputs.id, p.duplicate_row_share, p.duplicate_id_share
            ),
        )

    artifacts: list[str] = []
    for batch in BATCHES:
        batch_found, batch_metrics, result_file = timer(
            "gx_validation", lambda batch=batch: validate_batch(ctx, context, suites, batch, batches[batch])
        )
        findings += batch_found
        metrics.update(batch_metrics)
        artifacts.append(result_file)
    artifacts += gxproject.copy_docs(p.suite_dir, ctx.dir / "data_docs", ctx.run_id)

    reference_rows = sample(train[[*numeric, *categorical]], p.drift_reference_rows, p.seed)
    tolerance = ctx.params.features.normalized_tolerance
    for batch, frame in batches.items():
        shift, shift_metrics = timer(
            "covariate_shift",
            lambda frame=frame, batch=batch: covariate_shift(
                reference_rows,
                train,
                frame,
                batch,
                numeric,
                categorical,
                p.covariate_shift_numeric,
                p.covariate_shift_categorical,
                tolerance,
            ),
        )
        findings.append(shift)
        metrics.update(shift_metrics)
        if y is not None:
            findings.append(label_shift(y, binary_labels(frame, inputs.target), batch, inputs.target, p.label_shift))
    for batch, frame in (("train", train), *batches.items()):
        findings += timer(
            "inconsistent_values",
            lambda frame=frame, batch=batch: inconsistent_values(
                train,
                frame,
                batch,
                categorical,
                numeric,
                variant_limit=p.variant_share,
                scale_tolerance=p.scale_tolerance,
                normalized_tolerance=tolerance,
                scale_severity=Severity(p.scale_change),
            ),
        )
    metrics.update(timer.metrics())
    return StageOutput(findings=findings, artifacts=artifacts, metrics=metrics)
