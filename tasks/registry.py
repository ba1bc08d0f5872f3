"""Stage name -> the plain function that runs it, in pipeline order. dvc.yaml is checked against it in a test."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

from tasks.params import STAGES

if TYPE_CHECKING:
    from tasks.context import StageContext
    from tasks.result import StageOutput

# Imported lazily: the CLI answers `--help` and config errors without loading sklearn, MLflow or GX.
_FUNCTIONS = {name: f"tasks.{name}.stage:run" for name in STAGES}


def stage_function(name: str) -> Callable[[StageContext], StageOutput]:
    module, func = _FUNCTIONS[name].split(":")
    return getattr(import_module(module), func)
