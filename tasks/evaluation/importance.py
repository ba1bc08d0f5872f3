"""Feature importance of a fitted model, by input column: what the model rests on.

Permutation importance: how much the model's ranking score (ROC AUC) drops when one input column's values are
shuffled across the rows, its tie to the label and to the other columns broken and its distribution kept.
Measured on the raw input columns through the whole pipeline, so a feature's one-hot, scaled or tokenized forms
count as one feature. Model-agnostic and cheap (predictions only, on a bounded sample of rows). Measured where it
is asked: on the rows the model was fitted on it says what the model leans on (a memorized identifier included);
on held-out rows, what generalizes.

SHAP (mean |SHAP value| per input column, tree models only) is extra evidence when `shap` imports; never
required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

__all__ = ["Importance", "bounded_rows", "permutation_importance", "shap_importance"]

# Values of the shuffled copies scored in one call: 4 MB of float64. A tree ensemble streams the whole stack once
# per tree, so a stack past the CPU's cache costs more per row than the calls it saves: on the demo's boosted
# trees (2,000 rows x 112 columns) 4M values a call was 2.2x slower than one shuffle a call, 500k as fast; on a
# 1,000-tree forest (695 x 111) 500k is 3.3x faster than one shuffle a call (its per-tree cost is per call).
STACKED_CELLS = 500_000


@dataclass(frozen=True)
class Importance:
    """Per feature: `importance` (mean drop of ROC AUC when shuffled, over repeats), its `sd` over the repeats,
    and `share` (its positive importance over the sum of the positive ones; NaN when none is positive)."""

    rows: int
    score: float  # the model's ROC AUC on these rows, unshuffled
    table: pd.DataFrame  # feature, importance, sd, share (the features in the order given)

    def share(self, feature: str) -> float:
        row = self.table.loc[self.table["feature"] == feature, "share"]
        return float(row.iloc[0]) if len(row) else float("nan")

    def value(self, feature: str) -> float:
        row = self.table.loc[self.table["feature"] == feature, "importance"]
        return float(row.iloc[0]) if len(row) else float("nan")


def bounded_rows(n: int, rows: int, seed: int) -> np.ndarray:
    """Positions of at most `rows` of `n` rows, drawn at random without repeats (all of them when fewer), sorted."""
    if n <= rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=rows, replace=False))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic of the scores' ranks (ties count half), the larger label positive:
    roc_auc_score's value without its input validation, which was most of the time of a call made once per
    shuffle (2.3 s of a 100k-row evaluation stage)."""
    from scipy.stats import rankdata

    classes = np.unique(y)
    if len(classes) != 2:
        return float("nan")
    p = np.asarray(p, dtype="float64")
    if not np.isfinite(p).all():
        raise ValueError("scores contain NaN or infinity")
    positive = np.asarray(y) == classes[1]
    n1, n0 = int(positive.sum()), int((~positive).sum())
    return float((rankdata(p)[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _shares(values: np.ndarray) -> np.ndarray:
    positive = np.clip(np.nan_to_num(values, nan=0.0), 0.0, None)
    total = positive.sum()
    return positive / total if total > 0 else np.full(len(values), np.nan)


def permutation_importance(
    model: Any, X: pd.DataFrame, y: np.ndarray, features: list[str], repeats: int, seed: int
) -> Importance | None:
    """Each feature's permutation importance on the rows of `X` (the model reads `X[features]`); None when the
    rows hold one class (no ROC AUC to drop)."""
    y = np.asarray(y)
    X = X[features].reset_index(drop=True)
    score_of, columns, width = _scorer(model, X, features)
    base = _auc(y, score_of([]))
    if np.isnan(base):
        return None
    rng = np.random.default_rng(seed)
    shuffles = [(i, r, columns[f], rng.permutation(len(X))) for i, f in enumerate(features) for r in range(repeats)]
    drops = np.zeros((len(features), repeats))
    # Shuffled copies are scored together, up to STACKED_CELLS values a call: a model's cost per call (a forest's
    # per-tree overhead, a thread pool's start) is paid once per stack, not once per shuffle; each row's score
    # is the same either way. One thread per call: OpenMP threads fighting for a busy machine's cores cost 5x.
    per_call = max(1, STACKED_CELLS // max(len(X) * width, 1))
    with threadpool_limits(1):
        for start in range(0, len(shuffles), per_call):
            chunk = shuffles[start : start + per_call]
            scores = score_of([(cols, order) for _, _, cols, order in chunk]).reshape(len(chunk), len(X))
            for (i, r, _, _), p in zip(chunk, scores, strict=True):
                drops[i, r] = base - _auc(y, p)
    mean = drops.mean(axis=1)
    table = pd.DataFrame(
        {
            "feature": features,
            "importance": mean,
            "sd": drops.std(axis=1, ddof=1) if repeats > 1 else np.zeros(len(features)),
            "share": _shares(mean),
        }
    )
    return Importance(rows=len(X), score=base, table=table)


def _scorer(model: Any, X: pd.DataFrame, features: list[str]) -> tuple[Any, dict[str, Any], int]:
    """`score(shuffles)`: the model's positive-class scores of one copy of the rows per (columns, order) in
    `shuffles`, stacked, each copy with its `columns` reordered by `order` (no shuffle: the rows as they are).
    When the model is a ColumnTransformer then an estimator and every output column comes from one input column
    (imputers, scalers, one-hot, a vectorizer per column: row-wise), the rows are transformed once and a
    feature's output columns are shuffled together, which equals shuffling the feature (a model's predictions
    only, not one transform per shuffle); otherwise the raw column is shuffled through the pipeline. Also: each
    feature's columns in what is shuffled, and the values per row scored."""
    from tasks.modeling import positive_scores

    steps = getattr(model, "steps", None)
    pre = steps[-2][1] if steps and len(steps) == 2 else None
    table = _column_transformer(pre)
    owners = _output_columns(table, features) if table is not None else None
    if owners is not None and None not in owners:
        Z = np.asarray(pre.transform(X), dtype="float64")
        estimator = steps[-1][1]
        by_feature = {f: np.array([j for j, o in enumerate(owners) if o == f], dtype=int) for f in features}

        def transformed(shuffles: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
            if not shuffles:
                return positive_scores(estimator, Z)
            stacked = np.tile(Z, (len(shuffles), 1))
            for k, (cols, order) in enumerate(shuffles):
                if len(cols):
                    stacked[k * len(Z) : (k + 1) * len(Z), cols] = Z[order][:, cols]
            return positive_scores(estimator, stacked)

        return transformed, by_feature, Z.shape[1]

    def raw(shuffles: list[tuple[str, np.ndarray]]) -> np.ndarray:
        if not shuffles:
            return positive_scores(model, X)
        copies = []
        for column, order in shuffles:
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[order]
            copies.append(shuffled)
        return positive_scores(model, pd.concat(copies, ignore_index=True))

    return raw, {f: f for f in features}, len(features)


def _column_transformer(step: Any) -> Any:
    """The ColumnTransformer a preprocessing step is (through pipelines of one step), else None."""
    while getattr(step, "steps", None) is not None and len(step.steps) == 1:
        step = step.steps[0][1]
    return step if hasattr(step, "output_indices_") else None


def _output_columns(pre: Any, features: list[str]) -> list[str | None]:
    """For each output column of a fitted ColumnTransformer, the input column it comes from (None: unknown)."""
    owners: list[str | None] = [None] * int(sum(s.stop - s.start for s in pre.output_indices_.values()))
    for name, trans, cols in pre.transformers_:
        block = pre.output_indices_.get(name)
        if block is None or block.stop <= block.start or trans == "drop":
            continue
        cols = [cols] if isinstance(cols, str) else list(cols)
        if len(cols) == 1:
            owners[block] = [cols[0]] * (block.stop - block.start)
            continue
        names = [str(n) for n in trans.get_feature_names_out(cols)]
        for j, out in zip(range(block.start, block.stop), names, strict=True):
            found = [c for c in cols if out == c or out.startswith(f"{c}_")]
            owners[j] = max(found, key=len) if found else None
    return owners


def shap_importance(model: Any, X: pd.DataFrame, features: list[str]) -> tuple[pd.Series | None, str]:
    """Mean |SHAP value| per input column on the rows of `X` (tree estimators after a ColumnTransformer, or on
    the raw columns), as shares; or None and why it was not measured."""
    try:
        import shap
    except Exception as e:  # an optional library: its absence or a broken install is reported, not raised
        return None, f"SHAP not measured: shap cannot be imported ({type(e).__name__}: {e})"
    try:
        steps = getattr(model, "steps", None) or [("model", model)]
        estimator = steps[-1][1]
        pre = model[:-1] if len(steps) > 1 else None
        Z = pre.transform(X[features]) if pre is not None else X[features]
        values = shap.TreeExplainer(estimator).shap_values(np.asarray(Z, dtype="float64"))
        values = np.asarray(values[1] if isinstance(values, list) else values)
        if values.ndim == 3:  # (rows, columns, classes): the positive class
            values = values[:, :, -1]
        per_column = np.abs(values).mean(axis=0)
        table = _column_transformer(pre[-1]) if pre is not None else None
        owners = _output_columns(table, features) if table is not None else list(features)
        if len(owners) != len(per_column):
            return None, "SHAP not measured: its columns cannot be mapped back to the input features"
        by_feature = pd.Series(per_column, index=[o or "?" for o in owners]).groupby(level=0).sum()
        by_feature = by_feature.reindex(features, fill_value=0.0)
        total = float(by_feature.sum())
        return (by_feature / total if total > 0 else by_feature), f"SHAP (TreeExplainer) on {len(X):,} rows"
    except Exception as e:  # SHAP supports some estimators only: any other is said, never a crash of the check
        return None, f"SHAP not measured for this model: {type(e).__name__}: {str(e)[:200]}"
