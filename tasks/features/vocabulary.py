"""Text features reach the model through a vocabulary fitted on the training text: a token outside it is
invisible to the model. Serving text tokenized or written another way shows as a jump in the share of
unknown tokens; a model shipped with another vocabulary shows as a different vocabulary fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from tasks.params import FeaturesParams
from tasks.result import Finding, Severity, judge, severity_for


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


@dataclass
class TokenCount:
    """Tokens of a batch's text column against a vocabulary."""

    tokens: int = 0
    unknown: Counter = field(default_factory=Counter)
    rows: int = 0
    rows_with_unknown: int = 0

    @property
    def share(self) -> float:
        return sum(self.unknown.values()) / self.tokens if self.tokens else 0.0


def count_tokens(vectorizer: Any, docs: pd.Series) -> TokenCount:
    """Tokenize each distinct document once with the vectorizer's own analyzer, weighted by its count."""
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    out = TokenCount()
    for doc, n in docs.dropna().astype(str).value_counts().items():
        tokens = analyze(doc)
        unknown = [t for t in tokens if t not in vocabulary]
        out.tokens += n * len(tokens)
        out.rows += n
        if unknown:
            out.rows_with_unknown += n
            out.unknown.update({t: n * k for t, k in Counter(unknown).items()})
    return out


def oov_share(
    column: str, vectorizer: Any, trained: TokenCount, batch: pd.Series, p: FeaturesParams, batch_name: str
) -> Finding:
    """Share of the batch's tokens outside the vocabulary, judged by its excess over training's own share
    (which is not 0 when the vocabulary is bounded: the rarest training tokens are left out)."""
    served = count_tokens(vectorizer, batch)
    excess = served.share - trained.share
    examples = [t for t, _ in served.unknown.most_common(10)]
    limit = p.oov_share
    message = (
        f"{batch_name}: {served.share:.1%} of the tokens of {column!r} are outside the training vocabulary "
        f"({len(vectorizer.vocabulary_)} tokens; training's own text {trained.share:.1%}), in "
        f"{served.rows_with_unknown / max(served.rows, 1):.1%} of rows"
        + (f"; unknown tokens e.g. {', '.join(map(repr, examples[:6]))}" if examples else "")
    )
    if severity_for(excess, limit.warn, limit.fail) is not Severity.info:
        message += ": serving text is written or tokenized differently from the text the model learned"
    return judge(
        "vocab_mismatch",
        excess,
        limit.warn,
        limit.fail,
        message,
        columns=[column],
        evidence={
            "batch": batch_name,
            "oov_share_serving": served.share,
            "oov_share_training": trained.share,
            "tokens": served.tokens,
            "rows_with_unknown": served.rows_with_unknown,
            "unknown_tokens": dict(served.unknown.most_common(10)),
            "vocabulary_size": len(vectorizer.vocabulary_),
        },
    )


def vocabulary_identity(shipped: dict[str, str], fitted: dict[str, str], what: str) -> list[Finding]:
    """The vocabulary the model will read text with must be the one fitted on training text, column by column.
    A difference is never a matter of degree: fail."""
    findings = []
    for col in sorted(set(shipped) | set(fitted)):
        same = shipped.get(col) == fitted.get(col)
        findings.append(
            Finding(
                check="vocab_mismatch",
                severity=Severity.info if same else Severity.fail,
                message=(
                    f"{what} tokenizes {col!r} with the vocabulary fitted on training text"
                    if same
                    else f"{what} tokenizes {col!r} with another vocabulary than the one fitted on training text "
                    f"(fingerprint {str(shipped.get(col))[:12]} vs {str(fitted.get(col))[:12]})"
                ),
                columns=[col],
                evidence={"shipped": shipped.get(col), "fitted": fitted.get(col)},
            )
        )
    return findings
