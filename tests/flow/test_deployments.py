"""The two schedules: `nightly` (cron) and `on-retrain` (event triggers), built in-process and served by
`glassbox serve` on a real local Prefect server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from deployments.schedules import (
    FLOW_COMPLETED_EVENT,
    NIGHTLY,
    ON_RETRAIN,
    RETRAIN_EVENT,
    build_deployments,
    local_only,
    model_resource_id,
)
from tasks.errors import ConfigError
from tasks.params import Params, SchedulesParams, load_params
from tests.listening import listening, not_local

ROOT = Path(__file__).resolve().parents[2]
REPO_PARAMS = ROOT / "params.yaml"
MODEL = "glassbox-test-model"
RETRAIN_FLOW = "retrain-demo"
CRON, TZ = "30 3 * * 1-5", "Europe/Paris"
T = TypeVar("T")


def _params(tmp_path: Path, **schedules: object) -> Path:
    """The repo's params.yaml with this test's model name and schedules, written under tmp_path."""
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    raw["tracking"]["registered_model"] = MODEL
    raw["schedules"] = schedules
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _env(prefect_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        DVC_NO_ANALYTICS="1",
        **extra,
    )
    return env


def _poll(what: str, probe: Callable[[], T | None], deadline_s: float, alive: list[subprocess.Popen]) -> T:
    """Call `probe` until it returns something, a watched process dies, or the deadline passes."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for p in alive:
            assert p.poll() is None, f"process {p.args} exited with {p.returncode} while waiting for {what}"
        got = probe()
        if got is not None:
            return got
        time.sleep(0.25)  # poll interval, not a wait: the loop is bounded by the deadline
    raise AssertionError(f"no {what} within {deadline_s} s")


def _stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group, then SIGKILL what is left after a grace period."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


def test_build_deployments_cron_and_triggers(tmp_path: Path) -> None:
    """nightly carries the cron and timezone from params, on-retrain one trigger per retrain signal, and
    both run the flow with the given params path and out folder."""
    params = load_params(_params(tmp_path, nightly_cron=CRON, timezone=TZ, retrain_flow=RETRAIN_FLOW))
    nightly, on_retrain = build_deployments("/p/params.yaml", "/p/out", params)
    assert (nightly.name, on_retrain.name) == (NIGHTLY, ON_RETRAIN)
    (sched,) = nightly.schedules
    assert (sched.schedule.cron, sched.schedule.timezone) == (CRON, TZ)
    assert nightly.triggers == [] and on_retrain.schedules == []
    assert nightly.parameters == on_retrain.parameters == {"params_path": "/p/params.yaml", "out": "/p/out"}
    event, flow_done = on_retrain.triggers
    assert event.expect == {RETRAIN_EVENT}
    assert event.match.model_dump() == {"prefect.resource.id": model_resource_id(MODEL)}
    assert flow_done.expect == {FLOW_COMPLETED_EVENT}
    assert flow_done.match_related.model_dump() == {
        "prefect.resource.role": "flow",
        "prefect.resource.name": RETRAIN_FLOW,
    }


def test_build_deployments_without_retrain_flow_has_only_the_event_trigger(tmp_path: Path) -> None:
    """With no retrain_flow, only the glassbox.retrain.completed event starts on-retrain."""
    params = load_params(_params(tmp_path))
    _, on_retrain = build_deployments("p", "o", params)
    assert [t.expect for t in on_retrain.triggers] == [{RETRAIN_EVENT}]


@pytest.mark.parametrize(
    ("schedules", "says"),
    [
        ({"nightly_cron": "0 25 * * *"}, "Invalid cron string"),
        ({"retrain_flow": "glassbox"}, "is the glassbox flow"),
    ],
)
def test_build_deployments_rejects_what_prefect_cannot_run(tmp_path: Path, schedules: dict, says: str) -> None:
    """A cron Prefect rejects, or glassbox itself as retrain flow (a loop), is a one-line ConfigError."""
    params = load_params(_params(tmp_path, **schedules))
    with pytest.raises(ConfigError, match=says) as e:
        build_deployments("p", "o", params)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("schedules", "key"),
    [
        ({"nightly_cron": "0 2 * *"}, "schedules.nightly_cron"),
        ({"timezone": "Mars/Olympus"}, "schedules.timezone"),
    ],
)
def test_params_reject_bad_schedules(tmp_path: Path, schedules: dict, key: str) -> None:
    """A cron without five fields or an unknown timezone fails when params load, naming the key."""
    with pytest.raises(ConfigError, match=key):
        load_params(_params(tmp_path, **schedules))


def test_schedules_defaults() -> None:
    """Left out, the section means nightly at 02:00 UTC and no retrain flow."""
    s = Params.model_validate({"inputs": {"train": "a", "test": "b", "current": "c", "target": "y"}}).schedules
    assert s == SchedulesParams(nightly_cron="0 2 * * *", timezone="UTC", retrain_flow=None)


@pytest.mark.parametrize("api", ["unset", "nobody-listening"])
def test_serve_refuses_without_a_server(tmp_path: Path, api: str) -> None:
    """`glassbox serve` with no PREFECT_API_URL, or one where no server answers, exits 2 with one line
    saying how to start a server (instead of Prefect's temporary server, which cannot schedule)."""
    extra = {} if api == "unset" else {"PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api"}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "serve", "--params", str(_params(tmp_path))],
        cwd=tmp_path,
        env=_env(tmp_path / "prefect_home", **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "prefect server start" in lines[0], done.stderr


def test_serve_keeps_prefect_servers_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a user's Prefect settings say, inside `glassbox serve` the runner's webserver binds 127.0.0.1 and
    Prefect's client metrics server (it binds 0.0.0.0) is off: in this thread, in a new thread (where the runner
    starts its webserver) and in the environment flow-run subprocesses get; the user's settings come back after."""
    from prefect.settings import PREFECT_CLIENT_METRICS_ENABLED, PREFECT_RUNNER_SERVER_HOST, Settings

    def seen() -> tuple[str, bool]:
        return PREFECT_RUNNER_SERVER_HOST.value(), PREFECT_CLIENT_METRICS_ENABLED.value()

    monkeypatch.setenv("PREFECT_RUNNER_SERVER_HOST", "0.0.0.0")
    monkeypatch.setenv("PREFECT_CLIENT_METRICS_ENABLED", "true")
    with local_only():
        in_thread: list[tuple[str, bool]] = []
        thread = threading.Thread(target=lambda: in_thread.append(seen()))
        thread.start()
        thread.join()
        fresh = Settings()
        assert seen() == in_thread[0] == ("127.0.0.1", False)
        assert (fresh.runner.server.host, fresh.client.metrics.enabled) == ("127.0.0.1", False)
    assert seen() == ("0.0.0.0", True) and os.environ["PREFECT_RUNNER_SERVER_HOST"] == "0.0.0.0"
    # leave Prefect's process-wide settings as the environment will be after this test, not with the user's
    # settings of this test in them (a later flow in this process started a metrics server on 0.0.0.0 from them)
    monkeypatch.undo()
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


@pytest.mark.slow
def test_serve_registers_both_deployments_on_a_real_server(tmp_path: Path) -> None:
    """On a real Prefect server, `glassbox serve` registers nightly with the params' cron (and the server's
    scheduler books its runs at that local time) and on-retrain with one automation per retrain signal, each
    running on-retrain; the retrain event of this model and a completed run of the retrain flow each create
    an on-retrain flow run, the event of another model none. Runs are created, not executed: the runner's
    poll interval is set beyond the test's length so no pipeline starts. Asked by the user's settings to serve
    its webserver on 0.0.0.0 and Prefect's client metrics, `glassbox serve` listens on 127.0.0.1 only."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.events.actions import RunDeployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    t_start = time.monotonic()
    params_path = _params(tmp_path, nightly_cron=CRON, timezone=TZ, retrain_flow=RETRAIN_FLOW)
    out = tmp_path / "out"
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    start = ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = serve = None
    try:
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "prefect", *start],
                cwd=tmp_path,
                env=_env(
                    tmp_path / "server_home",
                    PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
                    PREFECT_UI_ENABLED="false",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def healthy() -> bool | None:
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200 or None
            except httpx.HTTPError:
                return None

        try:
            _poll("server health", healthy, 90, [server])
        except AssertionError as e:
            raise AssertionError(f"{e}\n{_tail(server_log)}") from None
        t_server = time.monotonic() - t_start

        client_env = _env(tmp_path / "client_home", PREFECT_API_URL=api)
        # a user's settings that would open the runner's webserver and Prefect's client metrics to the network
        runner_port, metrics_port = _free_port(), _free_port()
        exposed = {
            "PREFECT_RUNNER_SERVER_ENABLE": "true",
            "PREFECT_RUNNER_SERVER_HOST": "0.0.0.0",
            "PREFECT_RUNNER_SERVER_PORT": str(runner_port),
            "PREFECT_CLIENT_METRICS_ENABLED": "true",
            "PREFECT_CLIENT_METRICS_PORT": str(metrics_port),
        }
        with serve_log.open("wb") as log:
            serve = subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "serve", "--params", str(params_path), "--out", str(out)],
                cwd=tmp_path,
                env={**client_env, **exposed, "PREFECT_RUNNER_POLL_FREQUENCY": "3600"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        t_serve0 = time.monotonic()

        with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:

            def deployment(name: str):
                def probe():
                    try:
                        return client.read_deployment_by_name(f"glassbox/{name}")
                    except ObjectNotFound:
                        return None

                return probe

            try:
                nightly = _poll("nightly deployment", deployment(NIGHTLY), 60, [server, serve])
                on_retrain = _poll("on-retrain deployment", deployment(ON_RETRAIN), 30, [server, serve])
            except AssertionError as e:
                raise AssertionError(f"{e}\n{_tail(serve_log)}") from None

            def automations():
                found = client.read_resource_related_automations(f"prefect.deployment.{on_retrain.id}")
                return found if len(found) >= 2 else None

            related = _poll("both on-retrain automations", automations, 30, [server, serve])
            t_registered = time.monotonic() - t_serve0

            # what `glassbox serve` listens on: the runner's webserver on 127.0.0.1 only, no client metrics server
            def runner_listens():
                sockets = listening(serve.pid)
                return sockets if any(port == runner_port for _, port in sockets) else None

            sockets = _poll("the runner's webserver", runner_listens, 30, [server, serve])
            assert ("127.0.0.1", runner_port) in sockets and not not_local(sockets), sockets
            assert all(port != metrics_port for _, port in sockets), sockets

            # nightly: the cron and timezone from params, active, running the flow with these params
            (sched,) = nightly.schedules
            assert (sched.schedule.cron, sched.schedule.timezone, sched.active) == (CRON, TZ, True)
            assert nightly.parameters == {"params_path": str(params_path), "out": str(out)}
            assert nightly.entrypoint == "flows.pipeline.pipeline"
            assert on_retrain.schedules == []

            # the server's scheduler books nightly runs at 03:30 Paris time on weekdays
            def nightly_runs():
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[nightly.id]))
                )
                return runs or None

            booked = _poll("scheduled nightly runs", nightly_runs, 20, [server, serve])
            for run in booked:
                local = run.expected_start_time.astimezone(ZoneInfo(TZ))
                assert (local.hour, local.minute) == (3, 30) and local.weekday() < 5, local

            # on-retrain: one automation per signal, each running this deployment
            by_expect = {frozenset(a.trigger.expect): a for a in related}
            assert set(by_expect) == {frozenset({RETRAIN_EVENT}), frozenset({FLOW_COMPLETED_EVENT})}
            event_auto = by_expect[frozenset({RETRAIN_EVENT})]
            flow_auto = by_expect[frozenset({FLOW_COMPLETED_EVENT})]
            assert event_auto.trigger.match.model_dump() == {"prefect.resource.id": model_resource_id(MODEL)}
            assert flow_auto.trigger.match_related.model_dump() == {
                "prefect.resource.role": "flow",
                "prefect.resource.name": RETRAIN_FLOW,
            }
            for a in related:
                assert a.enabled
                (action,) = a.actions
                assert isinstance(action, RunDeployment)
                assert (action.source, action.deployment_id) == ("selected", on_retrain.id)

            # fire each signal: another model's event (ignored), this model's event, a completed retrain flow
            t_fire = time.monotonic()
            fire = (
                "from prefect import flow\n"
                "from deployments.schedules import emit_retrain_completed\n"
                "emit_retrain_completed('some-other-model', version='9')\n"
                f"emit_retrain_completed({MODEL!r}, model_uri='models:/m-test', version='3')\n"
                f"@flow(name={RETRAIN_FLOW!r})\n"
                "def retrain() -> None:\n"
                "    pass\n"
                "retrain()\n"
            )
            done = subprocess.run(
                [sys.executable, "-c", fire],
                cwd=tmp_path,
                env=client_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr[-3000:]

            def triggered_runs():
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[on_retrain.id]))
                )
                return runs if len(runs) >= 2 else None

            runs = _poll("two on-retrain flow runs", triggered_runs, 30, [server, serve])
            t_triggered = time.monotonic() - t_fire
            creators = sorted((r.created_by.type, str(r.created_by.id)) for r in runs if r.created_by)
            assert len(runs) == 2, creators
            assert creators == sorted([("AUTOMATION", str(event_auto.id)), ("AUTOMATION", str(flow_auto.id))])
            assert all(r.parameters == {"params_path": str(params_path), "out": str(out)} for r in runs)
        print(
            f"\n[timings] server up {t_server:.1f} s, serve registered both {t_registered:.1f} s, "
            f"signals to runs {t_triggered:.1f} s, total {time.monotonic() - t_start:.1f} s"
        )
    finally:
        _stop(serve)
        _stop(server)
