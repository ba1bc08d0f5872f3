"""Corpus benchmark (run by hand): glassbox on every scenario of benchmarks/corpus/build.py, as a user would run
it, scored against what was planted.

    .venv/bin/python benchmarks/corpus/build.py                  # build the scenarios (offline, seeded)
    .venv/bin/python benchmarks/corpus.py [--jobs 2] [--only 'mpls.*' ...] [--until LAYER] [--timeout S]
    # another version of glassbox on the same scenarios (a checkout of an older commit):
    .venv/bin/python benchmarks/corpus.py --glassbox 'env PYTHONPATH=/tmp/old .venv/bin/python -m flows.cli' \
        --code /tmp/old --data /tmp/old-corpus --results before

Each scenario is a first run on a fresh project: everything but what build.py wrote (the three parquet files,
params.yaml, scenario.json) is removed, the folder is made a git repository of its own with those files committed
(a user's project; `--no-git` leaves it as found), then `glassbox run --params params.yaml --out reports` runs in
the scenario folder and the scenario is scored from the report it writes, reports/report.json. One Prefect home
per worker slot (parallel runs share no Prefect database; the temporary server's migrations run once per slot) and
a Prefect startup timeout that survives a busy machine. A run that outlives `--timeout`, or writes no output for
`--stall` seconds, is killed with its process group and reported as such (`timeout` / `hung`, never a verdict).
`--until LAYER` is a faster development mode, NOT the real measurement: it runs the stages one by one with
`glassbox stage` (what dvc.yaml calls) up to LAYER, stopping where a gate fails.

Scored per scenario: exit code, status, first failure (layer / check); for a fault, whether a finding of the right
kind exists (one of the planting's checks at the severity FAULTS.md asks for: scenario.json, written next to each
planting by build.py) and whether the first failure is in the planted layer and of the right kind (for a
warn-only fault: the right-kind finding with no earlier layer failed); for a clean run, every warn/fail finding
(a clean run must not fail). Times are side by side only. The table goes to stdout and, as JSON and Markdown, to
<results>.{json,md} in the data folder (default corpus-results), with the code's git state at the start and the end
of the measurement (others may edit the code while it runs) and a to-do list grouped by check.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["data", "features", "training", "evaluation", "serving", "deployment", "monitoring"]
ERROR_CHECKS = ("check_error", "stage_error", "input_error")
BUILT = {"train.parquet", "test.parquet", "current.parquet", "params.yaml", "scenario.json"}  # build.py's files
PREFECT_STARTUP_S = "600"  # Prefect's own default (20 s) fails at a load of 5 on 2 cores


def default_glassbox() -> list[str]:
    here = Path(sys.executable).with_name("glassbox")
    return [str(here) if here.is_file() else "glassbox"]


def fresh(folder: Path) -> None:
    """A first run: remove whatever an earlier run left (store, suites, reports, baselines, logs)."""
    for path in folder.iterdir():
        if path.name in BUILT or path.name == ".git":
            continue
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)


def own_repository(folder: Path) -> None:
    """The project is a git repository of its own with the user's files committed, as a user's project is: the
    provenance glassbox records (commit, clean tree) is the project's, not that of a repository the corpus
    happens to sit in (glassbox's own, dirty while it is being worked on), nor missing (a folder outside git)."""
    if (folder / ".git").is_dir():
        return
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "corpus",
        "GIT_AUTHOR_EMAIL": "corpus@example.invalid",
        "GIT_COMMITTER_NAME": "corpus",
        "GIT_COMMITTER_EMAIL": "corpus@example.invalid",
        "GIT_AUTHOR_DATE": "2017-01-01T00:00:00+00:00",
        "GIT_COMMITTER_DATE": "2017-01-01T00:00:00+00:00",
    }
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "--", *sorted(n for n in BUILT - {"scenario.json"} if (folder / n).is_file())],
        ["git", "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "the project's data and params"],
    ):
        subprocess.run(cmd, cwd=folder, env=env, check=True, capture_output=True, timeout=120)


def _wait(proc: subprocess.Popen, log: Path, deadline: float, stall_s: float) -> tuple[int | None, str]:
    """The exit code, or None and why the process was killed: past the deadline, or no output for stall_s."""
    size, quiet_since = (log.stat().st_size if log.is_file() else 0), time.monotonic()
    while True:
        try:
            return proc.wait(timeout=5), ""
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        grown = log.stat().st_size if log.is_file() else 0
        if grown != size:
            size, quiet_since = grown, now
        if now >= deadline or now - quiet_since >= stall_s:
            # its own session: the whole group goes (model servers, the temporary Prefect server)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, ("timeout" if now >= deadline else "hung")


def run_scenario(
    folder: Path, glassbox: list[str], until: str | None, timeout_s: float, stall_s: float, own_repo: bool = True
) -> tuple[int | str, float]:
    """A first run on a fresh project; returns the exit code (or `timeout` / `hung`) and the wall time."""
    fresh(folder)
    if own_repo:
        own_repository(folder)
    slot = threading.current_thread().name.rsplit("_", 1)[-1]
    env = {
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": PREFECT_STARTUP_S,
        **os.environ,
        "PREFECT_HOME": str(folder.parent / f".prefect-{slot}"),
    }
    cmds = [[*glassbox, "run", "--params", "params.yaml", "--out", "reports"]]
    if until:
        stages = LAYERS[: LAYERS.index(until) + 1]
        cmds = [[*glassbox, "stage", s, "--params", "params.yaml", "--out", "reports"] for s in stages]
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    code: int | str = 0
    log_path = folder / "glassbox.log"
    with open(log_path, "w") as log:
        for cmd in cmds:
            log.write(f"$ {shlex.join(cmd)}\n")
            log.flush()
            proc = subprocess.Popen(
                cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            exit_code, killed = _wait(proc, log_path, deadline, stall_s)
            code = exit_code if exit_code is not None else killed
            if code != 0:
                break
    seconds = time.perf_counter() - t0
    if isinstance(code, str):
        why = f"killed after {seconds:.0f} s: " + (
            f"--timeout {timeout_s:.0f} s" if code == "timeout" else f"no output for --stall {stall_s:.0f} s"
        )
        with open(log_path, "a") as log:
            log.write(f"corpus.py: {why}\n")
    (folder / "reports").mkdir(exist_ok=True)
    (folder / "reports" / "corpus-run.json").write_text(json.dumps({"exit": code, "time_s": seconds}) + "\n")
    return code, seconds


def recorded_run(folder: Path) -> tuple[int | str, float]:
    """The exit code and time of the scenario's last run (for --no-run: score what is already there)."""
    path = folder / "reports" / "corpus-run.json"
    if not path.is_file():
        return "unknown", float("nan")
    run = json.loads(path.read_text())
    return run["exit"], run["time_s"]


def _findings(report: dict) -> list[dict]:
    return [{**f, "stage": s["name"]} for s in report["stages"] for f in s["findings"]]


def last_error(log: Path) -> str:
    """The line of glassbox's output that says why it stopped (its one-line error, else the last line)."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()] if log.is_file() else []
    said = [ln for ln in lines if ln.startswith(("glassbox:", "corpus.py:")) or "Error" in ln.split(":")[0]]
    return (said or lines or ["(no output)"])[-1][:300]


def score(meta: dict, report: dict | None, code: int | str, log: Path | None = None) -> dict:
    """One row of the table from the scenario's plan and glassbox's report."""
    row = {
        "scenario": meta["scenario"],
        "dataset": meta["dataset"],
        "fault": meta["fault"],
        "row": meta["row"],
        "expected": f"{meta['layer']} / {'|'.join(meta['checks'])}" if meta["row"] else "-",
        "layer": meta["layer"],
        "checks": meta["checks"],
        "exit": code,
    }
    if report is None:
        return row | {
            "status": code if code in ("timeout", "hung") else "no report",
            "first_failure": "-",
            "right_kind": False if meta["row"] else None,
            "first_right": False if meta["row"] else None,
            "errors": [f"no report.json (exit {code}): {last_error(log) if log else ''}"],
            "noted": [],
            "finding": None,
        }
    ff = report.get("first_failure") or {}
    found = _findings(report)
    errors = [f"{f['stage']}/{f['check']}: {f['message']}".splitlines()[0] for f in found if f["check"] in ERROR_CHECKS]
    if report.get("error"):
        errors.append(str(report["error"]).splitlines()[0])
    elif code not in (0, 1) and log:
        errors.append(f"exit {code}: {last_error(log)}")
    row |= {
        "status": report["status"],
        "first_failure": f"{ff['stage']} / {ff['check']}" if ff else "-",
        "errors": errors,
        "verdicts": {st["name"]: st.get("verdict") for st in report["stages"]},
    }
    problems = [f for f in found if f["severity"] in ("warn", "fail")]
    if not meta["row"]:  # clean: every warn / fail finding is listed
        row["noted"] = [f"{f['severity']} {f['stage']}/{f['check']}: {f['message']}" for f in problems]
        return row | {"right_kind": None, "first_right": None, "finding": None}
    ok = ("warn", "fail") if meta["severity"] == "warn" else ("fail",)
    right = [f for f in found if f["check"] in meta["checks"] and f["severity"] in ok]
    row["right_kind"] = bool(right)
    row["finding"] = (
        f"{right[0]['severity']} {right[0]['stage']}/{right[0]['check']}: {right[0]['message']}" if right else None
    )
    if meta["severity"] == "warn":
        first_fail = LAYERS.index(ff["stage"]) if ff.get("stage") in LAYERS else len(LAYERS)
        row["first_right"] = bool(right) and first_fail >= LAYERS.index(meta["layer"])
    else:
        row["first_right"] = ff.get("stage") == meta["layer"] and ff.get("check") in meta["checks"]
    row["noted"] = [f"{f['severity']} {f['stage']}/{f['check']}: {f['message']}" for f in problems]
    return row


def _yn(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "NO")


def table(rows: list[dict]) -> list[str]:
    head = [
        "scenario",
        "planted row",
        "expected (layer / check)",
        "exit",
        "status",
        "first failure",
        "right kind",
        "first in layer",
        "time s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["scenario"],
            r["row"] or "clean",
            r["expected"],
            str(r["exit"]),
            r["status"],
            r["first_failure"],
            _yn(r["right_kind"]),
            _yn(r["first_right"]),
            f"{r['time_s']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


FINISHED = ("passed", "warned", "failed")


def summary(rows: list[dict]) -> str:
    """The closing line. A clean run that did not finish (timeout, hang, crash, no report) counts as failed: it is
    no quiet verdict; how many did not finish is said apart."""
    clean = [r for r in rows if not r["row"]]
    faults = [r for r in rows if r["row"]]
    failed = sum(r["status"] not in ("passed", "warned") for r in clean)
    caught = sum(bool(r["right_kind"]) for r in faults)
    first = sum(bool(r["first_right"]) for r in faults)
    unfinished = [r for r in rows if r["status"] not in FINISHED]
    line = (
        f"clean runs failed: {failed}/{len(clean)}; faults caught by a finding of the right kind: "
        f"{caught}/{len(faults)}; first failure in the planted layer with the right kind: {first}/{len(faults)}"
    )
    if unfinished:
        kinds = sorted({r["status"] for r in unfinished})
        line += f"; runs without a verdict: {len(unfinished)} ({', '.join(kinds)})"
    return line


def details(rows: list[dict]) -> list[str]:
    """What a person reads next: each clean run's warn/fail findings, each fault's other findings, every error."""
    out: list[str] = []
    for r in rows:
        notes = r.get("noted", []) if not r["row"] else ([] if r["first_right"] else r.get("noted", []))
        if notes or r.get("errors") or (r["row"] and not r["first_right"]):
            out.append(f"- **{r['scenario']}** ({r['status']}, {r['time_s']:.0f} s)")
            if r["row"]:
                out.append(f"  - expected {r['expected']}; right-kind finding: {r.get('finding') or 'none'}")
            out += [f"  - ERROR {e}" for e in r.get("errors", [])]
            out += [f"  - {n}" for n in notes]
    return out


def todo(rows: list[dict]) -> list[str]:
    """The list for the check authors, grouped by check: clean runs' failures by the failing check; faults missed
    (no right-kind finding) or first blamed elsewhere, by the check that should have caught them."""
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] not in FINISHED:
            groups.setdefault("(no verdict)", []).append(f"{r['scenario']}: {r['status']}: {'; '.join(r['errors'])}")
        elif not r["row"]:
            for n in r["noted"]:
                if n.startswith("fail "):
                    check = n.split(":", 1)[0].split(" ", 1)[1]
                    groups.setdefault(check, []).append(f"clean {r['scenario']} FAILS: {n.split(':', 1)[1].strip()}")
        elif not r["first_right"]:
            check = f"{r['layer']}/{'|'.join(r['checks'])}"
            if r.get("verdicts", {}).get(r["layer"]) == "skipped":
                said = f"not reached: the run stopped earlier, at {r['first_failure']}"
            elif not r["right_kind"]:
                said = f"MISSED (first failure {r['first_failure']})"
            else:
                said = f"found, but first failure {r['first_failure']} ({r['finding']})"
            groups.setdefault(check, []).append(f"{r['scenario']}: {said}")
    out: list[str] = []
    for check in sorted(groups):
        out.append(f"- **{check}**")
        out += [f"  - {item}"[:400] for item in groups[check]]
    return out


def git_state(code: Path) -> dict:
    """Which code ran: the commit, the uncommitted change (tracked files' diff and untracked files) in a summary
    line, and a hash of that change's text."""
    paths = ("flows", "tasks", "deployments", "params.yaml")

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            return f"(git failed: {e})"
        return done.stdout

    diff = git("diff", "HEAD", "--", *paths)
    stat = git("diff", "HEAD", "--stat", "--", *paths).strip().splitlines()
    untracked = git("ls-files", "--others", "--exclude-standard", "--", *paths).split()
    digest = hashlib.sha1(diff.encode())
    for name in untracked:
        digest.update(name.encode() + b"\0" + (code / name).read_bytes())
    said = stat[-1].strip() if stat else "no change to tracked files"
    if untracked:
        said += f"; untracked {', '.join(untracked)}"
    return {
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "code": str(code),
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "diff_stat": said,
        "diff_sha1": digest.hexdigest()[:12] if diff or untracked else "-",
    }


def _state_line(name: str, g: dict) -> str:
    return f"{name} {g['at']}: {g['code']} at {g['commit']} + uncommitted {g['diff_stat']} (diff sha1 {g['diff_sha1']})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "corpus" / "data")
    ap.add_argument("--jobs", type=int, default=1, help="scenarios run at once (2 only on an otherwise idle machine)")
    ap.add_argument("--only", nargs="*", default=None, help="scenario name patterns (fnmatch), e.g. 'mpls.*'")
    ap.add_argument("--until", choices=LAYERS, default=None, help="development mode: stages up to LAYER only")
    ap.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds one scenario may take before it is killed (timeout)"
    )
    ap.add_argument(
        "--stall", type=float, default=1200.0, help="seconds without a line of output before a run is killed (hung)"
    )
    ap.add_argument(
        "--glassbox",
        type=shlex.split,
        default=None,
        help="the command that is glassbox (default: this venv's `glassbox`), e.g. "
        "'env PYTHONPATH=/tmp/old .venv/bin/python -m flows.cli'",
    )
    ap.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout that --glassbox runs (its git state is noted)"
    )
    ap.add_argument("--results", default="corpus-results", help="results file name in --data, without extension")
    ap.add_argument("--no-run", action="store_true", help="score the reports already in the scenario folders")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="run only the scenarios without a finished run (an exit code recorded); the table scores them all",
    )
    ap.add_argument(
        "--no-git",
        action="store_true",
        help="run each scenario as found, not as a git repository of its own (provenance: whatever encloses it)",
    )
    ap.add_argument("--note", action="append", default=[], help="a line for the results' header (repeatable)")
    args = ap.parse_args(argv)
    glassbox = args.glassbox or default_glassbox()
    metas = [json.loads(p.read_text()) for p in sorted(args.data.glob("*/scenario.json"))]
    metas = [m for m in metas if not args.only or any(fnmatch.fnmatch(m["scenario"], o) for o in args.only)]
    if not metas:
        print(f"no scenarios in {args.data}: run benchmarks/corpus/build.py first", file=sys.stderr)
        return 2
    if not args.no_run and not (args.code / "flows" / "cli.py").is_file():
        print(f"--code {args.code} holds no glassbox (flows/cli.py)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    at_start = None if args.no_run else git_state(args.code)
    if at_start:
        print(_state_line("start", at_start), file=sys.stderr, flush=True)

    gone: list[str] = []  # set when the code under test vanished: no later run can be trusted

    def one(meta: dict) -> dict | None:
        folder = args.data / meta["scenario"]
        if gone and not args.no_run:
            return None
        if args.no_run and not (folder / "reports" / "corpus-run.json").is_file():
            return None  # never run
        if args.no_run or (args.resume and isinstance(recorded_run(folder)[0], int)):
            code, seconds = recorded_run(folder)
        else:
            code, seconds = run_scenario(folder, glassbox, args.until, args.timeout, args.stall, not args.no_git)
            if not (args.code / "flows" / "cli.py").is_file():
                # an import path that no longer exists falls back silently to whatever glassbox is installed
                gone.append(meta["scenario"])
                (folder / "reports" / "corpus-run.json").unlink(missing_ok=True)
                print(f"{args.code} vanished during {meta['scenario']}: stopping", file=sys.stderr, flush=True)
                return None
        path = folder / "reports" / "report.json"  # `--out reports`: the run's own report
        report = json.loads(path.read_text()) if path.is_file() else None
        row = score(meta, report, code, folder / "glassbox.log") | {"time_s": seconds}
        verdict = "" if not row["row"] else f"right kind {_yn(row['right_kind'])}, first {_yn(row['first_right'])}"
        print(
            f"{row['scenario']:<40} {row['status']:<8} {row['first_failure']:<40} {verdict} ({seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs), thread_name_prefix="worker") as pool:
        rows = [r for r in pool.map(one, metas) if r is not None]
    if gone:
        print(f"stopped: {args.code} vanished during {gone[0]}; the table holds the runs before it", file=sys.stderr)
    at_end = None if args.no_run else git_state(args.code)
    elapsed = time.perf_counter() - started
    closing = summary(rows)
    mode = f"--until {args.until} (development mode, not the real measurement)" if args.until else "full run"
    if args.no_run:  # the code state of the runs is theirs, not this scoring's
        ran = sum(r["time_s"] for r in rows if r["time_s"] == r["time_s"])
        how = [
            f"scored with --no-run from the runs' reports; the scenarios' own run times add up to {ran / 60:.1f} min"
        ]
    else:
        how = [
            f"glassbox: `{shlex.join(glassbox)}`; --jobs {args.jobs}; --timeout {args.timeout:.0f} s; "
            f"--stall {args.stall:.0f} s; {'--no-git; ' if args.no_git else ''}wall time {elapsed / 60:.1f} min",
            "",
            f"- {_state_line('start', at_start)}",
            f"- {_state_line('end', at_end)}",
        ]
    how += [f"- {n}" for n in args.note]
    md = [
        f"# glassbox corpus: {len(rows)} scenarios, {mode}",
        "",
        *how,
        "",
        *table(rows),
        "",
        closing,
        "",
        "## To do, by check",
        "",
        *todo(rows),
        "",
        "## Details",
        "",
        *details(rows),
        "",
    ]
    (args.data / f"{args.results}.md").write_text("\n".join(md))
    meta_out = {
        "mode": mode,
        "glassbox": glassbox,
        "jobs": args.jobs,
        "wall_time_s": elapsed,
        "code_at_start": at_start,
        "code_at_end": at_end,
        "summary": closing,
    }
    (args.data / f"{args.results}.json").write_text(json.dumps(meta_out | {"rows": rows}, indent=2) + "\n")
    print("\n".join(table(rows)))
    print(f"\ntotal {elapsed:.0f} s; results in {args.data / (args.results + '.md')}")
    print(closing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
