"""The MLflow model registry: register the candidate as a new version, find and move the alias."""

from __future__ import annotations

import re
from typing import Any

from tasks.modeling import ModelRef
from tasks.result import Finding, Severity

# Registered-model tag: the version glassbox's last promotion moved the alias to. An alias found elsewhere was
# moved outside the gate (wrong_model_deployed).
PROMOTED_TAG = "glassbox_champion_version"


def client(tracking_uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def alias_holder(mlflow_client: Any, name: str, alias: str) -> str | None:
    """The version the alias points at now, or None (no such model or alias yet)."""
    from mlflow.exceptions import MlflowException

    try:
        aliases = mlflow_client.get_registered_model(name).aliases
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    held = aliases.get(alias)
    return str(held) if held is not None else None


def register(mlflow_client: Any, name: str, ref: ModelRef, tags: dict[str, str]) -> Any:
    """A new version of `name` for the candidate's logged model, with the provenance tags, read back from the
    registry (the check judges what the registry holds, not what was sent)."""
    from mlflow.exceptions import MlflowException

    try:
        mlflow_client.create_registered_model(name)
    except MlflowException as e:
        if e.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    made = mlflow_client.create_model_version(
        name, source=ref.model_uri, run_id=ref.run_id, tags=tags, model_id=ref.model_id
    )
    return mlflow_client.get_model_version(name, made.version)


def promoted_version(mlflow_client: Any, name: str) -> str | None:
    """The version glassbox last promoted under the alias (None: never, or the model does not exist)."""
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_registered_model(name).tags.get(PROMOTED_TAG)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def registered_model_id(version: Any) -> str | None:
    """The logged model behind a version: its model_id, else the `models:/m-<id>` source it was made from
    (the SQL registry store keeps the source but not the model_id)."""
    if getattr(version, "model_id", None):
        return str(version.model_id)
    found = re.fullmatch(r"models:/(m-[0-9a-f]+)", version.source or "")
    return found.group(1) if found else None


def promote(mlflow_client: Any, name: str, alias: str, version: str, previous: str | None) -> Finding:
    """Point the alias at the version, then check `models:/name@alias` resolves to it."""
    mlflow_client.set_registered_model_alias(name, alias, version)
    resolved = str(mlflow_client.get_model_version_by_alias(name, alias).version)
    ev = {"alias": alias, "version": version, "resolved": resolved, "previous_version": previous}
    if resolved != str(version):
        if previous is not None:  # leave the alias where it was rather than on an unverified version
            mlflow_client.set_registered_model_alias(name, alias, previous)
        else:
            mlflow_client.delete_registered_model_alias(name, alias)
        return Finding(
            check="promotion",
            severity=Severity.fail,
            evidence=ev,
            message=f"set {name}@{alias} to version {version}, but it resolves to version {resolved}",
        )
    mlflow_client.set_registered_model_tag(name, PROMOTED_TAG, str(version))
    was = f"was version {previous}; roll back with that version" if previous else "no previous holder"
    return Finding(
        check="promotion",
        severity=Severity.info,
        evidence=ev,
        message=f"promoted {name} version {version} to @{alias} ({was})",
    )


def rollback_target(mlflow_client: Any, name: str, current: str) -> str | None:
    """The version promoted before `current`: the highest lower version glassbox promoted (tag
    `glassbox_promoted` true), None when there is none."""
    versions = mlflow_client.search_model_versions(f"name = '{name}'")
    promoted = [
        int(v.version) for v in versions if v.tags.get("glassbox_promoted") == "true" and int(v.version) < int(current)
    ]
    return str(max(promoted)) if promoted else None


def rollback(mlflow_client: Any, name: str, alias: str, to: str | None = None) -> Finding:
    """Point the alias back at `to` (default: the version promoted before the current holder) after loading it,
    and record it as glassbox's promotion, so the next run judges production against it. A target that does not
    load is refused (ValueError): a rollback to a broken model is no rollback."""
    import mlflow

    current = alias_holder(mlflow_client, name, alias)
    if current is None:
        raise ValueError(f"{name}@{alias} is not set: nothing to roll back")
    target = to or rollback_target(mlflow_client, name, current)
    if target is None:
        raise ValueError(f"{name}@{alias} is version {current}; no earlier version was promoted (give one with --to)")
    try:
        mlflow.sklearn.load_model(f"models:/{name}/{target}")
    except Exception as e:  # whatever keeps it from loading is the reason to refuse
        raise ValueError(f"cannot roll back {name}@{alias} to version {target}: it does not load ({e})"[:500]) from None
    return promote(mlflow_client, name, alias, target, current)
