"""The data contract as GX suites, derived from a training snapshot (GX 1.x has no profiler); written by
`glassbox baseline` (tasks/data/baseline.py), never by a judging run.

Two suites, so a batch without labels is judged cleanly: `inputs` (every training column but the target:
the set of columns, each contract column's type and null share, numeric ranges, category sets) and `target`
(the label's presence, type, nulls and values). Each expectation carries in `meta` the check that judges it
(`check`), what it allows and the training statistic it came from, so a diff of the stored JSON is
reviewable. Once stored, a suite is reviewed code: it is used as is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

from tasks.frames import categorical_columns, feature_columns
from tasks.limits import Limit

if TYPE_CHECKING:
    from tasks.params import DataParams, Inputs

INPUTS = "inputs"
TARGET = "target"


@dataclass(frozen=True)
class Contract:
    """Which column plays which role, as params names them (features default to every other column)."""

    target: str
    id: str | None
    timestamp: str | None
    features: tuple[str, ...]
    categorical: tuple[str, ...]

    @classmethod
    def of(cls, inputs: Inputs, train: pd.DataFrame) -> Contract:
        features = feature_columns(inputs, train)
        return cls(
            target=inputs.target,
            id=inputs.id,
            timestamp=inputs.timestamp,
            features=tuple(features),
            categorical=tuple(categorical_columns(inputs, train, features)),
        )

    @property
    def columns(self) -> list[str]:
        """The columns every batch must carry besides the target: keys first, then features."""
        keys = [c for c in (self.id, self.timestamp) if c]
        return [*keys, *(c for c in self.features if c not in keys)]


def type_name(dtype: Any) -> str:
    """The name ExpectColumnValuesToBeOfType matches on pandas: the dtype's scalar type, e.g. `int64`,
    `float64`, `str` (pandas 3 strings), `Timestamp` (tz-aware datetimes), `datetime64` (naive ones)."""
    name = dtype.type.__name__
    return "object" if name == "object_" else name


def mostly(allowed_share: float | None) -> float:
    """GX's `mostly` for a share of unexpected values that is still allowed. Without a fail limit nothing
    fails, so the expectation allows everything (its warn is still judged from params)."""
    if allowed_share is None:
        return 0.0
    return round(min(1.0, max(0.0, 1.0 - allowed_share)), 6)


def finite_extent(values: pd.Series) -> tuple[float, float] | None:
    """Training [min, max] over finite values (an infinity is never a bound)."""
    finite = pd.to_numeric(values, errors="coerce")
    finite = finite[finite.notna() & (finite.abs() != math.inf)]
    if finite.empty:
        return None
    return float(finite.min()), float(finite.max())


def widened_range(lo: float, hi: float, margin: float, integer: bool) -> tuple[float, float]:
    """[lo, hi] widened by `margin * span` on each side, not across zero when training is one-sided (a
    distance that was never negative must not become allowed to), integer-valued for integer columns."""
    span = hi - lo
    low, high = lo - margin * span, hi + margin * span
    if lo >= 0:
        low = max(low, 0.0)
    if hi <= 0:
        high = min(high, 0.0)
    if integer:
        return math.floor(low), math.ceil(high)
    # Rounded for a readable suite, never inside the training range.
    return min(round(low, 6), lo), max(round(high, 6), hi)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _share(x: float) -> str:
    return f"{x:.4g}"


def _null_expectation(train: pd.DataFrame, column: str, limit: Limit) -> gxe.Expectation:
    base = float(train[column].isna().mean())
    allowed = None if limit.fail is None else min(1.0, base + limit.fail)
    allows = (
        "any null share (no fail limit)"
        if allowed is None
        else f"null share up to {_share(allowed)} (training {_share(base)} + fail limit {limit.fail})"
    )
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column,
        mostly=mostly(allowed),
        meta={"check": "missing_spike", "train_null_share": round(base, 6), "allows": allows},
    )


def _range_expectation(train: pd.DataFrame, column: str, p: DataParams) -> gxe.Expectation | None:
    extent = finite_extent(train[column])
    if extent is None:
        return None
    lo, hi = extent
    integer = pd.api.types.is_integer_dtype(train[column].dtype)
    margin, share = p.value_range.margin, p.value_range.share
    low, high = widened_range(lo, hi, margin, integer)
    reach = margin * (hi - lo)
    one_sided = (lo >= 0 > lo - reach) or (hi <= 0 < hi + reach)
    clipped = ", clipped at 0 (one-sided in training)" if one_sided else ""
    shown = (int(lo), int(hi)) if integer else (lo, hi)
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=low,
        max_value=high,
        mostly=mostly(share.fail),
        meta={
            "check": "value_range",
            "train_min": shown[0],
            "train_max": shown[1],
            "range_margin": margin,
            "allows": (
                f"values in [{low:g}, {high:g}]: training [{lo:g}, {hi:g}] widened by {margin} x span"
                f"{clipped}; up to {share.fail} outside"
            ),
        },
    )


def _category_expectation(train: pd.DataFrame, column: str, p: DataParams) -> gxe.Expectation | None:
    values = pd.unique(train[column].dropna())
    share = p.category_set.share
    if len(values) == 0 or len(values) > p.category_set.max_categories:
        return None
    value_set = sorted((_plain(v) for v in values), key=str)
    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=value_set,
        mostly=mostly(share.fail),
        meta={
            "check": "category_set",
            "train_categories": len(value_set),
            "allows": f"the {len(value_set)} training categories; up to {share.fail} of non-null values outside them",
        },
    )


def _type_expectation(train: pd.DataFrame, column: str) -> gxe.Expectation:
    name = type_name(train[column].dtype)
    return gxe.ExpectColumnValuesToBeOfType(
        column=column, type_=name, meta={"check": "schema_change", "allows": f"dtype {name}, as in training"}
    )


def build_inputs_suite(train: pd.DataFrame, contract: Contract, p: DataParams, source: dict) -> gx.ExpectationSuite:
    """Columns, types, null shares, ranges and category sets of everything but the target."""
    columns = [c for c in train.columns if c != contract.target]
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=columns,
            exact_match=True,
            meta={
                "check": "schema_change",
                "allows": "exactly the training columns but the target (in its own suite), any order",
            },
        )
    ]
    numeric_skip = {contract.id, contract.timestamp, *contract.categorical}
    for column in contract.columns:
        expectations += [_type_expectation(train, column), _null_expectation(train, column, p.missing_spike.share)]
        series = train[column]
        if column in contract.categorical:
            expectations.append(_category_expectation(train, column, p))
        elif (
            column not in numeric_skip
            and pd.api.types.is_numeric_dtype(series.dtype)
            and not pd.api.types.is_bool_dtype(series.dtype)
        ):
            expectations.append(_range_expectation(train, column, p))
    return gx.ExpectationSuite(
        name=INPUTS,
        expectations=[e for e in expectations if e is not None],
        meta={"glassbox": {**source, "contract": _contract_meta(contract), "limits": _limits(p)}},
    )


def build_target_suite(
    train: pd.DataFrame, contract: Contract, p: DataParams, source: dict, profile: dict | None = None
) -> gx.ExpectationSuite:
    """The label: present, same type, no more nulls, only the training values. `profile` is the reference
    label profile (rate, relations, a sketch of labelled rows, the label-noise reference share) that later
    training snapshots are compared with: stored in the suite's meta, so it is reviewed with the contract."""
    column = contract.target
    share = p.category_set.share
    labels = gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=sorted((_plain(v) for v in pd.unique(train[column].dropna())), key=str),
        mostly=mostly(share.fail),
        meta={"check": "category_set", "allows": f"the training labels; up to {share.fail} of values outside them"},
    )
    expectations = [
        gxe.ExpectColumnToExist(column=column, meta={"check": "schema_change", "allows": f"a column {column!r}"}),
        _type_expectation(train, column),
        _null_expectation(train, column, p.missing_spike.share),
        labels,
    ]
    meta = {**source, "contract": _contract_meta(contract), "limits": _limits(p)}
    if profile is not None:
        meta["label_profile"] = json.loads(json.dumps(profile))  # plain JSON types only
    return gx.ExpectationSuite(name=TARGET, expectations=expectations, meta={"glassbox": meta})


def _contract_meta(contract: Contract) -> dict:
    return {
        "target": contract.target,
        "id": contract.id,
        "timestamp": contract.timestamp,
        "features": list(contract.features),
        "categorical": list(contract.categorical),
    }


def _limits(p: DataParams) -> dict:
    return {
        "missing_spike.share": p.missing_spike.share.model_dump(),
        "value_range.share": p.value_range.share.model_dump(),
        "value_range.margin": p.value_range.margin,
        "category_set.share": p.category_set.share.model_dump(),
        "category_set.max_categories": p.category_set.max_categories,
    }


def uncovered_categories(train: pd.DataFrame, contract: Contract, p: DataParams) -> list[str]:
    """Categorical features with too many distinct values for a category set (the reviewer should know)."""
    return [c for c in contract.categorical if train[c].nunique() > p.category_set.max_categories]
