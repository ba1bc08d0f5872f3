"""The data behind the evaluation layer's pictures. MLflow's evaluation draws the confusion matrix, ROC, PR and
calibration curves on the run (tasks/evaluation/mlflow_evaluation.py); these are the same curves as tables, from
the same scores and threshold, written beside them under the same names (`roc_curve_plot.png` and
`roc_curve_plot.csv`), so a program can read what a person sees and no curve is drawn twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from tasks.csv_safe import write_csv
from tasks.evaluation.scoring import labels_at

CALIBRATION_BINS = 10  # equal-width score bins, as MLflow's calibration plot


def confusion_table(y: np.ndarray, scores: np.ndarray, threshold: float) -> pd.DataFrame:
    """Counts of each (actual, predicted) pair at the threshold, long form."""
    y, pred = np.asarray(y).astype(int), labels_at(scores, threshold)
    return pd.DataFrame(
        [(a, p, int(((y == a) & (pred == p)).sum()), threshold) for a in (0, 1) for p in (0, 1)],
        columns=["actual", "predicted", "count", "threshold"],
    )


def roc_table(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    fpr, tpr, thresholds = roc_curve(y, scores)
    return pd.DataFrame(
        {"threshold": np.minimum(thresholds, 1.0), "false_positive_rate": fpr, "true_positive_rate": tpr}
    )


def pr_table(y: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    precision, recall, thresholds = precision_recall_curve(y, scores)
    return pd.DataFrame({"threshold": np.r_[thresholds, np.nan], "precision": precision, "recall": recall})


def calibration_table(y: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Per equal-width score bin: rows, mean score, observed positive share (empty bins left out)."""
    y, s = np.asarray(y).astype(float), np.asarray(scores, dtype="float64")
    which = np.clip((s * bins).astype(int), 0, bins - 1)
    rows = [
        (k / bins, (k + 1) / bins, int(m.sum()), float(s[m].mean()), float(y[m].mean()))
        for k in range(bins)
        if (m := which == k).any()
    ]
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "rows", "mean_score", "positive_share"])


def curve_tables(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, pd.DataFrame]:
    """File stem -> table; the curves need both classes (with one, only the confusion matrix)."""
    tables = {"confusion_matrix": confusion_table(y, scores, threshold)}
    if len(np.unique(np.asarray(y).astype(int))) == 2:
        tables |= {
            "roc_curve_plot": roc_table(y, scores),
            "precision_recall_curve_plot": pr_table(y, scores),
            "calibration_curve_plot": calibration_table(y, scores),
        }
    return tables


def write_tables(out: Path, tables: dict[str, pd.DataFrame]) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    for stem, table in tables.items():
        write_csv(table, out / f"{stem}.csv")
    return [f"{stem}.csv" for stem in tables]
