"""Outbound HTTP calls at runtime: FAA204 (no timeout, past the request's budget), FAA205 (a failing host
still called on every request), for httpx (sync and async), requests and aiohttp against a local upstream."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from starlette.testclient import TestClient

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard
from runtime_guard.outbound import clients
from runtime_guard.outbound.failures import Failure, HostFailures
from runtime_guard.outbound.libraries import CallInfo
from runtime_guard.outbound.watch import OutboundWatch

try:
    import requests
except ImportError:  # the test extra installs it; without it, its cases skip
    requests = None  # type: ignore[assignment]
try:
    import aiohttp
except ImportError:
    aiohttp = None  # type: ignore[assignment]
try:
    import httpx2
except ImportError:  # not in the test extra (it changes what Starlette's TestClient uses); its case skips
    httpx2 = None

HERE = str(Path(__file__).resolve())
BUDGET = 0.5
"""The request budget (slow_request_threshold) of the guards here: a hanging call passes it by far."""
HANG_MAX = 10.0
"""The longest the hanging upstream holds a call: the tests release it as soon as they have looked."""
RESPECTED_TIMEOUT = 0.1
FAILURES = 3
SETTLE = 5.0
"""The longest a test waits for something that should happen at once (bounded polling)."""

def line_of(marker: str) -> int:
    for number, source in enumerate(Path(HERE).read_text().splitlines(), 1):
        if source.rstrip().endswith(f"# marker: {marker}"):
            return number
    raise AssertionError(f"marker {marker!r} not found")


def wait_for(condition: Callable[[], bool], seconds: float = SETTLE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# -- the upstream: a local server that answers, fails or hangs ----------------------------


class Upstream:
    """An HTTP server on 127.0.0.1: ``/ok`` answers 200, ``/fail`` 500, ``/hang`` holds the call until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hanging = threading.Event()
        """Set when a ``/hang`` call has arrived (the app's call is on the wire)."""
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                if self.path.startswith("/hang"):
                    upstream.hanging.set()
                    upstream.release.wait(HANG_MAX)
                status, body = (500, b"upstream failed") if self.path.startswith("/fail") else (200, b"upstream ok")
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting (its timeout)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(SETTLE)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def refused_url() -> str:
    """A 127.0.0.1 address nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- the app: one route per client library ------------------------------------------------

LIBRARIES = ("httpx-sync", "httpx-async", "requests", "aiohttp", "httpx2")


def needs(library: str) -> None:
    if library == "requests" and requests is None:
        pytest.skip("requests is not installed (it is in the `test` extra)")
    if library == "aiohttp" and aiohttp is None:
        pytest.skip("aiohttp is not installed (it is in the `test` extra)")
    if library == "httpx2" and httpx2 is None:
        pytest.skip("httpx2 is not installed")


def relayed(status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(f"upstream said {status}: {text}")


def failed(exc: BaseException) -> PlainTextResponse:
    return PlainTextResponse(f"upstream unreachable: {type(exc).__name__}", status_code=502)


def make_app(upstream_url: str, *, breaker_after: int | None = None) -> FastAPI:
    """Routes that call ``upstream_url``/{path}; no ``timeout`` query parameter means no timeout at all.

    With ``breaker_after``, a hand-made breaker stops calling after that many failures in a row and answers 503.
    """
    app = FastAPI()
    failures_in_a_row = [0]

    def breaker_open() -> bool:
        return breaker_after is not None and failures_in_a_row[0] >= breaker_after

    def count(ok: bool) -> None:
        failures_in_a_row[0] = 0 if ok else failures_in_a_row[0] + 1

    @app.get("/httpx-sync/{path}")
    def httpx_sync(path: str, timeout: float | None = None) -> PlainTextResponse:
        if breaker_open():
            return PlainTextResponse("breaker open", status_code=503)
        try:
            answer = httpx.get(f"{upstream_url}/{path}", timeout=timeout)  # marker: httpx-sync
        except httpx.HTTPError as exc:
            count(False)
            return failed(exc)
        count(answer.status_code < 500)
        return relayed(answer.status_code, answer.text)

    @app.get("/httpx-async/{path}")
    async def httpx_async(path: str, timeout: float | None = None) -> PlainTextResponse:
        async with httpx.AsyncClient(timeout=timeout) as client:
            try:
                answer = await client.get(f"{upstream_url}/{path}")  # marker: httpx-async
            except httpx.HTTPError as exc:
                return failed(exc)
        return relayed(answer.status_code, answer.text)

    @app.get("/requests/{path}")
    def requests_sync(path: str, timeout: float | None = None) -> PlainTextResponse:
        try:
            answer = requests.get(f"{upstream_url}/{path}", timeout=timeout)  # marker: requests
        except requests.RequestException as exc:
            return failed(exc)
        return relayed(answer.status_code, answer.text)

    @app.get("/aiohttp/{path}")
    async def aiohttp_async(path: str, timeout: float | None = None) -> PlainTextResponse:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            try:
                async with session.get(f"{upstream_url}/{path}") as answer:  # marker: aiohttp
                    return relayed(answer.status, await answer.text())
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                return failed(exc)

    @app.get("/httpx2/{path}")
    def httpx2_sync(path: str, timeout: float | None = None) -> PlainTextResponse:
        try:
            answer = httpx2.get(f"{upstream_url}/{path}", timeout=timeout)  # marker: httpx2
        except httpx2.HTTPError as exc:
            return failed(exc)
        return relayed(answer.status_code, answer.text)

    return app


def guarded(app: Any, sink: MemorySink, **settings: Any) -> RuntimeGuard:
    settings.setdefault("slow_request_threshold", BUDGET)
    settings.setdefault("outbound_failure_threshold", FAILURES)
    settings.setdefault("outbound_failure_window", 30.0)
    settings.setdefault("block_threshold", 0.2)  # a loaded machine's stalls are not what these tests look at
    return RuntimeGuard(app, sink=sink, config=GuardConfig(**settings), environ={})


def found(sink: MemorySink, code: str) -> list[Diagnostic]:
    return [d for d in sink.diagnostics if d.code == code]


def route_of(library: str) -> str:
    return f"GET /{library}/{{path}}"


# -- FAA204 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_call_without_timeout_still_hanging_past_the_budget_is_faa204(library: str, upstream: Upstream) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.get, f"/{library}/hang")
        assert upstream.hanging.wait(SETTLE), "the app's call never reached the upstream"
        # Reported while the call still hangs: a call with no timeout may never return.
        assert wait_for(lambda: bool(found(sink, "FAA204"))), sink.diagnostics
        assert not pending.done()
        upstream.release.set()
        response = pending.result(timeout=SETTLE)
    assert (response.status_code, response.text) == (200, "upstream said 200: upstream ok")
    (finding,) = found(sink, "FAA204")
    assert (finding.filename, finding.line) == (HERE, line_of(library))
    assert finding.details["host"] == upstream.host
    assert finding.details["route"] == route_of(library)
    assert finding.details["ongoing"] is True
    assert finding.details["timeout"] == "no timeout"
    assert finding.details["request_seconds"] >= BUDGET
    assert upstream.host in finding.message and route_of(library) in finding.message
    assert "pass an explicit timeout" in finding.message


def test_without_the_watchdog_the_call_is_reported_when_it_returns(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink, watchdog=False)) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.get, "/httpx-sync/hang")
        assert upstream.hanging.wait(SETTLE)
        time.sleep(BUDGET + 0.2)
        assert found(sink, "FAA204") == []  # nothing looks while it hangs
        upstream.release.set()
        response = pending.result(timeout=SETTLE)
    assert response.status_code == 200
    (finding,) = found(sink, "FAA204")
    assert (finding.line, finding.details["host"]) == (line_of("httpx-sync"), upstream.host)
    assert "ongoing" not in finding.details
    assert finding.details["call_seconds"] > BUDGET / 2


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_timeout_given_and_respected_is_not_faa204(library: str, upstream: Upstream) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        response = client.get(f"/{library}/hang", params={"timeout": RESPECTED_TIMEOUT})
        upstream.release.set()
    assert response.status_code == 502 and response.text.startswith("upstream unreachable: "), response.text
    assert upstream.hanging.is_set()
    assert found(sink, "FAA204") == []


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_call_with_a_timeout_is_not_faa204_even_past_the_budget(library: str, upstream: Upstream) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.get, f"/{library}/hang", params={"timeout": HANG_MAX})
        assert upstream.hanging.wait(SETTLE)
        time.sleep(BUDGET + 0.2)
        upstream.release.set()
        response = pending.result(timeout=SETTLE)
    assert response.text == "upstream said 200: upstream ok"
    assert found(sink, "FAA204") == []  # bounded: slow, which FAA103 is about, but it cannot hang forever


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_quick_call_without_timeout_is_not_faa204(library: str, upstream: Upstream) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        responses = [client.get(f"/{library}/ok") for _ in range(3)]
    assert [r.text for r in responses] == ["upstream said 200: upstream ok"] * 3
    assert found(sink, "FAA204") == [] and found(sink, "FAA205") == []


# -- FAA205 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_failing_host_called_on_every_request_is_faa205(library: str, upstream: Upstream) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        responses = [client.get(f"/{library}/fail", params={"timeout": 5}) for _ in range(FAILURES + 2)]
    assert [r.text for r in responses] == ["upstream said 500: upstream failed"] * (FAILURES + 2)
    (finding,) = found(sink, "FAA205")
    assert (finding.filename, finding.line) == (HERE, line_of(library))
    assert finding.details["host"] == upstream.host
    assert finding.details["failures"] == FAILURES
    assert finding.details["requests"] == FAILURES
    assert finding.details["routes"] == [route_of(library)]
    assert finding.details["errors"] == ["HTTP 500"]
    assert finding.details["window_seconds"] == 30.0
    assert "circuit breaker" in finding.message
    assert found(sink, "FAA204") == []


@pytest.mark.parametrize("library", LIBRARIES)
def test_refused_connections_count_as_failures(library: str, refused_url: str) -> None:
    needs(library)
    sink = MemorySink()
    with TestClient(guarded(make_app(refused_url), sink)) as client:
        responses = [client.get(f"/{library}/anything", params={"timeout": 5}) for _ in range(FAILURES)]
    assert {r.status_code for r in responses} == {502}
    (finding,) = found(sink, "FAA205")
    assert finding.details["host"] == refused_url.removeprefix("http://")
    assert finding.details["failures"] == FAILURES
    assert "HTTP 500" not in finding.details["errors"]


def test_a_healthy_host_is_not_faa205(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        texts = [client.get("/httpx-sync/ok", params={"timeout": 5}).text for _ in range(FAILURES * 3)]
    assert texts == ["upstream said 200: upstream ok"] * (FAILURES * 3)
    assert found(sink, "FAA204") == [] and found(sink, "FAA205") == []


def test_failures_broken_by_successes_are_not_faa205(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        for _ in range(FAILURES * 2):
            assert client.get("/httpx-sync/fail", params={"timeout": 5}).status_code == 200
            assert client.get("/httpx-sync/ok", params={"timeout": 5}).status_code == 200
    assert found(sink, "FAA205") == []


def test_an_app_whose_breaker_fails_fast_is_not_faa205(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url, breaker_after=FAILURES - 1), sink)) as client:
        statuses = [client.get("/httpx-sync/fail", params={"timeout": 5}).status_code for _ in range(FAILURES * 3)]
    assert statuses == [200] * (FAILURES - 1) + [503] * (FAILURES * 2 + 1)
    assert found(sink, "FAA205") == []


# -- the per-host record, with a clock of its own --------------------------------------------


def failure(at: float, request: int, route: str = "GET /r") -> Failure:
    return Failure(at, request, route, "HTTP 503")


def test_host_failures_need_a_run_within_the_window_from_several_requests() -> None:
    table = HostFailures(threshold=3, window=10.0)
    assert table.failed("a", failure(0.0, 1)) is None
    assert table.failed("a", failure(1.0, 1)) is None
    assert table.failed("a", failure(2.0, 1)) is None  # one request retrying: not "every request"
    crossed = table.failed("a", failure(3.0, 2, "GET /other"))
    assert crossed is not None
    assert (crossed.failures, crossed.requests, crossed.total_failures) == (3, 2, 4)
    assert crossed.routes == ["GET /other", "GET /r"]
    assert table.failed("a", failure(4.0, 3)) is None  # once per host

    slow = HostFailures(threshold=3, window=10.0)
    for at, request in ((0.0, 1), (6.0, 2), (12.0, 3), (18.0, 4)):
        assert slow.failed("b", failure(at, request)) is None  # a breaker's trial calls, spaced out

    broken = HostFailures(threshold=3, window=10.0)
    broken.failed("c", failure(0.0, 1))
    broken.failed("c", failure(1.0, 2))
    broken.succeeded("c")
    assert broken.failed("c", failure(2.0, 3)) is None
    assert broken.failed("c", failure(3.0, 4)) is None
    assert broken.failed("c", failure(4.0, 5)) is not None


def test_host_failures_are_bounded() -> None:
    table = HostFailures(threshold=3, window=10.0, max_hosts=4)
    for number in range(100):
        for request in range(10):
            table.failed(f"host-{number}", failure(float(request), request))
    assert len(table) == 4
    assert all(len(run.recent) <= 3 for run in table._runs.values())
    table.succeeded("never-failed")
    assert len(table) == 4  # a healthy host takes no room


# -- fail-open, removal, imports ----------------------------------------------------------------


@pytest.mark.parametrize("broken", ["begin", "end", "describe"])
def test_a_fault_in_the_instrumentation_leaves_the_response_unchanged(
    broken: str, upstream: Upstream, refused_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults: list[str] = []

    def explode(*args: Any, **kwargs: Any) -> Any:
        faults.append(broken)
        raise RuntimeError("a bug in the guard")

    if broken == "describe":
        monkeypatch.setattr("runtime_guard.outbound.libraries.host_of", explode)
    else:
        monkeypatch.setattr(OutboundWatch, broken, explode)
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        ok = client.get("/httpx-sync/ok")
        failing = client.get("/httpx-sync/fail", params={"timeout": 5})
        upstream.release.set()
        hang = client.get("/httpx-sync/hang")
    with TestClient(guarded(make_app(refused_url), sink)) as client:
        refused = client.get("/httpx-sync/anything", params={"timeout": 5})
    assert (ok.status_code, ok.text) == (200, "upstream said 200: upstream ok")
    assert (failing.status_code, failing.text) == (200, "upstream said 500: upstream failed")
    assert (hang.status_code, hang.text) == (200, "upstream said 200: upstream ok")
    assert (refused.status_code, refused.text) == (502, "upstream unreachable: ConnectError")
    assert len(faults) >= 4  # the guard's part did run, and failed, on every call


def test_a_failing_sink_leaves_the_response_unchanged(upstream: Upstream) -> None:
    class BrokenSink(MemorySink):
        def emit(self, diagnostic: Diagnostic) -> None:
            raise RuntimeError("sink down")

    with TestClient(guarded(make_app(upstream.url), BrokenSink())) as client:
        texts = [client.get("/httpx-sync/fail", params={"timeout": 5}).text for _ in range(FAILURES + 1)]
    assert texts == ["upstream said 500: upstream failed"] * (FAILURES + 1)


def test_each_call_is_judged_by_the_guard_serving_its_request(upstream: Upstream) -> None:
    first, second = MemorySink(), MemorySink()
    with TestClient(guarded(make_app(upstream.url), first)) as one:
        with TestClient(guarded(make_app(upstream.url), second)) as two:
            two.get("/httpx-sync/ok")
            assert "httpx" in clients.patched()
            for _ in range(FAILURES):
                one.get("/httpx-sync/fail", params={"timeout": 5})
        for _ in range(FAILURES):
            one.get("/requests/fail" if requests is not None else "/httpx-async/fail", params={"timeout": 5})
    assert len(found(first, "FAA205")) == 1 and found(second, "FAA205") == []


def test_calls_outside_any_request_are_not_watched(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink)) as client:
        client.get("/httpx-sync/ok")
        for _ in range(FAILURES * 2):
            assert httpx.get(f"{upstream.url}/fail").status_code == 500  # the test's own calls
    assert found(sink, "FAA205") == []


def test_a_guard_with_outbound_off_wraps_nothing(upstream: Upstream) -> None:
    sink = MemorySink()
    with TestClient(guarded(make_app(upstream.url), sink, instrument_outbound=False)) as client:
        for _ in range(FAILURES * 2):
            client.get("/httpx-sync/fail", params={"timeout": 5})
    assert found(sink, "FAA205") == []


class FakeState:
    route = "GET /x"

    def __init__(self) -> None:
        self.started = time.monotonic()

    def endpoint_location(self) -> None:
        return None


class ListReporter:
    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def report(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)


def test_the_sweep_reports_a_call_once_and_only_calls_without_a_timeout() -> None:
    reporter = ListReporter()
    watch = OutboundWatch(reporter, budget=60.0, failure_threshold=3, failure_window=10.0)
    state = FakeState()
    bounded = watch.begin("httpx", CallInfo("h:1", None), state, 1, sys._getframe())  # type: ignore[arg-type]
    unbounded = watch.begin("httpx", CallInfo("h:1", "no read timeout"), state, 1, sys._getframe())  # marker: unit
    assert len(watch) == 1  # only the call without a timeout is tracked
    watch.sweep(state.started + 59.0)
    assert reporter.items == []  # within the budget
    watch.sweep(state.started + 61.0)
    watch.sweep(state.started + 62.0)
    (finding,) = reporter.items
    assert (finding.code, finding.line, finding.details["ongoing"]) == ("FAA204", line_of("unit"), True)
    assert finding.details["timeout"] == "no read timeout" and finding.details["route"] == "GET /x"
    watch.end(unbounded, None, None, succeeded=True)
    watch.end(bounded, None, None, succeeded=True)
    assert len(watch) == 0 and len(reporter.items) == 1


def test_a_call_no_line_of_the_app_made_is_counted_not_reported() -> None:
    # No app frame (a library calling out on its own) and no handler of the app's: nowhere to act.
    reporter = ListReporter()
    watch = OutboundWatch(reporter, budget=60.0, failure_threshold=2, failure_window=10.0)
    state = FakeState()
    call = watch.begin("httpx", CallInfo("h:1", "no timeout"), state, 1, None)  # type: ignore[arg-type]
    watch.sweep(state.started + 61.0)
    for request in (2, 3):
        failing = watch.begin("httpx", CallInfo("down:1", None), state, request, None)  # type: ignore[arg-type]
        watch.end(failing, None, "ConnectError", succeeded=False)
    watch.end(call, None, None, succeeded=True)
    assert reporter.items == []
    assert watch.unlocated == 2  # the call past its budget, and the failing host


LAZY_IMPORT_APP = r"""
import asyncio, sys
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard
from runtime_guard.outbound import clients

async def plain(request):
    return PlainTextResponse("ok")

async def uses_http(request):
    import httpx  # the app's first use of an HTTP client, long after start-up
    return PlainTextResponse(httpx.__version__)

guard = RuntimeGuard(Starlette(routes=[Route("/", plain), Route("/http", uses_http)]), sink=MemorySink(),
                     config=GuardConfig(watchdog=False))

async def call(path):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await guard(scope, receive, send)
    return sent[0]["status"]

def imported():
    return sorted(name for name in ("httpx", "requests", "aiohttp") if name in sys.modules)

async def main():
    assert await call("/") == 200
    print("after first request:", imported(), sorted(clients.patched()))
    assert await call("/http") == 200
    assert await call("/") == 200
    print("after the app imported it:", imported(), sorted(clients.patched()))
    guard.close()
    print("after close:", sorted(clients.patched()))

asyncio.run(main())
"""


def test_the_guard_never_imports_a_client_library_and_wraps_one_once_the_app_does() -> None:
    result = subprocess.run([sys.executable, "-c", LAZY_IMPORT_APP], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "after first request: [] []",
        "after the app imported it: ['httpx'] ['httpx']",
        "after close: []",
    ], result.stdout + result.stderr


REMOVAL = r"""
import asyncio, sys
import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard

LIBRARIES = {"httpx.Client": (httpx.Client, "send"), "httpx.AsyncClient": (httpx.AsyncClient, "send")}
for module, owner, name in (("requests.adapters", "HTTPAdapter", "send"), ("aiohttp", "ClientSession", "_request")):
    try:
        imported = __import__(module, fromlist=[owner])
    except ImportError:
        continue
    LIBRARIES[f"{module}.{owner}"] = (getattr(imported, owner), name)
ORIGINALS = {key: vars(owner)[name] for key, (owner, name) in LIBRARIES.items()}

def state():
    current = {key: vars(owner)[name] for key, (owner, name) in LIBRARIES.items()}
    if current == ORIGINALS:
        return "originals"
    if all(getattr(current[key], "__wrapped__", None) is ORIGINALS[key] for key in current):
        return "wrapped once"
    return "something else"

async def plain(request):
    return PlainTextResponse("ok")

async def call(guard):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    await guard(scope, receive, send)

async def main():
    one, two = (RuntimeGuard(Starlette(routes=[Route("/", plain)]), sink=MemorySink(), config=GuardConfig(watchdog=False))
                for _ in range(2))
    print(state())
    await call(one)
    print(state())
    await call(two)
    await call(one)
    print(state())
    one.close()
    print(state())
    one.close()  # twice: idempotent
    two.close()
    print(state())

asyncio.run(main())
"""


def test_the_wrappers_go_on_once_and_come_off_when_the_last_guard_stops() -> None:
    result = subprocess.run([sys.executable, "-c", REMOVAL], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "originals",
        "wrapped once",
        "wrapped once",
        "wrapped once",
        "originals",
    ], result.stdout + result.stderr


STACKED = r"""
import asyncio
import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard

ORIGINAL = httpx.Client.send

def layers():
    count, function = 0, httpx.Client.send
    while getattr(function, "__wrapped__", None) is not None:
        count, function = count + 1, function.__wrapped__
    return count if function is ORIGINAL else -1

async def plain(request):
    return PlainTextResponse("ok")

async def call(guard):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    await guard(scope, receive, send)

async def main():
    guard = RuntimeGuard(Starlette(routes=[Route("/", plain)]), sink=MemorySink(), config=GuardConfig(watchdog=False))
    for _ in range(3):
        await call(guard)
        ours = httpx.Client.send
        def mocked(self, request, **kwargs):  # a mocking library patching over the guard, as a test may
            return ours(self, request, **kwargs)
        mocked.__wrapped__ = ours
        httpx.Client.send = mocked
        guard.close()  # cannot take its wrapper off: the mock sits on it
        print(layers())
        httpx.Client.send = ours  # the mock ends, and puts back what it found
    await call(guard)
    print(layers())
    guard.close()
    print(layers())

asyncio.run(main())
"""


def test_a_wrapper_left_under_another_patch_is_not_stacked_again() -> None:
    result = subprocess.run([sys.executable, "-c", STACKED], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Two layers while mocked (the mock, the guard's now passing through), one once the guard wraps again,
    # none (the original itself) when it leaves.
    assert result.stdout.splitlines() == ["2", "2", "2", "1", "0"], result.stdout + result.stderr
