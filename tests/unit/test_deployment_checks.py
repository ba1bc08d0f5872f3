from __future__ import annotations

import numpy as np
import pandas as pd
from tasks.deployment.gates import earlier_gates

from tasks.deployment.fingerprint import lineage, served_is_candidate
from tasks.deployment.latency import latency_budget
from tasks.deployment.rollback import rollback_target
from tasks.deployment.tags import provenance_tags
from tasks.limits import Limit
from tasks.params import STAGES
from tasks.result import Finding, Severity, StageResult, Verdict

RUN = "run-1"
GATES = list(STAGES)
CLEAN_TAGS = {
    "git_commit": "0123456789abcdef",
    "git_dirty": "false",
    "data.train.md5": "a",
    "data.test.md5": "b",
}
FINGERPRINT = Limit(warn=None, fail=1e-9)
BUDGET = Limit(warn=250.0, fail=1000.0)


def _results(out, verdicts: dict[str, Verdict], run_id: str = RUN) -> None:
    for name, verdict in verdicts.items():
        findings = [Finding(check="x", severity=Severity.fail, message="boom")] if verdict is Verdict.fail else []
        StageResult(name=name, verdict=verdict, findings=findings, run_id=run_id).write(out / name / "result.json")


def _all_before(verdict: Verdict = Verdict.passed) -> dict[str, Verdict]:
    return {s: verdict for s in STAGES[: STAGES.index("deployment")]}


def test_gates_quiet_when_every_earlier_gate_passed(tmp_path):
    """Every gate before deployment passed in this run (warn counts as passed): one info finding."""
    _results(tmp_path, {**_all_before(), "evaluation": Verdict.warn})
    found = earlier_gates(tmp_path, GATES, RUN)
    assert [f.severity for f in found] == [Severity.info]


def test_gates_fail_names_the_failed_stage(tmp_path):
    """A gate that failed in this run blocks promotion, and the finding names it and its first failure."""
    _results(tmp_path, {**_all_before(), "evaluation": Verdict.fail})
    found = earlier_gates(tmp_path, GATES, RUN)
    assert len(found) == 1 and found[0].severity is Severity.fail
    assert "'evaluation'" in found[0].message and "boom" in found[0].message


def test_gates_missing_result_blocks(tmp_path):
    """A gate that left no result.json cannot be shown to have passed: fail."""
    verdicts = _all_before()
    del verdicts["serving"]
    _results(tmp_path, verdicts)
    found = earlier_gates(tmp_path, GATES, RUN)
    assert [f.evidence["stage"] for f in found] == ["serving"]


def test_gates_ignore_stages_not_listed_as_gates_and_stale_results(tmp_path):
    """A failed stage outside `gates`, or a failure recorded by another run, does not block."""
    _results(tmp_path, {**_all_before(), "features": Verdict.fail})
    _results(tmp_path, {"training": Verdict.fail}, run_id="older-run")
    gates = [g for g in GATES if g != "features"]
    assert all(f.severity is Severity.info for f in earlier_gates(tmp_path, gates, RUN))


def test_tags_quiet_on_clean_commit_and_data_hashes():
    """A version tagged with a commit, a clean tree and train/test hashes passes."""
    assert provenance_tags("3", CLEAN_TAGS, "warn").severity is Severity.info


def test_tags_fail_without_commit():
    """No commit (or `unknown`) means the version cannot be traced to code: fail, naming the version."""
    f = provenance_tags("3", {**CLEAN_TAGS, "git_commit": "unknown"}, "warn")
    assert f.check == "untagged_deployment" and f.severity is Severity.fail
    assert f.evidence["missing"] == ["git_commit"] and "version 3" in f.message


def test_tags_fail_without_data_hash():
    """A training data hash recorded as missing is a version that cannot be traced to its data."""
    f = provenance_tags("3", {**CLEAN_TAGS, "data.train.md5": "missing"}, "warn")
    assert f.severity is Severity.fail and f.evidence["missing"] == ["data.train.md5"]


def test_tags_dirty_tree_takes_severity_from_params():
    """A dirty tree gets the severity params give it (warn by default, fail for releases)."""
    dirty = {**CLEAN_TAGS, "git_dirty": "true"}
    assert provenance_tags("3", dirty, "warn").severity is Severity.warn
    assert provenance_tags("3", dirty, "fail").severity is Severity.fail
    assert "uncommitted changes" in provenance_tags("3", dirty, "warn").message


def test_fingerprint_quiet_when_served_equals_candidate():
    """The same answers on the fingerprint rows prove the served model is the candidate."""
    a = np.array([0.1, 0.7, 0.3])
    f = served_is_candidate(a, a.copy(), FINGERPRINT, {"served_uri": "models:/m/2"})
    assert f.severity is Severity.info and f.evidence["served_hash"] == f.evidence["candidate_hash"]


def test_fingerprint_fires_on_another_model():
    """Different answers: 'served model is not the registered candidate', with the max difference."""
    f = served_is_candidate(
        np.array([0.1, 0.7]),
        np.array([0.1, 0.6]),
        FINGERPRINT,
        {"served_uri": "models:/m/2", "candidate_model_id": "m-1"},
    )
    assert f.check == "wrong_model_deployed" and f.severity is Severity.fail
    assert f.message.startswith("served model is not the registered candidate")
    assert abs(f.evidence["max_abs_diff"] - 0.1) < 1e-12 and f.evidence["served_hash"] != f.evidence["candidate_hash"]


def test_fingerprint_fires_when_the_server_did_not_answer():
    """No answer is no proof: fail, with the server's reason."""
    f = served_is_candidate(np.array([np.nan]), np.array([0.5]), FINGERPRINT, {}, "HTTP 400: bad input")
    assert f.severity is Severity.fail and "HTTP 400" in f.message


def test_lineage_quiet_and_firing():
    """The registered version must record the candidate's logged model id."""
    assert lineage("2", "m-1", "r", "models:/m-1", "m-1", "r").severity is Severity.info
    f = lineage("2", "m-9", "r", "models:/m-9", "m-1", "r")
    assert f.severity is Severity.fail and "m-9" in f.message and "m-1" in f.message


def test_latency_within_budget_is_quiet():
    """p99 under the warn budget: info, with p50 and p99 in evidence."""
    f = latency_budget([10.0] * 50, 0, BUDGET)
    assert f.severity is Severity.info and f.evidence["p50_ms"] == 10.0


def test_latency_over_budget_fails():
    """p99 over the fail budget: latency_regression fails, quoting p50/p99 and the budget."""
    f = latency_budget([10.0] * 45 + [2000.0] * 5, 0, BUDGET)
    assert f.check == "latency_regression" and f.severity is Severity.fail and "p99" in f.message


def _score(model, X):
    return model(X)


def test_rollback_quiet_without_previous_or_when_it_loads():
    """No previous holder is a first promotion; a previous version that loads and answers is fine."""
    X = pd.DataFrame({"x": [1.0, 2.0]})
    assert rollback_target("m", None, None, _score, X, "fail").severity is Severity.info
    f = rollback_target("m", "1", lambda uri: lambda X: np.full(len(X), 0.5), _score, X, "fail")
    assert f.severity is Severity.info and f.evidence["version"] == "1"


def test_rollback_fires_when_previous_cannot_load():
    """A previous version that cannot be loaded leaves nothing to roll back to: severity from params."""

    def load(uri):
        raise OSError(f"no artifacts for {uri}")

    f = rollback_target("m", "1", load, _score, pd.DataFrame({"x": [1.0]}), "fail")
    assert f.check == "broken_rollback" and f.severity is Severity.fail and "models:/m/1" in f.message
