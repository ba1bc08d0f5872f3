"""The text vectorizers inside a fitted pipeline and the fingerprint of their vocabularies: what the
vocab_mismatch check compares, and what the training and serving stages assert the model they load against."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline


def text_vectorizers(estimator: Any, column: str | None = None) -> dict[str, Any]:
    """The fitted vectorizers (anything with a `vocabulary_` and an analyzer) inside a pipeline, by the raw
    column each reads; nested Pipelines and ColumnTransformers are searched."""
    found: dict[str, Any] = {}
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            found.update(text_vectorizers(step, column))
    elif isinstance(estimator, ColumnTransformer) and hasattr(estimator, "transformers_"):
        for name, trans, cols in estimator.transformers_:
            if isinstance(trans, str):  # "drop" / "passthrough"
                continue
            cols = [cols] if isinstance(cols, str) else list(cols)
            found.update(text_vectorizers(trans, str(cols[0]) if len(cols) == 1 else name))
    elif hasattr(estimator, "vocabulary_") and hasattr(estimator, "build_analyzer"):
        found[column or type(estimator).__name__] = estimator
    return found


def _setting(value: Any) -> Any:
    """A vectorizer setting as stable text (callables by qualified name, not by memory address)."""
    if callable(value) and not isinstance(value, type):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def vocabulary_fingerprint(pipeline: Any) -> dict[str, str]:
    """sha256 per text column of its vectorizer's vocabulary (token -> feature index) and tokenizer settings:
    the same fingerprint means the same text reaches the model as the same features. Training and serving
    stages assert the model they load against the features stage's (in features.json)."""
    prints = {}
    for col, vec in sorted(text_vectorizers(pipeline).items()):
        blob = {
            "vocabulary": sorted((str(t), int(i)) for t, i in vec.vocabulary_.items()),
            "settings": {k: _setting(v) for k, v in sorted(vec.get_params().items())},
        }
        prints[col] = hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()
    return prints
