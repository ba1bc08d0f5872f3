"""A real PostgreSQL server for a test: Debian's `postgresql` package (its binaries in /usr/lib/postgresql/N/bin),
a throwaway cluster in a temporary folder, listening on 127.0.0.1 only, on a free port, with trust auth.

`postgres_server("mlflow", "prefect")` runs `initdb`, starts `postgres` through `pg_ctl`, creates the databases and
yields a `Postgres` record (its port and URLs); it stops the server (`pg_ctl stop -m fast`) and removes the cluster
when the block ends, however it ends. PostgreSQL refuses to run as root: as root the cluster belongs to the
`postgres` user (Debian's package creates it), else `nobody`, and every server command runs as that user.
`make install` installs Debian's `postgresql` where it is missing; without it (or when the server cannot start
here) `missing()` says why and `require_postgres()` skips the test with that reason: the server is never faked.

The cluster is for one test module: fsync is off (nothing in it outlives the test).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

PROGRAMS = ("initdb", "pg_ctl", "postgres")
DEBIAN = Path("/usr/lib/postgresql")  # Debian's layout: one bin/ per major version
START_TIMEOUT_S = 60
HOST = "127.0.0.1"
SUPERUSER = "postgres"  # the cluster's superuser role (initdb -U), whatever OS user runs the server


def pg_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: `$GLASSBOX_PG_BIN`, else where `initdb` on PATH points,
    else the newest of Debian's /usr/lib/postgresql/N/bin."""
    candidates = []
    if os.environ.get("GLASSBOX_PG_BIN"):
        candidates.append(Path(os.environ["GLASSBOX_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    if DEBIAN.is_dir():
        versions = [p for p in DEBIAN.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    return next((d for d in candidates if all((d / p).is_file() for p in PROGRAMS)), None)


def server_user() -> pwd.struct_passwd | None:
    """The OS user the server runs as: None (this process's own) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def missing() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    if pg_bin() is None:
        return (
            "PostgreSQL's initdb, pg_ctl and postgres were not found (GLASSBOX_PG_BIN, PATH, "
            f"{DEBIAN}/N/bin): `make install` installs Debian's postgresql"
        )
    if os.geteuid() == 0 and server_user() is None:
        return "running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as"
    try:
        import psycopg2  # noqa: F401 (only whether it imports)
    except ImportError:
        return "psycopg2 is not installed: `make install` installs the pinned psycopg2-binary"
    return None


def require_postgres() -> None:
    """Skip the calling test, with the reason, where no PostgreSQL server can be started."""
    reason = missing()
    if reason:
        pytest.skip(reason)


@dataclass(frozen=True)
class Postgres:
    """A running server: 127.0.0.1:`port`, role `postgres`, trust auth (any password is accepted and ignored)."""

    port: int
    version: str  # `postgres --version`

    def url(self, database: str, driver: str = "postgresql", password: str | None = None) -> str:
        """`driver://postgres[:password]@127.0.0.1:port/database`; driver `postgresql+asyncpg` for Prefect."""
        auth = f"{SUPERUSER}:{password}" if password else SUPERUSER
        return f"{driver}://{auth}@{HOST}:{self.port}/{database}"

    def query(self, database: str, sql: str, *args: object) -> list[tuple]:
        """The rows `sql` returns in `database` (psycopg2, autocommit)."""
        import psycopg2

        con = psycopg2.connect(host=HOST, port=self.port, user=SUPERUSER, dbname=database, connect_timeout=10)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql, args or None)
                return cur.fetchall() if cur.description else []
        finally:
            con.close()


def free_port() -> int:
    """A TCP port nothing listens on right now (also what a stopped server's port looks like to a client)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _as_server_user(user: pwd.struct_passwd | None) -> dict:
    """subprocess keyword arguments that run a command as `user` (no supplementary groups), with its HOME."""
    if user is None:
        return {}
    env = {**os.environ, "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "env": env}


@contextmanager
def postgres_server(*databases: str) -> Iterator[Postgres]:
    """A fresh cluster with `databases` created, up on 127.0.0.1 for the block, stopped and removed after.
    Skips the calling test (with the reason, the server's log tail included) when it cannot be started."""
    require_postgres()
    bindir, user = pg_bin(), server_user()
    assert bindir is not None
    as_user = _as_server_user(user)
    # not pytest's tmp_path: its parents are root's alone (0700), and the server user must reach its folder
    root = Path(tempfile.mkdtemp(prefix="glassbox-pg-"))
    data, log = root / "data", root / "server.log"
    started = False
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        run = {"capture_output": True, "text": True, "cwd": root, **as_user}
        done = subprocess.run(
            [bindir / "initdb", "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
            timeout=120,
            **run,
        )
        if done.returncode != 0:
            pytest.skip(f"PostgreSQL initdb failed (exit {done.returncode}): {_tail(done.stderr)}")
        port = free_port()
        # TCP on 127.0.0.1 only; no unix socket (Debian's default folder, /var/run/postgresql, may not exist)
        options = f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories='' -c fsync=off"
        started = True  # from here on, stop it whatever happens: pg_ctl may have started it and timed out
        done = subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", str(START_TIMEOUT_S), "-o", options, "start"],
            timeout=START_TIMEOUT_S + 30,
            **run,
        )
        if done.returncode != 0:
            server_log = log.read_text(errors="replace") if log.is_file() else ""
            pytest.skip(f"PostgreSQL did not start (pg_ctl exit {done.returncode}): {_tail(server_log or done.stderr)}")
        version = subprocess.run([bindir / "postgres", "--version"], **run).stdout.strip()
        server = Postgres(port=port, version=version)
        for name in databases:
            server.query("postgres", f'CREATE DATABASE "{name}"')
        yield server
    finally:
        if started:
            subprocess.run(
                [bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop"],
                capture_output=True,
                timeout=90,
                cwd=root,
                **as_user,
            )
        shutil.rmtree(root, ignore_errors=True)


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no output)"
