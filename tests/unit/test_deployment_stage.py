from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import mlflow
import numpy as np
import pytest

from tasks.deployment import stage as deployment
from tasks.deployment.registration import alias_holder, client, register, registered_model_id
from tasks.deployment.stage import REGISTERED_FILE, run
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


def _gates_passed(out, failed: str | None = None) -> None:
    for name in STAGES[: STAGES.index("deployment")]:
        bad = name == failed
        findings = [Finding(check="x", severity=Severity.fail, message="boom")] if bad else []
        verdict = Verdict.fail if bad else Verdict.passed
        StageResult(name=name, verdict=verdict, findings=findings, run_id=RUN_ID).write(out / name / "result.json")


@contextmanager
def _fake_server(scores_for):
    """Stands in for `mlflow models serve`: answers with `scores_for(X)` as predict_proba rows."""

    class Fake:
        startup_s = 0.0

        def invoke(self, frame, timeout_s):
            p = scores_for(frame)
            return Answer(200, [[1 - v, v] for v in p], None, 1.0, datetime.now(UTC))

    yield Fake()


def test_not_promoted_when_an_earlier_gate_failed(tiny):
    """A gate failed in this run: nothing is registered, the alias is untouched, registered.json says so."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out", failed="evaluation")
    registry = client(params.tracking.tracking_uri)
    before = alias_holder(registry, params.tracking.registered_model, params.deployment.alias)
    out = run(context(params, tmp, "deployment"))
    assert verdict_of(out.findings) is Verdict.fail and out.metrics == {"promoted": 0.0}
    record = json.loads((tmp / "out" / "deployment" / REGISTERED_FILE).read_text())
    assert record["promoted"] is False and record["version"] is None
    assert alias_holder(registry, params.tracking.registered_model, params.deployment.alias) == before


def test_wrong_model_served_is_not_promoted(tiny, monkeypatch):
    """When the registered version answers unlike the candidate, the stage fails with
    wrong_model_deployed and the alias stays where it was."""
    params, ref, _, tmp = tiny
    _gates_passed(tmp / "out")
    model = load_sklearn(ref.model_uri)
    monkeypatch.setattr(
        deployment, "serve", lambda *a, **k: _fake_server(lambda X: positive_scores(model, X[FEATURES]) * 0.9)
    )
    registry = client(params.tracking.tracking_uri)
    before = alias_holder(registry, params.tracking.registered_model, params.deployment.alias)
    out = run(context(params, tmp, "deployment"))
    by_check = {f.check: f for f in out.findings}
    assert by_check["wrong_model_deployed"].severity is Severity.fail
    assert "not promoted" in by_check["promotion"].message and out.metrics["promoted"] == 0.0
    assert alias_holder(registry, params.tracking.registered_model, params.deployment.alias) == before


@pytest.mark.slow
def test_deployment_registers_serves_and_promotes(tiny):
    """With every gate passed and a clean commit: a new version tagged with commit, data hashes and run id,
    served by `mlflow models serve` and proven to be the candidate, promoted to the alias; the previous
    holder is recorded for rollback and still loads."""
    params, ref, _, tmp = tiny
    name, alias = params.tracking.registered_model, params.deployment.alias
    registry = client(params.tracking.tracking_uri)
    older = register(registry, name, ref, {"note": "the earlier champion"})
    registry.set_registered_model_alias(name, alias, older.version)
    _gates_passed(tmp / "out")
    start = time.perf_counter()
    out = run(context(params, tmp, "deployment"))
    elapsed = time.perf_counter() - start
    assert verdict_of(out.findings) is Verdict.passed, [f.message for f in out.findings if f.severity != "info"]
    record = json.loads((tmp / "out" / "deployment" / REGISTERED_FILE).read_text())
    assert record["promoted"] is True and record["previous_version"] == str(older.version)
    assert record["tags"]["git_commit"] == "abc123" and record["tags"]["glassbox_run_id"] == RUN_ID
    assert record["tags"]["data.train.md5"] == "d1" and record["fingerprint"]["max_abs_diff"] == 0.0
    assert str(registry.get_model_version_by_alias(name, alias).version) == record["version"]
    registered = registry.get_model_version(name, record["version"])
    assert registered_model_id(registered) == ref.model_id and registered.tags["glassbox_promoted"] == "true"
    by_check = {f.check: f for f in out.findings}
    assert by_check["broken_rollback"].evidence["version"] == str(older.version)
    assert out.metrics["promoted"] == 1.0 and out.metrics["registered_version"] == float(record["version"])
    assert np.isfinite(out.metrics["latency_p99_ms"])
    print(f"\ndeployment stage: {elapsed:.1f} s, server start {out.metrics['server_startup_s']:.1f} s")
