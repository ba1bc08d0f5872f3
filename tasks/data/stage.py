"""The data gate: the pinned snapshots, and a GX suite from the training snapshot validated on the test set
and on the current batch.

Writes into the stage folder: `validation_<batch>.json` (the GX results per suite, SUMMARY format) and
`data_docs/` (a copy of the Data Docs site with this run's validation pages).
"""

from __future__ import annotations

import json

import great_expectations as gx
import pandas as pd

from tasks.context import StageContext
from tasks.data import categories, gxproject, nulls, ranges, schema
from tasks.data.outcomes import Outcome, outcomes_of, pct
from tasks.data.reviewed import reviewed_findings
from tasks.data.suite import (
    INPUTS,
    TARGET,
    Contract,
    build_inputs_suite,
    build_target_suite,
    built_from,
    uncovered_categories,
)
from tasks.frames import load_inputs, read_frame
from tasks.params import DataParams, Inputs
from tasks.pins import check_pin
from tasks.result import Finding, Severity, StageOutput

BATCHES = ("test", "current")
KNOWN_TYPES = {*schema.TYPES, nulls.TYPE, ranges.TYPE, categories.TYPE}


def ensure_suites(
    context: gx.data_context.AbstractDataContext, inputs: Inputs, p: DataParams, train_md5: str | None
) -> tuple[dict[str, gx.ExpectationSuite], list[Finding]]:
    """The stored suites as they are (reviewed code); a missing one is built from the training snapshot,
    stored, and reported so it gets reviewed and committed."""
    suites = {name: gxproject.stored_suite(context, p.suite_dir, name) for name in (INPUTS, TARGET)}
    missing = [name for name, s in suites.items() if s is None]
    findings: list[Finding] = []
    if missing:
        train = load_inputs(inputs, ("train",))["train"]
        contract = Contract.of(inputs, train)
        source = {
            "built_from": str(inputs.train),
            "train_md5": train_md5,
            "train_rows": len(train),
            "note": "built by the glassbox data stage from the training snapshot; reviewed code from then "
            "on: edit it by hand, or delete it to rebuild",
        }
        builders = {INPUTS: build_inputs_suite, TARGET: build_target_suite}
        for name in missing:
            suites[name] = gxproject.add_suite(context, builders[name](train, contract, p, source))
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


def batch_findings(
    batch: str, outcomes: list[Outcome], present: list[str], p: DataParams
) -> tuple[list[Finding], dict[str, float]]:
    """Every expectation result on one batch, turned into findings by the check that owns its type.
    Value checks on a column that is absent or changed type are left out: the schema finding says it."""
    shape = schema.schema_findings(batch, outcomes, present)
    on_columns = [o for o in outcomes if o.type not in schema.TYPES and o.column not in shape.missing]
    valued = [o for o in on_columns if o.column not in shape.retyped]
    null_found, rises = nulls.null_findings(on_columns, p.null_share)
    range_found, outside = ranges.range_findings(valued, p.out_of_range_share)
    cat_found, unknown = categories.category_findings(valued, p.unexpected_category_share)
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
    ctx: StageContext, context: gx.data_context.AbstractDataContext, suites: dict, batch: str
) -> tuple[list[Finding], dict[str, float], str]:
    """Validate one batch: the inputs suite on everything but the target, the target suite when the batch
    has labels (the test set must; the current batch may be unlabelled traffic)."""
    inputs = ctx.params.inputs
    df = read_frame(inputs.files()[batch])
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
    findings, metrics = batch_findings(batch, outcomes, list(df.columns), ctx.params.data)
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


def run(ctx: StageContext) -> StageOutput:
    inputs, p = ctx.params.inputs, ctx.params.data
    pins = {name: check_pin(name, path, inputs.pins.get(name)) for name, path in inputs.files().items()}
    findings = list(pins.values())
    context = gxproject.open_project(p.suite_dir)
    suites, suite_findings = ensure_suites(context, inputs, p, pins["train"].evidence.get("found_md5"))
    findings += suite_findings
    artifacts: list[str] = []
    metrics: dict[str, float] = {}
    for batch in BATCHES:
        batch_found, batch_metrics, result_file = validate_batch(ctx, context, suites, batch)
        findings += batch_found
        metrics.update(batch_metrics)
        artifacts.append(result_file)
    artifacts += gxproject.copy_docs(p.suite_dir, ctx.dir / "data_docs", ctx.run_id)
    return StageOutput(findings=findings, artifacts=artifacts, metrics=metrics)
