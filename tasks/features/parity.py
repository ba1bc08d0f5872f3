"""Train/serve preprocessing parity: the preprocessing that ships must turn raw rows into the very features
the model is trained on."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from tasks.limits import Limit
from tasks.result import Finding, Severity, judge


def as_matrix(features: Any) -> np.ndarray:
    """Dense float matrix of a transform's output (sparse and DataFrame outputs included)."""
    if hasattr(features, "toarray"):
        features = features.toarray()
    return np.asarray(features, dtype="float64")


def matrix_sha256(m: np.ndarray) -> str:
    """Fingerprint of a feature matrix, so a later stage can prove it trains on exactly these features."""
    m = np.ascontiguousarray(m, dtype="float64")
    return hashlib.sha256(str(m.shape).encode() + m.tobytes()).hexdigest()


def save_preprocessor(pre: Any, path: Path) -> None:
    import skops.io

    skops.io.dump(pre, path)


def load_preprocessor(path: Path) -> Any:
    """Load the shipped preprocessing; the types it needs are our own freshly fitted transformers."""
    import skops.io

    return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))


def replay_parity(fitted: np.ndarray, replayed: np.ndarray, limit: Limit) -> Finding:
    """Compare the features seen at fit time with the shipped preprocessing replayed on the same raw rows."""
    if fitted.shape != replayed.shape:
        return Finding(
            check="preprocessing_parity",
            severity=Severity.fail,
            message=f"the shipped preprocessing gives {replayed.shape[1]} features per row, "
            f"training had {fitted.shape[1]}",
            evidence={"fitted_shape": list(fitted.shape), "replayed_shape": list(replayed.shape)},
        )
    both_nan = np.isnan(fitted) & np.isnan(replayed)
    diff = np.where(both_nan, 0.0, np.abs(fitted - replayed))
    diff = np.where(np.isnan(diff), np.inf, diff)
    worst = float(diff.max()) if diff.size else 0.0
    rows_differ = int((diff > (limit.warn or 0.0)).any(axis=1).sum())
    worst_col = int(np.unravel_index(diff.argmax(), diff.shape)[1]) if diff.size else None
    return judge(
        "preprocessing_parity",
        worst,
        limit.warn,
        limit.fail,
        f"shipped preprocessing replayed on {len(fitted):,} raw training rows: max |difference| {worst:.3g} "
        f"({rows_differ:,} rows differ)",
        evidence={"rows_differ": rows_differ, "worst_feature_index": worst_col},
    )
