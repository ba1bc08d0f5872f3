"""Inconsistent values: one thing written several ways (a category spelled "UA", "ua" and " UA"; a length sent
in metres where training had centimetres), so one value reads as several, or a whole column at another scale.

Two kinds:

- spelling variants of a category: values that become equal once case, spaces and punctuation are ignored
  ("UA", "ua", " UA"). Each group's canonical spelling is its commonest in training; rows in another
  spelling are the variant share of the batch (the training snapshot included, against itself).
- a unit or scale change: a numeric column whose batch values are its training values times a power of ten
  (cm to m, cents to dollars). Decided on two robust scales, the median and the 90th percentile of |x|
  (over the non-zero values when zero over all): both ratios must sit within `scale_tolerance` (log10 units)
  of the same 10^k, k != 0. (A seasonal column's spread narrows by a factor of 3 within a year; its typical
  magnitudes move far less, so spreads are not used.) A column scaled to mean 0 / sd 1 or to [0, 1] on one
  side only (the features layer's "looks normalized" rule) is the features layer's normalization skew, not a
  unit change.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import finite, is_numeric, normalization
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

SHOWN = 6  # variants named per group
_IGNORED = re.compile(r"[\W_]+")


class Params(checks.CheckParams):
    variant_share: Limit = Field(
        Limit(warn=0.0, fail=0.01),
        description="share of a batch's rows whose category is another spelling of a value (case, spaces, punctuation)",
    )
    scale_tolerance: float = Field(
        0.15,
        gt=0.0,
        lt=0.5,
        description="log10 units around 10^k (k != 0) within which both the median and the 90th percentile of |x| "
        "must sit for a unit change",
    )
    scale_change: Severity = Field(Severity.fail, description="severity of a numeric column at 10^k its training scale")


@dataclass(frozen=True)
class Variants:
    batch: str
    column: str
    rows: int  # rows in a non-canonical spelling
    present: int  # non-null rows
    groups: dict[str, list[str]]  # canonical spelling -> its variants

    @property
    def share(self) -> float:
        return self.rows / self.present if self.present else 0.0


@dataclass(frozen=True)
class Scaled:
    batch: str
    column: str
    power: int  # the batch reads 10^power times training
    log10_ratios: dict[str, float]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    batches: tuple[str, ...]
    variants: tuple[Variants, ...]
    scaled: tuple[Scaled, ...]
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    scale_tolerance: float

    def metrics(self) -> dict[str, float]:
        out = {
            f"{b}.variant_share_max": max((v.share for v in self.variants if v.batch == b), default=0.0)
            for b in self.batches
        }
        out.update(
            {f"{b}.scaled_columns": float(sum(s.batch == b for s in self.scaled)) for b in self.batches if b != "train"}
        )
        return out


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


def variants_of(train: pd.DataFrame, batch: pd.DataFrame, name: str, columns: list[str]) -> list[Variants]:
    """Categorical columns of `batch` with more than one spelling of a value."""
    found = []
    for c in columns:
        if c not in train.columns or c not in batch.columns or is_numeric(batch[c]):
            continue
        present = int(batch[c].notna().sum())
        if not present:
            continue
        rows, groups = spelling_variants(train[c], batch[c])
        if groups:
            found.append(Variants(name, c, rows, present, groups))
    return found


def scaled_of(
    train: pd.DataFrame, batch: pd.DataFrame, name: str, columns: list[str], tolerance: float, normalized: float
) -> list[Scaled]:
    """Numeric columns of `batch` at a power of ten of their training scale."""
    found = []
    for c in columns:
        if c not in train.columns or c not in batch.columns or not is_numeric(batch[c]) or not is_numeric(train[c]):
            continue
        if (normalization(train[c], normalized) is None) != (normalization(batch[c], normalized) is None):
            continue  # scaled on one side only: the features layer's normalization skew
        k, ratios = scale_factor(train[c], batch[c], tolerance)
        if k is not None:
            found.append(Scaled(name, c, k, ratios))
    return found


def measure(x: DataInputs, p: Params) -> Measurement:
    frames = {"train": x.train, **x.batches}
    variants: list[Variants] = []
    scaled: list[Scaled] = []
    for name, frame in frames.items():
        variants += variants_of(x.train, frame, name, x.categorical)
        if frame is not x.train:
            scaled += scaled_of(x.train, frame, name, x.numeric, p.scale_tolerance, x.normalization_tolerance)
    return Measurement(
        tuple(frames), tuple(variants), tuple(scaled), tuple(x.categorical), tuple(x.numeric), p.scale_tolerance
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Spelling variants at or above the warn limit and scale changes, per batch and column; one info line per
    batch when nothing is found."""
    findings: list[Finding] = []
    for batch in m.batches:
        found = []
        for v in (v for v in m.variants if v.batch == batch):
            shown = "; ".join(f"{canon!r} also as {', '.join(map(repr, vs[:SHOWN]))}" for canon, vs in v.groups.items())
            f = judged(
                v.share,
                p.variant_share,
                f"{batch}: `{v.column}` spells the same value several ways in {100 * v.share:.2f}% of rows ({shown})",
                columns=[v.column],
                evidence={"batch": batch, "kind": "spelling", "rows": v.rows, "share": v.share, "variants": v.groups},
            )
            if f.severity is not Severity.info:
                found.append(f)
        for s in (s for s in m.scaled if s.batch == batch):
            factor = 10.0**s.power
            found.append(
                Finding(
                    severity=p.scale_change,
                    message=(
                        f"{batch}: `{s.column}` reads {factor:g} times its training values (median and 90th "
                        f"percentile of |x| both x10^{s.power}): a unit or scale change"
                    ),
                    columns=[s.column],
                    evidence={
                        "batch": batch,
                        "kind": "scale",
                        "scale_factor": factor,
                        "log10_ratios": s.log10_ratios,
                        "tolerance": m.scale_tolerance,
                    },
                )
            )
        if not found:
            found.append(
                Finding(
                    severity=Severity.info,
                    message=(
                        f"{batch}: no category spelled several ways"
                        + ("" if batch == "train" else ", no numeric column at another power of ten")
                    ),
                    evidence={"batch": batch, "categorical": list(m.categorical), "numeric": list(m.numeric)},
                )
            )
        findings += found
    return findings
