"""The kit of the fault tests, in three modules so xdist runs them on both workers (test_faults.py: the data,
feature and training faults; test_faults_late.py: evaluation and serving; test_faults_ops.py: deployment and
monitoring): a demo project on a 5% sample, the clean sample's own results, and the
one check every planted fault passes. tests/flow/conftest.py makes the fixtures visible; they are built once per
test process, whichever fault modules it runs."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.demo.catalog import FAULTS
from tasks.demo.inject import inject, write_clean
from tasks.diagnosis import diagnose
from tasks.gates import RESULT_FILE
from tasks.params import STAGES, load_params
from tasks.provenance import file_md5
from tasks.result import Severity, StageResult
from tasks.runner import PipelineRun, begin_run, execute_stage
from tests.conftest import REPO
from tests.flow.demo_project import demo_params

SAMPLE = 0.05
CHECKED = ("data", "features", "training")  # the layers the planted faults live in, in flow order
MAX_ITER = 20  # boosting rounds: the split checks run before fitting, the model's quality is not under test
# Paired latency rounds per deployment (300 by default): the planted slow model is ~3.5x the champion (bounds
# 3.2-3.8 in 80 rounds, against the fail line 2.0), told apart in far fewer rounds.
LATENCY_ROUNDS = 80
# A fault judged by comparing two models on the trusted test set needs more test rows than the sample's ~700 (~90
# of them late): there the paired interval of a ROC AUC difference spans +-0.06, and no realistic regression is
# told from noise. Such a fault gets its own project on a larger sample (~4,900 test rows; at 15-25% the clean
# test set's label rate reads Cohen's h 0.40-0.42 against training, over label_shift's fail line, at 35% 0.38).
LARGER = {"challenger_worse": 0.35}
EARLY = [f for f, fault in FAULTS.items() if fault.layer in CHECKED]
LATE = [f for f, fault in FAULTS.items() if fault.layer in ("evaluation", "serving")]
OPS = [f for f in FAULTS if f not in EARLY and f not in LATE]  # deployment and monitoring


def run_stages(
    params_path: Path, out: Path, upto: str, *, stop_on_fail: bool = True, reused: Mapping[str, Path] | None = None
) -> dict[str, StageResult]:
    """The stages after the snapshot, in order, up to `upto`; a failing gate stops the later ones, as in the flow.
    A stage in `reused` is not run: its folder is copied from the one given (as `dvc repro` keeps the output of a
    stage whose declared inputs did not change; the report takes a result of an earlier run before this run's)."""
    params = load_params(params_path)
    run = begin_run(params, out)
    results: dict[str, StageResult] = {}
    for name in STAGES[STAGES.index("data") : STAGES.index(upto) + 1]:
        if reused and name in reused:
            shutil.copytree(reused[name], out / name)
            results[name] = StageResult.read(out / name / RESULT_FILE)
        else:
            results[name] = execute_stage(name, params, out, run)
        if stop_on_fail and results[name].failed:
            break
    return results


DVC_STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
INPUT_FILE = re.compile(r"\$\{inputs\.(\w+)\}")


def declared_inputs(params_path: Path, stage: str) -> dict[str, Any] | None:
    """What dvc.yaml declares `stage` reads, by content: each data file's md5, the reviewed suite's files, the
    params sections as the project's params.yaml writes them (its own folder's name set aside), and the user's
    checks of its layer (params `checks`, which dvc.yaml cannot name: the shipped params.yaml has none). glassbox's
    code is this process's, the same for every project. None when it reads an earlier stage's folder or anything
    else."""
    p = load_params(params_path)
    raw = yaml.safe_load(params_path.read_text())
    found: dict[str, Any] = {"checks": (raw.get("checks") or {}).get(stage)}
    for dep in DVC_STAGES[stage]["deps"]:
        if dep.startswith("tasks/"):
            continue
        if m := INPUT_FILE.fullmatch(dep):
            found[dep] = file_md5(p.inputs.files()[m.group(1)])
        elif dep == "gx/expectations":  # the suite folder, wherever data.suite_dir puts it
            folder = p.data.suite_dir / "expectations"
            found[dep] = {str(f.relative_to(folder)): file_md5(f) for f in sorted(folder.rglob("*")) if f.is_file()}
        else:
            return None
    for section in DVC_STAGES[stage]["params"]:
        value = raw
        for key in section.split("."):
            value = (value or {}).get(key)
        found[f"params {section}"] = in_project(value, str(params_path.parent.resolve()))
    return found


def in_project(value: Any, root: str) -> Any:
    """`value` with the project's folder `root` written as <project> (inject writes absolute paths)."""
    if isinstance(value, str):
        return value.replace(root, "<project>")
    if isinstance(value, list):
        return [in_project(v, root) for v in value]
    if isinstance(value, dict):
        return {k: in_project(v, root) for k, v in value.items()}
    return value


def same_inputs(clean: Path, faulty: Path) -> list[str]:
    """The leading stages whose declared inputs in the faulty project are the clean sample's own."""
    same: list[str] = []
    for stage in STAGES[STAGES.index("data") :]:
        mine = declared_inputs(faulty, stage)
        if mine is None or mine != declared_inputs(clean, stage):
            break
        same.append(stage)
    return same


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
    # Stages whose declared inputs the plant left alone are the clean sample's (tested in test_faults.py)
    clean = params.parent / "clean"
    reused = {} if fault_id in LARGER else {s: clean / "out" / s for s in same_inputs(clean / "params.yaml", faulty)}
    results = run_stages(faulty, tmp_path / "project" / "out", fault.layer, reused=reused)
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
