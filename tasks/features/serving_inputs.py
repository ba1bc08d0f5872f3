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
                f"of rows: {', '.join(counts.index[:5])}",
                columns=[col],
                evidence={"batch": batch_name, "rows": len(new), "values": counts.to_dict()},
            )
        )
    return findings


def out_of_range(
    train: pd.DataFrame, batch: pd.DataFrame, columns: list[str], p: FeaturesParams, batch_name: str
) -> list[Finding]:
    """Warn where the model extrapolates (outside the training range); fail where values are far beyond
    anything trained on (outside the range widened by `range_margin` spans)."""
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
        outside = (cur < lo) | (cur > hi)
        far = (cur < wide_lo) | (cur > wide_hi)
        if not outside.any():
            continue
        share, far_share = float(outside.mean()), float(far.mean())
        limit = p.out_of_range_share
        severity = max(
            severity_for(far_share, None, limit.fail),
            severity_for(share, limit.warn, None),
            key=_RANK.__getitem__,
        )
        examples = np.unique(cur[far if far.any() else outside].to_numpy())[:10].tolist()
        findings.append(
            Finding(
                check="out_of_range",
                severity=severity,
                message=f"{batch_name}: {col!r} outside the training range [{lo:g}, {hi:g}] in {share:.2%} of rows, "
                f"beyond the allowed [{wide_lo:g}, {wide_hi:g}] in {far_share:.2%}; e.g. {examples[:5]}",
                columns=[col],
                evidence={
                    "batch": batch_name,
                    "training_range": [lo, hi],
                    "allowed_range": [wide_lo, wide_hi],
                    "share_outside_training": share,
                    "share_beyond_allowed": far_share,
                    "values": examples,
                    "warn": p.out_of_range_share.warn,
                    "fail": p.out_of_range_share.fail,
                },
            )
        )
    return findings
