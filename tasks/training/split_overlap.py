"""Split overlap: rows of the trusted test set that are also training rows. Every score on such rows measures
memory, not generalisation, so a leak of test rows into training flatters the candidate and voids its
comparison with the champion. Checked by key (`inputs.id`) and by a hash of the feature and target columns
(a copied row whose id was regenerated does not hide).

Without a key, a test row can match a training row by nature (few-valued columns): under no leak the share of
test rows with a training twin estimates the same thing as the share of training rows with a twin within
training, so only their difference beyond its sampling error (both samples' binomial errors) is judged. A
small leak into a table whose rows mostly repeat anyway cannot be told from that, and the finding says how large
a leak could hide there."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.columns import EXAMPLES, is_datetime
from tasks.limits import Limit
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.training.inputs import TrainingInputs


class Params(checks.CheckParams):
    key_share: Limit = Field(
        Limit(warn=0.0, fail=0.001),
        description="share of trusted test rows whose key (inputs.id) is also in training: any is a leak",
    )
    row_excess: Limit = Field(
        Limit(warn=0.002, fail=0.01),
        description="share of trusted test rows identical (feature and target columns) to a training row, beyond "
        "the share of training rows that repeat within training (rows repeat naturally when columns take few "
        "values)",
    )
    sigmas: float = Field(
        3.0,
        ge=0.0,
        description="standard errors (binomial, from the test and training sizes) the row excess must also exceed",
    )


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    test_rows: int
    key: str | None  # the key matched by (None: no inputs.id in both files)
    by_key: int  # test rows whose key is in training
    by_row_hash: int  # test rows whose feature+target hash is in training
    either: int
    hashed_columns: tuple[str, ...]
    training_twin_share: float  # share of training rows with an identical twin within training
    train_rows: int
    examples: tuple[str, ...]  # keys (or test row labels) of overlapping rows

    @property
    def by_key_share(self) -> float:
        return self.by_key / self.test_rows if self.test_rows else 0.0

    @property
    def by_row_hash_share(self) -> float:
        return self.by_row_hash / self.test_rows if self.test_rows else 0.0

    @property
    def either_share(self) -> float:
        return self.either / self.test_rows if self.test_rows else 0.0

    @property
    def row_excess(self) -> float:
        """The full-row share beyond what training's own repetition explains."""
        return max(0.0, self.by_row_hash_share - self.training_twin_share)

    @property
    def noise(self) -> float:
        """Standard error of the excess when nothing leaked: the two shares' binomial errors."""
        p = self.training_twin_share
        if not self.test_rows or not self.train_rows:
            return 0.0
        return math.sqrt(p * (1 - p) * (1 / self.test_rows + 1 / self.train_rows))

    def hidden_leak(self, sigmas: float) -> float:
        """The share of test rows that could be copied into training unseen: a copied row adds to the excess
        only when it would have had no twin by nature (1 - twin share of them)."""
        room = 1.0 - self.training_twin_share
        return min(1.0, sigmas * self.noise / room) if room > 0 else 1.0

    def metrics(self) -> dict[str, float]:
        return {"by_key_share": self.by_key_share, "row_excess": self.row_excess}


def row_hashes(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One hash per row of `columns`, comparable across files: numbers as float64 (an int column read back
    as float is the same value), datetimes as UTC text, everything else as text (NaN hashes alike on both
    sides)."""
    normal = pd.DataFrame(index=df.index)
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            normal[col] = s.astype("float64")
        elif is_datetime(s):
            normal[col] = pd.to_datetime(s, utc=True).astype(str)
        else:
            normal[col] = s.astype(str)
    return pd.util.hash_pandas_object(normal, index=False)


def twin_share(hashes: pd.Series) -> float:
    """Share of rows that have an identical twin within the same set: how often the data repeats itself."""
    return float(hashes.duplicated(keep=False).mean()) if len(hashes) else 0.0


def measure(x: TrainingInputs, p: Params) -> Measurement:
    train, test = x.train, x.test
    key = x.key if x.key and x.key in train.columns and x.key in test.columns else None
    columns = [c for c in [*x.features, x.target] if c in train.columns and c in test.columns]
    key_rows = pd.Series(False, index=test.index)
    if key:
        key_rows = test[key].isin(train[key].dropna()) & test[key].notna()
    if columns:
        train_hashes, test_hashes = row_hashes(train, columns), row_hashes(test, columns)
        hash_rows, natural = test_hashes.isin(train_hashes), twin_share(train_hashes)
    else:  # nothing in common to hash: only the key can tell
        hash_rows, natural = pd.Series(False, index=test.index), 0.0
    either = key_rows | hash_rows
    examples = test.loc[either, key].astype(str) if key else pd.Series(test.index[either].astype(str))
    return Measurement(
        test_rows=len(test),
        key=key,
        by_key=int(key_rows.sum()),
        by_row_hash=int(hash_rows.sum()),
        either=int(either.sum()),
        hashed_columns=tuple(columns),
        training_twin_share=natural,
        train_rows=len(train),
        examples=tuple(examples.head(EXAMPLES).tolist()),
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """The worse of the two verdicts: a shared key, or identical rows beyond training's own repetition."""
    beyond_noise = m.row_excess > p.sigmas * m.noise
    by_rows = p.row_excess.severity(m.row_excess) if beyond_noise else Severity.info
    severity = max(p.key_share.severity(m.by_key_share), by_rows)
    key_part = f"{m.by_key:,} by key {m.key!r}" if m.key else "no key (inputs.id) to match by"
    message = (
        f"{m.either:,} of {m.test_rows:,} trusted test rows ({m.either_share:.2%}) are also in training: "
        f"{key_part}, {m.by_row_hash:,} ({m.by_row_hash_share:.2%}) by a hash of {len(m.hashed_columns)} feature "
        f"and target columns, where {m.training_twin_share:.2%} ± {m.noise:.2%} is expected from rows "
        "repeating within training"
    )
    hidden = m.hidden_leak(p.sigmas)
    if not m.key and not beyond_noise and hidden >= 0.01:
        message += (
            f"; with no key, a leak of up to {hidden:.0%} of the test rows would hide in that repetition "
            "(set inputs.id to match by key)"
        )
    if severity is not Severity.info:
        message += "; test scores on these rows measure memory, not generalisation: remove them from training"
    return [
        Finding(
            severity=severity,
            message=message,
            columns=[m.key] if m.key and m.by_key else [],
            evidence={
                "test_rows": m.test_rows,
                "by_key": m.by_key,
                "by_key_share": m.by_key_share,
                "by_row_hash": m.by_row_hash,
                "by_row_hash_share": m.by_row_hash_share,
                "training_twin_share": m.training_twin_share,
                "by_row_hash_excess": m.row_excess,
                "excess_noise": m.noise,
                "hidden_leak_share": hidden,
                "hashed_columns": m.hashed_columns,
                "limits": {"key_share": p.key_share.model_dump(), "row_excess": p.row_excess.model_dump()},
                "examples": m.examples,
            },
        )
    ]
