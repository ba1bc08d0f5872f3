"""Class imbalance: when one class is rare in training and nothing in the pipeline weighs it up, the fit is
dominated by the common class and a model can score well while ignoring the rare one, which is often the class
that matters. Measured on the rows the candidate is fitted on: the class shares, what the pipeline does about
them (class weights, a resampling step), and, as evidence of the harm, how many of the rare class's validation
rows the candidate puts on their side of a 0.5 cut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from tasks import checks
from tasks.limits import Floor, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    minority_share: Floor = Field(
        Floor(warn=0.05, fail=None),
        description="share of the rarer class among the rows the model is fitted on, judged only when nothing "
        "in the pipeline handles it (1 in 20; the corpus' clean tables 3.3%-48%, a rare-event planting 2%)",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    rows: int
    minority: int | None  # the rarer label (None: one class only)
    minority_rows: int
    handling: tuple[str, ...]  # what in the pipeline weighs the classes (empty: nothing)
    validation_minority_rows: int
    validation_minority_recall: float  # share of the rare class's validation rows on its side of a 0.5 cut

    @property
    def share(self) -> float:
        return self.minority_rows / self.rows if self.rows else float("nan")

    def metrics(self) -> dict[str, float]:
        return {"minority_share": self.share, "validation_minority_recall": self.validation_minority_recall}


def handling(model: Any) -> tuple[str, ...]:
    """What in a pipeline weighs the classes: a `class_weight` set on any step, a resampling step
    (imbalanced-learn's samplers have `fit_resample`)."""
    if model is None or not hasattr(model, "get_params"):
        return ()
    found = [
        f"{name}={value!r}"
        for name, value in model.get_params(deep=True).items()
        if name.split("__")[-1] == "class_weight" and value is not None
    ]
    steps = getattr(model, "steps", [])
    found += [f"resampling step `{name}`" for name, step in steps if hasattr(step, "fit_resample")]
    return tuple(found)


def measure(x: TrainingInputs, p: Params) -> Measurement:
    y = np.asarray(x.y)[x.fit_rows]
    values, counts = np.unique(y, return_counts=True)
    minority = int(values[np.argmin(counts)]) if len(values) == 2 else None
    recall, held = float("nan"), 0
    if minority is not None and x.validation_predictions:
        y_val = np.asarray(x.y)[x.validation_rows]
        scores = np.asarray(x.validation_predictions[0], dtype="float64")
        rare = y_val == minority
        held = int(rare.sum())
        if held:
            said = scores >= 0.5 if minority == 1 else scores < 0.5
            recall = float(said[rare].mean())
    return Measurement(
        rows=len(y),
        minority=minority,
        minority_rows=int(counts.min()) if minority is not None else 0,
        handling=handling(x.model),
        validation_minority_recall=recall,
        validation_minority_rows=held,
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The minority share against the floor when nothing handles it; info otherwise (or with one class)."""
    if m.minority is None:
        return [
            Finding(
                severity=Severity.info, message=f"not measured: one class in the {m.rows:,} rows the model is fitted on"
            )
        ]
    shares = f"class {m.minority} is {m.share:.2%} of the {m.rows:,} fit rows ({m.minority_rows:,})"
    harm = (
        f"; at a 0.5 cut the candidate puts {m.validation_minority_recall:.0%} of the "
        f"{m.validation_minority_rows:,} class-{m.minority} validation rows on their side"
        if m.validation_minority_rows
        else ""
    )
    evidence = {
        "minority": m.minority,
        "minority_share": m.share,
        "minority_rows": m.minority_rows,
        "rows": m.rows,
        "handling": list(m.handling),
        "validation_minority_recall": m.validation_minority_recall,
        "validation_minority_rows": m.validation_minority_rows,
    }
    if m.handling:
        return [
            Finding(
                severity=Severity.info, message=f"{shares}; handled by {', '.join(m.handling)}{harm}", evidence=evidence
            )
        ]
    unhandled = f"{shares} and nothing in the pipeline weighs it up (no class_weight, no resampling){harm}"
    if p.minority_share.severity(m.share) is not Severity.info:
        unhandled += (
            ": the fit is dominated by the other class; set class_weight, resample, or choose the threshold on the "
            "evaluation layer's cost curve"
        )
    return [judged(m.share, p.minority_share, unhandled, evidence=evidence)]
