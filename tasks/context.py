"""What a stage function receives: typed params, where to write, where earlier stages wrote, and its checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.checks import Check, CheckRun, Configured, configured, run_checks
from tasks.params import Params
from tasks.provenance import Provenance


@dataclass(frozen=True)
class StageContext:
    name: str
    params: Params
    out: Path
    run_id: str
    provenance: Provenance
    mlflow_run_id: str | None = None
    # check -> pictures in this stage's folder that show its measurement (the report page puts them beside the
    # check's findings); filled as the checks run, and by a stage for the pictures it draws itself
    figures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        """This stage's own folder: everything in it becomes evidence on the stage's MLflow run."""
        return self.out / self.name

    def of(self, stage: str) -> Path:
        """The folder an earlier stage wrote to (its outputs are this stage's inputs)."""
        return self.out / stage

    def checks(self, builtin: Sequence[Check]) -> list[Configured]:
        """The layer's built-in checks with their params sections, then the user's own for this layer."""
        return [*configured(builtin, getattr(self.params, self.name)), *self.params.user_checks(self.name)]

    def run_checks(self, builtin: Sequence[Check], inputs: Any) -> CheckRun:
        """Every check of this layer on the inputs record the stage prepared, each in its error boundary."""
        checked = run_checks(self.checks(builtin), inputs, self.dir)
        for check, pictures in checked.figures.items():
            self.figures.setdefault(check, []).extend(pictures)
        return checked
