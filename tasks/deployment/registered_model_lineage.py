"""Registered model lineage: the registry must record the candidate's logged model (and its training run) as
the version just registered, or `models:/name/version` names some other model than the one every earlier
gate judged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks import checks
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    version: str
    registered_model_id: str | None
    registered_run_id: str | None
    source: str | None
    candidate_model_id: str
    candidate_run_id: str

    @property
    def same(self) -> bool:
        """The same logged model; a registry that records no run id is not held against it."""
        return self.registered_model_id == self.candidate_model_id and (
            not self.registered_run_id or self.registered_run_id == self.candidate_run_id
        )

    def metrics(self) -> dict[str, float]:
        return {"mismatch": float(not self.same)}


def measure(x: DeploymentInputs, p: checks.NoParams) -> Measurement:
    r, c = x.registered, x.candidate
    return Measurement(r.version, r.model_id, r.run_id, r.source, c.model_id, c.run_id)


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    evidence = {
        "version": m.version,
        "registered_model_id": m.registered_model_id,
        "candidate_model_id": m.candidate_model_id,
        "registered_run_id": m.registered_run_id,
        "candidate_run_id": m.candidate_run_id,
        "source": m.source,
    }
    if not m.same:
        return [
            Finding(
                severity=Severity.fail,
                evidence=evidence,
                message=f"registered version {m.version} points at model {m.registered_model_id} of run "
                f"{m.registered_run_id}, not the candidate {m.candidate_model_id} of run {m.candidate_run_id}",
            )
        ]
    return [
        Finding(
            severity=Severity.info,
            evidence=evidence,
            message=f"registered version {m.version} is the candidate's logged model {m.candidate_model_id}",
        )
    ]
