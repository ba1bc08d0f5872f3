"""slices: the gate metric per category, judged at each slice's upper bound against the floor (or the whole
model's own score, where lower). Clean categories are quiet; a category where the model has no skill is named
with its size; small slices are reported, not judged; a model poor everywhere is test_score's, not a slice's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigError
from tasks.evaluation import slices
from tasks.evaluation.inputs import EvaluationInputs
from tasks.limits import Floor
from tasks.params import EvaluationParams
from tasks.result import Severity

P = EvaluationParams().slices


def record(rows: int = 4000, seed: int = 0, scrambled: str | None = None) -> EvaluationInputs:
    """Calibrated scores with honest skill; `region` has six categories (the scores depend on it a little),
    `tier` two, `row_id` is an identifier; in the `scrambled` region the labels do not follow the scores."""
    rng = np.random.default_rng(seed)
    region = rng.choice(list("ABCDEF"), size=rows)
    latent = rng.normal(size=rows) + 0.3 * (region == "A")
    p = 1 / (1 + np.exp(-(-1.2 + 1.5 * latent)))
    y = (rng.random(rows) < p).astype(int)
    if scrambled:
        where = region == scrambled
        y[where] = rng.permutation(y[where])
    test = pd.DataFrame(
        {
            "region": region,
            "tier": rng.choice(["gold", "basic"], size=rows),
            "row_id": [f"r{i}" for i in range(rows)],
            "amount": rng.normal(size=rows),
        }
    )
    return EvaluationInputs(
        test=test,
        test_file=Path("test.parquet"),
        labels=y,
        scores=p,
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="models:/m-1",
        candidate_id="m-1",
        registered_model="m",
        alias="champion",
        features=("region", "tier", "row_id", "amount"),
    )


def run(x: EvaluationInputs, p: slices.Params = P):
    m = slices.measure(x, p)
    return m, slices.judge(m, p)


def test_clean_categories_are_quiet():
    """Every slice of a model with the same skill everywhere: one info summary, no verdict."""
    m, found = run(record())
    assert [f.severity for f in found] == [Severity.info]
    assert set(m.columns) == {"region", "tier"} and m.metrics()["judged"] == 8


def test_only_categorical_features_are_sliced_and_ranked_by_what_the_scores_depend_on():
    """Numbers and identifiers are not sliced; the category the scores depend on comes first."""
    m, _ = run(record())
    assert m.columns[0] == "region" and m.importance["region"] > m.importance["tier"]
    assert "row_id" not in m.importance and "amount" not in m.importance


def test_a_slice_where_the_model_has_no_skill_is_named_with_its_size():
    """Region C's labels do not follow the scores: a finding naming the slice and its rows, worst first."""
    m, found = run(record(scrambled="C"))
    bad = [f for f in found if f.severity is not Severity.info]
    assert bad and bad[0].evidence["column"] == "region" and bad[0].evidence["category"] == "C"
    rows = int((m.table.query("column == 'region' and category == 'C'"))["rows"].item())
    assert f"({rows:,} test rows" in bad[0].message and bad[0].columns == ["region"]
    assert all(f.evidence["category"] == "C" for f in bad)


def test_small_slices_are_reported_not_judged():
    """The same scrambled region on 300 rows: its interval is too wide to fail, and slices under min_rows are
    listed as not judged."""
    m, found = run(record(rows=300, scrambled="C"), P.model_copy(update={"min_rows": 60}))
    assert not [f for f in found if f.severity is Severity.fail]
    assert (~m.table["judged"]).any() and "not judged" in found[-1].message


def test_named_columns_are_used_and_a_missing_one_is_a_config_error():
    m, _ = run(record(), slices.Params(columns=["tier"]))
    assert m.columns == ("tier",) and m.named
    with pytest.raises(ConfigError, match="nowhere"):
        run(record(), slices.Params(columns=["nowhere"]))


def test_a_model_poor_everywhere_is_not_a_slice_finding():
    """Scores that rank nothing: every slice is as poor as the whole, which is test_score's finding."""
    x = record()
    x = replace(x, scores=np.random.default_rng(9).random(len(x.labels)))
    m, found = run(x, slices.Params(floor=Floor(warn=0.65, fail=0.55)))
    assert [f.severity for f in found] == [Severity.info] and m.overall < 0.55


def test_evidence_is_every_slice_and_the_worst_as_bars(tmp_path: Path):
    m, _ = run(record(scrambled="C"))
    files = m.evidence(tmp_path)
    assert files == ["slices.json", "slices_worst.png", "slices_worst.csv"]
    worst = pd.read_csv(tmp_path / "slices_worst.csv")
    assert worst["slice"].iloc[0] == "region = C" and (worst["low"] <= worst["upper"]).all()


def test_a_slice_worse_than_a_failing_model_is_a_warning_not_a_second_fail():
    """The whole model under the fail floor is test_score's fail; a slice that ranks backwards is still named,
    as a warning."""
    x = record()
    scores = np.random.default_rng(9).random(len(x.labels))
    c = (x.test["region"] == "C").to_numpy()
    scores[c] = 1.0 - x.labels[c] * 0.5 - 0.25  # ranks region C backwards
    m, found = run(replace(x, scores=scores), slices.Params(floor=Floor(warn=0.65, fail=0.55)))
    assert m.overall < 0.55
    flagged = [f for f in found if f.severity is not Severity.info]
    assert [(f.severity, f.evidence["category"]) for f in flagged] == [(Severity.warn, "C")]
