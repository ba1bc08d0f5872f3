"""One name everywhere: stages, params sections, dvc.yaml; and for checks, module = check = fault id."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tasks.checks import Check
from tasks.demo.catalog import list_faults
from tasks.params import LAYERS, STAGES, Params
from tasks.registry import stage_function
from tests.conftest import REPO


def test_dvc_yaml_runs_the_same_stages_in_the_same_order():
    """dvc.yaml is the second adapter of the same stages: same names, same order, each through `glassbox stage`."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert list(stages) == list(STAGES)
    for name, spec in stages.items():
        assert spec["cmd"] == f"glassbox stage {name}"
        assert f"tasks/{name}" in spec["deps"]
        assert name in spec["params"] or name == "snapshot" and spec["params"] == ["snapshot"]


def test_every_stage_has_one_function_and_one_params_section():
    """One name everywhere: each stage resolves to its function and has a params section of that name."""
    for name in STAGES:
        assert callable(stage_function(name))
        assert name in Params.model_fields


def all_checks() -> list[tuple[str, Check]]:
    return [(layer, c) for layer, module in LAYERS.items() for c in module.CHECKS]


def test_check_name_is_module_name_and_unique():
    """Check name = module name = the `check` of its findings: one id means one thing across the layers."""
    names = [c.name for _, c in all_checks()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    for layer, c in all_checks():
        assert c.measure.__module__ == f"tasks.{layer}.{c.name}", (layer, c.name)
        assert c.judge.__module__ == c.measure.__module__


def test_every_fault_is_caught_by_a_registered_check_of_its_layer():
    """The fault catalog names real checks: a planted fault's check exists in the layer it must fail first,
    and a check named like a fault is the one that catches it."""
    registered = {c.name: layer for layer, c in all_checks()}
    for fault in list_faults():
        assert registered.get(fault.check) == fault.layer, (fault.id, fault.check, fault.layer)
        if fault.id in registered:
            assert fault.check == fault.id, (fault.id, fault.check)


def test_every_check_says_why_and_every_knob_what_it_means():
    """A check's docstring summary describes its params section; every knob carries a description."""
    for _, c in all_checks():
        assert len(c.doc) > 40, c.name
        for key, field in c.params.model_fields.items():
            assert field.description, f"{c.name}.{key} has no description"


def test_check_modules_import_on_their_own_and_params_stay_light():
    """Each check module imports first (no import cycle through tasks.params), and loading params does not
    load the heavy libraries (the CLI validates params before a server or a model is touched)."""
    modules = sorted({c.measure.__module__ for _, c in all_checks()})
    heavy = ("great_expectations", "mlflow", "evidently", "cleanlab", "skops", "prefect")
    code = f"""
import importlib, sys
import tasks.params
print(sorted(h for h in {heavy!r} if h in sys.modules))
for m in {modules!r}:
    for name in [n for n in sys.modules if n == "tasks" or n.startswith("tasks.")]:
        del sys.modules[name]
    importlib.import_module(m)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout


def test_the_readme_names_every_check():
    """The README's table of what each layer checks lists every registered check by its name."""
    readme = (REPO / "README.md").read_text()
    missing = [c.name for _, c in all_checks() if f"`{c.name}`" not in readme]
    assert not missing, missing
