"""Where the stage that ran this check ran: its process, the Dask worker it ran on (if any), what that process's
parent and every process under it listen on, the hosts the stage's process is connected to, its telemetry
settings and the Prefect API it reports to. A user check (params `checks`), so it runs inside the stage, wherever
the engine put the stage."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass

import psutil
from prefect.settings import get_current_settings

from tasks import checks
from tasks.result import Finding, Severity
from tests.listening import listening

TELEMETRY = (
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "PREFECT_CLIENT_METRICS_ENABLED",
    "MLFLOW_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "DVC_NO_ANALYTICS",
)


@dataclass(frozen=True)
class Where(checks.Measurement):
    pid: int
    parent: int
    worker: str | None  # the Dask worker's address, None outside a worker
    listening: list[str]  # on a worker: ip:port of every listening socket of its parent and all under it
    connected_to: list[str]  # remote ips of this process's open TCP connections
    telemetry: dict[str, str | None]
    prefect_api: str | None  # the Prefect API its task run reports to (None: a temporary server of its own)


def _worker() -> str | None:
    distributed = sys.modules.get("distributed")
    try:
        return distributed.get_worker().address if distributed else None
    except ValueError:
        return None


def measure(x: object, p: checks.NoParams) -> Where:  # noqa: ARG001 (the layer's inputs are not needed)
    conns = psutil.Process().net_connections(kind="tcp")
    worker = _worker()
    return Where(
        pid=os.getpid(),
        parent=os.getppid(),
        worker=worker,
        listening=sorted(f"{ip}:{port}" for ip, port in listening(os.getppid())) if worker else [],
        connected_to=sorted({c.raddr.ip for c in conns if c.raddr}),
        telemetry={k: os.environ.get(k) for k in TELEMETRY},
        prefect_api=get_current_settings().api.url,
    )


def judge(m: Where, p: checks.NoParams) -> list[Finding]:  # noqa: ARG001 (nothing to set)
    where = f"Dask worker {m.worker}" if m.worker else "no Dask worker"
    return [Finding(severity=Severity.info, message=f"pid {m.pid}, {where}", evidence=asdict(m))]
