"""The check contract: every check measures, then judges, apart; one runner runs them all.

A check is a module (or, for a user's own check, a `Check` object) that holds:

- `Params`: a pydantic model of its knobs (limits and settings), each field with a description;
- `measure(inputs, params) -> Measurement`: the numbers, a small frozen record whose `metrics()` are logged;
- `judge(measurement, params) -> list[Finding]`: verdicts from the numbers and the limits, nothing else;
- optionally, the measurement's `evidence(out_dir) -> list[str]`: the pictures and tables a person needs to see
  what was measured (a curve, a matrix; see tasks/evidence.py), written into the stage's folder.

Each layer declares its checks, in diagnostic order, as `CHECKS` in `tasks/<layer>/checks.py`; the layer's
params section gets one sub-section per check that has params (`data.duplicate_rows.row_share`). The check's
name is its module's name, the `check` of its findings and, where a planted fault exists, the fault's id.
`run_checks` gives each check its own error boundary: a check that raises becomes a `check_error` fail
finding with its traceback as an artifact, and the other checks still run.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tasks.errors import ConfigError
from tasks.result import Finding, Severity

ERROR_CHECK = "check_error"
ERRORS_DIR = "check_errors"
FIGURE_SUFFIXES = (".png", ".svg")

In = TypeVar("In")
M = TypeVar("M", bound="Measurement")
P = TypeVar("P", bound="CheckParams")


@dataclass(frozen=True)
class Measurement:
    """What a check measured. Subclasses are frozen dataclasses of plain numbers and small tables."""

    def metrics(self) -> dict[str, float]:
        """Flat numbers for MLflow and `dvc metrics diff` (the runner prefixes them with the check's name)."""
        return {}

    def evidence(self, out_dir: Path) -> list[str]:  # noqa: ARG002 (a measurement with nothing to draw)
        """Files written into `out_dir` (names relative to it) that show the measurement: they go on the stage's
        MLflow run beside its results."""
        return []


class CheckParams(BaseModel):
    """Base of every check's params: unknown keys are errors, values are frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(CheckParams):
    """For a check with nothing to set."""


@dataclass(frozen=True)
class Check(Generic[In, M, P]):
    name: str
    measure: Callable[[In, P], M]
    judge: Callable[[M, P], list[Finding]]
    params: type[P] = NoParams  # type: ignore[assignment]  # NoParams is a CheckParams
    doc: str = ""

    @classmethod
    def from_module(cls, module: ModuleType) -> Check:
        """A check module: its name is the check's name, its docstring's first line the check's summary."""
        missing = [a for a in ("measure", "judge") if not callable(getattr(module, a, None))]
        if missing:
            raise TypeError(f"check module {module.__name__} has no {' or '.join(missing)}()")
        doc = (module.__doc__ or "").strip().split("\n\n")[0]
        return cls(
            name=module.__name__.rsplit(".", 1)[-1],
            measure=module.measure,
            judge=module.judge,
            params=getattr(module, "Params", NoParams),
            doc=" ".join(doc.split()),
        )


def checks_of(*modules: ModuleType) -> tuple[Check, ...]:
    """A layer's check list from its check modules, in the order given (the diagnostic order)."""
    return tuple(Check.from_module(m) for m in modules)


def layer_params(
    name: str, checks: Sequence[Check], base: type[BaseModel], module: str | None = None
) -> type[BaseModel]:
    """The params model of a layer: its own settings (`base`) plus one section per check with params,
    named as the check, described by the check's summary (what `glassbox params --explain` prints). `module` is
    the module that binds the model under `name`: params pickle by reference to it (a Dask worker imports it)."""
    sections: dict[str, Any] = {
        c.name: (c.params, Field(default_factory=c.params, description=c.doc)) for c in checks if c.params.model_fields
    }
    return create_model(name, __base__=base, __module__=module or __name__, **sections)


@dataclass(frozen=True)
class Configured:
    """A check with the params it runs with."""

    check: Check
    params: CheckParams


def configured(checks: Iterable[Check], layer: BaseModel) -> list[Configured]:
    """Built-in checks with their section of the layer's params (the check's defaults when it has none)."""
    return [Configured(c, getattr(layer, c.name, None) or c.params()) for c in checks]


@dataclass
class CheckRun:
    """Everything the checks of one stage produced, in the order they ran."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    figures: dict[str, list[str]] = field(default_factory=dict)  # check -> its pictures, for the report page


def _stamped(name: str, findings: list[Finding]) -> list[Finding]:
    if not isinstance(findings, list) or not all(isinstance(f, Finding) for f in findings):
        raise TypeError(f"judge() must return a list of Finding, got {type(findings).__name__}")
    wrong = sorted({f.check for f in findings} - {"", name})
    if wrong:
        raise ValueError(f"findings name other checks {wrong}: a check reports under its own name only")
    return [f if f.check else f.model_copy(update={"check": name}) for f in findings]


def run_checks(checks: Iterable[Configured], inputs: Any, out_dir: Path) -> CheckRun:
    """Measure and judge each check in order. A ConfigError (the user's input) propagates; any other
    exception is that check's bug: a `check_error` fail finding, its traceback written beside the results."""
    run = CheckRun()
    for item in checks:
        check, params = item.check, item.params
        start = time.perf_counter()
        try:
            measured = check.measure(inputs, params)
            run.findings += _stamped(check.name, check.judge(measured, params))
            run.metrics.update({f"{check.name}.{k}": float(v) for k, v in measured.metrics().items()})
            drawn = measured.evidence(out_dir)
            run.artifacts += drawn
            pictures = [f for f in drawn if f.endswith(FIGURE_SUFFIXES)]
            if pictures:
                run.figures[check.name] = pictures
            run.measurements[check.name] = measured
        except ConfigError:
            raise
        except Exception as e:  # the error boundary: one broken check never loses the others' findings
            rel = f"{ERRORS_DIR}/{check.name}.txt"
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(traceback.format_exc())
            run.artifacts.append(rel)
            run.findings.append(
                Finding(
                    check=ERROR_CHECK,
                    severity=Severity.fail,
                    message=f"check {check.name!r} crashed: {type(e).__name__}: {e}"[:500]
                    + " (a crash is a bug, never a pass: see the traceback)",
                    evidence={"check": check.name, "error": type(e).__name__, "traceback": rel},
                )
            )
        run.metrics[f"{check.name}.seconds"] = round(time.perf_counter() - start, 3)
    return run


class UserCheck(BaseModel):
    """A user's check in params.yaml: `module:attribute` (a Check object) or a module path (a check module),
    with the params its own Params model validates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    params: dict[str, Any] = Field(default_factory=dict)


def load_user_check(spec: UserCheck, where: str) -> Configured:
    """Import the user's check and validate its params; any mistake is a one-line ConfigError at `where`."""
    module_name, _, attribute = spec.check.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # whatever the user's module raises on import is their input to fix
        raise ConfigError(f"{where}: cannot import {module_name!r} ({type(e).__name__}: {e})") from None
    try:
        target = getattr(module, attribute) if attribute else module
    except AttributeError:
        raise ConfigError(f"{where}: {module_name!r} has no {attribute!r}") from None
    if isinstance(target, Check):
        check = target
    elif isinstance(target, ModuleType):
        try:
            check = Check.from_module(target)
        except TypeError as e:
            raise ConfigError(f"{where}: {e}") from None
    else:
        raise ConfigError(
            f"{where}: {spec.check!r} is a {type(target).__name__}; expected a tasks.checks.Check or a module "
            "with measure() and judge()"
        )
    try:
        params = check.params.model_validate(spec.params)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{where}.params.{key}: {err['msg']}") from None
    return Configured(check, params)
