"""The GX file project under `data.suite_dir`: suites, datasource, checkpoints and Data Docs.

Everything here is get-or-add: re-running set-up on an existing project must never replace what is stored
(GX's `add_or_update_pandas` silently deletes assets), and the suites in it are reviewed code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.exceptions import DataContextError
from great_expectations.execution_engine import PandasExecutionEngine

from tasks.atomic import write_bytes
from tasks.errors import ConfigError

DATASOURCE = "glassbox"
BATCH_DEFINITION = "whole_frame"
DOCS_SITE_NAME = "local_site"
DOCS_SITE = Path("uncommitted") / "data_docs" / DOCS_SITE_NAME
# The Data Docs index lists the latest validation results only (4 per pipeline run: 2 batches x 2 suites).
DOCS_INDEX_RESULTS = 200


def _set_whole(self: TupleFilesystemStoreBackend, key: Any, value: str | bytes, **kwargs: Any) -> str:
    """GX's file store writes in place (open, write): a run killed mid-write would leave half a suite or
    validation result that the next run cannot load. The same write, whole or not at all."""
    key = key if isinstance(key, tuple) else key.to_tuple()
    path = os.path.join(self.full_base_directory, self._convert_key_to_filepath(key))
    write_bytes(Path(path), value.encode("utf-8") if isinstance(value, str) else value)
    return path


TupleFilesystemStoreBackend._set = _set_whole  # type: ignore[method-assign]  # glassbox's processes only

_domain_records = PandasExecutionEngine.get_domain_records


def _one_column_domain(self: PandasExecutionEngine, domain_kwargs: dict) -> pd.DataFrame:
    """A column expectation's records as that column alone. GX returns the whole batch, and each column-map
    metric then drops the column's missing rows from every column of it (`df[df[col].notnull()]`): expectations x
    columns x rows, 35 s for 141 expectations on a million rows of 50 columns; 11 s with the column alone, the
    same results (tests/unit/test_gx_column_domain.py). Row conditions are applied before, as GX does."""
    data = _domain_records(self, domain_kwargs)
    column = domain_kwargs.get("column")
    if column is not None and isinstance(data, pd.DataFrame) and data.columns.is_unique and column in data.columns:
        return data[[column]]
    return data


PandasExecutionEngine.get_domain_records = _one_column_domain  # type: ignore[method-assign]


def open_project(root: Path) -> AbstractDataContext:
    """The GX file context whose folder is `root` itself (scaffolded on first use, with a .gitignore)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", context_root_dir=str(root.resolve()))
    changed = False
    bars = context.variables.progress_bars  # a ProgressBarsConfig when set here, a dict once read back
    globally = bars.get("globally") if isinstance(bars, dict) else getattr(bars, "globally", None)
    if globally is not False:
        # tqdm bars in a pipeline log are noise.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        changed = True
    sites = context.variables.data_docs_sites or {}
    index = (sites.get(DOCS_SITE_NAME) or {}).get("site_index_builder")
    if isinstance(index, dict) and "validation_results_limit" not in index:
        # Every index build reads each stored validation result: bound it, or each run gets slower.
        index["validation_results_limit"] = DOCS_INDEX_RESULTS
        sites[DOCS_SITE_NAME]["show_how_to_buttons"] = False
        context.variables.data_docs_sites = sites
        changed = True
    if changed:  # stored in great_expectations.yml once
        context.variables.save()
    _ignore_uncommitted(root)
    return context


def _ignore_uncommitted(root: Path) -> None:
    """GX writes `uncommitted/` into its .gitignore when it scaffolds; make sure any project has it."""
    ignore = root / ".gitignore"
    lines = ignore.read_text().splitlines() if ignore.is_file() else []
    if "uncommitted/" not in lines:
        ignore.write_text("\n".join([*lines, "uncommitted/"]) + "\n")


def stored_suite(context: AbstractDataContext, root: Path, name: str) -> gx.ExpectationSuite | None:
    """The reviewed suite `<root>/expectations/<name>.json`, or None when there is none yet. A stored suite
    that does not load whole is the user's file to fix: GX would silently drop an expectation it cannot
    build, so every expectation in the file must come back."""
    path = Path(root) / "expectations" / f"{name}.json"
    if not path.is_file():
        return None
    try:
        written = json.loads(path.read_text()).get("expectations") or []
        suite = context.suites.get(name)
    except (ValueError, AttributeError, DataContextError) as e:  # bad JSON, not a mapping, not a suite
        raise ConfigError(f"{path}: not a loadable GX suite ({type(e).__name__}: {e})") from None
    loaded = [e.expectation_type for e in suite.expectations]
    lost = [str(e.get("type")) for e in written if isinstance(e, dict)]
    for kind in loaded:
        if kind in lost:
            lost.remove(kind)
    if lost or len(loaded) != len(written):
        raise ConfigError(f"{path}: expectation(s) {lost} could not be loaded by GX (unknown type or bad kwargs)")
    return suite


def add_suite(context: AbstractDataContext, suite: gx.ExpectationSuite) -> gx.ExpectationSuite:
    return context.suites.add(suite)


def checkpoint_for(context: AbstractDataContext, batch: str, suite: gx.ExpectationSuite) -> gx.Checkpoint:
    """One checkpoint per (batch, suite): the batch's dataframe asset, the suite, SUMMARY. No actions: the Data
    Docs are built once per stage for all its results (`build_docs`); an UpdateDataDocsAction per checkpoint
    rebuilt the site's index, which reads every stored result, once per batch and suite (half of GX's time in a
    small project's data stage, and growing with every nightly run)."""
    try:
        source = context.data_sources.get(DATASOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = source.get_asset(batch)
    except LookupError:
        asset = source.add_dataframe_asset(batch)
    try:
        batch_def = asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        batch_def = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

    name = f"{batch}-{suite.name}"
    validation = _stored(context.validation_definitions, name)
    if validation is None or validation.suite.id != suite.id or validation.data.id != batch_def.id:
        # Derived configuration (not reviewed code): rebuilt when it points at another suite or asset.
        _drop(context.validation_definitions, name)
        _drop(context.checkpoints, name)
        validation = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
    checkpoint = _stored(context.checkpoints, name)
    stale = (
        checkpoint is None or checkpoint.actions or [v.id for v in checkpoint.validation_definitions] != [validation.id]
    )
    if stale:
        _drop(context.checkpoints, name)
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[],
                result_format={"result_format": "SUMMARY"},
            )
        )
    return checkpoint


def _stored(collection: Any, name: str) -> Any:
    """get() from a GX factory (they share no public base type), None when absent or unloadable."""
    try:
        return collection.get(name)
    except (DataContextError, KeyError, ValueError):
        # A definition whose suite or asset no longer exists cannot be loaded: treat it as absent.
        return None


def _drop(collection: Any, name: str) -> None:
    with contextlib.suppress(DataContextError, KeyError, ValueError):
        collection.delete(name)


def validate(checkpoint: gx.Checkpoint, df: pd.DataFrame, run_name: str) -> ExpectationSuiteValidationResult:
    """Run the checkpoint on `df`; the result is stored under `run_name` (its Data Docs page: `build_docs`)."""
    run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC))
    result = checkpoint.run(batch_parameters={"dataframe": df}, run_id=run_id)
    (validation,) = result.run_results.values()
    return validation


def build_docs(context: AbstractDataContext, run_name: str) -> None:
    """Build the Data Docs pages of this run's stored results and of their suites, and the site's index, once."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    results = [
        key
        for key in context.validation_results_store.list_keys()
        if isinstance(key, ValidationResultIdentifier) and key.run_id.run_name == run_name
    ]
    suites = sorted({key.expectation_suite_identifier.name for key in results})
    if results:
        context.build_data_docs(resource_identifiers=[*results, *map(ExpectationSuiteIdentifier, suites)])


def validate_in_memory(
    suite: gx.ExpectationSuite, frames: dict[str, pd.DataFrame]
) -> dict[str, ExpectationSuiteValidationResult]:
    """Validate frames that all hold the same columns against the expectations of `suite` on those columns
    (table-level ones and those on other columns left out), in an ephemeral context: nothing is stored and
    no Data Docs page is built, for a check that compares two views of the same rows."""
    columns = set().union(*(f.columns for f in frames.values())) if frames else set()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    # shallow copies (the stored suite keeps its ids; nothing here changes an expectation's kwargs): a deep copy of
    # a reviewed suite's 141 expectations and their value sets took 2 s per call
    kept = [e.copy(update={"id": None}) for e in suite.expectations if getattr(e, "column", None) in columns]
    subset = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=kept, meta=dict(suite.meta or {})))
    asset = context.data_sources.add_pandas(DATASOURCE).add_dataframe_asset("in_memory")
    batch_def = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    return {
        name: batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(subset, result_format="SUMMARY")
        for name, frame in frames.items()
    }


def copy_docs(root: Path, dest: Path, run_name: str) -> list[str]:
    """Copy the Data Docs site into `dest`, keeping only this run's validation pages (the project's own site
    keeps every run). Returns the pages of this run, relative to `dest.parent`."""
    site = Path(root) / DOCS_SITE
    if not site.is_dir():
        return []

    def other_runs(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(site).parts
        # validations/<suite>/<run_name>/<run_time>/<batch>.html
        if len(rel) == 2 and rel[0] == "validations":
            return {n for n in names if n != run_name}
        # GX's tutorial animations (3.4 MB) back the how-to buttons, which are off: no page shows them.
        return {n for n in names if n.endswith(".gif")}

    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(site, dest, ignore=other_runs)
    pages = sorted(p.relative_to(dest.parent).as_posix() for p in (dest / "validations").rglob("*.html"))
    return [(Path(dest.name) / "index.html").as_posix(), *pages]
