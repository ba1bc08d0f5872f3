"""Challenger against champion: the registered model under the deployment alias, scored on the same rows.

The first run has no champion and says so; a champion that cannot score today's test set (a column it
needs is gone) is reported, not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.limits import Floor
from tasks.modeling import load_sklearn, positive_scores
from tasks.result import Finding, Severity, judge


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


def no_champion(registered_model: str, alias: str) -> Finding:
    return Finding(
        check="champion_comparison",
        severity=Severity.info,
        message=f"no champion yet: first run ({registered_model!r} has no version with alias {alias!r}); "
        "nothing to compare with",
        evidence={"registered_model": registered_model, "alias": alias},
    )


def champion_inputs(model_uri: str, model: object) -> list[str] | None:
    """The columns the champion reads: its signature, else the fitted pipeline's feature names."""
    import mlflow

    signature = mlflow.models.get_model_info(model_uri).signature
    if signature is not None and signature.inputs is not None:
        return list(signature.inputs.input_names())
    names = getattr(model, "feature_names_in_", None)
    return [str(c) for c in names] if names is not None else None


def score_champion(champion: Champion, test: pd.DataFrame) -> np.ndarray | Finding:
    """The champion's positive-class scores on the test rows, or a finding saying why it cannot score them."""
    from mlflow.exceptions import MlflowException

    where = f"champion {champion.name} v{champion.version}"
    try:
        model = load_sklearn(champion.model_uri)
        columns = champion_inputs(champion.model_uri, model)
    except (MlflowException, OSError, ValueError) as e:  # a registry entry we cannot load is reported
        return _not_compared(champion, f"{where} cannot be loaded: {type(e).__name__}: {e}")
    columns = columns if columns is not None else list(test.columns)
    missing = [c for c in columns if c not in test.columns]
    if missing:
        return _not_compared(
            champion, f"{where} needs columns the test set lacks: {missing}; not compared", columns=missing
        )
    try:
        return positive_scores(model, test[columns])
    except (ValueError, TypeError, KeyError) as e:  # e.g. a column whose type changed since it was trained
        return _not_compared(champion, f"{where} cannot score the test set: {type(e).__name__}: {e}")


def _not_compared(champion: Champion, message: str, columns: list[str] | None = None) -> Finding:
    return Finding(
        check="champion_comparison",
        severity=Severity.warn,
        message=message,
        columns=columns or [],
        evidence={"champion_version": champion.version, "champion_source": champion.source},
    )


def check_margin(metric: str, challenger: float, champion: float, limit: Floor, evidence: dict[str, object]) -> Finding:
    """Challenger minus champion on the same rows must not fall below the floor in params."""
    margin = challenger - champion
    return judge(
        "champion_comparison",
        margin,
        limit.warn,
        limit.fail,
        f"challenger {metric} {challenger:.4f} vs champion {champion:.4f}: margin {margin:+.4f} "
        f"(floor: warn {limit.warn}, fail {limit.fail})",
        evidence={
            "metric": metric,
            "challenger": challenger,
            "champion": champion,
            "margin": margin,
            **evidence,
        },
        higher_is_worse=False,
    )
