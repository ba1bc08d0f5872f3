from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tasks.checks import ERROR_CHECK, configured, run_checks
from tasks.deployment import (
    broken_rollback,
    registered_model_lineage,
    shadow_disagreement,
    untagged_deployment,
    wrong_model_deployed,
)
from tasks.deployment.checks import CHECKS
from tasks.deployment.inputs import (
    Answers,
    Candidate,
    DeploymentInputs,
    LatencyProbe,
    Production,
    Registered,
    Rollback,
    Shadow,
)
from tasks.params import DeploymentParams
from tasks.result import Severity
from tests.checking import findings

CLEAN_TAGS = {
    "git_commit": "0123456789abcdef",
    "git_dirty": "false",
    "data.train.md5": "a",
    "data.test.md5": "b",
}
SCORES = np.array([0.1, 0.7, 0.3])


def deployment_inputs(
    *,
    tags: dict[str, str] | None = None,
    registered_model_id: str | None = "m-1",
    served: np.ndarray | None = None,
    offline: np.ndarray | None = None,
    reason: str | None = None,
    rollback: Rollback | None = None,
    latency: LatencyProbe | None = None,
    production: Production | None = None,
    shadow: Shadow | None = None,
) -> DeploymentInputs:
    """A deployment inputs record for version 3 of model `m`, the candidate m-1 of run r-1; every part clean
    unless given."""
    return DeploymentInputs(
        alias="champion",
        candidate=Candidate("models:/m-1", "m-1", "r-1"),
        registered=Registered(
            "m", "3", CLEAN_TAGS if tags is None else tags, registered_model_id, "r-1", "models:/m-1"
        ),
        answers=Answers(
            "models:/m/3", SCORES if served is None else served, SCORES if offline is None else offline, reason
        ),
        latency=latency or LatencyProbe(candidate_ms=(10.0,) * 50, calibration_ms=(1.0,) * 50),
        rollback=rollback or Rollback("m", None),
        production=production,
        shadow=shadow,
    )


def only(module, x, params=None):
    found = findings(module, x, params)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def test_tags_quiet_on_clean_commit_and_data_hashes():
    """A version tagged with a commit, a clean tree and train/test hashes passes."""
    f = only(untagged_deployment, deployment_inputs())
    assert f.severity is Severity.info and f.check == "untagged_deployment"


def test_tags_fail_without_commit():
    """No commit (or `unknown`) means the version cannot be traced to code: fail, naming the version."""
    f = only(untagged_deployment, deployment_inputs(tags={**CLEAN_TAGS, "git_commit": "unknown"}))
    assert f.severity is Severity.fail
    assert f.evidence["missing"] == ["git_commit"] and "version 3" in f.message


def test_tags_fail_without_data_hash():
    """A training data hash recorded as missing is a version that cannot be traced to its data."""
    f = only(untagged_deployment, deployment_inputs(tags={**CLEAN_TAGS, "data.train.md5": "missing"}))
    assert f.severity is Severity.fail and f.evidence["missing"] == ["data.train.md5"]


def test_tags_dirty_tree_takes_severity_from_params():
    """A dirty tree gets the severity params give it (warn by default, fail for releases)."""
    x = deployment_inputs(tags={**CLEAN_TAGS, "git_dirty": "true"})
    warned = only(untagged_deployment, x)
    assert warned.severity is Severity.warn and "uncommitted changes" in warned.message
    strict = untagged_deployment.Params(dirty_commit="fail")
    assert only(untagged_deployment, x, strict).severity is Severity.fail


def test_lineage_quiet_when_the_registry_holds_the_candidate():
    """The registered version records the candidate's logged model id: info."""
    assert only(registered_model_lineage, deployment_inputs()).severity is Severity.info


def test_lineage_fires_on_another_logged_model():
    """A version pointing at another logged model fails, naming both models."""
    f = only(registered_model_lineage, deployment_inputs(registered_model_id="m-9"))
    assert f.severity is Severity.fail and "m-9" in f.message and "m-1" in f.message


def test_fingerprint_quiet_when_served_equals_candidate():
    """The same answers on the fingerprint rows prove the served model is the candidate."""
    f = only(wrong_model_deployed, deployment_inputs(served=SCORES.copy()))
    assert f.severity is Severity.info and f.evidence["served_hash"] == f.evidence["candidate_hash"]


def test_fingerprint_fires_on_another_model():
    """Different answers: 'served model is not the registered candidate', with the max difference."""
    f = only(wrong_model_deployed, deployment_inputs(served=np.array([0.1, 0.6, 0.3])))
    assert f.check == "wrong_model_deployed" and f.severity is Severity.fail
    assert f.message.startswith("served model is not the registered candidate")
    assert abs(f.evidence["max_abs_diff"] - 0.1) < 1e-12 and f.evidence["served_hash"] != f.evidence["candidate_hash"]
    assert f.evidence["rows_differ"] == 1


def test_fingerprint_fires_when_the_server_did_not_answer():
    """No answer is no proof: fail, with the server's reason."""
    x = deployment_inputs(served=np.array([np.nan, 0.7, 0.3]), reason="HTTP 400: bad input")
    f = only(wrong_model_deployed, x)
    assert f.severity is Severity.fail and "HTTP 400" in f.message and "1 of 3" in f.message


def test_fingerprint_fires_without_rows():
    """Nothing compared is nothing proven: fail."""
    f = only(wrong_model_deployed, deployment_inputs(served=np.array([]), offline=np.array([])))
    assert f.severity is Severity.fail and "no fingerprint rows" in f.message


def test_alias_quiet_where_glassbox_put_it_or_never_promoted():
    """The alias on the version glassbox last promoted, or a registry glassbox never promoted in: no alias finding
    (the fingerprint finding alone)."""
    for prod in (
        Production("champion", "2", "m-2", "2", "m-2", "h2"),
        Production("champion", "1", "m-1", None, None),
        Production("champion", None, None, None, None),
    ):
        f = only(wrong_model_deployed, deployment_inputs(production=prod))
        assert f.severity is Severity.info and "fingerprint" in f.message


def test_alias_moved_outside_the_gate_fails_naming_both_versions():
    """The alias on version 1 while glassbox last promoted version 2 (moved by hand): a fail naming the served
    and the registered champion versions and model ids; the fingerprint finding is kept beside it."""
    prod = Production("champion", "1", "m-old", "2", "m-new", "abc123")
    found = findings(wrong_model_deployed, deployment_inputs(production=prod))
    alias = [f for f in found if "alias was moved" in f.message]
    assert len(found) == 2 and len(alias) == 1 and alias[0].severity is Severity.fail
    assert "version 1 (m-old)" in alias[0].message and "version 2 (m-new)" in alias[0].message
    assert alias[0].evidence["served_hash"] == "abc123" and alias[0].evidence["registered_champion_version"] == "2"


def _shadow(candidate: np.ndarray, champion: np.ndarray, reason: str | None = None) -> Shadow:
    carrier = pd.DataFrame({"carrier": np.where(np.arange(len(candidate)) % 2 == 0, "AA", "UA")})
    return Shadow("2", candidate, champion, carrier, 0.5, reason)


def test_shadow_says_why_without_a_champion():
    """No champion (or its server down): an info finding saying why, no verdict and no plot."""
    f = only(shadow_disagreement, deployment_inputs(shadow=_shadow(SCORES, SCORES, "no champion yet")))
    assert f.severity is Severity.info and "no champion yet" in f.message
    assert only(shadow_disagreement, deployment_inputs()).severity is Severity.info


def test_shadow_quiet_when_both_decide_alike(tmp_path):
    """The same decisions on every replayed row: info with 0 flipped; the score histograms are drawn."""
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=400)
    x = deployment_inputs(shadow=_shadow(scores, np.clip(scores + 0.001 * np.sign(scores - 0.5), 0, 1)))
    m = shadow_disagreement.measure(x, shadow_disagreement.Params())
    f = shadow_disagreement.judge(m, shadow_disagreement.Params())[0]
    assert f.severity is Severity.info and f.evidence["flipped"] == 0
    assert "shadow_scores.png" in m.evidence(tmp_path) and (tmp_path / "shadow_scores.csv").is_file()


def test_shadow_warns_on_many_flipped_decisions_and_names_the_slice():
    """A quarter of the decisions flipped, all in one carrier: a warning naming the share and that slice."""
    rng = np.random.default_rng(1)
    champion = rng.uniform(size=400)
    candidate = champion.copy()
    aa = np.arange(400) % 2 == 0
    candidate[aa] = 1 - champion[aa]  # every AA row's decision flips (none sits exactly at 0.5)
    f = only(shadow_disagreement, deployment_inputs(shadow=_shadow(candidate, champion)))
    assert f.severity is Severity.warn and "carrier=AA" in f.message
    assert f.evidence["slices"][0]["category"] == "AA" and f.evidence["slices"][0]["share"] == 1.0


def test_rollback_quiet_without_previous_or_when_it_loads_and_serves():
    """No previous holder is a first promotion; a previous version that loads and answers is fine."""
    assert only(broken_rollback, deployment_inputs()).severity is Severity.info
    fine = Rollback("m", "1", "models:/m/1", rows=3, answers=3)
    f = only(broken_rollback, deployment_inputs(rollback=fine))
    assert f.severity is Severity.info and f.evidence["version"] == "1"


@pytest.mark.parametrize(
    ("rollback", "says"),
    [
        (Rollback("m", "1", "models:/m/1", rows=3, load_error="OSError: no artifacts"), "no artifacts"),
        (Rollback("m", "1", "models:/m/1", rows=3, answers=2), "1 of 3 answers are not finite"),
        (Rollback("m", "1", "models:/m/1", rows=3, answers=3, serve_error="exited with code 1"), "served: exited"),
    ],
)
def test_rollback_fires_when_previous_cannot_load_answer_or_serve(rollback, says):
    """A previous version that cannot be loaded, answers NaN or cannot be served leaves nothing to roll back to."""
    f = only(broken_rollback, deployment_inputs(rollback=rollback))
    assert f.severity is Severity.fail and "models:/m/1" in f.message and says in f.message


def test_rollback_severity_from_params():
    """The severity of a broken rollback target is the user's (fail by default)."""
    x = deployment_inputs(rollback=Rollback("m", "1", "models:/m/1", rows=3, load_error="OSError"))
    assert only(broken_rollback, x, broken_rollback.Params(severity="warn")).severity is Severity.warn


def test_checks_keep_their_own_names():
    """Each finding is stamped with its check's name (= module = fault id)."""
    x = deployment_inputs(tags={}, registered_model_id="m-9")
    x = replace(x, rollback=Rollback("m", "1", "models:/m/1", rows=3, load_error="boom"))
    for module in (untagged_deployment, registered_model_lineage, wrong_model_deployed, broken_rollback):
        assert {f.check for f in findings(module, x)} == {module.__name__.rsplit(".", 1)[-1]}


NAN = float("nan")
EDGES = {
    "nothing_measured": dict(
        served=np.array([]), offline=np.array([]), latency=LatencyProbe(candidate_ms=(), calibration_ms=())
    ),
    "no_answer_at_all": dict(
        served=np.full(3, np.nan),
        latency=LatencyProbe(
            candidate_ms=(NAN,) * 40, calibration_ms=(NAN,) * 40, champion_ms=(NAN,) * 40, champion_version="2"
        ),
        rollback=Rollback("m", "2", "models:/m/2", rows=3, answers=0, serve_error="exited"),
    ),
    "one_round": dict(
        latency=LatencyProbe(candidate_ms=(5.0,), calibration_ms=(1.0,), champion_ms=(5.0,), champion_version="2")
    ),
    "no_tags": dict(tags={}, registered_model_id=None),
}


@pytest.mark.parametrize("edge", list(EDGES))
def test_every_check_survives_edge_inputs(edge, tmp_path):
    """Each deployment check ends in findings on empty, unanswered or one-round inputs and none crashes; latency
    that was not measured is a warn, never a pass."""
    run = run_checks(configured(CHECKS, DeploymentParams()), deployment_inputs(**EDGES[edge]), tmp_path)
    crashed = [f.message for f in run.findings if f.check == ERROR_CHECK]
    assert not crashed, crashed
    assert {c.name for c in CHECKS} - {"latency_regression"} <= {f.check for f in run.findings}
    if edge == "no_answer_at_all":
        latency = {f.check: f.severity for f in run.findings if f.check.startswith("latency")}
        assert latency == {"latency_regression": Severity.warn, "latency_budget": Severity.warn}


def test_a_large_batch_is_shadowed_on_a_seeded_sample_and_the_finding_says_so():
    """Over deployment.shadow_rows the champion and the candidate answer the same seeded sample of the batch, both
    at once; the finding names the sample and the batch's size."""
    from types import SimpleNamespace

    from tasks.deployment.checks import Settings
    from tasks.deployment.stage import Servers, shadow_replay
    from tasks.serving.checks import Settings as ServingSettings
    from tasks.serving.server import Answer

    class Scorer:
        def __init__(self, flip: bool) -> None:
            self.flip = flip

        def invoke(self, frame: pd.DataFrame, timeout_s: float, body: str | None = None) -> Answer:
            s = frame["x"].to_numpy()
            s = 1 - s if self.flip else s
            return Answer(200, [[1 - v, v] for v in s], None, 1.0, pd.Timestamp.now(tz="UTC").to_pydatetime())

    traffic = pd.DataFrame({"x": np.random.default_rng(0).uniform(size=1000), "carrier": "AA"})
    params = SimpleNamespace(
        evaluation=SimpleNamespace(threshold=0.5),
        deployment=Settings(shadow_rows=100),
        serving=ServingSettings(batch_rows=30),
    )
    up = Servers(candidate=Scorer(False), champion=Scorer(False))
    shadow = shadow_replay(SimpleNamespace(params=params), up, traffic, ["carrier"], "1")
    again = shadow_replay(SimpleNamespace(params=params), up, traffic, ["carrier"], "1")
    assert len(shadow.candidate) == 100 and shadow.of_rows == 1000
    assert np.array_equal(shadow.candidate, again.candidate) and np.array_equal(shadow.candidate, shadow.champion)
    f = only(shadow_disagreement, deployment_inputs(shadow=shadow))
    assert f.severity is Severity.info and "0 of 100 replayed rows (a seeded sample of the batch's 1,000)" in f.message
    assert f.evidence["batch_rows"] == 1000
