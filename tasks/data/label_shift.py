"""Label shift: the class priors changed between training and now (another population, a changed policy).
A model calibrated on training priors is then off everywhere, even where the inputs look the same.
Judged by Cohen's h, an effect size: the same change in the late rate reads the same on 1,000 rows or 1M."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from tasks import checks
from tasks.data.row_count import judgeable
from tasks.data.stats import cohen_h
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.data.inputs import DataInputs


class Params(checks.CheckParams):
    cohen_h: Limit = Field(
        Limit(warn=0.2, fail=0.4),
        description="class priors, training vs a labelled batch: Cohen's h (clean splits <= 0.08; 12% -> 24% reads "
        "0.32, 12% -> 32% 0.50)",
    )


@dataclass(frozen=True)
class Priors:
    batch: str
    train_rate: float
    train_rows: int
    rate: float | None = None  # None: the batch has no 0/1 labels
    rows: int = 0

    @property
    def h(self) -> float | None:
        return None if self.rate is None else cohen_h(self.train_rate, self.rate)


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    target: str
    labelled: bool  # the training target is a 0/1 label
    priors: tuple[Priors, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{p.batch}.cohen_h": p.h for p in self.priors if p.h is not None}


def measure(x: DataInputs, p: Params) -> Measurement:
    if x.labels is None or x.labels.empty:
        return Measurement(x.target, False, ())
    before = float(x.labels.mean())
    priors = []
    for name in x.batches:
        y = x.batch_labels.get(name)
        if y is None or y.empty or not judgeable(len(y), x):  # too few labels: row_count's
            priors.append(Priors(name, before, len(x.labels), rows=0 if y is None else len(y)))
        else:
            priors.append(Priors(name, before, len(x.labels), float(y.mean()), len(y)))
    return Measurement(x.target, True, tuple(priors))


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Positive-class share in each batch vs training; info when a batch has no 0/1 labels."""
    if not m.labelled:
        return [Finding(severity=Severity.info, message=f"class priors not compared: `{m.target}` is not a 0/1 label")]
    findings = []
    for pr in m.priors:
        if pr.rate is None or pr.h is None:
            why = f"{pr.rows} labelled rows, too few to compare" if pr.rows else f"no 0/1 `{m.target}` labels"
            findings.append(
                Finding(
                    severity=Severity.info,
                    message=f"{pr.batch}: {why}: class priors not compared",
                    evidence={"batch": pr.batch},
                )
            )
            continue
        before, after, h, lim = pr.train_rate, pr.rate, pr.h, p.cohen_h
        findings.append(
            judged(
                h,
                lim,
                f"{pr.batch}: `{m.target}` = 1 in {100 * after:.1f}% of rows vs {100 * before:.1f}% in training "
                f"(class shares {1 - after:.3f} / {after:.3f} vs {1 - before:.3f} / {before:.3f}; Cohen's h "
                f"{h:.3f}, warn {lim.warn}, fail {lim.fail})",
                evidence={
                    "batch": pr.batch,
                    "train_shares": {"0": 1 - before, "1": before},
                    "batch_shares": {"0": 1 - after, "1": after},
                    "train_rows": pr.train_rows,
                    "batch_rows": pr.rows,
                    "cohen_h": h,
                },
            )
        )
    return findings
