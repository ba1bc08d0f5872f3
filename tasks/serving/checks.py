"""The serving layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.limits import Limit

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
    """The candidate behind `mlflow models serve`: answers compared row by row with the same model offline."""

    host: Literal["127.0.0.1"] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: a free port
    batch_rows: Annotated[int, Field(ge=1, le=100_000)] = 500
    startup_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    request_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    mismatch_share: Limit = Limit(warn=0.0, fail=0.001)  # share of answered rows off by > abs_tolerance
    abs_tolerance: Annotated[float, Field(ge=0)] = 1e-9
    error_share: Limit = Limit(warn=0.0, fail=0.01)  # share of rows without a finite served score
    input_type_columns: Limit = Limit(warn=None, fail=0.0)  # columns whose type differs from the signature


CHECKS = checks_of()
