"""The evaluation layer's settings and its checks, in diagnostic order (root causes first)."""

from __future__ import annotations

from typing import Literal

from tasks.checks import CheckParams, checks_of
from tasks.limits import Floor, Share

# Old params keys that moved, old dotted key -> new dotted key (a one-line error names the new one).
MOVED: dict[str, str] = {}


class Settings(CheckParams):
    threshold: Share = 0.5
    metric: Literal["roc_auc", "average_precision", "accuracy", "f1"] = "roc_auc"
    min_score: Floor = Floor(warn=0.6, fail=0.55)
    champion_margin: Floor = Floor(warn=-0.005, fail=-0.02)


CHECKS = checks_of()
