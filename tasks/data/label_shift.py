"""Label shift: the class priors changed between training and now (another population, a changed policy).
A model calibrated on training priors is then off everywhere, even where the inputs look the same.
Judged by Cohen's h, an effect size: the same change in the late rate reads the same on 1,000 rows or 1M."""

from __future__ import annotations

import pandas as pd

from tasks.data.stats import cohen_h
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

CHECK = "label_shift"


def label_shift(train_y: pd.Series, batch_y: pd.Series | None, batch: str, target: str, limit: Limit) -> Finding:
    """Positive-class share in the batch vs training; info when the batch has no 0/1 labels."""
    if batch_y is None or batch_y.empty:
        return Finding(
            check=CHECK,
            severity=Severity.info,
            message=f"{batch}: no 0/1 `{target}` labels: class priors not compared",
            evidence={"batch": batch},
        )
    before, after = float(train_y.mean()), float(batch_y.mean())
    h = cohen_h(before, after)
    return judge(
        CHECK,
        h,
        limit.warn,
        limit.fail,
        f"{batch}: `{target}` = 1 in {100 * after:.1f}% of rows vs {100 * before:.1f}% in training "
        f"(class shares {1 - after:.3f} / {after:.3f} vs {1 - before:.3f} / {before:.3f}; Cohen's h {h:.3f}, "
        f"warn {limit.warn}, fail {limit.fail})",
        evidence={
            "batch": batch,
            "train_shares": {"0": 1 - before, "1": before},
            "batch_shares": {"0": 1 - after, "1": after},
            "train_rows": len(train_y),
            "batch_rows": len(batch_y),
            "cohen_h": h,
        },
    )
