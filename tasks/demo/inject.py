"""`glassbox inject FAULT`: a self-contained faulty copy of the demo project in its own folder.

The folder holds the planted data files, a copy of the project's reviewed GX suite (the contract the fault is
judged against), its own MLflow store (a faulty model never reaches the project's registry) and a
params.yaml that points at all of it, with the snapshot stage off and the data files pinned as planted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from tasks.data.baseline import write_baseline
from tasks.demo.catalog import FAULTS, Fault, list_faults
from tasks.demo.flights import build_flights, package_data_dir, split_demo, write_snapshot
from tasks.errors import ConfigError
from tasks.params import Params, SnapshotParams, load_params
from tasks.provenance import file_md5

__all__ = ["inject", "list_faults", "write_clean", "clean_frames"]

PINNED = ("train", "test")  # the snapshots; the current batch is traffic and changes every day


@cache
def _built(snapshot_json: str) -> dict[str, pd.DataFrame]:
    snapshot = SnapshotParams.model_validate_json(snapshot_json)
    df, _ = build_flights(package_data_dir())
    return split_demo(df, snapshot)


def clean_frames(snapshot: SnapshotParams) -> dict[str, pd.DataFrame]:
    """The demo's train / test / current frames as the snapshot stage builds them (built once per process
    and settings; each call returns copies)."""
    return {name: df.copy() for name, df in _built(snapshot.model_dump_json()).items()}


def _project(project_params_path: Path) -> tuple[Params, dict, Path]:
    path = Path(project_params_path)
    params = load_params(path)
    if not params.snapshot.demo:
        raise ConfigError(f"{path}: snapshot.demo is false: faults are planted into the bundled demo only")
    return params, yaml.safe_load(path.read_text()), path.resolve().parent


def _suite_source(params: Params, root: Path) -> Path:
    suite = params.data.suite_dir if params.data.suite_dir.is_absolute() else root / params.data.suite_dir
    return suite.resolve()


def _write(
    frames: dict[str, pd.DataFrame],
    params: Params,
    raw: dict,
    root: Path,
    out_dir: Path,
    *,
    pins: dict[str, str] | None,
    extra_features: tuple[str, ...],
    header: str,
    dropped_features: tuple[str, ...] = (),
    settings: Mapping[str, Any] | None = None,
    suite: Literal["copy", "copy_if_any", "build"],
) -> Path:
    """Write the frames, the baseline and params.yaml. `suite`: copy the project's reviewed baseline (it must
    exist), copy it when there is one, or write it from the written training snapshot (the fault was there
    from day one: the reviewed contract is of faulty data)."""
    out_dir = Path(out_dir).resolve()
    suite_src = _suite_source(params, root)
    if out_dir == root or suite_src.is_relative_to(out_dir):
        raise ConfigError(f"{out_dir}: choose a folder outside the project (it would overwrite the project's files)")
    has_suite = any((suite_src / "expectations").glob("*.json"))
    if suite == "copy" and not has_suite:
        raise ConfigError(
            f"{suite_src / 'expectations'}: no reviewed GX suite to judge the fault against; "
            "run `glassbox baseline` on the clean demo first"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(out_dir / "gx", ignore_errors=True)
    inputs = params.inputs.model_copy(update={name: data / f"{name}.parquet" for name in ("train", "test", "current")})
    write_snapshot(frames, inputs)
    if has_suite and suite != "build":
        shutil.copytree(suite_src, out_dir / "gx", ignore=shutil.ignore_patterns("uncommitted", "__pycache__"))

    found = {name: file_md5(inputs.files()[name]) for name in PINNED}
    raw_inputs = dict(raw["inputs"])
    raw_inputs.update({name: str(path) for name, path in inputs.files().items()})
    raw_inputs["pins"] = {**found, **(pins or {})}
    if "labels" in frames:  # feedback that arrives after serving (a planting's own labels file), never a snapshot
        frames["labels"].to_parquet(data / "labels.parquet", index=False)
        raw_inputs["labels"] = str(data / "labels.parquet")
    if extra_features and raw_inputs.get("features") is not None:
        raw_inputs["features"] = [
            *raw_inputs["features"],
            *[c for c in extra_features if c not in raw_inputs["features"]],
        ]
    if dropped_features and raw_inputs.get("features") is not None:
        raw_inputs["features"] = [c for c in raw_inputs["features"] if c not in dropped_features]
    tracking = params.tracking
    written = {
        **raw,
        "inputs": raw_inputs,
        "tracking": {
            "tracking_uri": f"sqlite:///{out_dir / 'mlflow.db'}",
            "artifact_root": str(out_dir / "mlartifacts"),
            "experiment": tracking.experiment,
            "registered_model": tracking.registered_model,
        },
        "snapshot": {**raw.get("snapshot", {}), "demo": False},
        # The data files are written here, so no snapshot stage runs and it is no gate of this project.
        "gates": [g for g in params.gates if g != "snapshot"],
        "data": {**raw.get("data", {}), "suite_dir": str(out_dir / "gx")},
        # The project's own inference store, beside its data (a project written again starts an empty one).
        "monitoring": {**raw.get("monitoring", {}), "store": str(data / "inference_store")},
    }
    for dotted, value in (settings or {}).items():
        _set(written, dotted, value)
    planted = Params.model_validate(written)  # what we write must load
    path = out_dir / "params.yaml"
    path.write_text(header + yaml.safe_dump(written, sort_keys=False))
    if suite == "build" or not has_suite:
        write_baseline(planted, planted.inputs.train)
    return path


def _set(raw: dict, dotted: str, value: Any) -> None:
    """Replace the value at a dotted key of a params dict (sections on the way are created or copied)."""
    *path, last = dotted.split(".")
    node = raw
    for key in path:
        node[key] = dict(node.get(key) or {})
        node = node[key]
    node[last] = value


def _clean_files(frames: dict[str, pd.DataFrame], params: Params, names: list[str]) -> dict[str, tuple[str, bytes]]:
    """The md5 and bytes of each named clean snapshot file, written exactly as the snapshot stage writes it."""
    with tempfile.TemporaryDirectory(prefix="glassbox-clean-") as tmp:
        inputs = params.inputs.model_copy(update={n: Path(tmp) / f"{n}.parquet" for n in ("train", "test", "current")})
        write_snapshot(frames, inputs)
        return {name: (file_md5(inputs.files()[name]) or "", inputs.files()[name].read_bytes()) for name in names}


def _keep_in_dvc_cache(files: dict[str, tuple[str, bytes]], out_dir: Path) -> None:
    """The pinned versions' bytes where `dvc add` kept them on day one: the faulty project's DVC cache
    (`.dvc/cache/files/md5/xx/rest`), so a check can tell which rows of the file behind the pin changed."""
    dvc = Path(out_dir).resolve() / ".dvc"
    for md5, data in files.values():
        cached = dvc / "cache" / "files" / "md5" / md5[:2] / md5[2:]
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    if files and not (dvc / "config").exists():  # what `dvc init` leaves: an empty config, the cache ignored by git
        (dvc / "config").write_text("")
        (dvc / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")


@dataclass(frozen=True)
class Registry:
    """The faulty project's MLflow registry, for a planting that tampers with it (Fault.registry).
    `register(share)` trains the clean demo model as the training stage does, on the first `share` of its fit
    rows, logs it and registers a new version with the tags a run gives it (returns the version);
    `promote(version)` moves the deployment alias as glassbox's deployment stage does (and records it)."""

    client: Any
    name: str
    alias: str
    register: Callable[[float], str]
    promote: Callable[[str], None]


def _champion_registry(frames: dict[str, pd.DataFrame], project: Params, faulty_params: Path) -> Registry:
    import mlflow

    from tasks.deployment.registration import client, promote, register
    from tasks.frames import binary_target, categorical_columns, feature_columns
    from tasks.modeling import ModelRef, build_model, log_model
    from tasks.provenance import collect
    from tasks.tracking import configure
    from tasks.training.stage import validation_split

    faulty = load_params(faulty_params)
    inputs, train = project.inputs, frames["train"]
    features = feature_columns(inputs, train)
    categorical = categorical_columns(inputs, train, features)
    text = [c for c in features if c in inputs.text]
    numeric = [c for c in features if c not in categorical and c not in text]
    y = binary_target(train, inputs, inputs.train).to_numpy()
    fit, val = validation_split(train, inputs.timestamp, project.training.validation_fraction, project.model.seed)
    registry = client(faulty.tracking.uri)
    name, alias = faulty.tracking.registered_model, faulty.deployment.alias

    def register_share(share: float) -> str:
        rows = fit[: max(int(round(share * len(fit))), 1)]
        model = build_model(project.model, categorical, numeric, text).fit(train[features].iloc[rows], y[rows])
        previous = mlflow.get_tracking_uri()
        try:  # the registry finds the logged model through the global tracking URI: keep it until registered
            configure(faulty.tracking)
            with mlflow.start_run(run_name=f"champion (clean demo model on {share:.0%} of its fit rows)") as run:
                info = log_model(model, train[features].iloc[val])
            ref = ModelRef(info.model_uri, info.model_id, run.info.run_id, features, categorical, text)
            tags = {**collect(faulty).tags(), "glassbox_run_id": "inject-champion"}
            return str(register(registry, name, ref, tags).version)
        finally:
            mlflow.set_tracking_uri(previous)

    def promote_version(version: str) -> None:
        from tasks.deployment.registration import alias_holder

        promote(registry, name, alias, version, alias_holder(registry, name, alias))

    return Registry(registry, name, alias, register_share, promote_version)


def _register_champion(registry: Registry) -> None:
    """The clean demo model registered and promoted: the model in production before the faulty retrain."""
    registry.promote(registry.register(1.0))


def _git_init(out_dir: Path, *, commit: bool) -> None:
    """The faulty project is a git repository of its own (params.yaml and the reviewed suite committed; data
    and stores ignored), so its runs name its commit; `commit=False` leaves a fresh `git init` with nothing
    committed yet."""
    out_dir = Path(out_dir).resolve()
    shutil.rmtree(out_dir / ".git", ignore_errors=True)  # a project written again starts a new history
    ignored = ("data/", "mlflow.db", "mlartifacts/", "out/", "report/", "reports/", ".dvc/cache/", "gx/uncommitted/")
    (out_dir / ".gitignore").write_text("".join(f"{line}\n" for line in ignored))
    git = ["git", "-c", "user.name=glassbox inject", "-c", "user.email=inject@glassbox.invalid"]
    steps = [["git", "init", "-q"]]
    if commit:
        steps += [["git", "add", "-A"], [*git, "commit", "-qm", "faulty project written by glassbox inject"]]
    try:
        for cmd in steps:
            subprocess.run(cmd, cwd=out_dir, check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise ConfigError(f"{out_dir}: could not make the faulty project a git repository ({e})") from None


def inject(fault_id: str, project_params_path: Path | str, out_dir: Path | str, *, seed: int | None = None) -> Path:
    """Plant `fault_id` into the demo built with the project's settings and write a faulty project into
    `out_dir`; returns its params.yaml, ready for `glassbox run --params`."""
    fault: Fault | None = FAULTS.get(fault_id)
    if fault is None:
        raise ConfigError(f"unknown fault {fault_id!r}; known: {', '.join(FAULTS)}")
    params, raw, root = _project(Path(project_params_path))
    clean = clean_frames(params.snapshot)
    rng = np.random.default_rng(params.snapshot.seed if seed is None else seed)
    planted = fault.plant(clean, rng)
    kept = [name for name, keep in (("train", fault.keeps_training_pin), ("test", fault.keeps_test_pin)) if keep]
    kept_files = _clean_files(clean, params, kept)
    pins = {name: md5 for name, (md5, _) in kept_files.items()} or None
    set_here = "".join(f"# Set: {k} = {v!r}\n" for k, v in fault.params.items())
    header = (
        f"# glassbox inject {fault.id}: {fault.description}.\n"
        f"# Planted: {fault.planted}\n"
        f"{set_here}"
        f"# Expected: layer {fault.layer}, check {fault.check}, severity {fault.severity.value}.\n"
        + (
            f"# Champion: the clean demo model, registered as {params.tracking.registered_model}@"
            f"{params.deployment.alias} in this project's MLflow store.\n"
            if fault.champion
            else ""
        )
    )
    written = _write(
        planted,
        params,
        raw,
        root,
        Path(out_dir),
        pins=pins,
        extra_features=fault.extra_features,
        dropped_features=fault.dropped_features,
        header=header,
        settings=fault.params,
        suite="build" if fault.there_from_day_one else "copy",
    )
    _keep_in_dvc_cache(kept_files, Path(out_dir))  # after _write: out_dir is known to be outside the project
    _git_init(Path(out_dir), commit=fault.committed)
    if fault.champion or fault.registry is not None:
        registry = _champion_registry(clean, params, written)
        (fault.registry or _register_champion)(registry)
    return written


def write_clean(project_params_path: Path | str, out_dir: Path | str) -> Path:
    """The same layout with nothing planted: the control every fault is compared with. Without a stored
    baseline in the project, one is written from this clean training snapshot."""
    params, raw, root = _project(Path(project_params_path))
    header = "# glassbox: the clean demo in the layout of `glassbox inject` (nothing planted).\n"
    written = _write(
        clean_frames(params.snapshot),
        params,
        raw,
        root,
        Path(out_dir),
        pins=None,
        extra_features=(),
        header=header,
        suite="copy_if_any",
    )
    _git_init(Path(out_dir), commit=True)
    return written
