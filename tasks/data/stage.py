"""Layer 1, data: the pinned snapshots and the reviewed baseline they are judged against.

The stage prepares one inputs record (tasks/data/inputs.py) and hands it to the layer's checks
(tasks/data/checks.py): it reads the snapshots, reads the baseline (GX suites and label profile written by
`glassbox baseline`; on the very first run, with `data.baseline_bootstrap`, it writes it from the training
snapshot first), and validates the test set and the current batch against the suites once, with GX. The
checks read those GX outcomes (schema, nulls, ranges, category sets, a reviewer's own expectations) and
measure what GX cannot express (covariate and label shift, feature leakage, label noise, duplicate rows,
inconsistent values, a changed label definition).

Writes into the stage folder: `validation_<batch>.json` (the GX results per suite, SUMMARY format) and
`data_docs/` (a copy of the Data Docs site with this run's validation pages).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from tasks.columns import is_numeric
from tasks.context import StageContext
from tasks.data import gxproject
from tasks.data.baseline import bootstrapped, missing_files, read_baseline, write_baseline
from tasks.data.checks import CHECKS
from tasks.data.inputs import BATCHES, DataInputs
from tasks.data.outcomes import Outcome, Validation, outcomes_of
from tasks.data.stats import binary_labels
from tasks.frames import categorical_columns, feature_columns, load_inputs, read_frame
from tasks.provenance import file_md5
from tasks.result import StageOutput

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.data_context import AbstractDataContext

SERVING = "current"  # the batch that is serving traffic: its values are the features layer's to judge


def validate_batch(
    ctx: StageContext, context: AbstractDataContext, suites: dict[str, ExpectationSuite], batch: str, df: pd.DataFrame
) -> Validation:
    """Validate one batch: the inputs suite on everything but the target, the target suite when the batch has
    labels (the test set must; the current batch may be unlabelled traffic). The GX results are written."""
    target = ctx.params.inputs.target
    plan: list[tuple[ExpectationSuite, pd.DataFrame]] = []
    if "inputs" in suites:
        plan.append((suites["inputs"], df.drop(columns=[target], errors="ignore")))
    unlabelled = batch != "test" and target not in df.columns
    if "target" in suites and not unlabelled:
        plan.append((suites["target"], df))
    results: dict[str, dict] = {}
    outcomes: list[Outcome] = []
    for suite, frame in plan:
        checkpoint = gxproject.checkpoint_for(context, batch, suite)
        validation = gxproject.validate(checkpoint, frame, ctx.run_id)
        results[suite.name] = validation.to_json_dict()
        outcomes += outcomes_of(batch, suite.name, validation)
    name = f"validation_{batch}.json"
    (ctx.dir / name).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return Validation(
        batch=batch,
        rows=len(df),
        columns=tuple(str(c) for c in df.columns),
        suites=tuple(results),
        outcomes=tuple(outcomes),
        serving=batch == SERVING,
        results_file=name,
        unlabelled=unlabelled,
    )


def run(ctx: StageContext) -> StageOutput:
    inputs, p = ctx.params.inputs, ctx.params.data
    train = load_inputs(inputs, ("train",))["train"]
    batches = {batch: read_frame(inputs.files()[batch], inputs.delimiter) for batch in BATCHES}
    train_md5 = file_md5(inputs.train)

    # The baseline is read, never judged against what this run builds; only a first run writes it (bootstrap).
    missing = missing_files(p.suite_dir)
    written: list[str] = []
    notes: list[str] = []
    if missing and p.baseline_bootstrap:
        notes = write_baseline(ctx.params, inputs.train)
        written = missing
    context = gxproject.open_project(p.suite_dir)
    baseline, suites = read_baseline(context, p.suite_dir)
    if written:
        baseline = bootstrapped(baseline, written, notes)

    artifacts: list[str] = []
    validations: dict[str, Validation] = {}
    if suites:
        for batch, frame in batches.items():
            validations[batch] = validate_batch(ctx, context, suites, batch, frame)
            artifacts.append(validations[batch].results_file or "")
        gxproject.build_docs(context, ctx.run_id)
        artifacts += gxproject.copy_docs(p.suite_dir, ctx.dir / "data_docs", ctx.run_id)

    features = [c for c in feature_columns(inputs, train) if c in train.columns]
    categorical = [c for c in categorical_columns(inputs, train, features) if c in train.columns]
    text = set(inputs.text)
    x = DataInputs(
        train=train,
        batches=batches,
        target=inputs.target,
        id=inputs.id,
        timestamp=inputs.timestamp,
        features=features,
        categorical=categorical,
        numeric=[c for c in features if c not in categorical and c not in text and is_numeric(train[c])],
        labels=binary_labels(train, inputs.target, inputs.positive_label),
        batch_labels={
            name: binary_labels(frame, inputs.target, inputs.positive_label) for name, frame in batches.items()
        },
        files=dict(inputs.files()),
        pinned=dict(inputs.pins),
        train_md5=train_md5,
        baseline=baseline,
        validations=validations,
        sample_rows=p.sample_rows,
        drift_reference_rows=p.drift_reference_rows,
        seed=p.seed,
        normalization_tolerance=ctx.params.features.normalization_skew.tolerance,
        positive_label=inputs.positive_label,
        min_rows=p.row_count.rows.fail,
    )
    checked = ctx.run_checks(CHECKS, x)
    metrics = {f"{name}.rows": float(len(frame)) for name, frame in (("train", train), *batches.items())}
    return StageOutput(
        findings=checked.findings, artifacts=[*artifacts, *checked.artifacts], metrics={**metrics, **checked.metrics}
    )
