"""kill -9 of `glassbox run` at every stage boundary and in the middle of every stage, on one project, each kill
followed by the next run: prints one row per point and exits 1 if any promise broke.

    .venv/bin/python benchmarks/kill_sweep.py [--dir /tmp/kill-sweep] [--stages data,features]

Promises checked after each kill: the last complete run's report.json is byte for byte what it was, no temporary
file is left, every earlier finished MLflow run is still FINISHED with the same artifacts, every registered model
version keeps its source. After the last kill, one more run: it completes, every killed parent is KILLED and
tagged with the stage it died in or after, and nothing is RUNNING. One flow run per point (Prefect's server start
each time): about 15-25 min on a 2-core box.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.params import STAGES  # noqa: E402
from tests.flow.fakes import glassbox_process, small_project  # noqa: E402

WAIT_S = 900  # the longest a point may take to come; the poll ends as soon as it does


@dataclass
class Point:
    stage: str
    when: str  # "before": the previous stage recorded, this one not begun; "during": half its time in

    @property
    def name(self) -> str:
        return f"{self.when} {self.stage}"


def _client(root: Path):
    import mlflow

    return mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")


def _runs(root: Path) -> list:
    if not (root / "mlflow.db").is_file():
        return []
    client = _client(root)
    return client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=5000)


def _run_state(root: Path) -> dict:
    try:
        return json.loads((root / "reports" / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def _reached(root: Path, point: Point, previous_run: str | None) -> bool:
    state = _run_state(root)
    if not state or state.get("run_id") == previous_run:
        return False
    order = [s for s in STAGES if s != "snapshot"]
    if point.when == "before":
        return state.get("stages", []) == order[: order.index(point.stage)]
    parent = state.get("mlflow_run_id")
    return any(
        r.data.tags.get("glassbox.stage") == point.stage
        and r.data.tags.get("mlflow.parentRunId") == parent
        and r.info.status == "RUNNING"
        for r in _runs(root)
    )


def _store(root: Path) -> dict:
    """What earlier complete runs left: finished runs with their artifact lists, model versions with sources."""
    client = _client(root)
    finished = {}
    for r in _runs(root):
        if r.info.status == "FINISHED":
            finished[r.info.run_id] = sorted(a.path for a in client.list_artifacts(r.info.run_id))
    versions = {(m.name, m.version): (m.source, m.run_id) for m in client.search_model_versions(max_results=1000)}
    return {"finished": finished, "versions": versions}


def _broken(root: Path, report_before: bytes, store_before: dict) -> list[str]:
    import pyarrow.parquet as pq

    broken = []
    if (root / "reports" / "report.json").read_bytes() != report_before:
        broken.append("report.json changed")
    for path in [*root.glob("reports/**/*.json"), *root.glob("gx/**/*.json")]:
        try:
            json.loads(path.read_text())
        except ValueError:
            broken.append(f"{path.relative_to(root)} is not whole JSON")
    for path in root.glob("inference_store/**/*.parquet"):
        try:
            pq.read_metadata(path)
        except Exception:
            broken.append(f"{path.relative_to(root)} is not a whole Parquet file")
    tmp = [str(p.relative_to(root)) for p in root.rglob("*.tmp")]
    if tmp:
        broken.append(f"temporary files left: {tmp}")
    now = _store(root)
    for run_id, artifacts in store_before["finished"].items():
        if now["finished"].get(run_id) != artifacts:
            broken.append(f"finished run {run_id} changed")
    for key, source in store_before["versions"].items():
        if now["versions"].get(key) != source:
            broken.append(f"model version {key} changed")
    return broken


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kill-sweep"))
    ap.add_argument("--stages", default=",".join(s for s in STAGES if s != "snapshot"))
    args = ap.parse_args()
    root = args.dir
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    small_project(root)
    git = ["git", "-c", "user.name=sweep", "-c", "user.email=sweep@localhost"]
    (root / ".gitignore").write_text("mlflow.db\nmlartifacts/\nreports/\n.glassbox*\nglassbox.log\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "project"]):  # versions are tied to a commit
        subprocess.run([*git, *command], cwd=root, check=True)
    points = [Point(s, w) for s in args.stages.split(",") for w in ("before", "during")]

    t0 = time.monotonic()
    first = glassbox_process(root, "run").wait(timeout=WAIT_S)
    print(f"complete run: exit {first} in {time.monotonic() - t0:.0f} s", flush=True)
    if first not in (0, 1):
        return 1
    took = {s["name"]: s["duration_s"] for s in json.loads((root / "reports" / "report.json").read_text())["stages"]}
    rows, killed, failures = [], {}, 0
    for point in points:
        report_before = (root / "reports" / "report.json").read_bytes()
        store_before = _store(root)
        previous_run = _run_state(root).get("run_id")
        t0 = time.monotonic()
        proc = glassbox_process(root, "run")
        while not _reached(root, point, previous_run):
            if proc.poll() is not None or time.monotonic() - t0 > WAIT_S:
                break
            time.sleep(0.1)  # polling a condition, bounded by WAIT_S
        if point.when == "during":  # half the stage's time in the complete run: in the middle of its work
            time.sleep(took.get(point.stage, 0) / 2)
        if proc.poll() is not None:
            rows.append((point.name, "never reached (the run ended first)", ""))
            failures += 1
            continue
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed[_run_state(root)["mlflow_run_id"]] = point
        broken = _broken(root, report_before, store_before)
        failures += bool(broken)
        rows.append((point.name, f"killed after {time.monotonic() - t0:.0f} s", "; ".join(broken) or "whole"))
        print(f"{point.name}: {rows[-1][1]}: {rows[-1][2]}", flush=True)

    t0 = time.monotonic()
    rerun = glassbox_process(root, "run")
    code = rerun.wait(timeout=WAIT_S)
    report = json.loads((root / "reports" / "report.json").read_text())
    done = [s["name"] for s in report["stages"] if s["verdict"] != "skipped"]
    runs = {r.info.run_id: r for r in _runs(root)}
    closed = []
    for run_id, point in killed.items():
        r = runs[run_id]
        at = r.data.tags.get("glassbox.killed_in")
        order = [s for s in STAGES if s != "snapshot"]
        expected = point.stage if point.when == "during" else order[max(order.index(point.stage) - 1, 0)]
        ok = r.info.status == "KILLED" and (at == expected or (point.when == "before" and at in (point.stage, "none")))
        closed.append(ok)
        if not ok:
            print(f"{point.name}: parent {run_id} is {r.info.status}, killed_in={at} (expected {expected})")
    running = [r.info.run_name for r in runs.values() if r.info.status == "RUNNING"]
    print(f"\nlast run: exit {code} in {time.monotonic() - t0:.0f} s; stages with a verdict: {', '.join(done)}")
    print(f"killed parents closed as KILLED with their stage: {sum(closed)}/{len(closed)}; RUNNING left: {running}")
    print("\n| point | kill | after the kill |\n|---|---|---|")
    for row in rows:
        print(f"| {' | '.join(row)} |")
    ok = not failures and all(closed) and not running and code in (0, 1) and "monitoring" in done
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
