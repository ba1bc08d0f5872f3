"""The deployment layer's inputs record: prepared once by the stage (the candidate registered, the registered
version served beside the champion, answers and latencies taken), read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Candidate:
    """The model training logged: what the registry and the server must prove they hold."""

    model_uri: str
    model_id: str
    run_id: str


@dataclass(frozen=True)
class Registered:
    """The version the registry holds for the candidate, as read back from the registry (not as sent).
    `model_id` is the logged model behind it (None when the registry records none)."""

    name: str
    version: str
    tags: dict[str, str]
    model_id: str | None
    run_id: str | None
    source: str | None


@dataclass(frozen=True)
class Answers:
    """The served registered version's positive-class scores on the fingerprint rows (NaN where it gave none)
    beside the candidate's scores in-process on the same rows; `reason` is the server's when it refused."""

    served_uri: str
    served: np.ndarray
    offline: np.ndarray
    reason: str | None = None


@dataclass(frozen=True)
class LatencyProbe:
    """Single-row requests in rounds, after `warmup` requests per server that are not kept. In each round the
    candidate's server and the champion's (when there is one) each get a /ping and then one request, in
    alternating order (A B, B A, ...) so that whatever slows the machine slows both. Per round, in ms, NaN where
    no answer came: `candidate_ms`, `champion_ms` (empty without a champion) and `calibration_ms`, the slowest of
    the round's /pings and of a stall meter's wake-ups during it (a thread sleeping 2 ms at a time: how late it
    woke). A round whose calibration took more than `stall_factor` times its median and more than `stall_min_ms`
    is a stall of the machine (tasks.deployment.latency.stalled).

    `champion_version` is the version holding the alias (None on a first promotion); `champion_error` why it
    has no latencies although it exists (its server did not start, or its requests failed).
    """

    candidate_ms: tuple[float, ...]
    calibration_ms: tuple[float, ...]
    champion_ms: tuple[float, ...] = ()
    champion_version: str | None = None
    champion_error: str | None = None
    warmup: int = 0
    stall_factor: float = 3.0
    stall_min_ms: float = 25.0

    @property
    def rounds(self) -> int:
        return len(self.candidate_ms)


@dataclass(frozen=True)
class Rollback:
    """The version the alias points at now (None on a first promotion): the way back if the candidate
    misbehaves. `load_error` is why it could not be loaded or score the fingerprint rows in-process, `serve_error`
    why its server did not start or answer them; `answers` its finite scores, `rows` how many were asked."""

    name: str
    version: str | None
    uri: str | None = None
    rows: int = 0
    answers: int = 0
    load_error: str | None = None
    serve_error: str | None = None


@dataclass(frozen=True)
class Production:
    """What the alias serves before this run promotes anything, against glassbox's own record of its last
    promotion. `version` / `model_id`: the version holding the alias now and its logged model (None: no alias
    yet); `recorded_version` / `recorded_model_id`: the version glassbox last promoted (None: no record, e.g. a
    registry promoted by hand only); `served_hash`: the fingerprint of the alias holder's served answers on the
    fingerprint rows (None when it gave none)."""

    alias: str
    version: str | None
    model_id: str | None
    recorded_version: str | None
    recorded_model_id: str | None
    served_hash: str | None = None


@dataclass(frozen=True)
class Shadow:
    """The replayed traffic (the current batch) answered by the candidate's server and the champion's: scores
    per row (NaN where one gave none), the rows' categorical features (`segments`) and the decision threshold;
    `reason` why there was no shadow replay (no champion, its server down, no traffic)."""

    champion_version: str | None
    candidate: np.ndarray
    champion: np.ndarray
    segments: pd.DataFrame
    threshold: float
    reason: str | None = None
    of_rows: int = 0  # the batch's rows, when the replay was a sample of it


@dataclass(frozen=True)
class DeploymentInputs:
    """What the deployment stage did before judging: registered the candidate with its provenance tags
    (`registered`), served that registered version and asked it the fingerprint rows (`answers`), measured its
    latency beside the champion's (`latency`), tried the rollback target (`rollback`) and set what the alias holds
    beside glassbox's record of its last promotion (`production`); `shadow` holds both servers' answers on the
    replayed traffic. `alias` is the alias a promotion would move."""

    alias: str
    candidate: Candidate
    registered: Registered
    answers: Answers
    latency: LatencyProbe
    rollback: Rollback
    production: Production | None = None
    shadow: Shadow | None = None
