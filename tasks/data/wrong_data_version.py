"""Wrong data version: a run that picked up another snapshot than the one pinned (a retrain on last month's
file). Each input file's md5 against its pin: `inputs.pins` in params first, else the file's `.dvc` sidecar. A
mismatch fails; an unpinned file is info saying how to pin it. The trusted test set is the evaluation layer's
(`test_set_changed`, where its rows are compared with the pinned ones): its mismatch is noted here as info and
fails the run there, before anything is scored on it or promoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.pins import Pin, pin_finding, pin_of
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    pins: tuple[Pin, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{p.name}.matches": float(p.matches) for p in self.pins if p.expected_md5 is not None}


def measure(x: DataInputs, p: checks.NoParams) -> Measurement:
    return Measurement(tuple(pin_of(name, path, x.pinned.get(name)) for name, path in x.files.items()))


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """One finding per file: fail when it differs from its pin (the test set: info, judged in evaluation), info
    when it matches or is unpinned."""
    return [_left_to_evaluation(pin_finding(pin)) if pin.name == EVALUATED else pin_finding(pin) for pin in m.pins]


EVALUATED = "test"  # the trusted test set: evaluation's test_set_changed judges its pin


def _left_to_evaluation(found: Finding) -> Finding:
    if found.severity is not Severity.fail:
        return found
    return found.model_copy(
        update={
            "severity": Severity.info,
            "message": f"{found.message}; the trusted test set is judged by the evaluation layer (test_set_changed)",
        }
    )
