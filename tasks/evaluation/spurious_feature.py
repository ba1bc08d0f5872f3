"""Spurious feature: the model must not rest on a feature that should not matter: an identifier, a row number,
a timestamp, a column whose values mark the file a row came from, or a column params declare not causal. Such a
feature can carry real signal in training (a row number in a time-ordered file tells the model which days were
bad) and none in production, so the model is right for the wrong reasons.

What the model rests on is measured where it was fitted: permutation importance on a bounded sample of its fit
rows; the same on the trusted test set says what generalizes (a memorized row number reads ~0 there, which is
why held-out importance alone would miss it). The judged value is the larger of the two shares. A feature
carrying most of the importance alone is reported with its share (info: strong honest features do that too).
SHAP on a smaller sample of the fit rows is evidence beside it when shap is installed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import is_datetime, is_numeric
from tasks.evaluation.importance import Importance, bounded_rows, permutation_importance, shap_importance
from tasks.evidence import plot_bars
from tasks.limits import Limit, Share, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.evaluation.inputs import EvaluationInputs


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.02, fail=0.05),
        description="share of the model's permutation importance (the larger of fit rows and test set) carried "
        "by a feature that should not matter; honest demo features carry 3-45%, a row number left in 10-16%",
    )
    not_causal: list[str] = Field(
        default_factory=list, description="features that must not matter (a batch id, an export date): judged too"
    )
    identifier_share: Share = Field(
        0.9, description="a non-float, non-text feature with at least this share of distinct values is an identifier"
    )
    dominant: Share = Field(
        0.5, description="a single feature carrying more than this share of the importance is reported (info)"
    )
    rows: int = Field(2000, ge=50, description="rows importance is measured on: a sample of the fit rows, of the test")
    repeats: int = Field(3, ge=1, description="shuffles per feature (their spread is the importance's sd)")
    shap_rows: int = Field(500, ge=0, description="fit rows SHAP is computed on (0: no SHAP)")
    seed: int = Field(0, description="for the row samples and the shuffles")


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    features: tuple[str, ...]
    suspects: dict[str, str]  # feature -> why it should not matter
    fit: Importance | None  # None: not measured (no model, no training rows, one class)
    test: Importance | None
    shap: pd.Series | None = None
    shap_note: str = ""
    reason: str | None = None  # why nothing was measured
    notes: tuple[str, ...] = field(default_factory=tuple)

    def share(self, feature: str) -> float:
        found = [m.share(feature) for m in (self.fit, self.test) if m is not None]
        found = [s for s in found if np.isfinite(s)]
        return max(found) if found else float("nan")

    def table(self) -> pd.DataFrame:
        t = pd.DataFrame({"feature": list(self.features)})
        for name, m in (("fit", self.fit), ("test", self.test)):
            if m is not None:
                part = m.table.rename(columns={c: f"{name}_{c}" for c in ("importance", "sd", "share")})
                t = t.merge(part, on="feature", how="left")
        if self.shap is not None:
            t["shap_share"] = t["feature"].map(self.shap)
        t["should_not_matter"] = t["feature"].map(self.suspects).fillna("")
        order = "fit_importance" if "fit_importance" in t else "test_importance" if "test_importance" in t else None
        return t.sort_values(order, ascending=False, kind="stable") if order else t

    def metrics(self) -> dict[str, float]:
        shares = [self.share(f) for f in self.suspects]
        shares = [s for s in shares if np.isfinite(s)]
        return {"suspects": float(len(self.suspects)), **({"max_suspect_share": max(shares)} if shares else {})}

    def evidence(self, out_dir: Path) -> list[str]:
        if self.fit is None and self.test is None:
            return []
        t = self.table()
        files: list[str] = []
        for name, m in (("fit", self.fit), ("test", self.test)):
            if m is None:
                continue
            v, sd = t[f"{name}_importance"], t[f"{name}_sd"]
            where = "the model's fit rows" if name == "fit" else "the trusted test set"
            files += plot_bars(
                out_dir,
                f"importance_{name}",
                t.assign(low=v - sd, high=v + sd)[
                    ["feature", f"{name}_importance", "low", "high", "should_not_matter"]
                ],
                "feature",
                f"{name}_importance",
                title=f"Permutation importance on {where} ({m.rows:,} rows)",
                xlabel="drop of ROC AUC when the feature is shuffled",
                low="low",
                high="high",
                line=0.0,
            )
        if self.shap is not None:
            files += plot_bars(
                out_dir,
                "importance_shap",
                t[["feature", "shap_share"]].sort_values("shap_share", ascending=False),
                "feature",
                "shap_share",
                title="Mean |SHAP value| share on the model's fit rows",
                xlabel="share of mean |SHAP|",
            )
        return files


def _integral(s: pd.Series) -> bool:
    x = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype="float64")
    return len(x) > 0 and bool(np.all(np.isfinite(x))) and bool(np.all(x == np.round(x)))


def should_not_matter(x: EvaluationInputs, p: Params) -> dict[str, str]:
    """The features that should not matter, with why: declared, the id or timestamp column, a datetime, a row
    number (consecutive integers, one per row), an identifier (a non-float feature nearly all distinct), or a
    file marker (a non-float feature none of whose test values occurs in training)."""
    train, test = x.train, x.test
    found: dict[str, str] = {}
    for f in x.features:
        s = train[f] if train is not None and f in train.columns else test[f]
        values = s.dropna()
        n, distinct = len(values), values.nunique()
        floating = pd.api.types.is_float_dtype(s.dtype) and not _integral(values)
        if f in p.not_causal:
            found[f] = "marked not causal (spurious_feature.not_causal)"
        elif f in (x.key, x.timestamp):
            role = "id" if f == x.key else "timestamp"
            found[f] = f"the {role} column (inputs.{role})"
        elif is_datetime(s):
            found[f] = "a timestamp (datetime values)"
        elif f in x.text:
            continue  # free text is distinct by nature and the model reads its words
        elif n > 1 and distinct == n and is_numeric(s) and _integral(values) and values.max() - values.min() == n - 1:
            found[f] = f"a row number ({n:,} consecutive integers {values.min():.0f}..{values.max():.0f}, one per row)"
        elif n > 1 and not floating and distinct / n >= p.identifier_share:
            found[f] = f"an identifier ({distinct / n:.0%} of its {n:,} values distinct)"
        elif train is not None and not floating and distinct > 1 and f in test.columns:
            # distinct values only: a Python set of every training value was 4.7 s of a 100k-row stage
            seen = values.drop_duplicates().astype(str)
            now = test[f].dropna().drop_duplicates().astype(str).drop_duplicates()
            if len(now) and not now.isin(seen).any():
                found[f] = (
                    f"a file marker (none of the test set's {len(now):,} values occurs among training's {distinct:,})"
                )
    return found


def measure(x: EvaluationInputs, p: Params) -> Measurement:
    features = tuple(x.features)
    if x.model is None or not features:
        return Measurement(features, {}, None, None, reason="no candidate model or feature list given")
    suspects = should_not_matter(x, p)
    notes: list[str] = []
    fit = None
    shap, shap_note = None, ""
    if x.train is not None and x.train_labels is not None:
        rows = np.arange(len(x.train)) if x.fit_rows is None else np.asarray(x.fit_rows)
        picked = rows[bounded_rows(len(rows), p.rows, p.seed)]
        fit_x, fit_y = x.train.iloc[picked], np.asarray(x.train_labels)[picked]
        fit = permutation_importance(x.model, fit_x, fit_y, list(features), p.repeats, p.seed)
        if p.shap_rows:
            shap, shap_note = shap_importance(x.model, fit_x.iloc[: p.shap_rows], list(features))
            notes.append(shap_note)
    else:
        notes.append("no training rows given: importance measured on the test set only")
    picked = bounded_rows(len(x.test), p.rows, p.seed)
    test = permutation_importance(
        x.model, x.test.iloc[picked], np.asarray(x.labels)[picked], list(features), p.repeats, p.seed
    )
    return Measurement(features, suspects, fit, test, shap, shap_note, notes=tuple(notes))


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.0%}"


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Each feature that should not matter: its importance share against the limit; the dominant feature and
    the SHAP note as info; info when nothing could be measured."""
    if m.fit is None and m.test is None:
        why = m.reason or "one class in the rows importance is measured on"
        return [Finding(severity=Severity.info, message=f"feature importance not measured: {why}")]
    findings: list[Finding] = []
    for f, why in m.suspects.items():
        fit = m.fit.share(f) if m.fit else float("nan")
        test = m.test.share(f) if m.test else float("nan")
        drop_fit = m.fit.value(f) if m.fit else float("nan")
        drop_test = m.test.value(f) if m.test else float("nan")
        value = m.share(f)
        message = (
            f"`{f}` should not matter, being {why}, yet carries {_pct(fit)} of the model's permutation importance on "
            f"its fit rows (ROC AUC drop {drop_fit:+.4f} when shuffled) and {_pct(test)} on the trusted test set "
            f"({drop_test:+.4f}); limit: {p.share.describe()}"
        )
        if p.share.severity(value) is not Severity.info:
            memorized = np.isfinite(fit) and fit > 2 * np.nan_to_num(test)
            where = " in training, and it does not generalize" if memorized else ""
            message += f": the model rests on it{where}; drop it from the features"
        findings.append(
            judged(
                value,
                p.share,
                message,
                columns=[f],
                evidence={
                    "feature": f,
                    "why": why,
                    "fit_share": fit,
                    "test_share": test,
                    "fit_importance": drop_fit,
                    "test_importance": drop_test,
                    "fit_rows": m.fit.rows if m.fit else 0,
                    "test_rows": m.test.rows if m.test else 0,
                },
            )
        )
    ranked = m.table()
    top = ranked.iloc[0] if len(ranked) else None
    where = "fit_share" if m.fit is not None else "test_share"
    if top is not None and np.isfinite(top[where]):
        lead = f"`{top['feature']}` carries {_pct(top[where])} of the importance ({where.split('_')[0]} rows)"
        if top[where] > p.dominant:
            findings.append(
                Finding(
                    severity=Severity.info,
                    message=f"one feature carries most of the importance alone: {lead}; if it should not matter, "
                    "list it in spurious_feature.not_causal",
                    columns=[str(top["feature"])],
                    evidence={"feature": str(top["feature"]), "share": float(top[where]), "dominant": p.dominant},
                )
            )
        if not m.suspects:
            findings.append(
                Finding(
                    severity=Severity.info,
                    message=f"no feature that should not matter among the {len(m.features)} features (no id, row "
                    f"number, timestamp, file marker or declared non-causal column); {lead}",
                    evidence={"features": len(m.features)},
                )
            )
    for note in m.notes:
        findings.append(Finding(severity=Severity.info, message=note))
    return findings
