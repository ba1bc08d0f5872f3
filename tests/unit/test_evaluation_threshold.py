"""bad_threshold: the threshold with the least expected cost is chosen on validation and both it and the deployed
one are costed on the test rows. A calibrated model at 0.5 under equal costs is quiet; a threshold copied from
elsewhere fails with both costs; assumed (unset) costs never fail; a class-weighted model is judged by the costs
it was built for. Calibrated synthetic scores, the labels drawn from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tasks.evaluation import bad_threshold
from tasks.evaluation.inputs import EvaluationInputs
from tasks.params import EvaluationParams
from tasks.result import Severity

SET = bad_threshold.Params(cost={"false_positive": 1.0, "false_negative": 1.0})  # the project's own costs
ASSUMED = EvaluationParams().bad_threshold  # nothing set


def calibrated(rows: int, seed: int, intercept: float = -1.5, slope: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = 1.0 / (1.0 + np.exp(-(intercept + slope * rng.normal(size=rows))))
    return (rng.random(rows) < p).astype(int), p


def record(threshold: float = 0.5, rows: int = 4000, **kw) -> EvaluationInputs:
    y, s = calibrated(rows, 1, **kw)
    y_val, s_val = calibrated(rows, 2, **kw)
    return EvaluationInputs(
        test=pd.DataFrame({"y": y}),
        test_file=Path("test.parquet"),
        labels=y,
        scores=s,
        metric="roc_auc",
        threshold=threshold,
        candidate_uri="models:/m-1",
        candidate_id="m-1",
        registered_model="m",
        alias="champion",
        validation=pd.DataFrame({"label": y_val, "score": s_val}),
    )


def run(x: EvaluationInputs, p: bad_threshold.Params = SET):
    m = bad_threshold.measure(x, p)
    return m, bad_threshold.judge(m, p)


def test_expected_costs_count_the_errors():
    """Positive at or above the threshold; a false negative costs its price, a false positive its own."""
    y = np.array([0, 0, 1, 1, 0])
    s = np.array([0.1, 0.6, 0.4, 0.9, 0.5])
    cost = bad_threshold.Cost(false_positive=1.0, false_negative=3.0)
    got = bad_threshold.expected_costs(y, s, np.array([0.0, 0.5, 0.95]), cost)
    assert got == pytest.approx([3 / 5, (2 * 1 + 1 * 3) / 5, 2 * 3 / 5])
    assert bad_threshold.row_costs(y, s, 0.5, cost).sum() / 5 == pytest.approx(got[1])


def test_calibrated_model_at_half_with_equal_costs_is_quiet():
    """0.5 is the best threshold of calibrated scores under equal costs: info, both costs in the evidence."""
    m, [f] = run(record())
    assert f.severity is Severity.info and abs(m.best - 0.5) < 0.1
    assert f.evidence["deployed_cost"] == pytest.approx(m.deployed_cost) and m.excess_lower <= 0.05


def test_threshold_copied_from_another_model_fails_with_both_costs():
    """0.15 over-predicts the positive class: fail, naming the deployed and the best threshold and each cost."""
    m, [f] = run(record(threshold=0.15))
    assert f.severity is Severity.fail and m.excess_lower > SET.excess.fail
    assert m.deployed_cost > m.best_cost and abs(m.best - 0.5) < 0.1
    assert "0.15" in f.message and f"{m.deployed_cost:.4f}" in f.message and f"{m.best_cost:.4f}" in f.message


def test_assumed_costs_warn_at_most_and_say_so():
    """Without the project's own costs the same threshold is a warning that says the costs are assumed."""
    _, [f] = run(record(threshold=0.15), ASSUMED)
    assert f.severity is Severity.warn and "assumed" in f.message and f.evidence["default_costs"] is True


def test_few_test_rows_do_not_fail_by_noise():
    """A mildly off threshold on 150 rows: the lower bound of the avoidable share stays under the fail limit."""
    _, [f] = run(record(threshold=0.4, rows=150))
    assert f.severity is not Severity.fail


def test_class_weighted_model_is_judged_by_the_costs_it_was_built_for():
    """A class_weight='balanced' logistic regression on 10% positives pushes scores up: under equal costs 0.5
    is far from the best (reported; only a warning while the costs are assumed); with the costs the weighting
    stands for (a false negative nine times a false positive) 0.5 is about right and the check is quiet."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9000, 3))
    y = (rng.random(9000) < 1 / (1 + np.exp(-(-3.0 + X @ np.array([1.2, 0.6, 0.0]))))).astype(int)
    model = LogisticRegression(class_weight="balanced").fit(X[:3000], y[:3000])
    s = model.predict_proba(X)[:, 1]
    x = replace(
        record(),
        labels=y[6000:],
        scores=s[6000:],
        validation=pd.DataFrame({"label": y[3000:6000], "score": s[3000:6000]}),
    )
    m, [f] = run(x, ASSUMED)
    assert f.severity is Severity.warn and m.best > 0.6
    ratio = float((y[:3000] == 0).sum() / (y[:3000] == 1).sum())
    _, [g] = run(x, bad_threshold.Params(cost={"false_positive": 1.0, "false_negative": ratio}))
    assert g.severity is Severity.info


def test_without_validation_scores_it_says_not_measured():
    _, [f] = run(replace(record(), validation=None))
    assert f.severity is Severity.info and "not measured" in f.message


def test_cost_curve_is_drawn_with_both_thresholds(tmp_path: Path):
    m, _ = run(record(threshold=0.15))
    assert m.evidence(tmp_path) == ["cost_curve.png", "cost_curve.csv"]
    curve = pd.read_csv(tmp_path / "cost_curve.csv")
    assert {"threshold", "validation_cost", "test_cost"} <= set(curve.columns)
    assert {0.15, m.best} <= set(curve["threshold"].round(12))
    assert curve["validation_cost"].min() == pytest.approx(m.best_validation_cost)
