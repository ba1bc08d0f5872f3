"""Test score: the candidate's score on the trusted test set must clear a floor. It is the one number measured
on rows no stage fitted or tuned on, so it is the gate on whether the model is good enough at all, before it
is compared with anything.

The floor is on the scale where 0.5 is chance and 1 is perfect (ROC AUC's own). Every other metric is placed on
it by what a model with no skill scores on the same rows (accuracy: always the majority class; F1: always
positive; average precision: the positive share), so one floor means the same skill for every metric and base
rate: accuracy 0.88 where 88% of the rows are one class is no skill at all, not a pass of a 0.65 floor."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evaluation.curves import curve_tables, write_tables
from tasks.evaluation.scoring import RANKING, chance_score, classification_scores, on_chance_scale
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


class Params(checks.CheckParams):
    floor: Floor = Field(
        Floor(warn=0.6, fail=0.55),
        description="floor on evaluation.metric on the trusted test set, on the scale where 0.5 is chance and 1 "
        "perfect (ROC AUC's own; another metric is rescaled by what a no-skill model scores on the same rows)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    threshold: float  # where label metrics cut the scores
    rows: int
    scores: dict[str, float] = field(default_factory=dict)  # every classification score, by name
    chance: float = math.nan  # the metric of a no-skill model on the same rows
    curves: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    @property
    def value(self) -> float:
        return self.scores[self.metric]

    @property
    def scaled(self) -> float:
        """The metric on the floor's scale (0.5 chance, 1 perfect)."""
        return on_chance_scale(self.value, self.chance)

    def metrics(self) -> dict[str, float]:
        return {**self.scores, "chance": self.chance, "on_chance_scale": self.scaled}

    def evidence(self, out_dir: Path) -> list[str]:
        """The confusion matrix at the threshold and the ROC, PR and calibration curves as tables, beside the
        pictures MLflow's evaluation draws of them."""
        return write_tables(out_dir, self.curves)


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    scores = classification_scores(x.labels, x.scores, x.threshold)
    return Measurement(
        metric=x.metric,
        threshold=x.threshold,
        rows=len(x.labels),
        scores=scores,
        chance=chance_score(x.metric, x.labels),
        curves=curve_tables(x.labels, x.scores, x.threshold) if len(x.labels) else {},
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The metric, on the chance scale, judged against the floor; an undefined score (one class) fails: it is
    never a pass."""
    evidence = {"metric": m.metric, "rows": m.rows, "threshold": m.threshold, "score": m.value, "chance": m.chance}
    if math.isnan(m.scaled):
        return [
            Finding(
                severity=Severity.fail,
                message=f"{m.metric} is undefined on the trusted test set ({m.rows:,} rows)",
                evidence=evidence,
            )
        ]
    limits = f"floor: warn {p.floor.warn}, fail {p.floor.fail}"
    if m.metric == "roc_auc":
        said = f"{m.metric} on the trusted test set ({m.rows:,} rows): {m.value:.4f} ({limits})"
    else:
        said = (
            f"{m.metric}{'' if m.metric in RANKING else f' at threshold {m.threshold:g}'} on the trusted test set "
            f"({m.rows:,} rows): {m.value:.4f}, where a model with no skill scores {m.chance:.4f}: "
            f"{m.scaled:.4f} on the floor's scale (0.5 chance, 1 perfect; {limits})"
        )
        if m.metric not in RANKING and p.floor.severity(m.scaled) is not Severity.info:
            said += (
                "; the decisions at this threshold are barely better than a constant: see wrong_metric and "
                "bad_threshold for whether the metric or the threshold hides what the scores rank"
            )
    return [judged(m.scaled, p.floor, said, evidence=evidence)]
