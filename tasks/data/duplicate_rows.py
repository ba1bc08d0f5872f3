"""Duplicate rows: the same rows repeated in a snapshot (an ingestion job that ran twice, a join that fanned
out). Repeats weigh those rows double in training and can put the same row on both sides of a split.

Two measures, as shares of the snapshot's rows: extra copies of whole rows (every column, nothing excluded)
and extra occurrences of an `inputs.id` value (the same entity twice, whatever else differs)."""

from __future__ import annotations

import pandas as pd

from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

CHECK = "duplicate_rows"
EXAMPLES = 5


def _examples(df: pd.DataFrame, repeated: pd.Series, id_column: str | None) -> list[str]:
    rows = df[repeated]
    values = rows[id_column] if id_column and id_column in rows.columns else pd.Series(rows.index)
    return [str(v) for v in pd.unique(values)[:EXAMPLES]]


def duplicate_rows(
    df: pd.DataFrame, batch: str, id_column: str | None, row_limit: Limit, id_limit: Limit
) -> list[Finding]:
    """A finding per measure that reaches its warn limit; one info line when neither does."""
    n = len(df)
    if n == 0:
        return [Finding(check=CHECK, severity=Severity.info, message=f"{batch}: no rows")]
    found: list[Finding] = []
    try:
        repeated = df.duplicated(keep="first")
    except TypeError:  # unhashable cells (lists from a nested Parquet column): compare their text
        repeated = df.astype(str).duplicated(keep="first")
    copies = int(repeated.sum())
    share = copies / n
    rows_finding = judge(
        CHECK,
        share,
        row_limit.warn,
        row_limit.fail,
        f"{batch}: {copies:,} rows ({100 * share:.2f}%) are exact copies of another row (every column equal)"
        + (f", e.g. {', '.join(_examples(df, repeated, id_column))}" if copies else ""),
        evidence={"batch": batch, "kind": "whole_row", "copies": copies, "rows": n, "share": share},
    )
    if rows_finding.severity is not Severity.info:
        found.append(rows_finding)
    id_share = None
    if id_column and id_column in df.columns:
        ids = df[id_column]
        again = ids.notna() & ids.duplicated(keep="first")
        extra = int(again.sum())
        id_share = extra / n
        id_finding = judge(
            CHECK,
            id_share,
            id_limit.warn,
            id_limit.fail,
            f"{batch}: {extra:,} rows ({100 * id_share:.2f}%) repeat an `{id_column}` already seen"
            + (f", e.g. {', '.join(str(v) for v in pd.unique(ids[again])[:EXAMPLES])}" if extra else ""),
            columns=[id_column],
            evidence={"batch": batch, "kind": "id", "repeats": extra, "rows": n, "share": id_share},
        )
        if id_finding.severity is not Severity.info:
            found.append(id_finding)
    if not found:
        ids_text = "" if id_share is None else f", {100 * id_share:.2f}% repeated `{id_column}`"
        found.append(
            Finding(
                check=CHECK,
                severity=Severity.info,
                message=f"{batch}: {100 * share:.2f}% repeated rows{ids_text} in {n:,}",
                evidence={"batch": batch, "copies": copies, "rows": n, "id_share": id_share},
            )
        )
    return found
