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
problem, and a few hundred validation rows cannot fail a model by chance."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from tasks import checks
from tasks.columns import is_numeric
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity
from tasks.training.inputs import score

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs

SEED = 0  # the reference sample and the bootstrap draw from it: the same inputs give the same measurement
LEAF_SHARE = 0.01  # the regularized reference's leaves hold at least this share of its fit rows (and 20 rows)


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
        if not self.unmeasured:
            out |= {
                "reference_validation": self.reference_validation,
                "validation_shortfall": self.shortfall,
                "skill_loss": self.skill_loss,
                "skill_loss_bound": self.skill_loss_bound,
            }
        return out


def _rows(data: Any, idx: np.ndarray) -> Any:
    return data.iloc[idx] if isinstance(data, pd.DataFrame) else np.asarray(data)[idx]


def _numeric(fit: Any, val: Any) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs as numbers the references read: as they are, or (a model without preprocessing, on the
    raw frame) through the standard preprocessing, fitted on the reference's fit rows."""
    if isinstance(fit, pd.DataFrame) and not all(is_numeric(fit[c]) for c in fit.columns):
        from tasks.modeling import build_preprocessor  # imports tasks.params: not at module level

        categorical = [c for c in fit.columns if not is_numeric(fit[c])]
        numeric = [c for c in fit.columns if c not in categorical]
        pre = build_preprocessor(categorical, numeric).fit(fit)
        return np.asarray(pre.transform(fit), dtype="float64"), np.asarray(pre.transform(val), dtype="float64")
    return np.asarray(fit, dtype="float64"), np.asarray(val, dtype="float64")


def references(rows: int) -> dict[str, Any]:
    """The simpler models the candidate is compared with, unfitted."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic regression": make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
        "regularized boosting (depth 3)": HistGradientBoostingClassifier(
            max_depth=3,
            min_samples_leaf=max(20, int(rows * LEAF_SHARE)),
            l2_regularization=1.0,
            early_stopping=False,
            random_state=SEED,
        ),
    }


def _fit_scores(model: Any, X_fit: np.ndarray, y_fit: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, ...]:
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # one thread: a cheap model on a sample needs no more, and OpenMP threads stall on a busy machine
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_fit, y_fit)
        return model.predict_proba(X_fit)[:, 1], model.predict_proba(X_val)[:, 1]


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


def measure(x: TrainingInputs, p: Params) -> Measurement:
    base = Measurement(metric=x.metric, train=float(x.train_score), validation=float(x.validation_score))
    if math.isnan(base.gap):
        why = "the metric is undefined on the training or the validation rows (a part with one class cannot be ranked)"
        return replace(base, unmeasured=why)
    if x.model_inputs is None or not len(x.validation_predictions):
        return replace(base, unmeasured="the stage passed no model inputs to fit a reference on")
    rng = np.random.default_rng(SEED)
    fit = np.asarray(x.fit_rows)
    if len(fit) > p.sample_rows:
        fit = np.sort(rng.choice(fit, size=p.sample_rows, replace=False))
    val = np.asarray(x.validation_rows)
    y_fit, y_val = np.asarray(x.y)[fit], np.asarray(x.y)[val]
    if len(np.unique(y_fit)) < 2:
        return replace(base, unmeasured="the references' sample of the fit rows has one class")
    X_fit, X_val = _numeric(_rows(x.model_inputs, fit), _rows(x.model_inputs, val))
    fitted = {name: _fit_scores(model, X_fit, y_fit, X_val) for name, model in references(len(fit)).items()}
    validated = {name: score(x.metric, y_val, s[1]) for name, s in fitted.items()}
    best = max(validated, key=lambda k: -math.inf if math.isnan(validated[k]) else validated[k])
    candidate = np.asarray(x.validation_predictions[0], dtype="float64")
    chance = score(x.metric, y_val, np.full(len(val), float(np.asarray(x.y)[x.fit_rows].mean())))
    return replace(
        base,
        reference=best,
        reference_train=score(x.metric, y_fit, fitted[best][0]),
        reference_validation=validated[best],
        reference_rows=len(fit),
        validation_rows=len(val),
        validation_minority=int(min(y_val.sum(), len(y_val) - y_val.sum())),
        chance=chance,
        shortfall_bound=shortfall_bound(x.metric, y_val, fitted[best][1], candidate, p, rng),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The skill the candidate loses against the simpler reference, at its lower confidence bound, judged against
    the limit; the gap names the cause (overfitting above `gap`, an under-fitted or diverged fit below it). A loss
    that is there (bound above 0) and estimated beyond the fail limit, on validation rows too few to bound it
    above the warn limit, is a warning (suspected); a wide gap with nothing lost is info, stating both. What was
    not measured is said, not passed."""
    scores = (
        f"{m.metric} {m.train:.4f} on training vs {m.validation:.4f} on validation (gap {m.gap:.4f}, "
        f"{'above' if m.gap > p.gap else 'within'} {p.gap})"
    )
    evidence: dict[str, Any] = {"metric": m.metric, "train": m.train, "validation": m.validation, "gap": m.gap}
    evidence["gap_limit"] = p.gap
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
