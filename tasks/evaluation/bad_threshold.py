"""Bad threshold: the deployed decision threshold costs more than it needs to. What a wrong decision costs
(a false positive, a false negative) is the business's, set in params; the threshold with the least expected
cost is chosen on the candidate's validation scores (rows the trusted test set never sees), and both it and the
deployed threshold are then costed on the trusted test set: choosing and judging on the same rows would
flatter the best one. Judged: the share of the deployed threshold's expected cost the best one avoids, at its
lower confidence bound (paired bootstrap of the test rows), so a threshold that only looks worse by noise does
not fail. A threshold copied from another model, whose scores sit elsewhere, is the usual cause."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.evaluation.scoring import bootstrap_counts, labels_at
from tasks.evidence import plot_lines
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs

SEED = 0  # the bootstrap's draws: the same inputs give the same measurement
GRID = 101  # evenly spaced thresholds 0..1, plus the deployed one and the validation scores' quantiles
EVIDENCE = "cost_curve"


class Cost(checks.CheckParams):
    false_positive: float = Field(1.0, gt=0.0, description="cost of one negative row predicted positive")
    false_negative: float = Field(1.0, gt=0.0, description="cost of one positive row predicted negative")


class Params(checks.CheckParams):
    cost: Cost = Field(
        default_factory=Cost,
        description="what one wrong decision costs the business, by kind (only the ratio matters); while unset, "
        "equal costs are assumed and the verdict is at most a warning (a fail needs the business's own costs)",
    )
    excess: Limit = Field(
        Limit(warn=0.1, fail=0.25),
        description="share of the deployed threshold's expected cost on the trusted test set that the threshold "
        "best on validation avoids, at its lower confidence bound",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided confidence of the lower bound")
    resamples: int = Field(200, ge=20, description="bootstrap resamples of the test rows")


def expected_costs(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, cost: Cost) -> np.ndarray:
    """Expected cost per row at each threshold (positive when the score reaches it)."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(scores, dtype="float64")
    if not len(y):
        return np.full(len(thresholds), np.nan)
    pos_scores, neg_scores = np.sort(s[y]), np.sort(s[~y])
    t = np.asarray(thresholds, dtype="float64")
    fn = np.searchsorted(pos_scores, t, side="left")  # positives scored under the threshold
    fp = len(neg_scores) - np.searchsorted(neg_scores, t, side="left")  # negatives at or above it
    return (cost.false_positive * fp + cost.false_negative * fn) / len(y)


def row_costs(y: np.ndarray, scores: np.ndarray, threshold: float, cost: Cost) -> np.ndarray:
    """What each row's decision at the threshold costs (0 when right)."""
    said, y = labels_at(scores, threshold), np.asarray(y).astype(int)
    return cost.false_positive * ((said == 1) & (y == 0)) + cost.false_negative * ((said == 0) & (y == 1))


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    deployed: float
    cost: Cost
    costs_set: bool = True  # the costs are the project's own (False: the defaults, assumed)
    validation_rows: int = 0
    test_rows: int = 0
    best: float = math.nan  # the threshold with the least expected cost on validation
    best_validation_cost: float = math.nan
    deployed_validation_cost: float = math.nan
    deployed_cost: float = math.nan  # expected cost per row on the trusted test set
    best_cost: float = math.nan
    excess: float = math.nan  # (deployed - best) / deployed on the test set
    excess_lower: float = math.nan
    unmeasured: str = ""
    curve: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    def metrics(self) -> dict[str, float]:
        if self.unmeasured:
            return {}
        return {
            "best_threshold": self.best,
            "deployed_cost": self.deployed_cost,
            "best_cost": self.best_cost,
            "excess": self.excess,
            "excess_lower": self.excess_lower,
        }

    def evidence(self, out_dir: Path) -> list[str]:
        """Expected cost per row over thresholds, on validation (where the best is chosen) and on the trusted
        test set, with the deployed and the best threshold marked."""
        if self.curve.empty:
            return []
        return plot_lines(
            out_dir,
            EVIDENCE,
            self.curve,
            "threshold",
            ["validation_cost", "test_cost"],
            title=f"Expected cost per row (false positive {self.cost.false_positive:g}, false negative "
            f"{self.cost.false_negative:g})",
            ylabel="cost per row",
            marks={"deployed": self.deployed, "best on validation": self.best},
        )


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    base = Measurement(
        deployed=x.threshold, cost=p.cost, costs_set="cost" in p.model_fields_set, test_rows=len(x.labels)
    )
    if x.validation is None or not len(x.validation):
        return replace(base, unmeasured="training wrote no validation scores to choose on")
    y_val = x.validation["label"].to_numpy().astype(int)
    s_val = x.validation["score"].to_numpy(dtype="float64")
    y, s = np.asarray(x.labels).astype(int), np.asarray(x.scores, dtype="float64")
    if len(np.unique(y_val)) < 2 or len(np.unique(y)) < 2:
        why = "the validation or the test rows have one class: no threshold separates anything"
        return replace(base, validation_rows=len(y_val), unmeasured=why)
    grid = np.unique(np.r_[np.linspace(0.0, 1.0, GRID), np.quantile(s_val, np.linspace(0, 1, GRID)), x.threshold])
    val_costs = expected_costs(y_val, s_val, grid, p.cost)
    # the least cost; among equal ones the threshold nearest the deployed one (no change without a gain)
    best = float(grid[np.lexsort((np.abs(grid - x.threshold), np.round(val_costs, 12)))[0]])
    test_costs = expected_costs(y, s, grid, p.cost)
    deployed_cost, best_cost = (float(v) for v in expected_costs(y, s, np.array([x.threshold, best]), p.cost))

    counts = bootstrap_counts(len(y), p.resamples, np.random.default_rng(SEED)).astype("float64")
    dep, bst = (counts @ row_costs(y, s, t, p.cost) for t in (x.threshold, best))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(dep > 0, (dep - bst) / dep, 0.0)
    return Measurement(
        deployed=x.threshold,
        cost=p.cost,
        costs_set=base.costs_set,
        validation_rows=len(y_val),
        test_rows=len(y),
        best=best,
        best_validation_cost=float(expected_costs(y_val, s_val, np.array([best]), p.cost)[0]),
        deployed_validation_cost=float(expected_costs(y_val, s_val, np.array([x.threshold]), p.cost)[0]),
        deployed_cost=deployed_cost,
        best_cost=best_cost,
        excess=(deployed_cost - best_cost) / deployed_cost if deployed_cost > 0 else 0.0,
        excess_lower=float(np.quantile(shares, 1.0 - p.confidence)),
        curve=pd.DataFrame({"threshold": grid, "validation_cost": val_costs, "test_cost": test_costs}),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The avoidable share of the deployed threshold's cost, at its lower bound, against the limit."""
    defaults = not m.costs_set
    costs = f"a false positive costing {m.cost.false_positive:g} and a false negative {m.cost.false_negative:g}" + (
        " (assumed: evaluation.bad_threshold.cost is not set; a fail needs your own costs)" if defaults else ""
    )
    if m.unmeasured:
        return [
            Finding(
                severity=Severity.info,
                message=f"not measured: {m.unmeasured} (deployed threshold {m.deployed:g}, {costs})",
                evidence={"deployed": m.deployed, "reason": m.unmeasured},
            )
        ]
    evidence = {
        "deployed": m.deployed,
        "best": m.best,
        "deployed_cost": m.deployed_cost,
        "best_cost": m.best_cost,
        "deployed_validation_cost": m.deployed_validation_cost,
        "best_validation_cost": m.best_validation_cost,
        "excess": m.excess,
        "false_positive_cost": m.cost.false_positive,
        "false_negative_cost": m.cost.false_negative,
        "default_costs": defaults,
        "validation_rows": m.validation_rows,
        "test_rows": m.test_rows,
    }
    said = (
        f"deployed threshold {m.deployed:g} costs {m.deployed_cost:.4f} per row on the trusted test set "
        f"({m.test_rows:,} rows); {m.best:.3g}, the threshold with the least cost on the {m.validation_rows:,} "
        f"validation rows, costs {m.best_cost:.4f} there: {m.excess:.0%} of the deployed cost is avoidable (at "
        f"least {m.excess_lower:.0%}, {p.confidence:.0%} bound), {costs}"
    )
    found = judged(m.excess_lower, p.excess, said, evidence=evidence)
    if found.severity is not Severity.info:
        found = found.model_copy(
            update={
                "message": f"{said}: move the threshold to about {m.best:.3g}, or set the costs your business has",
                # assumed costs cannot fail a model: a class-weighted model, say, is built for other costs
                "severity": Severity.warn if defaults else found.severity,
            }
        )
    return [found]
