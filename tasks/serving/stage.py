"""Layer 5, serving: the candidate behind the real model server (MLflow's scoring server on 127.0.0.1).

Preparation: the trusted test set and the replayed traffic go through the server over HTTP in batches, the
same rows are scored by the same model offline, and every row is written to the inference log that
monitoring reads; each batch is also decoded as the server's parser decodes it. The checks
(tasks/serving/checks.py) then judge: input types against the model signature, the served rows against the
reviewed GX suite, served vs offline answers, rows without an answer. A server that exits, never comes up or
stops answering ends the stage early with one `model_server` fail finding and the end of its log (see
tasks/serving/server.py ServerFailure); nothing of that partial replay goes to the inference log or the store.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tasks.context import StageContext
from tasks.data import gxproject
from tasks.errors import ConfigError
from tasks.frames import load_inputs, require_columns
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.monitoring.store import store_served
from tasks.params import Inputs, ServingParams
from tasks.result import StageOutput
from tasks.serving.checks import CHECKS
from tasks.serving.inputs import ServingInputs
from tasks.serving.server import (
    Answer,
    ModelServer,
    ServerFailure,
    latency_summary,
    parsed_by_server,
    payload,
    positive_class,
    serve,
)
from tasks.serving.serving_type_mismatch import expected_types

SOURCES = ("test", "current")
LOG_FILE = "inference_log.parquet"
SERVER_LOG = "server.log"
LOG_COLUMNS = (
    "source",
    "row",
    "score",
    "offline_score",
    "status",
    "latency_ms",
    "batch",
    "model_uri",
    "model_id",
    "served_at",
)


@dataclass
class Replay:
    """What went over the wire: one log part per batch, the server's reason per failed batch, latencies."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    offline_errors: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[pd.DataFrame]] = field(default_factory=dict)  # as the server's parser decoded them
    seconds: float = 0.0  # from the first request sent to the last answer


def passthrough_columns(inputs: Inputs, features: list[str]) -> list[str]:
    """The id, the timestamp and the features, each once, in the order the log keeps them."""
    cols = [c for c in (inputs.id, inputs.timestamp) if c] + list(features)
    clash = sorted(set(cols) & set(LOG_COLUMNS))
    if clash:
        raise ConfigError(
            f"params.yaml: inputs: column {clash[0]!r} clashes with an inference log column "
            f"({', '.join(LOG_COLUMNS)}); rename it"
        )
    return list(dict.fromkeys(cols))


def offline(model: object, X: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """The same model in-process; inputs it cannot score give NaN and the error (a verdict, not a crash)."""
    try:
        return np.asarray(positive_scores(model, X), dtype="float64"), None
    except Exception as e:  # any failure of the model on these inputs is evidence for the parity check
        return np.full(len(X), np.nan), f"{type(e).__name__}: {e}"[:500]


def replay(
    server: ModelServer,
    frames: dict[str, pd.DataFrame],
    ref: ModelRef,
    model: object,
    keep: list[str],
    p: ServingParams,
    schema: Any = None,
) -> Replay:
    """Send each source in batches of `batch_rows`, `concurrency` requests in flight (the server runs as many
    workers: while one request is scored the next payload is written), score the same rows offline, keep one log
    part per source and each batch as the server's parser decodes it with the model's input `schema` (none when
    it refuses). The first request without an answer ends the replay: those queued are never sent."""
    out = Replay()
    jobs = [(source, start) for source, df in frames.items() for start in range(0, len(df), p.batch_rows)]
    features = {source: df[ref.features] for source, df in frames.items()}

    def request(job: tuple[str, int]) -> tuple[Answer, pd.DataFrame | None]:
        source, start = job
        X = features[source].iloc[start : start + p.batch_rows]
        body = payload(X)  # once: what is sent is what is decoded
        answer = server.invoke(X, timeout_s=p.request_timeout_s, body=body)
        try:
            return answer, parsed_by_server(X, schema, body)
        except Exception:  # a batch the server's parser refuses is serving_nan's to count
            return answer, None

    pool = ThreadPoolExecutor(max_workers=p.concurrency, thread_name_prefix="replay")
    started = time.perf_counter()
    try:
        answers = [f.result() for f in [pool.submit(request, job) for job in jobs]]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    out.seconds = time.perf_counter() - started

    by_source: dict[str, list[tuple[int, int, Answer]]] = {}
    for batch, ((source, start), (answer, parsed)) in enumerate(zip(jobs, answers, strict=True)):
        by_source.setdefault(source, []).append((batch, start, answer))
        received = out.received.setdefault(source, [])
        if parsed is not None:
            received.append(parsed)
        if answer.reason:
            out.reasons[batch] = answer.reason
        out.latencies_ms.append(answer.latency_ms)
    for source, sent in by_source.items():
        X = features[source]
        scores, error = scored_offline(model, X, p.batch_rows)
        if error:
            out.offline_errors[source] = error
        sizes = [min(p.batch_rows, len(X) - start) for _, start, _ in sent]
        got = [a for _, _, a in sent]
        part = frames[source][keep].reset_index(drop=True)
        part.insert(0, "source", source)
        part.insert(1, "row", np.arange(len(X), dtype="int64"))
        out.parts.append(
            part.assign(
                score=np.concatenate([positive_class(a.predictions, n) for a, n in zip(got, sizes, strict=True)]),
                offline_score=scores,
                status=np.repeat([a.status for a in got], sizes),
                latency_ms=np.repeat([a.latency_ms for a in got], sizes),
                batch=np.repeat([b for b, _, _ in sent], sizes),
                model_uri=ref.model_uri,
                model_id=ref.model_id,
                served_at=np.repeat(pd.DatetimeIndex([a.sent_at for a in got]), sizes),
            )
        )
    return out


def scored_offline(model: object, X: pd.DataFrame, batch_rows: int) -> tuple[np.ndarray, str | None]:
    """The offline scores of a whole source in one call; when the model cannot score all of it, batch by batch
    as they were sent, so only the batches it cannot score are NaN (and the first error is kept)."""
    scores, error = offline(model, X)
    if error is None or len(X) <= batch_rows:
        return scores, error
    parts = [offline(model, X.iloc[start : start + batch_rows]) for start in range(0, len(X), batch_rows)]
    first = next((e for _, e in parts if e), error)
    return np.concatenate([s for s, _ in parts]), first


def input_schema(model_uri: str) -> Any:
    """The logged model's input schema, the one the server parses requests with (None without a signature)."""
    from mlflow.models import get_model_info

    signature = get_model_info(model_uri).signature
    return signature.inputs if signature is not None else None


def reviewed_contract(suite_dir: Path) -> Any:
    """The reviewed GX inputs suite the data layer validated the files against (None when there is none)."""
    if not (Path(suite_dir) / "expectations").is_dir():
        return None
    return gxproject.stored_suite(gxproject.open_project(suite_dir), suite_dir, "inputs")


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params.serving
    inputs = ctx.params.inputs
    ref = ModelRef.read(ctx.of("training"))
    frames = load_inputs(inputs, SOURCES)
    for source, df in frames.items():
        require_columns(df, ref.features, inputs.files()[source], "feature the candidate was trained on")
    keep = passthrough_columns(inputs, ref.features)
    model = load_sklearn(ref.model_uri)
    signature = expected_types(ref.model_uri)
    schema = input_schema(ref.model_uri)
    contract = reviewed_contract(ctx.params.data.suite_dir)

    try:
        with serve(
            ref.model_uri,
            tracking_uri=ctx.params.tracking.uri,
            log_path=ctx.dir / SERVER_LOG,
            host=p.host,
            port=p.port,
            startup_timeout_s=p.startup_timeout_s,
            env=p.env,
            request_retries=p.request_retries,
            retry_wait_s=p.retry_wait_s,
            workers=p.concurrency,
        ) as server:
            done = replay(server, frames, ref, model, keep, p, schema)
            startup_s = server.startup_s
    except ServerFailure as e:
        return server_failed(e)

    log = inference_log(done, keep)
    log.to_parquet(ctx.dir / LOG_FILE, index=False)
    store_served(ctx.params.monitoring.store, log, inputs, ref, ctx.run_id)  # the traffic, into the growing store

    x = ServingInputs(
        log=log,
        frames=frames,
        features=list(ref.features),
        id_column=inputs.id,
        expected_types=signature,
        reasons=done.reasons,
        offline_errors=done.offline_errors,
        latencies_ms=tuple(done.latencies_ms),
        model_uri=ref.model_uri,
        received={
            s: pd.concat(parts) if parts else frames[s][ref.features].iloc[:0] for s, parts in done.received.items()
        },
        contract=contract,
    )
    checked = ctx.run_checks(CHECKS, x)
    latency = latency_summary(done.latencies_ms)
    metrics = {
        "rows_served": float(len(log)),
        "latency_p50_ms": latency["p50_ms"],
        "latency_p99_ms": latency["p99_ms"],
        "requests": float(latency["requests"]),
        "server_startup_s": round(startup_s, 3),
        "replay_s": round(done.seconds, 3),  # requests sent and answered (payloads written and decoded alike)
        "replay_rows_per_s": round(len(log) / done.seconds, 1) if done.seconds > 0 else 0.0,
    }
    return StageOutput(
        findings=checked.findings,
        artifacts=[LOG_FILE, SERVER_LOG, *checked.artifacts],
        metrics={**metrics, **checked.metrics},
    )


def server_failed(e: ServerFailure) -> StageOutput:
    """The stage's result when the server stopped serving: the failure as the one finding, its whole log."""
    answered = float(e.evidence["requests_answered"])
    return StageOutput(findings=[e.finding()], artifacts=[SERVER_LOG], metrics={"requests_answered": answered})


def inference_log(done: Replay, keep: list[str]) -> pd.DataFrame:
    """One row per input row sent, in the contract monitoring reads (see LOG_COLUMNS and the passthrough)."""
    if not done.parts:
        columns = ["source", "row", *keep, *LOG_COLUMNS[2:]]
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    log = pd.concat(done.parts, ignore_index=True)
    log["served_at"] = pd.to_datetime(log["served_at"], utc=True)
    # Sources that disagree on a column's type (a type fault) leave mixed values: keep them as text.
    for col in keep:
        if log[col].dtype == object and pd.api.types.infer_dtype(log[col], skipna=True).startswith("mixed"):
            log[col] = log[col].where(log[col].isna(), log[col].astype(str)).astype("str")
    return log
