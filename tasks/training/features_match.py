"""Features match: the model is fitted on exactly the features the features layer validated. The shipped
preprocessing's output on the training rows, the matrix the model is fitted on, is fingerprinted on the rows the
features layer fingerprinted (its seeded sample on a large table, every row on a small one); another fingerprint
means the features layer's verdicts (parity, scaling, vocabulary, ranges) are about a matrix this model never
saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.features.parity import as_matrix, matrix_sha256
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    expected_sha256: str | None  # what the features layer recorded (None: it recorded none)
    found_sha256: str | None  # the matrix training fits on (None: no preprocessing step, raw columns)
    shape: tuple[int, ...] | None = None
    of_rows: int = 0  # training rows, when `shape` is of a seeded sample of them

    @property
    def matches(self) -> bool:
        return self.expected_sha256 is not None and self.expected_sha256 == self.found_sha256

    def metrics(self) -> dict[str, float]:
        return {"matches": float(self.matches)} if self.found_sha256 and self.expected_sha256 else {}


def measure(x: TrainingInputs, p: checks.NoParams) -> Measurement:
    if x.model_features is None:
        return Measurement(x.validated_sha256, None)
    matrix = as_matrix(x.model_features)
    return Measurement(x.validated_sha256, matrix_sha256(matrix), tuple(matrix.shape), x.fingerprint_of)


def _dims(m: Measurement) -> str:
    dims = " x ".join(f"{d:,}" for d in m.shape or ())
    if m.shape and m.of_rows > m.shape[0]:
        return f"{dims} (a seeded sample of the {m.of_rows:,} training rows, the features layer's)"
    return dims


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """Fail on another fingerprint; info when they match or when there is no preprocessing to compare."""
    evidence = {"expected_sha256": m.expected_sha256, "found_sha256": m.found_sha256, "shape": m.shape}
    if m.found_sha256 is None:
        return [
            Finding(
                severity=Severity.info,
                message="not measured: the model has no preprocessing step, it is fitted on the raw columns",
            )
        ]
    if m.expected_sha256 is None:
        return [
            Finding(
                severity=Severity.warn,
                message="not measured: the features layer recorded no fingerprint of the features it validated "
                "(features.json has no sha256); run the features stage again",
                evidence=evidence,
            )
        ]
    if not m.matches:
        return [
            Finding(
                severity=Severity.fail,
                message="the preprocessing does not reproduce the features the feature stage validated: "
                f"expected sha256 {m.expected_sha256[:12]}..., found {m.found_sha256[:12]}... "
                f"(a {_dims(m)} matrix)",
                evidence=evidence,
            )
        ]
    return [
        Finding(
            severity=Severity.info,
            message=f"training fits on the features the feature stage validated: a {_dims(m)} matrix, "
            f"sha256 {m.found_sha256[:12]}...",
            evidence=evidence,
        )
    ]
