"""The check contract: ordered severities, limits that know their direction, the runner's error boundary,
and users' own checks loaded from params."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from tasks import checks
from tasks.checks import ERROR_CHECK, Check, Configured, UserCheck, load_user_check, run_checks
from tasks.errors import ConfigError
from tasks.limits import Floor, Limit, judged
from tasks.result import Finding, Severity


@dataclass(frozen=True)
class Count(checks.Measurement):
    value: float

    def metrics(self) -> dict[str, float]:
        return {"value": self.value}


class CountParams(checks.CheckParams):
    limit: Limit = Field(Limit(warn=1, fail=2), description="how many is too many")


def counting(name: str, value: float) -> Check:
    return Check(
        name,
        lambda inputs, p: Count(value),
        lambda m, p: [judged(m.value, p.limit, f"{m.value} found")],
        CountParams,
    )


def crashing(inputs, p):
    raise ZeroDivisionError("planted")


def test_severity_is_ordered():
    """info < warn < fail, so the worst of several is their max."""
    assert Severity.info < Severity.warn < Severity.fail
    assert max(Severity.warn, Severity.fail, Severity.info) is Severity.fail
    assert sorted([Severity.fail, Severity.info, Severity.warn]) == [Severity.info, Severity.warn, Severity.fail]


def test_a_limit_knows_its_direction():
    """A ceiling judges values above it, a floor values below it; an unmeasured value is info."""
    ceiling, floor = Limit(warn=0.1, fail=0.2), Floor(warn=0.6, fail=0.5)
    assert [ceiling.severity(v) for v in (0.05, 0.15, 0.25)] == [Severity.info, Severity.warn, Severity.fail]
    assert [floor.severity(v) for v in (0.7, 0.55, 0.4)] == [Severity.info, Severity.warn, Severity.fail]
    assert ceiling.severity(float("nan")) is Severity.info and floor.severity(None) is Severity.info


def test_a_limit_in_the_wrong_order_is_rejected():
    """warn beyond fail would never warn: rejected in the direction of the limit."""
    with pytest.raises(ValidationError, match="must not exceed"):
        Limit(warn=0.5, fail=0.1)
    with pytest.raises(ValidationError, match="must not be below"):
        Floor(warn=0.4, fail=0.5)


def test_the_runner_stamps_names_times_and_prefixes_metrics(tmp_path):
    """Findings carry the check's name, metrics its prefix, and every check its own time."""
    run = run_checks([Configured(counting("many", 3), CountParams())], None, tmp_path)
    [f] = run.findings
    assert f.check == "many" and f.severity is Severity.fail and f.evidence["value"] == 3
    assert run.metrics["many.value"] == 3 and "many.seconds" in run.metrics
    assert run.measurements["many"] == Count(3)


def test_a_crashing_check_is_a_fail_and_the_others_still_run(tmp_path):
    """One check raising becomes a check_error fail with its traceback; the checks after it still report."""
    broken = Check("broken", crashing, lambda m, p: [])
    run = run_checks(
        [Configured(broken, checks.NoParams()), Configured(counting("after", 0), CountParams())], None, tmp_path
    )
    error, after = run.findings
    assert error.check == ERROR_CHECK and error.severity is Severity.fail and "ZeroDivisionError" in error.message
    assert "planted" in (tmp_path / error.evidence["traceback"]).read_text()
    assert after.check == "after" and after.severity is Severity.info
    assert run.artifacts == [error.evidence["traceback"]]


def test_a_finding_under_another_checks_name_is_a_bug(tmp_path):
    """A check reports under its own name only: a finding naming another check becomes a check_error."""
    liar = Check("liar", lambda i, p: Count(0), lambda m, p: [Finding(check="other", severity="info", message="x")])
    [f] = run_checks([Configured(liar, checks.NoParams())], None, tmp_path).findings
    assert f.check == ERROR_CHECK and "other" in f.message


def test_a_config_error_is_the_users_and_propagates(tmp_path):
    """A user mistake found by a check is not swallowed as a crash: it stops with its one-line message."""

    def bad_input(inputs, p):
        raise ConfigError("train.csv: column 'x' missing")

    with pytest.raises(ConfigError, match="column 'x'"):
        run_checks([Configured(Check("c", bad_input, lambda m, p: []), checks.NoParams())], None, tmp_path)


def test_layer_params_get_one_section_per_check_with_its_summary():
    """A layer's params model has the check's section, described by the check's docstring summary."""
    from tasks.features import out_of_range
    from tasks.params import FeaturesParams

    field = FeaturesParams.model_fields["out_of_range"]
    assert field.annotation is out_of_range.Params and field.description.startswith("Out-of-range inputs")
    assert FeaturesParams().out_of_range.range_margin == 0.5


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    (tmp_path / "mychecks.py").write_text(
        "from tasks import checks\n"
        "from tests.unit.test_checks import CountParams, counting\n"
        "too_many = counting('too_many', 5)\n"
        "not_a_check = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("mychecks", None)


def test_a_users_check_loads_with_its_params(user_package):
    """`module:attribute` names a Check; its params are validated by its own model."""
    loaded = load_user_check(UserCheck(check="mychecks:too_many", params={"limit": {"warn": 10}}), "checks.data[0]")
    assert loaded.check.name == "too_many" and loaded.params.limit == Limit(warn=10)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (UserCheck(check="nowhere:x"), "cannot import 'nowhere'"),
        (UserCheck(check="mychecks:missing"), "has no 'missing'"),
        (UserCheck(check="mychecks:not_a_check"), "is a int; expected"),
        (UserCheck(check="mychecks:too_many", params={"limt": 1}), r"params\.limt: Extra inputs"),
    ],
)
def test_a_users_mistake_is_one_line_naming_the_entry(user_package, spec, message):
    """Every mistake in a user's check entry is a ConfigError naming where it is and what is wrong."""
    with pytest.raises(ConfigError, match=message) as e:
        load_user_check(spec, "params.yaml: checks.data[0]")
    assert str(e.value).startswith("params.yaml: checks.data[0]") and "\n" not in str(e.value)


def test_params_reject_a_user_check_that_does_not_import(tmp_path):
    """The user's checks are imported when params load: a bad entry fails before anything runs."""
    import yaml

    from tasks.params import load_params
    from tests.conftest import REPO

    data = yaml.safe_load((REPO / "params.yaml").read_text())
    data["checks"] = {"features": ["no_such_module_here:check"]}
    path = Path(tmp_path / "params.yaml")
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"checks\.features\[0\]: cannot import"):
        load_params(path)
