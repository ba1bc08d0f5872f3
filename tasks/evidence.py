"""Evidence a person looks at and a program reads: every plot a stage logs is written twice from one table, as
a PNG (matplotlib, Agg backend: offline, no display) and as the CSV beside it. A stage lists the returned file
names in its artifacts, so both land on its MLflow run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.csv_safe import write_csv

__all__ = ["plot_bars", "plot_groups", "plot_histograms", "plot_lines", "plot_matrix"]


def _figure(title: str, xlabel: str, ylabel: str, size: tuple[float, float] = (6.4, 4.0)):  # noqa: ANN202 (pyplot types)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, dpi=100)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return plt, fig, ax


def _save(plt, fig, out: Path, name: str, table: pd.DataFrame) -> list[str]:  # noqa: ANN001 (pyplot types)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / f"{name}.csv")
    fig.tight_layout()
    fig.savefig(out / f"{name}.png")
    plt.close(fig)
    return [f"{name}.png", f"{name}.csv"]


def plot_lines(
    out: Path,
    name: str,
    table: pd.DataFrame,
    x: str,
    ys: Sequence[str],
    *,
    title: str,
    xlabel: str | None = None,
    ylabel: str = "",
    marks: Mapping[str, float] | None = None,
    bands: Mapping[str, tuple[str, str]] | None = None,
    logy: bool = False,
) -> list[str]:
    """One line per column of `ys` over `x`; `marks` are labelled vertical lines (a deployed and a best
    threshold), `bands` shade a line's interval (column -> (low column, high column))."""
    plt, fig, ax = _figure(title, xlabel or x, ylabel)
    for y in ys:
        ax.plot(table[x], table[y], marker="o" if len(table) <= 30 else None, markersize=3, label=y)
        if bands and y in bands:
            low, high = bands[y]
            ax.fill_between(table[x], table[low], table[high], alpha=0.2)
    for i, (label, at) in enumerate((marks or {}).items()):
        ax.axvline(at, color=f"C{len(ys) + i}", linestyle="--", label=f"{label} ({at:.3g})")
    if logy and bool((table[list(ys)].to_numpy(dtype="float64") > 0).all()):
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return _save(plt, fig, out, name, table)


def plot_bars(
    out: Path,
    name: str,
    table: pd.DataFrame,
    label: str,
    value: str,
    *,
    title: str,
    xlabel: str | None = None,
    low: str | None = None,
    high: str | None = None,
    line: float | None = None,
) -> list[str]:
    """Horizontal bars of `value` per `label` in the table's order (the first on top), with an interval from
    the `low` and `high` columns and a vertical reference `line` (a floor)."""
    height = max(2.5, 0.3 * len(table) + 1.2)
    plt, fig, ax = _figure(title, xlabel or value, "", size=(6.4, min(height, 12.0)))
    pos = np.arange(len(table))[::-1]
    err = None
    if low and high:
        v = table[value].to_numpy(dtype="float64")
        err = np.vstack([v - table[low].to_numpy(dtype="float64"), table[high].to_numpy(dtype="float64") - v])
        err = np.where(np.isfinite(err), np.clip(err, 0, None), 0.0)
    ax.barh(pos, table[value].to_numpy(dtype="float64"), xerr=err, color="C0", alpha=0.8)
    ax.set_yticks(pos, [str(v)[:40] for v in table[label]], fontsize=8)
    if line is not None:
        ax.axvline(line, color="C3", linestyle="--")
    return _save(plt, fig, out, name, table)


def plot_matrix(
    out: Path, name: str, matrix: np.ndarray, labels: Sequence[str], *, title: str, xlabel: str, ylabel: str
) -> list[str]:
    """A small count matrix (a confusion matrix) with its counts written in the cells; the CSV is long form."""
    plt, fig, ax = _figure(title, xlabel, ylabel, size=(4.2, 3.6))
    ax.grid(False)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    top = matrix.max() if matrix.size else 0
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, f"{v:,}", ha="center", va="center", color="white" if v > top / 2 else "black")
    table = pd.DataFrame(
        [(ylabel, labels[i], xlabel, labels[j], int(v)) for (i, j), v in np.ndenumerate(matrix)],
        columns=["row", "row_value", "column", "column_value", "count"],
    )
    return _save(plt, fig, out, name, table)


def plot_histograms(
    out: Path,
    name: str,
    samples: Mapping[str, np.ndarray],
    *,
    title: str,
    xlabel: str,
    logx: bool = False,
    bins: int = 40,
) -> list[str]:
    """Overlaid density histograms of samples on shared bins (training vs a batch, champion vs candidate), so
    shapes compare whatever the sample sizes. The bins span the pooled 0.5-99.5% range: one extreme value does
    not squash the picture (it is in the finding's numbers). `logx` bins on a log scale (latencies)."""
    clean = {k: v[np.isfinite(v)] for k, v in ((k, np.asarray(v, dtype="float64")) for k, v in samples.items())}
    pooled = np.concatenate([v for v in clean.values() if v.size] or [np.zeros(1)])
    if logx:
        pooled = pooled[pooled > 0] if (pooled > 0).any() else np.ones(1)
    low, high = np.quantile(pooled, [0.005, 0.995])
    high = high if high > low else low + 1.0
    edges = np.geomspace(low, high, bins + 1) if logx else np.linspace(low, high, bins + 1)
    plt, fig, ax = _figure(title, xlabel, "share of rows per bin")
    table = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:]})
    for label, v in clean.items():
        counts, _ = np.histogram(np.clip(v, low, high), edges)
        shares = counts / max(v.size, 1)
        table[label] = shares
        ax.stairs(shares, edges, fill=True, alpha=0.35, label=f"{label} ({v.size:,} rows)")
    if logx:
        ax.set_xscale("log")
    ax.legend(fontsize=8)
    return _save(plt, fig, out, name, table)


def plot_groups(
    out: Path, name: str, table: pd.DataFrame, label: str, values: Sequence[str], *, title: str, xlabel: str
) -> list[str]:
    """Grouped horizontal bars: one group per row of `table` (the first on top), one bar per column of
    `values` (a category's share in training and in a batch; a column's null share in each)."""
    height = max(2.5, 0.25 * len(table) * len(values) + 1.2)
    plt, fig, ax = _figure(title, xlabel, "", size=(6.4, min(height, 12.0)))
    pos = np.arange(len(table))[::-1].astype("float64")
    width = 0.8 / max(len(values), 1)
    for i, v in enumerate(values):
        ax.barh(pos + (len(values) / 2 - i - 0.5) * width, table[v].to_numpy(dtype="float64"), height=width, label=v)
    ax.set_yticks(pos, [str(v)[:40] for v in table[label]], fontsize=8)
    ax.legend(fontsize=8)
    return _save(plt, fig, out, name, table)
