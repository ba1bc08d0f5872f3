"""Split checks, run before fitting: the trusted test set must be unseen by training, and (with a timestamp)
come after it. A test row that is also a training row makes every score on the test set a memory test."""

from __future__ import annotations

import pandas as pd

from tasks.limits import Limit
from tasks.result import Finding, Severity, judge, severity_for

_RANK = {Severity.info: 0, Severity.warn: 1, Severity.fail: 2}
_EXAMPLES = 5


def row_hashes(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One hash per row of `columns`, comparable across files: numbers as float64 (an int column read back
    as float is the same value), everything else as text (NaN hashes alike on both sides)."""
    normal = pd.DataFrame(index=df.index)
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            normal[col] = s.astype("float64")
        elif isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            normal[col] = pd.to_datetime(s, utc=True).astype(str)
        else:
            normal[col] = s.astype(str)
    return pd.util.hash_pandas_object(normal, index=False)


def twin_share(hashes: pd.Series) -> float:
    """Share of rows that have an identical twin within the same set: how often the data repeats itself."""
    return float(hashes.duplicated(keep=False).mean()) if len(hashes) else 0.0


def split_overlap(
    train: pd.DataFrame,
    test: pd.DataFrame,
    key: str | None,
    columns: list[str],
    by_key: Limit,
    by_row: Limit,
) -> Finding:
    """Test rows that are also training rows: by key (`inputs.id`), and by a hash of the feature and target
    columns (a copy whose id was regenerated). Identical rows also occur naturally when the columns take few
    values, so the full-row share is judged beyond the share of training rows that have a twin within
    training; a shared key is judged as is."""
    n = len(test)
    columns = [c for c in columns if c in train.columns and c in test.columns]
    key_rows = pd.Series(False, index=test.index)
    if key and key in train.columns and key in test.columns:
        key_rows = test[key].isin(train[key].dropna()) & test[key].notna()
    if columns:
        train_hashes, test_hashes = row_hashes(train, columns), row_hashes(test, columns)
        hash_rows, natural = test_hashes.isin(train_hashes), twin_share(train_hashes)
    else:  # nothing in common to hash: only the key can tell
        hash_rows, natural = pd.Series(False, index=test.index), 0.0
    key_share = float(key_rows.mean()) if n else 0.0
    row_share = float(hash_rows.mean()) if n else 0.0
    excess = max(0.0, row_share - natural)
    severity = max(
        severity_for(key_share, by_key.warn, by_key.fail),
        severity_for(excess, by_row.warn, by_row.fail),
        key=_RANK.__getitem__,
    )
    either = key_rows | hash_rows
    examples = (
        test.loc[either, key].astype(str).head(_EXAMPLES).tolist()
        if key and key in test.columns
        else test.index[either][:_EXAMPLES].tolist()
    )
    key_part = f"{int(key_rows.sum()):,} by key {key!r}" if key else "no key (inputs.id) to match by"
    message = (
        f"{int(either.sum()):,} of {n:,} trusted test rows ({either.mean() if n else 0.0:.2%}) are also in training: "
        f"{key_part}, {int(hash_rows.sum()):,} ({row_share:.2%}) by a hash of {len(columns)} feature and target "
        f"columns, where {natural:.2%} is expected from rows repeating within training"
    )
    if severity is not Severity.info:
        message += "; test scores on these rows measure memory, not generalisation: remove them from training"
    return Finding(
        check="split_overlap",
        severity=severity,
        message=message,
        columns=[key] if key and key_rows.any() else [],
        evidence={
            "test_rows": n,
            "by_key": int(key_rows.sum()),
            "by_key_share": key_share,
            "by_row_hash": int(hash_rows.sum()),
            "by_row_hash_share": row_share,
            "training_twin_share": natural,
            "by_row_hash_excess": excess,
            "hashed_columns": columns,
            "limits": {"by_key": by_key.model_dump(), "by_row_hash_excess": by_row.model_dump()},
            "examples": examples,
        },
    )


def temporal_overlap(train: pd.DataFrame, test: pd.DataFrame, timestamp: str, limit: Limit) -> Finding:
    """Test rows earlier than the latest training row: the model was fitted on the future of what it is
    tested on, so the test score flatters it for forecasting. Judged on the share of such test rows; the
    message names the window where the two splits overlap and how many training rows fall in it."""
    train_ts = pd.to_datetime(train[timestamp], utc=True, errors="coerce").dropna()
    test_ts = pd.to_datetime(test[timestamp], utc=True, errors="coerce").dropna()
    if train_ts.empty or test_ts.empty:
        return Finding(
            check="temporal_overlap",
            severity=Severity.info,
            message=f"no readable {timestamp!r} values in training or test: the order of the splits is unknown",
            columns=[timestamp],
        )
    latest_train = train_ts.max()
    earlier = test_ts < latest_train
    share = float(earlier.mean())
    if not earlier.any():
        gap = test_ts.min() - latest_train
        return judge(
            "temporal_overlap",
            0.0,
            limit.warn,
            limit.fail,
            f"the trusted test set starts {gap} after the latest training row ({latest_train}): no overlap in time",
            columns=[timestamp],
            evidence={"latest_train": latest_train, "earliest_test": test_ts.min(), "gap_hours": _hours(gap)},
        )
    start = max(test_ts.min(), train_ts.min())
    end = min(latest_train, test_ts.max())
    train_in_window = int(((train_ts >= start) & (train_ts <= end)).sum())
    return judge(
        "temporal_overlap",
        share,
        limit.warn,
        limit.fail,
        f"{int(earlier.sum()):,} of {len(test_ts):,} trusted test rows ({share:.2%}) are earlier than the latest "
        f"training row: training and test overlap from {start} to {end} ({_hours(end - start):,.1f} h), with "
        f"{train_in_window:,} training rows in that window; the model has seen the future of what it is tested "
        f"on: split by time",
        columns=[timestamp],
        evidence={
            "test_rows_earlier": int(earlier.sum()),
            "window_start": start,
            "window_end": end,
            "window_hours": _hours(end - start),
            "training_rows_in_window": train_in_window,
            "latest_train": latest_train,
            "earliest_test": test_ts.min(),
        },
    )


def _hours(delta: pd.Timedelta) -> float:
    return delta.total_seconds() / 3600.0


def split_findings(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    key: str | None,
    timestamp: str | None,
    columns: list[str],
    by_key: Limit,
    by_row: Limit,
    temporal: Limit,
) -> list[Finding]:
    """Every split check that the inputs allow; without a timestamp the temporal one is absent, and said so."""
    findings = [split_overlap(train, test, key, columns, by_key, by_row)]
    if timestamp and timestamp in train.columns and timestamp in test.columns:
        findings.append(temporal_overlap(train, test, timestamp, temporal))
    else:
        findings.append(
            Finding(
                check="temporal_overlap",
                severity=Severity.info,
                message="no inputs.timestamp: whether the test set comes after training was not checked",
            )
        )
    return findings


def split_metrics(findings: list[Finding]) -> dict[str, float]:
    """The split shares as flat metrics (for `dvc metrics diff` and MLflow), read from the findings' evidence."""
    metrics: dict[str, float] = {}
    for f in findings:
        if f.check == "split_overlap":
            metrics["split_overlap_by_key_share"] = float(f.evidence["by_key_share"])
            metrics["split_overlap_row_excess"] = float(f.evidence["by_row_hash_excess"])
        elif f.check == "temporal_overlap" and "value" in f.evidence:
            metrics["temporal_overlap_share"] = float(f.evidence["value"])
    return metrics
