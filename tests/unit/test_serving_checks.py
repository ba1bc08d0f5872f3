from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigError
from tasks.limits import Limit
from tasks.params import Inputs
from tasks.result import Severity
from tasks.serving.answers import missing_answers
from tasks.serving.parity import served_vs_offline
from tasks.serving.schema import input_types
from tasks.serving.stage import offline, passthrough_columns

MISMATCH = Limit(warn=0.0, fail=0.001)
ERRORS = Limit(warn=0.0, fail=0.01)
TYPES = Limit(warn=None, fail=0.0)


def _log(score: list[float], offline_score: list[float], status: list[int] | None = None) -> pd.DataFrame:
    n = len(score)
    return pd.DataFrame(
        {
            "source": ["test"] * n,
            "row": range(n),
            "flight_id": [f"f{i}" for i in range(n)],
            "x": np.arange(n, dtype="float64"),
            "score": score,
            "offline_score": offline_score,
            "status": status or [200] * n,
            "batch": [0] * n,
        }
    )


def test_parity_quiet_when_served_equals_offline():
    """Identical answers (or within the tolerance) give an info finding and share 0."""
    f = served_vs_offline(_log([0.1, 0.5, 0.9], [0.1, 0.5 + 1e-12, 0.9]), 1e-9, MISMATCH, "flight_id")
    assert f.severity is Severity.info and f.evidence["value"] == 0.0


def test_parity_fires_and_names_the_worst_rows():
    """A served answer off by more than the tolerance fails, with the row id, served and offline values."""
    f = served_vs_offline(_log([0.1, 0.5, 0.9, 0.3], [0.1, 0.5, 0.7, 0.3]), 1e-9, MISMATCH, "flight_id")
    assert f.check == "serving_prediction_mismatch" and f.severity is Severity.fail
    assert f.evidence["value"] == pytest.approx(0.25) and f.evidence["rows_mismatched"] == 1
    worst = f.evidence["worst_rows"][0]
    assert worst["id"] == "f2" and worst["served"] == 0.9 and worst["offline"] == 0.7


def test_parity_counts_rows_the_offline_model_could_not_score():
    """A row the server answered but the model offline could not score is a disagreement, not a match."""
    f = served_vs_offline(_log([0.1, 0.5], [0.1, float("nan")]), 1e-9, MISMATCH, None, {"test": "ValueError: x"})
    assert f.severity is Severity.fail and f.evidence["offline_errors"] == {"test": "ValueError: x"}


def test_parity_ignores_rows_without_an_answer():
    """Rows the server did not answer are the NaN check's business; parity compares answered rows only."""
    f = served_vs_offline(_log([0.1, float("nan")], [0.1, 0.2]), 1e-9, MISMATCH, None)
    assert f.severity is Severity.info and f.evidence["rows_compared"] == 1


def test_missing_answers_quiet_when_every_row_scored():
    """Every row with a finite score: info, share 0."""
    f = missing_answers(_log([0.1, 0.2], [0.1, 0.2]), ["x"], {}, ERRORS)
    assert f.check == "serving_nan" and f.severity is Severity.info and f.evidence["value"] == 0.0


def test_missing_answers_fire_with_inputs_and_server_reason():
    """NaN answers and failed batches fail, with example inputs, HTTP status and the server's 4xx reason."""
    log = _log([0.1, np.nan, np.nan, np.nan], [0.1, 0.2, 0.3, 0.4], status=[200, 200, 400, 400])
    log["batch"] = [0, 0, 1, 1]
    f = missing_answers(log, ["x"], {1: "HTTP 400: Model is missing inputs ['x']"}, ERRORS)
    assert f.severity is Severity.fail and f.evidence["rows_missing"] == 3
    assert f.evidence["rows_by_status"] == {"200": 1, "400": 2}
    assert f.evidence["examples"][0]["inputs"] == {"x": 1.0}
    assert "missing inputs" in f.message and f.evidence["reasons"][0]["rows"] == 2


def test_input_types_quiet_when_types_match_signature():
    """Ints into a double column widen safely; matching types give info."""
    frame = pd.DataFrame({"n": [1, 2], "d": [1, 2], "s": pd.Series(["a", None], dtype="str")})
    f = input_types(frame, {"n": "long", "d": "double", "s": "string"}, TYPES, "current")
    assert f.check == "serving_type_mismatch" and f.severity is Severity.info


def test_input_types_fire_on_strings_for_numbers():
    """Numbers sent as strings (the server silently converts them) fail, naming column, expected, received."""
    frame = pd.DataFrame({"n": ["1", "2"], "d": [0.5, 1.5]})
    f = input_types(frame, {"n": "long", "d": "double"}, TYPES, "current")
    assert f.severity is Severity.fail and f.columns == ["n"]
    assert f.evidence["columns"]["n"]["expected"] == "long" and f.evidence["columns"]["n"]["received"] == "string"


def test_input_types_fire_on_floats_for_ints():
    """A float column where the signature says long (e.g. after nulls appeared) is a type change."""
    f = input_types(pd.DataFrame({"n": [1.0, np.nan]}), {"n": "long"}, TYPES, "test")
    assert f.severity is Severity.fail and f.evidence["columns"]["n"]["received"] == "float"


def test_offline_scoring_failure_is_data():
    """The model raising on inputs gives NaN scores and the error text, never an exception."""

    class Broken:
        def predict_proba(self, X):
            raise ValueError("could not convert string to float: 'abc'")

    scores, error = offline(Broken(), pd.DataFrame({"x": [1, 2]}))
    assert np.isnan(scores).all() and "could not convert" in error


def test_passthrough_keeps_id_timestamp_features_once():
    """The log keeps the id, the timestamp and each feature once, in that order."""
    inputs = Inputs(train="a", test="b", current="c", target="y", id="k", timestamp="t")
    assert passthrough_columns(inputs, ["x", "k"]) == ["k", "t", "x"]


def test_passthrough_rejects_a_feature_named_like_a_log_column():
    """A feature called `score` would overwrite the served score: a one-line config error."""
    inputs = Inputs(train="a", test="b", current="c", target="y")
    with pytest.raises(ConfigError, match="'score' clashes"):
        passthrough_columns(inputs, ["score"])
