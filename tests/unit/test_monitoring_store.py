"""The inference log store: parts by event day, appended across runs, deduplicated on read by request id (the
latest answer wins), written atomically; the feedback labels joined to it by request id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigError
from tasks.monitoring import labels, store
from tasks.params import Inputs

FEATURES = ["x", "c"]


def serving_log(n: int, served_at: str, *, score: float = 0.3, start: int = 0, with_id: bool = True) -> pd.DataFrame:
    """A serving stage's inference log: `n` current rows over two event days, and test rows that are not traffic."""
    event = pd.Timestamp("2024-03-01 22:00", tz="UTC") + pd.to_timedelta(np.arange(start, start + n) * 30, unit="min")
    current = pd.DataFrame(
        {
            "source": "current",
            "row": np.arange(n),
            **({"id": [f"r{i}" for i in range(start, start + n)]} if with_id else {}),
            "ts": event,
            "x": np.arange(start, start + n, dtype="float64"),
            "c": "a",
            "score": score,
            "offline_score": score,
            "status": "200",
            "latency_ms": 5.0,
            "batch": 0,
            "model_uri": "models:/m-1",
            "model_id": "m-1",
            "served_at": pd.Timestamp(served_at, tz="UTC"),
        }
    )
    test = current.head(3).assign(source="test")
    return pd.concat([current, test], ignore_index=True)


def rows_of(log: pd.DataFrame, run_id: str, *, with_id: bool = True) -> pd.DataFrame:
    return store.served_rows(
        log, FEATURES, id_column="id" if with_id else None, timestamp="ts", run_id=run_id, model_hash="abc"
    )


def test_parts_are_partitioned_by_event_day_and_hold_the_contract(tmp_path: Path) -> None:
    """Only the traffic rows are stored, one part per event day named by the run, each row with its request id,
    event and serving time, model, hash, raw inputs, score, latency, status and run id."""
    written = store.append(tmp_path, rows_of(serving_log(6, "2024-03-05"), "run-1"), "run-1")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "day=2024-03-01/part-run-1.parquet",
        "day=2024-03-02/part-run-1.parquet",
    ]
    back = store.read(tmp_path)
    assert len(back) == 6 and set(store.META) <= set(back.columns) and {"id", "ts", *FEATURES} <= set(back.columns)
    assert back[store.REQUEST_ID].tolist() == [f"r{i}" for i in range(6)]
    assert (back[store.MODEL_HASH] == "abc").all() and (back[store.RUN_ID] == "run-1").all()


def test_appending_twice_grows_the_store_and_a_replay_does_not_duplicate(tmp_path: Path) -> None:
    """A second run's new requests are added; the same requests served again are read once, the latest answer."""
    store.append(tmp_path, rows_of(serving_log(4, "2024-03-05", score=0.1), "run-1"), "run-1")
    store.append(tmp_path, rows_of(serving_log(4, "2024-03-06", score=0.9, start=2), "run-2"), "run-2")
    back = store.read(tmp_path)
    assert back[store.REQUEST_ID].tolist() == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert back.set_index(store.REQUEST_ID)[store.SCORE].to_dict() == {
        "r0": 0.1,
        "r1": 0.1,
        "r2": 0.9,
        "r3": 0.9,
        "r4": 0.9,
        "r5": 0.9,
    }
    assert len(store.parts(tmp_path)) == 3 and len(store.read(tmp_path, model_id="m-other")) == 0


def test_without_an_id_the_request_id_is_a_stable_hash_of_the_inputs(tmp_path: Path) -> None:
    """Rows with no id column get the same id from the same inputs in every run, so a replay still dedupes."""
    a = rows_of(serving_log(3, "2024-03-05", with_id=False), "run-1", with_id=False)
    b = rows_of(serving_log(3, "2024-03-06", with_id=False), "run-2", with_id=False)
    assert a[store.REQUEST_ID].tolist() == b[store.REQUEST_ID].tolist() and a[store.REQUEST_ID].nunique() == 3
    store.append(tmp_path, a, "run-1")
    store.append(tmp_path, b, "run-2")
    assert len(store.read(tmp_path)) == 3


def test_event_time_falls_back_to_when_served(tmp_path: Path) -> None:
    """Without a timestamp column the request's event time is when it was served."""
    log = serving_log(2, "2024-03-05 10:00")
    rows = store.served_rows(log, FEATURES, id_column="id", timestamp=None, run_id="r", model_hash=None)
    assert (rows[store.EVENT_AT] == pd.Timestamp("2024-03-05 10:00", tz="UTC")).all()


def test_a_failed_write_leaves_no_part_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    """The part is renamed into place only once fully written: a crash mid-write leaves the store as it was."""
    store.append(tmp_path, rows_of(serving_log(2, "2024-03-05"), "run-1"), "run-1")

    def broken(self, path, **kw):  # noqa: ANN001 (pandas' signature)
        Path(path).write_bytes(b"half a part")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        store.append(tmp_path, rows_of(serving_log(2, "2024-03-06", start=5), "run-2"), "run-2")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["part-run-1.parquet"]
    assert len(store.read(tmp_path)) == 2


def test_an_empty_store_reads_as_no_rows(tmp_path: Path) -> None:
    """Nothing served yet: an empty frame with the store's columns, not an error."""
    assert store.read(tmp_path / "none").empty


def test_a_name_clash_with_the_store_columns_is_a_config_error() -> None:
    """A feature named like a store column would be overwritten: a one-line error naming it."""
    log = serving_log(2, "2024-03-05").rename(columns={"x": "event_at"})
    with pytest.raises(ConfigError, match="'event_at'"):
        store.served_rows(log, ["event_at", "c"], id_column="id", timestamp="ts", run_id="r", model_hash=None)


def inputs(tmp_path: Path, **kw) -> Inputs:
    return Inputs(train=tmp_path / "t.csv", test=tmp_path / "s.csv", current=tmp_path / "cur.csv", target="y", **kw)


def test_labels_file_is_joined_by_id_and_request_id(tmp_path: Path) -> None:
    """A feedback file keyed by the id column (or request_id) labels the requests it names; the others stay
    unlabelled; a repeated key keeps its last (corrected) label."""
    requests = rows_of(serving_log(4, "2024-03-05"), "run-1")
    pd.DataFrame({"id": ["r0", "r1", "r1"], "y": [1, 1, 0]}).to_csv(tmp_path / "fb.csv", index=False)
    found, source = labels.feedback(inputs(tmp_path, id="id", labels=tmp_path / "fb.csv"), FEATURES)
    joined = labels.join(requests, found)
    assert source.endswith("fb.csv") and joined.tolist()[:2] == [1.0, 0.0] and joined.iloc[2:].isna().all()
    pd.DataFrame({"request_id": ["r3"], "y": [1]}).to_parquet(tmp_path / "fb.parquet")
    found, _ = labels.feedback(inputs(tmp_path, labels=tmp_path / "fb.parquet"), FEATURES)
    assert labels.join(requests, found).iloc[3] == 1.0


def test_without_a_labels_file_the_current_batch_target_is_the_feedback(tmp_path: Path) -> None:
    """The current batch's own target labels the requests; a batch without it gives no labels (not zeros)."""
    pd.DataFrame({"id": ["r0", "r1"], "x": [0.0, 1.0], "c": "a", "y": [0, 1]}).to_csv(tmp_path / "cur.csv", index=False)
    found, _ = labels.feedback(inputs(tmp_path, id="id"), FEATURES)
    assert labels.join(rows_of(serving_log(2, "2024-03-05"), "r"), found).tolist() == [0.0, 1.0]
    pd.DataFrame({"id": ["r0"], "x": [0.0], "c": "a"}).to_csv(tmp_path / "cur.csv", index=False)
    assert labels.feedback(inputs(tmp_path, id="id"), FEATURES) == (None, labels.NONE)


def test_a_labels_file_without_key_or_with_other_values_is_a_config_error(tmp_path: Path) -> None:
    """No key column, or a target that is not 0/1: one line naming the file and what was expected."""
    pd.DataFrame({"flight": ["a"], "y": [1]}).to_csv(tmp_path / "fb.csv", index=False)
    with pytest.raises(ConfigError, match="no key column"):
        labels.feedback(inputs(tmp_path, labels=tmp_path / "fb.csv"), FEATURES)
    pd.DataFrame({"request_id": ["a"], "y": [3]}).to_csv(tmp_path / "fb.csv", index=False)
    with pytest.raises(ConfigError, match=r"must be binary, found values \[.3.\]"):
        labels.feedback(inputs(tmp_path, labels=tmp_path / "fb.csv"), FEATURES)
