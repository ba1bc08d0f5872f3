"""The records every stage returns: findings with a severity, and a verdict derived from them.

Verdicts are data: a check that finds a problem returns a Finding, it never raises. Only the flow turns a
failing verdict into "stop here".
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Severity(StrEnum):
    info = "info"
    warn = "warn"
    fail = "fail"


class Verdict(StrEnum):
    passed = "pass"
    warn = "warn"
    fail = "fail"
    skipped = "skipped"


def _jsonable(value: Any) -> Any:
    """Evidence comes from numpy and pandas; make it plain JSON (NaN becomes null) so reports round-trip."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str
    severity: Severity
    message: str
    columns: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)

    @field_validator("evidence", mode="before")
    @classmethod
    def _plain(cls, v: Any) -> Any:
        return _jsonable(v or {})


class StageResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    verdict: Verdict
    duration_s: float = 0.0
    findings: list[Finding] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    run_id: str | None = None
    reason: str | None = None

    @field_validator("metrics", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        return {k: float(x) for k, x in (v or {}).items() if x is not None and math.isfinite(float(x))}

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.fail

    @property
    def first_failure(self) -> Finding | None:
        return next((f for f in self.findings if f.severity is Severity.fail), None)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> StageResult:
        return cls.model_validate(json.loads(path.read_text()))


def verdict_of(findings: list[Finding]) -> Verdict:
    severities = {f.severity for f in findings}
    if Severity.fail in severities:
        return Verdict.fail
    if Severity.warn in severities:
        return Verdict.warn
    return Verdict.passed


def severity_for(value: float | None, warn: float | None, fail: float | None, higher_is_worse: bool = True) -> Severity:
    """Where a measured value falls against a warn/fail pair. An unmeasured value (None, NaN) is info."""

    def over(limit: float | None) -> bool:
        if limit is None or value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value > limit if higher_is_worse else value < limit

    return Severity.fail if over(fail) else Severity.warn if over(warn) else Severity.info


def judge(
    check: str,
    value: float,
    warn: float | None,
    fail: float | None,
    message: str,
    *,
    columns: list[str] | None = None,
    evidence: dict[str, Any] | None = None,
    higher_is_worse: bool = True,
) -> Finding:
    """Turn a measured value and its warn/fail pair into one finding (info when under both)."""
    ev = {"value": value, "warn": warn, "fail": fail, **(evidence or {})}
    severity = severity_for(value, warn, fail, higher_is_worse)
    return Finding(check=check, severity=severity, message=message, columns=columns or [], evidence=ev)


class StageOutput(BaseModel):
    """What a stage function returns; the runner adds name, timing and run id to make the StageResult."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    findings: list[Finding] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
