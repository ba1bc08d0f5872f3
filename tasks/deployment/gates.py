"""Promotion needs every gate before deployment to have passed in this very run."""

from __future__ import annotations

from pathlib import Path

from tasks.params import STAGES
from tasks.result import Finding, Severity, StageResult, Verdict

RESULT_FILE = "result.json"


def earlier_gates(out: Path, gates: list[str], run_id: str, stage: str = "deployment") -> list[Finding]:
    """A fail finding for each gate before `stage` that failed in this run or left no result; one info
    finding listing them when none blocks. A result from another run that did not fail does not block
    (`dvc repro` skips stages whose inputs did not change)."""
    before = [s for s in STAGES[: STAGES.index(stage)] if s in gates]
    seen: dict[str, dict] = {}
    blocking: list[Finding] = []
    for name in before:
        path = out / name / RESULT_FILE
        result = StageResult.read(path) if path.is_file() else None
        if result is None:
            blocking.append(
                Finding(
                    check="earlier_gates",
                    severity=Severity.fail,
                    columns=[],
                    message=f"gate {name!r} left no result ({path}): not promoting",
                    evidence={"stage": name, "path": str(path)},
                )
            )
            continue
        same_run = result.run_id == run_id
        seen[name] = {"verdict": result.verdict.value, "run_id": result.run_id, "this_run": same_run}
        if result.verdict is Verdict.skipped or (result.verdict is Verdict.fail and same_run):
            first = result.first_failure
            why = f": {first.check}: {first.message}" if first else f" ({result.reason or result.verdict.value})"
            blocking.append(
                Finding(
                    check="earlier_gates",
                    severity=Severity.fail,
                    message=f"gate {name!r} did not pass in this run{why}: not promoting",
                    evidence={"stage": name, **seen[name]},
                )
            )
    if blocking:
        return blocking
    return [
        Finding(
            check="earlier_gates",
            severity=Severity.info,
            message=f"all {len(before)} gates before {stage} passed: {', '.join(before) or 'none'}",
            evidence={"stages": seen},
        )
    ]
