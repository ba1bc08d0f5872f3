from __future__ import annotations

import json
import math

from tasks.gates import complete_results
from tasks.params import Params
from tasks.provenance import Provenance
from tasks.report import build_report, changes_since, write_report
from tasks.result import Finding, Severity, StageResult, Verdict, verdict_of


def _params(gates: list[str]) -> Params:
    inputs = {"train": "a", "test": "b", "current": "c", "target": "y"}
    return Params.model_validate({"inputs": inputs, "gates": gates, "snapshot": {"demo": True}})


def _res(name: str, verdict: Verdict, run_id: str = "r1", check: str = "c") -> StageResult:
    sev = {Verdict.fail: Severity.fail, Verdict.warn: Severity.warn}.get(verdict, Severity.info)
    return StageResult(
        name=name, verdict=verdict, run_id=run_id, findings=[Finding(check=check, severity=sev, message="m")]
    )


def test_evidence_is_plain_json():
    """numpy scalars and NaN in evidence become plain JSON (NaN -> null), so reports round-trip."""
    import numpy as np

    f = Finding(check="c", severity=Severity.warn, message="m", evidence={"a": np.float64(1.5), "b": math.nan})
    assert json.loads(f.model_dump_json())["evidence"] == {"a": 1.5, "b": None}


def test_verdict_is_the_worst_finding():
    """A stage's verdict is derived from its findings, never set by hand."""
    assert verdict_of([]) is Verdict.passed
    fs = [
        Finding(check="a", severity=Severity.warn, message=""),
        Finding(check="b", severity=Severity.fail, message=""),
    ]
    assert verdict_of(fs) is Verdict.fail


def test_failing_gate_skips_later_stages_with_the_reason():
    """After a failing gate every later stage is skipped and says which gate stopped it."""
    results = {
        "snapshot": _res("snapshot", Verdict.passed),
        "data": _res("data", Verdict.fail, check="schema"),
    }
    stages = complete_results(results, "r1", _params(["data"]))
    assert [s.verdict for s in stages][:2] == [Verdict.passed, Verdict.fail]
    assert all(s.verdict is Verdict.skipped for s in stages[2:])
    assert stages[2].reason == "stopped by failing gate 'data' (schema)"


def test_failing_stage_that_is_not_a_gate_does_not_stop():
    """A stage left out of `gates` reports its failure but the stages after it still count."""
    results = {n: _res(n, Verdict.passed) for n in ("snapshot", "features")}
    results["data"] = _res("data", Verdict.fail)
    stages = complete_results(results, "r1", _params(["features"]))
    assert stages[2].verdict is Verdict.passed and stages[2].name == "features"


def test_stale_results_after_a_rerun_stage_are_not_reported():
    """In a dvc run, a result from an older run after a stage that reran is stale; before it, it is reused."""
    results = {
        "snapshot": _res("snapshot", Verdict.passed, run_id="old"),
        "data": _res("data", Verdict.passed, run_id="new"),
        "features": _res("features", Verdict.passed, run_id="old"),
    }
    stages = complete_results(results, "new", _params([]))
    assert stages[0].run_id == "old"
    assert stages[2].verdict is Verdict.skipped and stages[2].reason == "not run"


class _Run:
    run_id = "r2"
    provenance = Provenance(
        git_commit="b", git_dirty=False, data_hashes={"train": "x2"}, params_sha256="p", packages={}
    )


def test_report_files_and_changes_since_last_good(tmp_path):
    """The report has the contract's keys, comes in three formats, and names what changed since the last good run."""
    previous = {
        "run_id": "r1",
        "provenance": {
            "git_commit": "a",
            "params_sha256": "p",
            "data_hashes": {"train": "x1"},
            "packages": {},
        },
        "stages": [{"name": "training", "verdict": "pass", "metrics": {"auc": 0.7}}],
    }
    (tmp_path / "last_good.json").write_text(json.dumps(previous))
    stages = complete_results(
        {"training": StageResult(name="training", verdict=Verdict.warn, run_id="r2", metrics={"auc": 0.65})},
        "r2",
        _params([]),
    )
    report = build_report(_Run(), stages, tmp_path)
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema_version"] == 1 and data["status"] == "warned" and data["first_failure"] is None
    assert {"run_id", "status", "provenance", "stages", "first_failure"} <= set(data)
    ch = data["changes_since_last_good"]
    assert ch["git_commit"] == {"before": "a", "after": "b"}
    assert ch["data_hashes"]["train"] == {"before": "x1", "after": "x2"}
    assert ch["verdicts"]["training"] == {"before": "pass", "after": "warn"}
    assert abs(ch["metrics"]["training.auc"]["delta"] + 0.05) < 1e-9
    assert "training" in (tmp_path / "report.md").read_text()
    assert "<table>" in (tmp_path / "report.html").read_text()


def test_own_data_skips_the_snapshot_stage_as_not_applicable():
    """With snapshot.demo false the snapshot stage neither runs nor gates, and the report says why."""
    params = _params([]).model_copy(update={"snapshot": _params([]).snapshot.model_copy(update={"demo": False})})
    [snapshot, *_] = complete_results({}, "r1", params)
    assert snapshot.verdict is Verdict.skipped and snapshot.reason == "own data (snapshot.demo is false)"


def test_no_previous_good_run_is_said():
    """The first run says there is nothing to compare with instead of inventing a diff."""
    assert changes_since(None, {})["last_good_run_id"] is None
