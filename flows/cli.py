"""`glassbox run | ci | stage | inject | serve | rollback | metrics | diff | journal | retrained`: parse, load
params once, call, map the outcome to an exit code.

Exit codes: 0 no gate failed; 1 a gate failed (everything was still written); 2 a usage, config or input
error, reported as one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path

from tasks.errors import ConfigError
from tasks.params import STAGES, Params, load_params
from tasks.project_lock import project_lock

# Defaults a user's own environment may override: telemetry off, and a Prefect temporary server given time to
# start on a busy machine (Prefect's 20 s is not enough at a load of 3 on 2 cores; a healthy start takes ~5 s).
OFFLINE_ENV = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "GIT_PYTHON_REFRESH": "quiet",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 as well; keep it to one line
        print(f"glassbox: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="glassbox", description="Debug-gated ML pipeline: data to monitoring, each layer a gate.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, help_ in (
        ("run", "run the whole flow"),
        ("ci", "run the whole flow and print its verdict table in markdown (a pull-request comment)"),
        ("stage", "run one stage (what dvc.yaml calls)"),
    ):
        s = sub.add_parser(name, help=help_)
        if name == "stage":
            s.add_argument("name", choices=STAGES)
        s.add_argument("--params", default="params.yaml", type=Path)
        s.add_argument("--out", default="reports/latest", type=Path)
    s = sub.add_parser("serve", help="serve the nightly and on-retrain deployments (needs PREFECT_API_URL)")
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument("--out", default="reports/latest", type=Path)
    s = sub.add_parser("inject", help="plant one known fault into a copy of the demo and run the flow on it")
    s.add_argument("fault", nargs="?", help="a fault id (see --list)")
    s.add_argument("--list", action="store_true", help="list the faults with their layer")
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument(
        "--out", default=None, type=Path, help="where the copy and its report go (default reports/inject/FAULT)"
    )
    s = sub.add_parser("params", help="validate params.yaml; --explain lists every key, its default and meaning")
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument("--explain", action="store_true")
    s = sub.add_parser(
        "baseline", help="write the reviewed baseline (GX suites, label profile) from a training snapshot"
    )
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument("--from", dest="source", default=None, type=Path, help="the snapshot (default: inputs.train)")
    s.add_argument("--force", action="store_true", help="replace a baseline that already exists")
    s = sub.add_parser("rollback", help="point the deployment alias back at an earlier version (loaded first)")
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument("--to", default=None, help="the version (default: the one promoted before the current holder)")
    s = sub.add_parser("metrics", help="serve the latest run's metrics.prom for Prometheus on 127.0.0.1")
    s.add_argument("--out", default="reports/latest", type=Path, help="the report folder holding metrics.prom")
    s.add_argument("--port", default=9108, type=int)
    s.add_argument("--write", action="store_true", help="only (re)write metrics.prom from the folder's report.json")
    s = sub.add_parser("diff", help="what changed from run A to run B; exit 1 when B's verdicts are worse")
    s.add_argument("a", help="a report folder, a report.json, or a run id (glassbox's or MLflow's)")
    s.add_argument("b")
    s.add_argument("--params", default="params.yaml", type=Path, help="the project (its MLflow store, its git)")
    s.add_argument("--json", action="store_true", help="the whole difference as JSON")
    s = sub.add_parser("journal", help="the debug journal: list entries, or `note RUN TEXT` to record a cause and fix")
    s.add_argument("action", nargs="?", choices=["note"], help="note: add TEXT to RUN's entry")
    s.add_argument("run", nargs="?", help="a run id (or a prefix naming one entry)")
    s.add_argument("text", nargs="?", help="what the cause was and what fixed it")
    s.add_argument("--params", default="params.yaml", type=Path)
    s = sub.add_parser("retrained", help="tell the Prefect server a retrain completed (starts on-retrain)")
    s.add_argument("--params", default="params.yaml", type=Path)
    s.add_argument("--model-uri", default=None)
    s.add_argument("--version", default=None)
    return p


def _exit_code(report: dict) -> int:
    if report.get("error"):
        print(f"glassbox: {report['error']}", file=sys.stderr)
        return 2
    return 1 if report["status"] == "failed" else 0


def cmd_run(params_path: Path, out: Path) -> int:
    from flows.engine import reach_cluster
    from tasks.input_files import check_inputs
    from tasks.redact import public_uri
    from tasks.tracking import reach_store

    params = load_params(params_path)  # fail fast, before a Prefect server starts
    report_path = out / "report.json"
    before = _run_id(report_path)  # the last run's report stays until this one replaces it whole
    with project_lock(params.root):
        check_inputs(params)
        reach_store(params.tracking)
        reach_cluster(params.engine)  # a Dask scheduler that does not answer: one line, before Prefect starts
        from deployments.schedules import local_only
        from flows.pipeline import pipeline

        # Prefect's settings as `glassbox serve` runs flows, whatever this process's say (a caller that imported
        # Prefect before us, a settings context another caller left): no client metrics server on 0.0.0.0, here
        # or, through the settings each submitted stage carries, on a Dask worker
        with local_only():
            pipeline(params_path=str(params_path), out=str(out), return_state=True)
    if _run_id(report_path) in (None, before):
        print(f"glassbox: the flow ended before writing {report_path}; see the log above", file=sys.stderr)
        return 1
    report = json.loads(report_path.read_text())
    print(f"\nglassbox {report['status'].upper()}: report {(out / 'report.html').resolve()}")
    uri = public_uri(params.tracking.tracking_uri)  # a database password stays in params, out of the log
    print(f"MLflow run {report['provenance']['mlflow_run_id']} (mlflow ui --backend-store-uri {uri})")
    if report["first_failure"]:
        ff = report["first_failure"]
        print(f"first failure: {ff['stage']} / {ff['check']}: {ff['message']}")
    return _exit_code(report)


def _run_id(report_path: Path) -> str | None:
    try:
        return json.loads(report_path.read_text()).get("run_id")
    except (OSError, ValueError):
        return None


def cmd_ci(params_path: Path, out: Path) -> int:
    """`run`, then the verdict table on stdout and in `out/verdict.md`; the exit code is `run`'s."""
    from tasks.report import verdict_table

    code = cmd_run(params_path, out)
    report_path = out / "report.json"
    if report_path.is_file():
        table = verdict_table(json.loads(report_path.read_text()))
        (out / "verdict.md").write_text(table)
        print(f"\n{table}", end="")
    return code


def cmd_stage(name: str, params_path: Path, out: Path) -> int:
    from tasks.input_files import check_inputs

    params = load_params(params_path)
    if name == "snapshot" and not params.snapshot.demo:
        print(
            "glassbox: snapshot.demo is false: remove the snapshot stage from dvc.yaml for your own data",
            file=sys.stderr,
        )
        return 2
    with project_lock(params.root):
        if name == "data":  # the first stage that reads the inputs: their form before its evidence is replaced
            check_inputs(params)
        return _stage(name, params, out)


def _stage(name: str, params: Params, out: Path) -> int:
    from tasks.runner import attach_run, execute_stage, run_sequence
    from tasks.tracking import reach_store

    reach_store(params.tracking)
    run = attach_run(params, out, name)
    outcome = run_sequence([name], params, out, run, lambda n, r: execute_stage(n, params, out, r), log=lambda _: None)
    result = next(s for s in outcome.report["stages"] if s["name"] == name)
    if outcome.stopped or name == STAGES[-1]:  # the pipeline is over: metrics.prom, and the alert when one is due
        from flows.notify import after_run

        after_run(outcome.report, params, out, artifact=None)
    print(f"glassbox stage {name}: {result['verdict'].upper()} in {result['duration_s']:.1f} s")
    if outcome.error:
        print(f"glassbox: {outcome.error}", file=sys.stderr)
        return 2
    if outcome.crash is not None:
        raise outcome.crash
    return 1 if outcome.stopped else 0


def cmd_params(params_path: Path, explain: bool) -> int:
    from tasks.params import explain as explained

    load_params(params_path)
    print("\n".join(explained()) if explain else f"{params_path}: valid")
    return 0


def cmd_baseline(params_path: Path, source: Path | None, force: bool) -> int:
    params = load_params(params_path)
    from tasks.data.baseline import write_baseline

    with project_lock(params.root):
        lines = write_baseline(params, source or params.inputs.train, force=force)
    for line in lines:
        print(line)
    return 0


def cmd_serve(params_path: Path, out: Path) -> int:
    load_params(params_path)
    from deployments.schedules import serve_all

    serve_all(params_path=str(params_path), out=str(out))
    return 0


def cmd_inject(fault: str | None, show: bool, params_path: Path, out: Path | None) -> int:
    """Never touches the user's data or the pinned snapshot: the fault goes into a copy with its own stores."""
    load_params(params_path)
    from tasks.demo.catalog import list_faults
    from tasks.demo.inject import inject

    faults = list_faults()
    if show or fault is None:
        width = max(len(f.id) for f in faults)
        for f in faults:
            print(f"{f.id:<{width}}  {f.layer:<10}  {f.description}")
        return 0 if show else 2
    known = {f.id: f for f in faults}
    if fault not in known:
        raise ConfigError(f"unknown fault {fault!r}; `glassbox inject --list` lists them")
    out = out or Path("reports") / "inject" / fault
    planted_params = inject(fault, params_path, out)
    code = cmd_run(planted_params, out / "reports")
    report = json.loads((out / "reports" / "report.json").read_text())
    first = (report.get("first_failure") or {}).get("stage")
    expected = known[fault].layer
    verdict = "caught in its layer" if first == expected else f"expected the {expected} layer to fail first"
    print(f"inject {fault}: first failing layer {first or 'none'}; {verdict}")
    return code


def cmd_metrics(out: Path, port: int, write: bool) -> int:
    """Serve `out/metrics.prom`, re-read at every scrape, on 127.0.0.1 until Ctrl-C; `--write` rebuilds it from
    the folder's report (after `dvc repro`, which does not write it)."""
    import signal

    from tasks.metrics_export import TEXTFILE, serve_textfile, write_metrics

    if write:
        report_file = out / "report.json"
        if not report_file.is_file():
            raise ConfigError(f"{report_file}: not found; run `glassbox run` (or dvc repro) first")
        print(f"wrote {write_metrics(out, json.loads(report_file.read_text()))}")
        return 0
    if not (out / TEXTFILE).is_file():
        print(f"glassbox: {out / TEXTFILE} does not exist yet; serving it once a run writes it", file=sys.stderr)
    # Ctrl-C and SIGTERM are blocked before the server's thread starts (it inherits the mask) and taken with
    # sigwait: a KeyboardInterrupt could land anywhere, in the print below too (exit -2, 1 start in 10 when the
    # signal came right after the line), or on the wrong thread.
    stop = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        server, _ = serve_textfile(out / TEXTFILE, port)
    except OSError as e:
        raise ConfigError(f"--port {port}: cannot listen on 127.0.0.1 ({e.strerror or e})") from None
    print(f"serving {(out / TEXTFILE).resolve()} at http://127.0.0.1:{server.server_port}/metrics (Ctrl-C stops)")
    signal.sigwait(stop)
    server.shutdown()
    return 0


def cmd_rollback(params_path: Path, to: str | None) -> int:
    params = load_params(params_path)
    from tasks.deployment.registration import client, rollback
    from tasks.result import Severity
    from tasks.tracking import configure

    configure(params.tracking)
    name, alias = params.tracking.registered_model, params.deployment.alias
    try:
        with project_lock(params.root):
            done = rollback(client(params.tracking.uri), name, alias, to)
    except ValueError as e:
        raise ConfigError(f"{params.tracking.uri}: {e}") from None
    print(f"glassbox rollback: {done.message}")
    return 1 if done.severity is Severity.fail else 0


def cmd_diff(a: str, b: str, params_path: Path, as_json: bool) -> int:
    params = load_params(params_path)
    from tasks.diff import diff, load_report, to_text

    d = diff(load_report(a, params.tracking.uri), load_report(b, params.tracking.uri), params.root)
    print(json.dumps(d, indent=2) if as_json else to_text(d), end="\n" if as_json else "")
    return 1 if d["worse"] else 0


def cmd_journal(action: str | None, run: str | None, text: str | None, params_path: Path) -> int:
    from tasks.journal import JOURNAL_DIR, add_note, listing

    folder = load_params(params_path).root / JOURNAL_DIR
    if action == "note":
        if not run or text is None:
            raise ConfigError('journal note: give the run and the note: glassbox journal note RUN "cause and fix"')
        entry = add_note(folder, run, text)
        print(f"noted on {entry.run_id} ({len(entry.notes)} note(s)): {folder / (entry.run_id + '.json')}")
        return 0
    lines = listing(folder)
    print("\n".join(lines) if lines else f"{folder}: no entries yet (a failing run opens one)")
    return 0


def cmd_retrained(params_path: Path, model_uri: str | None, version: str | None) -> int:
    params = load_params(params_path)
    from deployments.schedules import emit_retrain_completed

    event = emit_retrain_completed(params.tracking.registered_model, model_uri=model_uri, version=version)
    print(f"sent {event.event} for {params.tracking.registered_model}")
    return 0


def process_defaults() -> None:
    """What a glassbox process sets before any work: the CLI's, and a Dask worker's before it runs a stage."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    # Prefect's client metrics server binds 0.0.0.0 when a user's settings turn it on: never, here
    os.environ["PREFECT_CLIENT_METRICS_ENABLED"] = "false"
    # MLflow's INFO lines (table migrations, "active model is set") drown the stage verdicts a user watches.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # Integer columns stay integers in model signatures on purpose: a NaN or a string sent for one is a
    # serving-time type error the serving layer reports, not something to paper over as float.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=UserWarning)


def main(argv: list[str] | None = None) -> int:
    process_defaults()
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args.params, args.out)
        if args.command == "ci":
            return cmd_ci(args.params, args.out)
        if args.command == "stage":
            return cmd_stage(args.name, args.params, args.out)
        if args.command == "inject":
            return cmd_inject(args.fault, args.list, args.params, args.out)
        if args.command == "params":
            return cmd_params(args.params, args.explain)
        if args.command == "baseline":
            return cmd_baseline(args.params, args.source, args.force)
        if args.command == "rollback":
            return cmd_rollback(args.params, args.to)
        if args.command == "metrics":
            return cmd_metrics(args.out, args.port, args.write)
        if args.command == "diff":
            return cmd_diff(args.a, args.b, args.params, args.json)
        if args.command == "journal":
            return cmd_journal(args.action, args.run, args.text, args.params)
        if args.command == "retrained":
            return cmd_retrained(args.params, args.model_uri, args.version)
        return cmd_serve(args.params, args.out)
    except ConfigError as e:
        print(f"glassbox: {e}", file=sys.stderr)
        return 2


def entry() -> None:
    """The `glassbox` command. An input error found before anything started (no Prefect, no MLflow imported)
    leaves with os._exit once the streams are flushed: the native thread pools the checks' libraries start
    (Arrow's among them) are torn down at interpreter exit, and about one such exit in 40 aborted ("terminate
    called without an active exception"), turning the promised exit 2 into a SIGABRT."""
    code = main()
    if code == 2 and not {"prefect", "mlflow"} & set(sys.modules):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    entry()
