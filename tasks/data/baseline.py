"""Baseline: the reviewed reference the batches and later training snapshots are judged against. Judging
against no baseline, one nobody reviewed, or one written from another snapshot or for other features is
judging against the wrong contract: this check says which baseline the run used and in what state.

The baseline is the GX suites `inputs` and `target` in `data.suite_dir/expectations/`, with the label profile
and the label-noise reference share in the target suite's meta.

The baseline is made apart from the judging: `glassbox baseline [--from PATH] [--force]` (`write_baseline`)
writes it from a snapshot the user names; the data stage only reads it. A missing baseline is one fail
naming that command, unless `data.baseline_bootstrap` is on (the default): then the very first run on a new
dataset writes it from the training snapshot itself, says so (review and commit it), judges the test set and
the current batch against it, and judges the training snapshot by absolute measures only (label noise as an
upper estimate, no label-logic comparison: both would be 0 against a reference taken from the same rows).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from tasks import checks
from tasks.data.inputs import Baseline, Suite
from tasks.errors import ConfigError
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.data_context import AbstractDataContext

    from tasks.data.inputs import DataInputs
    from tasks.params import Params as ProjectParams

SUITES = ("inputs", "target")
COMMAND = "glassbox baseline"


class Params(checks.CheckParams):
    stale: Severity = Field(
        Severity.warn,
        description="a baseline written from another training snapshot than the one judged: review that its "
        "contract still holds (`glassbox baseline --force` rewrites it)",
    )
    other_features: Severity = Field(
        Severity.warn, description="a baseline written for other features than the run's contract names"
    )


# ---- reading and writing (the stage and `glassbox baseline`) ----------------------------------------------


def suite_files(suite_dir: Path) -> dict[str, Path]:
    return {name: Path(suite_dir) / "expectations" / f"{name}.json" for name in SUITES}


def _suite(name: str, file: Path, suite: ExpectationSuite) -> Suite:
    meta = dict((suite.meta or {}).get("glassbox") or {})
    features = (meta.get("contract") or {}).get("features")
    return Suite(
        name=name,
        file=str(file),
        expectations=len(suite.expectations),
        train_md5=meta.get("train_md5"),
        built_from=meta.get("built_from"),
        features=None if features is None else tuple(str(f) for f in features),
    )


def read_baseline(context: AbstractDataContext, suite_dir: Path) -> tuple[Baseline, dict[str, ExpectationSuite]]:
    """The stored suites as they are (reviewed code) and what their meta says; a file GX cannot load whole is
    a ConfigError naming it (never rebuilt over)."""
    from tasks.data import gxproject

    files = suite_files(suite_dir)
    suites = {name: gxproject.stored_suite(context, Path(suite_dir), name) for name in SUITES}
    found = {name: s for name, s in suites.items() if s is not None}
    target = found.get("target")
    profile = dict(((target.meta or {}).get("glassbox") or {}).get("label_profile") or {}) if target else {}
    return (
        Baseline(
            dir=str(Path(suite_dir) / "expectations"),
            suites={name: _suite(name, files[name], s) for name, s in found.items()},
            missing=tuple(str(files[name]) for name in SUITES if name not in found),
            label_profile=profile or None,
        ),
        found,
    )


def missing_files(suite_dir: Path) -> list[str]:
    return [str(f) for f in suite_files(suite_dir).values() if not f.is_file()]


def bootstrapped(baseline: Baseline, written: list[str], notes: list[str]) -> Baseline:
    """The baseline as read after this run wrote the `written` files."""
    return dataclasses.replace(baseline, written=tuple(written), notes=tuple(notes))


def _profile(params: ProjectParams, train: Any, features: list[str]) -> tuple[dict | None, str]:
    """The reference label profile of a snapshot (features ranked by single-feature AUC, the label-noise
    reference share) and a line saying what it holds."""
    from tasks.data.feature_leakage import labelled_sample, ranked, single_feature_aucs
    from tasks.data.label_noise import estimate
    from tasks.data.stats import binary_labels
    from tasks.data.target_logic_changed import build_profile

    inputs, p = params.inputs, params.data
    y = binary_labels(train, inputs.target, inputs.positive_label)
    if y is None:
        return None, f"no label profile: `{inputs.target}` is not a 0/1 label"
    labelled = labelled_sample(train, y, p.sample_rows, p.seed)
    related = ranked(single_feature_aucs(labelled, y.loc[labelled.index], features, p.seed))
    issues = estimate(train, y, features, inputs.id, p.sample_rows, p.seed)
    extra = {} if isinstance(issues, str) else {"label_noise": issues.reference()}
    logic = p.target_logic_changed
    profile = build_profile(
        train, y, related[: logic.profile_features], inputs.id, inputs.target, logic.profile_rows, extra
    )
    noise = (
        f"no label-noise reference ({issues})"
        if isinstance(issues, str)
        else f"label-noise reference share {100 * issues.share:.1f}% of {issues.rows:,} rows "
        f"(fast model AUC {issues.auc:.2f})"
    )
    shown = ", ".join(r["column"] for r in profile["relations"])
    rate = f"{100 * profile['label_rate']:.1f}% of {profile['rows']:,} rows"
    line = f"label profile: rate {rate}, following {shown}; {noise}"
    return json.loads(json.dumps(profile)), line


def write_baseline(params: ProjectParams, source: Path, force: bool = False) -> list[str]:
    """Write the reviewed baseline from the snapshot at `source`: the `inputs` and `target` GX suites, the
    target suite carrying the label profile and the label-noise reference share. Files that exist are kept
    (a baseline is reviewed code); with every file present, `force` is needed to rewrite them (else a
    ConfigError naming them). Returns the lines to print."""
    from tasks.data import gxproject
    from tasks.data.suite import Contract, build_inputs_suite, build_target_suite, uncovered_categories
    from tasks.frames import read_frame, require_columns
    from tasks.provenance import file_md5

    inputs, p = params.inputs, params.data
    source = Path(source)
    files = suite_files(p.suite_dir)
    present = [name for name, f in files.items() if f.is_file()]
    if len(present) == len(files) and not force:
        shown = ", ".join(str(files[n]) for n in present)
        raise ConfigError(
            f"{shown}: a baseline exists (reviewed code, not overwritten); `{COMMAND} --force` rewrites it "
            f"from {source}"
        )
    todo = list(SUITES) if force else [n for n in SUITES if n not in present]
    train = read_frame(source, inputs.delimiter)
    require_columns(train, [c for c in (inputs.target, inputs.id, inputs.timestamp) if c], source, "named in inputs")
    if inputs.features is not None:
        require_columns(train, list(inputs.features), source, "feature")
    md5 = file_md5(source)
    contract = Contract.of(inputs, train)
    meta = {
        "built_from": str(source),
        "train_md5": md5,
        "train_rows": len(train),
        "note": f"written by `{COMMAND}` (or a first run's bootstrap) from the named snapshot; reviewed code from "
        f"then on: edit it by hand, or rewrite it with `{COMMAND} --force`",
    }
    lines: list[str] = []
    built: dict[str, ExpectationSuite] = {}
    if "inputs" in todo:
        built["inputs"] = build_inputs_suite(train, contract, p, meta)
    if "target" in todo:
        profile, line = _profile(params, train, [c for c in contract.features if c in train.columns])
        built["target"] = build_target_suite(train, contract, p, meta, profile)
        lines.append(line)
    context = gxproject.open_project(p.suite_dir)
    for name, suite in built.items():
        if files[name].is_file():
            context.suites.delete(name)
        gxproject.add_suite(context, suite)
    written = [
        f"wrote {files[name]}: {len(s.expectations)} expectations from {source} (md5 {md5}, {len(train):,} rows)"
        for name, s in built.items()
    ]
    kept = [f"kept {files[n]} (exists; `{COMMAND} --force` rewrites it)" for n in SUITES if n not in built]
    wide = uncovered_categories(train, contract, p)
    if wide and "inputs" in built:
        lines.append(
            f"no category set for {', '.join(wide)}: more than data.category_set.max_categories "
            f"({p.category_set.max_categories}) distinct values"
        )
    return [*written, *kept, *lines, "review and commit them: they are the contract later runs are judged against"]


# ---- the check ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validated:
    """How one batch went against the baseline suites (the GX summary)."""

    batch: str
    rows: int
    suites: tuple[str, ...]
    expectations: int
    failed: int
    unlabelled: bool
    results_file: str | None


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    baseline: Baseline
    train_md5: str | None
    train_file: str
    features: tuple[str, ...]
    validated: tuple[Validated, ...]

    def metrics(self) -> dict[str, float]:
        out = {"missing_files": float(len(self.baseline.missing)), "written_now": float(bool(self.baseline.written))}
        for v in self.validated:
            out.update({f"{v.batch}.rows": float(v.rows), f"{v.batch}.expectations": float(v.expectations)})
            out[f"{v.batch}.failed_expectations"] = float(v.failed)
        return out


def measure(x: DataInputs, p: Params) -> Measurement:
    validated = tuple(
        Validated(
            batch=v.batch,
            rows=v.rows,
            suites=v.suites,
            expectations=len(v.outcomes),
            failed=sum(not o.success for o in v.outcomes),
            unlabelled=v.unlabelled,
            results_file=v.results_file,
        )
        for v in x.validations.values()
    )
    return Measurement(x.baseline, x.train_md5, str(x.files.get("train", "")), tuple(x.features), validated)


def judge(m: Measurement, p: Params) -> list[Finding]:
    """Fail on a missing baseline (naming the command); info when this run wrote it; the configured severities
    on a stale one or one for other features; an info line per batch validated against it."""
    b = m.baseline
    if b.missing:
        return [
            Finding(
                severity=Severity.fail,
                message=(
                    f"no reviewed baseline: {', '.join(b.missing)} not found; write it from a reviewed training "
                    f"snapshot with `{COMMAND}` (`{COMMAND} --from PATH` for another file), review it and commit "
                    "it; the batches are not validated until then (or set data.baseline_bootstrap: true to write "
                    "it from the training snapshot on the first run)"
                ),
                evidence={"missing": list(b.missing), "command": COMMAND},
            )
        ]
    findings: list[Finding] = []
    if b.written:
        findings.append(
            Finding(
                severity=Severity.info,
                message=(
                    f"baseline just written from this training snapshot ({m.train_file}, md5 {m.train_md5}): review "
                    f"and commit {', '.join(b.written)}. The test set and the current batch are judged against it; "
                    "the training snapshot itself is judged by absolute measures only (label noise as an upper "
                    f"estimate, label logic not compared) until `{COMMAND}` has been run on a reviewed snapshot"
                ),
                evidence={"written": list(b.written), "train_md5": m.train_md5, "notes": list(b.notes)},
            )
        )
    for s in b.suites.values():
        if s.train_md5 and m.train_md5 and s.train_md5 != m.train_md5 and s.file not in b.written:
            findings.append(
                Finding(
                    severity=p.stale,
                    message=(
                        f"baseline suite {s.name!r} was written from training md5 {s.train_md5} ({s.built_from}), "
                        f"the training snapshot is now {m.train_md5}: review that its contract still holds "
                        f"(`{COMMAND} --force` rewrites it)"
                    ),
                    evidence={"suite": s.name, "file": s.file, "built_from": s.built_from, "train_md5": m.train_md5},
                )
            )
        if s.features is not None and set(s.features) != set(m.features):
            findings.append(
                Finding(
                    severity=p.other_features,
                    message=f"baseline suite {s.name!r} was written for other features than the run's contract: "
                    f"review it (`{COMMAND} --force` rewrites it)",
                    columns=sorted(set(s.features) ^ set(m.features)),
                    evidence={"suite": s.name, "suite_features": list(s.features), "features": list(m.features)},
                )
            )
    if not b.written:
        shown = ", ".join(f"{s.name} ({s.expectations} expectations)" for s in b.suites.values())
        source = next((s for s in b.suites.values() if s.train_md5), None)
        whence = f" written from {source.built_from} (md5 {source.train_md5})" if source else " (written by hand)"
        findings.append(
            Finding(
                severity=Severity.info,
                message=f"baseline {b.dir}: {shown}{whence}",
                evidence={"suites": {s.name: dataclasses.asdict(s) for s in b.suites.values()}},
            )
        )
    for v in m.validated:
        unlabelled = "; no target column: unlabelled, the target suite does not apply" if v.unlabelled else ""
        findings.append(
            Finding(
                severity=Severity.info,
                message=(
                    f"{v.batch}: {v.expectations} expectations ({', '.join(v.suites)}) on {v.rows:,} rows, "
                    f"{v.failed} failed{unlabelled}"
                ),
                evidence={"batch": v.batch, "results": v.results_file, "failed": v.failed, "rows": v.rows},
            )
        )
    return findings
