"""A stage's result reused when nothing it depends on changed: a nightly run whose training data did not change
gets the candidate (and the training layer's verdicts on it) of the last run that fitted it, instead of fitting
the same model on the same rows again, the most expensive stage on a big table (453 s of a 1M-row run).

The key is everything the stage's result is a function of: the stage, the project's git commit (a tree with
uncommitted changes, or outside git, is never reused: its code is not pinned), glassbox's own source, the whole
validated params (any change: a new fit), the md5 of each data file it reads and the files of the earlier stages it
reads (the features layer's manifest: its fingerprint names the fitted preprocessing's output on training rows; the
skops file itself differs from save to save, its arrays named by object ids).
The key is an MLflow tag on the stage run that computed the result; a later run with the same key downloads that
run's evidence into its own stage folder, logs it on its own stage run (every run carries its evidence) and says
where it came from in a finding. `training.reuse_unchanged: false` always fits.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from tasks.params import Params
from tasks.provenance import Provenance, file_md5
from tasks.result import Finding, Severity, StageResult

KEY_TAG = "glassbox.cache_key"
REUSED_TAG = "glassbox.reused_from"
CHECK = "reused_result"
# stage -> the data files (inputs roles) and the earlier stages' files it reads
DEPENDS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "training": (("train", "test"), {"features": ("features.json",)}),
}
ERRORS = ("stage_error", "input_error", "check_error")


@functools.cache
def code_sha256() -> str:
    """glassbox's own source (the tasks and flows packages), as installed in this process."""
    import flows
    import tasks

    digest = hashlib.sha256()
    for package in (tasks, flows):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stage_key(name: str, params: Params, out: Path, provenance: Provenance) -> str | None:
    """The key of what stage `name` would compute now, or None when it is not reused (not a reusable stage, reuse
    off, a tree with uncommitted changes or outside git, a file it reads missing)."""
    if (
        name not in DEPENDS
        or not params.training.reuse_unchanged
        or not provenance.git_commit
        or provenance.git_dirty is not False
    ):
        return None
    roles, upstream = DEPENDS[name]
    parts: dict[str, str | None] = {
        "stage": name,
        "commit": provenance.git_commit,
        "code": code_sha256(),
        "params": params.sha256(),
        **{f"data.{role}": provenance.data_hashes.get(role) for role in roles},
    }
    for stage, files in upstream.items():
        for file in files:
            path = out / stage / file
            parts[f"{stage}/{file}"] = file_md5(path) if path.is_file() else "absent"
    if any(v is None for v in parts.values()):
        return None
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def earlier_run(key: str, name: str, experiment: str) -> str | None:
    """The latest finished stage run with this key and a verdict (not a crash) in the project's experiment."""
    import mlflow

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    runs = client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.`{KEY_TAG}` = '{key}' and tags.`glassbox.stage` = '{name}' "
        "and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=5,
    )
    for r in runs:
        if r.data.tags.get("glassbox.verdict") in ("pass", "warn", "fail"):
            return r.info.run_id
    return None


def reuse(key: str, name: str, stage_dir: Path, run_id: str, experiment: str) -> StageResult | None:
    """The earlier result with this key, its evidence downloaded into `stage_dir` and a finding that says where it
    came from; None when there is none or it cannot be read back whole (the stage then runs)."""
    import mlflow

    source = earlier_run(key, name, experiment)
    if source is None:
        return None
    try:
        mlflow.artifacts.download_artifacts(run_id=source, dst_path=str(stage_dir))
        earlier = StageResult.read(stage_dir / "result.json")
    except Exception:  # an artifact store that lost the files: fit again rather than fail
        for path in sorted(stage_dir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        return None
    if any(f.check in ERRORS for f in earlier.findings):
        return None
    mlflow.MlflowClient().set_tag(run_id, REUSED_TAG, source)
    note = Finding(
        check=CHECK,
        severity=Severity.info,
        message=f"reused the result of stage run {source} (glassbox run {earlier.run_id}): the same commit, code, "
        "params, data and earlier stages' files; its candidate was not fitted again (training.reuse_unchanged)",
        evidence={"stage_run": source, "glassbox_run": earlier.run_id, "key": key},
    )
    return earlier.model_copy(update={"findings": [*earlier.findings, note]})


def remember(key: str, run_id: str) -> None:
    import mlflow

    mlflow.MlflowClient().set_tag(run_id, KEY_TAG, key)
