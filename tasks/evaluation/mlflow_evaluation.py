"""`mlflow.models.evaluate` on the trusted test set, so the run carries MLflow's own metrics and plots.

The default evaluator takes labels from the sklearn model's `predict` (the arg-max, a 0.5 cut) and
probabilities from its `predict_proba`. To put the confusion matrix and label metrics at
`evaluation.threshold`, the candidate is wrapped in sklearn's FixedThresholdClassifier around a
FrozenEstimator (nothing is refitted) and saved to a temporary folder for the evaluator; the results are
linked to the candidate's logged model by its id.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

# Shap's evaluator is off: it is not installed, and on pandas 3 it crashes on `str` feature columns
# before it gets to checking for the package.
EVALUATOR_CONFIG = {"pos_label": 1, "label_list": [0, 1], "log_model_explainability": False}
SUMMARY_FILE = "mlflow_evaluate.json"


@contextmanager
def _quiet_pickle_warning() -> Iterator[None]:
    """MLflow warns on every pickled save that loading a pickle runs its code: true of files from elsewhere, not
    of the one this process writes for itself and deletes."""
    logger = logging.getLogger("mlflow.sklearn")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def thresholded(model: Any, X: pd.DataFrame, y: pd.Series, threshold: float) -> Any:
    """The fitted model with its decision cut at `threshold`; probabilities unchanged, nothing refitted."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    clf = FixedThresholdClassifier(FrozenEstimator(model), threshold=threshold, response_method="predict_proba")
    return clf.fit(X, y)  # a frozen estimator ignores fit: this only records the classes


def evaluate_on_run(
    model: Any,
    model_id: str | None,
    data: pd.DataFrame,
    features: list[str],
    target: str,
    threshold: float,
    out: Path,
) -> tuple[dict[str, float], list[str]]:
    """Evaluate on the active MLflow run; copy the plots and a metrics summary into `out` as stage artifacts.
    Returns MLflow's metrics and the names of the files written."""
    import mlflow
    import sklearn

    clf = thresholded(model, data[features], data[target], threshold)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        # Pickled, not skops: this copy is written and read back by this process only, never shipped, and skops
        # (a dump to list the types to trust, then the save) took 47 s of a 1,000-tree forest's evaluation.
        with _quiet_pickle_warning():
            mlflow.sklearn.save_model(
                clf,
                str(path),
                serialization_format="cloudpickle",
                pyfunc_predict_fn="predict_proba",
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            )
        result = mlflow.models.evaluate(
            str(path),
            data=data[[*features, target]],
            targets=target,
            model_type="classifier",
            evaluators="default",
            evaluator_config=EVALUATOR_CONFIG,
            model_id=model_id,
        )
    metrics = {k: float(v) for k, v in result.metrics.items() if isinstance(v, int | float) or hasattr(v, "item")}
    files = []
    for artifact in result.artifacts.values():
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=artifact.uri, dst_path=str(out)))
        files.append(local.name)
    summary = {"threshold": threshold, "model_id": model_id, "metrics": metrics, "artifacts": sorted(files)}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return metrics, sorted([*files, SUMMARY_FILE])
