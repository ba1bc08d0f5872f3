"""The champion: the registered model under the deployment alias, found in the registry and scored on the
trusted test set's rows, so the challenger_worse check can compare the candidate with it on the same rows.

The first run has no champion; a champion that cannot score today's test set (a column it needs is gone) is
kept with the reason, for the check to report rather than compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Champion:
    """The registered version the alias points at, pinned by number so a moving alias cannot swap it."""

    name: str
    alias: str
    version: str
    source: str
    run_id: str | None
    model_id: str | None

    @property
    def model_uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class ChampionScores:
    """The champion's positive-class scores on the test rows, or why it could not give them (`reason`, with
    the `columns` it names)."""

    scores: np.ndarray | None = None
    reason: str | None = None
    columns: tuple[str, ...] = field(default_factory=tuple)


def find_champion(registered_model: str, alias: str) -> Champion | None:
    """The version under `alias`, or None when the registered model or the alias does not exist yet."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        model = client.get_registered_model(registered_model)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = (model.aliases or {}).get(alias)
    if version is None:
        return None
    mv = client.get_model_version(registered_model, str(version))
    return Champion(
        name=registered_model,
        alias=alias,
        version=str(mv.version),
        source=mv.source,
        run_id=mv.run_id,
        model_id=getattr(mv, "model_id", None) or _logged_model_id(mv.source),
    )


def _logged_model_id(source: str) -> str | None:
    """A logged model is registered with source `models:/m-<id>`; the sqlite store leaves model_id empty."""
    prefix = "models:/"
    rest = source[len(prefix) :] if source.startswith(prefix) else ""
    return rest if rest.startswith("m-") and "/" not in rest else None


def champion_inputs(model_uri: str, model: object) -> list[str] | None:
    """The columns the champion reads: its signature, else the fitted pipeline's feature names."""
    import mlflow

    signature = mlflow.models.get_model_info(model_uri).signature
    if signature is not None and signature.inputs is not None:
        return list(signature.inputs.input_names())
    names = getattr(model, "feature_names_in_", None)
    return [str(c) for c in names] if names is not None else None


def score_champion(champion: Champion, test: pd.DataFrame) -> ChampionScores:
    """The champion's positive-class scores on the test rows, or the reason it cannot score them."""
    from mlflow.exceptions import MlflowException

    from tasks.modeling import load_sklearn, positive_scores

    where = f"champion {champion.name} v{champion.version}"
    try:
        model = load_sklearn(champion.model_uri)
        columns = champion_inputs(champion.model_uri, model)
    except (MlflowException, OSError, ValueError) as e:  # a registry entry we cannot load is reported
        return ChampionScores(reason=f"{where} cannot be loaded: {type(e).__name__}: {e}")
    columns = columns if columns is not None else list(test.columns)
    missing = [c for c in columns if c not in test.columns]
    if missing:
        return ChampionScores(
            reason=f"{where} needs columns the test set lacks: {missing}; not compared", columns=tuple(missing)
        )
    try:
        return ChampionScores(scores=positive_scores(model, test[columns]))
    except (ValueError, TypeError, KeyError) as e:  # e.g. a column whose type changed since it was trained
        return ChampionScores(reason=f"{where} cannot score the test set: {type(e).__name__}: {e}")
