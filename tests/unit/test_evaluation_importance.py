"""Feature importance (tasks.evaluation.importance), spurious_feature and test_set_changed's row comparison on
small synthetic tables: quiet on honest features of several shapes, firing on a row number the model leans on,
and the pinned test set's rows read back from a DVC cache."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.checks import NoParams
from tasks.evaluation import spurious_feature, test_set_changed
from tasks.evaluation.importance import permutation_importance, shap_importance
from tasks.evaluation.inputs import EvaluationInputs
from tasks.modeling import build_model
from tasks.params import EvaluationParams, ModelSpec
from tasks.pins import dvc_cached
from tasks.provenance import file_md5
from tasks.result import Severity

P = EvaluationParams().spurious_feature
SPEC = ModelSpec(
    estimator="sklearn.ensemble.HistGradientBoostingClassifier",
    params={"max_iter": 60, "min_samples_leaf": 20, "early_stopping": False},
    seed=0,
)


def table(n: int, seed: int, start: int = 0) -> pd.DataFrame:
    """An honest table: a strong float, a weak int with few values, a category and a binary flag; time-ordered
    `day` blocks whose base rate swings (bad days), which no feature carries."""
    rng = np.random.default_rng(seed)
    strong = rng.normal(size=n)
    few = rng.integers(0, 5, size=n)
    cat = rng.choice(["a", "b", "c"], size=n)
    flag = rng.integers(0, 2, size=n)
    day = np.arange(n) // 50 + start
    bad = np.random.default_rng(day).random(n) < 0.5  # the same swing for every row of a day
    logit = 1.5 * strong + 0.3 * few + 0.4 * (cat == "a") + 2.5 * (bad - 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"strong": strong, "few": few, "cat": cat, "flag": flag, "y": y})


def fitted(train: pd.DataFrame, features: list[str]):
    cat = [c for c in features if train[c].dtype == object or pd.api.types.is_string_dtype(train[c])]
    num = [c for c in features if c not in cat]
    return build_model(SPEC, cat, num).fit(train[features], train["y"])


def inputs(train: pd.DataFrame, test: pd.DataFrame, features: list[str], **kw) -> EvaluationInputs:
    model = fitted(train, features)
    x = EvaluationInputs(
        test=test,
        test_file=Path("test.csv"),
        labels=test["y"].to_numpy(),
        scores=model.predict_proba(test[features])[:, 1],
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="models:/m-x",
        candidate_id="m-x",
        registered_model="m",
        alias="champion",
        features=tuple(features),
        model=model,
        train=train,
        train_labels=train["y"].to_numpy(),
        fit_rows=np.arange(len(train)),
    )
    return replace(x, **kw)


def judged(x: EvaluationInputs, p=P):
    m = spurious_feature.measure(x, p)
    return m, spurious_feature.judge(m, p)


def test_importance_ranks_the_feature_the_label_follows():
    """The feature the label follows carries the most importance; a pure-noise one about none on held-out rows;
    the fast path (transform once, shuffle a feature's output columns) gives what shuffling the raw column gives."""
    train, held = table(3000, 0), table(3000, 1)
    features = ["strong", "few", "cat", "flag"]
    model = fitted(train, features)
    imp = permutation_importance(model, held, held["y"].to_numpy(), features, repeats=2, seed=0)
    t = imp.table.set_index("feature")
    assert t["importance"].idxmax() == "strong" and t.loc["strong", "share"] > 0.5
    assert abs(t.loc["flag", "importance"]) < 0.01
    raw = permutation_importance(
        _Opaque(model), held, held["y"].to_numpy(), features, repeats=2, seed=0
    ).table.set_index("feature")
    assert np.allclose(raw["importance"], t["importance"], atol=1e-12)


class _Opaque:
    """The same model hidden behind predict_proba only (no pipeline steps to transform once)."""

    def __init__(self, model) -> None:
        self.model = model

    def predict_proba(self, X):
        return self.model.predict_proba(X)


@pytest.mark.parametrize("rows", [300, 3000])
def test_honest_tables_are_quiet(rows: int):
    """No feature that should not matter on honest tables, small or large (a few-valued int, a binary flag and a
    category are not identifiers): info only, naming the leading feature."""
    x = inputs(table(rows, 0), table(rows // 3, 1, start=rows // 50 + 1), ["strong", "few", "cat", "flag"])
    m, findings = judged(x)
    assert m.suspects == {}
    assert all(f.severity is Severity.info for f in findings), [f.message for f in findings]
    assert any("no feature that should not matter" in f.message and "`strong`" in f.message for f in findings)


def test_a_row_number_the_model_leans_on_fails_with_its_share():
    """A row number left in, restarting per file: in the time-ordered training file it tells the model which days
    were bad; it carries a share of the importance on the fit rows far beyond the limit and none on the test."""
    train, test = table(4000, 0), table(1000, 1, start=81)
    train.insert(0, "index", np.arange(len(train)))
    test.insert(0, "index", np.arange(len(test)))
    x = inputs(train, test, ["index", "strong", "few", "cat", "flag"])
    m, findings = judged(x)
    assert "row number" in m.suspects["index"]
    [f] = [f for f in findings if f.columns == ["index"]]
    assert f.severity is Severity.fail and f.evidence["fit_share"] > P.share.fail
    assert f.evidence["test_share"] < f.evidence["fit_share"] and "does not generalize" in f.message
    assert m.metrics()["max_suspect_share"] == f.evidence["value"]


def test_what_should_not_matter_is_recognized():
    """The id and timestamp columns, a datetime, a string identifier, a file marker and a declared column are
    suspects; text, floats and few-valued columns are not."""
    n = 400
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "flight_id": [f"f{i}" for i in range(n)],
            "code": [f"c{i}" for i in rng.permutation(n)],
            "when": pd.date_range("2020-01-01", periods=n, freq="h"),
            "batch": np.repeat([1, 2, 3, 4], n // 4),
            "note": [f"word{i % 7} more words {i}" for i in range(n)],
            "price": rng.normal(size=n),
            "few": rng.integers(0, 4, size=n),
            "cause": rng.normal(size=n),
        }
    )
    test = train.assign(batch=9).head(50)
    x = EvaluationInputs(
        test=test,
        test_file=Path("t.csv"),
        labels=np.zeros(50),
        scores=np.zeros(50),
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="",
        candidate_id=None,
        registered_model="m",
        alias="a",
        features=tuple(train.columns),
        text=("note",),
        train=train,
        key="flight_id",
    )
    p = P.model_copy(update={"not_causal": ["cause"]})
    found = spurious_feature.should_not_matter(x, p)
    assert set(found) == {"flight_id", "code", "when", "batch", "cause"}
    assert "identifier" in found["code"] and "file marker" in found["batch"] and "timestamp" in found["when"]


@pytest.mark.parametrize("through", ["transformed", "raw pipeline"])
def test_stacked_shuffles_score_as_one_at_a_time(monkeypatch, through: str):
    """Scoring the shuffled copies stacked in a few calls gives each feature the importance that scoring them
    one call per shuffle gives: the same rows, the same scores, the same drops. Both ways through a model:
    the rows transformed once (a ColumnTransformer then an estimator), and the raw columns through a pipeline
    that cannot be split."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from tasks.evaluation import importance

    train, test = table(600, 1), table(300, 2)
    features = ["strong", "few", "flag"]
    if through == "transformed":
        model = fitted(train, [*features, "cat"])
        features = [*features, "cat"]
    else:
        model = make_pipeline(
            FunctionTransformer(lambda X: X.to_numpy(dtype="float64")),  # not a ColumnTransformer: raw columns
            RandomForestClassifier(n_estimators=30, min_samples_leaf=5, random_state=0),
        ).fit(train[features], train["y"])
    stacked = permutation_importance(model, test, test["y"].to_numpy(), features, repeats=3, seed=4)
    monkeypatch.setattr(importance, "STACKED_CELLS", 1)  # one shuffled copy per call
    alone = permutation_importance(model, test, test["y"].to_numpy(), features, repeats=3, seed=4)
    assert stacked is not None and alone is not None and stacked.score == alone.score
    pd.testing.assert_frame_equal(stacked.table, alone.table, rtol=1e-12)
    assert stacked.value("strong") > 0.1  # the feature the label follows, measured


@pytest.mark.parametrize("seed", range(5))
def test_auc_is_roc_auc_score(seed: int):
    """The rank form of ROC AUC equals scikit-learn's on scores with many ties, labels of either coding, and a
    score that ranks perfectly; one class is NaN; NaN scores are refused as roc_auc_score refuses them."""
    from sklearn.metrics import roc_auc_score

    from tasks.evaluation.importance import _auc

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    tied = np.round(rng.random(400) + 0.3 * y, 1)  # ~14 distinct values: ties everywhere
    for labels, scores in ((y, tied), (np.where(y == 1, 7, 3), tied), (y, y + rng.random(400) * 0.1)):
        assert _auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert np.isnan(_auc(np.ones(5), np.arange(5.0)))
    with pytest.raises(ValueError):
        _auc(y, np.where(y == 1, np.nan, 0.5))


def test_shap_shares_sum_to_one_or_say_why():
    """SHAP, when shap imports: one share per feature, summing to 1; otherwise the reason, never a crash."""
    train = table(600, 0)
    features = ["strong", "few", "cat", "flag"]
    shares, note = shap_importance(fitted(train, features), train.head(200), features)
    if shares is None:
        assert note.startswith("SHAP not measured")
    else:
        assert list(shares.index) == features and abs(shares.sum() - 1) < 1e-9 and shares.idxmax() == "strong"


def test_nothing_to_measure_is_said():
    """Without a model there is nothing to measure: info saying so, never a pass."""
    x = replace(inputs(table(300, 0), table(100, 1), ["strong"]), model=None)
    [f] = spurious_feature.judge(spurious_feature.measure(x, P), P)
    assert f.severity is Severity.info and "not measured" in f.message


# --- test_set_changed: how many rows differ, from the pinned version in the DVC cache -------------------------


def _dvc_project(root: Path, pinned: pd.DataFrame) -> tuple[Path, str]:
    """A DVC project whose cache holds the pinned test file, as `dvc add` leaves it; returns the file and md5."""
    (root / ".dvc").mkdir(parents=True)
    path = root / "data" / "test.parquet"
    path.parent.mkdir()
    pinned.to_parquet(path, index=False)
    md5 = file_md5(path)
    cached = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    return path, md5


def _changed(path: Path, md5: str, now: pd.DataFrame) -> list:
    now.to_parquet(path, index=False)
    x = replace(inputs_for_pin(path, md5), test=now)
    return test_set_changed.judge(test_set_changed.measure(x, NoParams()), NoParams())


def inputs_for_pin(path: Path, md5: str) -> EvaluationInputs:
    return EvaluationInputs(
        test=pd.DataFrame(),
        test_file=path,
        labels=np.zeros(1),
        scores=np.zeros(1),
        metric="roc_auc",
        threshold=0.5,
        candidate_uri="",
        candidate_id=None,
        registered_model="m",
        alias="a",
        test_pin=md5,
    )


def test_regenerated_test_set_fails_with_rows_that_differ(tmp_path: Path):
    """The file regenerated (80% of the rows redrawn, two labels edited) behind its pin: fail, both hashes, and
    how many pinned rows are gone or changed and how many are new, read from the DVC cache."""
    pinned = table(200, 0)
    path, md5 = _dvc_project(tmp_path, pinned)
    now = pinned.sample(frac=0.8, random_state=1).reset_index(drop=True)
    now.loc[:1, "y"] = 1 - now.loc[:1, "y"]
    [f] = _changed(path, md5, now)
    assert f.severity is Severity.fail and f.evidence["expected_md5"] == md5 != f.evidence["found_md5"]
    assert f.evidence["rows_gone"] == 42 and f.evidence["rows_new"] == 2 and f.evidence["pinned_rows"] == 200
    assert "42 of the 200 pinned rows" in f.message


def test_reordered_test_set_fails_with_no_row_changed(tmp_path: Path):
    """The same rows in another order still are not the pinned file (fail), and the message says no row changed."""
    pinned = table(100, 0)
    path, md5 = _dvc_project(tmp_path, pinned)
    [f] = _changed(path, md5, pinned.iloc[::-1].reset_index(drop=True))
    assert f.severity is Severity.fail and f.evidence["rows_gone"] == 0 == f.evidence["rows_new"]
    assert "the same 100 rows" in f.message


def test_without_the_pinned_rows_it_says_so(tmp_path: Path):
    """No DVC cache holds the pinned md5: still a fail on the hash, saying the rows cannot be compared."""
    path = tmp_path / "test.parquet"
    [f] = _changed(path, "0" * 32, table(50, 0))
    assert f.severity is Severity.fail and f.evidence["rows_compared"] is False
    assert "cannot be told" in f.message and dvc_cached("0" * 32, path) is None


def test_identifiers_are_not_drift():
    """An id or row number is not compared by the data layer's covariate_shift (its values differ between files
    by nature): it is named as such (info); honest columns, floats and few-valued ints, are compared."""
    from tasks.data import covariate_shift

    train = table(500, 0).assign(index=np.arange(500), code=[f"c{i}" for i in range(500)])
    ids = covariate_shift.identifiers(train, ["index", "code", "strong", "few", "cat", "flag"], 0.9)
    assert set(ids) == {"index", "code"} and ids["index"] == 1.0
    p = covariate_shift.Params()
    [note] = covariate_shift.judge(covariate_shift.Measurement((), ids), p)
    assert note.severity is Severity.info and note.columns == ["index", "code"] and "spurious_feature" in note.message
