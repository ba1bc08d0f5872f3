from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import mlflow
import numpy as np
import pytest

from tasks.deployment import stage as deployment
from tasks.deployment.registration import (
    alias_holder,
    client,
    promote,
    promoted_version,
    register,
    registered_model_id,
)
from tasks.deployment.stage import REGISTERED_FILE, Servers, run
from tasks.gates import promotion_blockers
from tasks.modeling import load_sklearn, positive_scores
from tasks.params import STAGES
from tasks.result import Finding, Severity, StageResult, Verdict, verdict_of
from tasks.serving.server import Answer
from tests.unit.test_serving_stage import FEATURES, RUN_ID, context, train_tiny


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    previous = mlflow.get_tracking_uri()
    tmp = tmp_path_factory.mktemp("deployment")
    params, ref, test = train_tiny(tmp)
    yield params, ref, test, tmp
    mlflow.set_tracking_uri(previous)


def _results(out, verdicts: dict[str, Verdict], run_id: str = RUN_ID) -> None:
    for name, verdict in verdicts.items():
        findings = [Finding(check="x", severity=Severity.fail, message="boom")] if verdict is Verdict.fail else []
        StageResult(name=name, verdict=verdict, findings=findings, run_id=run_id).write(out / name / "result.json")


def _all_before(verdict: Verdict = Verdict.passed) -> dict[str, Verdict]:
    return {s: verdict for s in STAGES[: STAGES.index("deployment")]}


def _gates_passed(out, failed: str | None = None) -> None:
    _results(out, {**_all_before(), **({failed: Verdict.fail} if failed else {})})


class FakeServer:
    """Stands in for `mlflow models serve`: answers `scores_for(X)` as predict_proba rows (a constant for the
    single-row latency requests), each request taking about `ms` (seeded noise, no clock), /ping 1 ms."""

    startup_s = 0.0

    def __init__(self, scores_for, ms: float = 10.0, seed: int = 0):
        self.scores_for, self.ms, self.rng = scores_for, ms, np.random.default_rng(seed)

    def invoke(self, frame, timeout_s):
        p = self.scores_for(frame) if len(frame) > 1 else [0.5]
        latency = self.ms * float(self.rng.lognormal(0, 0.2))
        return Answer(200, [[1 - v, v] for v in p], None, latency, datetime.now(UTC))

    def ping(self, timeout_s):
        return 1.0


def _fake_servers(monkeypatch, candidate: FakeServer, champion: FakeServer | None = None, started: list | None = None):
    @contextmanager
    def fake(ctx, candidate_uri, champion_uri):
        if started is not None:
            started.append((candidate_uri, champion_uri))
        yield Servers(candidate, champion if champion_uri else None)  # type: ignore[arg-type]

    monkeypatch.setattr(deployment, "servers", fake)


def _holder(params):
    return alias_holder(client(params.tracking.tracking_uri), params.tracking.registered_model, params.deployment.alias)


def _make_champion(params, ref) -> str:
    """Register the candidate's model once more and give it the alias: a champion as fast as the candidate."""
    registry = client(params.tracking.tracking_uri)
    name = params.tracking.registered_model
    older = register(registry, name, ref, {"note": "the earlier champion"})
    promote(registry, name, params.deployment.alias, str(older.version), None)  # as a run promotes: recorded
    return str(older.version)


# --- the gate the stage asks first (tasks.gates.promotion_blockers) ---------------------------------------------


def test_gates_quiet_when_every_earlier_gate_passed(tiny, tmp_path):
    """Every gate before deployment passed in this run (warn counts as passed): one info finding."""
    params = tiny[0]
    _results(tmp_path, {**_all_before(), "evaluation": Verdict.warn})
    assert [f.severity for f in promotion_blockers(tmp_path, params, RUN_ID)] == [Severity.info]


def test_gates_fail_names_the_failed_stage(tiny, tmp_path):
    """A gate that failed in this run blocks promotion, and the finding names it and its first failure."""
    params = tiny[0]
    _results(tmp_path, {**_all_before(), "evaluation": Verdict.fail})
    found = promotion_blockers(tmp_path, params, RUN_ID)
    assert len(found) == 1 and found[0].severity is Severity.fail
    assert "'evaluation'" in found[0].message and "boom" in found[0].message


def test_gates_missing_result_blocks(tiny, tmp_path):
    """A gate that left no result.json cannot be shown to have passed: fail."""
    params = tiny[0]
    verdicts = _all_before()
    del verdicts["serving"]
    _results(tmp_path, verdicts)
    assert [f.evidence["stage"] for f in promotion_blockers(tmp_path, params, RUN_ID)] == ["serving"]


def test_gates_ignore_stages_not_listed_as_gates_and_stale_results(tiny, tmp_path):
    """A failed stage outside `gates`, or a failure recorded by another run, does not block."""
    params = tiny[0]
    _results(tmp_path, {**_all_before(), "features": Verdict.fail})
    _results(tmp_path, {"training": Verdict.fail}, run_id="older-run")
    no_features = params.model_copy(update={"gates": [g for g in STAGES if g != "features"]})
    assert all(f.severity is Severity.info for f in promotion_blockers(tmp_path, no_features, RUN_ID))


# --- the stage, with fake servers -------------------------------------------------------------------------------


def test_not_promoted_when_an_earlier_gate_failed(tiny):
    """A gate failed in this run: nothing is registered, the alias is untouched, registered.json says so."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out", failed="evaluation")
    before = _holder(params)
    out = run(context(params, tmp, "deployment"))
    assert verdict_of(out.findings) is Verdict.fail and out.metrics == {"promoted": 0.0}
    record = json.loads((tmp / "out" / "deployment" / REGISTERED_FILE).read_text())
    assert record["promoted"] is False and record["version"] is None
    assert _holder(params) == before


def test_wrong_model_served_is_not_promoted(tiny, monkeypatch):
    """When the registered version answers unlike the candidate, the stage fails with wrong_model_deployed and
    the alias stays where it was."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out")
    model = load_sklearn(ref.model_uri)
    _fake_servers(monkeypatch, FakeServer(lambda X: positive_scores(model, X[FEATURES]) * 0.9))
    before = _holder(params)
    out = run(context(params, tmp, "deployment"))
    by_check = {f.check: f for f in out.findings}
    assert by_check["wrong_model_deployed"].severity is Severity.fail
    assert "not promoted" in by_check["promotion"].message and out.metrics["promoted"] == 0.0
    assert _holder(params) == before


def test_slower_candidate_than_champion_is_not_promoted(tiny, monkeypatch):
    """A candidate answering three times slower than the champion beside it fails latency_regression; the alias
    stays on the champion. Both servers were asked for (the champion by its version number)."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out")
    champion = _make_champion(params, ref)
    model = load_sklearn(ref.model_uri)
    answers = lambda X: positive_scores(model, X[FEATURES])  # noqa: E731  # the same model behind both
    started: list = []
    _fake_servers(monkeypatch, FakeServer(answers, ms=30.0, seed=1), FakeServer(answers, ms=10.0, seed=2), started)
    out = run(context(params, tmp, "deployment"))
    by_check = {f.check: f for f in out.findings}
    assert by_check["latency_regression"].severity is Severity.fail, by_check["latency_regression"].message
    assert f"champion version {champion}" in by_check["latency_regression"].message
    assert by_check["broken_rollback"].severity is Severity.info
    assert started[-1][1] == f"models:/{params.tracking.registered_model}/{champion}"
    assert "latency_regression" in by_check["promotion"].message and _holder(params) == champion
    assert out.metrics["latency_regression.p50_ratio"] > 2.0


def test_candidate_as_fast_as_champion_is_promoted(tiny, monkeypatch):
    """The same speed beside the champion: every check quiet, the alias moves to the new version, the metrics
    carry the check-prefixed latency numbers."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out")
    champion = _make_champion(params, ref)
    model = load_sklearn(ref.model_uri)
    answers = lambda X: positive_scores(model, X[FEATURES])  # noqa: E731
    _fake_servers(monkeypatch, FakeServer(answers, seed=3), FakeServer(answers, seed=4))
    out = run(context(params, tmp, "deployment"))
    assert verdict_of(out.findings) is Verdict.passed, [f.message for f in out.findings if f.severity != "info"]
    record = json.loads((tmp / "out" / "deployment" / REGISTERED_FILE).read_text())
    assert record["promoted"] is True and record["previous_version"] == champion
    assert _holder(params) == record["version"] and record["fingerprint"]["max_abs_diff"] == 0.0
    assert 0.7 < out.metrics["latency_regression.p50_ratio"] < 1.4
    assert out.metrics["latency_budget.p95_upper_ms"] > 0 and out.metrics["latency_budget.stalled_rounds"] == 0


# --- the stage on real servers ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_deployment_registers_serves_and_promotes(tiny):
    """With every gate passed and a clean commit: a new version tagged with commit, data hashes and run id,
    served by `mlflow models serve` beside the champion and proven to be the candidate, as fast as it, promoted
    to the alias; the previous holder is recorded for rollback and still loads and serves."""
    params, ref, _, tmp = tiny
    name, alias = params.tracking.registered_model, params.deployment.alias
    registry = client(params.tracking.tracking_uri)
    older = _make_champion(params, ref)
    _gates_passed(tmp / "out")
    start = time.perf_counter()
    out = run(context(params, tmp, "deployment"))
    elapsed = time.perf_counter() - start
    # The absolute budget may warn on a slow machine (that is what it is for); nothing may fail.
    warned = {f.check for f in out.findings if f.severity is not Severity.info}
    assert warned <= {"latency_budget"}, [f.message for f in out.findings if f.severity != "info"]
    record = json.loads((tmp / "out" / "deployment" / REGISTERED_FILE).read_text())
    assert record["promoted"] is True and record["previous_version"] == older
    assert record["tags"]["git_commit"] == "abc123" and record["tags"]["glassbox_run_id"] == RUN_ID
    assert record["tags"]["data.train.md5"] == "d1" and record["fingerprint"]["max_abs_diff"] == 0.0
    assert str(registry.get_model_version_by_alias(name, alias).version) == record["version"]
    assert promoted_version(registry, name) == record["version"]  # the record an alias moved by hand is judged by
    registered = registry.get_model_version(name, record["version"])
    assert registered_model_id(registered) == ref.model_id and registered.tags["glassbox_promoted"] == "true"
    by_check = {f.check: f for f in out.findings}
    assert by_check["broken_rollback"].evidence["version"] == older
    assert f"champion version {older}" in by_check["latency_regression"].message
    assert out.metrics["promoted"] == 1.0 and out.metrics["registered_version"] == float(record["version"])
    m = out.metrics
    print(
        f"\ndeployment stage: {elapsed:.1f} s, server start {m['server_startup_s']:.1f} s "
        f"(champion {m['champion_server_startup_s']:.1f} s); p50 ratio {m['latency_regression.p50_ratio']:.2f} "
        f"(upper {m['latency_regression.p50_ratio_upper']:.2f}), p90 ratio {m['latency_regression.p90_ratio']:.2f} "
        f"(upper {m['latency_regression.p90_ratio_upper']:.2f}); p50 {m['latency_budget.p50_ms']:.1f} ms, "
        f"p95 bound {m['latency_budget.p95_upper_ms']:.1f} ms, {m['latency_budget.stalled_rounds']:.0f} stalled"
    )


def test_rollback_moves_the_alias_back_and_records_it(tiny):
    """`glassbox rollback` points the alias at the version promoted before (after loading it) and records it as
    glassbox's promotion: the alias check then finds production where glassbox put it. A version that does not
    exist is refused with a message, the alias untouched."""
    from tasks.deployment.registration import rollback

    params, ref, _, _ = tiny
    registry, name, alias = client(params.tracking.tracking_uri), "rollback-model", params.deployment.alias
    first, second = (str(register(registry, name, ref, {}).version) for _ in range(2))
    for version, before in ((first, None), (second, first)):
        promote(registry, name, alias, version, before)
        registry.set_model_version_tag(name, version, "glassbox_promoted", "true")
    done = rollback(registry, name, alias)
    assert done.severity is Severity.info and f"version {first}" in done.message
    assert alias_holder(registry, name, alias) == first == promoted_version(registry, name)
    with pytest.raises(ValueError, match="does not load"):
        rollback(registry, name, alias, to="99")
    assert alias_holder(registry, name, alias) == first
