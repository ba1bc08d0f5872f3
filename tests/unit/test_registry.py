from __future__ import annotations

import yaml

from tasks.params import STAGES, Params
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
