"""The gate policy, in one place: which verdict stops the run, what a skipped stage says, and which earlier
verdicts a promotion needs. The runner, the report and the deployment stage ask here; none decides alone."""

from __future__ import annotations

from pathlib import Path

from tasks.params import STAGES, Params
from tasks.result import Finding, Severity, StageResult, Verdict

RESULT_FILE = "result.json"
PROMOTION_CHECK = "earlier_gates"


def applies(stage: str, params: Params) -> bool:
    """With your own data the snapshot stage has nothing to build: it neither runs nor gates."""
    return stage != "snapshot" or params.snapshot.demo


def stop_reason(result: StageResult, params: Params) -> str | None:
    """Why later stages do not run after `result`, or None. Only stages listed in `gates` stop the run."""
    if result.verdict is not Verdict.fail or result.name not in params.gates:
        return None
    first = result.first_failure
    return f"stopped by failing gate '{result.name}'" + (f" ({first.check})" if first else "")


def not_applicable(stage: str, run_id: str | None) -> StageResult:
    return StageResult(name=stage, verdict=Verdict.skipped, reason="own data (snapshot.demo is false)", run_id=run_id)


def complete_results(results: dict[str, StageResult], run_id: str, params: Params) -> list[StageResult]:
    """Every stage in order. A missing stage is skipped, with the gate that stopped it when there is one.
    A result left from an older run after a stage that ran in this one is stale (its inputs changed);
    one from before it was reused unchanged (a `dvc repro` that skipped a cached stage)."""
    out: list[StageResult] = []
    seen_current = False
    stop: str | None = None
    for name in STAGES:
        res = results.get(name)
        if res is not None and (stop is not None or (res.run_id != run_id and seen_current)):
            res = None
        if res is None:
            if not applies(name, params):
                out.append(not_applicable(name, run_id))
            else:
                out.append(StageResult(name=name, verdict=Verdict.skipped, reason=stop or "not run"))
            continue
        seen_current = seen_current or res.run_id == run_id
        out.append(res)
        stop = stop or stop_reason(res, params)
    return out


def read_results(out: Path) -> dict[str, StageResult]:
    """The results the stages left in `out` (this run's and, with `dvc repro`, cached earlier ones)."""
    return {s: StageResult.read(out / s / RESULT_FILE) for s in STAGES if (out / s / RESULT_FILE).is_file()}


def promotion_blockers(out: Path, params: Params, run_id: str, stage: str = "deployment") -> list[Finding]:
    """A fail finding for each gate before `stage` that failed in this run or left no result; one info
    finding listing them when none blocks. A result from another run that did not fail does not block
    (`dvc repro` skips stages whose inputs did not change)."""
    before = [s for s in STAGES[: STAGES.index(stage)] if s in params.gates and applies(s, params)]
    found = read_results(out)
    seen: dict[str, dict] = {}
    blocking: list[Finding] = []
    for name in before:
        result = found.get(name)
        if result is None:
            path = out / name / RESULT_FILE
            blocking.append(
                Finding(
                    check=PROMOTION_CHECK,
                    severity=Severity.fail,
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
                    check=PROMOTION_CHECK,
                    severity=Severity.fail,
                    message=f"gate {name!r} did not pass in this run{why}: not promoting",
                    evidence={"stage": name, **seen[name]},
                )
            )
    if blocking:
        return blocking
    return [
        Finding(
            check=PROMOTION_CHECK,
            severity=Severity.info,
            message=f"all {len(before)} gates before {stage} passed: {', '.join(before) or 'none'}",
            evidence={"stages": seen},
        )
    ]
