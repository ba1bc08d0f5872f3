"""Limits: a warn/fail pair that knows which way is worse and judges a measured value.

`Limit` is a ceiling (above is worse: a share of bad rows, a drift score); `Floor` is a floor (below is
worse: a score, a margin). The direction lives in the type, so a params file cannot get it backwards and no
caller passes it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tasks.result import Finding, Severity

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Limit(BaseModel):
    """A ceiling: a value above `warn` warns, above `fail` fails. Either may be null (that level is off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    higher_is_worse: ClassVar[bool] = True

    warn: float | None = None
    fail: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        w, f = self.warn, self.fail
        if w is not None and f is not None and (w > f if self.higher_is_worse else w < f):
            side = "exceed" if self.higher_is_worse else "be below"
            raise ValueError(f"warn ({w}) must not {side} fail ({f})")
        return self

    def _beyond(self, value: float, limit: float | None) -> bool:
        if limit is None:
            return False
        return value > limit if self.higher_is_worse else value < limit

    def severity(self, value: float | None) -> Severity:
        """Where `value` falls; an unmeasured value (None, NaN) is info: it is reported, not judged."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return Severity.info
        if self._beyond(value, self.fail):
            return Severity.fail
        return Severity.warn if self._beyond(value, self.warn) else Severity.info

    def describe(self) -> str:
        word = "ceiling" if self.higher_is_worse else "floor"
        return f"{word}: warn {self.warn}, fail {self.fail}"


class Floor(Limit):
    """A floor: a value below `warn` warns, below `fail` fails (a score, a margin over the champion)."""

    higher_is_worse: ClassVar[bool] = False


def judged(
    value: float | None,
    limit: Limit,
    message: str,
    *,
    columns: list[str] | None = None,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    """One finding for a measured value and its limit (info when within it); the value and limit go into the
    evidence, so every judged number can be read back from the report."""
    ev = {"value": value, "warn": limit.warn, "fail": limit.fail, **(evidence or {})}
    return Finding(severity=limit.severity(value), message=message, columns=columns or [], evidence=ev)
