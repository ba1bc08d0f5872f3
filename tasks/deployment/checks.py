"""The deployment layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from tasks.checks import CheckParams, checks_of
from tasks.limits import Limit

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
    """Register with provenance tags, prove the served version is the candidate, promote on a clean gate."""

    alias: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")] = "champion"
    fingerprint_rows: Annotated[int, Field(ge=1)] = 200
    fingerprint_max_abs_diff: Limit = Limit(warn=None, fail=1e-9)  # served version vs candidate offline
    latency_p99_ms: Limit = Limit(warn=250.0, fail=1000.0)
    latency_probe_requests: Annotated[int, Field(ge=5, le=10_000)] = 100
    # A version registered from a tree with uncommitted changes; in development trees are often dirty.
    dirty_commit: Literal["info", "warn", "fail"] = "warn"
    # The previous alias holder cannot be loaded or answer: nothing to roll back to.
    broken_rollback: Literal["info", "warn", "fail"] = "fail"

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if re.fullmatch(r"v\d+", v):
            raise ValueError(f"alias {v!r} is reserved by MLflow (v<number> names a version)")
        return v


CHECKS = checks_of()
