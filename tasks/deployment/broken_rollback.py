"""Broken rollback: before the alias moves, the version it points at now must still load and answer, in-process
and behind the model server, or a bad candidate leaves nothing to roll back to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs


class Params(checks.CheckParams):
    severity: Severity = Field(
        Severity.fail, description="severity when the version holding the alias cannot be loaded or served"
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    name: str
    version: str | None  # None: no version holds the alias yet
    uri: str | None
    rows: int
    answers: int  # finite in-process answers
    errors: tuple[str, ...]  # what went wrong, loading, scoring or serving

    def metrics(self) -> dict[str, float]:
        return {"broken": float(bool(self.errors))}


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    r = x.rollback
    errors = []
    if r.version is not None:
        if r.load_error:
            errors.append(r.load_error)
        elif r.answers < r.rows:
            errors.append(f"{r.rows - r.answers} of {r.rows} answers are not finite")
        if r.serve_error:
            errors.append(f"served: {r.serve_error}")
    return Measurement(r.name, r.version, r.uri, r.rows, r.answers, tuple(errors))


def judge(m: Measurement, p: Params) -> list[Finding]:
    if m.version is None:
        return [
            Finding(
                severity=Severity.info,
                message=f"no version of {m.name!r} holds the alias yet: first promotion, nothing to roll back to",
            )
        ]
    if m.errors:
        error = "; ".join(m.errors)
        return [
            Finding(
                severity=p.severity,
                evidence={"version": m.version, "uri": m.uri, "error": error},
                message=f"rollback target version {m.version} ({m.uri}) cannot be used: {error}"[:1000],
            )
        ]
    return [
        Finding(
            severity=Severity.info,
            evidence={"version": m.version, "uri": m.uri},
            message=f"rollback target version {m.version} loads and answers {m.rows} rows, in-process and served",
        )
    ]
