"""Imported once by the forkserver the model servers fork from (tasks/serving/forked.py): what every scoring
server would otherwise import and compute for itself before it loads its model."""

from __future__ import annotations

import os

from tasks.serving.server import SERVER_ENV

os.environ.update(SERVER_ENV)  # telemetry off before MLflow is imported

import mlflow.pyfunc.scoring_server  # noqa: E402, F401
import skops.io  # noqa: E402, F401 (its trusted-type scan runs at import)
import uvicorn.main  # noqa: E402, F401
from mlflow.utils.requirements_utils import _init_packages_to_modules_map  # noqa: E402

_init_packages_to_modules_map()  # the installed packages, for MLflow's requirement check (cached per process)
