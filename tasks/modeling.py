"""Building, saving and loading the model: one definition used by training, evaluation, serving and deployment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from tasks.errors import ConfigError
from tasks.params import ModelSpec

MODEL_FILE = "model.json"  # written by training: which logged model is the candidate


def _import(path: str, sep: str) -> Any:
    module, _, attr = path.rpartition(sep) if sep == "." else path.partition(sep)
    try:
        return getattr(import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(f"params.yaml: model: cannot import {path!r} ({e})") from None


# Model inputs per text column: the most frequent tokens of the training text. A bound, so a free-text column
# cannot blow up the feature count; tokens beyond it are out of vocabulary (the features layer measures how many).
TEXT_VOCABULARY = 50


def text_pipeline() -> Pipeline:
    """Missing text is the empty document; the 2-D column is flattened to the documents a vectorizer reads."""
    return make_pipeline(
        SimpleImputer(strategy="constant", fill_value=""),
        FunctionTransformer(np.ravel, feature_names_out="one-to-one"),
        CountVectorizer(max_features=TEXT_VOCABULARY, binary=True, dtype=np.float64),
    )


def build_preprocessor(
    categorical: list[str], numeric: list[str], text: list[str] | tuple[str, ...] = ()
) -> ColumnTransformer:
    """The standard preprocessing: impute, scale numbers, one-hot categories (unknown ones ignored), and a
    bounded bag of words per text column (its vocabulary is a training artifact the features layer checks).
    Output is dense: the default estimator (HistGradientBoosting) does not take sparse input."""
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"),
                    OneHotEncoder(handle_unknown="ignore", max_categories=32, sparse_output=False),
                ),
                categorical,
            ),
            *[(f"text_{col}", text_pipeline(), [col]) for col in text],
        ],
        remainder="drop",
        sparse_threshold=0.0,
        # prefixed names: tokens of two text columns (or a token and a column name) would otherwise collide
        verbose_feature_names_out=bool(text),
    )


def build_model(
    spec: ModelSpec, categorical: list[str], numeric: list[str], text: list[str] | tuple[str, ...] = ()
) -> Pipeline:
    """An unfitted pipeline whose last step is the estimator and whose earlier steps are the preprocessing."""
    if spec.factory:
        made = _import(spec.factory, ":")(**spec.params)
        if not isinstance(made, BaseEstimator):
            raise ConfigError(f"params.yaml: model.factory: {spec.factory} did not return an sklearn estimator")
        pipe = made if isinstance(made, Pipeline) else Pipeline([("model", made)])
    else:
        est_cls = _import(spec.estimator or "", ".")
        try:
            est = est_cls(**spec.params)
        except TypeError as e:
            raise ConfigError(f"params.yaml: model.params: {e}") from None
        pipe = Pipeline([("preprocess", build_preprocessor(categorical, numeric, text)), ("model", est)])
    return seeded(pipe, spec.seed)


def seeded(pipe: Pipeline, seed: int) -> Pipeline:
    """Set every random_state in the pipeline, so a retrain with the same seed is the same model."""
    pipe = clone(pipe)
    pipe.set_params(**{k: seed for k in pipe.get_params() if k.endswith("random_state")})
    return pipe


def positive_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class (column 1 of predict_proba)."""
    return np.asarray(model.predict_proba(X))[:, 1]


@dataclass(frozen=True)
class ModelRef:
    """The candidate model as training logged it."""

    model_uri: str
    model_id: str
    run_id: str
    features: list[str]
    categorical: list[str]
    text: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        (folder / MODEL_FILE).write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> ModelRef:
        path = folder / MODEL_FILE
        if not path.is_file():
            raise ConfigError(f"{path}: not found; run the training stage first")
        return cls(**json.loads(path.read_text()))


def signature_example(X: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """The rows the signature is inferred from, typed as the server must accept them: an integer column that
    can hold missing values (pandas' nullable Int64, or nulls present) is signed as double, since a JSON null
    cannot be cast to int64 and the server would refuse every request carrying one (ints widen to doubles)."""
    example = X.head(rows).copy()
    for c in X.columns:
        s = X[c]
        if pd.api.types.is_integer_dtype(s.dtype) and (
            pd.api.types.is_extension_array_dtype(s.dtype) or bool(s.isna().any())
        ):
            example[c] = example[c].astype("float64")
    return example


def log_model(pipe: Pipeline, X_example: pd.DataFrame, name: str = "model") -> Any:
    """Log with skops (no pickle) and a predict_proba pyfunc, so the served model answers scores."""
    import mlflow
    import skops.io
    from mlflow.models import infer_signature

    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipe))  # our own freshly trained model
    example = signature_example(X_example)
    signature = infer_signature(example, pipe.predict_proba(example))
    return mlflow.sklearn.log_model(
        pipe,
        name=name,
        signature=signature,
        input_example=example,
        pyfunc_predict_fn="predict_proba",
        serialization_format="skops",
        skops_trusted_types=trusted,
        pip_requirements=[f"scikit-learn=={__import__('sklearn').__version__}", "skops", "pandas", "numpy"],
    )


def load_sklearn(model_uri: str) -> Any:
    import mlflow

    return mlflow.sklearn.load_model(model_uri)
