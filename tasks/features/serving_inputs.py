"""Inputs at serving that the model never saw in training: unseen categories and values beyond the range
it was fitted on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.params import FeaturesParams
from tasks.result import Finding, Severity, judge, severity_for

_RANK = {Severity.info: 0, Severity.warn: 1, Severity.fail: 2}


def unseen_categories(
    train: pd.DataFrame, batch: pd.DataFrame, columns: list[str], p: FeaturesParams, batch_name: str
) -> list[Finding]:
    """Categories the model's encoders never learned: share of batch rows, and the new values with counts."""
    findings = []
    for col in columns:
        seen = set(train[col].dropna().astype(str))
        values = batch[col].dropna().astype(str)
        new = values[~values.isin(seen)]
        if new.empty:
            continue
        share = len(new) / max(len(batch), 1)
        counts = new.value_counts().head(10)
        findings.append(
            judge(
                "unseen_categories",
                share,
                p.unseen_category_share.warn,
                p.unseen_category_share.fail,
                f"{batch_name}: {col!r} has {new.nunique()} categories training never saw, in {share:.2%} "
                f"of rows: {', '.join(f'{v!r} ({n:,} rows)' for v, n in counts.head(5).items())}",
                columns=[col],
                evidence={"batch": batch_name, "rows": len(new), "values": counts.to_dict()},
            )
        )
    return findings


def out_of_range(
    train: pd.DataFrame, batch: pd.DataFrame, columns: list[str], p: FeaturesParams, batch_name: str
) -> list[Finding]:
    """Warn where the model extrapolates (outside the training range, `extrapolation_share`); fail where values
    are impossible for it: far beyond anything trained on (outside the range widened by `range_margin` spans),
    or of a sign training never had (`out_of_range_share`)."""
    findings = []
    for col in columns:
        ref = pd.to_numeric(train[col], errors="coerce").dropna()
        cur = pd.to_numeric(batch[col], errors="coerce").dropna()
        if ref.empty or cur.empty:
            continue
        lo, hi = float(ref.min()), float(ref.max())
        pad = p.range_margin * (hi - lo)
        wide_lo, wide_hi = lo - pad, hi + pad
        if lo >= 0:
            wide_lo = max(wide_lo, 0.0)
        if hi <= 0:
            wide_hi = min(wide_hi, 0.0)
        outside = (cur < lo) | (cur > hi)
        far = (cur < wide_lo) | (cur > wide_hi)
        if not outside.any():
            continue
        n = max(len(batch), 1)
        share, far_share = float(outside.sum() / n), float(far.sum() / n)
        severity = max(
            severity_for(far_share, p.out_of_range_share.warn, p.out_of_range_share.fail),
            severity_for(share, p.extrapolation_share.warn, p.extrapolation_share.fail),
            key=_RANK.__getitem__,
        )
        shown = cur[far if far.any() else outside]
        examples = np.unique(shown.to_numpy())[:10].tolist()
        shown_values = ", ".join(f"{v:g}" for v in examples[:5])
        if far.any():
            message = (
                f"{batch_name}: {col!r}: {far_share:.2%} of rows beyond the allowed range [{wide_lo:g}, {wide_hi:g}] "
                f"(the training range [{lo:g}, {hi:g}] widened by {p.range_margin:g} spans), e.g. {shown_values}; "
                f"{share:.2%} outside the training range"
            )
        else:
            message = (
                f"{batch_name}: {col!r}: {share:.2%} of rows outside the training range [{lo:g}, {hi:g}] (the model "
                f"extrapolates), e.g. {shown_values}; none beyond the allowed [{wide_lo:g}, {wide_hi:g}]"
            )
        findings.append(
            Finding(
                check="out_of_range",
                severity=severity,
                message=message,
                columns=[col],
                evidence={
                    "batch": batch_name,
                    "training_range": [lo, hi],
                    "allowed_range": [wide_lo, wide_hi],
                    "share_outside_training": share,
                    "share_beyond_allowed": far_share,
                    "values": examples,
                    "rows_beyond_allowed": int(far.sum()),
                    "extrapolation_share": p.extrapolation_share.model_dump(),
                    "out_of_range_share": p.out_of_range_share.model_dump(),
                },
            )
        )
    return findings
