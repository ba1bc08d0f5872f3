"""The data layer's inputs record: prepared once by the stage, read by every check (and by users' own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.data.outcomes import Validation

BATCHES = ("test", "current")


@dataclass(frozen=True)
class Suite:
    """One stored baseline suite, as its meta describes it (empty fields for a suite written by hand)."""

    name: str
    file: str
    expectations: int
    train_md5: str | None = None  # the training snapshot it was written from
    built_from: str | None = None
    features: tuple[str, ...] | None = None  # the features it was written for


@dataclass(frozen=True)
class Baseline:
    """The reviewed baseline in `data.suite_dir/expectations/`: the GX suites `inputs` and `target`, and the
    reference label profile the target suite stores in its meta (`label_profile`, with the label-noise
    reference share under `label_noise`). The data stage only reads it; `glassbox baseline` writes it.

    `written` names the files this run wrote because they were missing (`data.baseline_bootstrap`), with the
    lines `write_baseline` printed; `missing` the files still absent (bootstrap off)."""

    dir: str
    suites: dict[str, Suite] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    label_profile: dict[str, Any] | None = None

    @property
    def label_noise_reference(self) -> dict[str, Any] | None:
        """The label-noise share recorded with the profile ({rows, flagged_share, auc}), if any."""
        return (self.label_profile or {}).get("label_noise")

    @property
    def profile_md5(self) -> str | None:
        """The training snapshot the label profile was recorded from (the target suite's)."""
        target = self.suites.get("target")
        return target.train_md5 if target else None


@dataclass(frozen=True)
class DataInputs:
    """The snapshots and the baseline they are judged against.

    `train` is the training snapshot, `batches` the frames judged against it, by name, in order (the trusted
    test set, the current batch). `labels` / `batch_labels` are their targets as 0/1 (None when absent or not
    0/1). `features` / `categorical` / `numeric` are the contract's roles (text columns are neither category
    nor number here: the features layer checks text). `files` / `pinned` are the input files and the md5
    params pins them to (a `.dvc` sidecar pins the others); `train_md5` is the training file's md5.
    `baseline` is the reviewed baseline as read (or just written); `validations` the GX results of each batch
    against its suites (empty without a baseline). `sample_rows` / `drift_reference_rows` / `seed` bound the
    cost of the checks that fit a model or compare distributions; `normalization_tolerance` is the features
    layer's "looks normalized" rule, whose columns the data checks leave to it.
    """

    train: pd.DataFrame
    batches: dict[str, pd.DataFrame]
    target: str
    id: str | None
    timestamp: str | None
    features: list[str]
    categorical: list[str]
    numeric: list[str]
    labels: pd.Series | None
    batch_labels: dict[str, pd.Series | None]
    files: dict[str, Path]
    pinned: dict[str, str | None]
    train_md5: str | None
    baseline: Baseline
    validations: dict[str, Validation] = field(default_factory=dict)
    sample_rows: int = 20_000
    drift_reference_rows: int = 50_000
    seed: int = 0
    normalization_tolerance: float = 0.1
    positive_label: str | int | bool | None = None  # the target value that means 1, when it is not 0/1
    min_rows: float | None = None  # a batch with fewer rows is row_count's fail; distributions leave it unjudged
