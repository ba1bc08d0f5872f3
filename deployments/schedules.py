"""The two schedules glassbox runs on, served by `glassbox serve` against a Prefect server.

- `nightly`: the flow on `schedules.nightly_cron` in `schedules.timezone`, so every night's data and traffic
  walk the gates even when nothing was retrained.
- `on-retrain`: the flow whenever a retrain completes, so a new model is judged before anyone relies on it.

The retrain contract (what the on-retrain trigger expects):
- the event `glassbox.retrain.completed` about the resource `glassbox.model.<tracking.registered_model>`.
  Any retrain job sends it with `emit_retrain_completed(...)` (a Prefect event, so it needs PREFECT_API_URL);
  the payload (model URI, version, run id) is informational, shown in Prefect's event feed.
- and, when `schedules.retrain_flow` is set, `prefect.flow-run.Completed` of the Prefect flow of that name,
  so a retrain that is already a Prefect flow needs no code change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import ConfigError
from tasks.params import Params, load_params

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.events import Event

NIGHTLY = "nightly"
ON_RETRAIN = "on-retrain"
RETRAIN_EVENT = "glassbox.retrain.completed"
FLOW_COMPLETED_EVENT = "prefect.flow-run.Completed"
# Both deployments write the same report folder, so the runner runs one flow at a time; a run that arrives
# meanwhile stays scheduled and starts when the slot frees.
RUNS_AT_A_TIME = 1

_START_SERVER = (
    "start one with `prefect server start --host 127.0.0.1` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`"
)


def model_resource_id(registered_model: str) -> str:
    """The Prefect resource id a retrain event is about: one per registered model, so several projects can
    share a Prefect server without triggering each other."""
    return f"glassbox.model.{registered_model}"


def build_deployments(params_path: str, out: str, params: Params) -> list[RunnerDeployment]:
    """The `nightly` (cron) and `on-retrain` (event trigger) deployments of the glassbox flow, both running it
    with these `params_path` and `out`. Raises ConfigError for a cron or timezone Prefect rejects."""
    from prefect.deployments.runner import EntrypointType
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Cron

    from flows.pipeline import pipeline

    s = params.schedules
    if s.retrain_flow == pipeline.name:
        raise ConfigError(
            f"schedules.retrain_flow: {s.retrain_flow!r} is the glassbox flow: each run would start the next"
        )
    parameters = {"params_path": params_path, "out": out}
    common = {"parameters": parameters, "entrypoint_type": EntrypointType.MODULE_PATH, "tags": ["glassbox"]}
    try:
        nightly = pipeline.to_deployment(
            NIGHTLY,
            schedule=Cron(s.nightly_cron, timezone=s.timezone),
            description=f"glassbox gates on cron '{s.nightly_cron}' ({s.timezone})",
            **common,
        )
    except ValueError as e:  # pydantic's ValidationError is a ValueError too
        first = str(e).strip().splitlines()[-1].strip()
        raise ConfigError(f"schedules: {first} (nightly_cron {s.nightly_cron!r}, timezone {s.timezone!r})") from None

    model = params.tracking.registered_model
    triggers = [
        DeploymentEventTrigger(
            name=f"glassbox on-retrain: {RETRAIN_EVENT} for {model}",
            description=f"run glassbox when a retrain of {model} completes",
            expect={RETRAIN_EVENT},
            match={"prefect.resource.id": model_resource_id(model)},
        )
    ]
    if s.retrain_flow:
        triggers.append(
            DeploymentEventTrigger(
                name=f"glassbox on-retrain: flow {s.retrain_flow} completed",
                description=f"run glassbox when a run of the Prefect flow {s.retrain_flow!r} completes",
                expect={FLOW_COMPLETED_EVENT},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": s.retrain_flow},
            )
        )
    on_retrain = pipeline.to_deployment(
        ON_RETRAIN,
        triggers=triggers,
        description=f"glassbox gates after every completed retrain of {model}",
        **common,
    )
    return [nightly, on_retrain]


def emit_retrain_completed(
    registered_model: str,
    *,
    model_uri: str | None = None,
    version: str | None = None,
    run_id: str | None = None,
) -> Event:
    """Tell the Prefect server a retrain of `registered_model` completed, which starts the `on-retrain`
    deployment. Call it at the end of a retrain job; the event is delivered in the background and flushed
    when the process exits."""
    from prefect.events import emit_event
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise ConfigError(f"PREFECT_API_URL is not set, so the retrain event would go nowhere: {_START_SERVER}")
    payload = {"model_uri": model_uri, "version": version, "run_id": run_id}
    event = emit_event(
        event=RETRAIN_EVENT,
        resource={
            "prefect.resource.id": model_resource_id(registered_model),
            "prefect.resource.name": registered_model,
        },
        payload={k: v for k, v in payload.items() if v is not None},
    )
    if event is None:
        raise ConfigError(f"Prefect did not accept the {RETRAIN_EVENT} event (events are disabled for this API)")
    return event


def serve_all(params_path: str, out: str) -> None:
    """Register both deployments on the Prefect server at PREFECT_API_URL and run their flows as they come
    due; blocks until interrupted (schedules are paused on shutdown). The temporary server Prefect starts
    without PREFECT_API_URL lives only as long as this process and cannot schedule, so it is refused."""
    params = load_params(params_path)
    from prefect import serve
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    api_url = get_current_settings().api.url
    if not api_url:
        raise ConfigError(
            f"PREFECT_API_URL is not set; `glassbox serve` needs a running Prefect server: {_START_SERVER}"
        )
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ConfigError(f"no Prefect server answers at {api_url} ({type(problem).__name__}): {_START_SERVER}")
    deployments = build_deployments(str(Path(params_path).resolve()), str(Path(out).resolve()), params)
    with local_only():
        serve(*deployments, limit=RUNS_AT_A_TIME)


# What the runner may open besides its API client, whatever a user's Prefect settings say: its webserver (off
# unless PREFECT_RUNNER_SERVER_ENABLE) on 127.0.0.1 only, and no client metrics server (Prefect's binds 0.0.0.0).
LOCAL_ONLY = {"PREFECT_RUNNER_SERVER_HOST": "127.0.0.1", "PREFECT_CLIENT_METRICS_ENABLED": "false"}


@contextmanager
def local_only() -> Iterator[None]:
    """Prefect's settings in LOCAL_ONLY while `glassbox serve` runs, for this process and the flow runs it starts:
    in the environment (flow-run subprocesses read it), in Prefect's process-wide settings (what the runner's
    webserver thread reads) and in the current settings context. Restored on exit."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_CLIENT_METRICS_ENABLED, PREFECT_RUNNER_SERVER_HOST, temporary_settings

    before = {k: os.environ.get(k) for k in LOCAL_ONLY}
    os.environ.update(LOCAL_ONLY)
    refresh_global_settings_context()
    try:
        with temporary_settings(
            {
                PREFECT_RUNNER_SERVER_HOST: LOCAL_ONLY["PREFECT_RUNNER_SERVER_HOST"],
                PREFECT_CLIENT_METRICS_ENABLED: False,
            }
        ):
            yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        refresh_global_settings_context()
