"""The serving layer's inputs record: prepared once by the stage (the model server started, the sources
replayed through it), read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ServingInputs:
    """What went over the wire and what the same model answers offline.

    `log` is the inference log, one row per input row sent: `source` and `row` (its position in the source),
    the id, the timestamp and the features passed through, `score` (the served positive-class probability, NaN
    when the server gave none), `offline_score` (the same model in-process, NaN when it could not score),
    `status` (HTTP status, 0 when no answer came), `latency_ms`, `batch` (request number), `model_uri`,
    `model_id`, `served_at`. `reasons` are the server's reasons by request number for the requests it refused;
    `offline_errors` the offline model's first error by source. `expected_types` maps each feature to the type
    its logged signature declares (MLflow type names: long, double, string ...), None when the model has no
    column signature. `frames` are the sources as loaded (test, current), in the order they were replayed;
    `latencies_ms` the latency of each request in that order. `received` are the same sources as the server's
    parser decoded them (indexed by their rows in `frames`; rows of a batch it refused left out) and
    `contract` the reviewed GX inputs suite (None when the project has none).
    """

    log: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    features: list[str]
    id_column: str | None = None
    expected_types: dict[str, str] | None = None
    reasons: dict[int, str] = field(default_factory=dict)
    offline_errors: dict[str, str] = field(default_factory=dict)
    latencies_ms: tuple[float, ...] = ()
    model_uri: str = ""
    received: dict[str, pd.DataFrame] = field(default_factory=dict)
    contract: Any = None  # a great_expectations.ExpectationSuite
