"""Stand-in stage functions for testing the flow's gating without real data or models."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasks.errors import ConfigError
from tasks.result import Finding, Severity, StageOutput


def placeholder_inputs(root: Path, inputs: dict) -> None:
    """Two-row files with every column params names, where `inputs` points: stand-in stages read nothing, but a
    run checks the inputs' form before it starts."""
    columns = [*(inputs.get("features") or []), inputs["target"], inputs.get("id"), inputs.get("timestamp")]
    frame = pd.DataFrame({c: [0, 1] for c in columns if c})
    for role in ("train", "test", "current"):
        path = root / inputs[role]
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False) if path.suffix == ".parquet" else frame.to_csv(path, index=False)


def passes(ctx) -> StageOutput:
    (ctx.dir / "evidence.txt").write_text(f"{ctx.name} ran in {ctx.run_id}\n")
    return StageOutput(
        findings=[Finding(check="ok", severity=Severity.info, message="fine")],
        artifacts=["evidence.txt"],
        metrics={"value": 1.0},
    )


def fails(ctx) -> StageOutput:
    return StageOutput(findings=[Finding(check="planted", severity=Severity.fail, message="planted failure")])


def bad_input(ctx) -> StageOutput:
    raise ConfigError("data/x.csv: column 'age' (feature) not found; expected a number")
