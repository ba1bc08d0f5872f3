"""Layer 6, deployment: register the candidate with its commit and data hashes as tags, serve the registered
version beside the champion (the version holding the alias), prove the served version is the candidate, time
both side by side, try the rollback target, and move the alias only when no check failed.

Promoted if and only if the stage has no failing finding: a failing check leaves the alias where it was. A gate
before this stage that did not pass (tasks.gates.promotion_blockers) means nothing is registered at all. A model
server that exits, never comes up or stops answering (the candidate's, or the champion's once it was up) ends the
serving early with a `model_server` fail finding quoting its log: registered, not promoted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tasks.context import StageContext
from tasks.deployment import wrong_model_deployed
from tasks.deployment.checks import CHECKS
from tasks.deployment.inputs import (
    Answers,
    Candidate,
    DeploymentInputs,
    Production,
    Registered,
    Rollback,
    Shadow,
)
from tasks.deployment.probe import latency_probe
from tasks.deployment.registration import (
    alias_holder,
    client,
    promote,
    promoted_version,
    register,
    registered_model_id,
)
from tasks.frames import load_inputs, require_columns
from tasks.gates import promotion_blockers
from tasks.modeling import ModelRef, load_sklearn, positive_scores
from tasks.result import Finding, Severity, StageOutput
from tasks.serving.server import (
    ModelServer,
    ServerFailure,
    launch,
    pin,
    positive_class,
    shared_cpus,
    stop,
    wait_ready,
)

REGISTERED_FILE = "registered.json"
SERVER_LOG = "server.log"
CHAMPION_LOG = "champion_server.log"
ERROR_CHARS = 500

SHADOW_SEED = 0  # the sample of a large batch the shadow comparison replays


@dataclass
class Servers:
    """The candidate's server (up, or the stage raised) and the champion's (None without a champion, or when
    it did not start: `champion_error` says why)."""

    candidate: ModelServer
    champion: ModelServer | None = None
    champion_error: str | None = None


@contextmanager
def servers(ctx: StageContext, candidate_uri: str, champion_uri: str | None) -> Iterator[Servers]:
    """Start both servers at once (they load side by side), wait for each, pin both to the same CPUs, stop both
    on exit.
    A candidate server that does not start raises ServerFailure (the stage's `model_server` verdict); a champion
    that does not is evidence for broken_rollback. A taken port raises PortInUse (infrastructure). Sharing CPUs
    matters: on a busy machine, two servers of the same model left on CPUs with different run queues answered up
    to 30% apart; pinned to the same CPU, within a few percent."""
    s = ctx.params.serving
    cpus = shared_cpus(ctx.params.deployment.server_cpus)
    common = {
        "tracking_uri": ctx.params.tracking.uri,
        "host": s.host,
        "env": s.env,
        "request_retries": s.request_retries,
        "retry_wait_s": s.retry_wait_s,
    }
    with ExitStack() as stack:
        cand = launch(candidate_uri, log_path=ctx.dir / SERVER_LOG, **common)
        stack.callback(stop, cand)
        champ, up = None, Servers(cand)
        if champion_uri is not None:
            try:
                champ = launch(champion_uri, log_path=ctx.dir / CHAMPION_LOG, **common)
                stack.callback(stop, champ)
            except ServerFailure as e:  # its model could not be fetched
                up.champion_error = str(e)[:ERROR_CHARS]
        wait_ready(cand, s.startup_timeout_s)
        if champ is not None:
            try:
                wait_ready(champ, s.startup_timeout_s)
                up.champion = champ
            except ServerFailure as e:
                up.champion_error = str(e)[:ERROR_CHARS]
        if cpus is not None:
            for server in (cand, up.champion):
                if server is not None:
                    pin(server, cpus)
        yield up


def offline_answers(uri: str, X: pd.DataFrame) -> tuple[int, str | None]:
    """Load `uri` in-process and score X: (finite answers, the error when loading or scoring failed)."""
    try:
        answers = np.asarray(positive_scores(load_sklearn(uri), X), dtype="float64")
    except Exception as e:  # whatever breaks loading or scoring is the evidence
        return 0, f"{type(e).__name__}: {e}"[:ERROR_CHARS]
    return int(np.isfinite(answers).sum()), None


def served_answers(server: ModelServer, X: pd.DataFrame, timeout_s: float) -> tuple[np.ndarray, str | None]:
    answer = server.invoke(X, timeout_s=timeout_s)
    return positive_class(answer.predictions, len(X)), answer.reason


def served_batches(server: ModelServer, X: pd.DataFrame, batch_rows: int, timeout_s: float) -> np.ndarray:
    """Scores for every row of X, sent in batches as the serving stage sends them (NaN where none came)."""
    parts = [served_answers(server, X.iloc[i : i + batch_rows], timeout_s)[0] for i in range(0, len(X), batch_rows)]
    return np.concatenate(parts) if parts else np.array([], dtype="float64")


def shadow_replay(
    ctx: StageContext, up: Servers, traffic: pd.DataFrame, segments: list[str], version: str | None
) -> Shadow:
    """Champion and candidate answer the same replayed traffic (skipped, with the reason, without a champion)."""
    threshold = ctx.params.evaluation.threshold
    none = np.array([], dtype="float64")
    if up.champion is None:
        why = up.champion_error or "no champion yet (first promotion)"
        return Shadow(version, none, none, pd.DataFrame(), threshold, why)
    if traffic.empty:
        return Shadow(
            version, none, none, pd.DataFrame(), threshold, "no replayed traffic (the current batch is empty)"
        )
    s, total = ctx.params.serving, len(traffic)
    if total > ctx.params.deployment.shadow_rows:
        traffic = traffic.sample(n=ctx.params.deployment.shadow_rows, random_state=SHADOW_SEED).sort_index()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="shadow") as pool:  # one server each, at once
        answers = [
            pool.submit(served_batches, server, traffic, s.batch_rows, s.request_timeout_s)
            for server in (up.candidate, up.champion)
        ]
        candidate, champion = (a.result() for a in answers)
    return Shadow(
        version,
        candidate,
        champion,
        traffic[segments].reset_index(drop=True),
        threshold,
        of_rows=total if total > len(traffic) else 0,
    )


def write_registered(ctx: StageContext, record: dict) -> None:
    (ctx.dir / REGISTERED_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")


def version_model_id(registry: Any, name: str, version: str | None) -> str | None:
    from mlflow.exceptions import MlflowException

    if version is None:
        return None
    try:
        return registered_model_id(registry.get_model_version(name, version))
    except MlflowException:  # a recorded version deleted since: no model id to show
        return None


def prepare(
    ctx: StageContext,
    ref: ModelRef,
    X: pd.DataFrame,
    registered: Registered,
    previous: str | None,
    registry: Any,
    recorded: str | None,
    traffic: pd.DataFrame,
) -> tuple[DeploymentInputs, dict[str, float]]:
    """Everything the checks judge: the candidate in-process, the registered version and the champion served
    side by side (answers on the fingerprint rows, interleaved latency rounds), the rollback target loaded; with
    the servers' startup times as metrics."""
    p, timeout_s, name = ctx.params.deployment, ctx.params.serving.request_timeout_s, registered.name
    offline = positive_scores(load_sklearn(ref.model_uri), X)
    previous_uri = f"models:/{name}/{previous}" if previous is not None else None
    rollback_answers, load_error = offline_answers(previous_uri, X) if previous_uri else (0, None)
    served_uri = f"models:/{name}/{registered.version}"
    with servers(ctx, served_uri, previous_uri) as up:
        served, reason = served_answers(up.candidate, X, timeout_s)
        serve_error = up.champion_error
        champion_hash = None
        if up.champion is not None:
            champion_scores, champion_reason = served_answers(up.champion, X, timeout_s)
            missing = int((~np.isfinite(champion_scores)).sum())
            champion_hash = None if missing else wrong_model_deployed.answer_hash(champion_scores)
            if missing:
                serve_error = f"no answer for {missing} of {len(X)} rows" + (
                    f": {champion_reason}" if champion_reason else ""
                )
        latency = latency_probe(
            up.candidate,
            up.champion,
            X,
            rounds=p.latency_rounds,
            warmup=p.latency_warmup,
            timeout_s=timeout_s,
            max_s=p.latency_max_s,
            stall_factor=p.stall_factor,
            stall_min_ms=p.stall_min_ms,
            champion_version=previous,
            champion_error=up.champion_error,
        )
        segments = [c for c in ref.categorical if c not in ref.text]
        shadow = shadow_replay(ctx, up, traffic[ref.features], segments, previous)
        startup = {"server_startup_s": round(up.candidate.startup_s, 3)}
        if up.champion is not None:
            startup["champion_server_startup_s"] = round(up.champion.startup_s, 3)
    x = DeploymentInputs(
        alias=p.alias,
        candidate=Candidate(ref.model_uri, ref.model_id, ref.run_id),
        registered=registered,
        answers=Answers(served_uri, served, offline, reason),
        latency=latency,
        rollback=Rollback(name, previous, previous_uri, len(X), rollback_answers, load_error, serve_error),
        production=Production(
            p.alias,
            previous,
            version_model_id(registry, name, previous),
            recorded,
            version_model_id(registry, name, recorded),
            champion_hash,
        ),
        shadow=shadow,
    )
    return x, startup


def fingerprint_record(measured: wrong_model_deployed.Measurement | None) -> dict:
    """The fingerprint as registered.json keeps it (a row without an answer: null, JSON has no infinity)."""
    if measured is None:
        return {}
    keys = ("rows", "rows_differ", "max_abs_diff", "served_hash", "candidate_hash", "served_uri")
    record = {k: getattr(measured, k) for k in keys}
    if not np.isfinite(measured.max_abs_diff):
        record["max_abs_diff"] = None
    return record


def promotion(
    registry: Any, registered: Registered, alias: str, previous: str | None, findings: list[Finding]
) -> tuple[Finding, bool]:
    """Move the alias when no finding failed (returns the promotion finding and whether it moved)."""
    name, number = registered.name, registered.version
    failing = sorted({f.check for f in findings if f.severity is Severity.fail})
    if failing:
        where = f"stays on version {previous}" if previous else "stays unset"
        return (
            Finding(
                check="promotion",
                severity=Severity.info,
                evidence={"alias": alias, "previous_version": previous, "failed_checks": failing},
                message=f"not promoted: {', '.join(failing)} failed; {name}@{alias} {where}",
            ),
            False,
        )
    promoted = promote(registry, name, alias, number, previous)
    return promoted, promoted.severity is not Severity.fail


def run(ctx: StageContext) -> StageOutput:
    p, tracking, inputs = ctx.params.deployment, ctx.params.tracking, ctx.params.inputs
    name, alias = tracking.registered_model, p.alias
    ref = ModelRef.read(ctx.of("training"))
    record: dict = {
        "name": name,
        "version": None,
        "alias": alias,
        "promoted": False,
        "previous_version": None,
        "tags": {},
        "fingerprint": {},
        "candidate_model_id": ref.model_id,
    }

    gates = promotion_blockers(ctx.out, ctx.params, ctx.run_id)
    if any(f.severity is Severity.fail for f in gates):  # a model that failed validation is not registered
        write_registered(ctx, record)
        return StageOutput(findings=gates, artifacts=[REGISTERED_FILE], metrics={"promoted": 0.0})

    frames = load_inputs(inputs, ("test", "current"))
    test, traffic = frames["test"], frames["current"]
    require_columns(test, ref.features, inputs.test, "feature the candidate was trained on")
    require_columns(traffic, ref.features, inputs.current, "feature the candidate was trained on")
    X = test[ref.features].head(p.fingerprint_rows)

    registry = client(tracking.uri)
    previous = alias_holder(registry, name, alias)
    recorded = promoted_version(registry, name)
    version = register(registry, name, ref, {**ctx.provenance.tags(), "glassbox_run_id": ctx.run_id})
    registered = Registered(
        name, str(version.version), dict(version.tags), registered_model_id(version), version.run_id, version.source
    )
    record.update(version=registered.version, previous_version=previous, tags=registered.tags)

    try:
        x, startup = prepare(ctx, ref, X, registered, previous, registry, recorded, traffic)
    except ServerFailure as e:  # nothing left to judge the served versions by: the failure is the verdict
        findings, judged, extra = [*gates, e.finding()], {}, []
    else:
        checked = ctx.run_checks(CHECKS, x)
        record["fingerprint"] = fingerprint_record(checked.measurements.get("wrong_model_deployed"))
        findings, judged, extra = [*gates, *checked.findings], {**startup, **checked.metrics}, checked.artifacts
    moved, record["promoted"] = promotion(registry, registered, alias, previous, findings)
    findings.append(moved)
    # The registry itself says why a version exists without the alias.
    registry.set_model_version_tag(name, registered.version, "glassbox_promoted", str(record["promoted"]).lower())
    write_registered(ctx, record)

    metrics = {"registered_version": float(registered.version), "promoted": float(record["promoted"]), **judged}
    artifacts = [REGISTERED_FILE, SERVER_LOG] + ([CHAMPION_LOG] if previous is not None else [])
    return StageOutput(findings=findings, artifacts=[*artifacts, *extra], metrics=metrics)
