"""The latency budget, judged on single-row requests (the shape of online traffic)."""

from __future__ import annotations

from tasks.limits import Limit
from tasks.result import Finding, judge
from tasks.serving.server import latency_summary


def latency_budget(latencies_ms: list[float], failed: int, limit: Limit) -> Finding:
    s = latency_summary(latencies_ms)
    return judge(
        "latency_regression",
        s["p99_ms"],
        limit.warn,
        limit.fail,
        f"{s['requests']} single-row requests: p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms "
        f"(budget warn {limit.warn} / fail {limit.fail} ms)",
        evidence={**s, "failed_requests": failed},
    )
