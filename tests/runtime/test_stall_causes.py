# ruff: noqa: ASYNC251  (blocking inside async handlers is what these tests are about)
"""Stalls the app did not cause are told apart and never reported as FAA101/FAA102 of a route.

The causes are produced the same way on any machine: the loop thread is held in
``time.sleep`` called straight from the event loop (a C-level wait that uses no
CPU and leaves no app frame on the stack), the loop thread's CPU clock is
replaced by one that stands still or runs with the wall clock, and
``gc.callbacks`` are fired around a stall as a collection would fire them.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import runtime_guard.inflight
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import loop_clock
from runtime_guard.gc_pauses import PAUSES, GcPauses
from runtime_guard.inflight import InFlight
from runtime_guard.loop_clock import CpuClock
from runtime_guard.stall_causes import StallEvidence, judge
from runtime_guard.watchdog import LoopWatchdog
from tests.runtime.test_watchdog import BLOCK, THRESHOLD, Guarded, Reporter

HERE = os.path.abspath(__file__)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LOOP_CODES = ("FAA101", "FAA102")


def line_of(marker: str) -> int:
    with open(HERE, encoding="utf-8") as source:
        for number, text in enumerate(source, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(f"marker {marker!r} not found")

ClockSource = Callable[[], CpuClock | None]


def frozen_clock() -> CpuClock:
    """A loop thread that never gets the CPU: its clock stands still while wall time goes on."""
    return lambda: 7.0


def wall_clock() -> CpuClock:
    """A loop thread that runs the whole time: its CPU clock keeps pace with the wall clock."""
    return time.monotonic


def no_clock() -> CpuClock | None:
    """A platform without a per-thread CPU clock."""
    return None


def fire_gc_callbacks(phase: str) -> None:
    """Call ``gc.callbacks`` as the collector does at the start or the end of a collection."""
    info = {"generation": 2, "collected": 0, "uncollectable": 0}
    for callback in list(gc.callbacks):
        callback(phase, info)


def stall_in_c(loop: asyncio.AbstractEventLoop, *, gc_around: bool = False) -> None:
    """Make the loop wait BLOCK seconds in C on its next turn, with no Python frame of the app."""
    if gc_around:
        loop.call_soon(fire_gc_callbacks, "start")
    loop.call_soon(time.sleep, BLOCK)
    if gc_around:
        loop.call_soon(fire_gc_callbacks, "stop")


def stall_in_guard_code(loop: asyncio.AbstractEventLoop) -> None:
    """Make the loop wait BLOCK seconds in C, called from a function of the guard's own."""
    routes = iter(functools.partial(time.sleep, BLOCK), None)  # one call to time.sleep, then done
    loop.call_soon(runtime_guard.inflight._template_of_endpoint, routes, None)


def build(
    clock: ClockSource | None = None, *, tell_causes_apart: bool = True
) -> tuple[FastAPI, Reporter, LoopWatchdog]:
    app = FastAPI()
    reporter = Reporter()
    inflight = InFlight()
    watchdog = LoopWatchdog(reporter, inflight, THRESHOLD, **({"cpu_clock": clock} if clock else {}))
    watchdog.tell_causes_apart = tell_causes_apart

    @app.get("/warm")
    async def warm() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/trivial")
    async def trivial() -> dict[str, bool]:  # marker: trivial-def
        stall_in_c(asyncio.get_running_loop())  # the stall itself is not this handler's code
        await asyncio.sleep(0)
        return {"ok": True}

    @app.get("/trivial-during-gc")
    async def trivial_during_gc() -> dict[str, bool]:
        stall_in_c(asyncio.get_running_loop(), gc_around=True)
        await asyncio.sleep(0)
        return {"ok": True}

    @app.get("/handler-during-gc")
    async def handler_during_gc() -> dict[str, bool]:
        # A collection that starts while the handler allocates: the handler is on the stack.
        fire_gc_callbacks("start")
        time.sleep(BLOCK)
        fire_gc_callbacks("stop")
        return {"ok": True}

    @app.get("/trivial-during-guard-work")
    async def trivial_during_guard_work() -> dict[str, bool]:
        stall_in_guard_code(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return {"ok": True}

    @app.get("/sleeps")
    async def sleeps() -> dict[str, bool]:
        time.sleep(BLOCK)  # marker: causes-sleep
        return {"ok": True}

    app.add_middleware(Guarded, watchdog=watchdog, inflight=inflight)
    return app, reporter, watchdog


def serve(app: FastAPI, reporter: Reporter, watchdog: LoopWatchdog, *paths: str) -> list[Diagnostic]:
    """Serve ``paths`` after a warm-up request; the FAA101/FAA102 findings they caused."""
    gc.collect()  # now rather than inside the measured requests
    with TestClient(app) as client:
        client.get("/warm")
        reporter.clear()
        watchdog.stall_notes.clear()
        for path in paths:
            assert client.get(path).status_code == 200
    return [d for d in reporter.snapshot() if d.code in LOOP_CODES]


def causes(watchdog: LoopWatchdog) -> dict[str, int]:
    return dict(watchdog.stall_notes.counts)


# -- the loop thread got no CPU ---------------------------------------------------------


def test_trivial_route_during_a_stall_with_no_app_frame_is_no_finding(caplog: pytest.LogCaptureFixture) -> None:
    app, reporter, watchdog = build()  # the real CPU clock: a sleeping thread uses none
    with caplog.at_level(logging.INFO, logger="runtime_guard.watchdog"):
        assert serve(app, reporter, watchdog, "/trivial") == []
    notes = [note for note in watchdog.stall_notes.recent if note.cause == "no_cpu"]
    assert notes, watchdog.stall_notes.snapshot()
    note = notes[0]
    assert note.routes_in_flight == ["GET /trivial"]
    assert note.stall_seconds >= BLOCK - 0.1
    assert note.cpu_seconds is not None and note.cpu_seconds < note.stall_seconds
    logged = [record.getMessage() for record in caplog.records if "[no_cpu]" in record.getMessage()]
    assert logged and "not reported as FAA101/FAA102" in logged[0]


def test_a_cpu_clock_that_stands_still_means_no_cpu() -> None:
    app, reporter, watchdog = build(frozen_clock)
    assert serve(app, reporter, watchdog, "/trivial") == []
    assert causes(watchdog).get("no_cpu", 0) >= 1, watchdog.stall_notes.snapshot()


def test_a_loop_that_ran_the_whole_stall_outside_app_code_is_the_servers() -> None:
    app, reporter, watchdog = build(wall_clock)
    assert serve(app, reporter, watchdog, "/trivial") == []
    assert causes(watchdog).get("server_code", 0) >= 1, watchdog.stall_notes.snapshot()
    assert "no_cpu" not in causes(watchdog)


def test_without_a_cpu_clock_the_stall_is_still_no_finding() -> None:
    app, reporter, watchdog = build(no_clock)
    assert serve(app, reporter, watchdog, "/trivial") == []
    assert causes(watchdog).get("no_app_frame", 0) >= 1, watchdog.stall_notes.snapshot()


@pytest.mark.parametrize("tell_causes_apart", [True, False], ids=["now", "earlier"])
def test_the_program_that_started_the_loop_is_not_app_code(tell_causes_apart: bool) -> None:
    # This test function is user code at the bottom of the loop thread's stack, as an app's
    # ``if __name__ == "__main__": uvicorn.run(app)`` is: it started the loop, it is not running.
    app, reporter, watchdog = build(tell_causes_apart=tell_causes_apart)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)  # no lifespan: the watchdog starts on the first request
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/warm")).status_code == 200
            reporter.clear()
            assert (await client.get("/trivial")).status_code == 200
        await asyncio.to_thread(watchdog.stop)  # off the loop, as the guard does: it waits for the last report

    gc.collect()
    asyncio.run(main())  # marker: started-the-loop
    found = [(d.code, d.filename, d.line) for d in reporter.snapshot() if d.code in LOOP_CODES]
    if tell_causes_apart:
        assert found == []
        assert causes(watchdog).get("no_cpu", 0) >= 1, watchdog.stall_notes.snapshot()
    else:
        assert found == [("FAA102", HERE, line_of("marker: started-the-loop"))]


def test_the_earlier_attribution_blamed_the_trivial_route() -> None:
    # What the benchmark's "before" column runs: the switch restores the old attribution.
    app, reporter, watchdog = build(tell_causes_apart=False)
    findings = serve(app, reporter, watchdog, "/trivial")
    assert [(d.code, d.filename, d.line) for d in findings] == [("FAA102", HERE, line_of("marker: trivial-def"))]
    assert causes(watchdog) == {}


# -- blocking app code is still caught at its line, whatever the clock says -------------


@pytest.mark.parametrize("clock", [frozen_clock, wall_clock, no_clock, None], ids=["frozen", "wall", "none", "real"])
def test_a_blocking_route_is_caught_at_its_line_whatever_the_cpu_clock(clock: ClockSource | None) -> None:
    app, reporter, watchdog = build(clock)
    findings = serve(app, reporter, watchdog, "/sleeps")
    assert [(d.code, d.filename, d.line) for d in findings] == [("FAA102", HERE, line_of("marker: causes-sleep"))]
    assert findings[0].details["route"] == "/sleeps"
    assert causes(watchdog) == {}


# -- garbage collection -------------------------------------------------------------------


def test_a_gc_pause_is_not_the_route_in_flight() -> None:
    app, reporter, watchdog = build(wall_clock)  # collection is CPU work: the clock runs
    assert serve(app, reporter, watchdog, "/trivial-during-gc") == []
    notes = [note for note in watchdog.stall_notes.recent if note.cause == "gc_pause"]
    assert notes, watchdog.stall_notes.snapshot()
    assert notes[0].gc_seconds >= BLOCK - 0.1


def test_a_gc_pause_with_the_handler_on_the_stack_is_not_the_handlers() -> None:
    app, reporter, watchdog = build()
    assert serve(app, reporter, watchdog, "/handler-during-gc") == []
    assert causes(watchdog).get("gc_pause", 0) >= 1, watchdog.stall_notes.snapshot()


def test_gc_pauses_are_timed_from_real_collections() -> None:
    pauses = GcPauses(min_pause=0.0)
    pauses.acquire()
    try:
        assert pauses.installed
        before = time.monotonic()
        gc.collect()
        after = time.monotonic()
        assert 0 < pauses.seconds_between(before, after) <= after - before
        assert pauses.seconds_between(after + 1, after + 2) == 0.0
    finally:
        pauses.release()
    assert not pauses.installed


def test_the_shared_gc_recorder_is_installed_only_while_a_watchdog_runs() -> None:
    watchdog = LoopWatchdog(Reporter(), InFlight(), THRESHOLD)

    async def main() -> bool:
        watchdog.start()
        await asyncio.sleep(0.01)
        running = PAUSES.installed
        await asyncio.to_thread(watchdog.stop)  # off the loop, as the guard does: it waits for the last report
        return running

    assert asyncio.run(main())
    deadline = time.monotonic() + 5
    while PAUSES.installed and time.monotonic() < deadline:  # released as the watch thread ends
        time.sleep(0.01)
    assert not PAUSES.installed


# -- the guard's own code -------------------------------------------------------------------


def test_a_stall_in_the_guards_own_code_is_not_the_route_in_flight() -> None:
    app, reporter, watchdog = build()
    assert serve(app, reporter, watchdog, "/trivial-during-guard-work") == []
    assert causes(watchdog).get("guard_code", 0) >= 1, watchdog.stall_notes.snapshot()


# -- through the guard: the report route lists the notes ------------------------------


def test_the_report_route_lists_stalls_that_were_not_the_apps() -> None:
    from runtime_guard import MemorySink, RuntimeGuard
    from runtime_guard.config import GuardConfig

    app = FastAPI()

    @app.get("/warm")
    async def warm() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/trivial")
    async def trivial() -> dict[str, bool]:
        stall_in_c(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return {"ok": True}

    sink = MemorySink()
    config = GuardConfig(block_threshold=THRESHOLD, report_path="/_guard/findings", report_token="t0ken")
    app.add_middleware(RuntimeGuard, sink=sink, config=config, environ={})
    headers = {"Authorization": "Bearer t0ken"}
    gc.collect()
    with TestClient(app) as client:
        client.get("/warm")
        assert client.get("/trivial").status_code == 200
        time.sleep(THRESHOLD)  # the watchdog notes a stall within an interval of the loop's return
        stalls = client.get("/_guard/findings?stalls", headers=headers)
        findings = client.get("/_guard/findings", headers=headers)
    assert stalls.status_code == 200, stalls.text
    assert stalls.json()["counts"].get("no_cpu", 0) >= 1, stalls.json()
    assert any(note["routes_in_flight"] == ["GET /trivial"] for note in stalls.json()["recent"])
    assert [item for item in findings.json() if item["code"] in LOOP_CODES] == []
    assert [d for d in sink.diagnostics if d.code in LOOP_CODES] == []


# -- the decision and the clock on their own -------------------------------------------


def evidence(**changes: Any) -> StallEvidence:
    base: dict[str, Any] = {
        "seconds": 0.3,
        "threshold": 0.1,
        "cpu_seconds": 0.0,
        "cpu_span_seconds": 0.325,
        "gc_seconds": 0.0,
        "app_samples": 0,
        "other_samples": 4,
        "guard_samples": 0,
        "route_alone": False,
    }
    return StallEvidence(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({"app_samples": 3}, "app"),
        ({"app_samples": 3, "cpu_seconds": 0.0}, "app"),
        ({"app_samples": 3, "gc_seconds": 0.25}, "gc_pause"),
        ({"app_samples": 3, "gc_seconds": 0.15}, "app"),  # 0.15 s of the stall was not collection
        ({"gc_seconds": 0.25, "cpu_seconds": 0.3}, "gc_pause"),
        ({"guard_samples": 3}, "guard_code"),
        ({"guard_samples": 2}, "no_cpu"),  # half is not most
        ({"cpu_seconds": None}, "no_app_frame"),
        ({"cpu_seconds": 0.05}, "no_cpu"),
        ({"cpu_seconds": 0.3}, "server_code"),
        ({"cpu_seconds": 0.3, "route_alone": True}, "route_framework"),
        # CPU used before the loop was due was ordinary work, not the stall's.
        ({"cpu_seconds": 0.12, "cpu_span_seconds": 0.325}, "no_cpu"),
        # A collection on the loop thread is CPU time, but not the code sampled.
        ({"seconds": 0.5, "cpu_span_seconds": 0.525, "cpu_seconds": 0.3, "gc_seconds": 0.25}, "no_cpu"),
    ],
)
def test_judge(changes: dict[str, Any], verdict: str) -> None:
    assert judge(evidence(**changes)) == verdict


def test_the_cpu_clock_reads_the_loop_thread_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = loop_clock.thread_cpu_clock()
    if clock is None:
        pytest.skip("no per-thread CPU clock on this platform")
    before = clock()
    time.sleep(0.05)  # waiting uses no CPU ...
    slept = clock() - before
    started = clock()
    deadline = time.thread_time() + 0.05
    while time.thread_time() < deadline:  # ... working does (the same thread's clock)
        pass
    assert clock() - started >= 0.05 > slept
    assert loop_clock.read_cpu(None) is None

    def gone() -> float:
        raise OSError("the thread is gone")

    assert loop_clock.read_cpu(gone) is None
    monkeypatch.delattr(time, "pthread_getcpuclockid")
    assert loop_clock.thread_cpu_clock() is None
