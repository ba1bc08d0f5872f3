"""The latency statistics and checks on synthetic samples (no server, no clock: nothing here depends on how fast
this machine is), and the probe's request order on fake servers."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import mlflow
import numpy as np
import pandas as pd
import pytest

from tasks.deployment import latency_budget, latency_regression
from tasks.deployment.inputs import LatencyProbe
from tasks.deployment.latency import quantile_upper_bound, ratio_bounds, requests_for_bound, stalled
from tasks.deployment.probe import StallMeter, latency_probe, probe
from tasks.result import Severity
from tasks.serving.server import Answer
from tests.checking import findings
from tests.unit.test_deployment_checks import deployment_inputs

ROUNDS = 300


def samples(
    slowdown: float = 1.0,
    *,
    seed: int = 0,
    load: np.ndarray | None = None,
    stalls: dict[str, list[int]] | None = None,
    stall_ms: float = 1200.0,
    champion: bool = True,
) -> LatencyProbe:
    """Rounds of a champion at ~15 ms and a candidate `slowdown` times that, with request-to-request noise; `load`
    multiplies both (and the /ping) round by round; `stalls` adds `stall_ms` to the named side's requests in the
    given rounds ("both" and "ping" as well: a stall the calibration sees)."""
    rng = np.random.default_rng(seed)
    load = np.ones(ROUNDS) if load is None else load
    b = 15.0 * load * rng.lognormal(0, 0.2, ROUNDS)
    a = slowdown * 15.0 * load * rng.lognormal(0, 0.2, ROUNDS)
    cal = 1.5 * load * rng.lognormal(0, 0.1, ROUNDS)
    for side, rounds in (stalls or {}).items():
        extra = np.zeros(ROUNDS)
        extra[rounds] = stall_ms * rng.uniform(0.5, 1.5, len(rounds))
        if side in ("candidate", "both"):
            a = a + extra
        if side in ("champion", "both"):
            b = b + extra
        if side in ("ping", "both"):
            cal = cal + extra
    return LatencyProbe(
        candidate_ms=tuple(a),
        calibration_ms=tuple(cal),
        champion_ms=tuple(b) if champion else (),
        champion_version="2" if champion else None,
    )


def regression(probe_: LatencyProbe, params=None):
    found = findings(latency_regression, deployment_inputs(latency=probe_), params)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def budget(probe_: LatencyProbe, params=None):
    return findings(latency_budget, deployment_inputs(latency=probe_), params)


# --- the statistics --------------------------------------------------------------------------------------------


def test_stalled_rounds_are_those_with_a_slow_calibration():
    """A round is a stall when its /ping took more than factor x the median and more than the floor; jitter
    under the floor is not one, a ping that got no answer is; without any calibration no round is."""
    cal = np.array([1.0, 1.2, 0.9, 1.1, 8.0, 300.0, np.nan])
    assert stalled(cal, 3.0, 25.0).tolist() == [False, False, False, False, False, True, True]
    assert stalled(np.array([np.nan, np.nan]), 3.0, 25.0).tolist() == [False, False]  # no calibration at all


def test_quantile_bound_is_an_order_statistic_above_the_quantile():
    """The 95% upper bound on p95 of 300 values 1..300 is the 292nd (a few of the slowest requests may be
    stalls without moving it); with too few values for the confidence, the max is returned, flagged inexact."""
    values = np.arange(1.0, 301.0)
    assert quantile_upper_bound(values, 0.95, 0.95) == (292.0, True)
    assert quantile_upper_bound(values[:200], 0.99, 0.95) == (200.0, False)
    assert requests_for_bound(0.99, 0.95) == 299 and requests_for_bound(0.95, 0.95) == 59


def test_quantile_bound_covers_the_true_quantile_at_its_confidence():
    """Over many exponential samples, the bound is above the true p95 in at least ~95% of them."""
    rng = np.random.default_rng(1)
    true_p95 = -np.log(0.05)
    covered = np.mean([quantile_upper_bound(rng.exponential(size=200), 0.95, 0.95)[0] >= true_p95 for _ in range(400)])
    assert covered >= 0.93


def test_ratio_bounds_bracket_the_ratio():
    """The bootstrap bounds of the ratio of paired medians lie on either side of it, near 1 for the same data."""
    rng = np.random.default_rng(0)
    a = rng.lognormal(0, 0.2, 300)
    lower, ratio, upper = ratio_bounds(a, a * 1.0, 0.5, 0.95, 500, 0)
    assert lower == ratio == upper == 1.0
    lower, ratio, upper = ratio_bounds(a * 3, a * rng.lognormal(0, 0.2, 300), 0.5, 0.95, 500, 0)
    assert lower < ratio < upper and lower > 2.5


# --- latency_regression ----------------------------------------------------------------------------------------


def test_regression_quiet_for_the_same_model():
    """Two servers of the same speed: the ratio bounds stay near 1, an info finding quoting p50 and p90."""
    f = regression(samples(1.0))
    assert f.severity is Severity.info, f.message
    assert "p50" in f.message and "p90" in f.message and f.evidence["champion_version"] == "2"


def test_regression_quiet_when_the_machine_stalls_for_both_and_the_ping_sees_it():
    """A stall of the whole machine in 15 rounds, seen by the /ping calibration: those rounds are left out and
    the same model vs itself does not fail."""
    f = regression(samples(1.0, stalls={"both": list(range(100, 115))}))
    assert f.severity is Severity.info, f.message
    assert f.evidence["stalled_rounds"] == 15 and "15 stalled" in f.message


def test_regression_quiet_when_stalls_hit_either_side_unseen_by_the_ping():
    """Stalls of a second in a few requests of the candidate and, in other rounds, of the champion, that the
    calibration missed: quantile ratios over the rounds are not moved by a few slow requests."""
    stalls = {"candidate": [3, 50, 90, 140, 200, 260], "champion": [10, 70, 120, 180, 240, 290]}
    f = regression(samples(1.0, stalls=stalls))
    assert f.severity is Severity.info, f.message


def test_regression_quiet_under_load_that_slows_both():
    """A machine three times slower in the second half of the run (both servers alike): no regression."""
    load = np.where(np.arange(ROUNDS) < ROUNDS // 2, 1.0, 3.0)
    assert regression(samples(1.0, load=load)).severity is Severity.info


def test_regression_quiet_for_the_same_model_on_a_busy_machine_with_a_wide_interval():
    """The fresh clone's busy run: the same model on both sides, 99 rounds, unseen stalls of 100-200 ms in a tenth
    of each side's requests: the p90 ratio is 1.1 but its interval reaches past 2x. A slowdown is claimed on
    the interval's lower bound: quiet (on its upper bound this failed)."""
    rng = np.random.default_rng(4)
    n = 99

    def side() -> np.ndarray:
        return 30.0 * rng.lognormal(0, 0.3, n) + np.where(rng.random(n) < 0.1, rng.uniform(100, 200, n), 0.0)

    candidate, champion = side(), side()
    probe_ = LatencyProbe(
        candidate_ms=tuple(candidate),
        calibration_ms=tuple(1.5 * rng.lognormal(0, 0.1, n)),
        champion_ms=tuple(champion),
        champion_version="2",
    )
    f = regression(probe_)
    p90 = next(r for r in f.evidence["ratios"] if r["quantile"] == 0.9)
    assert p90["upper"] > 2.0 and p90["lower"] < 1.5, p90
    assert f.severity is Severity.info, f.message


@pytest.mark.parametrize("seed", range(5))
def test_regression_fails_on_a_consistent_3x_slowdown(seed):
    """A candidate three times the champion's latency fails, naming the ratio and the limit."""
    f = regression(samples(3.0, seed=seed))
    assert f.severity is Severity.fail, f.message
    assert f.message.startswith("the candidate is slower than the champion") and "fail 2.0x" in f.message
    ratios = {r["quantile"]: r for r in f.evidence["ratios"]}
    assert 2.5 < ratios[0.5]["ratio"] < 3.5 and ratios[0.5]["lower"] > 2.0


def test_regression_fails_on_3x_even_with_stalls_and_load():
    """The slowdown is still seen through a stall and a slower second half of the run."""
    load = np.where(np.arange(ROUNDS) < ROUNDS // 2, 1.0, 2.0)
    f = regression(samples(3.0, load=load, stalls={"both": [5, 6, 7], "candidate": [40]}))
    assert f.severity is Severity.fail, f.message


def test_regression_warns_on_a_moderate_slowdown():
    """1.7x is over the warn limit (1.5x) but under fail (2x): a warn."""
    assert regression(samples(1.7)).severity is Severity.warn


def test_regression_without_champion_says_so():
    """No version holds the alias yet: an info finding that says only the budget is judged."""
    f = regression(samples(champion=False))
    assert f.severity is Severity.info and "no champion" in f.message and "latency_budget" in f.message


def test_regression_not_measured_when_the_champion_could_not_be_served():
    """A champion whose server did not start: not compared (warn), with the reason."""
    probe_ = replace(samples(champion=False), champion_version="2", champion_error="exited with code 1")
    f = regression(probe_)
    assert f.severity is Severity.warn and "not measured" in f.message and "exited with code 1" in f.message


def test_regression_not_measured_with_too_few_rounds():
    """Fewer usable rounds than min_rounds: not compared (warn), naming how many were usable."""
    s = samples(3.0)
    few = replace(
        s, candidate_ms=s.candidate_ms[:10], champion_ms=s.champion_ms[:10], calibration_ms=s.calibration_ms[:10]
    )
    f = regression(few)
    assert f.severity is Severity.warn and "only 10 of 10 rounds" in f.message


# --- latency_budget --------------------------------------------------------------------------------------------


def test_budget_quiet_within_budget():
    """p95 bound well under 250 ms: one info finding quoting p50, p95 and the bound."""
    (f,) = budget(samples(1.0))
    assert f.severity is Severity.info and "p95" in f.message and "upper bound" in f.message


def test_budget_not_broken_by_a_few_slow_requests():
    """Six requests of over a second in 300 (stalls the ping missed) put the raw p99 over the old fail budget
    of 1000 ms; the 95% bound on p95 is not moved by them."""
    s = samples(1.0, stalls={"candidate": [10, 60, 110, 160, 210, 260]}, stall_ms=2100.0)
    assert np.percentile(s.candidate_ms, 99) > 1000
    (f,) = budget(s)
    assert f.severity is Severity.info and f.evidence["upper_bound_ms"] < 50


def test_budget_reports_a_machine_stall_as_an_environment_note():
    """Rounds where the /ping was slow too are left out and reported as an info note with their numbers."""
    f, note = budget(samples(1.0, stalls={"both": list(range(0, 60, 3))}))
    assert f.severity is Severity.info and "20 stalled rounds left out" in f.message
    assert note.severity is Severity.info and note.message.startswith("environment: the machine stalled in 20 of 300")
    assert note.evidence["stalled_calibration_ms"] > 100 and note.evidence["calibration_ms"] < 5


def test_budget_warns_by_default_and_fails_only_when_asked():
    """A model consistently over the budget warns by default; a fail level in params makes it fail."""
    slow = samples(30.0)  # ~450 ms
    (f,) = budget(slow)
    assert f.severity is Severity.warn and "budget warn 250.0" in f.message
    strict = latency_budget.Params(ms={"warn": 250.0, "fail": 400.0})
    (f,) = budget(slow, strict)
    assert f.severity is Severity.fail


def test_budget_with_too_few_requests_says_the_bound_is_the_max():
    """20 requests cannot bound p95 at 95%: the slowest request is used, and the message says so."""
    s = samples(1.0)
    few = replace(s, candidate_ms=s.candidate_ms[:20], calibration_ms=s.calibration_ms[:20], champion_ms=())
    (f,) = budget(few)
    assert "the slowest request" in f.message and "59 needed" in f.message and not f.evidence["bound_is_exact"]


def test_budget_not_measured_without_answers():
    """No answered request: not measured (warn)."""
    (f,) = budget(LatencyProbe(candidate_ms=(float("nan"),) * 5, calibration_ms=(1.0,) * 5))
    assert f.severity is Severity.warn and "not measured" in f.message


# --- the probe -------------------------------------------------------------------------------------------------


class Fake:
    """A server that answers in `ms` and logs each call in a shared list."""

    def __init__(self, name: str, log: list, ms: float, ok: bool = True):
        self.name, self.log, self.ms, self.ok = name, log, ms, ok

    def invoke(self, frame, timeout_s):
        self.log.append((self.name, "invoke", int(frame.iloc[0, 0])))
        return Answer(200 if self.ok else 500, [[0.5, 0.5]], None, self.ms, datetime.now(UTC))

    def ping(self, timeout_s):
        self.log.append((self.name, "ping"))
        return 1.0


def test_probe_interleaves_with_a_ping_before_each_request():
    """Warmup requests are not timed; then each round pings and asks each server the same row, alternating which
    goes first; the calibration is the round's slowest ping."""
    log: list = []
    X = pd.DataFrame({"x": range(5)})
    a, b, cal = probe(Fake("A", log, 10.0), Fake("B", log, 5.0), X, rounds=3, warmup=1, timeout_s=1, max_s=60)
    assert a == [10.0] * 3 and b == [5.0] * 3 and cal == [1.0] * 3
    assert log == [
        ("A", "invoke", 0), ("B", "invoke", 0),
        ("A", "ping"), ("A", "invoke", 0), ("B", "ping"), ("B", "invoke", 0),
        ("B", "ping"), ("B", "invoke", 1), ("A", "ping"), ("A", "invoke", 1),
        ("A", "ping"), ("A", "invoke", 2), ("B", "ping"), ("B", "invoke", 2),
    ]  # fmt: skip


def test_probe_stops_at_its_time_limit():
    """Rounds stop once `max_s` has passed (a fake clock: one second per round)."""
    ticks = iter(range(100))
    X = pd.DataFrame({"x": range(5)})
    a, b, _ = probe(Fake("A", [], 1.0), None, X, rounds=50, warmup=0, timeout_s=1, max_s=3.5, clock=lambda: next(ticks))
    assert len(a) == 3 and b == []


def test_stall_meter_window_takes_the_latest_wake_up_due_in_it():
    """late_ms(start, end) is the worst lateness of the wake-ups in the window and of the first one after it
    (that one was due inside it); NaN before the meter ran."""
    meter = StallMeter()
    assert np.isnan(meter.late_ms(0.0, 1.0))
    meter.woke, meter.late = [1.0, 2.0, 3.0, 4.0, 5.0], [0.1, 0.2, 400.0, 0.1, 0.3]
    assert meter.late_ms(1.5, 2.5) == 400.0  # woke at 3.0, 400 ms late: it was due in the window
    assert meter.late_ms(3.5, 4.5) == 0.3 and meter.late_ms(0.0, 1.5) == 0.2


def test_stall_meter_sees_this_process_kept_from_running():
    """While the main thread keeps the interpreter to itself for 0.3 s (a stall, as the meter's thread sees it),
    a wake-up in that window comes at least 0.1 s late; nothing here depends on the machine's speed."""
    previous = sys.getswitchinterval()
    with StallMeter() as meter:
        time.sleep(0.05)
        sys.setswitchinterval(1.0)
        try:
            start = time.perf_counter()
            while time.perf_counter() - start < 0.3:
                pass
            end = time.perf_counter()
        finally:
            sys.setswitchinterval(previous)
        time.sleep(0.05)
    assert meter.late_ms(start, end) > 100


def test_probe_calibration_includes_the_stall_meter():
    """A round during which the stall meter woke late has that lateness as its calibration."""

    class Late:
        def late_ms(self, start, end):
            return 500.0

    X = pd.DataFrame({"x": range(5)})
    _, _, cal = probe(Fake("A", [], 1.0), None, X, rounds=2, warmup=0, timeout_s=1, max_s=60, meter=Late())
    assert cal == [500.0, 500.0]


def test_probe_record_names_a_champion_that_never_answered():
    """Failed requests are NaN; a champion with no answer at all is recorded as not compared."""
    X = pd.DataFrame({"x": range(5)})
    rec = latency_probe(
        Fake("A", [], 3.0),
        Fake("B", [], 3.0, ok=False),
        X,
        rounds=4,
        warmup=0,
        timeout_s=1,
        max_s=60,
        stall_factor=3.0,
        stall_min_ms=25.0,
        champion_version="2",
        champion_error=None,
    )
    assert rec.candidate_ms == (3.0,) * 4 and all(np.isnan(rec.champion_ms))
    assert rec.champion_error == "none of its 4 timed requests was answered"


# --- a planted slow model on real servers --------------------------------------------------------------------------

SLEEPY_MODEL = '''
import time

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class Sleepy(PythonModel):
    """Answers 0.5 for every row after sleeping `delay_s` (its model_config): a model slow by construction."""

    def load_context(self, context):
        self.delay_s = float(context.model_config["delay_s"])

    def predict(self, context, model_input: pd.DataFrame, params=None):
        time.sleep(self.delay_s)
        return [[0.5, 0.5] for _ in range(len(model_input))]


mlflow.models.set_model(Sleepy())
'''


def _log_sleepy(tmp_path, delay_s: float) -> str:
    """Log the sleepy pyfunc (a model from code) with `delay_s`; its models:/ URI."""
    code = tmp_path / "sleepy_model.py"
    code.write_text(SLEEPY_MODEL)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="sleepy",
            python_model=str(code),
            model_config={"delay_s": delay_s},
            input_example=pd.DataFrame({"x": [1.0, 2.0]}),
        )
    return info.model_uri


@pytest.fixture
def private_store(tmp_path):
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("sleepy")
    yield uri
    mlflow.set_tracking_uri(previous)


@pytest.mark.slow
def test_planted_slow_model_fails_latency_regression_and_the_same_model_does_not(tmp_path, private_store):
    """A champion answering at once, and a candidate that sleeps 150 ms in predict (several times the champion's
    whole request on any machine that serves at all), on real `mlflow models serve` processes: the candidate vs
    the champion fails latency_regression; the same model vs a second server of itself does not. Only
    ratios measured in the same run are judged, never an absolute time."""
    from contextlib import ExitStack

    from tasks.serving.server import launch, pin, shared_cpus, stop, wait_ready

    fast, slow = _log_sleepy(tmp_path, 0.0), _log_sleepy(tmp_path, 0.15)
    X = pd.DataFrame({"x": np.arange(50, dtype="float64")})
    cpus = shared_cpus(1)  # as the deployment stage does: the servers share one CPU once they answer
    with ExitStack() as stack:
        up = {}
        for key, uri in (("fast", fast), ("fast_twin", fast), ("slow", slow)):
            up[key] = launch(uri, tracking_uri=private_store, log_path=tmp_path / f"{key}.log")
            stack.callback(stop, up[key])
        for server in up.values():
            wait_ready(server, 300.0)
            if cpus is not None:
                pin(server, cpus)

        def compare(candidate, champion):
            probe_ = latency_probe(
                candidate,
                champion,
                X,
                rounds=40,
                warmup=5,
                timeout_s=60.0,
                max_s=600.0,
                stall_factor=3.0,
                stall_min_ms=25.0,
                champion_version="1",
                champion_error=None,
            )
            (f,) = findings(latency_regression, deployment_inputs(latency=probe_))
            return f

        slower = compare(up["slow"], up["fast"])
        itself = compare(up["fast_twin"], up["fast"])
    print(f"\nslow vs fast: {slower.message}\nfast vs itself: {itself.message}")
    assert slower.severity is Severity.fail, slower.message
    assert itself.severity is not Severity.fail, itself.message
