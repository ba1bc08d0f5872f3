"""Duplicate rows: rows with an identical twin beyond the share the table's own values predict (rows of an
independent sample finding a twin among as many rows), on training, the test set and the current batch; and
repeated ids, as counts and shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data import duplicate_rows as check
from tasks.data.duplicate_rows import found_share
from tasks.result import Finding, Severity
from tests.checking import checked, findings
from tests.data_inputs import data_inputs


def duplicate_rows(df: pd.DataFrame, name: str, id_column: str | None) -> list[Finding]:
    """The check (default limits: excess twin share warn 0.2% / fail 2%, ids warn 0 / fail 0.1%) on one
    snapshot alone (no independent sample: the raw share is judged)."""
    train, batches = (df, {}) if name == "train" else (df.iloc[:0], {name: df})
    return [f for f in findings(check, data_inputs(train, batches, id=id_column)) if f.message.startswith(name)]


def snapshot(rows: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"f{k}" for k in range(rows)], "x": [k % 7 for k in range(rows)], "y": 0})


def few_valued(rows: int, seed: int) -> pd.DataFrame:
    """A survey-like table: four answers of 2-4 levels each and a 0/1 label; most rows have a twin by nature."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "gender": rng.choice(["F", "M"], rows),
            "item": rng.choice(["curse", "scold", "shout"], rows),
            "mode": rng.choice(["want", "do"], rows),
            "anger": rng.integers(0, 4, rows),
        }
    )
    return df.assign(y=(rng.random(rows) < 0.4).astype("int64"))


def measured(train: pd.DataFrame, batches: dict[str, pd.DataFrame]) -> tuple[list[Finding], check.Measurement]:
    run = checked(check, data_inputs(train, batches))
    assert not [f for f in run.findings if f.check == "check_error"]
    return run.findings, run.measurements["duplicate_rows"]


def test_distinct_rows_are_quiet() -> None:
    """No repeats: one info line with the shares."""
    found = duplicate_rows(snapshot(), "train", "id")
    assert [f.severity for f in found] == [Severity.info]
    assert "0.00% of 1,000 rows have an identical twin" in found[0].message


def test_rows_appended_twice_fail_with_count_and_share() -> None:
    """10% of the rows appended again: a fail with the share of rows with a twin, the count of copies, example
    ids (and the ids repeat)."""
    df = snapshot()
    twice = pd.concat([df, df.iloc[:100]], ignore_index=True)
    found = duplicate_rows(twice, "train", "id")
    whole = [f for f in found if f.evidence.get("kind") == "whole_row"]
    assert whole[0].severity is Severity.fail
    assert "18.18% of 1,100 rows have an identical twin" in whole[0].message
    assert "100 rows are copies of an earlier row" in whole[0].message and "f0" in whole[0].message
    assert any(f.evidence.get("kind") == "id" and f.severity is Severity.fail for f in found)


def test_a_repeated_id_with_other_values_is_its_own_finding() -> None:
    """The same ids on other rows (0.5%): not whole-row copies, but repeated ids."""
    df = snapshot()
    df.loc[10:14, "id"] = "f4"
    found = duplicate_rows(df, "train", "id")
    assert [(f.evidence.get("kind"), f.severity) for f in found] == [("id", Severity.fail)]
    assert found[0].columns == ["id"]


def test_a_few_valued_table_repeats_by_nature_and_is_quiet() -> None:
    """A small table of few-valued columns: nearly every row has a twin, in training, the test set and the
    current batch alike; the test set's rows find one in training as often: quiet, observed and expected
    named."""
    found, m = measured(few_valued(600, 0), {"test": few_valued(200, 1), "current": few_valued(200, 2)})
    assert [f.severity for f in found] == [Severity.info] * 3
    train = m.found[0]
    assert train.share > 0.9 and train.expected is not None and abs(train.excess) < 0.05
    assert "expected (rows of the test set finding a twin among as many train rows)" in found[0].message
    # nearly every row has a twin by nature: copies cannot show, and the finding says how many could hide
    assert "a copy of up to" in found[0].message and "would hide" in found[0].message


def thrice(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df.index.repeat(3)].reset_index(drop=True)


def test_a_current_batch_written_three_times_fails() -> None:
    """A logging bug writes every current row three times: every row has a twin, where rows of training find
    one among as many current rows far less often (a few-valued table with an age: a third of its rows have a
    twin by nature); a fail naming both shares. The same on a table whose rows are all distinct by nature."""
    rng = np.random.default_rng(99)

    def aged(rows: int, seed: int) -> pd.DataFrame:
        return few_valued(rows, seed).assign(age=rng.integers(18, 70, rows))

    def measures(rows: int, seed: int) -> pd.DataFrame:
        return pd.DataFrame({"id": [f"r{seed}.{k}" for k in range(rows)], "x": rng.normal(size=rows), "y": 0})

    for table in (aged, measures):
        found, m = measured(table(900, 0), {"test": table(300, 1), "current": thrice(table(300, 2))})
        failed = [f for f in found if f.severity is Severity.fail and f.evidence.get("kind") == "whole_row"]
        assert [f.evidence["batch"] for f in failed] == ["current"]
        assert "100.00% of 900 rows have an identical twin" in failed[0].message
        assert m.found[2].expected < 0.9 and abs(m.found[0].excess) < 0.1


def test_a_near_unique_column_leaves_no_natural_twins() -> None:
    """A table with a measurement column has no natural twins: expected is 0 and 5% of rows copied fail as
    they would raw."""
    rng = np.random.default_rng(0)

    def table(rows: int) -> pd.DataFrame:
        return pd.DataFrame({"kind": rng.choice(["a", "b"], rows), "km": rng.gamma(2.0, 300.0, rows), "y": 0})

    train = table(2000)
    copied = pd.concat([train, train.iloc[:100]], ignore_index=True)
    found, m = measured(copied, {"test": table(600)})
    assert m.found[0].expected == 0.0
    failed = [f for f in found if f.severity is Severity.fail]
    assert len(failed) == 1 and "9.52% of 2,100 rows" in failed[0].message and "0.00% expected" in failed[0].message


def test_a_moved_column_is_left_out_not_blamed_as_copies() -> None:
    """A current batch whose few-valued column shifted (and another that gained nulls) would stop training's
    rows from finding twins in it; those columns are left out of the comparison, named, and the batch is
    quiet."""
    current = few_valued(300, 2)
    current["anger"] = current["anger"] + 10
    current.loc[: len(current) // 2, "gender"] = None
    found, m = measured(few_valued(900, 0), {"test": few_valued(300, 1), "current": current})
    assert all(f.severity is Severity.info for f in found)
    assert {c for c, _ in m.found[2].left_out} >= {"anger", "gender"}
    assert "left out" in found[2].message


def test_a_label_change_is_not_a_duplicate() -> None:
    """Rows are compared on the inputs: a training set whose labels were recomputed (or flipped) changes
    which rows match the test set's, but the label is the label checks'."""
    train = few_valued(900, 0)
    train["y"] = 1 - train["y"]
    found, m = measured(train, {"test": few_valued(300, 1)})
    assert all(f.severity is Severity.info for f in found)
    assert "y" not in m.found[0].columns


def test_tiny_tables_stay_within_their_noise() -> None:
    """Twenty rows against a twenty-row reference: the natural rate is known only roughly, and a difference of
    a few rows is within it (quiet); three copies of every row are not."""
    train, test = few_valued(20, 0), few_valued(20, 1)
    found, _ = measured(train, {"test": test})
    assert all(f.severity is Severity.info for f in found)
    found, _ = measured(thrice(train), {"test": test})
    assert [f.evidence["batch"] for f in found if f.severity is Severity.fail] == ["train"]


def test_found_share_is_the_hypergeometric_expectation() -> None:
    """The share of probes whose value is among k rows drawn from a pool, exactly: one match in a pool of 4,
    2 drawn, is found half the time; a row drawn among the others of its own pool, with one twin among 3
    others, 2 drawn: two thirds."""
    assert abs(found_share(np.array([0]), np.array([0, 1, 2, 3]), 2) - 0.5) < 1e-12
    pool = np.array([0, 0, 1, 2])
    assert abs(found_share(np.array([0]), pool, 2, itself=False) - (1 - 1 / 6)) < 1e-12
    assert abs(found_share(pool, pool, 2, itself=True) - (2 / 3 + 2 / 3 + 0 + 0) / 4) < 1e-12
