"""The deployment layer's settings and its checks, in diagnostic order: the root causes first (a registry entry
that points at another model explains why the wrong model is served; a champion that cannot be served is why
the candidate's latency could not be compared with it; a regression against the champion explains a budget
breach)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from tasks.checks import CheckParams, checks_of
from tasks.deployment import (
    broken_rollback,
    latency_budget,
    latency_regression,
    registered_model_lineage,
    shadow_disagreement,
    untagged_deployment,
    wrong_model_deployed,
)

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
# The old `broken_rollback: <severity>` is not listed: its name is now the check's own section, so the
# check's Params names the new key itself (broken_rollback.severity) when it meets a bare severity.
MOVED: dict[str, str] = {
    "dirty_commit": "untagged_deployment.dirty_commit",
    "fingerprint_max_abs_diff": "wrong_model_deployed.max_abs_diff",
    "latency_p99_ms": "latency_budget.ms",
    "latency_probe_requests": "latency_rounds",
    "broken_rollback": "broken_rollback.severity",  # old only in its old shape, a bare severity
}


class Settings(CheckParams):
    """Register the candidate with provenance tags, serve the registered version beside the champion, prove it is
    the candidate, time both, and move the alias only when no check failed. The model servers start with the
    serving layer's host and timeouts (serving.startup_timeout_s, serving.request_timeout_s)."""

    alias: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")] = Field(
        "champion", description="the registry alias a passing candidate is moved to (the champion)"
    )
    fingerprint_rows: int = Field(
        200, ge=1, description="trusted test rows the served version must answer like the candidate in-process"
    )
    shadow_rows: int = Field(
        50_000,
        ge=100,
        description="current rows the champion and the candidate both answer in the shadow comparison (a seeded "
        "sample of a larger batch: the share of flipped decisions is known to +-0.5% from it)",
    )
    latency_rounds: int = Field(
        300,
        ge=10,
        le=10_000,
        description="rounds of single-row requests: each round one to the candidate and one to the champion",
    )
    latency_warmup: int = Field(10, ge=0, le=1000, description="requests per server sent first and not timed")
    latency_max_s: float = Field(
        600.0, gt=0, description="seconds the latency rounds may take in all; the rounds done by then are judged"
    )
    server_cpus: int | None = Field(
        1,
        ge=1,
        description="CPUs the candidate's and the champion's servers share, pinned to the same ones (Linux) so that "
        "load on the machine falls on both alike; null: not pinned",
    )
    stall_factor: float = Field(
        3.0,
        gt=1.0,
        description="a round whose calibration (its slowest /ping, or how late a 2 ms sleep woke during it) takes "
        "this many times its median is a stall of the machine",
    )
    stall_min_ms: float = Field(
        25.0, ge=0.0, description="and takes longer than this: below it, scheduling jitter, not a stall"
    )

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if re.fullmatch(r"v\d+", v):
            raise ValueError(f"alias {v!r} is reserved by MLflow (v<number> names a version)")
        return v


CHECKS = checks_of(
    untagged_deployment,
    registered_model_lineage,
    wrong_model_deployed,
    broken_rollback,
    latency_regression,
    latency_budget,
    shadow_disagreement,
)
