"""vocab_mismatch and the text preprocessing: the vocabulary is a training artifact, checked at serving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.features import vocab_mismatch
from tasks.features.parity import load_preprocessor, save_preprocessor
from tasks.features.vocab_mismatch import count_tokens
from tasks.features.vocabulary import text_vectorizers, vocabulary_fingerprint
from tasks.modeling import TEXT_VOCABULARY, build_preprocessor
from tasks.result import Severity
from tests.checking import feature_inputs, findings

NAMES = ["United Air Lines from Newark Liberty to Chicago Ohare", "Delta Air Lines from La Guardia to Atlanta"]
TRAIN = pd.DataFrame({"route": NAMES * 50, "km": np.arange(100.0), "y": [0, 1] * 50})
CODES = pd.Series(["UA from EWR to ORD", "DL from LGA to ATL"] * 20)


def fitted(frame: pd.DataFrame = TRAIN):
    return build_preprocessor([], ["km"], ["route"]).fit(frame)


def judged(batch: pd.Series, train: pd.DataFrame = TRAIN, pre=None):
    vectorizers = text_vectorizers(pre or fitted())
    [f] = findings(vocab_mismatch, feature_inputs(train, batch.to_frame("route"), vectorizers=vectorizers))
    return f


def identity(shipped: dict, fitted_: dict):
    return findings(vocab_mismatch, feature_inputs(TRAIN, vocabularies=fitted_, shipped_vocabularies=shipped))


def test_serving_text_written_another_way_fails_with_unknown_tokens():
    """Route codes where training had names: most tokens unknown, a fail listing them with both shares."""
    f = judged(CODES)
    assert f.severity is Severity.fail and f.check == "vocab_mismatch"
    assert f.evidence["oov_share_serving"] == pytest.approx(0.6) and f.evidence["oov_share_training"] == 0.0
    assert "'ewr'" in f.message and "'route'" in f.message and "60.0%" in f.message


def test_serving_text_in_the_training_vocabulary_is_quiet():
    """The same kind of text as training: 0% unknown tokens, info."""
    f = judged(pd.Series(NAMES[::-1] * 5))
    assert f.severity is Severity.info and f.evidence["value"] == 0.0


def test_missing_text_is_no_document_rather_than_an_error():
    """Missing serving text is skipped by the check and read as the empty document by the preprocessing."""
    f = judged(pd.Series([None, NAMES[0]], dtype="str"))
    assert f.severity is Severity.info
    X = fitted().transform(pd.DataFrame({"route": pd.Series([None], dtype="str"), "km": [1.0]}))
    assert X.shape == (1, 1 + len(text_vectorizers(fitted())["route"].vocabulary_)) and X[0, 1:].sum() == 0


def test_the_vocabulary_is_bounded_and_training_share_counts_what_it_leaves_out():
    """Beyond TEXT_VOCABULARY tokens, the rarest are out of vocabulary already in training: the check judges
    the excess over that share, so training text itself is never a finding."""
    many = pd.DataFrame({"route": [f"word{i} common" for i in range(300)], "km": np.arange(300.0)})
    pre = fitted(many)
    vec = text_vectorizers(pre)["route"]
    assert len(vec.vocabulary_) == TEXT_VOCABULARY and count_tokens(vec, many["route"]).share > 0
    assert judged(many["route"], many, pre).evidence["value"] == 0.0


def test_fingerprint_survives_the_skops_round_trip(tmp_path):
    """The shipped artifact reloaded tokenizes with the very vocabulary fitted: an info finding."""
    pre = fitted()
    save_preprocessor(pre, tmp_path / "pre.skops")
    shipped = vocabulary_fingerprint(load_preprocessor(tmp_path / "pre.skops"))
    assert shipped == vocabulary_fingerprint(pre) and list(shipped) == ["route"]
    [f] = identity(shipped, vocabulary_fingerprint(pre))
    assert f.severity is Severity.info


def test_another_vocabulary_is_a_fail():
    """A preprocessing fitted on other text carries another vocabulary: vocab_mismatch fails."""
    other = fitted(pd.DataFrame({"route": CODES, "km": np.arange(40.0)}))
    [f] = identity(vocabulary_fingerprint(other), vocabulary_fingerprint(fitted()))
    assert f.severity is Severity.fail and "another vocabulary" in f.message


def test_logged_model_carries_the_same_vocabulary(tmp_path):
    """A model logged with MLflow (skops) and loaded back, as serving loads it, keeps the vocabulary."""
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from tasks.modeling import load_sklearn, log_model

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    exp = mlflow.create_experiment("t", artifact_location=str(tmp_path / "artifacts"))
    pipe = Pipeline([("preprocess", build_preprocessor([], ["km"], ["route"])), ("model", LogisticRegression())])
    pipe.fit(TRAIN[["route", "km"]], TRAIN["y"])
    with mlflow.start_run(experiment_id=exp):
        info = log_model(pipe, TRAIN[["route", "km"]])
    served = load_sklearn(info.model_uri)
    assert vocabulary_fingerprint(served) == vocabulary_fingerprint(pipe)
    assert np.allclose(served.predict_proba(TRAIN[["route", "km"]]), pipe.predict_proba(TRAIN[["route", "km"]]))
