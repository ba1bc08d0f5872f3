"""The shipped preprocessing artifact: saved and loaded with skops, its output as a dense matrix, and that
matrix's fingerprint (the training stage proves it trains on exactly the features validated here)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np


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
