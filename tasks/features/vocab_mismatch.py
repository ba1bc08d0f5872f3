"""Vocabulary mismatch: text features reach the model through a vocabulary fitted on the training text, and
a token outside it is invisible to the model. Two ways it breaks: the model ships with another vocabulary
than the one fitted (a different fingerprint: never a matter of degree, a fail), and serving text written or
tokenized differently (a jump in the share of unknown tokens over training's own share)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.features.inputs import FeatureInputs

SHOWN = 6  # unknown tokens named in a message
KEPT = 10  # unknown tokens kept with their counts


class Params(checks.CheckParams):
    oov_share: Limit = Field(
        Limit(warn=0.02, fail=0.1),
        description="share of a batch's tokens outside the training vocabulary, beyond training's own share",
    )


@dataclass
class TokenCount:
    """Tokens of a text column against a vocabulary."""

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


@dataclass(frozen=True)
class Identity:
    column: str
    shipped: str | None
    fitted: str | None


@dataclass(frozen=True)
class Unknown:
    batch: str
    column: str
    vocabulary_size: int
    training_share: float
    serving_share: float
    tokens: int
    rows_with_unknown_share: float
    unknown_tokens: dict[str, int]

    @property
    def excess(self) -> float:
        return self.serving_share - self.training_share


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    identities: tuple[Identity, ...]
    unknown: tuple[Unknown, ...]
    batches: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        out = {
            f"{b}.max_excess_oov_share": max((u.excess for u in self.unknown if u.batch == b), default=0.0)
            for b in self.batches
        }
        out["vocabularies_differ"] = float(sum(i.shipped != i.fitted for i in self.identities))
        return out


def measure(x: FeatureInputs, p: Params) -> Measurement:
    columns = sorted(set(x.shipped_vocabularies) | set(x.vocabularies))
    identities = tuple(Identity(c, x.shipped_vocabularies.get(c), x.vocabularies.get(c)) for c in columns)
    unknown = []
    for col, vec in x.vectorizers.items():
        if col not in x.train.columns:
            continue
        trained = count_tokens(vec, x.train[col])
        for name, batch in x.batches.items():
            if col not in batch.columns:
                continue
            served = count_tokens(vec, batch[col])
            unknown.append(
                Unknown(
                    batch=name,
                    column=col,
                    vocabulary_size=len(vec.vocabulary_),
                    training_share=trained.share,
                    serving_share=served.share,
                    tokens=served.tokens,
                    rows_with_unknown_share=served.rows_with_unknown / max(served.rows, 1),
                    unknown_tokens=dict(served.unknown.most_common(KEPT)),
                )
            )
    return Measurement(identities=identities, unknown=tuple(unknown), batches=tuple(x.batches))


def judge(m: Measurement, p: Params) -> list[Finding]:
    findings = []
    for i in m.identities:
        same = i.shipped == i.fitted
        findings.append(
            Finding(
                severity=Severity.info if same else Severity.fail,
                message=(
                    f"the shipped preprocessing tokenizes {i.column!r} with the vocabulary fitted on training text"
                    if same
                    else f"the shipped preprocessing tokenizes {i.column!r} with another vocabulary than the one "
                    f"fitted on training text (fingerprint {str(i.shipped)[:12]} vs {str(i.fitted)[:12]})"
                ),
                columns=[i.column],
                evidence={"shipped": i.shipped, "fitted": i.fitted},
            )
        )
    for u in m.unknown:
        examples = list(u.unknown_tokens)[:SHOWN]
        message = (
            f"{u.batch}: {u.serving_share:.1%} of the tokens of {u.column!r} are outside the training vocabulary "
            f"({u.vocabulary_size} tokens; training's own text {u.training_share:.1%}), in "
            f"{u.rows_with_unknown_share:.1%} of rows"
            + (f"; unknown tokens e.g. {', '.join(map(repr, examples))}" if examples else "")
        )
        if p.oov_share.severity(u.excess) is not Severity.info:
            message += ": serving text is written or tokenized differently from the text the model learned"
        findings.append(
            judged(
                u.excess,
                p.oov_share,
                message,
                columns=[u.column],
                evidence={
                    "batch": u.batch,
                    "oov_share_serving": u.serving_share,
                    "oov_share_training": u.training_share,
                    "tokens": u.tokens,
                    "unknown_tokens": u.unknown_tokens,
                    "vocabulary_size": u.vocabulary_size,
                },
            )
        )
    return findings
