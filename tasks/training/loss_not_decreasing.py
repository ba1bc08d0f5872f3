"""Learning health of a model trained by gradient steps: the loss goes down over training (judged on the whole
curve, not its last two points), never diverges, ends below what a constant prediction scores, and, for a
network, no hidden layer is dead or constant on validation rows and no layer's weight updates vanish or explode.

Which curve: an MLPClassifier (sgd or adam) records its own, `loss_curve_` (the average log loss of each epoch
plus its small L2 term). An SGDClassifier (and the Perceptron family) records none, so a clone is refitted on a
bounded, seeded sample of the fit rows, one `partial_fit` epoch at a time with the estimator's own settings, and
its loss (the estimator's own loss: hinge, log loss, ...) measured on that sample after each epoch (for
`refit_epochs` epochs, not the candidate's n_iter_: an early-stopped SGD on a small table stops after a few noisy
epochs). `partial_fit` keeps the learning-rate schedule's clock but cannot lower an `adaptive` rate, so the refit
sees the initial rate throughout: a rate too high shows, a tuned one still descends.

The trend is judged in units of the curve's own epoch-to-epoch noise (the robust spread of its successive
changes, MAD based: a noisy minibatch curve and a smooth full-batch one are judged alike), on two statistics:
- drop: where the curve starts (its first point) minus where it ends (the median of its last third), over the
  standard error of that difference. Every healthy fit, however fast it converges, ends far below where it
  started; a flat or oscillating curve does not.
- rise: where it ends minus its best stretch (the lowest median of as many consecutive epochs earlier on), over
  the standard error: a training loss that climbs back up is a step too large, never overfitting (overfitting
  lowers the training loss).
A curve shorter than `min_epochs` is not judged on its trend (too few points to tell a trend from noise).

Beyond the curve, the candidate's own log loss on (a sample of) its fit rows is compared with the best constant
prediction's on the same rows (the class rate's entropy): its skill, 1 - loss / constant loss (log-loss models
only: an unconverged hinge SGD can rank well while its hinge loss is still above a constant's). A network that
never learned, e.g. one whose units a huge step killed, ends at or above it however its curve moved.

For a network (MLPClassifier): a forward pass of the fitted candidate over a bounded sample of the validation
rows gives, per hidden layer, the share of units whose output is constant over the batch (a ReLU unit that is
always 0, a saturated tanh or logistic unit): the layer then passes nothing on, and the network is smaller than
it looks, or dead. And with the sgd or adam solver, a clone refitted on the sample (as above) gives each layer's
relative weight update per epoch, ||dW|| / ||W||: the median over epochs (after the first, which moves the random
initial weights by design) above a limit is an exploding update (or weights became non-finite: diverged); a
layer whose updates are a tiny fraction of the largest layer's is a vanishing one (it no longer learns).

Estimators not trained by gradient steps (boosting, trees, lbfgs' quasi-Newton curve is not recorded) are
reported as not measured, never as passed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.base import clone

from tasks import checks
from tasks.evidence import plot_lines
from tasks.limits import Floor, Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs

MAD_SD = 1.4826  # a normal distribution's standard deviation per unit of median absolute deviation
MEDIAN_SE = 1.2533  # standard error of a median of normal noise, per sigma / sqrt(n)


class Params(checks.CheckParams):
    drop: Floor = Field(
        Floor(warn=3.0, fail=2.0),
        description="the loss's fall from its first epoch to the median of its last third, in standard errors of "
        "the curve's own epoch-to-epoch noise (healthy fits fall by tens to thousands; a flat or oscillating "
        "curve by about 0)",
    )
    rise: Limit = Field(
        Limit(warn=4.0, fail=6.0),
        description="the loss's climb from its best stretch to the median of its last third, in standard errors "
        "(the best stretch is the luckiest one: a flat noisy curve of 20+ epochs reads under 3.2 in 99 of 100 "
        "simulations, a falling one that levels off under 2.6)",
    )
    skill: Floor = Field(
        Floor(warn=0.0, fail=None),
        description="1 - the candidate's loss on its fit rows / the best constant prediction's: at or below 0 "
        "the model learned nothing (warn only: on data with no signal an honest linear SGD can end there too)",
    )
    constant_units: Limit = Field(
        Limit(warn=0.3, fail=0.5),
        description="share of a hidden layer's units whose output is constant over the validation batch (dead "
        "ReLU, saturated tanh or logistic), in the worst layer; clean fits 0-0.1",
    )
    update_size: Limit = Field(
        Limit(warn=0.25, fail=1.0),
        description="a layer's median relative weight update per epoch, ||dW|| / ||W|| (after the first epoch): "
        "clean fits 0.004-0.05 on four tables; adam at 100-1000x its default rate 0.2-0.9; at 1 the weights are "
        "replaced, not refined, every epoch",
    )
    update_balance: Floor = Field(
        Floor(warn=0.001, fail=None),
        description="the smallest layer's median relative update over the largest layer's: a layer that moves a "
        "thousandth as much as another has stopped learning (vanishing)",
    )
    min_epochs: int = Field(5, ge=3, description="a curve with fewer epochs is not judged on its trend")
    refit_epochs: int = Field(20, ge=3, description="epochs of the sample refit (SGD curve, layer update sizes)")
    sample_rows: int = Field(4000, ge=100, description="fit rows the refit and the skill use, at most (seeded)")
    batch_rows: int = Field(2000, ge=50, description="validation rows of the activation pass, at most (seeded)")
    min_batch_rows: int = Field(
        50, ge=2, description="fewer validation rows: activations not judged (a unit may miss a handful of rows)"
    )
    constant_tolerance: float = Field(
        1.0e-6,
        gt=0.0,
        description="a unit is constant when its output's range over the batch is at most this times "
        "(1 + its mean absolute output)",
    )
    seed: int = Field(0, description="seed of the row samples")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    estimator: str
    kind: str  # "network", "sgd", or "" (not trained by gradient steps: not measured)
    curve_source: str = ""  # "loss_curve_", "refit", or "" (no curve)
    loss_name: str = ""
    curve: tuple[float, ...] = ()  # loss per epoch, from the first
    noise: float = float("nan")  # robust sd of the curve's epoch-to-epoch changes
    drop_z: float = float("nan")
    rise_z: float = float("nan")
    start: float = float("nan")
    end: float = float("nan")
    best: float = float("nan")
    skill: float = float("nan")
    fit_loss: float = float("nan")  # the candidate's loss on the sampled fit rows
    constant_loss: float = float("nan")  # the best constant prediction's on the same rows
    layers: tuple[str, ...] = ()  # hidden layers, "hidden 1 (100 relu)"
    constant_share: tuple[float, ...] = ()  # per hidden layer
    batch_rows: int = 0
    weight_layers: tuple[str, ...] = ()  # weight matrices, "input -> hidden 1"
    updates: tuple[tuple[float, ...], ...] = ()  # per refit epoch from the 2nd, per weight matrix: ||dW|| / ||W||
    refit_diverged_at: int | None = None  # epoch of the refit whose weights became non-finite
    refit_rows: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.curve)

    def median_updates(self) -> tuple[float, ...]:
        """Per weight matrix, the median relative update over the refit's epochs after the first (the first,
        from the random initial weights, is not recorded)."""
        if not self.updates:
            return ()
        rows = np.asarray(self.updates, dtype="float64")
        return tuple(float(v) for v in np.median(rows, axis=0))

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.curve:
            out |= {"epochs": float(len(self.curve)), "drop_z": self.drop_z, "rise_z": self.rise_z}
            out |= {"final_loss": self.curve[-1]}
        if math.isfinite(self.skill):
            out["skill"] = self.skill
        if self.constant_share:
            out["max_constant_units"] = max(self.constant_share)
        med = self.median_updates()
        if med:
            out["max_update"] = max(med)
            out["update_balance"] = min(med) / max(med) if max(med) > 0 else float("nan")
        return out

    def evidence(self, out_dir: Path) -> list[str]:
        files: list[str] = []
        if self.curve:
            table = pd.DataFrame({"epoch": range(1, len(self.curve) + 1), "loss": self.curve})
            files += plot_lines(
                out_dir,
                "loss_curve",
                table,
                "epoch",
                ["loss"],
                title=f"{self.estimator}: training loss per epoch ({self.curve_source})",
                ylabel=self.loss_name,
            )
        if self.updates:
            table = pd.DataFrame(self.updates, columns=list(self.weight_layers))
            table.insert(0, "epoch", range(2, len(table) + 2))  # the update made during that epoch
            files += plot_lines(
                out_dir,
                "weight_updates",
                table,
                "epoch",
                list(self.weight_layers),
                title=f"{self.estimator}: relative weight update per epoch (refit)",
                ylabel="||dW|| / ||W||",
                logy=True,
            )
        return files


# --- what kind of estimator ------------------------------------------------------------------------------------


def _estimator(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _kind(est: Any) -> str:
    from sklearn.linear_model._stochastic_gradient import BaseSGDClassifier
    from sklearn.neural_network import MLPClassifier

    if isinstance(est, MLPClassifier):
        return "network"
    if isinstance(est, BaseSGDClassifier):
        return "sgd"
    return ""


# --- the curve's trend -------------------------------------------------------------------------------------------


def trend(curve: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """(noise, start, end, best, drop_z, rise_z) of a loss curve: see the module docstring. A noiseless curve
    (every change alike) gets its noise floored at a millionth of its level, so a smooth descent reads as a huge
    drop and a perfectly flat curve as none."""
    n = len(curve)
    m = max(1, n // 3)
    diffs = np.diff(curve)
    noise = MAD_SD * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0) if n > 2 else 0.0
    noise = max(noise, 1e-6 * float(np.median(np.abs(curve))), 1e-12)
    start, end = float(curve[0]), float(np.median(curve[-m:]))
    earlier = curve[: n - m]
    windows = [float(np.median(earlier[i : i + m])) for i in range(len(earlier) - m + 1)] or [start]
    best = min(min(windows), end)
    drop_z = (start - end) / (noise * math.sqrt(1.0 + (MEDIAN_SE**2) / m))
    rise_z = (end - best) / (noise * MEDIAN_SE * math.sqrt(2.0 / m))
    return noise, start, end, best, drop_z, rise_z


# --- losses ------------------------------------------------------------------------------------------------------


def margin_loss(name: str, margin: np.ndarray) -> np.ndarray | None:
    """An SGD classifier's loss per row at margin y*f (y in {-1, 1}); None for a loss not written here."""
    m = margin
    losses = {
        "hinge": lambda: np.maximum(0.0, 1.0 - m),
        "log_loss": lambda: np.logaddexp(0.0, -m),
        "modified_huber": lambda: np.where(m >= -1.0, np.maximum(0.0, 1.0 - m) ** 2, -4.0 * m),
        "squared_hinge": lambda: np.maximum(0.0, 1.0 - m) ** 2,
        "perceptron": lambda: np.maximum(0.0, -m),
        "squared_error": lambda: 0.5 * (1.0 - m) ** 2,
    }
    return losses[name]() if name in losses else None


def _sgd_loss_name(est: Any) -> str:
    name = getattr(est, "loss", "hinge")
    return name if isinstance(name, str) else "hinge"


def constant_loss(name: str, signs: np.ndarray) -> float:
    """The least mean loss a constant decision value reaches on these labels (searched on a fine grid of
    margins; for log loss that is the class rate's entropy)."""
    grid = np.linspace(-10.0, 10.0, 4001)
    best = float("inf")
    for c in grid:
        loss = margin_loss(name, signs * c)
        if loss is not None:
            best = min(best, float(loss.mean()))
    return best


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _entropy(y: np.ndarray) -> float:
    rate = float(np.mean(y))
    return _log_loss(y, np.full(len(y), rate))


# --- networks ----------------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500))),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def constant_units(net: Any, X: np.ndarray, tolerance: float) -> tuple[float, ...]:
    """Per hidden layer of a fitted MLP, the share of units whose output does not vary over the rows of X."""
    act = ACTIVATIONS[net.activation]
    a = np.asarray(X, dtype="float64")
    shares = []
    for W, b in zip(net.coefs_[:-1], net.intercepts_[:-1], strict=True):
        a = act(a @ W + b)
        spread = a.max(axis=0) - a.min(axis=0)
        shares.append(float(np.mean(spread <= tolerance * (1.0 + np.abs(a).mean(axis=0)))))
    return tuple(shares)


def _layer_names(net: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    sizes = [W.shape[1] for W in net.coefs_[:-1]]
    hidden = tuple(f"hidden {i + 1} ({s} {net.activation})" for i, s in enumerate(sizes))
    ends = ["input", *[f"hidden {i + 1}" for i in range(len(sizes))], "output"]
    return hidden, tuple(f"{a} -> {b}" for a, b in zip(ends[:-1], ends[1:], strict=True))


# --- the refit ---------------------------------------------------------------------------------------------------


def _quiet_clone(est: Any, **settings: Any) -> Any:
    twin = clone(est)
    ok = twin.get_params()
    twin.set_params(**{k: v for k, v in settings.items() if k in ok})
    return twin


def refit_network(
    net: Any, X: np.ndarray, y: np.ndarray, epochs: int
) -> tuple[tuple[tuple[float, ...], ...], int | None]:
    """Relative weight update per epoch and weight matrix of a clone fitted one partial_fit epoch at a time
    (early stopping off: partial_fit has no validation split), and the epoch whose weights became non-finite."""
    twin = _quiet_clone(net, max_iter=1, early_stopping=False, warm_start=False, verbose=False)
    classes = np.unique(y)
    updates: list[tuple[float, ...]] = []
    before: list[np.ndarray] | None = None
    for epoch in range(1, epochs + 1):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                twin.partial_fit(X, y, classes=classes)
        except ValueError as e:  # sklearn refuses non-finite weights: the updates blew up
            if "non-finite" not in str(e):
                raise
            return tuple(updates), epoch
        after = [W.copy() for W in twin.coefs_]
        if not all(np.isfinite(W).all() for W in after):
            return tuple(updates), epoch
        if before is not None:
            updates.append(
                tuple(
                    float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))
                    for a, b in zip(after, before, strict=True)
                )
            )
        before = after
    return tuple(updates), None


def refit_sgd(est: Any, X: np.ndarray, y: np.ndarray, epochs: int, loss: str) -> tuple[float, ...] | None:
    """The loss on the sample after each partial_fit epoch (None: a loss not written here). The untrained
    (zero) weights are no start: sklearn's default `optimal` schedule takes large first steps by design, so the
    loss after the first epoch may be above the zero weights' and still fall healthily from there."""
    signs = np.where(y == est.classes_[-1], 1.0, -1.0)
    if margin_loss(loss, np.zeros(1)) is None:
        return None
    twin = _quiet_clone(est, max_iter=1, early_stopping=False, warm_start=False, verbose=0)
    curve: list[float] = []
    for _ in range(epochs):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            twin.partial_fit(X, y, classes=est.classes_)
            f = twin.decision_function(X)
        values = margin_loss(loss, signs * f)
        curve.append(float(values.mean()) if values is not None and np.isfinite(f).all() else float("nan"))
        if not math.isfinite(curve[-1]):
            break
    return tuple(curve)


def _rows(data: Any, idx: np.ndarray) -> np.ndarray:
    picked = data.iloc[idx] if isinstance(data, pd.DataFrame) else data[idx]
    if hasattr(picked, "toarray"):  # a sparse matrix: the sampled rows are few
        picked = picked.toarray()
    return np.asarray(picked, dtype="float64")


def _sample(rows: np.ndarray, at_most: int, seed: int) -> np.ndarray:
    rows = np.asarray(rows)
    if len(rows) <= at_most:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=at_most, replace=False))


def measure(x: TrainingInputs, p: Params) -> Measurement:
    est = _estimator(x.model)
    kind = _kind(est)
    name = type(est).__name__
    if not kind or x.model_inputs is None:
        return Measurement(estimator=name, kind="")
    y = np.asarray(x.y)
    fit = _sample(x.fit_rows, p.sample_rows, p.seed)
    Xs, ys = _rows(x.model_inputs, fit), y[fit]
    values: dict[str, Any] = {"estimator": name, "kind": kind, "refit_rows": len(fit)}
    notes: list[str] = []

    if kind == "network":
        values["loss_name"] = "log loss"
        curve = getattr(est, "loss_curve_", None)
        if curve:
            values |= {"curve_source": "loss_curve_", "curve": tuple(float(v) for v in curve)}
        else:
            notes.append(f"solver {est.solver!r} records no loss curve")
        values["fit_loss"] = _log_loss(ys, est.predict_proba(Xs)[:, 1])
        values["constant_loss"] = _entropy(ys)
        batch = _sample(x.validation_rows, p.batch_rows, p.seed)
        values["layers"], values["weight_layers"] = _layer_names(est)
        if len(batch) >= p.min_batch_rows:
            values["constant_share"] = constant_units(est, _rows(x.model_inputs, batch), p.constant_tolerance)
            values["batch_rows"] = len(batch)
        else:
            notes.append(f"{len(batch)} validation rows, fewer than {p.min_batch_rows}: activations not judged")
        if est.solver in ("sgd", "adam"):
            values["updates"], values["refit_diverged_at"] = refit_network(est, Xs, ys, p.refit_epochs)
        else:
            notes.append(f"solver {est.solver!r} takes no partial_fit steps: layer updates not measured")
    else:
        loss = _sgd_loss_name(est)
        values["loss_name"] = loss
        # refit_epochs, not the candidate's n_iter_: an early-stopped SGD on a small table stops after a few
        # noisy epochs, too few to tell its trend from its noise
        curve = refit_sgd(est, Xs, ys, p.refit_epochs, loss)
        if curve is None:
            notes.append(f"loss {loss!r} is not one glassbox can evaluate")
        else:
            values |= {"curve_source": "refit", "curve": curve}
            signs = np.where(ys == est.classes_[-1], 1.0, -1.0)
            own = margin_loss(loss, signs * est.decision_function(Xs))
            if loss == "log_loss":  # skill against the class rate means something for a probability only
                values["fit_loss"] = float(own.mean()) if own is not None else float("nan")
                values["constant_loss"] = constant_loss(loss, signs)

    curve = np.asarray(values.get("curve", ()), dtype="float64")
    if len(curve) >= p.min_epochs and np.isfinite(curve).all():
        keys = ("noise", "start", "end", "best", "drop_z", "rise_z")
        values |= dict(zip(keys, trend(curve), strict=True))
    fit_loss, const = values.get("fit_loss", float("nan")), values.get("constant_loss", float("nan"))
    if math.isfinite(fit_loss) and math.isfinite(const) and const > 0:
        values["skill"] = 1.0 - fit_loss / const
    return Measurement(**values, notes=tuple(notes))


# --- the verdicts ------------------------------------------------------------------------------------------------


def _curve_findings(m: Measurement, p: Params) -> list[Finding]:
    n, src = len(m.curve), "its own loss_curve_" if m.curve_source == "loss_curve_" else "a sample refit"
    ev = {"epochs": n, "curve_source": m.curve_source, "loss": m.loss_name}
    if not m.curve:
        why = "; ".join(m.notes)
        return [Finding(severity=Severity.info, message=f"{m.estimator}: loss curve not measured: {why}")]
    if not m.finite:
        at = next(i for i, v in enumerate(m.curve) if not math.isfinite(v))
        return [
            Finding(
                severity=Severity.fail,
                message=f"{m.estimator}: the training loss diverged: epoch {at} of {n} ({src}) is {m.curve[at]}; "
                "expected a finite, falling loss: lower the learning rate",
                evidence={**ev, "diverged_at": at},
            )
        ]
    if n < p.min_epochs:
        return [
            Finding(
                severity=Severity.info,
                message=f"{m.estimator}: loss curve of {n} epochs ({src}), fewer than {p.min_epochs}: its trend is "
                f"not judged ({m.curve[0]:.4g} -> {m.curve[-1]:.4g})",
                evidence=ev,
            )
        ]
    ev |= {"start": m.start, "end": m.end, "best": m.best, "noise": m.noise}
    third = max(1, n // 3)
    drop = judged(
        m.drop_z,
        p.drop,
        f"{m.estimator}: the training {m.loss_name} ({src}, {n} epochs) fell from {m.start:.4g} to "
        f"{m.end:.4g} (median of the last {third} epochs), {m.drop_z:.1f} standard errors of its epoch-to-epoch "
        f"noise ({m.noise:.2g}); expected a fall of at least {p.drop.warn} (warn) / {p.drop.fail} (fail)",
        evidence=ev,
    )
    if drop.severity is not Severity.info:
        drop = drop.model_copy(
            update={"message": drop.message + ": the loss does not go down; the learning rate is likely too high"}
        )
    rise = judged(
        m.rise_z,
        p.rise,
        f"{m.estimator}: the training {m.loss_name} ended at {m.end:.4g}, {m.rise_z:.1f} standard errors above "
        f"its best stretch ({m.best:.4g}); limits {p.rise.warn} (warn) / {p.rise.fail} (fail)",
        evidence=ev,
    )
    if rise.severity is not Severity.info:
        rise = rise.model_copy(
            update={"message": rise.message + ": the loss climbs back up, the steps overshoot; lower the learning rate"}
        )
    return [drop, rise]


def _skill_finding(m: Measurement, p: Params) -> list[Finding]:
    if not math.isfinite(m.skill):
        return []
    msg = (
        f"{m.estimator}: its {m.loss_name} on {m.refit_rows:,} fit rows is {m.fit_loss:.4g}, the best constant "
        f"prediction's {m.constant_loss:.4g}: skill {m.skill:.3f} (1 - loss / constant loss; floor {p.skill.warn})"
    )
    if p.skill.severity(m.skill) is not Severity.info:
        msg += ": the model learned nothing from its features"
    return [judged(m.skill, p.skill, msg, evidence={"fit_loss": m.fit_loss, "constant_loss": m.constant_loss})]


def _network_findings(m: Measurement, p: Params) -> list[Finding]:
    out: list[Finding] = []
    unjudged = [n for n in m.notes if "activations not judged" in n]
    if unjudged:
        out.append(Finding(severity=Severity.info, message=f"{m.estimator}: {unjudged[0]}"))
    if m.constant_share:
        worst = int(np.argmax(m.constant_share))
        share = m.constant_share[worst]
        per_layer = ", ".join(f"{n}: {s:.0%}" for n, s in zip(m.layers, m.constant_share, strict=True))
        msg = (
            f"{m.estimator}: {share:.0%} of the units of {m.layers[worst]} give a constant output on "
            f"{m.batch_rows:,} validation rows (per layer: {per_layer}); limits {p.constant_units.warn} (warn) / "
            f"{p.constant_units.fail} (fail)"
        )
        if p.constant_units.severity(share) is not Severity.info:
            msg += ": those activations are dead or saturated and pass nothing on (a too-large step, unscaled inputs)"
        out.append(
            judged(
                share,
                p.constant_units,
                msg,
                evidence={"layers": list(m.layers), "constant_share": list(m.constant_share), "rows": m.batch_rows},
            )
        )
    if m.refit_diverged_at is not None:
        out.append(
            Finding(
                severity=Severity.fail,
                message=f"{m.estimator}: refitted on {m.refit_rows:,} fit rows, its weights became non-finite at "
                f"epoch {m.refit_diverged_at}: the updates explode; lower the learning rate",
                evidence={"diverged_at": m.refit_diverged_at, "rows": m.refit_rows},
            )
        )
    med = m.median_updates()
    if med:
        ev = {"weight_layers": list(m.weight_layers), "median_update": list(med), "epochs": len(m.updates) + 1}
        top = int(np.argmax(med))
        msg = (
            f"{m.estimator}: largest median relative weight update per epoch {med[top]:.3g} ({m.weight_layers[top]}, "
            f"refit on {m.refit_rows:,} rows); limits {p.update_size.warn} (warn) / {p.update_size.fail} (fail)"
        )
        if p.update_size.severity(med[top]) is not Severity.info:
            msg += ": the updates explode, each epoch replaces the weights; lower the learning rate"
        out.append(judged(med[top], p.update_size, msg, evidence=ev))
        if med[top] > 0:
            low = int(np.argmin(med))
            balance = med[low] / med[top]
            msg = (
                f"{m.estimator}: {m.weight_layers[low]} moves {balance:.2g} times as much per epoch as "
                f"{m.weight_layers[top]} ({med[low]:.2g} vs {med[top]:.2g}); floor {p.update_balance.warn} (warn)"
            )
            if p.update_balance.severity(balance) is not Severity.info:
                msg += ": that layer's updates vanish, it no longer learns"
            out.append(judged(balance, p.update_balance, msg, evidence=ev))
    return out


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The curve's drop and rise, the end's skill, and for a network its constant units and update sizes."""
    if not m.kind:
        return [
            Finding(
                severity=Severity.info,
                message=f"not measured: {m.estimator} is not trained by gradient steps (no loss curve, no layers)",
            )
        ]
    return [*_curve_findings(m, p), *_skill_finding(m, p), *_network_findings(m, p)]
