"""The overfitting check: judged by whether the gap hurts (the candidate's validation score against a simpler model
fitted on the same rows), not by the raw train/validation gap. Real fits on small tables of several shapes."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from tasks.result import Severity
from tasks.training import overfitting
from tasks.training.inputs import TrainingInputs, score
from tasks.training.stage import validation_split

P = overfitting.Params()


def few_valued(n: int, seed: int = 0) -> pd.DataFrame:
    """Six columns of 3 values each (many identical rows), the label a noisy function with one interaction."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"c{i}": rng.integers(0, 3, n) for i in range(6)})
    logit = df["c0"] - df["c1"] + 0.5 * df["c2"] * (df["c3"] == 1) - 1
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def strong(n: int, seed: int = 1) -> pd.DataFrame:
    """Ten numeric columns, four of them strong honest features (validation AUC ~0.98)."""
    X, y = make_classification(n, 10, n_informative=4, class_sep=2.0, flip_y=0.02, random_state=seed)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    df["y"] = y
    return df


def breast_cancer() -> pd.DataFrame:
    """sklearn's bundled table: 569 rows, 30 numeric columns (a tiny, easy problem)."""
    return load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})


def fitted(df: pd.DataFrame, estimator, seed: int = 0, metric: str = "roc_auc") -> TrainingInputs:
    """What the stage prepares: the estimator fitted on 80% of the rows, scored on the other 20%."""
    X, y = df.drop(columns="y").to_numpy(dtype="float64"), df["y"].to_numpy()
    fit, val = validation_split(df, None, 0.2, seed)
    model = clone(estimator).fit(X[fit], y[fit])
    p_val = model.predict_proba(X[val])[:, 1]
    return TrainingInputs(
        train=df,
        test=df.iloc[:0],
        features=[c for c in df.columns if c != "y"],
        target="y",
        y=y,
        fit_rows=fit,
        validation_rows=val,
        metric=metric,
        train_score=score(metric, y[fit], model.predict_proba(X[fit])[:, 1]),
        validation_score=score(metric, y[val], p_val),
        validation_predictions=(p_val,),
        model_inputs=X,
    )


def check(x: TrainingInputs, p: overfitting.Params = P):
    m = overfitting.measure(x, p)
    [finding] = overfitting.judge(m, p)
    return m, finding


HGB = HistGradientBoostingClassifier(random_state=0)  # the default estimator, default params (what a new user gets)


@pytest.mark.parametrize(
    "shape",
    [pytest.param(lambda: few_valued(3000), id="few-valued-3k"), pytest.param(lambda: strong(2000), id="strong-2k")]
    + [pytest.param(breast_cancer, id="breast-cancer-569")],
)
def test_default_model_on_clean_small_tables_is_quiet(shape):
    """The default gradient-boosted model on clean small tables (few-valued columns, strong honest features, a
    569-row bundled set) may fit its training rows better than validation, but it validates about as well as the
    simpler reference: info, and the finding states the gap and what the reference reached."""
    m, f = check(fitted(shape(), HGB))
    assert f.severity is Severity.info, f.message
    assert f"gap {m.gap:.4f}" in f.message and f"validates at {m.reference_validation:.4f}" in f.message
    assert m.reference in ("logistic regression", "regularized boosting (depth 3)")


def test_a_wide_gap_that_does_not_hurt_is_info_stating_both():
    """A gap above the gap limit with validation as good as the reference: info, naming the gap and its limit,
    the reference's score, and that the gap does not hurt (the old rule failed it)."""
    x = fitted(few_valued(3000, seed=1), HGB)
    m, f = check(x, P.model_copy(update={"gap": 0.02}))
    assert m.gap > 0.02 and f.severity is Severity.info
    assert "above 0.02" in f.message and "the gap does not hurt" in f.message
    assert f.evidence["reference_validation"] == m.reference_validation and f.evidence["gap"] == m.gap


def test_an_unpruned_tree_fails_with_the_gap_and_the_reference():
    """A decision tree grown to purity on a few-valued table memorises its training rows and validates far below
    the regularized reference: fail, saying overfitting, with the gap, its limit and the reference's score."""
    m, f = check(fitted(few_valued(3000), DecisionTreeClassifier(random_state=0)))
    assert f.severity is Severity.fail and f.message.startswith("overfitting:")
    assert m.skill_loss_bound > P.skill_loss.fail
    assert f"gap {m.gap:.4f}, above {P.gap}" in f.message and f"{m.reference_validation:.4f}" in f.message
    assert f.evidence["value"] == m.skill_loss_bound and f.evidence["fail"] == P.skill_loss.fail


def test_a_learning_rate_ten_times_too_high_fails():
    """Boosting with learning rate 1.0 and one-row leaves diverges (even its training score is poor): the
    candidate validates far below a simpler model without a gap, which is named as a diverged fit, and fails."""
    model = HistGradientBoostingClassifier(learning_rate=1.0, min_samples_leaf=1, random_state=0)
    m, f = check(fitted(few_valued(3000), model))
    assert f.severity is Severity.fail and "diverged" in f.message
    assert m.skill_loss > 0.3


def test_an_id_column_a_tree_memorises_fails():
    """A unique row id left in as a feature lets an unpruned tree tell every training row apart: fail."""
    df = few_valued(3000)
    df.insert(0, "row_id", np.random.default_rng(0).permutation(len(df)))
    m, f = check(fitted(df, DecisionTreeClassifier(random_state=0)))
    assert f.severity is Severity.fail and m.gap > 0.3


def test_a_tiny_training_set_memorised_fails():
    """400 training rows: the default boosting model and an unpruned tree both memorise them; the tree's loss is
    beyond doubt even on 100 validation rows."""
    m, f = check(fitted(few_valued(500), DecisionTreeClassifier(random_state=0)))
    assert f.severity is Severity.fail and m.validation_rows == 100


def test_the_reference_is_the_candidate_itself_when_it_is_simple():
    """A logistic-regression candidate is no worse than the references (one of them is itself): info."""
    m, f = check(fitted(few_valued(3000), LogisticRegression()))
    assert f.severity is Severity.info and m.skill_loss < P.skill_loss.warn


def test_accuracy_is_judged_against_the_majority_baseline():
    """With metric accuracy, the constant prediction's score is the majority share, so a skill is what lies above
    it; an unpruned tree still fails."""
    x = fitted(few_valued(3000), DecisionTreeClassifier(random_state=0), metric="accuracy")
    m, f = check(x)
    y_val = x.y[x.validation_rows]
    assert m.chance == pytest.approx(max(y_val.mean(), 1 - y_val.mean()))
    assert f.severity is Severity.fail


def test_resampled_scores_equal_the_scorer_on_the_drawn_rows():
    """The vectorized bootstrap scores are exactly `score` on each resample (ties, a 7-row frame, one-class draws
    as NaN for ranking metrics), for every metric the layer offers."""
    rng = np.random.default_rng(3)
    for n in (7, 60):
        y = rng.integers(0, 2, n)
        p = np.round(rng.random(n), 1)  # ties
        counts = rng.multinomial(n, np.full(n, 1 / n), size=25)
        for metric in ("roc_auc", "average_precision", "accuracy", "f1"):
            fast = overfitting.resampled_scores(metric, y, p, counts)
            slow = [score(metric, np.repeat(y, c), np.repeat(p, c)) for c in counts]
            np.testing.assert_allclose(fast, slow, equal_nan=True, err_msg=metric)


def _measured(**changes) -> overfitting.Measurement:
    base = overfitting.Measurement(
        metric="roc_auc",
        train=0.99,
        validation=0.70,
        reference="logistic regression",
        reference_train=0.82,
        reference_validation=0.80,
        reference_rows=400,
        validation_rows=100,
        validation_minority=40,
        chance=0.5,
        shortfall_bound=0.05,
    )
    return replace(base, **changes)


def test_a_large_loss_on_few_validation_rows_is_suspected_not_passed():
    """An estimated loss beyond the fail limit whose lower bound is above 0 but within the warn limit (few
    validation rows): a warning that says overfitting is suspected and how many rows there were."""
    m = _measured(shortfall_bound=0.01)  # loses 33% of the skill, at least 3%
    [f] = overfitting.judge(m, P)
    assert f.severity is Severity.warn and f.message.startswith("overfitting suspected")
    assert "100 validation rows, 40 of the rarer class" in f.message


def test_a_loss_not_established_is_info_within_the_limits():
    """A loss whose bound is not above 0 is not established: info, saying it is within the limits."""
    [f] = overfitting.judge(_measured(shortfall_bound=-0.02), P)
    assert f.severity is Severity.info and "within the limits" in f.message


def test_undefined_validation_score_is_not_measured_not_passed():
    """A validation part with one class has no roc_auc: info 'not measured', no reference is fitted."""
    x = replace(fitted(few_valued(500), HGB), validation_score=math.nan)
    m, f = check(x)
    assert f.severity is Severity.info and f.message.startswith("not measured") and m.reference == ""


def test_a_reference_at_chance_is_not_measured():
    """When the simpler models do no better than a constant prediction there is no skill to lose: info."""
    [f] = overfitting.judge(_measured(reference_validation=0.5, validation=0.45), P)
    assert f.severity is Severity.info and "no learned skill" in f.message


def test_the_references_train_on_a_bounded_sample():
    """Above sample_rows fit rows the references see a sample of them (a bounded cost), and still judge."""
    m, f = check(fitted(few_valued(3000), HGB), P.model_copy(update={"sample_rows": 500}))
    assert m.reference_rows == 500 and f.severity in (Severity.info, Severity.warn)


def test_a_raw_frame_without_preprocessing_gets_the_standard_one():
    """A model without a preprocessing step reads the raw frame: the references encode its text columns."""
    df = few_valued(1000)
    x = fitted(df, HGB)
    raw = df.drop(columns="y").assign(c0=df["c0"].map({0: "a", 1: "b", 2: "c"}))
    m, _ = check(replace(x, model_inputs=raw))
    assert m.reference and not math.isnan(m.reference_validation)


def test_old_gap_limit_names_its_new_place():
    """A params.yaml with the old `gap: {warn, fail}` fails validation naming overfitting.skill_loss."""
    with pytest.raises(ValidationError, match="overfitting.skill_loss"):
        overfitting.Params.model_validate({"gap": {"warn": 0.05, "fail": 0.1}})


def test_metrics_keep_the_gap_and_add_the_loss():
    """The stage metrics: the gap (as before) and the loss against the reference."""
    m, _ = check(fitted(few_valued(1000), HGB))
    assert set(m.metrics()) == {
        "train_val_gap",
        "reference_validation",
        "validation_shortfall",
        "skill_loss",
        "skill_loss_bound",
    }


def test_the_learning_curve_is_evidence_and_in_the_finding(tmp_path):
    """With the candidate's pipeline at hand, its estimator is refitted on nested samples of the fit rows: the
    curve (rows, train, validation) is drawn as learning_curve.png + .csv and summed up in the finding."""
    from tests.unit.test_training_refits import prepared

    x = prepared(strong(2000), HGB)
    m, f = check(x)
    sizes = [n for n, _, _ in m.curve]
    assert sizes == sorted(sizes) and sizes[-1] == len(x.fit_rows) and len(sizes) == len(P.curve_sizes)
    assert "learning curve: gap" in f.message and f.evidence["curve_gap_growth"] == m.gap_growth
    assert sorted(m.evidence(tmp_path)) == ["learning_curve.csv", "learning_curve.png"]
    assert "curve_gap_growth" in m.metrics()


def test_a_gap_that_grows_with_data_is_reported():
    """A gap that widens as the sample grows is said (more rows will not close it); a shrinking one is not."""
    growing = _measured(curve=((200, 0.80, 0.75), (2000, 0.95, 0.76)))
    [f] = overfitting.judge(growing, P)
    assert "grows with data by 0.1400" in f.message
    shrinking = _measured(curve=((200, 0.95, 0.70), (2000, 0.85, 0.78)))
    [g] = overfitting.judge(shrinking, P)
    assert "does not grow with data" in g.message and math.isclose(shrinking.gap_growth, -0.18)


def test_curve_sizes_must_be_increasing_shares():
    with pytest.raises(ValidationError, match="increasing shares"):
        overfitting.Params(curve_sizes=(0.5, 0.25))
