"""The one Prefect task that runs any stage by name. Retries are for infrastructure faults only:
a failing verdict is a result, and a user's input error is not retried."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.errors import ConfigError
from tasks.params import Params
from tasks.result import StageResult
from tasks.runner import PipelineRun, execute_stage


def _retry_infra_only(task, task_run, state) -> bool:  # noqa: ARG001 (Prefect's signature)
    try:
        state.result()
    except ConfigError:
        return False
    except Exception:
        return True
    return False


def _dask_worker() -> Any:
    """The Dask worker this code runs on, or None (not imported: not on a worker)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.get_worker()
    except ValueError:
        return None


@contextmanager
def _as_in_the_flow(name: str, cwd: str | None) -> Iterator[None]:
    """On a Dask worker: the stage runs in the flow's working directory (relative paths in params and `out` name
    the same files as in the flow's process), with telemetry off; the log names the worker. Inline: nothing."""
    worker = _dask_worker()
    if worker is None or cwd is None:
        yield
        return
    from flows.cli import process_defaults

    process_defaults()  # telemetry off, as in the flow's process (a LocalCluster's workers started so already)
    where = f"Dask worker {worker.address} (pid {os.getpid()} on {socket.gethostname()})"
    if not Path(cwd).is_dir():
        raise ConfigError(
            f"{where}: the project's folder {cwd} is not there; expected every worker to see the project folder at "
            "the same path (a shared filesystem)"
        )
    get_run_logger().info("stage %s on %s", name, where)
    before = os.getcwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_retry_infra_only)
def run_stage(name: str, params: Params, out: Path, run: PipelineRun, cwd: str | None = None) -> StageResult:
    """Run stage `name`; `cwd` (set when submitted to a Dask cluster) is the flow's working directory."""
    with _as_in_the_flow(name, cwd):
        return execute_stage(name, params, out, run)
