"""A model server that dies mid-replay, never comes up, hangs or cannot be reached: a clear `model_server` failure
with the server's log as evidence, bounded retries, no hang. The server is tests/unit/fake_model_server.py, a real
process started by the real launch/wait_ready/stop in place of `mlflow models serve` (no model loads: fast)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tasks.deployment import stage as deployment
from tasks.result import Severity
from tasks.serving import server as server_module
from tasks.serving import stage as serving
from tasks.serving.server import SERVER_CHECK, PortInUse, ServerFailure, serve
from tests.unit.test_deployment_stage import _gates_passed, _holder
from tests.unit.test_serving_stage import context, train_tiny

FAKE = Path(__file__).with_name("fake_model_server.py")
ROW = pd.DataFrame({"x": [1.0]})


@pytest.fixture
def fake(monkeypatch):
    """Make every model server glassbox launches the fake one, failing as `mode` with `n`."""

    def use(mode: str, n: int = 0) -> None:
        def command(model_path, host, port, workers):  # noqa: ARG001 (serve_command's signature)
            return [sys.executable, str(FAKE), str(port), mode, str(n)], {}

        monkeypatch.setattr(server_module, "fetch_model", lambda uri, tracking_uri, dest: dest)  # noqa: ARG005
        monkeypatch.setattr(server_module, "serve_command", command)

    return use


@pytest.fixture
def sends(monkeypatch) -> list[int]:
    """Counts the HTTP requests the client sends to /invocations (attempts, retries included)."""
    sent: list[int] = []
    real = server_module.send

    def counting(*args, **kwargs):
        sent.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(server_module, "send", counting)
    return sent


def served(tmp_path: Path, **kwargs):
    settings = {"startup_timeout_s": 60.0, "request_retries": 2, "retry_wait_s": 0.05, **kwargs}
    return serve("models:/m/1", tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=tmp_path / "s.log", **settings)


def test_server_exiting_before_ready_is_a_failure_naming_the_code_and_the_log(fake, tmp_path):
    """A server that exits before /ping answers: a `model_server` fail finding whose message names the exit code
    and the log's last line, with the log's tail as evidence, and the process is gone."""
    fake("exit", 3)
    with pytest.raises(ServerFailure) as e, served(tmp_path):
        pass
    f = e.value.finding()
    assert f.check == SERVER_CHECK and f.severity is Severity.fail
    assert "models:/m/1 exited with code 3 before answering /ping" in f.message
    assert "the model cannot be loaded" in f.message and "the model cannot be loaded" in f.evidence["log_tail"]
    assert f.evidence["exit_code"] == 3 and f.evidence["kind"] == "exited"


def test_port_taken_is_an_infrastructure_fault_not_a_verdict(fake, tmp_path):
    """A server that exits because its port is taken raises PortInUse (the stage crashes, the orchestrator
    retries it), not a ServerFailure verdict on the model."""
    fake("port-clash")
    with pytest.raises(PortInUse, match="address already in use") as e, served(tmp_path):
        pass
    assert not isinstance(e.value, ServerFailure)


def test_server_killed_mid_replay_fails_naming_the_signal_without_retrying(fake, sends, tmp_path):
    """A server SIGKILLed during a request: the request raises a failure naming the signal and how many requests
    were answered before; its dead process is not asked again."""
    fake("die", 2)
    with served(tmp_path) as server:
        assert server.invoke(ROW, timeout_s=30.0).ok and server.invoke(ROW, timeout_s=30.0).ok
        with pytest.raises(ServerFailure, match=r"exited with code -9 \(SIGKILL\) after 2 answered requests") as e:
            server.invoke(ROW, timeout_s=30.0)
    assert len(sends) == 3 and e.value.evidence["requests_answered"] == 2
    assert "request 3: die" in e.value.evidence["log_tail"]


def test_hung_request_fails_after_the_request_timeout_without_retrying(fake, sends, tmp_path):
    """A server alive but silent: the request fails once `request_timeout_s` passes, saying so, and is not sent
    again (a hung server would hold every retry as long); stopping the server still works."""
    fake("hang", 1)
    with served(tmp_path) as server:
        assert server.invoke(ROW, timeout_s=30.0).ok
        with pytest.raises(ServerFailure, match=r"did not answer a request within 0.5 s \(process still running\)"):
            server.invoke(ROW, timeout_s=0.5)
    assert len(sends) == 2 and server.process.poll() is not None


def test_refused_connection_is_retried_a_bounded_number_of_times(fake, sends, tmp_path):
    """A server whose process runs but no longer listens: the request is tried 1 + `request_retries` times, then
    fails saying it could not be reached after that many attempts."""
    fake("close", 1)
    with served(tmp_path, request_retries=2) as server:
        assert server.invoke(ROW, timeout_s=30.0).ok
        with pytest.raises(ServerFailure, match="could not be reached after 3 attempts .*: Connection refused") as e:
            server.invoke(ROW, timeout_s=30.0)
    assert len(sends) == 1 + 3 and e.value.evidence["kind"] == "unreachable"


def test_a_dropped_connection_is_retried_and_answered(fake, sends, tmp_path):
    """A connection closed without an answer while the process runs is tried again, and the answer counts."""
    fake("drop", 1)
    with served(tmp_path, request_retries=1) as server:
        answer = server.invoke(ROW, timeout_s=30.0)
    assert answer.ok and answer.predictions == [[0.5, 0.5]] and len(sends) == 2 and server.answered == 1


# --- the stages -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    previous = mlflow.get_tracking_uri()
    tmp = tmp_path_factory.mktemp("dead_server")
    params, ref, _ = train_tiny(tmp)
    yield params, ref, tmp
    mlflow.set_tracking_uri(previous)


def _with_serving(params, **serving):
    return params.model_copy(update={"serving": params.serving.model_copy(update=serving)})


@pytest.mark.parametrize(
    ("mode", "n", "concurrency", "what"),
    [
        ("exit", 3, 2, "exited with code 3 before answering /ping"),
        # one request at a time, so the count of answers before the kill is exact
        ("die", 2, 1, "exited with code -9 (SIGKILL) after 2 answered requests"),
        ("die", 2, 2, "exited with code -9 (SIGKILL) after"),
        ("hang", 1, 2, "did not answer a request within 0.5 s"),
    ],
)
def test_serving_stage_ends_in_a_model_server_failure(fake, tiny, tmp_path, mode, n, concurrency, what):
    """The serving stage whose server never comes up, is killed mid-replay or hangs returns (does not raise) one
    `model_server` fail finding saying what happened, with the log's tail; the log is kept, and no inference log
    or store entry is written from the partial replay; with requests in flight at once as well."""
    params, ref, tmp = tiny
    params = _with_serving(params, request_timeout_s=0.5, retry_wait_s=0.05, concurrency=concurrency)
    params = params.model_copy(update={"monitoring": params.monitoring.model_copy(update={"store": tmp_path / "st"})})
    (tmp_path / "out" / "training").mkdir(parents=True)
    ref.write(tmp_path / "out" / "training")
    fake(mode, n)
    out = serving.run(context(params, tmp_path, "serving"))
    [f] = out.findings
    assert f.check == SERVER_CHECK and f.severity is Severity.fail and what in f.message, f.message
    assert "fake model server on port" in f.evidence["log_tail"]
    assert out.artifacts == [serving.SERVER_LOG] and (tmp_path / "out" / "serving" / serving.SERVER_LOG).is_file()
    assert not (tmp_path / "out" / "serving" / serving.LOG_FILE).exists() and not (tmp_path / "st").exists()


@pytest.mark.parametrize(
    ("mode", "n", "what"),
    [("exit", 3, "exited with code 3 before answering /ping"), ("die", 1, "after 1 answered request;")],
)
def test_deployment_with_a_failed_model_server_is_not_promoted(fake, tiny, mode, n, what):
    """The candidate's server never comes up, or dies after its first answer: the deployment stage returns a
    `model_server` fail finding with the log's tail, the version stays registered but unpromoted, the alias
    does not move."""
    params, _, tmp = tiny
    _gates_passed(tmp / "out")
    before = _holder(params)
    fake(mode, n)
    out = deployment.run(context(params, tmp, "deployment"))
    by_check = {f.check: f for f in out.findings}
    failure = by_check[SERVER_CHECK]
    assert failure.severity is Severity.fail and what in failure.message and failure.evidence["log_tail"]
    assert "not promoted" in by_check["promotion"].message and out.metrics["promoted"] == 0.0
    record = json.loads((tmp / "out" / "deployment" / deployment.REGISTERED_FILE).read_text())
    assert record["promoted"] is False and record["version"] is not None and _holder(params) == before
