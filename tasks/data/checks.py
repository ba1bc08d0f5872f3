"""The data layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.limits import Limit

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
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


CHECKS = checks_of()
