"""The serving checks on tiny inference logs: each quiet when the server answers like the model offline, and
firing on a type on the wire, a different answer, or no answer; plus the stage's replay helpers."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tasks.checks import ERROR_CHECK, Check, CheckParams, CheckRun, Configured, run_checks
from tasks.errors import ConfigError
from tasks.params import Inputs, ServingParams
from tasks.result import Finding, Severity
from tasks.serving import checks, serving_nan, serving_prediction_mismatch, serving_type_mismatch
from tasks.serving.inputs import ServingInputs
from tasks.serving.stage import offline, passthrough_columns


def checked(module: ModuleType, inputs: ServingInputs, params: CheckParams | None = None) -> CheckRun:
    """One check through the runner (findings stamped with its name), failing the test if it crashed."""
    check = Check.from_module(module)
    run = run_checks([Configured(check, params or check.params())], inputs, Path(tempfile.mkdtemp()))
    assert not [f.message for f in run.findings if f.check == ERROR_CHECK]
    return run


def findings(module: ModuleType, inputs: ServingInputs, params: CheckParams | None = None) -> list[Finding]:
    return checked(module, inputs, params).findings


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


def served(log: pd.DataFrame, **kw: Any) -> ServingInputs:
    """A serving inputs record around an inference log (the frames are the log's own feature columns)."""
    kw.setdefault("frames", {"test": log[["x"]]})
    return ServingInputs(log=log, features=["x"], **kw)


def test_checks_are_declared_in_diagnostic_order():
    """The layer runs the type check first (a root cause), the contract on the served rows, then the two
    symptoms they can produce."""
    assert [c.name for c in checks.CHECKS] == [
        "serving_type_mismatch",
        "serving_contract",
        "serving_prediction_mismatch",
        "serving_nan",
    ]


def test_the_stage_params_keep_only_stage_knobs():
    """Limits live in each check's section; the stage keeps host, port, batch size, requests in flight, timeouts,
    request retries and the server's environment."""
    fields = set(checks.Settings.model_fields)
    assert fields == {
        "host",
        "port",
        "batch_rows",
        "concurrency",
        "startup_timeout_s",
        "request_timeout_s",
        "request_retries",
        "retry_wait_s",
        "env",
    }
    assert ServingParams().serving_nan.share.fail == 0.01


# serving_prediction_mismatch


def test_parity_quiet_when_served_equals_offline():
    """Identical answers (or within the tolerance) give an info finding and share 0."""
    run = checked(serving_prediction_mismatch, served(_log([0.1, 0.5, 0.9], [0.1, 0.5 + 1e-12, 0.9])))
    [f] = run.findings
    assert f.check == "serving_prediction_mismatch" and f.severity is Severity.info and f.evidence["value"] == 0.0
    assert run.measurements["serving_prediction_mismatch"].share == 0.0
    assert run.metrics["serving_prediction_mismatch.share"] == 0.0


def test_parity_fires_and_names_the_worst_rows():
    """A served answer off by more than the tolerance fails, with the row id, served and offline values."""
    log = _log([0.1, 0.5, 0.9, 0.3], [0.1, 0.5, 0.7, 0.3])
    [f] = findings(serving_prediction_mismatch, served(log, id_column="flight_id"))
    assert f.check == "serving_prediction_mismatch" and f.severity is Severity.fail
    assert f.evidence["value"] == pytest.approx(0.25) and f.evidence["rows_mismatched"] == 1
    worst = f.evidence["worst_rows"][0]
    assert worst["id"] == "f2" and worst["served"] == 0.9 and worst["offline"] == 0.7
    assert "1 of 4 served answers" in f.message


def test_parity_tolerance_is_a_param():
    """A wider abs_tolerance accepts a difference the default one fails."""
    log = _log([0.1, 0.5], [0.1, 0.5 + 1e-6])
    wide = serving_prediction_mismatch.Params(abs_tolerance=1e-3)
    assert findings(serving_prediction_mismatch, served(log))[0].severity is Severity.fail
    assert findings(serving_prediction_mismatch, served(log), wide)[0].severity is Severity.info


def test_parity_counts_rows_the_offline_model_could_not_score():
    """A row the server answered but the model offline could not score is a disagreement, not a match."""
    x = served(_log([0.1, 0.5], [0.1, float("nan")]), offline_errors={"test": "ValueError: x"})
    [f] = findings(serving_prediction_mismatch, x)
    assert f.severity is Severity.fail and f.evidence["offline_errors"] == {"test": "ValueError: x"}


def test_parity_ignores_rows_without_an_answer():
    """Rows the server did not answer are the NaN check's business; parity compares answered rows only."""
    [f] = findings(serving_prediction_mismatch, served(_log([0.1, float("nan")], [0.1, 0.2])))
    assert f.severity is Severity.info and f.evidence["rows_compared"] == 1


def test_parity_with_no_answer_at_all_says_so():
    """No answered row: nothing compared, said in the message, the share left out of the metrics."""
    run = checked(serving_prediction_mismatch, served(_log([float("nan")], [0.2])))
    assert "nothing to compare" in run.findings[0].message
    assert "serving_prediction_mismatch.share" not in run.metrics


# serving_nan


def test_missing_answers_quiet_when_every_row_scored():
    """Every row with a finite score: info, share 0."""
    run = checked(serving_nan, served(_log([0.1, 0.2], [0.1, 0.2])))
    [f] = run.findings
    assert f.check == "serving_nan" and f.severity is Severity.info and f.evidence["value"] == 0.0
    assert run.metrics["serving_nan.share"] == 0.0


def test_missing_answers_fire_with_inputs_and_server_reason():
    """NaN answers and failed batches fail, with example inputs, HTTP status and the server's 4xx reason."""
    log = _log([0.1, np.nan, np.nan, np.nan], [0.1, 0.2, 0.3, 0.4], status=[200, 200, 400, 400])
    log["batch"] = [0, 0, 1, 1]
    x = served(log, reasons={1: "HTTP 400: Model is missing inputs ['x']"})
    [f] = findings(serving_nan, x)
    assert f.severity is Severity.fail and f.evidence["rows_missing"] == 3
    assert f.evidence["rows_by_status"] == {"200": 1, "400": 2}
    assert f.evidence["examples"][0]["inputs"] == {"x": 1.0}
    assert "missing inputs" in f.message and f.evidence["reasons"][0]["rows"] == 2


def test_missing_answers_on_an_empty_log_is_not_a_pass():
    """No row sent: the check says the answers were not checked rather than 'all rows scored'."""
    [f] = findings(serving_nan, served(_log([], [])))
    assert f.severity is Severity.info and "not checked" in f.message


# serving_type_mismatch


def test_input_types_quiet_when_types_match_signature():
    """Ints into a double column widen safely; matching types give one info finding per source."""
    frame = pd.DataFrame({"n": [1, 2], "d": [1, 2], "s": pd.Series(["a", None], dtype="str")})
    x = ServingInputs(
        log=_log([], []),
        frames={"test": frame, "current": frame},
        features=["n", "d", "s"],
        expected_types={"n": "long", "d": "double", "s": "string"},
    )
    found = findings(serving_type_mismatch, x)
    assert [f.evidence["source"] for f in found] == ["test", "current"]
    assert all(f.check == "serving_type_mismatch" and f.severity is Severity.info for f in found)


def test_input_types_fire_on_strings_for_numbers():
    """Numbers sent as strings (the server silently converts them) fail, naming column, expected, received."""
    frame = pd.DataFrame({"n": ["1", "2"], "d": [0.5, 1.5]})
    x = ServingInputs(
        log=_log([], []), frames={"current": frame}, features=["n", "d"], expected_types={"n": "long", "d": "double"}
    )
    run = checked(serving_type_mismatch, x)
    [f] = run.findings
    assert f.severity is Severity.fail and f.columns == ["n"]
    assert f.evidence["columns"]["n"]["expected"] == "long" and f.evidence["columns"]["n"]["received"] == "string"
    assert run.metrics["serving_type_mismatch.current.columns"] == 1.0


def test_input_types_fire_on_floats_for_ints():
    """A float column where the signature says long (e.g. after nulls appeared) is a type change."""
    frame = pd.DataFrame({"n": [1.0, np.nan]})
    x = ServingInputs(log=_log([], []), frames={"test": frame}, features=["n"], expected_types={"n": "long"})
    [f] = findings(serving_type_mismatch, x)
    assert f.severity is Severity.fail and f.evidence["columns"]["n"]["received"] == "float"


def test_whole_floats_without_nulls_are_ints_on_the_wire():
    """An export that writes 38.0 for 38 (no missing value): the server gets the same ints, no mismatch; a
    decimal among them is still one."""
    x = ServingInputs(
        log=_log([], []),
        frames={"current": pd.DataFrame({"n": [38.0, 40.0]})},
        features=["n"],
        expected_types={"n": "long"},
    )
    assert [f.severity for f in findings(serving_type_mismatch, x)] == [Severity.info]
    x = ServingInputs(
        log=_log([], []),
        frames={"current": pd.DataFrame({"n": [38.0, 40.5]})},
        features=["n"],
        expected_types={"n": "long"},
    )
    assert [f.severity for f in findings(serving_type_mismatch, x)] == [Severity.fail]


def test_input_types_skip_a_column_without_values():
    """An empty source or an all-null column carries no type on the wire: nothing to judge, no false alarm."""
    frame = pd.DataFrame({"n": [np.nan, np.nan], "s": pd.Series([None, None], dtype="str")})
    expected = {"n": "long", "s": "string"}
    for source in (frame, frame.head(0)):
        x = ServingInputs(log=_log([], []), frames={"test": source}, features=["n", "s"], expected_types=expected)
        [f] = findings(serving_type_mismatch, x)
        assert f.severity is Severity.info


def test_input_types_judge_only_the_model_features():
    """A signature column that is not one of the model's features is not judged."""
    frame = pd.DataFrame({"n": [1, 2], "other": ["a", "b"]})
    x = ServingInputs(
        log=_log([], []), frames={"test": frame}, features=["n"], expected_types={"n": "long", "other": "long"}
    )
    [f] = findings(serving_type_mismatch, x)
    assert f.severity is Severity.info and "all 1 input columns" in f.message


def test_input_types_without_a_signature_are_not_a_pass():
    """A model logged without a column signature: one info note that types were not checked."""
    x = ServingInputs(log=_log([], []), frames={"test": pd.DataFrame({"n": ["1"]})}, features=["n"])
    [f] = findings(serving_type_mismatch, x)
    assert f.severity is Severity.info and "not checked" in f.message


# the stage's replay helpers


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
