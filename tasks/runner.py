"""The one way stages run, shared by the Prefect flow and by `glassbox stage` (what dvc.yaml calls).

`execute_stage` opens the stage's MLflow run, calls the plain stage function, times it, writes `result.json`
and `metrics/<stage>.json` and logs that folder as the run's evidence. `run_sequence` walks stages in order,
stops where the gate policy (tasks/gates.py) says, and always writes the report. A stage never decides about
gating.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from tasks import column_evidence, gates, journal, stage_cache, tracking
from tasks.atomic import write_text
from tasks.changes import flat
from tasks.context import StageContext
from tasks.errors import ConfigError
from tasks.params import STAGES, Params
from tasks.provenance import Provenance, collect
from tasks.redact import recordable_params
from tasks.registry import stage_function
from tasks.report import build_report, write_report
from tasks.result import Finding, Severity, StageResult, verdict_of


class PipelineRun(BaseModel):
    """One pass over the stages; persisted as `run.json` so separate `dvc repro` processes share it."""

    run_id: str
    started_at: str
    mlflow_run_id: str | None
    provenance: Provenance
    stages: list[str] = []

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "run.json", self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, out: Path) -> PipelineRun | None:
        path = out / "run.json"
        if not path.is_file():
            return None
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except ValueError:
            return None


def _close_orphans(params: Params, keep: str | None = None) -> None:
    """What a killed run left RUNNING in MLflow, closed by the next one (the project lock is held)."""
    for line in tracking.close_orphans(params.tracking, keep):
        logging.getLogger("glassbox").warning(line)


def _new_run(params: Params, out: Path) -> PipelineRun:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    prov = collect(params)
    _close_orphans(params)
    mlflow_id = tracking.start_parent(params.tracking, f"glassbox-{run_id}", prov)
    run = PipelineRun(
        run_id=run_id,
        started_at=datetime.now(UTC).isoformat(),
        mlflow_run_id=mlflow_id,
        provenance=prov.model_copy(update={"mlflow_run_id": mlflow_id}),
    )
    run.save(out)
    return run


def begin_run(params: Params, out: Path) -> PipelineRun:
    """Start a new pipeline run: a new id, a new parent MLflow run. The previous run's stage folders go."""
    for name in STAGES:
        shutil.rmtree(out / name, ignore_errors=True)
    return _new_run(params, out)


def attach_run(params: Params, out: Path, stage: str) -> PipelineRun:
    """For `dvc repro`: join the open pipeline run unless this stage (or a later one) already ran in it,
    or the params changed since it started."""
    run = PipelineRun.load(out)
    later = set(STAGES[STAGES.index(stage) :])
    if run is None or later & set(run.stages) or run.provenance.params_sha256 != params.sha256():
        return _new_run(params, out)
    _close_orphans(params, keep=run.mlflow_run_id)  # a stage of this pipeline killed before: its run is closed
    return run


def refresh_provenance(run: PipelineRun, params: Params, out: Path) -> PipelineRun:
    """The snapshot stage writes the data: hash it again afterwards so every later artifact names it."""
    prov = collect(params, mlflow_run_id=run.mlflow_run_id)
    run = run.model_copy(update={"provenance": prov})
    if run.mlflow_run_id:
        tracking.log_batch(run.mlflow_run_id, tags=prov.tags())
    run.save(out)
    return run


def execute_stage(name: str, params: Params, out: Path, run: PipelineRun) -> StageResult:
    """Run one stage and write its evidence. A ConfigError (user input) is re-raised after it is recorded;
    any other exception is recorded as a crashed stage and re-raised for the orchestrator to retry or stop."""
    stage_dir = out / name
    shutil.rmtree(stage_dir, ignore_errors=True)
    stage_dir.mkdir(parents=True)
    func = stage_function(name)
    start = time.perf_counter()
    with tracking.stage_run(params.tracking, run.mlflow_run_id, name, run.provenance) as mlflow_id:
        files = params.inputs.files()
        roles = {r: files[r] for r in tracking.STAGE_DATA.get(name, ()) if r in files}
        tracking.log_datasets(mlflow_id, roles, run.provenance.data_hashes, params.inputs.target)
        ctx = StageContext(name, params, out, run.run_id, run.provenance, mlflow_id)
        error: BaseException | None = None
        key = stage_cache.stage_key(name, params, out, run.provenance)
        reused = None
        try:
            reused = stage_cache.reuse(key, name, stage_dir, mlflow_id, params.tracking.experiment) if key else None
            output = reused or func(ctx)
            findings, artifacts, metrics = output.findings, output.artifacts, output.metrics
        except ConfigError as e:
            error = e
            findings = [Finding(check="input_error", severity=Severity.fail, message=str(e))]
            artifacts, metrics = [], {}
        except Exception as e:  # recorded as evidence, then re-raised: a crash is a bug, not a verdict
            error = e
            (stage_dir / "traceback.txt").write_text(traceback.format_exc())
            msg = f"stage crashed: {type(e).__name__}: {e}"
            findings = [Finding(check="stage_error", severity=Severity.fail, message=msg)]
            artifacts, metrics = ["traceback.txt"], {}
        result = StageResult(
            name=name,
            verdict=verdict_of(findings),
            duration_s=round(time.perf_counter() - start, 3),
            findings=findings,
            artifacts=sorted(set(artifacts) | {"result.json"}),
            metrics=metrics,
            run_id=run.run_id,
            figures=reused.figures if reused else ctx.figures,
        )
        result.write(stage_dir / "result.json")
        # Outside the stage folder: dvc.yaml declares both, and DVC outputs must not overlap.
        metrics_file = out / "metrics" / f"{name}.json"
        metrics_file.parent.mkdir(exist_ok=True)
        write_text(metrics_file, json.dumps(result.metrics, indent=2, sort_keys=True) + "\n")
        tracking.log_stage_evidence(mlflow_id, stage_dir, result.metrics, result.verdict.value)
        if key and error is None:
            stage_cache.remember(key, mlflow_id)
    run.stages.append(name)
    run.save(out)
    if error is not None:
        raise error
    return result


@dataclass
class Outcome:
    """How a sequence of stages ended: the report written, and the input error or crash that stopped it."""

    report: dict
    error: str | None = None
    crash: BaseException | None = None
    stopped: str | None = None


def report_run(params: Params, out: Path, run: PipelineRun, error: str | None = None, *, over: bool = True) -> dict:
    """Write the report of every stage result in `out` (stages not run are skipped, with the reason), with the
    debug journal's earlier entries and, once the pipeline is `over`, the inputs' column statistics and the
    pictures of the columns its warnings and failures name (`dvc repro` writes a report after every stage: the
    intermediate ones do without, the last one has them)."""
    stages = gates.complete_results(gates.read_results(out), run.run_id, params)
    frames = column_evidence.read_frames(params.inputs) if over else {}
    report = build_report(
        run,
        stages,
        out,
        error=error,
        params=flat(recordable_params(params.model_dump(mode="json"))),
        column_stats=column_evidence.column_stats(frames) if over else None,
        repo=params.root,
    )
    report["column_figures"] = column_evidence.draw(report, frames, out)
    report["seen_before"] = journal.seen_before(report, params.root / journal.JOURNAL_DIR)
    write_report(report, out)
    return report


def run_sequence(
    names: list[str],
    params: Params,
    out: Path,
    run: PipelineRun,
    call: Callable[[str, PipelineRun], StageResult],
    log: Callable[[str], None] = print,
) -> Outcome:
    """Run `names` in order through `call` (the Prefect task, or `execute_stage` directly), stop where the
    gate policy says, then write the report from every result in `out` and close the MLflow parent run
    once the pipeline is over (stopped, or its last stage done)."""
    error: str | None = None
    crash: BaseException | None = None
    stop: str | None = None
    for name in names:
        if not gates.applies(name, params):
            continue
        log(f"stage {name}: start")
        try:
            res = call(name, run)
        except ConfigError as e:
            error, stop = str(e), f"stopped by input error in '{name}'"
            res = StageResult.read(out / name / gates.RESULT_FILE)
        except Exception as e:  # a crashed stage: recorded by execute_stage, reported, re-raised by the caller
            crash, stop = e, f"stopped by crash in '{name}'"
            res = StageResult.read(out / name / gates.RESULT_FILE)
        log(f"stage {name}: {res.verdict.value.upper()} in {res.duration_s:.1f} s")
        if name == "snapshot":
            run = refresh_provenance(run, params, out)
        stop = stop or gates.stop_reason(res, params)
        if stop:
            log(f"{stop}: later stages are skipped")
            break
    over = bool(stop) or names[-1] == STAGES[-1]
    report = report_run(params, out, run, error=error or (f"crash: {crash}" if crash else None), over=over)
    notes = params.root / journal.JOURNAL_DIR
    if over:
        journal.open_entry(report, notes)
    if run.mlflow_run_id and over:
        files = params.inputs.files()
        tracking.log_datasets(run.mlflow_run_id, files, run.provenance.data_hashes, params.inputs.target)
        diagnosis = (report.get("diagnosis") or {}).get("sentence")
        tracking.finish_parent(run.mlflow_run_id, report["status"], out, description=diagnosis)
    return Outcome(report=report, error=error, crash=crash, stopped=stop)
