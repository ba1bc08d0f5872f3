"""The serving stage's inference log: the replayed current traffic with the scores the server answered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasks.frames import read_frame, require_columns

LOG_FILE = "inference_log.parquet"  # written by the serving stage (its contract)
SCORE = "score"  # the served positive-class probability, NaN when the server gave none
SOURCE = "current"


def load_current(serving_dir: Path, features: list[str]) -> pd.DataFrame:
    """The rows replayed from the current batch, with every feature and the served score."""
    path = serving_dir / LOG_FILE
    if not path.is_file():
        from tasks.errors import ConfigError

        raise ConfigError(f"{path}: not found; run the serving stage first")
    log = read_frame(path)
    require_columns(log, ["source", SCORE, *features], path, "inference log contract")
    return log[log["source"] == SOURCE].reset_index(drop=True)


def reference_sample(train: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A fixed-seed sample of the training rows (all of them when there are fewer), so reruns agree."""
    if len(train) <= rows:
        return train.reset_index(drop=True)
    return train.sample(n=rows, random_state=seed).reset_index(drop=True)
