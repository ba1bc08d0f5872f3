"""Where the flow runs its stages (params `engine`): how `run_sequence` calls one.

`default`: the stage task is called in the flow's own process, as it always was. `dask`: the same task is
submitted to a Dask cluster and runs on a worker process; the flow waits for its result before the gate policy
decides about the next stage, so the order and the gating are the same. The cluster is a `distributed.LocalCluster`
started for the run on 127.0.0.1 (worker processes of one thread, no dashboard) and closed after it, or the
running scheduler at `engine.dask_address`.

The task runner is built here, from the params this run read, rather than given to the flow's decorator: Prefect
binds a flow's task runner when the flow is defined, and `glassbox serve`'s deployments load the flow by its
module path, so a runner chosen at a call site would not reach them, and a params change would not reach a
deployment already served. Inside the flow the stage is submitted to this runner exactly as `task.submit()`
submits to the flow's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks import gates
from tasks.errors import ConfigError
from tasks.params import EngineParams, Params
from tasks.redact import scrubbed
from tasks.result import Finding, Severity, StageResult, verdict_of
from tasks.runner import PipelineRun

if TYPE_CHECKING:
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

StageCall = Callable[[str, PipelineRun], StageResult]
LOCALHOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 30.0  # a scheduler that does not answer, or has no worker, within this: one line, exit 2
# The one-thread caps Dask's nanny puts on numeric libraries in every worker by default (so that many tasks share
# the cores). Stages run one at a time: a LocalCluster's worker gets the threads the flow's process would have.
THREAD_CAPS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def worker_env() -> dict[str, str]:
    """What every worker process of the LocalCluster starts with: telemetry off and Prefect's client metrics
    server (which would bind 0.0.0.0) off, as in the flow's process; a value the user set wins, as there."""
    from flows.cli import OFFLINE_ENV

    env = {k: os.environ.get(k, v) for k, v in OFFLINE_ENV.items()}
    env["PREFECT_CLIENT_METRICS_ENABLED"] = "false"
    return env


def cluster_kwargs(engine: EngineParams) -> dict[str, Any]:
    """The LocalCluster of a run: worker processes of one thread on 127.0.0.1 (scheduler, nannies and workers
    listen there only), no dashboard, no per-worker memory ceiling (a stage has the machine, as in the flow's
    process: the nanny would otherwise kill a worker at 95% of total/n_workers)."""
    return {
        "n_workers": engine.dask_workers,
        "threads_per_worker": 1,
        "processes": True,
        "host": LOCALHOST,
        "protocol": "tcp://",
        "dashboard_address": None,
        "worker_dashboard_address": None,
        "memory_limit": 0,
        "env": worker_env(),
    }


def local_cluster(**kwargs: Any) -> LocalCluster:
    """distributed's LocalCluster, its workers spawned without the nanny's numeric-library thread caps."""
    import dask
    from distributed import LocalCluster  # first: it loads distributed's defaults into dask.config

    spawn = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items() if k not in THREAD_CAPS}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn}):
        return LocalCluster(**kwargs)


def task_runner(engine: EngineParams) -> DaskTaskRunner:
    """prefect-dask's runner for `engine`: the scheduler at dask_address, or a LocalCluster of its own."""
    from prefect_dask import DaskTaskRunner

    if engine.dask_address:
        return DaskTaskRunner(address=engine.dask_address, client_kwargs={"timeout": CONNECT_TIMEOUT_S})
    return DaskTaskRunner(cluster_class=local_cluster, cluster_kwargs=cluster_kwargs(engine))


def _unreachable(engine: EngineParams, e: BaseException) -> ConfigError:
    first = scrubbed(str(e).strip()).splitlines()[0][:300] if str(e).strip() else ""
    return ConfigError(
        f"engine.dask_address {engine.dask_address}: {type(e).__name__}: {first}; expected a running Dask scheduler "
        f"with at least one worker answering within {CONNECT_TIMEOUT_S:g} s"
    )


def _prefect_reachable(engine: EngineParams) -> None:
    """A worker reports its task run to the flow's Prefect API. Prefect's temporary server (no PREFECT_API_URL)
    listens on this machine's 127.0.0.1 only: enough for a scheduler here, not for workers elsewhere."""
    from urllib.parse import urlsplit

    from prefect.settings import get_current_settings

    if urlsplit(engine.dask_address).hostname in ("127.0.0.1", "localhost", "::1") or get_current_settings().api.url:
        return
    raise ConfigError(
        f"engine.dask_address {engine.dask_address}: workers on another machine cannot reach Prefect's temporary "
        "server (it listens on 127.0.0.1 here); expected PREFECT_API_URL naming a Prefect server they reach too"
    )


def reach_cluster(engine: EngineParams, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """The scheduler at `engine.dask_address` answers and has a worker, and its workers can report to Prefect,
    checked before a run starts (else a run would wait on a stage no worker takes). A LocalCluster is started by
    the run itself: nothing to check."""
    if engine.task_runner != "dask" or engine.dask_address is None:
        return
    _prefect_reachable(engine)
    from distributed import Client

    try:
        with Client(engine.dask_address, timeout=timeout_s, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=timeout_s)
    except Exception as e:  # OSError (refused, timed out), TimeoutError (no worker), a TLS or version error
        raise _unreachable(engine, e) from None


@contextmanager
def _settings_for_workers() -> Iterator[None]:
    """The Prefect settings a submitted task carries to its worker (they override the worker's environment).
    Prefect's temporary server (no PREFECT_API_URL) is known to this process's client only: the settings name it,
    so the stage's task run is recorded on the flow's server (a worker left without it would start a temporary
    server of its own). Client metrics are off whatever this process's settings say: each worker would start the
    metrics server on the one configured port, on 0.0.0.0, and the second worker's stage died on 'Address already
    in use' (a fresh clone's test process whose settings another test had turned it on in)."""
    from prefect.context import FlowRunContext
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_METRICS_ENABLED,
        get_current_settings,
        temporary_settings,
    )

    updates: dict = {PREFECT_CLIENT_METRICS_ENABLED: False}
    if not get_current_settings().api.url:
        updates[PREFECT_API_URL] = str(FlowRunContext.get().client.api_url)
    with temporary_settings(updates=updates):
        yield


def _follow(run: PipelineRun, out: Path) -> None:
    """The worker recorded the stage on its copy of the run and saved it (run.json): the flow's copy follows, as
    when execute_stage appends to the very object the flow holds."""
    saved = PipelineRun.load(out)
    if saved is not None and saved.run_id == run.run_id:
        run.stages[:] = saved.stages


def _record_unrun(name: str, out: Path, run: PipelineRun, error: BaseException) -> None:
    """A stage that never recorded a result in this run (the cluster lost its worker, the worker could not
    reach the project folder): its result says why, so the report is written as for any crash."""
    path = out / name / gates.RESULT_FILE
    try:
        if StageResult.read(path).run_id == run.run_id:
            return
    except (OSError, ValueError):
        pass
    if isinstance(error, ConfigError):
        finding = Finding(check="input_error", severity=Severity.fail, message=str(error))
    else:
        msg = f"stage did not run on the Dask cluster: {type(error).__name__}: {scrubbed(str(error))}"
        finding = Finding(check="stage_error", severity=Severity.fail, message=msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    StageResult(
        name=name, verdict=verdict_of([finding]), findings=[finding], artifacts=[gates.RESULT_FILE], run_id=run.run_id
    ).write(path)


@contextmanager
def stage_calls(params: Params, out: Path) -> Iterator[StageCall]:
    """How `run_sequence` calls a stage for this run: the stage task inline (`default`), or submitted to the Dask
    cluster and waited for (`dask`; the cluster is reached or started on entry, closed on exit)."""
    from flows.stage_task import run_stage

    if params.engine.task_runner == "default":
        yield lambda name, run: run_stage.with_options(name=name)(name, params, out, run)
        return
    if params.engine.dask_address:
        _prefect_reachable(params.engine)
    with task_runner(params.engine) as runner:
        try:
            runner.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except Exception as e:
            if params.engine.dask_address:
                raise _unreachable(params.engine, e) from None
            raise
        cwd = str(Path.cwd())

        def call(name: str, run: PipelineRun) -> StageResult:
            stage = run_stage.with_options(name=name)
            try:
                with _settings_for_workers():
                    future = runner.submit(stage, {"name": name, "params": params, "out": out, "run": run, "cwd": cwd})
                return future.result()
            except Exception as e:
                _record_unrun(name, out, run, e)
                raise
            finally:
                _follow(run, out)

        yield call
