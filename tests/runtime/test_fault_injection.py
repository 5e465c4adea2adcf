"""The guard under fault injection: it fails open, changes no response, and loses or doubles no finding.

Each test drives the same app bare and guarded and compares what clients get
(status, headers, body) byte for byte, then checks the guard's accounting:
one record per finding, its count equal to the number of requests that
triggered it.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.testclient import TestClient

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard

HERE = __file__
# The watchdog is not under test here; a high threshold keeps a loaded machine's
# scheduling hiccups from adding loop-stall findings to the exact counts below.
QUIET_THRESHOLD = 5.0

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"])


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/leak")
async def leak() -> dict[str, str]:
    settings: dict[str, str] = {}
    try:
        settings["missing"]
    except KeyError:
        return {"error": traceback.format_exc()}
    return {}


@app.get("/print")
async def shout() -> dict[str, str]:
    print("handling /print")  # marker: print
    return {"printed": "yes"}


@app.get("/crash")
async def crash() -> dict[str, str]:
    raise KeyError("order-42")  # marker: raise


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"chunk {i}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/echo/{number}")
async def echo(number: int, request: Request) -> dict[str, Any]:
    if number % 4 == 0:
        print(f"request {number}")  # marker: load-print
    if number % 5 == 0:
        try:
            raise ValueError(f"bad number {number}")
        except ValueError:
            return {"number": number, "error": traceback.format_exc()}
    return {"number": number, "agent": request.headers.get("x-agent")}


# (path, headers): every detector of the guard has something to see.
REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("/leak", {}),
    ("/print", {}),
    ("/crash", {}),
    ("/stream", {}),
    ("/health", {"Origin": "https://elsewhere.example"}),  # CORSMiddleware answers `*`: FAA301
]
REPEAT = 3
EXPECTED_CODES = {"FAA301", "FAA303", "FAA304", "FAA402"}

Snapshot = list[tuple[int, list[tuple[str, str]], bytes]]


def line_of(func: Any, marker: str) -> int:
    lines, start = inspect.getsourcelines(func)
    return start + next(i for i, line in enumerate(lines) if marker in line)


def responses(asgi_app: Any) -> Snapshot:
    """What a client gets for REQUESTS, REPEAT times, with the app's lifespan running."""
    got: Snapshot = []
    with TestClient(asgi_app, raise_server_exceptions=False) as client:
        for _ in range(REPEAT):
            for path, headers in REQUESTS:
                response = client.get(path, headers=headers)
                got.append((response.status_code, list(response.headers.multi_items()), response.content))
    return got


@pytest.fixture(scope="module")
def bare() -> Snapshot:
    return responses(app)


@pytest.fixture(autouse=True)
def _restore_stdout() -> Iterator[None]:
    before = sys.stdout
    yield
    sys.stdout = before


def one_per_place(sink: MemorySink) -> None:
    keys = [d.location_key() for d in sink.diagnostics]
    assert len(keys) == len(set(keys)), f"a finding reached the sink twice: {sink.diagnostics}"


def guard_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("runtime_guard") and r.levelno >= logging.WARNING]


# -- a sink that raises ------------------------------------------------------------


class RaisingSink:
    def __init__(self) -> None:
        self.calls = 0

    def emit(self, diagnostic: Diagnostic) -> None:
        self.calls += 1
        raise RuntimeError("sink down")

    def close(self) -> None:
        raise RuntimeError("sink down")


def test_a_raising_sink_changes_no_response_and_the_other_sinks_get_every_finding(
    bare: Snapshot, caplog: pytest.LogCaptureFixture
) -> None:
    broken, first, second = RaisingSink(), MemorySink(), MemorySink()
    guard = RuntimeGuard(app, sinks=[broken, first, second], environ={}, block_threshold=QUIET_THRESHOLD)
    caplog.set_level(logging.WARNING)
    assert responses(guard) == bare
    for sink in (first, second):
        assert set(sink.codes()) == EXPECTED_CODES
        one_per_place(sink)
    assert second.diagnostics == first.diagnostics  # the failing sink sits before both
    assert broken.calls == len(first.diagnostics)  # it was still offered every finding
    counts = {d.code: d.details["count"] for d in guard.reporter.findings()}
    # FAA301 once more: the CORS configuration read at start-up, filed at the same app line.
    assert counts == {**dict.fromkeys(EXPECTED_CODES, REPEAT), "FAA301": REPEAT + 1}
    printed = next(d for d in first.diagnostics if d.code == "FAA402")
    assert (printed.filename, printed.line) == (HERE, line_of(shout, "marker: print"))
    # One warning for the broken sink, however many findings it refused.
    assert sum("sink" in m and "failed" in m for m in guard_warnings(caplog)) == 1


# -- a detector that raises --------------------------------------------------------


def _boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("detector bug")


# (what breaks, the codes the other detectors still report)
DETECTOR_FAULTS = [
    ("runtime_guard.middleware.cors_problem", {"FAA303", "FAA304", "FAA402"}),
    ("runtime_guard.detectors.leaks.LeakScanner.feed", {"FAA301", "FAA304", "FAA402"}),
    ("runtime_guard.detectors.exceptions.has_catch_all_handler", {"FAA301", "FAA303", "FAA402"}),
    ("runtime_guard.middleware.user_frame_from_traceback", {"FAA301", "FAA303", "FAA402"}),
    ("runtime_guard.request_state.RequestState.endpoint_location", {"FAA301", "FAA402"}),
    ("runtime_guard.detectors.stdout.innermost_user_frame", {"FAA301", "FAA303", "FAA304"}),
    ("runtime_guard.middleware.find_routes", EXPECTED_CODES),  # the start-up checks
    ("runtime_guard.middleware.get_rule", set()),  # every report needs the catalogue
    ("runtime_guard.middleware._monotonic", set()),  # no request can start: the guard steps aside
    ("runtime_guard.reporter.Reporter.report", set()),
]


@pytest.mark.parametrize(("target", "still_found"), DETECTOR_FAULTS, ids=[t.rsplit(".", 1)[1] for t, _ in DETECTOR_FAULTS])
def test_a_raising_detector_changes_no_response(
    target: str, still_found: set[str], bare: Snapshot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(target, _boom)
    sink = MemorySink()
    guard = RuntimeGuard(app, sink=sink, environ={}, block_threshold=QUIET_THRESHOLD)
    caplog.set_level(logging.WARNING)
    assert responses(guard) == bare
    assert still_found <= set(sink.codes()) <= EXPECTED_CODES
    one_per_place(sink)
    messages = guard_warnings(caplog)
    assert messages, "the fault was not logged"
    assert len(messages) == len(set(messages)), f"a fault was logged more than once: {messages}"


def test_a_raising_redaction_in_enforce_mode_still_sends_a_whole_response(monkeypatch: pytest.MonkeyPatch) -> None:
    async def leaky(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Traceback (most recent call last)", "more_body": True})
        await send({"type": "http.response.body", "body": b" ..."})

    monkeypatch.setattr("runtime_guard.middleware.redacted", _boom)
    guard = RuntimeGuard(leaky, sink=MemorySink(), mode="enforce", environ={}, config=GuardConfig(mode="enforce", watchdog=False))
    response = TestClient(guard).get("/")  # no lifespan: the app above serves HTTP only
    # Fail-open: the redaction failed, so the app's own response goes out whole.
    assert (response.status_code, response.content) == (200, b"Traceback (most recent call last) ...")


# -- the guard's own slow work --------------------------------------------------------


def test_the_guards_own_start_up_work_is_not_reported_as_the_apps_stall(monkeypatch: pytest.MonkeyPatch) -> None:
    # Looking for the app's route table and instrumenting SQLAlchemy (importing it, the
    # first time) run on the loop; slowed down here, they must not become FAA101/FAA102.
    from runtime_guard import middleware, sqla
    from runtime_guard.detectors.health import find_routes

    instrument = sqla.instrument_sqlalchemy

    def slow_find_routes(target: Any) -> Any:
        time.sleep(0.3)
        return find_routes(target)

    def slow_instrument(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return instrument(*args, **kwargs)

    monkeypatch.setattr(middleware, "find_routes", slow_find_routes)
    monkeypatch.setattr(sqla, "instrument_sqlalchemy", slow_instrument)
    sink = MemorySink()
    with TestClient(RuntimeGuard(app, sink=sink, environ={}, block_threshold=0.1)) as client:
        assert client.get("/health").status_code == 200
    assert [d for d in sink.diagnostics if d.code in ("FAA101", "FAA102")] == []


# -- a client that goes away mid-stream ---------------------------------------------


class _Scope(dict[str, Any]):
    """A scope that can be watched with a weak reference (to prove nothing keeps it)."""


def http_scope(spec_version: str) -> _Scope:
    return _Scope(
        type="http",
        asgi={"version": "3.0", "spec_version": spec_version},
        http_version="1.1",
        method="GET",
        scheme="http",
        path="/",
        raw_path=b"/",
        query_string=b"",
        root_path="",
        headers=[(b"host", b"test")],
        client=("127.0.0.1", 5000),
        server=("test", 80),
    )


class StreamingApp:
    """A stream of chunks, the first one leaking a traceback; counts streams started and finished."""

    def __init__(self) -> None:
        self.started = 0
        self.closed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            self.started += 1
            try:
                yield b"Traceback (most recent call last):\n"
                for i in range(1000):
                    await asyncio.sleep(0)
                    yield f"line {i}\n".encode()
            finally:
                self.closed += 1

        await StreamingResponse(chunks())(scope, receive, send)


async def drive(app: Any, spec_version: str, cut_after: int) -> tuple[type[BaseException] | None, int, weakref.ref[_Scope]]:
    """One request whose client leaves after ``cut_after`` body chunks.

    spec 2.0: the server says so through ``receive`` (``http.disconnect``);
    spec 2.4: ``send`` raises ``OSError``, as servers implementing it do.
    """
    scope = http_scope(spec_version)
    gone = asyncio.Event()
    chunks = 0
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal chunks
        if gone.is_set() and spec_version == "2.4":
            raise OSError("connection reset by peer")
        if message["type"] == "http.response.body":
            chunks += 1
            if chunks >= cut_after:
                gone.set()
        await asyncio.sleep(0)

    raised: type[BaseException] | None = None
    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
    except Exception as exc:
        raised = type(exc)
    return raised, chunks, weakref.ref(scope)


@pytest.mark.parametrize("spec_version", ["2.0", "2.4"])
def test_a_client_leaving_mid_stream(spec_version: str) -> None:
    requests = 20
    bare_app, guarded_app = StreamingApp(), StreamingApp()
    sink = MemorySink()
    guard = RuntimeGuard(guarded_app, sink=sink, environ={}, config=GuardConfig(watchdog=False))

    async def run(target: Any) -> tuple[list[Any], set[asyncio.Task[Any]]]:
        outcomes = [await drive(target, spec_version, cut_after=3) for _ in range(requests)]
        # Streams abandoned by an OSError are closed by asyncio's finalizer tasks: let them run.
        for _ in range(10):
            await asyncio.sleep(0)
        return outcomes, {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}

    bare_outcomes, _ = asyncio.run(run(bare_app))
    guarded_outcomes, leftover_tasks = asyncio.run(run(guard))
    guard.close()
    # The guard raises nothing new: the same outcome, the same chunks reached the client.
    assert [(raised, chunks) for raised, chunks, _ in guarded_outcomes] == [(raised, chunks) for raised, chunks, _ in bare_outcomes]
    # (Starlette 1.x turns the failed send of spec 2.4 into ClientDisconnect, older ones
    # listen for the disconnect whatever the spec: either way the guard adds nothing.)
    assert {raised for raised, _, _ in guarded_outcomes} <= {None, ClientDisconnect}
    # Nothing left behind: every stream closed, no task, no request in flight, no scope kept.
    assert guarded_app.started == guarded_app.closed == requests
    assert leftover_tasks == set()
    assert len(guard.inflight) == 0
    gc.collect()
    assert [ref() for _, _, ref in guarded_outcomes] == [None] * requests
    # One leak finding counted once per request; the client leaving is not the app's error (no FAA304).
    assert sink.codes() == ["FAA303"]
    assert [d.details["count"] for d in guard.reporter.findings()] == [requests]


# -- 1,000 concurrent requests to uvicorn on 127.0.0.1 -----------------------------------


class Served:
    """``asgi_app`` served by uvicorn on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, asgi_app: Any) -> None:
        uvicorn = pytest.importorskip("uvicorn")
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(
            asgi_app, log_level="warning", access_log=False, lifespan="on", backlog=2048, timeout_keep_alive=60
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.socket.close()
        assert not self.thread.is_alive(), "uvicorn did not stop"


LOAD = 1000
CLIENTS, CONNECTIONS = 8, 4  # up to 32 requests in the server at once
Answer = tuple[int, list[tuple[str, str]], bytes]
# Added by the server, not by the app: uvicorn's clock and name.
SERVER_HEADERS = {"date", "server"}


def request_headers(number: int) -> dict[str, str]:
    return {"x-agent": f"agent-{number}"}


def load(base_url: str, numbers: range) -> list[Answer]:
    """Every request started at once over CLIENTS x CONNECTIONS connections, bounded in time; answers in order."""

    async def run() -> list[Answer]:
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        clients = [httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) for _ in range(CLIENTS)]
        # Several small pools rather than one large one, and a semaphore per pool holding back
        # what it could not serve yet: httpx's pool rescans every connection and every waiting
        # request per request, so one pool of 32 with 1,000 waiting is quadratic.
        slots = [asyncio.Semaphore(CONNECTIONS) for _ in range(CLIENTS)]

        async def one(number: int) -> Answer:
            client, slot = clients[number % CLIENTS], slots[number % CLIENTS]
            async with slot:
                response = await client.get(f"/echo/{number}", headers=request_headers(number))
            headers = [(k, v) for k, v in response.headers.multi_items() if k not in SERVER_HEADERS]
            return response.status_code, headers, response.content

        try:
            return await asyncio.wait_for(asyncio.gather(*(one(n) for n in numbers)), timeout=120)
        finally:
            for client in clients:
                await client.aclose()

    return asyncio.run(run())


def bare_answers(numbers: range) -> list[Answer]:
    """What the bare app answers, called in process as an ASGI app (no server, no guard)."""

    async def one(number: int) -> Answer:
        sent: list[dict[str, Any]] = []
        path = f"/echo/{number}"
        headers = [(b"host", b"127.0.0.1")] + [(k.encode(), v.encode()) for k, v in request_headers(number).items()]
        scope = {**http_scope("2.3"), "path": path, "raw_path": path.encode(), "headers": headers}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        await app(scope, receive, send)
        start = sent[0]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        return start["status"], [(k.decode().lower(), v.decode()) for k, v in start["headers"]], body

    async def run() -> list[Answer]:
        return [await one(n) for n in numbers]

    return asyncio.run(run())


def test_a_thousand_concurrent_requests_under_uvicorn() -> None:
    stdout = sys.stdout
    expected = bare_answers(range(LOAD))
    with Served(app) as url:  # the bare app under uvicorn answers what it answers in process
        assert load(url, range(40)) == expected[:40]
    sink = MemorySink()
    guard = RuntimeGuard(app, sink=sink, environ={}, block_threshold=QUIET_THRESHOLD)
    with Served(guard) as url:
        answers = load(url, range(LOAD))
    assert len(answers) == LOAD
    assert answers == expected  # every status, header and body, request by request
    assert all(status == 200 for status, _, _ in answers)
    printing = sum(1 for n in range(LOAD) if n % 4 == 0)
    leaking = sum(1 for n in range(LOAD) if n % 5 == 0)
    by_place = {(d.code, d.line): d.details["count"] for d in guard.reporter.findings() if d.filename == HERE}
    app_line = next(n for n, text in enumerate(Path(HERE).read_text().splitlines(), 1) if text.startswith("app = FastAPI("))
    assert by_place == {
        ("FAA402", line_of(echo, "marker: load-print")): printing,
        ("FAA303", line_of(echo, "async def echo")): leaking,
        ("FAA301", app_line): 1,  # the wildcard CORS configuration, read once at start-up
    }
    assert sorted(sink.codes()) == ["FAA301", "FAA303", "FAA402"]  # one record each, nothing else
    assert sys.stdout is stdout  # the lifespan's shutdown restored what the guard replaced
