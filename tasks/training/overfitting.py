"""Overfitting: the candidate learned its training rows rather than the pattern, and it costs: it validates clearly
below what a simpler model fitted on the same rows reaches. A gap between the training and the validation score
alone is no verdict (a flexible model that fits its training rows almost perfectly and validates as well as a
regularized one generalises fine); a validation score the simpler model beats is what production will pay.

The references, fitted on the candidate's own fit rows (a sample above `sample_rows`) and its model inputs, and
scored on its validation rows: a plain logistic regression (imputed, standardized) and a strongly regularized
gradient-boosted model (depth 3, leaves of at least 1% of the rows, L2 1.0). The best of them on validation is
the reference. The shortfall (reference minus candidate validation score) is judged as the share of the
reference's skill (its score above a constant prediction's) that the candidate loses, at its lower confidence
bound over a paired bootstrap of the validation rows: the same share means the same harm on an easy and a hard
problem, and a few hundred validation rows cannot fail a model by chance. The references are fitted once per run
(tasks/training/refits.py; simpler_model judges against the same fits).

The learning curve, the candidate's estimator refitted on growing nested samples of the fit rows (its own seed),
is logged as evidence (learning_curve.png / .csv): a train/validation gap that grows with data is reported in
the finding, since it says more rows will not cure it; the skill loss stays the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from tasks import checks
from tasks.evidence import plot_lines
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity
from tasks.training import refits
from tasks.training.inputs import score

if TYPE_CHECKING:
    from pathlib import Path

    from tasks.training.inputs import TrainingInputs

SEED = 0  # the bootstrap draws: the same inputs give the same measurement
REFERENCES = (refits.LOGISTIC, refits.BOOSTING)  # what a model that cannot memorize reaches on the same rows


class Params(checks.CheckParams):
    skill_loss: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="share of the simpler reference's skill on validation (its score above a constant "
        "prediction's) that the candidate loses, at the lower confidence bound: 0.10 = the candidate gives up at "
        "least a tenth of what a plain or regularized model learns from the same rows",
    )
    gap: float = Field(
        0.05,
        ge=0.0,
        description="training minus validation score above which the candidate fits its training rows better "
        "than new ones: with a skill loss the finding says overfitting, without one the gap is reported as "
        "harmless (info); a skill loss with a smaller gap is an under-fitted or diverged fit",
    )

    confidence: float = Field(
        0.95, gt=0.5, lt=1.0, description="one-sided confidence of the bound on the shortfall (paired bootstrap)"
    )
    resamples: int = Field(200, ge=20, description="bootstrap resamples of the validation rows")
    sample_rows: int = Field(
        20_000,
        ge=200,
        description="at most this many fit rows train each reference, and this many validation rows are "
        "resampled (a bounded cost: the references are cheap models on a sample, never a second full fit)",
    )
    curve_sizes: tuple[float, ...] = Field(
        (0.1, 0.25, 0.5, 1.0),
        min_length=2,
        description="learning curve: the candidate's estimator refitted on these shares of `curve_rows` fit rows "
        "(nested samples, its own seed), scored on the fit sample and on the validation rows",
    )
    curve_rows: int = Field(
        20_000, ge=200, description="the learning curve's largest training size (at most the fit rows)"
    )
    gap_growth: float = Field(
        0.02,
        ge=0.0,
        description="rise of the train minus validation gap from the curve's smallest to its largest size above "
        "which the finding says the gap grows with data (reported, not judged: the skill loss is the verdict)",
    )

    @field_validator("curve_sizes")
    @classmethod
    def _shares(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0.0 < s <= 1.0 for s in v) or list(v) != sorted(set(v)):
            raise ValueError("must be increasing shares in (0, 1]")
        return v

    @field_validator("gap", mode="before")
    @classmethod
    def _gap_is_one_number(cls, v: Any) -> Any:
        if isinstance(v, dict):
            raise ValueError(
                "is one number now (the gap above which a lost skill is called overfitting); the warn/fail "
                "verdict moved to overfitting.skill_loss"
            )
        return v


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    metric: str
    train: float  # the candidate's metric on its fit rows
    validation: float  # ... on the validation rows
    reference: str = ""  # the simpler model that validated best ("" when not measured)
    reference_train: float = math.nan
    reference_validation: float = math.nan
    reference_rows: int = 0  # fit rows the references were trained on
    validation_rows: int = 0
    validation_minority: int = 0  # validation rows of the rarer class: what a ranking score's precision rests on
    chance: float = math.nan  # the metric of a constant prediction (the fit rows' positive share) on validation
    shortfall_bound: float = math.nan  # lower confidence bound of reference minus candidate validation score
    unmeasured: str = ""  # why the comparison was not made
    curve: tuple[tuple[int, float, float], ...] = ()  # learning curve: (training rows, train, validation score)

    @property
    def gap_growth(self) -> float:
        """How much the learning curve's gap rose from its smallest to its largest size (NaN: no curve)."""
        gaps = [t - v for _, t, v in self.curve if not (math.isnan(t) or math.isnan(v))]
        return gaps[-1] - gaps[0] if len(gaps) >= 2 else math.nan

    @property
    def gap(self) -> float:
        return self.train - self.validation

    @property
    def shortfall(self) -> float:
        return self.reference_validation - self.validation

    @property
    def skill(self) -> float:
        """What the reference learned: its validation score above a constant prediction's."""
        return self.reference_validation - self.chance

    @property
    def skill_loss(self) -> float:
        return self.shortfall / self.skill if self.skill > 0 else math.nan

    @property
    def skill_loss_bound(self) -> float:
        return self.shortfall_bound / self.skill if self.skill > 0 else math.nan

    def metrics(self) -> dict[str, float]:
        out = {"train_val_gap": self.gap}
        if not math.isnan(self.gap_growth):
            out["curve_gap_growth"] = self.gap_growth
        if not self.unmeasured:
            out |= {
                "reference_validation": self.reference_validation,
                "validation_shortfall": self.shortfall,
                "skill_loss": self.skill_loss,
                "skill_loss_bound": self.skill_loss_bound,
            }
        return out

    def evidence(self, out_dir: Path) -> list[str]:
        if not self.curve:
            return []
        table = pd.DataFrame(self.curve, columns=["training_rows", "train", "validation"])
        table["gap"] = table["train"] - table["validation"]
        return plot_lines(
            out_dir,
            "learning_curve",
            table,
            "training_rows",
            ["train", "validation"],
            title="Learning curve: the candidate's estimator on growing samples of its fit rows",
            xlabel="training rows",
            ylabel=self.metric,
        )


def resampled_scores(metric: str, y: np.ndarray, p: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`metric` of scores `p` on each bootstrap resample of the rows, given as a (resamples x rows) matrix of how
    often each row was drawn: the same numbers as `score` on the drawn rows, computed for all resamples at once
    (sklearn's scorers cost milliseconds of checks per call). NaN where a ranking metric meets one class."""
    y = np.asarray(y).astype(bool)
    c = np.asarray(counts, dtype="float64")
    pos, neg = c @ y, c @ ~y
    if metric in ("accuracy", "f1"):
        hit = p >= 0.5
        if metric == "accuracy":
            return (c @ (hit == y)) / c.sum(axis=1)
        tp, fp = c @ (hit & y), c @ (hit & ~y)
        denominator = 2 * tp + fp + (pos - tp)
        return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    order = np.argsort(-p, kind="stable")  # descending: thresholds from the highest score down
    ps, ys = p[order], y[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])  # one group per distinct score (ties together)
    cs = c[:, order]
    pos_g = np.add.reduceat(cs * ys, starts, axis=1)
    neg_g = np.add.reduceat(cs * ~ys, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "roc_auc":  # each positive beats the negatives scored lower, and half of its ties
            below = neg[:, None] - np.cumsum(neg_g, axis=1)
            out = (pos_g * (below + 0.5 * neg_g)).sum(axis=1) / (pos * neg)
        else:  # average_precision: precision at each threshold, weighted by the recall it adds
            tp, fp = np.cumsum(pos_g, axis=1), np.cumsum(neg_g, axis=1)
            out = (pos_g * tp / np.where(tp + fp > 0, tp + fp, 1)).sum(axis=1) / pos
    return np.where((pos > 0) & (neg > 0), out, np.nan)


def shortfall_bound(
    metric: str, y: np.ndarray, reference: np.ndarray, candidate: np.ndarray, p: Params, rng: np.random.Generator
) -> float:
    """Lower `p.confidence` bound of (reference - candidate) `metric` on the same validation rows: a paired
    bootstrap (both models scored on each resample), so what the rows share cancels and only the models'
    difference varies. Resamples where the metric is undefined (one class) are skipped; NaN with none left."""
    if len(y) > p.sample_rows:
        keep = rng.choice(len(y), size=p.sample_rows, replace=False)
        y, reference, candidate = y[keep], reference[keep], candidate[keep]
    counts = rng.multinomial(len(y), np.full(len(y), 1.0 / len(y)), size=p.resamples)
    diffs = resampled_scores(metric, y, reference, counts) - resampled_scores(metric, y, candidate, counts)
    diffs = diffs[~np.isnan(diffs)]
    return float(np.quantile(diffs, 1.0 - p.confidence)) if len(diffs) else math.nan


def learning_curve(x: TrainingInputs, p: Params) -> tuple[tuple[int, float, float], ...]:
    """The candidate's estimator refitted (its own seed) on nested samples of the fit rows, `curve_sizes` of at
    most `curve_rows`: (rows, score on those rows, score on the validation rows) per size."""
    if refits.estimator(x) is None or x.model_inputs is None:
        return ()
    largest = min(p.curve_rows, len(x.fit_rows))
    y, y_val = np.asarray(x.y), np.asarray(x.y)[x.validation_rows]
    curve = []
    for n in sorted({max(2, int(round(share * largest))) for share in p.curve_sizes}):
        if len(np.unique(y[refits.fit_sample(x, n)])) < 2:
            continue  # a sample with one class cannot be fitted
        train, val = refits.candidate_refit(x, n, x.seed)
        curve.append((n, score(x.metric, y[refits.fit_sample(x, n)], train), score(x.metric, y_val, val)))
    return tuple(curve)


def measure(x: TrainingInputs, p: Params) -> Measurement:
    base = Measurement(metric=x.metric, train=float(x.train_score), validation=float(x.validation_score))
    if math.isnan(base.gap):
        why = "the metric is undefined on the training or the validation rows (a part with one class cannot be ranked)"
        return replace(base, unmeasured=why)
    base = replace(base, curve=learning_curve(x, p))
    if x.model_inputs is None or not len(x.validation_predictions):
        return replace(base, unmeasured="the stage passed no model inputs to fit a reference on")
    refs = refits.references(x, p.sample_rows)
    if refs.unmeasured:
        return replace(base, unmeasured=refs.unmeasured)
    y_fit, y_val = np.asarray(x.y)[refs.rows], np.asarray(x.y)[x.validation_rows]
    validated = {name: score(x.metric, y_val, refs.validation[name]) for name in REFERENCES}
    best = max(validated, key=lambda k: -math.inf if math.isnan(validated[k]) else validated[k])
    candidate = np.asarray(x.validation_predictions[0], dtype="float64")
    chance = score(x.metric, y_val, np.full(len(y_val), float(np.asarray(x.y)[x.fit_rows].mean())))
    rng = np.random.default_rng(SEED)
    return replace(
        base,
        reference=best,
        reference_train=score(x.metric, y_fit, refs.train[best]),
        reference_validation=validated[best],
        reference_rows=len(refs.rows),
        validation_rows=len(y_val),
        validation_minority=int(min(y_val.sum(), len(y_val) - y_val.sum())),
        chance=chance,
        shortfall_bound=shortfall_bound(x.metric, y_val, refs.validation[best], candidate, p, rng),
    )


def curve_note(m: Measurement, p: Params) -> str:
    """The learning curve in a sentence: its gap at the smallest and the largest size, and whether it grows."""
    if len(m.curve) < 2 or math.isnan(m.gap_growth):
        return ""
    (n0, t0, v0), (n1, t1, v1) = m.curve[0], m.curve[-1]
    trend = (
        f"grows with data by {m.gap_growth:.4f} (above {p.gap_growth}): the fit to the training rows grows "
        "faster than the validation score, so more rows will not close it"
        if m.gap_growth > p.gap_growth
        else f"does not grow with data (by {m.gap_growth:.4f}, limit {p.gap_growth})"
    )
    return (
        f"; learning curve: gap {t0 - v0:.4f} at {n0:,} rows, {t1 - v1:.4f} at {n1:,} rows (validation "
        f"{v0:.4f} -> {v1:.4f}), the gap {trend}"
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The skill the candidate loses against the simpler reference, at its lower confidence bound, judged against
    the limit; the gap names the cause (overfitting above `gap`, an under-fitted or diverged fit below it). A loss
    that is there (bound above 0) and estimated beyond the fail limit, on validation rows too few to bound it
    above the warn limit, is a warning (suspected); a wide gap with nothing lost is info, stating both. What was
    not measured is said, not passed. The learning curve is reported in the message (its gap growing with data
    says more rows will not cure it), not judged."""
    scores = (
        f"{m.metric} {m.train:.4f} on training vs {m.validation:.4f} on validation (gap {m.gap:.4f}, "
        f"{'above' if m.gap > p.gap else 'within'} {p.gap}){curve_note(m, p)}"
    )
    evidence: dict[str, Any] = {"metric": m.metric, "train": m.train, "validation": m.validation, "gap": m.gap}
    evidence["gap_limit"] = p.gap
    if m.curve:
        evidence |= {"learning_curve": [list(point) for point in m.curve], "curve_gap_growth": m.gap_growth}
    if m.unmeasured or math.isnan(m.skill_loss_bound):
        why = m.unmeasured or (
            f"the simpler reference does no better than a constant prediction on validation ({m.reference}: "
            f"{m.reference_validation:.4f} vs {m.chance:.4f}): there is no learned skill to lose"
        )
        return [Finding(severity=Severity.info, message=f"not measured: {why}; {scores}", evidence=evidence)]
    evidence |= {
        "reference": m.reference,
        "reference_train": m.reference_train,
        "reference_validation": m.reference_validation,
        "reference_rows": m.reference_rows,
        "chance": m.chance,
        "shortfall": m.shortfall,
        "shortfall_bound": m.shortfall_bound,
        "skill_loss": m.skill_loss,
        "confidence": p.confidence,
        "validation_rows": m.validation_rows,
        "validation_minority": m.validation_minority,
    }
    ref = (
        f"a simpler model fitted on {m.reference_rows:,} of the same fit rows, {m.reference}, validates at "
        f"{m.reference_validation:.4f} (a constant prediction: {m.chance:.4f})"
    )
    if m.skill_loss <= 0:
        loss = f"the candidate validates at least as well ({p.skill_loss.describe()} on the skill it loses)"
    else:
        bound = (
            f"at least {m.skill_loss_bound:.0%}" if m.skill_loss_bound > 0 else "a loss not established"
        ) + f" at {p.confidence:.0%} confidence"
        loss = (
            f"the candidate loses {m.skill_loss:.0%} of that model's skill above a constant prediction, {bound} "
            f"({p.skill_loss.describe()})"
        )
    severity = p.skill_loss.severity(m.skill_loss_bound)
    overfit = m.gap > p.gap
    few = f"{m.validation_rows:,} validation rows, {m.validation_minority:,} of the rarer class"
    # a loss that is there (bound above 0) and large (estimate beyond fail), on rows too few to bound it tighter
    if severity is Severity.info and m.skill_loss_bound > 0 and p.skill_loss.severity(m.skill_loss) is Severity.fail:
        cause = "overfitting" if overfit else "an under-fitted or diverged fit"
        message = f"{cause} suspected: {scores}; {ref}; {loss}: too few validation rows to bound it tighter ({few})"
        return [Finding(severity=Severity.warn, message=message, evidence={**evidence, **_limit(m, p)})]
    if severity is Severity.info:
        if p.skill_loss.severity(m.skill_loss) is not Severity.info:
            verdict = f"within the limits at {p.confidence:.0%} confidence ({few})"
        else:
            verdict = "the gap does not hurt" if overfit else "no sign of overfitting"
        message = f"{scores}; {ref}; {loss}: {verdict}"
    elif overfit:
        message = f"overfitting: {scores}; {ref}; {loss}: the extra fit to the training rows does not carry to new rows"
    else:
        message = (
            f"the candidate validates below a simpler model without fitting its training rows better: {scores}; "
            f"{ref}; {loss}: an under-fitted or diverged fit (learning rate too high, too few iterations?)"
        )
    return [judged(m.skill_loss_bound, p.skill_loss, message, evidence=evidence)]


def _limit(m: Measurement, p: Params) -> dict[str, Any]:
    """The judged value and its limit, as `judged` puts them in the evidence."""
    return {"value": m.skill_loss_bound, "warn": p.skill_loss.warn, "fail": p.skill_loss.fail}
