"""Test set changed: the trusted test set must be the one pinned on day one. Every comparison over time (this
candidate against the champion, this run against the last) assumes the same rows; a test set edited,
regenerated or swapped makes those scores incomparable, however good they look."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.pins import Pin, pin_finding, pin_of
from tasks.result import Finding

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    pin: Pin  # the file's md5 against its pin (params inputs.pins.test, else its .dvc file)

    def metrics(self) -> dict[str, float]:
        return {"matches": float(self.pin.matches)} if self.pin.expected_md5 else {}


def measure(x: EvaluationInputs, p: checks.NoParams) -> Measurement:
    return Measurement(pin_of("test", x.test_file, x.test_pin))


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """Fail when the file differs from its pin; info when it matches, or is unpinned (and how to pin it)."""
    return [pin_finding(m.pin)]
