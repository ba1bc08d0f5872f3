"""The faults glassbox plants into the demo, with the layer, check and severity that must catch each one
(the contract `glassbox inject` and tests/flow/test_faults.py assert)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tasks.demo import plants
from tasks.demo.plants import Frames
from tasks.result import Severity

if TYPE_CHECKING:
    from tasks.demo.inject import Registry


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
    # The faulty project's MLflow store holds a champion: the clean demo model, registered under the deployment
    # alias (what production serves), for the planted candidate to be compared with.
    champion: bool = False
    # Features the faulty project's list leaves out (a refactor of the feature list lost them).
    dropped_features: tuple[str, ...] = ()
    # A planting of the registry instead of the default champion (registers and promotes versions itself, then
    # tampers with them: an alias moved by hand, a model's files deleted).
    registry: Callable[[Registry], None] | None = None
    # The faulty project's git repository has its files committed (False: `git init` and nothing committed).
    committed: bool = True

    @property
    def planted(self) -> str:
        """How it is planted into the demo: the first line of the planting function's docstring."""
        return " ".join((self.plant.__doc__ or "").split())


def _factory(name: str) -> dict[str, Any]:
    """A planted model of tasks/demo/plants.py in place of the demo's estimator, boosted as the demo is."""
    boosting = {"max_iter": 100, "learning_rate": 0.1, "max_depth": 5, "min_samples_leaf": 400}
    return {"model.estimator": None, "model.factory": f"tasks.demo.plants:{name}", "model.params": boosting}


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
        _f(
            "nondeterministic_training",
            "training",
            "nondeterministic_training",
            "the same data, seed and params give different models",
            params=_factory("undersampled_boosting"),
        ),
        _f(
            "unstable_training",
            "training",
            "unstable_training",
            "retraining with other seeds changes results a lot",
            severity=Severity.warn,
            params={
                "model.estimator": "sklearn.ensemble.RandomForestClassifier",
                "model.params": {"n_estimators": 3, "min_samples_leaf": 100},
            },
        ),
        _f(
            "overfitting",
            "training",
            "overfitting",
            "train score far above validation",
            params={
                "model.estimator": "sklearn.tree.DecisionTreeClassifier",
                "model.params": {"max_depth": None, "min_samples_leaf": 1},
            },
        ),
        _f(
            "class_imbalance",
            "training",
            "class_imbalance",
            "training classes badly unbalanced with no handling",
            severity=Severity.warn,
            there_from_day_one=True,
        ),
        _f(
            "loss_not_decreasing",
            "training",
            "loss_not_decreasing",
            "the loss curve does not go down, or activations collapse",
            params={
                "model.estimator": "sklearn.neural_network.MLPClassifier",
                "model.params": {"hidden_layer_sizes": [32], "learning_rate_init": 0.1, "max_iter": 50},
            },
        ),
        # evaluation faults (FAULTS.md order)
        _f(
            "wrong_metric",
            "evaluation",
            "wrong_metric",
            "accuracy used as the gate on heavily imbalanced data",
            severity=Severity.warn,
            params={"evaluation.metric": "accuracy", "training.metric": "accuracy"},
        ),
        _f(
            "bad_threshold",
            "evaluation",
            "bad_threshold",
            "the decision threshold is far from the one the cost matrix favours",
            params={"evaluation.threshold": 0.2},
        ),
        _f(
            "test_set_changed",
            "evaluation",
            "test_set_changed",
            "the trusted test set is not the one pinned on day one",
            keeps_test_pin=True,
        ),
        _f(
            "spurious_feature",
            "evaluation",
            "spurious_feature",
            "predictions rest on a feature that should not matter (an id, a row number)",
            extra_features=("index",),
            there_from_day_one=True,  # every file was exported that way: the reviewed contract has the column
        ),
        _f(
            "challenger_worse",
            "evaluation",
            "challenger_worse",
            "the new model is worse than the champion on the trusted set",
            champion=True,
            dropped_features=("sched_hour",),
        ),
        # serving faults (FAULTS.md order)
        _f(
            "serving_prediction_mismatch",
            "serving",
            "serving_prediction_mismatch",
            "the model server answers differently from the same model offline",
            params={**_factory("versioned_features"), "serving.env": {plants.FEATURES_VERSION: "2"}},
        ),
        _f(
            "serving_nan",
            "serving",
            "serving_nan",
            "the server returns NaN or nothing for some inputs",
            params=_factory("origin_calibrated"),
        ),
        _f(
            "serving_type_mismatch",
            "serving",
            "serving_type_mismatch",
            "the server receives a feature with the wrong type (strings for numbers)",
        ),
        # deployment faults (FAULTS.md order)
        _f(
            "wrong_model_deployed",
            "deployment",
            "wrong_model_deployed",
            "the served model is not the registered champion",
            registry=plants.alias_moved_by_hand,
        ),
        _f(
            "untagged_deployment",
            "deployment",
            "untagged_deployment",
            "a registered version carries no commit hash, or a dirty one",
            committed=False,
        ),
        _f(
            "broken_rollback",
            "deployment",
            "broken_rollback",
            "the previous version cannot be loaded or served",
            registry=plants.champion_files_deleted,
        ),
        _f(
            "latency_regression",
            "deployment",
            "latency_regression",
            "p99 latency over the budget",
            champion=True,
            params={
                "model.estimator": "sklearn.ensemble.RandomForestClassifier",
                "model.params": {"n_estimators": 500, "min_samples_leaf": 20, "max_samples": 0.05, "n_jobs": 1},
            },
        ),
        # monitoring faults (FAULTS.md order)
        _f("prediction_drift", "monitoring", "prediction_drift", "the distribution of predictions moved"),
        _f(
            "concept_drift",
            "monitoring",
            "concept_drift",
            "same inputs, other outcomes: performance on fresh labels fell",
        ),
        _f(
            "confidence_collapse",
            "monitoring",
            "confidence_collapse",
            "prediction confidence fell",
            severity=Severity.warn,
        ),
    )
}


def list_faults() -> list[Fault]:
    """Every fault `glassbox inject` can plant, in the order of FAULTS.md."""
    return list(FAULTS.values())
