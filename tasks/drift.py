"""Per-column drift with Evidently's ValueDrift, by effect size so a verdict does not flip with sample size:
normed Wasserstein distance for numeric columns, Jensen-Shannon distance for categorical ones.

Per-column metrics rather than DataDriftPreset: the preset computes each column about three times.
Results are read by key (the metric's column), never by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

NUMERIC_METHOD = "wasserstein"  # Evidently's normed Wasserstein: distance in reference standard deviations
CATEGORICAL_METHOD = "jensenshannon"


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    method: str
    score: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.score >= self.threshold  # Evidently's rule for both methods


@dataclass(frozen=True)
class DriftRun:
    """One Evidently run: each measured column's result by name, why the others were not measured."""

    columns: dict[str, ColumnDrift]
    unmeasured: dict[str, str] = field(default_factory=dict)  # column -> why it was not measured
    snapshot: Any = None  # the Evidently snapshot (HTML and JSON), None when nothing was measured


def measurable(reference: pd.Series, current: pd.Series) -> str | None:
    """Why a column's drift cannot be measured (Evidently raises on an empty side), or None."""
    if reference.notna().sum() == 0:
        return "no values in the reference"
    if current.notna().sum() == 0:
        return "no values in the current data"
    return None


def drift_scores(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    thresholds: dict[str, float],
) -> DriftRun:
    """The scores `measure_drift` gives, from Evidently's own stat tests called as its ValueDrift calls them
    (infinities and missing values dropped, the same method and threshold), without a Report: three quarters of
    a report's time is drawing its plotly figures, which the many daily windows the checks judge do not need."""
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    unmeasured = {c: why for c in [*numeric, *categorical] if (why := measurable(reference[c], current[c]))}
    found: dict[str, ColumnDrift] = {}
    for kind, method, columns in (
        (ColumnType.Numerical, NUMERIC_METHOD, numeric),
        (ColumnType.Categorical, CATEGORICAL_METHOD, categorical),
    ):
        for c in columns:
            if c in unmeasured:
                continue
            ref, cur = (f[c].replace([np.inf, -np.inf], np.nan).dropna() for f in (reference, current))
            result = get_stattest(ref, cur, kind, method)(ref, cur, kind, thresholds[c])
            found[c] = ColumnDrift(c, method, float(result.drift_score), float(thresholds[c]))
    return DriftRun(columns=found, unmeasured=unmeasured)


def measure_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    thresholds: dict[str, float],
) -> DriftRun:
    """Run one Evidently report over the columns that can be measured; `thresholds` is per column."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    unmeasured = {c: why for c in [*numeric, *categorical] if (why := measurable(reference[c], current[c]))}
    numeric = [c for c in numeric if c not in unmeasured]
    categorical = [c for c in categorical if c not in unmeasured]
    columns = [*numeric, *categorical]
    if not columns:
        return DriftRun(columns={}, unmeasured=unmeasured)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    method = {c: NUMERIC_METHOD for c in numeric} | {c: CATEGORICAL_METHOD for c in categorical}
    metrics = [ValueDrift(column=c, method=method[c], threshold=thresholds[c]) for c in columns]
    snapshot = Report(metrics).run(
        current_data=Dataset.from_pandas(current[columns], data_definition=definition),
        reference_data=Dataset.from_pandas(reference[columns], data_definition=definition),
    )
    found: dict[str, ColumnDrift] = {}
    for m in snapshot.dict()["metrics"]:
        config = m["config"]
        if config["type"].endswith("ValueDrift") and config["column"] in method:
            c = config["column"]
            found[c] = ColumnDrift(c, config["method"], float(m["value"]), float(config["threshold"]))
    lost = {c: "Evidently returned no result" for c in columns if c not in found}
    return DriftRun(columns=found, unmeasured=unmeasured | lost, snapshot=snapshot)
