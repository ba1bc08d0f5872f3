"""Proof of which model is served: /version is MLflow's version, so compare answers on fixed rows instead."""

from __future__ import annotations

import hashlib

import numpy as np

from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

DIGITS = 9  # decimals hashed into the fingerprint: enough to tell two models apart, stable across platforms


def answer_hash(scores: np.ndarray) -> str:
    rounded = np.round(np.asarray(scores, dtype="float64"), DIGITS)
    return hashlib.sha256(np.nan_to_num(rounded, nan=-1.0).tobytes()).hexdigest()[:16]


def served_is_candidate(
    served: np.ndarray, candidate: np.ndarray, limit: Limit, evidence: dict, reason: str | None = None
) -> Finding:
    """Max |served - candidate offline| over the fingerprint rows; a missing answer is infinitely off."""
    diff = np.abs(np.asarray(served, dtype="float64") - np.asarray(candidate, dtype="float64"))
    diff = np.where(np.isfinite(diff), diff, np.inf)
    worst = float(diff.max()) if diff.size else float("inf")
    differ = int((diff > (limit.fail or 0.0)).sum())
    ev = {
        **evidence,
        "rows": int(diff.size),
        "rows_differ": differ,
        "max_abs_diff": worst,
        "served_hash": answer_hash(served),
        "candidate_hash": answer_hash(candidate),
        "server_reason": reason,
    }
    who = f"served {evidence.get('served_uri')} vs candidate {evidence.get('candidate_model_id')}"
    if not diff.size:
        return Finding(
            check="wrong_model_deployed",
            severity=Severity.fail,
            evidence=ev,
            message=f"no fingerprint rows to compare ({who}): cannot prove which model is served",
        )
    if not np.isfinite(worst):
        unanswered = int(np.isinf(diff).sum())
        msg = f"served model gave no answer for {unanswered} of {diff.size} fingerprint rows ({who})"
        if reason:
            msg += f": {reason[:200]}"
        return Finding(check="wrong_model_deployed", severity=Severity.fail, message=msg, evidence=ev)
    finding = judge(
        "wrong_model_deployed",
        worst,
        limit.warn,
        limit.fail,
        f"{who}: max answer difference {worst:.3g} on {diff.size} fingerprint rows",
        evidence=ev,
    )
    if finding.severity is Severity.fail:
        return finding.model_copy(
            update={"message": f"served model is not the registered candidate: {finding.message}, {differ} rows differ"}
        )
    return finding


def lineage(
    version: str,
    registered_model_id: str | None,
    registered_run_id: str | None,
    source: str | None,
    model_id: str,
    run_id: str,
) -> Finding:
    """The registry must record the candidate's logged model (and its training run) as this version's."""
    ev = {
        "version": version,
        "registered_model_id": registered_model_id,
        "candidate_model_id": model_id,
        "registered_run_id": registered_run_id,
        "candidate_run_id": run_id,
        "source": source,
    }
    if registered_model_id != model_id or (registered_run_id and registered_run_id != run_id):
        return Finding(
            check="registered_model_lineage",
            severity=Severity.fail,
            evidence=ev,
            message=f"registered version {version} points at model {registered_model_id} of run "
            f"{registered_run_id}, not the candidate {model_id} of run {run_id}",
        )
    return Finding(
        check="registered_model_lineage",
        severity=Severity.info,
        evidence=ev,
        message=f"registered version {version} is the candidate's logged model {model_id}",
    )
