"""The faults glassbox plants into the demo, with the layer, check and severity that must catch each one
(the contract `glassbox inject` and tests/flow/test_faults.py assert)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tasks.demo import plants
from tasks.demo.plants import Frames
from tasks.result import Severity


@dataclass(frozen=True)
class Fault:
    id: str
    layer: str  # the stage where the root cause lives: the first failing stage of the run
    check: str  # the check that must report it there
    severity: Severity
    description: str  # the bug, as FAULTS.md states it
    plant: Callable[[Frames, np.random.Generator], Frames]
    # Columns the faulty project uses as features on top of the project's own (`inputs.features`).
    extra_features: tuple[str, ...] = ()
    # The training pin stays the clean snapshot's md5 (the fault is a different file behind the same pin).
    keeps_training_pin: bool = False
    # The test pin stays the clean trusted test set's md5 (the test file was regenerated behind its pin).
    keeps_test_pin: bool = False
    # What the faulty project's params.yaml sets, dotted key -> value, replacing the value at that key (a fault
    # of configuration: an unseeded model, a threshold copied from another model, a learning rate too high).
    params: Mapping[str, Any] = field(default_factory=dict)
    # The reviewed baseline was written with the fault already in the data (it was there from day one), so the
    # project's baseline is not copied: the data stage's first run writes it from the planted training snapshot
    # (data.baseline_bootstrap).
    there_from_day_one: bool = False

    @property
    def planted(self) -> str:
        """How it is planted into the demo: the first line of the planting function's docstring."""
        return " ".join((self.plant.__doc__ or "").split())


def _f(id_: str, layer: str, check: str, description: str, severity: Severity = Severity.fail, **kw) -> Fault:
    return Fault(id_, layer, check, severity, description, getattr(plants, id_), **kw)


FAULTS: dict[str, Fault] = {
    f.id: f
    for f in (
        _f(
            "covariate_shift", "data", "covariate_shift", "a feature's distribution at serving moved away from training"
        ),
        _f("label_noise", "data", "label_noise", "a share of training labels are wrong"),
        _f(
            "feature_leakage",
            "data",
            "feature_leakage",
            "a feature encodes the target (near-perfect alone)",
            extra_features=("arr_delay",),
            there_from_day_one=True,
        ),
        _f("schema_change", "data", "schema_change", "a column renamed, dropped, added or its type changed"),
        _f("missing_spike", "data", "missing_spike", "nulls appear in a column that had few or none"),
        _f("duplicate_rows", "data", "duplicate_rows", "the same rows repeated in training"),
        _f("split_overlap", "training", "split_overlap", "rows of the test set are also in the training set"),
        _f("label_shift", "data", "label_shift", "class priors changed between training and now"),
        _f(
            "inconsistent_values",
            "data",
            "inconsistent_values",
            "the same category spelled several ways, or a unit change (cm to m)",
        ),
        _f("target_logic_changed", "data", "target_logic_changed", "the label definition changed in a new snapshot"),
        _f(
            "wrong_data_version",
            "data",
            "wrong_data_version",
            "retraining picked up another snapshot than the one pinned",
            keeps_training_pin=True,
        ),
        _f(
            "normalization_skew",
            "features",
            "normalization_skew",
            "scaling applied in training but not at serving",
            there_from_day_one=True,  # the training pipeline always scaled: its contract is of scaled snapshots
        ),
        _f("vocab_mismatch", "features", "vocab_mismatch", "text tokenized with another vocabulary at serving"),
        _f(
            "timezone_shift", "features", "timezone_shift", "timestamps shifted by whole hours, or naive vs aware mixed"
        ),
        _f("unseen_categories", "features", "unseen_categories", "categories at serving that training never saw"),
        _f("out_of_range", "features", "out_of_range", "impossible values at runtime (negative ages)"),
        # training faults (FAULTS.md order)
        # evaluation faults (FAULTS.md order)
    )
}


def list_faults() -> list[Fault]:
    """Every fault `glassbox inject` can plant, in the order of FAULTS.md."""
    return list(FAULTS.values())
