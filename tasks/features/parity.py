"""The shipped preprocessing artifact: saved and loaded with skops, its output as a dense matrix, and that
matrix's fingerprint (the training stage proves it trains on exactly the features validated here)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from tasks.errors import ConfigError


def as_matrix(features: Any) -> np.ndarray:
    """Dense float matrix of a transform's output (sparse and DataFrame outputs included)."""
    if hasattr(features, "toarray"):
        features = features.toarray()
    return np.asarray(features, dtype="float64")


def matrix_sha256(m: np.ndarray) -> str:
    """Fingerprint of a feature matrix, so a later stage can prove it trains on exactly these features. The
    matrix's buffer is hashed in place (a copy of a million-row matrix is gigabytes)."""
    m = np.ascontiguousarray(m, dtype="float64")
    digest = hashlib.sha256(str(m.shape).encode())
    digest.update(memoryview(m).cast("B"))
    return digest.hexdigest()


def fingerprinted_rows(n: int, manifest: dict) -> np.ndarray:
    """The training rows (positions) whose features the features layer fingerprinted: its seeded sample of at
    most `rows` of them (every row in a smaller table). The same draw in every stage that reads the manifest."""
    from tasks.data.stats import sample_positions

    drawn = manifest.get("fingerprint_rows") or {}
    return sample_positions(n, int(drawn.get("rows", n)), int(drawn.get("seed", 0)))


# Where a type the preprocessing file names may come from: the libraries a fitted scikit-learn pipeline is made
# of and glassbox's own code (the demo's model factories). A skops file lists the types it needs; trusting that
# list as it stands (`get_untrusted_types`) would let a swapped file name any callable (`posix.system`).
TRUSTED_ROOTS = ("sklearn", "numpy", "scipy", "pandas", "tasks")
# Submodules of those libraries that run code or read files, never part of a preprocessing.
REFUSED_PREFIXES = ("numpy.testing", "numpy.f2py", "numpy.distutils", "pandas.io", "scipy.io", "sklearn.datasets")


class UntrustedPreprocessor(ConfigError):
    """A preprocessing file that names a type glassbox does not load: one line, never retried."""


def trusted_roots(factory: str | None) -> tuple[str, ...]:
    """The allowed module roots, plus the top-level package of the model factory params name (the team's own
    code, trusted as params are: its transformers may be in the preprocessing)."""
    if not factory:
        return TRUSTED_ROOTS
    return (*TRUSTED_ROOTS, factory.split(":", 1)[0].split(".", 1)[0])


def refused_types(names: list[str], roots: tuple[str, ...] = TRUSTED_ROOTS) -> list[str]:
    """The type names (`module.qualname`) outside `roots`, or inside a refused submodule."""
    return [
        n
        for n in names
        if n.split(".", 1)[0] not in roots or any(n == p or n.startswith(p + ".") for p in REFUSED_PREFIXES)
    ]


def save_preprocessor(pre: Any, path: Path) -> None:
    import skops.io

    skops.io.dump(pre, path)


def load_preprocessor(path: Path, roots: tuple[str, ...] = TRUSTED_ROOTS) -> Any:
    """Load the shipped preprocessing with skops, trusting only types from `roots` (never pickle); a file that
    names any other type is refused before anything in it is built (UntrustedPreprocessor, naming them)."""
    import skops.io

    needed = skops.io.get_untrusted_types(file=path)
    refused = refused_types(needed, roots)
    if refused:
        raise UntrustedPreprocessor(
            f"{path}: refused to load: it names types outside {', '.join(roots)}: {', '.join(sorted(refused))}"
        )
    return skops.io.load(path, trusted=needed)
