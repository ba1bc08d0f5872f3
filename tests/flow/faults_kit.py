"""The kit of the fault tests, in three modules so xdist runs them on both workers (test_faults.py: the data,
feature and training faults; test_faults_late.py: evaluation and serving; test_faults_ops.py: deployment and
monitoring): a demo project on a 5% sample, the clean sample's own results, and the
one check every planted fault passes. tests/flow/conftest.py makes the fixtures visible; they are built once per
test process, whichever fault modules it runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.demo.catalog import FAULTS
from tasks.demo.inject import inject, write_clean
from tasks.diagnosis import diagnose
from tasks.params import STAGES, load_params
from tasks.result import Severity, StageResult
from tasks.runner import PipelineRun, begin_run, execute_stage
from tests.flow.demo_project import demo_params

SAMPLE = 0.05
CHECKED = ("data", "features", "training")  # the layers the planted faults live in, in flow order
MAX_ITER = 20  # boosting rounds: the split checks run before fitting, the model's quality is not under test
# Paired latency rounds per deployment (300 by default): the planted slow model is ~7x the champion, told apart
# in far fewer rounds, and each round of it costs ~50 ms.
LATENCY_ROUNDS = 80
# A fault judged by comparing two models on the trusted test set needs more test rows than the sample's ~700 (~90
# of them late): there the paired interval of a ROC AUC difference spans +-0.06, and no realistic regression is
# told from noise. Such a fault gets its own project on a larger sample (~4,900 test rows; at 15-25% the clean
# test set's label rate reads Cohen's h 0.40-0.42 against training, over label_shift's fail line, at 35% 0.38).
LARGER = {"challenger_worse": 0.35}
EARLY = [f for f, fault in FAULTS.items() if fault.layer in CHECKED]
LATE = [f for f, fault in FAULTS.items() if fault.layer in ("evaluation", "serving")]
OPS = [f for f in FAULTS if f not in EARLY and f not in LATE]  # deployment and monitoring


def run_stages(params_path: Path, out: Path, upto: str, *, stop_on_fail: bool = True) -> dict[str, StageResult]:
    """The stages after the snapshot, in order, up to `upto`; a failing gate stops the later ones, as in the flow."""
    params = load_params(params_path)
    run = begin_run(params, out)
    results: dict[str, StageResult] = {}
    for name in STAGES[STAGES.index("data") : STAGES.index(upto) + 1]:
        results[name] = execute_stage(name, params, out, run)
        if stop_on_fail and results[name].failed:
            break
    return results


def problems(result: StageResult) -> list[tuple[str, str, str]]:
    return [(f.check, f.severity.value, f.message) for f in result.findings if f.severity is not Severity.info]


def findings(results: dict[str, StageResult]) -> frozenset[tuple[str, str, str]]:
    """(layer, check, severity) of every finding: what the diagnosis knows of a run that went well."""
    return frozenset((name, f.check, f.severity.value) for name, r in results.items() for f in r.findings)


def report_of(results: dict[str, StageResult]) -> dict:
    """The part of a run's report the diagnosis reads (tasks/report.py build_report): the stages in flow order."""
    return {"stages": [r.model_dump(mode="json") for r in results.values()]}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> tuple[Path, dict[str, StageResult], Path]:
    """A demo project on a 5% sample whose reviewed GX suite is the one the data stage builds from the clean
    training snapshot; the clean sample's own results, layer by layer; and an empty MLflow store to copy
    (creating its tables takes seconds, copying them none)."""
    import mlflow

    root = tmp_path_factory.mktemp("faults")
    params = demo_params(root, sample=SAMPLE, max_iter=MAX_ITER, latency_rounds=LATENCY_ROUNDS)
    clean = write_clean(params, root / "clean")
    results = run_stages(clean, root / "clean" / "out", CHECKED[-1], stop_on_fail=False)
    shutil.copytree(root / "clean" / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    empty_store = root / "empty-mlflow.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{empty_store}").search_experiments()
    return params, results, empty_store


@pytest.fixture(scope="session")
def last_good(project) -> Callable[[str], frozenset[tuple[str, str, str]]]:
    """The clean sample's findings through a layer: what the last good run knew. The layers after CHECKED run
    once, on first need, continuing the clean run (only a warned fault in them is judged by what is new)."""
    params, results, _ = project
    clean, out = params.parent / "clean" / "params.yaml", params.parent / "clean" / "out"
    done = dict(results)

    def get(layer: str) -> frozenset[tuple[str, str, str]]:
        todo = STAGES[STAGES.index(list(done)[-1]) + 1 : STAGES.index(layer) + 1]
        if todo:
            p, run = load_params(clean), PipelineRun.load(out)
            for name in todo:
                done[name] = execute_stage(name, p, out, run)
        upto = STAGES[: STAGES.index(layer) + 1]
        return findings({name: r for name, r in done.items() if name in upto})

    return get


@pytest.fixture(scope="session")
def larger_projects(tmp_path_factory) -> Callable[[float], Path]:
    """Projects on larger samples, built on first use; each one's reviewed suite written from its clean snapshot."""
    made: dict[float, Path] = {}

    def get(sample: float) -> Path:
        if sample not in made:
            root = tmp_path_factory.mktemp(f"faults-{sample}")
            params = demo_params(root, sample=sample, max_iter=MAX_ITER)
            write_clean(params, root / "clean")  # no suite in the project: written from the clean snapshot
            shutil.copytree(root / "clean" / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
            made[sample] = params
        return made[sample]

    return get


PAGE_FAULT = "missing_spike"  # its run's report page is opened in a browser (test_faults.py)


@pytest.fixture(scope="session")
def planted_runs() -> dict[str, Path]:
    """Fault -> the project folder its parametrized test left, so later tests read its results, not rerun them."""
    return {}


def check_fault(project, larger_projects, last_good, planted_runs, fault_id: str, tmp_path: Path) -> None:
    """The planted fault fails its own layer first, with the contract's check at the contract's severity; the
    diagnosis of the run names that layer and check as the root cause, whatever later checks of the layer also
    fire. A failing fault is diagnosed as in a fresh project (nothing known); a warned one, by what is new since
    the clean sample's run (the last good run), as the report does."""
    params, _, empty_store = project
    if fault_id in LARGER:
        params = larger_projects(LARGER[fault_id])
    fault = FAULTS[fault_id]
    faulty = inject(fault_id, params, tmp_path / "project")
    if not fault.champion and fault.registry is None:  # else the store holds what inject registered: keep it
        shutil.copy(empty_store, tmp_path / "project" / "mlflow.db")
    results = run_stages(faulty, tmp_path / "project" / "out", fault.layer)
    planted_runs[fault_id] = tmp_path / "project"
    earlier = {name: problems(r) for name, r in results.items() if name != fault.layer and r.failed}
    assert not earlier, f"{fault_id}: an earlier layer failed first: {earlier}"
    stage = results[fault.layer]
    hits = [f for f in stage.findings if f.check == fault.check]
    assert any(f.severity is fault.severity for f in hits), (
        f"{fault_id}: no {fault.severity.value} {fault.check!r} in {fault.layer}; found {problems(stage)}"
    )
    assert all(f.message for f in hits)
    known = last_good(fault.layer) if fault.severity is Severity.warn else frozenset()
    d = diagnose(report_of(results), known)
    new = [(n, *p[:2]) for n, r in results.items() for p in problems(r) if (n, *p[:2]) not in known]
    assert d is not None and (d["root"]["layer"], d["root"]["check"]) == (fault.layer, fault.check), (
        f"{fault_id}: diagnosed {d and d['sentence']!r}; new since the last good run: {new}"
    )
