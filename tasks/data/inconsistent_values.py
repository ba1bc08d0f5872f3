"""Inconsistent values: one thing written several ways. Two kinds:

- spelling variants of a category: values that become equal once case, spaces and punctuation are ignored
  ("UA", "ua", " UA"). Each group's canonical spelling is its commonest in training; rows in another
  spelling are the variant share of the batch (training included, against itself).
- a unit or scale change: a numeric column whose batch values are its training values times a power of ten
  (cm to m, cents to dollars). Decided on two robust scales, the median and the 90th percentile of |x|
  (over the non-zero values when zero over all): both ratios must sit within `scale_tolerance` (log10 units)
  of the same 10^k, k != 0. (A seasonal column's spread narrows by a factor of 3 within a year; its typical
  magnitudes move far less, so spreads are not used.) A column scaled to mean 0 / sd 1 or to [0, 1] on one side only is
  the features layer's normalization skew, not a unit change.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from tasks.data.stats import finite, is_numeric, looks_normalized
from tasks.limits import Limit
from tasks.result import Finding, Severity, judge

CHECK = "inconsistent_values"
EXAMPLES = 6
_IGNORED = re.compile(r"[\W_]+")


def spelling_key(value: object) -> str:
    """What is left of a value once case, spaces and punctuation are ignored."""
    return _IGNORED.sub("", str(value).casefold())


def spelling_variants(train: pd.Series, batch: pd.Series) -> tuple[int, dict[str, list[str]]]:
    """Rows of `batch` in a non-canonical spelling, and the groups with more than one spelling."""
    train_counts = train.dropna().astype(str).value_counts()
    batch_counts = batch.dropna().astype(str).value_counts()
    spellings = pd.Index(train_counts.index).union(pd.Index(batch_counts.index))
    if len(spellings) < 2:
        return 0, {}
    keys = pd.Series([spelling_key(v) for v in spellings], index=spellings)
    keys = keys[keys != ""]  # nothing left to compare ("-", "?"): not a spelling of anything
    sizes = keys.value_counts()
    grouped = keys[keys.isin(sizes[sizes > 1].index)]
    if grouped.empty:
        return 0, {}
    table = pd.DataFrame(
        {
            "key": grouped,
            "train": train_counts.reindex(grouped.index, fill_value=0),
            "batch": batch_counts.reindex(grouped.index, fill_value=0),
        }
    )
    # Canonical: the commonest spelling in training, else in the batch.
    table = table.sort_values(["key", "train", "batch"], ascending=[True, False, False], kind="stable")
    canonical = table.groupby("key", sort=False).head(1)
    variants = table.drop(index=canonical.index)
    rows = int(variants["batch"].sum())
    groups = {
        str(spelling): [str(v) for v in variants.index[variants["key"] == key]]
        for spelling, key in canonical["key"].items()
    }
    return rows, groups


def variant_findings(
    train: pd.DataFrame, batch: pd.DataFrame, batch_name: str, columns: list[str], limit: Limit
) -> list[Finding]:
    """A finding per categorical column whose variant share reaches the warn limit."""
    found = []
    for c in columns:
        if c not in train.columns or c not in batch.columns or is_numeric(batch[c]):
            continue
        present = int(batch[c].notna().sum())
        if not present:
            continue
        rows, groups = spelling_variants(train[c], batch[c])
        share = rows / present
        if not groups:
            continue
        shown = "; ".join(f"{canon!r} also as {', '.join(map(repr, v[:EXAMPLES]))}" for canon, v in groups.items())
        f = judge(
            CHECK,
            share,
            limit.warn,
            limit.fail,
            f"{batch_name}: `{c}` spells the same value several ways in {100 * share:.2f}% of rows ({shown})",
            columns=[c],
            evidence={"batch": batch_name, "kind": "spelling", "rows": rows, "share": share, "variants": groups},
        )
        if f.severity is not Severity.info:
            found.append(f)
    return found


def _robust_scales(x: pd.Series) -> tuple[float | None, float | None]:
    """Median and 90th percentile of |x|, over the non-zero values when zero over all of them."""
    magnitude = x.abs()
    nonzero = magnitude[magnitude > 0]

    def at(q: float) -> float | None:
        for values in (magnitude, nonzero):
            v = float(np.percentile(values, q)) if len(values) else 0.0
            if v > 0 and math.isfinite(v):
                return v
        return None

    return at(50), at(90)


def scale_factor(train: pd.Series, batch: pd.Series, tolerance: float) -> tuple[int | None, dict[str, float]]:
    """The power of ten k (k != 0) that the batch's scale is of training's, or None; with the log10 ratios."""
    a, b = finite(train), finite(batch)
    if len(a) < 2 or len(b) < 2:
        return None, {}
    ratios: dict[str, float] = {}
    for name, ta, tb in zip(("median_abs", "p90_abs"), _robust_scales(a), _robust_scales(b), strict=True):
        if ta is not None and tb is not None:
            ratios[name] = math.log10(tb / ta)
    if not ratios:
        return None, ratios
    powers = {round(r) for r in ratios.values()}
    if len(powers) != 1:
        return None, ratios
    k = powers.pop()
    if k == 0 or any(abs(r - k) > tolerance for r in ratios.values()):
        return None, ratios
    return k, ratios


def scale_findings(
    train: pd.DataFrame,
    batch: pd.DataFrame,
    batch_name: str,
    columns: list[str],
    tolerance: float,
    normalized_tolerance: float,
    severity: Severity,
) -> list[Finding]:
    """A finding per numeric column at a power of ten of its training scale."""
    found = []
    for c in columns:
        if c not in train.columns or c not in batch.columns or not is_numeric(batch[c]) or not is_numeric(train[c]):
            continue
        if looks_normalized(train[c], normalized_tolerance) != looks_normalized(batch[c], normalized_tolerance):
            continue  # scaled on one side only: the features layer's normalization skew
        k, ratios = scale_factor(train[c], batch[c], tolerance)
        if k is None:
            continue
        factor = 10.0**k
        found.append(
            Finding(
                check=CHECK,
                severity=severity,
                message=(
                    f"{batch_name}: `{c}` reads {factor:g} times its training values (median and 90th "
                    f"percentile of |x| both x10^{k}): a unit or scale change"
                ),
                columns=[c],
                evidence={
                    "batch": batch_name,
                    "kind": "scale",
                    "scale_factor": factor,
                    "log10_ratios": ratios,
                    "tolerance": tolerance,
                },
            )
        )
    return found


def inconsistent_values(
    train: pd.DataFrame,
    batch: pd.DataFrame,
    batch_name: str,
    categorical: list[str],
    numeric: list[str],
    *,
    variant_limit: Limit,
    scale_tolerance: float,
    normalized_tolerance: float,
    scale_severity: Severity,
) -> list[Finding]:
    """Spelling variants (training against itself too) and, for other batches, scale changes; one info line
    when nothing is found."""
    found = variant_findings(train, batch, batch_name, categorical, variant_limit)
    if batch is not train:
        found += scale_findings(
            train, batch, batch_name, numeric, scale_tolerance, normalized_tolerance, scale_severity
        )
    if not found:
        found.append(
            Finding(
                check=CHECK,
                severity=Severity.info,
                message=(
                    f"{batch_name}: no category spelled several ways"
                    + ("" if batch is train else ", no numeric column at another power of ten")
                ),
                evidence={"batch": batch_name, "categorical": categorical, "numeric": numeric},
            )
        )
    return found
