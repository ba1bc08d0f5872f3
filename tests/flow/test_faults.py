"""Every fault of the contract, planted into a small sample of the demo, is caught in its own layer by its own
check with its severity, and no earlier layer fails first. The stages run directly, in order (no Prefect flow
per fault); each fault gets its own folder and MLflow store. The clean sample stays quiet."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tasks.demo.catalog import FAULTS
from tasks.demo.inject import inject, write_clean
from tasks.errors import ConfigError
from tasks.params import STAGES, load_params
from tasks.provenance import file_md5
from tasks.result import Severity, StageResult
from tasks.runner import begin_run, execute_stage
from tests.flow.demo_project import demo_params

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict[str, StageResult], Path]:
    """A demo project on a 5% sample whose reviewed GX suite is the one the data stage builds from the clean
    training snapshot; the clean sample's own results, layer by layer; and an empty MLflow store to copy
    (creating its tables takes seconds, copying them none)."""
    import mlflow

    root = tmp_path_factory.mktemp("faults")
    params = demo_params(root, sample=SAMPLE)
    raw = yaml.safe_load(params.read_text())
    raw["model"]["params"]["max_iter"] = MAX_ITER
    raw["deployment"]["latency_rounds"] = LATENCY_ROUNDS
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    clean = write_clean(params, root / "clean")
    results = run_stages(clean, root / "clean" / "out", CHECKED[-1], stop_on_fail=False)
    shutil.copytree(root / "clean" / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    empty_store = root / "empty-mlflow.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{empty_store}").search_experiments()
    return params, results, empty_store


@pytest.fixture(scope="module")
def larger_projects(tmp_path_factory) -> Callable[[float], Path]:
    """Projects on larger samples, built on first use; each one's reviewed suite written from its clean snapshot."""
    made: dict[float, Path] = {}

    def get(sample: float) -> Path:
        if sample not in made:
            root = tmp_path_factory.mktemp(f"faults-{sample}")
            params = demo_params(root, sample=sample)
            raw = yaml.safe_load(params.read_text())
            raw["model"]["params"]["max_iter"] = MAX_ITER
            params.write_text(yaml.safe_dump(raw, sort_keys=False))
            write_clean(params, root / "clean")  # no suite in the project: written from the clean snapshot
            shutil.copytree(root / "clean" / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
            made[sample] = params
        return made[sample]

    return get


def test_clean_sample_is_quiet(project):
    """On the clean sample the data and feature layers report no fail, and the split checks are info."""
    _, results, _ = project
    for layer in ("data", "features"):
        fails = [p for p in problems(results[layer]) if p[1] == "fail"]
        assert not fails, (layer, fails)
    splits = [f for f in results["training"].findings if f.check in ("split_overlap", "temporal_overlap")]
    assert {f.check for f in splits} == {"split_overlap", "temporal_overlap"}
    assert all(f.severity is Severity.info for f in splits), [(f.check, f.message) for f in splits]


def test_inject_writes_a_self_contained_project(project, tmp_path):
    """The faulty project has its own data, MLflow store and copy of the reviewed suite, the snapshot stage
    off, and pins on the planted files; wrong_data_version keeps the clean training pin behind another file;
    a leak that was there from day one gets a baseline written from the planted snapshot, not a copy."""
    params, _, _ = project
    out = tmp_path / "wdv"
    p = load_params(inject("wrong_data_version", params, out))
    assert not p.snapshot.demo and p.tracking.tracking_uri == f"sqlite:///{out.resolve()}/mlflow.db"
    assert p.data.suite_dir == (out / "gx").resolve() and any((out / "gx" / "expectations").glob("*.json"))
    assert p.inputs.pins["test"] == file_md5(p.inputs.test)
    clean_train = file_md5(params.parent / "clean" / "data" / "train.parquet")
    assert p.inputs.pins["train"] == clean_train != file_md5(p.inputs.train)
    leak = load_params(inject("feature_leakage", params, tmp_path / "leak"))
    assert leak.inputs.features[-1] == "arr_delay" and leak.inputs.pins["train"] == file_md5(leak.inputs.train)
    # the leak was there from day one: its reviewed contract is of the leaking snapshot
    written = json.loads((tmp_path / "leak" / "gx" / "expectations" / "inputs.json").read_text())
    assert written["meta"]["glassbox"]["train_md5"] == file_md5(leak.inputs.train)
    with pytest.raises(ConfigError, match="outside the project"):
        inject("label_noise", params, params.parent)
    with pytest.raises(ConfigError, match="unknown fault"):
        inject("no_such_fault", params, out)


def test_inject_keeps_the_pinned_test_set_and_registers_a_champion(project, tmp_path):
    """A test set regenerated behind its pin keeps the pinned version's bytes in the project's DVC cache (as
    `dvc add` left them); a fault with a champion has the clean model registered under the alias, tagged."""
    import mlflow

    params, _, _ = project
    changed = load_params(inject("test_set_changed", params, tmp_path / "tsc"))
    md5 = changed.inputs.pins["test"]
    cached = tmp_path / "tsc" / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert cached.is_file() and file_md5(cached) == md5 != file_md5(changed.inputs.test)
    worse = load_params(inject("challenger_worse", params, tmp_path / "cw"))
    assert "sched_hour" not in worse.inputs.features
    client = mlflow.MlflowClient(tracking_uri=worse.tracking.uri, registry_uri=worse.tracking.uri)
    version = client.get_model_version_by_alias(worse.tracking.registered_model, worse.deployment.alias)
    assert version.tags["glassbox_run_id"] == "inject-champion" and "git_commit" in version.tags
    assert version.tags["data.test.md5"] == file_md5(worse.inputs.test)


@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_fault_is_caught_in_its_layer(project, larger_projects, fault_id, tmp_path):
    """The planted fault fails its own layer first, with the contract's check at the contract's severity."""
    params, _, empty_store = project
    if fault_id in LARGER:
        params = larger_projects(LARGER[fault_id])
    fault = FAULTS[fault_id]
    faulty = inject(fault_id, params, tmp_path / "project")
    if not fault.champion and fault.registry is None:  # else the store holds what inject registered: keep it
        shutil.copy(empty_store, tmp_path / "project" / "mlflow.db")
    results = run_stages(faulty, tmp_path / "project" / "out", fault.layer)
    earlier = {name: problems(r) for name, r in results.items() if name != fault.layer and r.failed}
    assert not earlier, f"{fault_id}: an earlier layer failed first: {earlier}"
    stage = results[fault.layer]
    hits = [f for f in stage.findings if f.check == fault.check]
    assert any(f.severity is fault.severity for f in hits), (
        f"{fault_id}: no {fault.severity.value} {fault.check!r} in {fault.layer}; found {problems(stage)}"
    )
    assert all(f.message for f in hits)
