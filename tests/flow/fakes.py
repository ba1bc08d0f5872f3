"""Stand-in stage functions for testing the flow's gating without real data or models."""

from __future__ import annotations

from tasks.errors import ConfigError
from tasks.result import Finding, Severity, StageOutput


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
