"""Label noise: a share of training labels are wrong (a labelling job gone bad, a broken join).

Confident learning (cleanlab's `find_label_issues`) on out-of-fold probabilities of a fast model flags the
rows whose label disagrees with what the other rows say about inputs like theirs. On its own that share is
not the noise: when the inputs explain the label only weakly (AUC ~0.7), confident learning flags many rows
of a perfectly clean dataset, and random flips are indistinguishable from a harder problem. So the share is
judged against the same measurement on the reference snapshot (recorded in the baseline's label profile when
`glassbox baseline` wrote it): the excess (`excess`) is the estimated share of labels that went bad since.
Flipping a quarter of the demo's labels raises the flagged share by about 12 points; clean snapshots of other
months move it by about 2.

First run on a new dataset: when the reference share was recorded from this very snapshot (the baseline was
just written from it, or the snapshot has not changed since), or the baseline holds none, the excess is 0 by
construction. The flagged share itself is then judged (`first_run_share`) as an upper estimate of the share of
wrong labels: on a problem the inputs explain well it is close to the truth (a quarter of the labels flipped
flags about 30% of the rows, clean labels about 5%), on a weak problem clean labels are flagged too (15% of
the clean demo), so by default it only warns, and when the fast model is barely better than chance
(`first_run_min_auc`) it is not judged at all. It stays an upper estimate until a reviewed reference from
another snapshot exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field
from sklearn.metrics import roc_auc_score

from tasks import checks
from tasks.columns import EXAMPLES
from tasks.data.fast_model import design_matrix, out_of_fold_probabilities
from tasks.data.stats import sample
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SHOWN = 3  # example rows named in a message


class Params(checks.CheckParams):
    excess: Limit = Field(
        Limit(warn=0.03, fail=0.06),
        description="share of training labels confident learning flags, above the reference snapshot's share "
        "(a weak model flags ~15% of the clean demo; a quarter of labels flipped adds ~12 points)",
    )
    first_run_share: Limit = Field(
        Limit(warn=0.2, fail=None),
        description="the flagged share itself, judged when there is no reference from another snapshot (the "
        "first run on a new dataset): an upper estimate of the wrong labels, so warn-only by default",
    )
    first_run_min_auc: float = Field(
        0.6,
        ge=0.5,
        le=1.0,
        description="the first-run share is judged only when the fast model's out-of-fold AUC reaches this: below "
        "it the inputs barely explain the label and confident learning flags rows about at random",
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


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    issues: LabelIssues | None
    why_not: str | None  # why nothing was measured
    reference: dict[str, Any] | None  # the baseline's {rows, flagged_share, auc}
    reference_is_this_snapshot: bool

    @property
    def reference_share(self) -> float | None:
        share = (self.reference or {}).get("flagged_share")
        return None if share is None else float(share)

    @property
    def absolute(self) -> bool:
        """Judge the flagged share itself: no reference from another snapshot to take the excess over."""
        return self.reference_share is None or self.reference_is_this_snapshot

    @property
    def excess(self) -> float | None:
        if self.issues is None or self.reference_share is None or self.absolute:
            return None
        return self.issues.share - self.reference_share

    def metrics(self) -> dict[str, float]:
        if self.issues is None:
            return {}
        found = {"flagged_share": self.issues.share, "model_auc": self.issues.auc}
        return found if self.excess is None else {**found, "excess": self.excess}


def estimate(
    train: pd.DataFrame, y: pd.Series, features: list[str], id_column: str | None, rows: int, seed: int
) -> LabelIssues | str:
    """Confident learning on at most `rows` labelled training rows; a reason string when it cannot run."""
    from cleanlab.filter import find_label_issues

    features = [c for c in features if c in train.columns]
    if not features:
        return "no feature columns to explain the label"
    labelled = sample(train.loc[y.index], rows, seed)
    labels = y.loc[labelled.index].to_numpy()
    X, categorical = design_matrix(labelled, features)
    if X.shape[1] == 0:
        return "no feature has a value in the sampled rows"
    probs = out_of_fold_probabilities(X, labels, categorical, seed)
    if probs is None:
        return "too few rows of one class to cross-validate"
    ranked = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
    ids = labelled[id_column] if id_column and id_column in labelled.columns else pd.Series(labelled.index)
    examples = [
        {"row": str(ids.iloc[i]), "label": int(labels[i]), "p_label": round(float(probs[i, labels[i]]), 4)}
        for i in ranked[:EXAMPLES]
    ]
    return LabelIssues(
        rows=len(labelled),
        flagged=len(ranked),
        auc=float(roc_auc_score(labels, probs[:, 1])),
        examples=examples,
    )


def measure(x: DataInputs, p: Params) -> Measurement:
    reference = x.baseline.label_noise_reference
    same = bool(x.train_md5) and x.baseline.profile_md5 == x.train_md5
    if x.labels is None:
        return Measurement(None, f"`{x.target}` is not a 0/1 label", reference, same)
    found = estimate(x.train, x.labels, x.features, x.id, x.sample_rows, x.seed)
    if isinstance(found, str):
        return Measurement(None, found, reference, same)
    return Measurement(found, None, reference, same)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The flagged share above the reference snapshot's (or, on a first run, the flagged share itself)."""
    now = m.issues
    if now is None:
        return [Finding(severity=Severity.info, message=f"label noise not measured: {m.why_not}")]
    examples = ", ".join(f"{e['row']} (label {e['label']}, p {e['p_label']:.2f})" for e in now.examples[:SHOWN])
    measured = (
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
    if m.absolute:
        why = (
            "the baseline's reference share was recorded from this snapshot"
            if m.reference_is_this_snapshot and m.reference
            else "the baseline holds no reference share"
        )
        if now.auc < p.first_run_min_auc:
            return [
                Finding(
                    severity=Severity.info,
                    message=f"label noise not judged: {measured}, but with no reference from another snapshot ({why}) "
                    f"and a model this weak (AUC below {p.first_run_min_auc}) the flagged share says nothing about "
                    "wrong labels",
                    evidence={**evidence, "judged": "not judged", "why": why},
                )
            ]
        severity = p.first_run_share.severity(now.share)
        tail = f"; e.g. rows {examples}" if severity is not Severity.info and examples else ""
        return [
            judged(
                now.share,
                p.first_run_share,
                f"up to {100 * now.share:.1f}% of training labels look wrong: {measured}. An upper estimate, "
                f"judged absolutely ({why}): a weak but clean problem also flags many rows, so it stays an upper "
                f"estimate until a reviewed reference from another snapshot exists{tail}",
                evidence={**evidence, "judged": "absolute", "why": why},
            )
        ]
    excess, base = m.excess or 0.0, m.reference_share or 0.0
    reference_rows = int((m.reference or {}).get("rows") or 0)
    tail = f"; e.g. rows {examples}" if excess > 0 and examples else ""
    return [
        judged(
            excess,
            p.excess,
            f"about {100 * max(excess, 0.0):.1f}% of training labels look wrong beyond the reference snapshot: "
            f"{measured} vs {100 * base:.1f}% of {reference_rows:,} in the reference{tail}",
            evidence={**evidence, "judged": "excess", "excess_share": excess},
        )
    ]
