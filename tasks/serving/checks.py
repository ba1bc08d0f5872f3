"""The serving layer's settings and its checks, in diagnostic order: the root causes first (a feature sent
with the wrong type can make the server answer differently, or not at all, so serving_type_mismatch names it
before serving_prediction_mismatch and serving_nan report the symptom)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.serving import serving_contract, serving_nan, serving_prediction_mismatch, serving_type_mismatch

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "input_type_columns": "serving_type_mismatch.columns",
    "mismatch_share": "serving_prediction_mismatch.share",
    "abs_tolerance": "serving_prediction_mismatch.abs_tolerance",
    "error_share": "serving_nan.share",
}


class Settings(CheckParams):
    """The candidate behind `mlflow models serve`: the trusted test set and the current traffic replayed
    through it, answers compared row by row with the same model offline. The deployment stage starts its
    servers with the same host and timeouts."""

    host: Literal["127.0.0.1"] = Field("127.0.0.1", description="where the model server listens (local only)")
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(None, description="the server's port (null: a free one)")
    batch_rows: Annotated[int, Field(ge=1, le=100_000)] = Field(
        5000,
        description="rows per /invocations request (a request's own cost is most of a small one's: 120k rows on 2 "
        "cores, 6.3k rows/s at 500, 10.9k at 5000)",
    )
    concurrency: Annotated[int, Field(ge=1, le=64)] = Field(
        2, description="requests in flight at once while replaying, and the model server's workers"
    )
    startup_timeout_s: Annotated[float, Field(gt=0)] = Field(
        120.0,
        description="seconds the server may take to answer /ping; a server not up by then, or exiting first, fails "
        "the stage (model_server) with the end of its log",
    )
    request_timeout_s: Annotated[float, Field(gt=0)] = Field(
        60.0,
        description="seconds one request may take; a request unanswered by then fails the stage (model_server): "
        "the server is hung and is not asked again",
    )
    request_retries: Annotated[int, Field(ge=0, le=10)] = Field(
        2,
        description="attempts after the first for a request that got no connection while the server process still "
        "runs; a server that exited or timed out is not retried",
    )
    retry_wait_s: Annotated[float, Field(gt=0, le=60)] = Field(
        1.0, description="seconds between those attempts (cut short when the server process exits)"
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="environment variables every model server starts with, on top of glassbox's own (thread "
        "limits, settings the model's own code reads), as the deployed server gets them",
    )


CHECKS = checks_of(serving_type_mismatch, serving_contract, serving_prediction_mismatch, serving_nan)
