"""The glassbox flow: the stages in order, each a gate; a failing gate skips the rest; the report is
always written, whatever happened."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed

from flows.stage_task import run_stage
from tasks import tracking
from tasks.params import STAGES, ConfigError, load_params
from tasks.report import build_report, complete_results, write_report
from tasks.result import StageResult, Verdict
from tasks.runner import begin_run, gate_stop, refresh_provenance


@flow(name="glassbox", log_prints=True, validate_parameters=True)
def pipeline(params_path: str = "params.yaml", out: str = "reports/latest"):
    """Walk the seven layers on the current data snapshot and model; returns a Failed state (with the
    report written) when a gate fails, so nightly runs alert through Prefect as well."""
    logger = get_run_logger()
    params = load_params(params_path)
    out_dir = Path(out)
    run = begin_run(params, out_dir)
    logger.info("glassbox run %s (MLflow run %s)", run.run_id, run.mlflow_run_id)
    results: dict[str, StageResult] = {}
    error: str | None = None
    crash: BaseException | None = None
    stop: str | None = None
    for name in STAGES:
        if name == "snapshot" and not params.snapshot.demo:
            results[name] = StageResult(
                name=name,
                verdict=Verdict.skipped,
                reason="own data (snapshot.demo is false)",
                run_id=run.run_id,
            )
            continue
        logger.info("stage %s: start", name)
        t0 = time.perf_counter()
        try:
            res = run_stage.with_options(name=name)(name, params, out_dir, run)
        except ConfigError as e:
            error = str(e)
            res = _recorded(out_dir, name)
            stop = f"stopped by input error in '{name}'"
        except Exception as e:  # a crashed stage: recorded by the runner, reported, then re-raised below
            crash = e
            res = _recorded(out_dir, name)
            stop = f"stopped by crash in '{name}'"
        logger.info("stage %s: %s in %.1f s", name, res.verdict.value.upper(), time.perf_counter() - t0)
        results[name] = res
        if name == "snapshot":
            run = refresh_provenance(run, params, out_dir)
        stop = stop or gate_stop(res, params)
        if stop:
            logger.warning("%s: later stages are skipped", stop)
            break
    stages = complete_results(results, run.run_id, params.gates)
    report = build_report(run, stages, out_dir, error=error or (f"crash: {crash}" if crash else None))
    write_report(report, out_dir)
    if run.mlflow_run_id:
        tracking.finish_parent(run.mlflow_run_id, report["status"], out_dir)
    logger.info("report: %s  status: %s", (out_dir / "report.html").resolve(), report["status"])
    if crash is not None:
        raise crash
    if report["status"] == "failed":
        ff = report["first_failure"] or {}
        return Failed(message=f"gate failed: {ff.get('stage')} / {ff.get('check')}")
    return Completed(message=f"glassbox {report['status']}")


def _recorded(out: Path, name: str) -> StageResult:
    return StageResult.read(out / name / "result.json")
