# ruff: noqa: ASYNC251  (blocking inside async handlers is what these tests are about)
"""The loop watchdog on real apps: FAA101/FAA102 at the blocking line, nothing for non-blocking work.

Apps run through lifespan (TestClient as a context manager) or through
httpx.ASGITransport (no lifespan: the watchdog starts on the first request).
A small pure-ASGI stand-in plays the guard middleware's part (start/stop the
watchdog, track requests in flight) so the watchdog is tested on its own.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import selectors
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import runtime_guard.watchdog
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard.blocking import StackSample, analyse_stack, driver_of_module
from runtime_guard.inflight import InFlight, route_template
from runtime_guard.watchdog import LoopWatchdog

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HERE = os.path.abspath(__file__)
THRESHOLD = 0.1
BLOCK = 0.3  # three times the threshold: detected on any machine that runs the suite at all

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def line_of(marker: str) -> int:
    for number, source in enumerate(Path(HERE).read_text().splitlines(), 1):
        if source.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(f"marker {marker!r} not found")


class Reporter:
    """Stand-in for the guard's reporter: collects findings from the watchdog thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[Diagnostic] = []

    def report(self, diagnostic: Diagnostic) -> None:
        with self.lock:
            self.items.append(diagnostic)

    def snapshot(self) -> list[Diagnostic]:
        with self.lock:
            return list(self.items)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


class Guarded:
    """Minimal pure-ASGI plumbing: the watchdog at lifespan/first request, requests in flight."""

    def __init__(self, app: ASGIApp, watchdog: LoopWatchdog, inflight: InFlight) -> None:
        self.app = app
        self.watchdog = watchdog
        self.inflight = inflight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":

            async def lifespan_receive() -> Message:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.watchdog.start()
                elif message["type"] == "lifespan.shutdown":
                    # Off the loop, as the guard does: there stop() waits for the watch thread,
                    # which reports a stall still being measured.
                    await asyncio.to_thread(self.watchdog.stop)
                return message

            await self.app(scope, lifespan_receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.watchdog.start()
        token = self.inflight.begin(scope)
        try:
            await self.app(scope, receive, send)  # marker: middleware-await
        finally:
            self.inflight.end(token)


def guard(app: Any) -> tuple[Reporter, LoopWatchdog]:
    reporter = Reporter()
    inflight = InFlight()
    watchdog = LoopWatchdog(reporter, inflight, THRESHOLD)
    app.add_middleware(Guarded, watchdog=watchdog, inflight=inflight)
    return reporter, watchdog


def run_requests(app: Any, reporter: Reporter, *paths: str) -> list[Diagnostic]:
    """Serve ``paths`` through lifespan after a warm-up request; the findings they caused."""
    gc.collect()  # a full collection now rather than one long pause inside the measured requests
    with TestClient(app) as client:
        client.get("/warm")  # first-request imports and caches must not count
        reporter.clear()
        for path in paths:
            assert client.get(path).status_code == 200
    # Lifespan shutdown stopped the watchdog, which flushes a stall still being measured.
    return reporter.snapshot()


def assert_one(findings: list[Diagnostic], code: str, line: int) -> Diagnostic:
    assert len(findings) == 1, [f.format_text() for f in findings]
    finding = findings[0]
    assert (finding.code, finding.filename, finding.line) == (code, HERE, line), finding.format_text()
    assert finding.source == "runtime"
    assert finding.details["stall_seconds"] >= BLOCK - 0.1
    return finding


# -- the FastAPI app -------------------------------------------------------------


def slow_sql(seconds: float) -> int:
    time.sleep(seconds)  # marker: sqlite-function-sleep
    return 1


def calibrated_cte_rows(target: float) -> int:
    """Rows a recursive CTE needs to keep sqlite busy about ``target`` seconds on this machine."""
    rows = 200_000
    conn = sqlite3.connect(":memory:")
    timings = []
    # The fastest of a few runs: a run that lost the CPU to a neighbour would overstate the
    # cost per row and make the real stall too short.
    for _ in range(3):
        started = time.perf_counter()
        conn.execute(
            f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT count(*) FROM c"
        )
        timings.append(time.perf_counter() - started)
    conn.close()
    return int(rows * target / max(min(timings), 1e-4))


def make_fastapi_app() -> tuple[FastAPI, Reporter, LoopWatchdog]:
    app = FastAPI()
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "connect")
    def add_slow_function(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.create_function("slow", 1, slow_sql)

    cte_rows = calibrated_cte_rows(BLOCK * 1.5)

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        time.sleep(BLOCK)  # marker: time-sleep
        return {"id": user_id}

    @app.get("/sqlite-function")
    async def sqlite_function() -> dict[str, int]:
        conn = sqlite3.connect(":memory:")
        conn.create_function("slow", 1, slow_sql)
        (value,) = conn.execute("SELECT slow(?)", (BLOCK,)).fetchone()  # marker: sqlite-execute
        conn.close()
        return {"value": value}

    @app.get("/sqlite-cte")
    async def sqlite_cte() -> dict[str, int]:
        conn = sqlite3.connect(":memory:")
        sql = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            f"WHERE x < {cte_rows}) SELECT count(*) FROM c"
        )
        (count,) = conn.execute(sql).fetchone()  # marker: sqlite-cte
        conn.close()
        return {"count": count}

    @app.get("/sqlalchemy")
    async def sqlalchemy_session() -> dict[str, int]:
        with Session(engine) as session:
            value = session.execute(text("SELECT slow(:s)"), {"s": BLOCK}).scalar_one()  # marker: sqlalchemy-execute
        return {"value": value}

    @app.get("/cpu")
    async def cpu() -> dict[str, int]:
        spins = 0
        deadline = time.monotonic() + BLOCK
        while time.monotonic() < deadline:  # marker: cpu-while
            spins += 1  # marker: cpu-body
        return {"spins": spins}

    @app.get("/async-sleep")
    async def async_sleep() -> dict[str, str]:
        await asyncio.sleep(BLOCK)
        return {}

    @app.get("/threadpool")
    async def threadpool() -> dict[str, str]:
        await run_in_threadpool(time.sleep, BLOCK)
        return {}

    @app.get("/plain-def")
    def plain_def() -> dict[str, str]:
        time.sleep(BLOCK)  # FastAPI runs `def` routes in its thread pool
        return {}

    reporter, watchdog = guard(app)
    return app, reporter, watchdog


@pytest.fixture(scope="module")
def fastapi_app() -> tuple[FastAPI, Reporter, LoopWatchdog]:
    return make_fastapi_app()


def test_time_sleep_in_async_route_is_faa102_at_the_sleep_line(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    finding = assert_one(run_requests(app, reporter, "/users/42"), "FAA102", line_of("marker: time-sleep"))
    assert finding.details["route"] == "/users/{user_id}"
    assert finding.details["method"] == "GET"
    assert finding.details["function"] == "get_user"
    assert finding.details["attributed_to"] == "user_frame"
    assert f"{HERE}:{finding.line}" in finding.details["stack"]
    assert "GET /users/{user_id}" in finding.message
    assert "42" not in finding.message  # the template, never the concrete path


def test_sqlite_call_sleeping_in_a_user_function_is_faa101_at_the_execute_line(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    finding = assert_one(run_requests(app, reporter, "/sqlite-function"), "FAA101", line_of("marker: sqlite-execute"))
    assert finding.details["driver"] == "sqlite3"
    assert finding.details["attributed_to"] == "driver_call"
    # The user function the driver called back into is where the time went.
    assert finding.details["blocking_frame"] == f"{HERE}:{line_of('marker: sqlite-function-sleep')}"
    assert finding.details["route"] == "/sqlite-function"


def test_sqlite_recursive_cte_is_faa101(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    finding = assert_one(run_requests(app, reporter, "/sqlite-cte"), "FAA101", line_of("marker: sqlite-cte"))
    assert finding.details["driver"] == "sqlite3"
    assert "sync sqlite3 call" in finding.message


def test_sync_sqlalchemy_session_is_faa101_at_the_user_line(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    finding = assert_one(run_requests(app, reporter, "/sqlalchemy"), "FAA101", line_of("marker: sqlalchemy-execute"))
    assert finding.details["via"] == "sqlalchemy"
    assert finding.details["driver"] == "sqlite3"


def test_cpu_loop_is_faa102_in_the_loop(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    findings = run_requests(app, reporter, "/cpu")
    assert len(findings) == 1, [f.format_text() for f in findings]
    finding = findings[0]
    assert (finding.code, finding.filename) == ("FAA102", HERE)
    assert finding.line in {line_of("marker: cpu-while"), line_of("marker: cpu-body")}
    assert finding.details["route"] == "/cpu"


@pytest.mark.parametrize("path", ["/async-sleep", "/threadpool", "/plain-def"])
def test_non_blocking_waits_are_not_reported(fastapi_app: Any, path: str) -> None:
    app, reporter, _ = fastapi_app
    started = time.monotonic()
    assert run_requests(app, reporter, path) == []
    assert time.monotonic() - started >= BLOCK  # the route really waited


def test_finding_carries_locations_only(fastapi_app: Any) -> None:
    app, reporter, _ = fastapi_app
    (finding,) = run_requests(app, reporter, "/users/7")
    allowed = {
        "stall_seconds",
        "threshold_seconds",
        "function",
        "attributed_to",
        "stack",
        "samples",
        "method",
        "route",
        "driver",
        "via",
        "blocking_frame",
        "other_locations",
        "ongoing",
    }
    assert set(finding.details) <= allowed
    assert all(entry.rsplit(":", 1)[1].isdigit() for entry in finding.details["stack"])
    assert finding.to_dict()["details"]["route"] == "/users/{user_id}"


# -- C code that never lets go of the GIL ------------------------------------------------------


def calibrated_redos_length(target: float) -> int:
    """Length of "aaa…b" that keeps a catastrophic-backtracking regex busy about ``target`` seconds."""
    length = 16
    while True:
        started = time.perf_counter()
        REDOS.match("a" * length + "b")
        if time.perf_counter() - started >= target / 8 or length > 32:
            return length + 4  # each extra "a" doubles the work: 16x, margin for a starved calibration
        length += 1


REDOS = re.compile(r"(a+)+$")


def test_regex_backtracking_holding_the_gil_is_still_attributed() -> None:
    # The watchdog thread cannot run while sre holds the GIL: it samples as soon as it gets it
    # back, which is still inside the handler, on the same statement.
    app = FastAPI()
    length = calibrated_redos_length(BLOCK * 1.5)

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/validate")
    async def validate() -> dict[str, bool]:
        ok = REDOS.match("a" * length + "b") is not None  # marker: redos
        return {"ok": ok}

    reporter, _ = guard(app)
    # The watchdog samples when the regex gives the GIL back, if the OS runs its thread before
    # the handler returns to the loop; on a starved machine that race is lost now and then, and
    # a stall seen only as an idle loop is not reported (it looks like a paused process).  The
    # attribution must still happen within three tries.
    findings: list[Diagnostic] = []
    for _ in range(3):
        findings = run_requests(app, reporter, "/validate")
        if findings:
            break
    assert len(findings) == 1, [f.format_text() for f in findings]
    finding = findings[0]
    # The sample is taken where the handler is when the GIL comes back: the matching statement or,
    # when the interpreter switches threads a little later, the one after it; always in the handler.
    marker = line_of("marker: redos")
    assert (finding.code, finding.filename) == ("FAA102", HERE)
    assert finding.line in (marker, marker + 1), finding.format_text()
    assert finding.details["function"] == "validate"
    assert finding.details["stall_seconds"] >= BLOCK - 0.1


def test_the_request_is_named_even_when_it_ends_while_the_stack_is_analysed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The watchdog analyses a stack sample in Python and may lose the GIL meanwhile: the stuck
    # handler can return and its request end before the analysis is done.  The request must still
    # be the one the finding names, not "outside any request".
    app = FastAPI()

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/stuck/{item}")
    async def stuck(item: int) -> dict[str, str]:
        time.sleep(BLOCK)  # marker: stuck-then-ended
        return {}

    reporter, watchdog = guard(app)
    analyse = runtime_guard.watchdog.analyse_stack

    def analyse_while_the_request_ends(frame: Any) -> StackSample:
        sample = analyse(frame)
        watchdog._inflight.requests.clear()  # the handler returned and the request ended meanwhile
        return sample

    monkeypatch.setattr(runtime_guard.watchdog, "analyse_stack", analyse_while_the_request_ends)
    findings = run_requests(app, reporter, "/stuck/7")
    assert len(findings) == 1, [f.format_text() for f in findings]
    assert findings[0].details["route"] == "/stuck/{item}", findings[0].format_text()
    assert "outside any request" not in findings[0].message


# -- async SQLAlchemy: its sync core runs in greenlets on the loop thread, yet it is not a sync driver --


def test_async_sqlalchemy_is_not_mistaken_for_a_sync_driver() -> None:
    pytest.importorskip("greenlet", reason="SQLAlchemy's asyncio support needs greenlet")
    pytest.importorskip("aiosqlite", reason="the async sqlite driver is not installed")
    from sqlalchemy import Integer, TypeDecorator, literal_column, select
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    class SlowToDecode(TypeDecorator[int]):
        impl = Integer
        cache_ok = True

        def process_result_value(self, value: Any, dialect: Any) -> Any:
            time.sleep(BLOCK)  # marker: greenlet-sleep
            return value

    engine = create_async_engine("sqlite+aiosqlite://")

    @event.listens_for(engine.sync_engine, "connect")
    def add_slow_function(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.create_function("slow", 1, slow_sql)  # runs in aiosqlite's own thread

    app = FastAPI()

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/async-driver")
    async def async_driver() -> dict[str, int]:
        async with AsyncSession(engine) as session:
            value = (await session.execute(text("SELECT slow(:s)"), {"s": BLOCK})).scalar_one()
        return {"value": value}

    @app.get("/decode-in-greenlet")
    async def decode_in_greenlet() -> dict[str, int]:
        query = select(literal_column("1", SlowToDecode()))
        async with AsyncSession(engine) as session:
            rows = await session.run_sync(lambda sync_session: sync_session.execute(query).all())
        return {"value": rows[0][0]}

    reporter, _ = guard(app)
    assert run_requests(app, reporter, "/async-driver") == []
    finding = assert_one(run_requests(app, reporter, "/decode-in-greenlet"), "FAA102", line_of("marker: greenlet-sleep"))
    assert "driver" not in finding.details
    assert finding.details["route"] == "/decode-in-greenlet"


# -- attribution without user code on the stack, and several requests in flight -------


def test_stall_in_library_code_is_attributed_to_the_endpoint() -> None:
    app = FastAPI()
    item = {"id": 1, "name": "x", "tags": ["a", "b"]}
    # The fastest of a few calibrations: measured while the machine is busy, one alone would size the
    # payload for a slow encoder, and the request, run at full speed, could stall for less than BLOCK.
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        jsonable_encoder([item] * 2000)
        timings.append(time.perf_counter() - started)
    per_item = max(min(timings) / 2000, 1e-7)
    payload = [item] * int(BLOCK * 2 / per_item)

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/export", response_model=None)  # plain jsonable_encoder, not pydantic's fast path
    async def export() -> list[dict[str, Any]]:  # marker: export-def
        return payload  # FastAPI's encoder, not this code, spends the time

    reporter, _ = guard(app)
    findings = run_requests(app, reporter, "/export")
    assert len(findings) == 1, [f.format_text() for f in findings]
    finding = findings[0]
    assert (finding.code, finding.filename, finding.line) == ("FAA102", HERE, line_of("marker: export-def"))
    assert finding.details["attributed_to"] == "endpoint"
    # The only user frame on the stack is middleware waiting on the router: not the culprit.
    assert finding.details["stack"] == [f"{HERE}:{line_of('marker: middleware-await')}"]
    assert finding.details["route"] == "/export"


def test_with_several_requests_in_flight_the_blocking_handler_is_named() -> None:
    app = FastAPI()

    @app.get("/waiting/{n}")
    async def waiting(n: int) -> dict[str, int]:
        await asyncio.sleep(BLOCK * 2)
        return {"n": n}

    @app.get("/blocking")
    async def blocking() -> dict[str, str]:
        await asyncio.sleep(0.05)  # let the other requests start first
        time.sleep(BLOCK)  # marker: concurrent-sleep
        return {}

    reporter, watchdog = guard(app)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)  # no lifespan: the watchdog starts on the first request
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(
                client.get("/waiting/1"), client.get("/blocking"), client.get("/waiting/2")
            )
        assert [r.status_code for r in responses] == [200, 200, 200]
        watchdog.stop()

    asyncio.run(main())
    finding = assert_one(reporter.snapshot(), "FAA102", line_of("marker: concurrent-sleep"))
    assert finding.details["route"] == "/blocking"


def test_blocked_time_between_separates_blocked_from_waiting(fastapi_app: Any) -> None:
    app, _, watchdog = fastapi_app
    with TestClient(app) as client:
        client.get("/warm")
        started = time.monotonic()
        client.get("/users/1")
        blocked_mid = time.monotonic()
        client.get("/async-sleep")
        ended = time.monotonic()
        assert watchdog.blocked_time_between(started, blocked_mid) >= BLOCK - 0.1
        assert watchdog.blocked_time_between(blocked_mid, ended) < 0.05
        assert watchdog.blocked_time_between(ended + 10, ended + 20) == 0.0


# -- a plain Starlette app ---------------------------------------------------------


async def starlette_warm(request: Request) -> JSONResponse:
    return JSONResponse({})


async def starlette_item(request: Request) -> JSONResponse:
    time.sleep(BLOCK)  # marker: starlette-sleep
    return JSONResponse({"id": request.path_params["item_id"]})


async def starlette_sleep(request: Request) -> JSONResponse:
    await asyncio.sleep(BLOCK)
    return JSONResponse({})


def test_starlette_app_blocking_route_is_reported_with_its_template() -> None:
    app = Starlette(
        routes=[
            Route("/warm", starlette_warm),
            Route("/items/{item_id}", starlette_item),
            Route("/fine", starlette_sleep),
        ]
    )
    reporter, _ = guard(app)
    finding = assert_one(run_requests(app, reporter, "/items/9"), "FAA102", line_of("marker: starlette-sleep"))
    assert finding.details["route"] == "/items/{item_id}"
    assert finding.details["function"] == "starlette_item"
    assert run_requests(app, reporter, "/fine") == []


# -- a real server: uvicorn on 127.0.0.1, its loop in a thread of its own -------------


def test_uvicorn_served_app_reports_the_blocking_line() -> None:
    uvicorn = pytest.importorskip("uvicorn")
    app = FastAPI()

    @app.get("/report/{name}")
    async def report(name: str) -> dict[str, str]:
        time.sleep(BLOCK)  # marker: uvicorn-sleep
        return {"name": name}

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        await asyncio.sleep(BLOCK)
        return {}

    reporter, _ = guard(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/fine").status_code == 200
            assert client.get("/report/q3").status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)
    finding = assert_one(reporter.snapshot(), "FAA102", line_of("marker: uvicorn-sleep"))
    assert finding.details["route"] == "/report/{name}"


# -- end to end through the guard middleware (engineer M's RuntimeGuard) ------------------


def runtime_guard_parts() -> tuple[Any, Any]:
    try:
        from runtime_guard import MemorySink, RuntimeGuard
    except ImportError:
        pytest.skip("runtime_guard.RuntimeGuard is not available yet")
    return RuntimeGuard, MemorySink


def loop_findings(sink: Any) -> list[Diagnostic]:
    return [d for d in sink.diagnostics if d.code in ("FAA101", "FAA102")]


def test_through_runtime_guard_fastapi() -> None:
    runtime_guard_cls, memory_sink_cls = runtime_guard_parts()
    app = FastAPI()

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/orders/{order_id}")
    async def get_order(order_id: int) -> dict[str, int]:
        time.sleep(BLOCK)  # marker: guard-sleep
        return {"id": order_id}

    @app.get("/orders-db")
    async def orders_db() -> dict[str, int]:
        conn = sqlite3.connect(":memory:")
        conn.create_function("slow", 1, slow_sql)
        (value,) = conn.execute("SELECT slow(?)", (BLOCK,)).fetchone()  # marker: guard-sqlite
        conn.close()
        return {"value": value}

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        await asyncio.sleep(BLOCK)
        await run_in_threadpool(time.sleep, BLOCK)
        return {}

    sink = memory_sink_cls()
    app.add_middleware(
        runtime_guard_cls, sink=sink, block_threshold=THRESHOLD, slow_request_threshold=10.0, mode="report"
    )
    gc.collect()
    with TestClient(app) as client:
        client.get("/warm")
        for path in ("/fine", "/orders/5", "/orders-db"):
            assert client.get(path).status_code == 200
    found = sorted((d.code, d.filename, d.line, d.details.get("route")) for d in loop_findings(sink))
    assert found == [
        ("FAA101", HERE, line_of("marker: guard-sqlite"), "/orders-db"),
        ("FAA102", HERE, line_of("marker: guard-sleep"), "/orders/{order_id}"),
    ]
    assert all(d.source == "runtime" for d in loop_findings(sink))


def test_through_runtime_guard_starlette() -> None:
    runtime_guard_cls, memory_sink_cls = runtime_guard_parts()
    app = Starlette(
        routes=[
            Route("/warm", starlette_warm),
            Route("/items/{item_id}", starlette_item),
            Route("/fine", starlette_sleep),
        ]
    )
    sink = memory_sink_cls()
    app.add_middleware(
        runtime_guard_cls, sink=sink, block_threshold=THRESHOLD, slow_request_threshold=10.0, mode="report"
    )
    gc.collect()
    with TestClient(app) as client:
        client.get("/warm")
        assert client.get("/fine").status_code == 200
        assert client.get("/items/1").status_code == 200
    found = [(d.code, d.filename, d.line, d.details.get("route")) for d in loop_findings(sink)]
    assert found == [("FAA102", HERE, line_of("marker: starlette-sleep"), "/items/{item_id}")]


# -- reading one sampled stack --------------------------------------------------------------


def sample_thread(target: Callable[[threading.Event], None]) -> StackSample:
    """Run ``target`` in a thread and analyse that thread's stack while it waits."""
    started, done = threading.Event(), threading.Event()

    def run() -> None:
        started.set()
        target(done)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(5)
    time.sleep(0.1)  # let it reach its wait
    frame = sys._current_frames()[thread.ident or 0]
    try:
        return analyse_stack(frame)
    finally:
        del frame
        done.set()
        thread.join()


def test_a_loop_waiting_in_select_is_idle_not_blocked() -> None:
    def wait_in_select(done: threading.Event) -> None:
        with selectors.DefaultSelector() as selector:
            while not done.is_set():
                selector.select(timeout=0.05)

    assert sample_thread(wait_in_select).idle


def test_a_blocked_thread_is_attributed_to_its_user_line() -> None:
    def wait_in_user_code(done: threading.Event) -> None:
        while not done.wait(0.01):  # marker: user-wait
            pass

    sample = sample_thread(wait_in_user_code)
    assert not sample.idle
    assert sample.attributed is not None
    assert (sample.attributed.filename, sample.attributed.line) == (HERE, line_of("marker: user-wait"))
    assert sample.driver is None


@pytest.mark.parametrize(
    ("module", "driver"),
    [
        ("sqlite3", "sqlite3"),
        ("sqlite3.dbapi2", "sqlite3"),
        ("psycopg2.extras", "psycopg2"),
        ("psycopg.connection", "psycopg"),
        ("psycopg.connection_async", None),
        ("pymysql.connections", "pymysql"),
        ("pymongo.synchronous.collection", "pymongo"),
        ("pymongo.asynchronous.collection", None),
        ("redis.client", "redis"),
        ("redis.asyncio.client", None),
        ("aiosqlite.core", None),
        ("myapp.redis_cache", None),
        ("redisx", None),
    ],
)
def test_driver_table(module: str, driver: str | None) -> None:
    assert driver_of_module(module) == driver


# -- the table of requests in flight ------------------------------------------------------


def test_inflight_sees_the_route_template_the_router_sets_later() -> None:
    inflight = InFlight()
    seen: list[tuple[str, str]] = []

    async def items(request: Request) -> JSONResponse:
        seen.extend((info.method, info.route) for info in inflight.current())
        return JSONResponse({})

    api = FastAPI()

    @api.get("/users/{user_id}/orders")
    async def orders(user_id: int) -> dict[str, str]:
        seen.extend((info.method, info.route) for info in inflight.current())
        return {}

    app = Starlette(routes=[Mount("/v1", routes=[Route("/items/{item_id}", items)]), Mount("/api", app=api)])
    app.add_middleware(Guarded, watchdog=LoopWatchdog(Reporter(), inflight, THRESHOLD), inflight=inflight)
    with TestClient(app) as client:
        assert client.get("/v1/items/3").status_code == 200
        assert client.post("/v1/items/3").status_code == 405
        assert client.get("/api/users/4/orders").status_code == 200
        assert client.get("/nowhere/5").status_code == 404
    assert seen == [("GET", "/v1/items/{item_id}"), ("GET", "/api/users/{user_id}/orders")]
    assert len(inflight) == 0  # every request ended, errors included


def test_route_template_falls_back_to_the_path() -> None:
    assert route_template({"type": "http", "path": "/raw/1"}) == "/raw/1"
    assert route_template({"type": "http", "path": "/u/1", "route": Route("/u/{id}", starlette_warm)}) == "/u/{id}"


def test_inflight_is_bounded_and_copes_with_any_scope() -> None:
    inflight = InFlight(max_tracked=2)
    tokens = [inflight.begin({"type": "http", "method": "GET", "path": f"/{n}"}) for n in range(3)]
    assert len(set(tokens)) == 3
    assert [info.route for info in inflight.current()] == ["/0", "/1"]
    websocket = inflight.begin({"type": "websocket", "path": "/ws"})  # still full: not tracked
    for token in tokens:
        inflight.end(token)
    inflight.end(websocket)
    inflight.end(12345)  # unknown tokens are fine
    token = inflight.begin({"type": "websocket", "path": "/ws"})
    assert [(info.method, info.route) for info in inflight.current()] == [("WEBSOCKET", "/ws")]
    inflight.end(token)
    assert inflight.current() == []


# -- lifecycle and fail-open -------------------------------------------------------


def _watchdog_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "runtime-guard-watchdog"]


def test_start_and_stop_are_idempotent_and_leave_nothing_running() -> None:
    watchdog = LoopWatchdog(Reporter(), InFlight(), THRESHOLD)

    async def main() -> None:
        watchdog.start()
        watchdog.start()
        assert len(_watchdog_threads()) == 1
        assert all(thread.daemon for thread in _watchdog_threads())
        await asyncio.sleep(0.05)
        watchdog.stop()
        watchdog.stop()

    asyncio.run(main())
    # Stopped on the loop, the watchdog does not wait for its thread (waiting would block the
    # loop): the thread sees the stop and ends by itself.
    for thread in _watchdog_threads():
        thread.join(timeout=5.0)
    assert _watchdog_threads() == []


def test_watchdog_follows_a_new_loop_and_never_blocks_shutdown() -> None:
    reporter = Reporter()
    watchdog = LoopWatchdog(reporter, InFlight(), THRESHOLD)

    async def block_once() -> None:
        watchdog.start()
        await asyncio.sleep(0.02)
        time.sleep(BLOCK)  # marker: second-loop-sleep

    asyncio.run(block_once())  # never stopped: the loop closes under the watchdog
    asyncio.run(block_once())  # a new loop: the watchdog moves to it
    watchdog.stop()
    assert _watchdog_threads() == []
    lines = {finding.line for finding in reporter.snapshot()}
    assert lines == {line_of("marker: second-loop-sleep")}
    assert len(reporter.snapshot()) >= 1


class BrokenReporter:
    def __init__(self) -> None:
        self.calls = 0

    def report(self, diagnostic: Diagnostic) -> None:
        self.calls += 1
        raise RuntimeError("sink down")


def test_a_failing_reporter_never_reaches_the_app(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()

    @app.get("/warm")
    async def warm() -> dict[str, str]:
        return {}

    @app.get("/block")
    async def block() -> dict[str, str]:
        time.sleep(BLOCK)
        return {}

    runtime_guard.watchdog._faults_logged.clear()  # earlier tests may have used up the "once"
    broken = BrokenReporter()
    inflight = InFlight()
    watchdog = LoopWatchdog(broken, inflight, THRESHOLD)
    app.add_middleware(Guarded, watchdog=watchdog, inflight=inflight)
    with caplog.at_level(logging.WARNING, logger="runtime_guard"), TestClient(app) as client:
        for _ in range(2):
            assert client.get("/block").status_code == 200
    assert broken.calls == 2
    faults = [record for record in caplog.records if "reporting a loop stall" in record.getMessage()]
    assert len(faults) == 1  # logged once, never raised into the app


def test_invalid_threshold_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoopWatchdog(Reporter(), InFlight(), 0)
