"""The one Prefect task that runs any stage by name. Retries are for infrastructure faults only:
a failing verdict is a result, and a user's input error is not retried."""

from __future__ import annotations

from pathlib import Path

from prefect import task
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


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_retry_infra_only)
def run_stage(name: str, params: Params, out: Path, run: PipelineRun) -> StageResult:
    return execute_stage(name, params, out, run)
