"""Rollback must be possible: the version the alias points at now has to load and answer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tasks.result import Finding, Severity


def rollback_target(
    name: str,
    version: str | None,
    load: Callable[[str], object],
    score: Callable[[object, pd.DataFrame], np.ndarray],
    X: pd.DataFrame,
    severity: str,
) -> Finding:
    """Load `models:/name/version` and score X; an error or a non-finite answer means no way back."""
    if version is None:
        return Finding(
            check="broken_rollback",
            severity=Severity.info,
            message=f"no version of {name!r} holds the alias yet: first promotion, nothing to roll back to",
        )
    uri = f"models:/{name}/{version}"
    try:
        answers = np.asarray(score(load(uri), X), dtype="float64")
        bad = int((~np.isfinite(answers)).sum())
        error = f"{bad} of {len(answers)} answers are not finite" if bad else None
    except Exception as e:  # whatever breaks loading or scoring is the evidence
        error = f"{type(e).__name__}: {e}"[:500]
    if error:
        return Finding(
            check="broken_rollback",
            severity=Severity(severity),
            evidence={"version": version, "uri": uri, "error": error},
            message=f"rollback target version {version} ({uri}) cannot be used: {error}",
        )
    return Finding(
        check="broken_rollback",
        severity=Severity.info,
        evidence={"version": version, "uri": uri},
        message=f"rollback target version {version} loads and answers {len(X)} rows",
    )
