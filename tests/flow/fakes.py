"""Stand-in stage functions for testing the flow's gating without real data or models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tasks.errors import ConfigError
from tasks.result import Finding, Severity, StageOutput

LOG = "glassbox.log"  # glassbox_process's output, in the project


def placeholder_inputs(root: Path, inputs: dict) -> None:
    """Two-row files with every column params names, where `inputs` points: stand-in stages read nothing, but a
    run checks the inputs' form before it starts."""
    columns = [*(inputs.get("features") or []), inputs["target"], inputs.get("id"), inputs.get("timestamp")]
    frame = pd.DataFrame({c: [0, 1] for c in columns if c})
    for role in ("train", "test", "current"):
        path = root / inputs[role]
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False) if path.suffix == ".parquet" else frame.to_csv(path, index=False)


def small_project(root: Path) -> Path:
    """A real project of 900 rows (two numbers, a category, an honest binary target) for whole-flow runs that
    only need every stage to do its work quickly; returns its params file."""
    rng = np.random.default_rng(5)
    n = 900
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(5e4, 1e4, n).round(2),
            "city": rng.choice(["oslo", "lima", "pune"], n),
        }
    )
    df["y"] = (df.income + rng.normal(0, 1e4, n) > 5e4).astype(int)
    for name, part in (("train", df[:500]), ("test", df[500:700]), ("current", df[700:])):
        part.to_csv(root / f"{name}.csv", index=False)
    params = {
        "inputs": {"train": "train.csv", "test": "test.csv", "current": "current.csv", "target": "y"},
        "snapshot": {"demo": False},
        "tracking": {"tracking_uri": "sqlite:///mlflow.db", "artifact_root": "mlartifacts"},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root / "params.yaml"


def glassbox_process(root: Path, *command: str) -> subprocess.Popen:
    """`glassbox COMMAND` in the project, in a session of its own (so kill -9 reaches every process it started),
    its output appended to `root/glassbox.log` (a pipe nobody reads would fill up and stall it)."""
    with (root / LOG).open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *command, "--params", "params.yaml", "--out", "reports"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def log_tail(root: Path, lines: int = 20) -> str:
    path = root / LOG
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


def passes(ctx) -> StageOutput:
    (ctx.dir / "evidence.txt").write_text(f"{ctx.name} ran in {ctx.run_id}\n")
    return StageOutput(
        findings=[Finding(check="ok", severity=Severity.info, message="fine")],
        artifacts=["evidence.txt"],
        metrics={"value": 1.0},
    )


def fails(ctx) -> StageOutput:
    return StageOutput(findings=[Finding(check="planted", severity=Severity.fail, message="planted failure")])


def bad_input(ctx) -> StageOutput:
    raise ConfigError("data/x.csv: column 'age' (feature) not found; expected a number")
