"""The evaluation layer's checks on small in-memory inputs: test_set_changed, test_labels, test_score and
challenger_worse, each quiet on a clean case and firing on its fault; and the layer's params sections."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import yaml

from tasks.checks import CheckParams, NoParams
from tasks.errors import ConfigError
from tasks.evaluation import challenger_worse, test_labels, test_score, test_set_changed
from tasks.evaluation.champion import Champion, ChampionScores
from tasks.evaluation.checks import CHECKS
from tasks.evaluation.inputs import EvaluationInputs
from tasks.limits import Floor
from tasks.params import EvaluationParams, load_params
from tasks.provenance import file_md5
from tasks.result import Finding, Severity
from tests.conftest import REPO

P = EvaluationParams()
LABELS = np.array([0, 0, 1, 1, 0, 1, 0, 1])
GOOD = np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7, 0.4, 0.6])  # a perfect ranking
POOR = np.array([0.6, 0.2, 0.4, 0.9, 0.7, 0.3, 0.1, 0.8])
CHAMPION = Champion("m", "champion", "3", "models:/m-abc", "run1", "m-abc")


@pytest.fixture
def test_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.csv"
    path.write_text("x,y\n1,0\n2,1\n")
    return path


def inputs(**changes) -> EvaluationInputs:
    """A clean record: both classes, a good candidate, no champion yet."""
    x = EvaluationInputs(
        test=pd.DataFrame({"y": LABELS}),
        test_file=Path("test.csv"),
        labels=LABELS,
        scores=GOOD,
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="models:/m-new",
        candidate_id="m-new",
        registered_model="m",
        alias="champion",
    )
    return replace(x, **changes)


def run(check: ModuleType, x: EvaluationInputs, params: CheckParams | None = None) -> list[Finding]:
    """measure then judge, with the check's params from the layer's defaults unless given."""
    p = params or getattr(P, check.__name__.rsplit(".", 1)[-1], NoParams())
    return check.judge(check.measure(x, p), p)


def test_checks_run_in_diagnostic_order():
    """The test set's pin and labels first (they void every score), then the floor, then the champion."""
    assert [c.name for c in CHECKS] == [
        "test_set_changed",
        "test_labels",
        "test_score",
        "wrong_metric",
        "bad_threshold",
        "slices",
        "spurious_feature",
        "challenger_worse",
    ]


def test_test_set_matching_its_pin_is_quiet(test_file: Path):
    """The trusted test set hashes to its pin: info, naming the pin."""
    [f] = run(test_set_changed, inputs(test_file=test_file, test_pin=file_md5(test_file)))
    assert f.severity is Severity.info and "matches its pin" in f.message


def test_test_set_not_matching_its_pin_fails(test_file: Path):
    """Another md5 than the pinned one fails with expected vs found."""
    [f] = run(test_set_changed, inputs(test_file=test_file, test_pin="0" * 32))
    assert f.severity is Severity.fail
    assert f.evidence["expected_md5"] == "0" * 32 and f.evidence["found_md5"] == file_md5(test_file)


def test_unpinned_test_set_is_said_not_passed(test_file: Path):
    """Without a pin nothing is compared: info saying how to pin it."""
    [f] = run(test_set_changed, inputs(test_file=test_file))
    assert f.severity is Severity.info and "not pinned" in f.message


def test_two_classes_are_quiet():
    """Both classes present: info with the positive count."""
    [f] = run(test_labels, inputs())
    assert f.severity is Severity.info and f.evidence["positives"] == 4


def test_one_class_fails_the_labels_check():
    """A test set with one class cannot be ranked: fail."""
    [f] = run(test_labels, inputs(labels=np.ones(8, dtype=int)))
    assert f.severity is Severity.fail and "only class [1]" in f.message


def test_score_fires_below_the_floor():
    """Below the fail floor is a fail, between the floors a warn."""
    x = inputs(scores=POOR)
    value = test_score.measure(x, P.test_score).value
    [f] = run(test_score, x, test_score.Params(floor=Floor(warn=value + 0.2, fail=value + 0.1)))
    assert f.severity is Severity.fail and f.evidence["value"] == value
    [w] = run(test_score, x, test_score.Params(floor=Floor(warn=value + 0.1, fail=value - 0.1)))
    assert w.severity is Severity.warn


def test_score_quiet_above_the_floor_and_is_the_metric():
    """A score above both floors is info; every score is a metric (test_score.roc_auc, ...)."""
    [f] = run(test_score, inputs())
    assert f.severity is Severity.info and f.evidence["value"] == 1.0
    metrics = test_score.measure(inputs(), P.test_score).metrics()
    assert metrics["roc_auc"] == 1.0 and metrics["true_positives"] == 4


def test_undefined_score_is_a_failure_not_a_pass():
    """A NaN score (one class) is never judged as passing."""
    [f] = run(test_score, inputs(labels=np.ones(8, dtype=int)))
    assert f.severity is Severity.fail and "undefined" in f.message


def test_no_champion_is_info_and_says_first_run():
    """The first run reports that there is no champion; it is not a passed comparison, and has no margin."""
    [f] = run(challenger_worse, inputs())
    assert f.severity is Severity.info and "no champion yet" in f.message
    assert "margin" not in f.evidence
    assert challenger_worse.measure(inputs(), P.challenger_worse).metrics() == {}


def _pair(rows: int, noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, a champion's scores, and a challenger's: the champion's plus `noise` (a worse ranking)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.3).astype(int)
    champion = y + rng.normal(0, 1.0, rows)
    return y, champion, champion + rng.normal(0, noise, rows)


def test_worse_challenger_fails_with_both_scores_and_the_margin():
    """A champion clearly better than the challenger on the same rows fails the margin, judged at the upper
    bound of the paired bootstrap interval, which lies below the floor."""
    y, champ, chal = _pair(2000, 2.0)
    x = inputs(
        labels=y, scores=chal, test=pd.DataFrame({"y": y}), champion=CHAMPION, champion_scores=ChampionScores(champ)
    )
    [f] = run(challenger_worse, x)
    m = challenger_worse.measure(x, P.challenger_worse)
    assert f.severity is Severity.fail and f.evidence["champion_version"] == "3"
    assert math.isclose(f.evidence["margin"], m.challenger - m.champion_score) and m.margin < -0.1
    assert m.low < m.margin < m.high < P.challenger_worse.margin.fail and f.evidence["value"] == m.high
    assert m.metrics() == {"champion_roc_auc": m.champion_score, "margin": m.margin, "margin_upper": m.high}


def test_a_lower_score_the_rows_cannot_tell_from_noise_does_not_fail():
    """Eight rows: the challenger's margin is far below the floor, but the paired interval reaches above it
    (the rows cannot show it is worse): not a fail, and the message says why."""
    x = inputs(scores=POOR, champion=CHAMPION, champion_scores=ChampionScores(scores=GOOD))
    [f] = run(challenger_worse, x)
    assert f.evidence["margin"] == -0.25 and f.evidence["margin_upper"] >= P.challenger_worse.margin.warn
    assert f.severity is Severity.info and "within what resampling" in f.message


def test_a_slightly_different_retrain_is_quiet():
    """A retrain whose scores differ a little (its margin near 0 either way) stays quiet on many rows."""
    y, champ, chal = _pair(3000, 0.1)
    x = inputs(
        labels=y, scores=chal, test=pd.DataFrame({"y": y}), champion=CHAMPION, champion_scores=ChampionScores(champ)
    )
    [f] = run(challenger_worse, x)
    assert f.severity is Severity.info and abs(f.evidence["margin"]) < 0.01


def test_equal_challenger_is_quiet_and_knows_it_is_the_same_model():
    """The champion itself as challenger: margin 0, info, and the evidence says it is the same model."""
    x = inputs(candidate_id="m-abc", champion=CHAMPION, champion_scores=ChampionScores(scores=GOOD))
    [f] = run(challenger_worse, x)
    assert f.severity is Severity.info and f.evidence["margin"] == 0.0 and f.evidence["same_model"] is True


def test_champion_that_cannot_score_is_a_warn_naming_why():
    """A champion needing a column the test set lacks is reported (warn, the column), not compared."""
    why = ChampionScores(reason="champion m v3 needs columns the test set lacks: ['x3']; not compared", columns=("x3",))
    x = inputs(champion=CHAMPION, champion_scores=why)
    [f] = run(challenger_worse, x)
    assert f.severity is Severity.warn and f.columns == ["x3"] and "x3" in f.message
    assert challenger_worse.measure(x, P.challenger_worse).metrics() == {}


@pytest.mark.parametrize(
    ("old", "new"), [("min_score", "test_score.floor"), ("champion_margin", "challenger_worse.margin")]
)
def test_old_flat_keys_name_their_new_place(tmp_path: Path, old: str, new: str):
    """A params.yaml written before the check sections fails in one line naming the new key."""
    raw = {"inputs": {"train": "a.csv", "test": "b.csv", "current": "c.csv", "target": "y"}, "evaluation": {}}
    raw["evaluation"][old] = {"warn": -0.1, "fail": -0.2}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=rf"evaluation\.{old} moved to evaluation\.{new}"):
        load_params(path)


def test_bundled_params_set_every_evaluation_check():
    """params.yaml carries one section per evaluation check with params, and the stage settings."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())["evaluation"]
    assert set(raw) == {"metric", "threshold", *(c.name for c in CHECKS if c.params.model_fields)}
