"""Target values: the label column holds a binary label in every labelled file. glassbox judges binary
classifiers; a third value (a `2`, a `maybe`, a typo of the positive value), labels missing from the training
snapshot or the trusted test set, or a training snapshot with one class leave nothing a model can be fitted or
scored on, whatever the later layers would say. The current batch may be unlabelled traffic: its missing labels
are expected, its labels, where present, must still be binary.

A label is 0/1 (true/false), or, with `inputs.positive_label`, that value (1) and one other (0): which value means
1 is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tasks import checks
from tasks.frames import label_codes
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs

UNLABELLED_OK = ("current",)  # traffic: its labels arrive later, or never
BOTH_CLASSES = ("train",)  # a model is fitted on it; a one-class test set is evaluation's (test_labels)


@dataclass(frozen=True)
class Labels:
    frame: str
    rows: int
    missing: int
    ones: int
    zeros: int
    bad: tuple[tuple[str, int], ...]  # (value, rows) for each value that is not a label's


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    target: str
    positive: str | int | bool | None
    frames: tuple[Labels, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{f.frame}.bad_rows": float(sum(n for _, n in f.bad) + f.missing) for f in self.frames}


def _labels(name: str, y: pd.Series, positive: str | int | bool | None, negative: str | None) -> Labels:
    codes, bad = label_codes(y, positive, negative)
    counts = y.dropna().astype(str).str.strip().value_counts()
    return Labels(
        frame=name,
        rows=len(y),
        missing=int(y.isna().sum()),
        ones=int((codes == 1).sum()),
        zeros=int((codes == 0).sum()),
        bad=tuple((v, int(counts.get(v, 0))) for v in bad),
    )


def measure(x: DataInputs, p: checks.NoParams) -> Measurement:
    frames = {"train": x.train, **x.batches}
    negative = _negative(x.train[x.target], x.positive_label) if x.target in x.train else None
    return Measurement(
        target=x.target,
        positive=x.positive_label,
        frames=tuple(
            _labels(n, df[x.target], x.positive_label, negative) for n, df in frames.items() if x.target in df
        ),
    )


def _negative(y: pd.Series, positive: str | int | bool | None) -> str | None:
    """The value that means 0 when positive_label names the 1: the training snapshot's one other value."""
    if positive is None:
        return None
    codes, bad = label_codes(y, positive)
    others = {str(v).strip() for v in y[codes == 0].dropna().unique()}
    return others.pop() if len(others) == 1 and not bad else None


def judge(m: Measurement, p: checks.NoParams) -> list[Finding]:
    """Fail on values that are not a binary label, on missing labels where every row needs one, and on a
    training snapshot with one class; info with the class counts otherwise."""
    column = f"column {m.target!r} (target)"
    expected = (
        "0/1" if m.positive is None else f"{m.positive!r} (1) and one other value (0), as inputs.positive_label says"
    )
    findings: list[Finding] = []
    for f in m.frames:
        evidence = {"frame": f.frame, "rows": f.rows, "missing": f.missing, "ones": f.ones, "zeros": f.zeros}
        problems: list[str] = []
        if f.bad:
            shown = ", ".join(f"{v[:40]!r} ({n} rows)" for v, n in f.bad[:5])
            problems.append(f"values that are not a binary label: {shown}; expected {expected}")
        if f.missing and f.frame not in UNLABELLED_OK:
            problems.append(f"{f.missing} of {f.rows} rows have no label; every row of it needs one")
        if f.frame in BOTH_CLASSES and not f.bad and min(f.ones, f.zeros) == 0:
            only = 1 if f.ones else 0
            problems.append(f"one class only (every label is {only}): a classifier needs both")
        if problems:
            findings.append(
                Finding(
                    check="target_values",
                    severity=Severity.fail,
                    message=f"{f.frame}: {column} has " + "; ".join(problems),
                    evidence=evidence | {"bad_values": dict(f.bad[:20])},
                )
            )
        else:
            labelled = f.ones + f.zeros
            rate = f"{100 * f.ones / labelled:.1f}% positive" if labelled else "no labels"
            findings.append(
                Finding(
                    check="target_values",
                    severity=Severity.info,
                    message=f"{f.frame}: {column} is a binary label on {labelled} of {f.rows} rows ({rate})",
                    evidence=evidence,
                )
            )
    return findings
