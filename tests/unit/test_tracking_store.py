"""The MLflow store is reached before a run starts: a locked SQLite file, a stopped tracking server or a server
that is not MLflow is one line naming the store (credentials dropped), within the configured wait, not MLflow's
four minutes of retries or a crash midway; nothing of the last run is touched."""

from __future__ import annotations

import http.server
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import yaml

from tasks.errors import ConfigError
from tasks.params import Tracking
from tasks.tracking import reach_store
from tests.conftest import REPO


@contextmanager
def _locked(db: Path) -> Iterator[None]:
    """Another connection holds the write lock (SQLite's locks are per connection, so one in this process does)."""
    with closing(sqlite3.connect(db, isolation_level=None)) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (x)")
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (1)")
        yield
        con.execute("ROLLBACK")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_free_sqlite_store_is_reached_and_left_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    reach_store(Tracking(tracking_uri=f"sqlite:///{db}", artifact_root=tmp_path / "art"))
    reach_store(Tracking(tracking_uri=f"sqlite:///{db}", artifact_root=tmp_path / "art"))  # a second time: as is
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_a_locked_sqlite_store_is_named(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    with _locked(db), pytest.raises(ConfigError, match=r"MLflow store sqlite:///.*mlflow\.db: locked by another"):
        reach_store(Tracking(tracking_uri=f"sqlite:///{db}", store_timeout_s=0.5))


def test_a_stopped_tracking_server_is_named_without_its_credentials() -> None:
    uri = f"http://alice:s3cret@127.0.0.1:{_closed_port()}"
    with pytest.raises(ConfigError) as err:
        reach_store(Tracking(tracking_uri=uri, store_timeout_s=1))
    message = str(err.value)
    assert message.startswith(f"MLflow store http://127.0.0.1:{uri.rsplit(':', 1)[1]}: "), message
    assert "s3cret" not in message and "alice" not in message and "\n" not in message


def test_a_postgresql_store_that_does_not_answer_is_named_at_once_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL URI on a port nothing listens on (a stopped server, a wrong port) is one line naming the store
    without its user and password, after one connection attempt: MLflow (whose engine makes ten, ~100 s) is never
    asked."""
    from tasks import tracking

    asked: list[str] = []
    monkeypatch.setattr(tracking, "configure", lambda t: asked.append(t.uri))
    uri = f"postgresql://alice:s3cret@127.0.0.1:{_closed_port()}/mlflow"
    with pytest.raises(ConfigError) as err:
        reach_store(Tracking(tracking_uri=uri, artifact_root=tmp_path / "art", store_timeout_s=2))
    message = str(err.value)
    assert message.startswith(f"MLflow store postgresql://127.0.0.1:{uri.rsplit(':', 1)[1]}: "), message
    assert "Connection refused" in message and "s3cret" not in message and "alice" not in message, message
    assert "\n" not in message
    assert asked == [], "MLflow was asked after the connection failed: its engine retries for ~100 s"


def test_a_server_that_is_not_mlflow_is_named() -> None:
    """A URI pointing at some other web server (a proxy's sign-in page, a wrong port) answers 404."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(ConfigError, match=rf"MLflow store {uri}: .*404"):
            reach_store(Tracking(tracking_uri=uri, store_timeout_s=1))
    finally:
        server.shutdown()


def test_glassbox_run_on_a_locked_store_exits_2_with_one_line_and_keeps_the_last_report(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    params = tmp_path / "params.yaml"
    inputs = {"target": "y"}
    for role in ("train", "test", "current"):
        (tmp_path / f"{role}.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
        inputs[role] = str(tmp_path / f"{role}.csv")
    store = {"tracking_uri": f"sqlite:///{db}", "store_timeout_s": 1}
    params.write_text(yaml.safe_dump({"inputs": inputs, "tracking": store}))
    out = tmp_path / "reports"
    out.mkdir()
    (out / "report.json").write_text('{"run_id": "the last one"}')
    with _locked(db):
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--params", str(params), "--out", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"glassbox: MLflow store sqlite:///{db}: locked"), done.stderr
    assert (out / "report.json").read_text() == '{"run_id": "the last one"}'
