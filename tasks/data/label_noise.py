"""Label noise: a share of training labels are wrong (a labelling job gone bad, a broken join), so the model
learns from answers that are partly false.

How consistent the labels are with the inputs is not enough on its own: a hard problem (inputs that explain
the label weakly) looks like a noisy easy one. The trusted test set is the reference with trusted labels, so
the training labels are judged against it (`share`): a fast model is fitted on folds of the training rows; its
out-of-fold AUC on the training labels is set against its AUC on the test set's labels (each test row scored
by one of the same fold models). A clean but hard problem scores alike on both; wrong training labels lower
only the first, by a known factor: with a share `e` of labels wrong, AUC - 0.5 shrinks by (1 - e / r) where r
is the share of the rarer class at most, so `min(r, 1 - r) * (1 - (AUC_train - 0.5) / (AUC_test - 0.5))` is
the smallest share of wrong labels that explains the gap (exact for flips evenly spread over the classes).
Its lower confidence bound (both AUCs' standard errors, Hanley & McNeil) is what is judged, so a small test
set that cannot tell stays quiet. AUC does not move with the class priors, so a test period with another
positive rate (the demo: 10% late vs 25% in training) does not read as noise; a test period the inputs
explain less well than training (drift) only hides noise, it never invents it.

Where the baseline holds a label-noise reference recorded from another (reviewed) snapshot, the share of
training rows confident learning (cleanlab) flags is also judged above that reference's (`excess`): flipping a
quarter of the demo's labels raises it by about 12 points, clean snapshots of other months move it by about 2.
Each rule judged gives its own finding, saying which rule it is; confident learning's most confidently
mislabelled rows are the examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field
from sklearn.metrics import roc_auc_score

from tasks import checks
from tasks.columns import EXAMPLES
from tasks.data.fast_model import FoldFit, fitted
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SHOWN = 3  # example rows named in a message
TEST = "test"  # the trusted batch


class Params(checks.CheckParams):
    share: Limit = Field(
        Limit(warn=0.05, fail=0.10),
        description="share of wrong training labels, judged against the trusted test set: the lower confidence "
        "bound of the smallest share that explains how much less consistent with the inputs the training labels "
        "are than the test set's (clean splits of six datasets and four synthetic shapes stay below 0.035; 10% / "
        "20% flipped labels read about 0.08 / 0.17 where the inputs explain the label well)",
    )
    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        description="one-sided confidence of that lower bound: a test set too small to tell leaves it at 0",
    )
    excess: Limit = Field(
        Limit(warn=0.03, fail=0.06),
        description="share of training labels confident learning flags, above the share of a reference recorded "
        "from another snapshot (a weak model flags ~15% of the clean demo; a quarter of labels flipped adds ~12 "
        "points)",
    )


@dataclass(frozen=True)
class LabelIssues:
    """Confident learning on a bounded sample of training rows."""

    rows: int
    flagged: int
    auc: float  # the fast model's out-of-fold AUC: how well the inputs explain the label
    examples: list[dict[str, Any]] = field(default_factory=list)  # the most confidently mislabelled rows

    @property
    def share(self) -> float:
        return self.flagged / self.rows if self.rows else 0.0

    def reference(self) -> dict[str, Any]:
        """What the label profile stores of it (the baseline later snapshots are judged against)."""
        return {"rows": self.rows, "flagged_share": round(self.share, 6), "auc": round(self.auc, 6)}


def auc_se(auc: float, positives: int, negatives: int) -> float:
    """Standard error of an AUC on `positives` and `negatives` rows (Hanley & McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    return math.sqrt(max(var, 0.0) / max(positives * negatives, 1))


@dataclass(frozen=True)
class Trusted:
    """The training labels' consistency with the inputs (out-of-fold AUC) against the trusted test set's."""

    train_auc: float
    train_se: float
    train_rate: float  # positive share of the training sample
    test_auc: float
    test_se: float
    test_rows: int
    test_rate: float
    z: float  # the one-sided normal quantile of the confidence

    @property
    def explained(self) -> bool:
        """The test set's labels are explained by the inputs better than chance, at the confidence."""
        return self.test_auc - self.z * self.test_se > 0.5

    @property
    def below_chance(self) -> bool:
        """The training labels score below chance out of fold, beyond their error: flipped labels only pull AUC
        toward 0.5, never past it, so this is the fast model anti-learning (periodic or deterministic rows whose
        folds mirror each other), not noise."""
        return self.train_auc + self.z * self.train_se < 0.5

    @property
    def _rare(self) -> float:
        return min(self.train_rate, 1 - self.train_rate)

    @property
    def estimate(self) -> float:
        """The smallest share of wrong training labels that explains the AUC gap (negative: the training labels
        are the more consistent)."""
        kept = max((self.train_auc - 0.5) / (self.test_auc - 0.5), 0.0)
        return self._rare * (1 - kept)

    @property
    def se(self) -> float:
        g = self.test_auc - 0.5
        return self._rare * math.hypot(self.train_se / g, (self.train_auc - 0.5) * self.test_se / g**2)

    @property
    def lower(self) -> float:
        return max(self.estimate - self.z * self.se, 0.0)


def trusted_reference(fit: FoldFit, test: pd.DataFrame, y: pd.Series, confidence: float) -> Trusted | str:
    """The fold models' AUC on the training labels (out of fold) and on the test set's; a reason string when
    the test set cannot serve."""
    labels = y.to_numpy().astype("int64")
    positives = int(labels.sum())
    if positives == 0 or positives == len(labels):
        return "the trusted test set holds one class only"
    scores = fit.probabilities(test.loc[y.index])[:, 1]
    train_pos = int(fit.labels.sum())
    train_auc = float(roc_auc_score(fit.labels, fit.oof[:, 1]))
    test_auc = float(roc_auc_score(labels, scores))
    return Trusted(
        train_auc=train_auc,
        train_se=auc_se(train_auc, train_pos, len(fit.labels) - train_pos),
        train_rate=train_pos / len(fit.labels),
        test_auc=test_auc,
        test_se=auc_se(test_auc, positives, len(labels) - positives),
        test_rows=len(labels),
        test_rate=positives / len(labels),
        z=NormalDist().inv_cdf(confidence),
    )


def confident_learning(fit: FoldFit, train: pd.DataFrame, id_column: str | None) -> LabelIssues:
    """cleanlab's label issues on the out-of-fold probabilities, the most confident first."""
    from cleanlab.filter import find_label_issues

    labels, probs = fit.labels, fit.oof
    ranked = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
    rows = train.loc[fit.rows]
    ids = rows[id_column] if id_column and id_column in rows.columns else pd.Series(fit.rows, index=fit.rows)
    examples = [
        {"row": str(ids.iloc[i]), "label": int(labels[i]), "p_label": round(float(probs[i, labels[i]]), 4)}
        for i in ranked[:EXAMPLES]
    ]
    return LabelIssues(
        rows=len(labels), flagged=len(ranked), auc=float(roc_auc_score(labels, probs[:, 1])), examples=examples
    )


def estimate(
    train: pd.DataFrame, y: pd.Series, features: list[str], id_column: str | None, rows: int, seed: int
) -> LabelIssues | str:
    """Confident learning on at most `rows` labelled training rows; a reason string when it cannot run (what
    the baseline's label profile records as the reference share)."""
    fit = fitted(train, y, features, rows, seed)
    return fit if isinstance(fit, str) else confident_learning(fit, train, id_column)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    issues: LabelIssues | None
    why_not: str | None  # why nothing was measured
    reference: dict[str, Any] | None  # the baseline's {rows, flagged_share, auc}
    reference_is_this_snapshot: bool
    trusted: Trusted | None = None
    why_not_trusted: str | None = None  # why the test set could not serve as the reference

    @property
    def reference_share(self) -> float | None:
        share = (self.reference or {}).get("flagged_share")
        return None if share is None else float(share)

    @property
    def excess(self) -> float | None:
        """The flagged share above a reference recorded from another snapshot (None: no such reference)."""
        if self.issues is None or self.reference_share is None or self.reference_is_this_snapshot:
            return None
        return self.issues.share - self.reference_share

    def metrics(self) -> dict[str, float]:
        if self.issues is None:
            return {}
        found = {"flagged_share": self.issues.share, "model_auc": self.issues.auc}
        if self.trusted is not None:
            found |= {"test_auc": self.trusted.test_auc}
            if self.trusted.explained and not self.trusted.below_chance:
                found |= {"estimated_share": self.trusted.estimate, "estimated_share_lower": self.trusted.lower}
        return found if self.excess is None else {**found, "excess": self.excess}


def measure(x: DataInputs, p: Params) -> Measurement:
    reference = x.baseline.label_noise_reference
    same = bool(x.train_md5) and x.baseline.profile_md5 == x.train_md5
    if x.labels is None:
        return Measurement(None, f"`{x.target}` is not a 0/1 label", reference, same)
    fit = fitted(x.train, x.labels, x.features, x.sample_rows, x.seed)
    if isinstance(fit, str):
        return Measurement(None, fit, reference, same)
    issues = confident_learning(fit, x.train, x.id)
    test_y = x.batch_labels.get(TEST)
    if test_y is None or test_y.empty or TEST not in x.batches:
        return Measurement(issues, None, reference, same, None, "the trusted test set has no 0/1 labels")
    trusted = trusted_reference(fit, x.batches[TEST], test_y, p.confidence)
    if isinstance(trusted, str):
        return Measurement(issues, None, reference, same, None, trusted)
    return Measurement(issues, None, reference, same, trusted)


def _examples(issues: LabelIssues) -> str:
    return ", ".join(f"{e['row']} (label {e['label']}, p {e['p_label']:.2f})" for e in issues.examples[:SHOWN])


def _against_test(m: Measurement, p: Params, now: LabelIssues, evidence: dict[str, Any]) -> Finding:
    t = m.trusted
    if t is None:
        return Finding(
            severity=Severity.info,
            message=f"label noise not judged against the trusted test set: {m.why_not_trusted or 'none was given'}",
            evidence={**evidence, "judged": "not judged"},
        )
    aucs = f"fast model AUC {t.train_auc:.3f} on the training labels (out of fold), {t.test_auc:.3f} on the "
    aucs += f"{t.test_rows:,} trusted test labels"
    ev = {
        **evidence,
        "judged": "trusted test set",
        "train_auc": t.train_auc,
        "train_auc_se": t.train_se,
        "test_auc": t.test_auc,
        "test_auc_se": t.test_se,
        "test_rows": t.test_rows,
        "train_rate": t.train_rate,
        "test_rate": t.test_rate,
        "confidence": p.confidence,
    }
    if not t.explained:
        return Finding(
            severity=Severity.info,
            message=f"label noise not judged against the trusted test set: its labels are not explained by the "
            f"inputs better than chance ({aucs}), so it says nothing about how consistent the labels can be",
            evidence={**ev, "judged": "not judged"},
        )
    if t.below_chance:
        return Finding(
            severity=Severity.info,
            message=f"label noise not judged against the trusted test set: the training labels score below chance "
            f"out of fold ({aucs}); wrong labels pull AUC toward 0.5, never below it, so the fast model is "
            f"anti-learning these rows and the gap says nothing about the labels",
            evidence={**ev, "judged": "not judged"},
        )
    ev |= {"estimated_share": t.estimate, "estimated_share_se": t.se, "estimated_share_lower": t.lower}
    conf = f"{100 * p.confidence:g}%"
    if t.estimate <= 0:
        gap = (
            f"; the test set's labels are the less consistent (drift or a harder period), so noise that lowers "
            f"training's AUC by less than {t.train_auc - t.test_auc:.3f} would not show"
            if t.train_auc > t.test_auc + t.z * math.hypot(t.train_se, t.test_se)
            else ""
        )
        message = (
            f"no sign of wrong training labels against the trusted test set: the training labels are as "
            f"consistent with the inputs as the trusted ones ({aucs}){gap}"
        )
        return judged(0.0, p.share, message, evidence=ev)
    severity = p.share.severity(t.lower)
    tail = f"; confident learning's most confident examples: rows {_examples(now)}" if now.examples else ""
    message = (
        f"about {100 * t.estimate:.1f}% of training labels look wrong (at least {100 * t.lower:.1f}% at "
        f"{conf} confidence), judged against the trusted test set: {aucs}. A clean but hard problem scores alike "
        f"on both; wrong training labels lower only the first, and this share of them explains the gap"
    )
    return judged(t.lower, p.share, message + (tail if severity is not Severity.info else ""), evidence=ev)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The training labels against the trusted test set's; where a reference from another snapshot exists, the
    flagged share above it too. One finding per rule, naming it."""
    now = m.issues
    if now is None:
        return [Finding(severity=Severity.info, message=f"label noise not measured: {m.why_not}")]
    flagged = (
        f"confident learning flags {100 * now.share:.1f}% of {now.rows:,} sampled training rows "
        f"(fast model AUC {now.auc:.2f})"
    )
    evidence = {
        "rows": now.rows,
        "flagged": now.flagged,
        "flagged_share": now.share,
        "auc": now.auc,
        "examples": now.examples,
        "reference": m.reference,
    }
    findings = [_against_test(m, p, now, evidence)]
    excess = m.excess
    if excess is not None:
        base = m.reference_share or 0.0
        reference_rows = int((m.reference or {}).get("rows") or 0)
        tail = f"; e.g. rows {_examples(now)}" if excess > 0 and now.examples else ""
        findings.append(
            judged(
                excess,
                p.excess,
                f"about {100 * max(excess, 0.0):.1f}% of training labels look wrong beyond the reference snapshot "
                f"(judged against the baseline's reference share): {flagged} vs {100 * base:.1f}% of "
                f"{reference_rows:,} in the reference{tail}",
                evidence={**evidence, "judged": "reference snapshot", "excess_share": excess},
            )
        )
    elif m.reference_is_this_snapshot and m.reference:
        findings[0] = findings[0].model_copy(
            update={
                "message": findings[0].message + " (the baseline's reference share was recorded from this snapshot: "
                "no excess over it to judge)"
            }
        )
    return findings
