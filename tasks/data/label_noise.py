"""Label noise: a share of training labels are wrong (a labelling job gone bad, a broken join).

Confident learning (cleanlab's `find_label_issues`) on out-of-fold probabilities of a fast model flags the
rows whose label disagrees with what the other rows say about inputs like theirs. On its own that share is
not the noise: when the inputs explain the label only weakly (AUC ~0.7), confident learning flags many rows
of a perfectly clean dataset, and random flips are indistinguishable from a harder problem. So the share is
judged against the same measurement on the reference snapshot (recorded in the reviewed target suite when it
was built from clean data): the excess is the estimated share of labels that went bad since. Flipping a
quarter of the demo's labels raises the flagged share by about 12 points; clean snapshots of other months
move it by about 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from cleanlab.filter import find_label_issues
from sklearn.metrics import roc_auc_score

from tasks.data.fast_model import design_matrix, out_of_fold_probabilities
from tasks.data.stats import sample
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

CHECK = "label_noise"
EXAMPLES = 5


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


def estimate(
    train: pd.DataFrame, y: pd.Series, features: list[str], id_column: str | None, rows: int, seed: int
) -> LabelIssues | str:
    """Confident learning on at most `rows` labelled training rows; a reason string when it cannot run."""
    features = [c for c in features if c in train.columns]
    if not features:
        return "no feature columns to explain the label"
    labelled = sample(train.loc[y.index], rows, seed)
    labels = y.loc[labelled.index].to_numpy()
    X, categorical = design_matrix(labelled, features)
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


def label_noise_finding(
    now: LabelIssues | str, reference: dict[str, Any] | None, limit: Limit, *, same_snapshot: bool
) -> Finding:
    """The flagged share above the reference snapshot's, judged by the warn/fail pair."""
    if isinstance(now, str):
        return Finding(check=CHECK, severity=Severity.info, message=f"label noise not measured: {now}")
    examples = ", ".join(f"{e['row']} (label {e['label']}, p {e['p_label']:.2f})" for e in now.examples[:3])
    measured = (
        f"confident learning flags {100 * now.share:.1f}% of {now.rows:,} sampled training rows "
        f"(fast model AUC {now.auc:.2f})"
    )
    evidence = {"rows": now.rows, "flagged": now.flagged, "flagged_share": now.share, "auc": now.auc}
    evidence["examples"] = now.examples
    base = None if reference is None else reference.get("flagged_share")
    if base is None:
        return Finding(
            check=CHECK,
            severity=Severity.info,
            message=(
                f"label noise not judged: {measured}, but the target suite holds no reference share to compare "
                "with (rebuild the suite from a clean snapshot to record one)"
            ),
            evidence=evidence,
        )
    excess = now.share - float(base)
    if same_snapshot:
        tail = "; the reference was recorded from this snapshot"
    else:
        tail = f"; e.g. rows {examples}" if excess > 0 and examples else ""
    return judge(
        CHECK,
        excess,
        limit.warn,
        limit.fail,
        f"about {100 * max(excess, 0.0):.1f}% of training labels look wrong beyond the reference snapshot: "
        f"{measured} vs {100 * float(base):.1f}% of {int(reference.get('rows') or 0):,} in the reference{tail}",
        evidence={**evidence, "reference": reference, "excess_share": excess},
    )


def flagged_metric(now: LabelIssues | str) -> dict[str, float]:
    return {} if isinstance(now, str) else {"label_issue_share": now.share, "label_model_auc": now.auc}
