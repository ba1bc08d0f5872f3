"""Every fault of the contract, planted into a small sample of the demo, is caught in its own layer by its own
check with its severity, no earlier layer fails first, and the diagnosis names that layer and check as the root
cause. The stages run directly, in order (no Prefect flow per fault); each fault gets its own folder and MLflow
store. The clean sample stays quiet. This module: the data, feature and training faults, and the report page of
one of them; test_faults_late.py and test_faults_ops.py: the later layers' (xdist spreads the modules)."""

from __future__ import annotations

import json
import shutil

import pytest

from tasks.demo.catalog import FAULTS
from tasks.demo.inject import inject
from tasks.errors import ConfigError
from tasks.params import load_params
from tasks.provenance import file_md5
from tasks.result import Severity
from tasks.runner import PipelineRun
from tests.flow.faults_kit import EARLY, PAGE_FAULT, check_fault, in_project, problems, run_stages, same_inputs

pytestmark = pytest.mark.slow


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


def test_a_reused_layer_is_what_the_faulty_project_computes(project, tmp_path):
    """The fault runs take the data and features layers from the clean sample where the inputs dvc.yaml declares
    for them are the clean sample's (faults_kit.same_inputs). A fault planted in params no such layer declares
    (bad_threshold: evaluation's) keeps both; one planted in the model keeps only the data layer (the features
    layer builds the model's preprocessing); one planted in the data keeps neither. Run for real on the
    bad_threshold project, both layers report what the clean sample reported, check by check."""
    params, results, empty_store = project
    clean = params.parent / "clean" / "params.yaml"
    assert same_inputs(clean, inject("latency_regression", params, tmp_path / "model")) == ["data"]
    assert same_inputs(clean, inject("missing_spike", params, tmp_path / "data")) == []
    faulty = inject("bad_threshold", params, tmp_path / "project")
    assert same_inputs(clean, faulty) == ["data", "features"]
    shutil.copy(empty_store, tmp_path / "project" / "mlflow.db")
    ran = run_stages(faulty, tmp_path / "project" / "out", "features")

    def said(result) -> list[tuple]:  # a file is named in its own project (the suite: in the clean one, copied)
        roots = (str(faulty.parent.resolve()), str(clean.parent.resolve()))
        return [(f.check, f.severity, in_project(in_project(f.message, roots[0]), roots[1])) for f in result.findings]

    for layer in ("data", "features"):
        assert said(ran[layer]) == said(results[layer]), layer


@pytest.mark.parametrize("fault_id", EARLY)
def test_fault_is_caught_in_its_layer(project, larger_projects, last_good, planted_runs, fault_id, tmp_path):
    check_fault(project, larger_projects, last_good, planted_runs, fault_id, tmp_path)


def test_report_page_and_diff_of_a_planted_fault(project, planted_runs, tmp_path):
    """The report a person opens for a planted fault, next to the clean sample's: in headless Chromium both pages
    render every picture inline (nothing fetched, no console error); the fault's page opens on the diagnosis naming
    the planted layer and check, with the picture of the column it names. `glassbox diff` from the clean run to
    the faulty one names the changed data hash and the failing check."""
    from tasks.diff import diff, to_text
    from tasks.runner import report_run
    from tests.browser import artifact, render, require_chromium

    require_chromium()
    params, _, empty_store = project
    clean_params = params.parent / "clean" / "params.yaml"
    clean_out = params.parent / "clean" / "out"
    clean = report_run(load_params(clean_params), clean_out, PipelineRun.load(clean_out))
    folder = planted_runs.get(PAGE_FAULT)
    if folder is None:  # this test run on its own
        folder = tmp_path / "project"
        inject(PAGE_FAULT, params, folder)
        shutil.copy(empty_store, folder / "mlflow.db")
        run_stages(folder / "params.yaml", folder / "out", FAULTS[PAGE_FAULT].layer)
    out = folder / "out"
    planted = report_run(load_params(folder / "params.yaml"), out, PipelineRun.load(out))

    assert planted["status"] == "failed" and planted["diagnosis"]["root"]["check"] == "missing_spike"
    [column] = next(f for f in planted["stages"][1]["findings"] if f["check"] == "missing_spike")["columns"]
    assert any(column in f for f in planted["column_figures"]["data"]["missing_spike"])
    for name, where, report in (("clean", clean_out, clean), (PAGE_FAULT, out, planted)):
        shown = render(where / "report.html", artifact(f"report/{name}.png"))
        assert shown.console_errors == () and shown.broken_images == () and shown.requests == (), name
        assert report["status"].upper() in shown.text
    assert planted["diagnosis"]["sentence"] in shown.text
    assert "Root cause in the data layer: missing_spike" in shown.text
    assert shown.text.index("Diagnosis") < shown.text.index("Warnings and failures") < shown.text.index("Provenance")

    d = diff(clean, planted, params.parent)
    text = to_text(d)
    before, after = clean["provenance"]["data_hashes"]["current"], planted["provenance"]["data_hashes"]["current"]
    assert before != after and f"data current: md5 {before[:12]} -> {after[:12]}" in text
    assert "check data/missing_spike: info -> fail" in text and "status" in " ".join(d["worse"])
