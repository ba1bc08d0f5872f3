"""Wrong model deployed: the server must be serving the registered candidate, and production's alias must hold
the version glassbox last promoted. The server's /version is MLflow's version, not the model's, so the proof
is in the answers: the served registered version and the candidate in-process must give the same scores on
fixed rows (a fingerprint). An alias found on another version than the last promotion recorded was moved
outside the gate (by hand, by a script): production serves a model no run validated."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.deployment.inputs import DeploymentInputs, Production

DIGITS = 9  # decimals hashed into the fingerprint: enough to tell two models apart, stable across platforms
REASON_IN_MESSAGE = 200


class Params(checks.CheckParams):
    max_abs_diff: Limit = Field(
        Limit(warn=None, fail=1e-9),
        description="largest |served - candidate offline| score difference on the fingerprint rows",
    )


def answer_hash(scores: np.ndarray) -> str:
    rounded = np.round(np.asarray(scores, dtype="float64"), DIGITS)
    return hashlib.sha256(np.nan_to_num(rounded, nan=-1.0).tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    served_uri: str
    version: str
    candidate_model_id: str
    registered_model_id: str | None
    rows: int
    unanswered: int  # rows without a finite served (or offline) score
    rows_differ: int  # rows off by more than the fail limit (missing answers included)
    max_abs_diff: float  # inf when a row got no answer
    served_hash: str
    candidate_hash: str
    server_reason: str | None
    production: Production | None = None

    @property
    def alias_moved(self) -> bool:
        """The alias holds another version than glassbox's last promotion (never promoted by glassbox: no)."""
        prod = self.production
        return prod is not None and prod.recorded_version is not None and prod.version != prod.recorded_version

    def metrics(self) -> dict[str, float]:
        return {
            "max_abs_diff": self.max_abs_diff,
            "rows_differ": float(self.rows_differ),
            "alias_moved": float(self.alias_moved),
        }


def measure(x: DeploymentInputs, p: Params) -> Measurement:
    """Max |served - candidate offline| over the fingerprint rows; a missing answer is infinitely off."""
    a = x.answers
    served, offline = np.asarray(a.served, dtype="float64"), np.asarray(a.offline, dtype="float64")
    diff = np.abs(served - offline)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    return Measurement(
        served_uri=a.served_uri,
        version=x.registered.version,
        candidate_model_id=x.candidate.model_id,
        registered_model_id=x.registered.model_id,
        rows=int(diff.size),
        unanswered=int(np.isinf(diff).sum()),
        rows_differ=int((diff > (p.max_abs_diff.fail or 0.0)).sum()),
        max_abs_diff=float(diff.max()) if diff.size else float("inf"),
        served_hash=answer_hash(served),
        candidate_hash=answer_hash(offline),
        server_reason=a.reason,
        production=x.production,
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    return [*_alias(m), *_served(m, p)]


def _alias(m: Measurement) -> list[Finding]:
    """A fail when the alias holds another version than glassbox's last promotion; quiet otherwise."""
    prod = m.production
    if prod is None or not m.alias_moved:
        return []
    held = f"version {prod.version} ({prod.model_id})" if prod.version else "no version"
    return [
        Finding(
            severity=Severity.fail,
            evidence={
                "alias": prod.alias,
                "served_version": prod.version,
                "served_model_id": prod.model_id,
                "served_hash": prod.served_hash,
                "registered_champion_version": prod.recorded_version,
                "registered_champion_model_id": prod.recorded_model_id,
            },
            message=f"@{prod.alias} serves {held}, but the champion glassbox last promoted is version "
            f"{prod.recorded_version} ({prod.recorded_model_id}): the alias was moved outside the gate, and "
            "production answers with a model no run validated"
            + (f" (its answers hash {prod.served_hash})" if prod.served_hash else "")
            + f"; a deliberate rollback is recorded with `glassbox rollback --to {prod.version}`",
        )
    ]


def _served(m: Measurement, p: Params) -> list[Finding]:
    evidence = {
        "served_uri": m.served_uri,
        "registered_version": m.version,
        "candidate_model_id": m.candidate_model_id,
        "registered_model_id": m.registered_model_id,
        "rows": m.rows,
        "rows_differ": m.rows_differ,
        "max_abs_diff": m.max_abs_diff,
        "served_hash": m.served_hash,
        "candidate_hash": m.candidate_hash,
        "server_reason": m.server_reason,
    }
    who = f"served {m.served_uri} vs candidate {m.candidate_model_id}"
    if not m.rows:
        return [
            Finding(
                severity=Severity.fail,
                evidence=evidence,
                message=f"no fingerprint rows to compare ({who}): cannot prove which model is served",
            )
        ]
    if m.unanswered:
        message = f"served model gave no answer for {m.unanswered} of {m.rows} fingerprint rows ({who})"
        if m.server_reason:
            message += f": {m.server_reason[:REASON_IN_MESSAGE]}"
        return [Finding(severity=Severity.fail, message=message, evidence=evidence)]
    found = judged(
        m.max_abs_diff,
        p.max_abs_diff,
        f"{who}: max answer difference {m.max_abs_diff:.3g} on {m.rows} fingerprint rows",
        evidence=evidence,
    )
    if found.severity is Severity.fail:
        found = found.model_copy(
            update={
                "message": f"served model is not the registered candidate: {found.message}, {m.rows_differ} rows differ"
            }
        )
    return [found]
