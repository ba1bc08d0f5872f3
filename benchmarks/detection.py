"""Detection benchmark (run by hand): plant every fault of the contract into the full demo, run the whole flow
on each faulty project, and print which were caught in their own layer by their own check.

    .venv/bin/python benchmarks/detection.py [--params params.yaml] [--out reports/detection] [--only ID ...]

"Caught" means that stage reports the fault's check at the contract's severity AND no earlier stage fails:
the first failing stage is the fault's layer (for a warn-only fault: none, or a later one). The clean demo
runs last, in the same layout; its fail findings are counted (it must have none). All runs share one Prefect
server (this process's) and each has its own MLflow store.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path


def first_failing(report: dict) -> str | None:
    return next((s["name"] for s in report["stages"] if s["verdict"] == "fail"), None)


def is_caught(report: dict, layer: str, check: str, severity: str) -> bool:
    names = [s["name"] for s in report["stages"]]
    first = first_failing(report)
    in_order = first == layer or (severity == "warn" and (first is None or names.index(first) > names.index(layer)))
    return in_order and judged(report, layer, check, severity)


def judged(report: dict, layer: str, check: str, severity: str) -> bool:
    stage = next((s for s in report["stages"] if s["name"] == layer), None)
    return stage is not None and any(f["check"] == check and f["severity"] == severity for f in stage["findings"])


def run_flow(params: Path, out: Path, quiet: bool) -> tuple[dict, float]:
    from flows import cli

    t0 = time.perf_counter()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        cli.main(["run", "--params", str(params), "--out", str(out)])
    return json.loads((out / "report.json").read_text()), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"), help="the demo project's params")
    ap.add_argument("--out", type=Path, default=Path("reports/detection"))
    ap.add_argument("--only", nargs="*", default=None, help="fault ids (default: all)")
    ap.add_argument("--no-clean", action="store_true", help="skip the clean control run")
    ap.add_argument("--verbose", action="store_true", help="show the flow's output")
    args = ap.parse_args(argv)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from tasks.demo.catalog import FAULTS
    from tasks.demo.inject import inject, write_clean

    chosen = args.only or list(FAULTS)
    out = args.out.resolve()
    rows: list[dict] = []
    started = time.perf_counter()
    for fid in chosen:
        fault = FAULTS[fid]
        t0 = time.perf_counter()
        params = inject(fid, args.params, out / fid)
        planted_s = time.perf_counter() - t0
        report, flow_s = run_flow(params, out / fid / "report", quiet=not args.verbose)
        first = first_failing(report)
        ff = report.get("first_failure") or {}
        row = {
            "fault": fid,
            "layer": fault.layer,
            "check": fault.check,
            "caught": is_caught(report, fault.layer, fault.check, fault.severity.value),
            "first_failing": first or "-",
            "first_check": ff.get("check", "-"),
            "plant_s": planted_s,
            "flow_s": flow_s,
        }
        rows.append(row)
        print(
            f"{fid:<22} {'caught' if row['caught'] else 'MISSED':<7} first fail: {row['first_failing']} / "
            f"{row['first_check']}  ({planted_s + flow_s:.0f} s)",
            file=sys.stderr,
        )

    clean_fails: list[tuple[str, str, str]] | None = None
    clean_s = 0.0
    if not args.no_clean:
        params = write_clean(args.params, out / "clean")
        report, clean_s = run_flow(params, out / "clean" / "report", quiet=not args.verbose)
        clean_fails = [
            (s["name"], f["check"], f["message"])
            for s in report["stages"]
            for f in s["findings"]
            if f["severity"] == "fail"
        ]

    header = f"{'fault':<22} {'expected layer':<15} {'expected check':<22} {'caught':<7} {'first failing':<14} "
    header += f"{'first failing check':<26} {'time s':>7}"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(
            f"{r['fault']:<22} {r['layer']:<15} {r['check']:<22} {'yes' if r['caught'] else 'no':<7} "
            f"{r['first_failing']:<14} {r['first_check']:<26} {r['plant_s'] + r['flow_s']:>7.1f}"
        )
    caught = sum(r["caught"] for r in rows)
    print("-" * len(header))
    if rows:
        flow_times = sorted(r["flow_s"] for r in rows)
        print(f"caught {caught}/{len(rows)} ({caught / len(rows):.0%}) in their own layer by their own check")
        print(f"flow time per fault: median {flow_times[len(flow_times) // 2]:.1f} s, max {flow_times[-1]:.1f} s")
    if clean_fails is not None:
        print(f"clean demo: {len(clean_fails)} fail finding(s) in {clean_s:.1f} s")
        for stage, check, message in clean_fails:
            print(f"  {stage} / {check}: {message}")
    print(f"total {time.perf_counter() - started:.1f} s; reports under {out}")
    return 0 if caught == len(rows) and not clean_fails else 1


if __name__ == "__main__":
    raise SystemExit(main())
