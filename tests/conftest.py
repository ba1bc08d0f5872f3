"""Test-wide settings: telemetry off and a private Prefect home, set before anything imports prefect."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="glassbox-prefect-"))
for key, value in {
    "PREFECT_HOME": str(_HOME),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",  # as flows/cli.py: a busy machine starts slowly
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "GIT_PYTHON_REFRESH": "quiet",
}.items():
    os.environ[key] = value
os.environ.pop("PREFECT_API_URL", None)

REPO = Path(__file__).resolve().parents[1]
