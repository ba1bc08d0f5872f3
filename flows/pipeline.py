"""The glassbox flow: the stages in order, each a gate; a failing gate skips the rest; the report is
always written, whatever happened. The sequence itself is tasks/runner.py's, shared with `glassbox stage`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from flows.engine import stage_calls
from flows.notify import after_run, run_artifacts
from tasks.input_files import check_inputs
from tasks.params import STAGES, Params, load_params
from tasks.project_lock import project_lock
from tasks.runner import begin_run, run_sequence
from tasks.tracking import reach_store


@flow(name="glassbox", log_prints=True, validate_parameters=True)
def pipeline(params_path: str = "params.yaml", out: str = "reports/latest"):
    """Walk the seven layers on the current data snapshot and model; returns a Failed state (with the
    report written) when a gate fails, so nightly runs alert through Prefect as well."""
    logger = get_run_logger()
    params = load_params(params_path)
    with project_lock(params.root):  # held already when `glassbox run` started this flow (reentrant)
        return _walk(params, Path(out), logger)


def _walk(params: Params, out_dir: Path, logger: Any) -> State:
    check_inputs(params)  # the inputs' form, before the last run's evidence is replaced (once per process)
    reach_store(params.tracking)  # a stopped tracking server or a locked store: one line naming it
    with stage_calls(params, out_dir) as call:  # inline, or a Dask cluster reached (or started) before the run
        run = begin_run(params, out_dir)
        logger.info("glassbox run %s (MLflow run %s)", run.run_id, run.mlflow_run_id)
        outcome = run_sequence(list(STAGES), params, out_dir, run, call, log=logger.info)
    report = after_run(outcome.report, params, out_dir, logger=logger)  # metrics.prom; the alert when one is due
    run_artifacts(report, logger=logger)  # the verdict table and each stage's findings on the flow run
    logger.info("report: %s  status: %s", (out_dir / "report.html").resolve(), report["status"])
    if outcome.crash is not None:
        raise outcome.crash
    if report["status"] == "failed":
        ff = report["first_failure"] or {}
        return Failed(message=f"gate failed: {ff.get('stage')} / {ff.get('check')}")
    return Completed(message=f"glassbox {report['status']}")
