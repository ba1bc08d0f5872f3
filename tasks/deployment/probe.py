"""Timing the candidate beside the champion: single-row requests in interleaved rounds, with two calibrations
taken at the same moments (a /ping of the same server before each request, and a thread that notes how late its
short sleeps wake up while the round runs), so that load on the machine falls on both models and is seen when it
does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from tasks.deployment.inputs import LatencyProbe

TICK_S = 0.002  # the stall meter's sleep: ~500 wake-ups a second, no measurable CPU


class Server(Protocol):
    def invoke(self, frame: pd.DataFrame, timeout_s: float): ...

    def ping(self, timeout_s: float) -> float: ...


class StallMeter:
    """A thread that sleeps `tick_s` again and again and records how late each wake-up came: when the machine
    stalls (no CPU for this process, memory pressure), it wakes late at the very moments the requests are
    timed. `late_ms(start, end)` is the latest wake-up between two `time.perf_counter()` readings."""

    def __init__(self, tick_s: float = TICK_S):
        self.tick_s = tick_s
        self.woke: list[float] = []
        self.late: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="glassbox-stall-meter", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            time.sleep(self.tick_s)
            now = time.perf_counter()
            self.woke.append(now)
            self.late.append((now - start - self.tick_s) * 1000)

    def __enter__(self) -> StallMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def late_ms(self, start: float, end: float) -> float:
        """The latest wake-up due in [start, end] (a wake-up due then may come after `end`: the next one after it
        counts too); NaN when the meter has not run."""
        woke = np.asarray(self.woke[: len(self.late)])
        if woke.size == 0:
            return float("nan")
        lo, hi = np.searchsorted(woke, start), np.searchsorted(woke, end, side="right") + 1
        window = np.asarray(self.late[lo:hi])
        return float(window.max()) if window.size else float("nan")


def timed(server: Server, row: pd.DataFrame, timeout_s: float) -> float:
    """One request's latency in ms, NaN when the server refused it (a model server that stopped answering raises
    ServerFailure instead, ending the probe)."""
    answer = server.invoke(row, timeout_s=timeout_s)
    return float(answer.latency_ms) if answer.ok else float("nan")


def _max(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return max(finite) if finite else float("nan")


def probe(
    candidate: Server,
    champion: Server | None,
    X: pd.DataFrame,
    *,
    rounds: int,
    warmup: int,
    timeout_s: float,
    max_s: float,
    clock: Callable[[], float] = time.monotonic,
    meter: StallMeter | None = None,
) -> tuple[list[float], list[float], list[float]]:
    """(candidate_ms, champion_ms, calibration_ms) per round; champion_ms is empty without a champion.

    Round i sends row i of X (cycling) to each server, preceded by a /ping of that server; the order of the two
    servers alternates (A B, B A, ...) so neither always goes first. The round's calibration is the slowest of
    its /pings and of the stall meter's wake-ups during the round (when a meter runs). Rounds stop early when
    `max_s` seconds have passed since the first timed round.
    """
    servers = [candidate] if champion is None else [candidate, champion]
    for i in range(warmup):
        for s in servers:
            s.invoke(X.iloc[[i % len(X)]], timeout_s=timeout_s)
    a: list[float] = []
    b: list[float] = []
    cal: list[float] = []
    deadline = clock() + max_s
    for i in range(rounds):
        if clock() > deadline:
            break
        row = X.iloc[[i % len(X)]]
        order = servers if i % 2 == 0 else servers[::-1]
        took: dict[int, float] = {}
        signals = []
        start = time.perf_counter()
        for s in order:
            signals.append(s.ping(timeout_s))
            took[id(s)] = timed(s, row, timeout_s)
        if meter is not None:
            signals.append(meter.late_ms(start, time.perf_counter()))
        a.append(took[id(candidate)])
        if champion is not None:
            b.append(took[id(champion)])
        cal.append(_max(signals))
    return a, b, cal


def latency_probe(
    candidate: Server,
    champion: Server | None,
    X: pd.DataFrame,
    *,
    rounds: int,
    warmup: int,
    timeout_s: float,
    max_s: float,
    stall_factor: float,
    stall_min_ms: float,
    champion_version: str | None,
    champion_error: str | None,
) -> LatencyProbe:
    """The probe record for the checks, timed with a stall meter running alongside."""
    with StallMeter() as meter:
        a, b, cal = probe(
            candidate, champion, X, rounds=rounds, warmup=warmup, timeout_s=timeout_s, max_s=max_s, meter=meter
        )
    if champion is not None and b and not np.isfinite(b).any() and champion_error is None:
        champion_error = f"none of its {len(b)} timed requests was answered"
    return LatencyProbe(
        candidate_ms=tuple(a),
        calibration_ms=tuple(cal),
        champion_ms=tuple(b),
        champion_version=champion_version,
        champion_error=champion_error,
        warmup=warmup,
        stall_factor=stall_factor,
        stall_min_ms=stall_min_ms,
    )
