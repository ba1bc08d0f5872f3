"""Target logic changed: the label definition changed in a new snapshot ("late" now means any delay, a
threshold moved, a segment relabelled), so the model learns another question than the one it was reviewed on.

The baseline is the contract of a reviewed snapshot, so its label profile is stored there when `glassbox
baseline` writes it (`label_profile` in the target suite's meta), and every later training snapshot is
compared with it on three measures:

- relabelled rows: rows both snapshots hold (by `inputs.id`, else by every other column) whose label differs.
  A label is a fact about a past row; a definition change rewrites it. The profile keeps a bottom-k sketch
  (the `profile_rows` smallest key hashes), so the same rows are found again in any later snapshot.
- label rate: Cohen's h between the two positive shares.
- relation: for the features most related to the label (by single-feature AUC), the target rate per decile
  of the feature's rank (or per frequent value) against the reference curve moved by the overall label-rate
  change (in log-odds); the root mean square Cohen's h over the bins, the worst feature. Ranks, not values,
  so a rescaled feature keeps its curve.

On the snapshot the profile was recorded from (the first run on a new dataset) every measure is 0 by
construction: the finding says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import as_number, is_datetime, is_numeric
from tasks.data.stats import cohen_h, expit, logit
from tasks.limits import Limit
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

DECILES = 10
VALUE_MIN_SHARE = 0.01  # a category gets its own bin from this share of the reference rows
VALUE_BINS = 20
MISSING, OTHER = "(missing)", "(other)"


class Params(checks.CheckParams):
    relabelled_share: Limit = Field(
        Limit(warn=0.001, fail=0.01), description="share of the rows both snapshots hold whose label changed"
    )
    label_rate: Limit = Field(
        Limit(warn=0.2, fail=0.5), description="label rate, this snapshot vs the reference one: Cohen's h"
    )
    relation_shift: Limit = Field(
        Limit(warn=0.2, fail=0.4),
        description="RMS Cohen's h of the target rate per feature bin beyond the label-rate change, the worst of "
        "the profiled features",
    )
    profile_features: int = Field(
        5, ge=1, description="features the baseline's label profile follows (the most related by single-feature AUC)"
    )
    profile_rows: int = Field(
        2000, ge=0, description="labelled rows the baseline's label profile remembers (by key hash)"
    )


def row_keys(df: pd.DataFrame, target: str, id_column: str | None) -> pd.Series:
    """A 64-bit hash per row: of `id_column` when there is one, else of every other column."""
    if id_column and id_column in df.columns:
        return pd.util.hash_pandas_object(df[id_column].astype(str), index=False)
    return pd.util.hash_pandas_object(df.drop(columns=[target], errors="ignore"), index=False)


def ranked_bins(s: pd.Series) -> pd.Series:
    """Decile of each value's rank, "d0".."d9" (ties share one), `(missing)` for missing values."""
    x = as_number(s)
    decile = np.minimum(np.floor(x.rank(pct=True, method="average").to_numpy() * DECILES), DECILES - 1)
    codes = np.where(np.isnan(decile), -1, decile).astype("int64")
    names = np.array([MISSING, *(f"d{k}" for k in range(DECILES))], dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes + 1, categories=names), index=s.index)


def value_bins(s: pd.Series, values: list[str]) -> pd.Series:
    """The frequent values themselves, `(other)` for the rest, `(missing)` for missing values."""
    kept = s.where(s.isin(values))
    codes = pd.Categorical(kept, categories=values).codes
    codes = np.where(s.isna().to_numpy(), len(values) + 1, np.where(codes < 0, len(values), codes))
    return pd.Series(pd.Categorical.from_codes(codes, categories=[*values, OTHER, MISSING]), index=s.index)


def _kind(s: pd.Series) -> str:
    return "rank" if is_numeric(s) or is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype) else "value"


def relation_table(x: pd.Series, y: pd.Series, kind: str, values: list[str] | None = None) -> dict[str, list[float]]:
    """{bin: [share of rows, target rate, rows]} of the label against one feature."""
    rows = x.loc[y.index]
    bins = ranked_bins(rows) if kind == "rank" else value_bins(rows, values or [])
    grouped = y.groupby(bins, observed=True).agg(["mean", "size"])
    n = len(y)
    return {
        str(b): [round(r["size"] / n, 6), round(float(r["mean"]), 6), int(r["size"])] for b, r in grouped.iterrows()
    }


def frequent_values(s: pd.Series) -> list[str]:
    shares = s.dropna().value_counts(normalize=True)
    return [str(v) for v in shares[shares >= VALUE_MIN_SHARE].index[:VALUE_BINS]]


def build_profile(
    train: pd.DataFrame,
    y: pd.Series,
    related: list[str],
    id_column: str | None,
    target: str,
    rows: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The reference label profile of a training snapshot (what the target suite stores)."""
    labelled = train.loc[y.index]
    keys = row_keys(labelled, target, id_column)
    unique = ~keys.duplicated(keep=False)
    sketch = keys[unique].sort_values().iloc[:rows]
    relations = []
    for c in related:
        if c not in train.columns:
            continue
        kind = _kind(train[c])
        values = frequent_values(train[c]) if kind == "value" else None
        relations.append(
            {
                "column": c,
                "kind": kind,
                **({"values": values} if values is not None else {}),
                "bins": relation_table(train[c], y, kind, values),
            }
        )
    return {
        "target": target,
        "rows": len(y),
        "label_rate": round(float(y.mean()), 6),
        "keyed_by": id_column if id_column and id_column in train.columns else "every column but the target",
        "labels": {
            "keys": " ".join(f"{int(k):016x}" for k in sketch),
            "values": "".join(str(int(v)) for v in y.loc[sketch.index]),
        },
        "relations": relations,
        **(extra or {}),
    }


def relabelled(profile: dict[str, Any], train: pd.DataFrame, y: pd.Series, id_column: str | None) -> dict[str, Any]:
    """Rows of the reference sketch found again, and how many of them carry another label now."""
    stored = profile.get("labels") or {}
    keys, values = str(stored.get("keys") or "").split(), str(stored.get("values") or "")
    if not keys or len(keys) != len(values):
        return {"shared": 0}
    try:
        hashes = np.array([int(k, 16) for k in keys], dtype="uint64")
    except ValueError:
        return {"shared": 0}
    reference = pd.Series([int(v) for v in values], index=hashes)
    id_used = id_column if profile.get("keyed_by") == id_column else None
    now_keys = row_keys(train.loc[y.index], str(profile.get("target")), id_used)
    shared = now_keys.isin(reference.index)
    before = reference.loc[now_keys[shared]].to_numpy()
    after = y[shared].to_numpy()
    return {
        "shared": int(shared.sum()),
        "changed": int((before != after).sum()),
        "0_to_1": int(((before == 0) & (after == 1)).sum()),
        "1_to_0": int(((before == 1) & (after == 0)).sum()),
    }


def relation_shift(profile: dict[str, Any], train: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """Per stored feature: RMS Cohen's h of the bins' target rates vs the reference curve moved by the overall
    log-odds change (so a pure label-rate change leaves the relation at about zero)."""
    moved = float(logit(float(y.mean())) - logit(float(profile["label_rate"])))
    shifts: dict[str, float] = {}
    for rel in profile.get("relations") or []:
        c = rel.get("column")
        if c not in train.columns:
            continue
        now = relation_table(train[c], y, rel.get("kind", "rank"), rel.get("values"))
        total = weighted = 0.0
        for b, (share, rate, _rows) in (rel.get("bins") or {}).items():
            if b not in now:
                continue
            expected = float(expit(logit(rate) + moved))
            weighted += share * cohen_h(expected, now[b][1]) ** 2
            total += share
        if total > 0:
            shifts[c] = math.sqrt(weighted / total)
    return shifts


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    why_not: str | None  # why nothing was compared
    same_snapshot: bool  # the profile was recorded from this very snapshot
    rows: dict[str, int]  # shared, changed, 0_to_1, 1_to_0
    reference_rate: float = float("nan")
    rate: float = float("nan")
    rate_h: float = float("nan")
    relations: dict[str, float] | None = None  # relation shift per profiled feature
    reference_rows: int | None = None

    @property
    def changed_share(self) -> float | None:
        return self.rows["changed"] / self.rows["shared"] if self.rows.get("shared") else None

    @property
    def worst(self) -> tuple[str, float] | None:
        return max((self.relations or {}).items(), key=lambda kv: kv[1], default=None)

    def metrics(self) -> dict[str, float]:
        if self.why_not:
            return {}
        found = {"label_rate_h": self.rate_h}
        if self.changed_share is not None:
            found["relabelled_share"] = self.changed_share
        if self.worst:
            found["relation_shift_max"] = self.worst[1]
        return found


def measure(x: DataInputs, p: Params) -> Measurement:
    profile = x.baseline.label_profile
    same = bool(x.train_md5) and x.baseline.profile_md5 == x.train_md5
    if profile is None or "label_rate" not in profile:
        why = (
            "the baseline holds no reference label profile: write it from a reviewed snapshot with "
            "`glassbox baseline --force`"
        )
        return Measurement(why, same, {})
    y = x.labels
    if y is None or y.empty:
        return Measurement("no 0/1 labels", same, {})
    before, after = float(profile["label_rate"]), float(y.mean())
    return Measurement(
        why_not=None,
        same_snapshot=same,
        rows=relabelled(profile, x.train, y, x.id),
        reference_rate=before,
        rate=after,
        rate_h=cohen_h(before, after),
        relations=relation_shift(profile, x.train, y),
        reference_rows=profile.get("rows"),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding: the worst of the three measures against their warn/fail pairs."""
    if m.why_not:
        return [Finding(severity=Severity.info, message=f"label logic not compared: {m.why_not}")]
    changed_share, worst = m.changed_share, m.worst
    severities = {
        "relabelled": p.relabelled_share.severity(changed_share),
        "label_rate": p.label_rate.severity(m.rate_h),
        "relation": p.relation_shift.severity(worst[1] if worst else None),
    }
    parts = []
    if changed_share is None:
        parts.append("no row of the reference found again (relabelling not measured)")
    else:
        parts.append(
            f"{100 * changed_share:.1f}% of the {m.rows['shared']:,} rows both hold now carry another label "
            f"(0->1: {m.rows['0_to_1']:,}, 1->0: {m.rows['1_to_0']:,})"
        )
    parts.append(f"label rate {100 * m.rate:.1f}% vs {100 * m.reference_rate:.1f}% (Cohen's h {m.rate_h:.2f})")
    if worst:
        parts.append(f"relation shift {worst[1]:.2f} (`{worst[0]}`, RMS Cohen's h beyond the rate change)")
    lead = "label rate / relation shift vs the reference snapshot"
    if m.same_snapshot:
        lead += " (recorded from this snapshot: 0 by construction until a new training snapshot comes)"
    return [
        Finding(
            severity=max(severities.values()),
            message=f"{lead}: " + "; ".join(parts),
            columns=[worst[0]] if worst and severities["relation"] is not Severity.info else [],
            evidence={
                "relabelled": {**m.rows, "share": changed_share, "limit": p.relabelled_share.model_dump()},
                "label_rate": {
                    "reference": m.reference_rate,
                    "now": m.rate,
                    "cohen_h": m.rate_h,
                    "limit": p.label_rate.model_dump(),
                },
                "relation_shift": {"per_feature": m.relations, "limit": p.relation_shift.model_dump()},
                "severities": {k: v.value for k, v in severities.items()},
                "reference_rows": m.reference_rows,
            },
        )
    ]
