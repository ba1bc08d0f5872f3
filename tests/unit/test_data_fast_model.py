"""The fast model the label checks share: categories learnt from training (a batch's unseen values are
missing to it), a batch scored by one fold model per row (the same kind of model as an out-of-fold score),
and one fit per run for the checks that need it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.data.fast_model import Encoding, FoldFit, fitted


def frame(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=rows), "k": rng.choice(["a", "b"], rows)})
    y = pd.Series((df["x"] + (df["k"] == "a") + rng.normal(size=rows) > 0.5).astype("int64"))
    return df, y


def test_a_batch_is_encoded_with_training_categories() -> None:
    """A category training never saw and a column the batch lacks are missing values, not new codes."""
    encoding = Encoding.of(pd.DataFrame({"x": [1.0, 2.0], "k": ["a", "b"]}), ["x", "k"])
    X = encoding.matrix(pd.DataFrame({"k": ["b", "zzz"]}))
    assert encoding.categorical == [False, True]
    assert X["x"].isna().all() and X["k"].iloc[0] == 1.0 and np.isnan(X["k"].iloc[1])


def test_each_batch_row_is_scored_by_one_fold_model() -> None:
    """Batch scores are single fold models' (not their average), drawn with the seed: rerun, same scores."""
    df, y = frame()
    fit = fitted(df, y, ["x", "k"], 20_000, 0)
    assert isinstance(fit, FoldFit) and fit.oof.shape == (600, 2)
    batch, _ = frame(50, seed=1)
    scores = fit.probabilities(batch)
    each = np.stack([m.predict_proba(fit.encoding.matrix(batch)) for m in fit.models])
    assert all(any(np.allclose(scores[i], each[k, i]) for k in range(len(fit.models))) for i in range(50))
    assert np.array_equal(scores, fit.probabilities(batch))


def test_the_same_frames_are_fitted_once() -> None:
    """Two checks asking for the same training frames, features and sample get the same fit back; another
    frame is fitted anew."""
    df, y = frame()
    assert fitted(df, y, ["x", "k"], 20_000, 0) is fitted(df, y, ["x", "k"], 20_000, 0)
    assert fitted(df.copy(), y, ["x", "k"], 20_000, 0) is not fitted(df, y, ["x", "k"], 20_000, 0)
