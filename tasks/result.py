"""The records every stage returns: findings with a severity, and a verdict derived from them.

Verdicts are data: a check that finds a problem returns a Finding, it never raises. Only the gate policy
(tasks/gates.py) turns a failing verdict into "stop here".
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasks.atomic import write_text


class Severity(StrEnum):
    """Ordered: info < warn < fail, so `max(...)` of severities is the worst one."""

    info = "info"
    warn = "warn"
    fail = "fail"

    @property
    def rank(self) -> int:
        return _RANKS[self.value]

    def __lt__(self, other: object) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= Severity(other).rank


_RANKS = {"info": 0, "warn": 1, "fail": 2}


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
    """One verdict with its reason. `check` is left empty by a check's judge: the check runner stamps the
    check's name on it, so a finding always names the check (= module = fault id) that made it."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    message: str
    check: str = ""
    columns: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)

    @field_validator("evidence", mode="before")
    @classmethod
    def _plain(cls, v: Any) -> Any:
        return _jsonable(v or {})


def worst(findings: list[Finding]) -> Severity:
    return max((f.severity for f in findings), default=Severity.info)


def verdict_of(findings: list[Finding]) -> Verdict:
    return {Severity.fail: Verdict.fail, Severity.warn: Verdict.warn, Severity.info: Verdict.passed}[worst(findings)]


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
    figures: dict[str, list[str]] = Field(default_factory=dict)  # check -> pictures of its evidence

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
        write_text(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> StageResult:
        return cls.model_validate(json.loads(path.read_text()))


class StageOutput(BaseModel):
    """What a stage function returns; the runner adds name, timing and run id to make the StageResult."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    findings: list[Finding] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
