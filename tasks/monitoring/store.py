"""The inference log store: every request the model server answered, kept across runs, so monitoring can judge
the traffic day by day rather than one batch at a time.

Parquet partitions by the day of each request's event time, `<store>/day=YYYY-MM-DD/part-<run id>.parquet`,
each part written to a temporary file and renamed into place (a reader never sees half a part; a run that
dies leaves no part). A replay of the same traffic writes the same request ids again: reading keeps the latest
answer per request id (and model), so nothing is counted twice. The store holds what a person needs to
replay or audit a prediction: the request id, its event time and when it was served, the model (URI, id and
a hash of its artifact), the raw inputs, the served score, latency, status and the glassbox run that served it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tasks.errors import ConfigError

if TYPE_CHECKING:
    from tasks.modeling import ModelRef
    from tasks.params import Inputs

REQUEST_ID = "request_id"
EVENT_AT = "event_at"
SERVED_AT = "served_at"
MODEL_URI = "model_uri"
MODEL_ID = "model_id"
MODEL_HASH = "model_hash"
SCORE = "score"
LATENCY = "latency_ms"
STATUS = "status"
RUN_ID = "glassbox_run_id"
META = (REQUEST_ID, EVENT_AT, SERVED_AT, MODEL_URI, MODEL_ID, MODEL_HASH, SCORE, LATENCY, STATUS, RUN_ID)
SERVED_SOURCE = "current"  # the log's traffic rows (its `test` rows are the trusted set, not traffic)
PART_GLOB = "day=*/part-*.parquet"


def row_hash(rows: pd.DataFrame) -> pd.Series:
    """A stable id per row from its values (the same inputs give the same id in every run and process)."""
    hashed = pd.util.hash_pandas_object(rows.reset_index(drop=True), index=False).to_numpy(dtype="uint64")
    return pd.Series([f"h{v:016x}" for v in hashed], index=rows.index, dtype="object")


def model_hash(model_uri: str) -> str | None:
    """sha256 (first 16 hex) of the model's artifact files, the descriptor `MLmodel` left out (it names the run
    and time it was logged); None when the artifact cannot be read."""
    import mlflow

    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri))
    except Exception:  # a model that cannot be downloaded is recorded as unhashed, never guessed
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in local.rglob("*") if p.is_file() and p.name != "MLmodel"):
        digest.update(path.relative_to(local).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def served_rows(
    log: pd.DataFrame,
    features: list[str],
    *,
    id_column: str | None,
    timestamp: str | None,
    run_id: str,
    model_hash: str | None,
) -> pd.DataFrame:
    """The store's rows for the traffic in a serving stage's inference log (its `current` rows): the request
    id (`id_column`'s value, else a hash of the raw inputs), the event time (`timestamp`'s, else when served),
    the raw inputs and the answer."""
    clash = sorted(set(META) & ({id_column, timestamp} | set(features)) - {None})
    if clash:
        raise ConfigError(f"params.yaml: inputs: column {clash[0]!r} clashes with an inference store column; rename it")
    traffic = log[log["source"] == SERVED_SOURCE].reset_index(drop=True)
    raw = [c for c in dict.fromkeys([*(c for c in (id_column, timestamp) if c), *features]) if c in traffic.columns]
    out = traffic[raw].copy()
    if id_column and id_column in traffic.columns:
        out.insert(0, REQUEST_ID, traffic[id_column].astype("string").astype(object))
    else:
        out.insert(0, REQUEST_ID, row_hash(traffic[raw]))
    served = pd.to_datetime(traffic[SERVED_AT], utc=True)
    event = pd.to_datetime(traffic[timestamp], utc=True) if timestamp and timestamp in traffic.columns else served
    out.insert(1, EVENT_AT, event.fillna(served))
    out.insert(2, SERVED_AT, served)
    out[MODEL_URI] = traffic[MODEL_URI].astype(str)
    out[MODEL_ID] = traffic[MODEL_ID].astype(str)
    out[MODEL_HASH] = model_hash
    out[SCORE] = pd.to_numeric(traffic[SCORE], errors="coerce").astype("float64")
    out[LATENCY] = traffic[LATENCY].astype("float64")
    out[STATUS] = traffic[STATUS].astype(str)
    out[RUN_ID] = run_id
    return out


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append(store: Path, rows: pd.DataFrame, run_id: str) -> list[Path]:
    """Write `rows` into the store, one part per event day named by the run (a rerun of the same run id
    replaces its own parts); returns the parts written."""
    if rows.empty:
        return []
    days = pd.to_datetime(rows[EVENT_AT], utc=True).dt.strftime("%Y-%m-%d")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_id)
    written = []
    for day, part in rows.groupby(days, sort=True):
        path = Path(store) / f"day={day}" / f"part-{safe}.parquet"
        _atomic_parquet(part.reset_index(drop=True), path)
        written.append(path)
    return written


def parts(store: Path) -> list[Path]:
    return sorted(Path(store).glob(PART_GLOB))


def read(store: Path, model_id: str | None = None) -> pd.DataFrame:
    """Every stored request (of `model_id` when given), one row per request id and model: the latest served
    answer wins. An empty frame when the store holds nothing yet."""
    frames = []
    for path in parts(store):
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # a damaged part names itself in one line, never a traceback
            raise ConfigError(f"{path}: cannot be read as parquet ({type(e).__name__}: {e})") from None
        if model_id is not None:
            df = df[df[MODEL_ID] == model_id]
        if len(df):
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=list(META))
    rows = pd.concat(frames, ignore_index=True)
    rows[EVENT_AT] = pd.to_datetime(rows[EVENT_AT], utc=True)
    rows[SERVED_AT] = pd.to_datetime(rows[SERVED_AT], utc=True)
    rows = rows.sort_values([SERVED_AT, RUN_ID], kind="stable")
    rows = rows.drop_duplicates([REQUEST_ID, MODEL_ID], keep="last")
    return rows.sort_values([EVENT_AT, REQUEST_ID], kind="stable").reset_index(drop=True)


def store_served(store: Path, log: pd.DataFrame, inputs: Inputs, ref: ModelRef, run_id: str) -> list[Path]:
    """The serving stage's one call: the traffic it served, appended to the store."""
    rows = served_rows(
        log,
        list(ref.features),
        id_column=inputs.id,
        timestamp=inputs.timestamp,
        run_id=run_id,
        model_hash=model_hash(ref.model_uri),
    )
    return append(store, rows, run_id)
