"""Running one check the way a stage does (through the runner, so its findings are stamped and its crashes
caught), for unit tests on tiny frames."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from tasks.checks import ERROR_CHECK, Check, CheckParams, CheckRun, Configured, run_checks
from tasks.features.inputs import FeatureInputs
from tasks.result import Finding


def checked(module: ModuleType | Check, inputs: Any, params: CheckParams | None = None) -> CheckRun:
    check = module if isinstance(module, Check) else Check.from_module(module)
    return run_checks([Configured(check, params or check.params())], inputs, Path(tempfile.mkdtemp()))


def findings(module: ModuleType | Check, inputs: Any, params: CheckParams | None = None) -> list[Finding]:
    """The check's findings; a crash fails the test with the check's own error message."""
    run = checked(module, inputs, params)
    crashed = [f.message for f in run.findings if f.check == ERROR_CHECK]
    assert not crashed, crashed
    return run.findings


def feature_inputs(
    train: pd.DataFrame,
    current: pd.DataFrame | None = None,
    *,
    numeric: list[str] | None = None,
    categorical: list[str] | None = None,
    text: list[str] | None = None,
    batch: str = "current",
    **kw: Any,
) -> FeatureInputs:
    """A features-layer inputs record on in-memory frames: one batch (`current` unless named)."""
    return FeatureInputs(
        train=train,
        batches={batch: train if current is None else current},
        features=list(train.columns),
        categorical=categorical or [],
        numeric=numeric or [],
        text=text or [],
        **kw,
    )
