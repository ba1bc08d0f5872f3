"""The README's worked example of a user's own check is real: it loads from params and runs in its layer."""

from __future__ import annotations

import re
import sys

import pandas as pd
import pytest

from tasks.checks import UserCheck, load_user_check, run_checks
from tasks.result import Severity
from tests.checking import feature_inputs
from tests.conftest import REPO


@pytest.fixture
def mychecks(tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- user-check-example -->\n```python\n(.*?)```", readme, re.S)
    assert block, "the README has no user-check example"
    (tmp_path / "mychecks.py").write_text(block.group(1))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mychecks", None)


def test_the_readme_user_check_runs_as_documented(mychecks, tmp_path):
    """Loaded by `module:attribute` with the params shown, it fires on a night-heavy batch, is quiet on a
    day-time one, and its findings and metrics carry its name."""
    spec = UserCheck(check="mychecks:late_night_share", params={"share": {"warn": 0.05, "fail": 0.2}})
    configured = load_user_check(spec, "params.yaml: checks.features[0]")
    train = pd.DataFrame({"sched_hour": [8, 12, 17, 20] * 25})
    night = pd.DataFrame({"sched_hour": [1, 2, 3] * 10 + [9] * 70})
    day = pd.DataFrame({"sched_hour": [9, 10] * 50})
    run = run_checks([configured], feature_inputs(train, night), tmp_path)
    [f] = run.findings
    assert f.check == "late_night_share" and f.severity is Severity.fail and "30.0%" in f.message
    assert run.metrics["late_night_share.current"] == pytest.approx(0.3)
    [quiet] = run_checks([configured], feature_inputs(train, day), tmp_path).findings
    assert quiet.severity is Severity.info
