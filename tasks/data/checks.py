"""The data layer's settings and its checks, in diagnostic order: root causes first (the wrong file, then a
missing baseline, then the shape of the data, then its values, then what the labels and distributions say).
A unit change or a misspelt category also breaks a range or a category set, so inconsistent_values names it
before value_range and category_set do. label_noise and target_logic_changed both fire on either fault
(flipped labels are relabelled rows; a new label definition looks like noise to a model of the old one):
label_noise comes first, as it always has (the detection benchmark's table stays the same)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from tasks.checks import CheckParams, checks_of
from tasks.data import (
    baseline,
    category_set,
    covariate_shift,
    duplicate_rows,
    feature_leakage,
    inconsistent_values,
    joint_shift,
    label_noise,
    label_shift,
    missing_spike,
    non_finite,
    reviewer_expectations,
    row_count,
    schema_change,
    target_logic_changed,
    target_values,
    text_values,
    value_range,
    wrong_data_version,
)

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {
    "null_share": "missing_spike.share",
    "out_of_range_share": "value_range.share",
    "range_margin": "value_range.margin",
    "unexpected_category_share": "category_set.share",
    "max_categories": "category_set.max_categories",
    "covariate_shift_numeric": "covariate_shift.numeric",
    "covariate_shift_categorical": "covariate_shift.categorical",
    "leakage_auc": "feature_leakage.separation",
    "identifier_share": "feature_leakage.identifier_share",
    "after_timestamp_share": "feature_leakage.after_timestamp_share",
    "label_noise_excess": "label_noise.excess",
    "duplicate_row_share": "duplicate_rows.row_share",
    "duplicate_id_share": "duplicate_rows.id_share",
    "relabelled_share": "target_logic_changed.relabelled_share",
    "label_rate_shift": "target_logic_changed.label_rate",
    "relation_shift": "target_logic_changed.relation_shift",
    "profile_features": "target_logic_changed.profile_features",
    "profile_rows": "target_logic_changed.profile_rows",
    "variant_share": "inconsistent_values.variant_share",
    "scale_tolerance": "inconsistent_values.scale_tolerance",
    "scale_change": "inconsistent_values.scale_change",
    "label_shift": "label_shift.cohen_h",  # old only in its old shape, {warn, fail} (see tasks/params.py)
}


class Settings(CheckParams):
    """The snapshots against their pins and the reviewed baseline (GX suites and label profile in `suite_dir`,
    written by `glassbox baseline`); where a model is fitted or distributions compared, bounded seeded samples."""

    suite_dir: Path = Field(
        Path("gx"), description="the GX project; its expectations/ folder is the reviewed baseline: commit it"
    )
    baseline_bootstrap: bool = Field(
        True,
        description="with no baseline, write it from the training snapshot on the first run (and say so) instead "
        "of failing with `glassbox baseline`",
    )
    sample_rows: int = Field(
        20_000, ge=100, description="training rows a model is fitted on (label noise, single-feature leakage)"
    )
    drift_reference_rows: int = Field(
        50_000, ge=100, description="training rows covariate shift compares each batch with"
    )
    seed: int = Field(0, description="draws the samples, so a rerun measures the same thing")


CHECKS = checks_of(
    wrong_data_version,
    baseline,
    schema_change,
    row_count,
    target_values,
    non_finite,
    missing_spike,
    inconsistent_values,
    value_range,
    category_set,
    text_values,
    reviewer_expectations,
    duplicate_rows,
    feature_leakage,
    label_noise,
    target_logic_changed,
    label_shift,
    covariate_shift,
    joint_shift,
)
