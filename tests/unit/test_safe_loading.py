"""Nothing from an input path is unpickled or run: the shipped preprocessing loads with skops trusting only an
allowlist of type origins, and params YAML is read with safe_load (a Python tag is a one-line error, never run)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from tasks.errors import ConfigError
from tasks.features.parity import (
    UntrustedPreprocessor,
    load_preprocessor,
    refused_types,
    save_preprocessor,
    trusted_roots,
)
from tasks.modeling import build_preprocessor
from tasks.params import load_params

TRAIN = pd.DataFrame({"city": ["a", "b", "a", "c"] * 5, "note": ["late flight", "on time"] * 10, "age": range(20)})


class Passthrough(TransformerMixin, BaseEstimator):
    """A transformer from a module outside the allowlist (this test module)."""

    def fit(self, X, y=None):  # noqa: ANN001, ANN201 (sklearn's signature)
        return self

    def transform(self, X):  # noqa: ANN001, ANN201
        return X


def test_glassbox_preprocessing_loads_under_the_allowlist(tmp_path):
    """The standard preprocessing (numbers, categories, text) saved with skops loads and transforms the same."""
    pre = build_preprocessor(["city"], ["age"], ["note"]).fit(TRAIN)
    save_preprocessor(pre, tmp_path / "pre.skops")
    loaded = load_preprocessor(tmp_path / "pre.skops")
    assert np.array_equal(loaded.transform(TRAIN), pre.transform(TRAIN))


def test_a_file_naming_os_system_is_refused_before_it_is_built(tmp_path):
    """A preprocessing file that names a builtin that runs commands (os.system, as posix.system) is refused with
    a one-line error naming the type; skops never builds it."""
    save_preprocessor(make_pipeline(StandardScaler(), FunctionTransformer(os.system)), tmp_path / "evil.skops")
    with pytest.raises(UntrustedPreprocessor) as e:
        load_preprocessor(tmp_path / "evil.skops")
    assert "posix.system" in str(e.value) and "evil.skops" in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, ConfigError)


def test_a_class_from_another_module_is_refused(tmp_path):
    """A transformer class from a module outside sklearn, numpy, scipy, pandas and glassbox's tasks is refused."""
    save_preprocessor(make_pipeline(Passthrough()), tmp_path / "other.skops")
    with pytest.raises(UntrustedPreprocessor, match=r"tests\.unit\.test_safe_loading\.Passthrough"):
        load_preprocessor(tmp_path / "other.skops")


def test_allowlist_roots_refused_submodules_and_the_factory_package():
    """Types under the allowed roots pass, their code-running submodules and other roots do not; a model factory
    named in params adds its own top-level package."""
    names = ["sklearn.pipeline.Pipeline", "numpy.ravel", "tasks.demo.plants.UndersampledBoosting", "numpy.testing.x"]
    assert refused_types(names) == ["numpy.testing.x"]
    assert refused_types(["builtins.eval", "posix.system", "mypkg.models.Scaler"]) == [
        "builtins.eval",
        "posix.system",
        "mypkg.models.Scaler",
    ]
    assert refused_types(["mypkg.models.Scaler"], trusted_roots("mypkg.models:make")) == []
    assert trusted_roots(None) == trusted_roots("") and "mypkg" not in trusted_roots(None)


def test_params_with_a_python_tag_is_a_one_line_error_and_runs_nothing(tmp_path):
    """A `!!python/object/apply:os.system` tag in params.yaml is refused by safe_load: a one-line ConfigError
    naming the file, and the command it carries never ran."""
    marker = tmp_path / "ran"
    path = tmp_path / "params.yaml"
    path.write_text(f"snapshot: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ConfigError) as e:
        load_params(path)
    assert str(path) in str(e.value) and "not valid YAML" in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()
