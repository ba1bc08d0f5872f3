"""Drift of the model's inputs: each drifted feature is named (a warning); the share of drifted features
carries the gate, so one seasonal column among many does not stop a run but a broad shift does."""

from __future__ import annotations

from tasks.drift import ColumnDrift
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge


def column_findings(drifts: list[ColumnDrift]) -> list[Finding]:
    """One warning per drifted feature, naming the column, the method and the score."""
    return [
        Finding(
            check="feature_drift",
            severity=Severity.warn,
            message=f"{d.column} drifted: {d.method} {d.score:.3f} >= {d.threshold}",
            columns=[d.column],
            evidence={"method": d.method, "score": d.score, "threshold": d.threshold},
        )
        for d in sorted(drifts, key=lambda d: -d.score)
        if d.drifted
    ]


def unmeasured_findings(unmeasured: dict[str, str]) -> list[Finding]:
    """A feature whose drift could not be measured is reported, never counted as stable."""
    return [
        Finding(
            check="feature_drift",
            severity=Severity.warn,
            message=f"{column}: drift not measured ({why})",
            columns=[column],
            evidence={"reason": why},
        )
        for column, why in unmeasured.items()
    ]


def check_drifted_share(drifts: list[ColumnDrift], limit: Limit) -> Finding:
    """The share of measured features that drifted, judged by its warn/fail pair."""
    if not drifts:
        return Finding(
            check="drifted_share",
            severity=Severity.warn,
            message="no feature's drift could be measured: input drift not judged",
        )
    drifted = [d.column for d in sorted(drifts, key=lambda d: -d.score) if d.drifted]
    share = len(drifted) / len(drifts)
    return judge(
        "drifted_share",
        share,
        limit.warn,
        limit.fail,
        f"{len(drifted)} of {len(drifts)} features drifted "
        f"(share {share:.2f}; warn {limit.warn}, fail {limit.fail})" + (f": {', '.join(drifted)}" if drifted else ""),
        columns=drifted,
        evidence={
            "n_drifted": len(drifted),
            "n_measured": len(drifts),
            "scores": {d.column: {"method": d.method, "score": d.score} for d in drifts},
        },
    )
