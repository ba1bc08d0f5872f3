"""Duplicate rows: whole rows repeated and ids repeated, as counts and shares of the snapshot."""

from __future__ import annotations

import pandas as pd

from tasks.data import duplicate_rows as check
from tasks.result import Finding, Severity
from tests.checking import findings
from tests.data_inputs import data_inputs


def duplicate_rows(df: pd.DataFrame, name: str, id_column: str | None) -> list[Finding]:
    """The check (default limits: whole rows warn 0.1% / fail 1%, ids warn 0 / fail 0.1%) on one snapshot."""
    train, batches = (df, {}) if name == "train" else (df.iloc[:0], {name: df})
    return [f for f in findings(check, data_inputs(train, batches, id=id_column)) if f.message.startswith(name)]


def snapshot(rows: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"f{k}" for k in range(rows)], "x": [k % 7 for k in range(rows)], "y": 0})


def test_distinct_rows_are_quiet() -> None:
    """No repeats: one info line with the shares."""
    found = duplicate_rows(snapshot(), "train", "id")
    assert [f.severity for f in found] == [Severity.info]
    assert "0.00% repeated rows" in found[0].message


def test_rows_appended_twice_fail_with_count_and_share() -> None:
    """10% of the rows appended again: a fail with the count, the share and example ids (and the ids repeat)."""
    df = snapshot()
    twice = pd.concat([df, df.iloc[:100]], ignore_index=True)
    found = duplicate_rows(twice, "train", "id")
    whole = [f for f in found if f.evidence.get("kind") == "whole_row"]
    assert whole[0].severity is Severity.fail
    assert "100 rows (9.09%)" in whole[0].message and "f0" in whole[0].message
    assert any(f.evidence.get("kind") == "id" and f.severity is Severity.fail for f in found)


def test_a_repeated_id_with_other_values_is_its_own_finding() -> None:
    """The same ids on other rows (0.5%): not whole-row copies, but repeated ids."""
    df = snapshot()
    df.loc[10:14, "id"] = "f4"
    found = duplicate_rows(df, "train", "id")
    assert [(f.evidence.get("kind"), f.severity) for f in found] == [("id", Severity.fail)]
    assert found[0].columns == ["id"]


def test_without_an_id_only_whole_rows_count() -> None:
    """No id column: rows differing in any column are distinct."""
    df = snapshot().drop(columns=["id"])
    found = duplicate_rows(df, "test", None)
    assert found[0].severity is Severity.fail  # x takes 7 values and y one: rows repeat
    assert duplicate_rows(snapshot(), "test", None)[0].severity is Severity.info
