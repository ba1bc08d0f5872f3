"""What a stage function receives: typed params, where to write, and where earlier stages wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    @property
    def dir(self) -> Path:
        """This stage's own folder: everything in it becomes evidence on the stage's MLflow run."""
        return self.out / self.name

    def of(self, stage: str) -> Path:
        """The folder an earlier stage wrote to (its outputs are this stage's inputs)."""
        return self.out / stage
