from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.serving import server as server_module
from tasks.serving.server import ModelServer, ServerFailure, free_port, latency_summary, payload, positive_class, serve


def test_payload_sends_missing_as_null_and_floats_exactly():
    """NaN, None and NaT go out as JSON null, and floats keep every digit: the server sees what we see."""
    x = 0.1 + 0.2  # 0.30000000000000004: lost by a 15-digit encoder
    frame = pd.DataFrame(
        {
            "a": [x, np.nan],
            "b": pd.Series(["u", None], dtype="str"),
            "c": pd.to_datetime(["2013-01-01T05:00:00Z", None], utc=True),
            "d": np.array([1, 2], dtype="int64"),
        }
    )
    body = json.loads(payload(frame))["dataframe_split"]
    assert body["columns"] == ["a", "b", "c", "d"]
    assert body["data"][0][0] == x and body["data"][0][3] == 1
    assert body["data"][1][:3] == [None, None, None]
    assert body["data"][0][2].startswith("2013-01-01T05:00:00")


def test_positive_class_reads_predict_proba_rows():
    """[[p0, p1], ...] answers give p1 per row; nulls give NaN."""
    got = positive_class([[0.25, 0.75], [0.9, 0.1], None], 3)
    assert got[:2].tolist() == [0.75, 0.1] and np.isnan(got[2])


def test_positive_class_wrong_shape_is_nan():
    """An answer with another row count than was sent cannot be matched to rows: every row is NaN."""
    assert np.isnan(positive_class([[0.2, 0.8]], 2)).all()
    assert np.isnan(positive_class(None, 2)).all()


def test_latency_summary_percentiles():
    """p50 and p99 over per-request latencies; no requests gives NaN, not zero."""
    s = latency_summary(list(range(1, 101)))
    assert s["requests"] == 100 and s["p50_ms"] == pytest.approx(50.5) and s["p99_ms"] == pytest.approx(99.01)
    assert np.isnan(latency_summary([])["p99_ms"])


def tiny_model(folder: Path) -> Path:
    """A logged-model folder of a fitted scikit-learn model, as MLflow saves one."""
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    path = folder / "model"
    mlflow.sklearn.save_model(model, path, serialization_format="skops", pip_requirements=["scikit-learn"])
    return path


def test_a_model_that_cannot_be_fetched_is_a_failure_before_any_process(tmp_path, monkeypatch):
    """A model URI the store cannot hand over (a deleted version's files): ServerFailure naming the URI, the
    store's error in the server log, no process started, no fetched files left behind."""
    started: list = []  # the command of any process launch would start
    monkeypatch.setattr(server_module, "serve_command", lambda *a: started.append(a))
    scratch = tmp_path / "tmp"  # where the fetched files would go: tempfile's folder for this test
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    log = tmp_path / "server.log"
    with (
        pytest.raises(ServerFailure, match="could not fetch its model") as e,
        serve(str(tmp_path / "no-such-model"), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=log),
    ):
        pass
    assert "no-such-model" in str(e.value) and e.value.evidence["kind"] == "not_fetched" and not started
    assert "no-such-model" in log.read_text() and not list(scratch.iterdir())


@pytest.mark.slow
def test_server_that_dies_raises_with_its_log(tmp_path):
    """A model whose files are there but that the server cannot load ends the process: a RuntimeError quoting
    the server log."""
    path = tiny_model(tmp_path)
    (path / "MLmodel").write_text("flavors: {}\n")  # no python_function flavor: nothing the server can load
    log = tmp_path / "server.log"
    with (
        pytest.raises(RuntimeError, match="exited with code") as e,
        serve(str(path), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=log),
    ):
        pass
    assert str(path) in str(e.value) and log.is_file()


@pytest.mark.slow
def test_a_forked_server_answers_as_a_fresh_one_in_a_session_of_its_own(tmp_path):
    """The scoring server forked from the preloaded process (tasks/serving/forked.py) and the one started as a
    fresh interpreter (a server with variables of its own, serving.env) load the same model from the same files
    and answer the same rows with the same scores; the forked one leads a session (a process group) of its own,
    as the fresh one does, and both are gone once stopped."""
    from tasks.serving import forked

    path = tiny_model(tmp_path)
    rows = pd.DataFrame({"x": [0.0, 1.5, 3.0]})
    answers, kinds = [], []
    for env in (None, {"GLASSBOX_TEST_VARIABLE": "1"}):
        log = tmp_path / f"{'fresh' if env else 'forked'}.log"
        with serve(str(path), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=log, env=env) as server:
            assert os.getsid(server.process.pid) == os.getpgid(server.process.pid) == server.process.pid
            answer = server.invoke(rows, timeout_s=30)
            assert answer.ok, answer.reason
            answers.append(positive_class(answer.predictions, len(rows)))
            kinds.append(type(server.process))
            process = server.process
        assert process.poll() is not None
    assert kinds == [forked.Forked, subprocess.Popen]
    np.testing.assert_array_equal(answers[0], answers[1])
    assert "(forked from the preloaded process)" in (tmp_path / "forked.log").read_text()
    assert "(a new process)" in (tmp_path / "fresh.log").read_text()


@pytest.mark.slow
def test_a_server_outlives_its_helper_and_the_next_one_gets_a_new_helper(tmp_path):
    """The preloaded helper killed while a server it forked runs: the server still answers, stops as any other
    (its exit known by its absence, the helper that would report its code being gone), and the next server is
    forked from a new helper."""
    from tasks.serving import forked

    path = tiny_model(tmp_path)
    rows = pd.DataFrame({"x": [1.0]})
    with serve(str(path), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=tmp_path / "a.log") as server:
        helper = forked.zygote()
        helper.process.kill()
        helper.process.wait()
        assert server.invoke(rows, timeout_s=30).ok
        process = server.process
    assert process.poll() == forked.UNKNOWN_EXIT
    with serve(str(path), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=tmp_path / "b.log") as server:
        assert isinstance(server.process, forked.Forked) and forked.zygote() is not helper
        assert server.invoke(rows, timeout_s=30).ok


@pytest.mark.slow
def test_a_server_whose_helper_cannot_fork_starts_fresh_and_says_so(tmp_path, monkeypatch):
    """A helper that cannot be reached: the server starts as a fresh interpreter, serves, and its log says why."""
    from tasks.serving import forked

    def unreachable(*args):
        raise OSError("the preloaded server process is gone: broken pipe")

    monkeypatch.setattr(forked, "start_uvicorn", unreachable)
    log = tmp_path / "s.log"
    with serve(str(tiny_model(tmp_path)), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=log) as server:
        assert isinstance(server.process, subprocess.Popen)
        assert server.invoke(pd.DataFrame({"x": [1.0]}), timeout_s=30).ok
    assert "broken pipe; starting a new process instead" in log.read_text()


def test_server_not_up_in_time_raises_and_is_stopped(tmp_path, monkeypatch):
    """A server that does not answer /ping within the timeout is a RuntimeError, and its process is gone (a
    process that never listens: a real server forked from the preloaded one answers within the 0.3 s)."""
    stopped = []
    real_stop = server_module._stop
    monkeypatch.setattr(server_module, "_stop", lambda p: (real_stop(p), stopped.append(p)))
    silent = [sys.executable, "-c", "import time; time.sleep(600)"]
    monkeypatch.setattr(server_module, "serve_command", lambda *a: (silent, {}))  # noqa: ARG005
    port = free_port("127.0.0.1")
    with (
        pytest.raises(RuntimeError, match=r"did not answer /ping within 0\.3 s"),  # the timeout given, not 120 s
        serve(
            str(tiny_model(tmp_path)),
            tracking_uri=f"sqlite:///{tmp_path}/m.db",
            log_path=tmp_path / "s.log",
            port=port,
            startup_timeout_s=0.3,
        ),
    ):
        pass
    assert len(stopped) == 1 and stopped[0].poll() is not None


class _Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  # the name http.server calls
        self.send_response(200 if self.path == "/ping" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def ping_server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _server(url: str) -> ModelServer:
    return ModelServer(model_uri="m", url=url, process=None, log_path=Path("unused"))  # type: ignore[arg-type]


def test_ping_times_a_200_and_is_nan_without_one(ping_server):
    """/ping answered 200: its round trip in ms (finite, positive); no server there: NaN, not an exception."""
    server = _server(ping_server)
    assert np.isfinite(server.ping(timeout_s=30.0)) and server.ping(timeout_s=30.0) > 0
    server.session.close()
    dead = _server(f"http://127.0.0.1:{free_port('127.0.0.1')}")
    assert np.isnan(dead.ping(timeout_s=30.0))


def test_invoke_without_a_server_is_an_answer_not_an_exception():
    """A request that reaches nobody comes back as data: status 0 and the reason."""
    url = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    answer = server_module.invoke(url, pd.DataFrame({"x": [1.0]}), timeout_s=30.0)
    assert answer.status == 0 and not answer.ok and answer.reason.startswith("no answer")


def test_shared_cpus_picks_that_many_or_none():
    """`count` of the CPUs this process may use; None when pinning is off or would restrict nothing."""
    assert server_module.shared_cpus(None) is None
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this OS")
    allowed = os.sched_getaffinity(0)
    assert server_module.shared_cpus(len(allowed)) is None
    if len(allowed) > 1:
        one = server_module.shared_cpus(1)
        assert one is not None and len(one) == 1 and one <= allowed


# A server stand-in: a child process and a thread of its own; on a line from stdin, a new thread reports its CPUs.
GROUP = """
import os, subprocess, sys, threading, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
print(child.pid, flush=True)
sys.stdin.readline()
seen = []
late = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))
late.start()
late.join()
print(seen[0], flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="one CPU")
def test_pin_restricts_every_process_and_thread_of_the_server(tmp_path):
    """Pinned once it answers: every thread of the server's process and of the processes it started is
    restricted to the CPUs, and a thread started after that inherits them; this process is left as it was."""
    cpu = min(os.sched_getaffinity(0))
    mine = os.sched_getaffinity(0)
    proc = subprocess.Popen(
        [sys.executable, "-c", GROUP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        child = int(proc.stdout.readline())
        server = ModelServer(model_uri="m", url="http://127.0.0.1:1", process=proc, log_path=tmp_path)
        server_module.pin(server, frozenset({cpu}))
        threads = [int(t.name) for pid in (proc.pid, child) for t in Path(f"/proc/{pid}/task").iterdir()]
        assert len(threads) >= 3 and all(os.sched_getaffinity(t) == {cpu} for t in threads)
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == f"[{cpu}]"
        assert os.sched_getaffinity(0) == mine
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_server_env_adds_serving_env_over_glassbox_own(monkeypatch):
    """serving.env reaches the model server's environment on top of glassbox's, and the tracking store stays set."""
    from tasks.serving.server import server_env

    monkeypatch.setenv("FEATURES_VERSION", "1")
    env = server_env("sqlite:///x.db", {"FEATURES_VERSION": "2", "OMP_NUM_THREADS": "1"})
    assert env["FEATURES_VERSION"] == "2" and env["OMP_NUM_THREADS"] == "1"
    assert env["MLFLOW_TRACKING_URI"] == "sqlite:///x.db" and server_env("sqlite:///x.db")["FEATURES_VERSION"] == "1"


def test_launch_refuses_any_host_but_localhost(tmp_path):
    """A model server is never started on another address (0.0.0.0, a LAN name): ValueError before any process."""
    for host in ("0.0.0.0", "localhost", "::"):
        with pytest.raises(ValueError, match="127.0.0.1 only"):
            server_module.launch(
                "models:/m@champion", tracking_uri="sqlite:///x.db", log_path=tmp_path / "s.log", host=host
            )
    assert not (tmp_path / "s.log").exists()


@pytest.mark.slow
def test_model_server_listens_on_localhost_only(tmp_path):
    """`mlflow models serve` started as the serving and deployment stages start it listens on 127.0.0.1 and on
    no other address (the sockets of the server and every process it spawned, as the OS reports them)."""
    from tests.listening import listening, not_local

    path = tiny_model(tmp_path)
    with serve(str(path), tracking_uri=f"sqlite:///{tmp_path}/m.db", log_path=tmp_path / "s.log") as server:
        sockets = listening(server.process.pid)
        port = int(server.url.rsplit(":", 1)[1])
    assert ("127.0.0.1", port) in sockets and not not_local(sockets), sockets
