# ruff: noqa: ASYNC251  (blocking inside async handlers is what these tests are about)
"""RuntimeGuard end to end: real apps driven through lifespan and requests."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import GuardConfig, MemorySink, Reporter, RuntimeGuard
from runtime_guard.detectors import exceptions as exception_texts

HERE = __file__
needs_monitoring = pytest.mark.skipif(sys.version_info < (3, 12), reason="exception texts are tracked with sys.monitoring (3.12+)")


def line_of(func: Any, text: str) -> int:
    """The line in this file of the first line of ``func`` containing ``text``."""
    lines, start = inspect.getsourcelines(func)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not in {func.__name__}")


def def_line(func: Any) -> int:
    """The ``def`` line (not the decorator's), where the guard attributes a handler's findings."""
    return line_of(func, "def ")


QUIET = GuardConfig(watchdog=False)
"""For tests that compare every code reported: a loop stall on a loaded machine would add FAA102."""


def codes(sink: MemorySink) -> list[str]:
    return sorted(d.code for d in sink.diagnostics)


def only(sink: MemorySink, code: str) -> Diagnostic:
    found = [d for d in sink.diagnostics if d.code == code]
    assert len(found) == 1, sink.diagnostics
    return found[0]


# -- a module-level app, so the guard can find where it was created ------------
broken_app = FastAPI()  # no health route, no catch-all handler


@broken_app.get("/leak")
async def leak() -> dict[str, str]:
    try:
        return {"ratio": str(1 / 0)}
    except ZeroDivisionError:
        return {"error": traceback.format_exc()}


@broken_app.get("/echo-error")
async def echo_error() -> dict[str, str]:
    try:
        {}["database_password_column"]
    except KeyError as exc:
        return {"error": str(exc)}
    return {}


@broken_app.get("/fine-error")
async def fine_error() -> dict[str, str]:
    raise HTTPException(status_code=404, detail="Item not found in catalogue")


@broken_app.get("/crash")
async def crash() -> dict[str, str]:
    raise KeyError("order-42")


@broken_app.get("/print")
async def shout() -> dict[str, str]:
    print("handling /print")
    return {}


@broken_app.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(0.4)
    return {}


@broken_app.get("/block")
async def block() -> dict[str, str]:
    time.sleep(0.4)
    return {}


@broken_app.get("/slow-stream")
async def slow_stream() -> StreamingResponse:
    async def tokens() -> Any:
        for i in range(4):
            await asyncio.sleep(0.1)  # a token stream: answers at once, then runs long
            yield f"token {i}\n".encode()

    return StreamingResponse(tokens(), media_type="text/event-stream")


@broken_app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> Any:
        for i in range(5):
            yield f"chunk {i}\n".encode()

    return StreamingResponse(chunks())


def guarded(app: Any = broken_app, **options: Any) -> tuple[TestClient, MemorySink, RuntimeGuard]:
    sink = MemorySink()
    guard = RuntimeGuard(app, sink=sink, environ={}, **options)
    return TestClient(guard, raise_server_exceptions=False), sink, guard


@pytest.fixture(autouse=True)
def _restore_stdout() -> Iterator[None]:
    before = sys.stdout
    yield
    sys.stdout = before


def test_startup_reports_missing_health_route_at_the_app_line() -> None:
    client, sink, _ = guarded()
    with client:
        pass
    finding = only(sink, "FAA401")
    assert finding.source == "runtime"
    assert finding.filename == HERE
    source_line = open(HERE).read().splitlines()[finding.line - 1]
    assert source_line.startswith("broken_app = FastAPI()")


def _app_from_a_factory() -> FastAPI:
    app = FastAPI()  # no module variable holds it

    @app.get("/items")
    async def items() -> list[int]:
        return []

    return app


def test_an_app_a_factory_builds_is_reported_at_its_constructor_in_the_factory() -> None:
    sink = MemorySink()
    with TestClient(RuntimeGuard(_app_from_a_factory(), sink=sink, environ={}, config=QUIET)):
        pass
    finding = only(sink, "FAA401")
    assert (finding.filename, finding.line) == (HERE, line_of(_app_from_a_factory, "app = FastAPI()"))


def test_traceback_in_body_is_reported_at_the_handler() -> None:
    client, sink, _ = guarded()
    with client:
        response = client.get("/leak")
    assert "Traceback" in response.json()["error"]  # report mode changes nothing
    finding = only(sink, "FAA303")
    assert (finding.filename, finding.line) == (HERE, def_line(leak))
    assert "traceback" in finding.message and finding.details["route"] == "GET /leak"


@needs_monitoring
def test_exception_text_in_body_is_reported() -> None:
    client, sink, _ = guarded()
    with client:
        client.get("/echo-error")
        client.get("/fine-error")  # HTTPException details are meant for the client
    finding = only(sink, "FAA303")
    assert finding.line == def_line(echo_error)
    assert "exception" in finding.message


texts_app = FastAPI()


class InventoryError(Exception):
    pass


@texts_app.exception_handler(InventoryError)
async def inventory_error(request: Any, exc: InventoryError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


@texts_app.get("/handler-echo")
async def handler_echo() -> dict[str, str]:
    raise InventoryError("warehouse table inventory_v2 is locked")


@texts_app.get("/sync-echo")
def sync_echo() -> dict[str, str]:  # served in a worker thread
    try:
        json.loads('{"unterminated": ')
    except ValueError as exc:  # raised inside the json module, caught here
        return {"error": repr(exc)}
    return {}


@texts_app.get("/fine")
async def fine() -> dict[str, str]:
    try:
        value = {"a": 1}["a"]
    except KeyError:
        value = 0
    return {"value": str(value)}


@texts_app.get("/late-import")
async def late_import() -> dict[str, str]:
    import importlib

    return importlib.import_module("late_module_for_guard").handle()  # type: ignore[no-any-return]


@needs_monitoring
def test_exception_text_echoed_by_a_registered_exception_handler_is_reported() -> None:
    client, sink, _ = guarded(texts_app)
    with client:
        response = client.get("/handler-echo")
    assert response.json() == {"detail": "warehouse table inventory_v2 is locked"}
    finding = only(sink, "FAA303")
    assert "exception" in finding.message and finding.details["route"] == "GET /handler-echo"


@needs_monitoring
def test_exception_text_echoed_by_a_sync_route_in_a_worker_thread_is_reported() -> None:
    client, sink, _ = guarded(texts_app)
    with client:
        client.get("/sync-echo")
    finding = only(sink, "FAA303")
    assert finding.line == def_line(sync_echo)


@needs_monitoring
def test_lines_outside_except_blocks_stop_calling_back_after_their_first_run() -> None:
    client, sink, _ = guarded(texts_app)
    seen: list[int] = []
    with client:
        for _ in range(20):
            seen.append(exception_texts.line_events)
            assert client.get("/fine").json() == {"value": "1"}
    # The first request (and the first turn of this loop) runs every line once; after that, nothing.
    assert seen[2] > 0 and seen[-1] == seen[2], seen
    assert "FAA303" not in codes(sink)


@needs_monitoring
def test_a_module_imported_after_start_up_is_watched(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "late_module_for_guard.py").write_text(
        "def handle():\n"
        "    try:\n"
        "        raise LookupError('tenant 7 missing from shard-b')\n"
        "    except LookupError as exc:\n"
        "        return {'error': str(exc)}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "late_module_for_guard", raising=False)
    client, sink, _ = guarded(texts_app)
    with client:
        client.get("/late-import")  # imports the module: the guard sees it at the next request
        response = client.get("/late-import")
    assert response.json() == {"error": "tenant 7 missing from shard-b"}
    assert "exception" in only(sink, "FAA303").message


@pytest.mark.parametrize("other_guard_tracking", [False, True])
def test_exception_texts_can_be_switched_off_and_tracebacks_are_still_seen(other_guard_tracking: bool) -> None:
    # Another guard of the process may keep the RAISE callback running: it must not record for this one.
    other = exception_texts.install() if other_guard_tracking else False
    try:
        # The watchdog off, as in the other tests that compare every code: a garbage collection of
        # the whole suite's heap during /leak is a loop stall past the 0.075 s default (seen in CI).
        client, sink, guard = guarded(config=GuardConfig(exception_texts=False, watchdog=False))
        with client:
            client.get("/echo-error")
            assert not guard._tracking_exceptions
            client.get("/leak")
    finally:
        if other:
            exception_texts.uninstall()
    assert codes(sink) == ["FAA303", "FAA401"], sink.diagnostics  # the traceback only, not the echoed text
    assert only(sink, "FAA303").line == def_line(leak)


def test_enforce_mode_replaces_a_leaking_body_with_a_generic_500() -> None:
    client, sink, _ = guarded(mode="enforce")
    with client:
        response = client.get("/leak")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert int(response.headers["content-length"]) == len(response.content)
    assert only(sink, "FAA303").details["redacted"] is True


def test_escaped_exception_is_reported_at_its_raise_site() -> None:
    client, sink, _ = guarded()
    with client:
        response = client.get("/crash")
    assert response.status_code == 500
    finding = only(sink, "FAA304")
    assert (finding.filename, finding.line) == (HERE, line_of(crash, "raise KeyError"))
    assert finding.details["exception"] == "KeyError"
    assert "order-42" not in json.dumps(finding.to_dict())  # the exception's text may hold data


def test_enforce_mode_answers_an_escaped_exception_with_generic_json() -> None:
    sink = MemorySink()
    # Mounted inside the app, the guard sees the exception before Starlette's error
    # middleware would render its debug page with the traceback.
    inner = Starlette(
        debug=True,
        routes=[Route("/boom", lambda request: 1 / 0)],
        middleware=[Middleware(RuntimeGuard, sink=sink, mode="enforce", environ={})],
    )
    with TestClient(inner) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.json() == {"detail": "Internal Server Error"}
    assert "FAA304" in codes(sink) and "FAA303" in codes(sink)  # FAA303: the app runs with debug=True


def test_catch_all_handler_means_nothing_escaped() -> None:
    app = FastAPI()

    @app.exception_handler(Exception)
    async def handler(request: Any, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "oops"}, status_code=500)

    @app.get("/crash")
    async def crash_here() -> None:
        raise RuntimeError("x")

    app.add_middleware(RuntimeGuard, sink=(sink := MemorySink()), environ={})
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/crash").json() == {"detail": "oops"}
    assert "FAA304" not in codes(sink)


def test_print_during_a_request_is_attributed_to_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    client, sink, _ = guarded()
    with client:
        client.get("/print")
        print("outside any request")
    assert "handling /print" in capsys.readouterr().out  # the write still happens
    finding = only(sink, "FAA402")
    assert (finding.filename, finding.line) == (HERE, line_of(shout, "print("))


def test_slow_request_that_did_not_block_is_faa103_and_blocking_is_not() -> None:
    client, sink, _ = guarded(slow_request_threshold=0.25, block_threshold=0.1)
    with client:
        client.get("/slow")
        client.get("/block")
    finding = only(sink, "FAA103")
    assert finding.line == def_line(slow) and finding.details["route"] == "GET /slow"
    assert any(d.code == "FAA102" and d.line == line_of(block, "time.sleep") for d in sink.diagnostics)


def test_a_stream_that_answers_at_once_and_runs_long_is_not_faa103() -> None:
    client, sink, _ = guarded(slow_request_threshold=0.25, block_threshold=0.1)
    with client:
        response = client.get("/slow-stream")
    assert response.text.count("token") == 4
    assert "FAA103" not in codes(sink)


def test_cors_wildcard_and_reflected_probe_origin() -> None:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {}

    sink = MemorySink()
    with TestClient(RuntimeGuard(app, sink=sink, environ={})) as client:
        client.get("/health", headers={"Origin": "https://runtime-guard-probe.invalid", "Cookie": "session=abc"})
    finding = only(sink, "FAA301")
    assert finding.severity == "error" and "credentials" in finding.message.lower()
    assert "session=abc" not in json.dumps(finding.to_dict())

    sink2 = MemorySink()
    app2 = FastAPI()
    app2.add_middleware(CORSMiddleware, allow_origins=["*"])
    app2.add_api_route("/health", health)
    with TestClient(RuntimeGuard(app2, sink=sink2, environ={})) as client:
        client.get("/health", headers={"Origin": "https://elsewhere.example"})
    assert only(sink2, "FAA301").severity == "warning"


def test_explicit_cors_origins_are_not_reported() -> None:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True)
    app.add_api_route("/health", lambda: {})
    sink = MemorySink()
    # (The watchdog off wherever every code is compared: a stall of a loaded machine is FAA102.)
    with TestClient(RuntimeGuard(app, sink=sink, environ={}, config=QUIET)) as client:
        client.get("/health", headers={"Origin": "https://app.example.com"})
        client.get("/health", headers={"Origin": "https://runtime-guard-probe.invalid"})
    assert codes(sink) == []


def test_streamed_body_passes_through_unchanged_chunk_by_chunk() -> None:
    produced: list[int] = []
    forwarded: list[tuple[int, bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(200):
            produced.append(i)
            await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def collect(message: Any) -> None:
        if message["type"] == "http.response.body":
            forwarded.append((len(produced), message["body"]))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    guard = RuntimeGuard(app, sink=MemorySink(), environ={}, config=GuardConfig(watchdog=False))
    asyncio.run(guard({"type": "http", "method": "GET", "path": "/", "headers": []}, receive, collect))
    guard.close()
    # Each chunk reached the client before the next one was produced: nothing was buffered.
    assert [count for count, _ in forwarded[:-1]] == list(range(1, 201))
    assert sum(len(body) for _, body in forwarded) == 200 * 1024


def test_websocket_passes_through() -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    sink = MemorySink()
    app = Starlette(routes=[WebSocketRoute("/ws", ws), Route("/health", lambda r: PlainTextResponse("ok"))])
    with TestClient(RuntimeGuard(app, sink=sink, environ={}, config=QUIET)) as client, client.websocket_connect("/ws") as socket:
        socket.send_text("ping")
        assert socket.receive_text() == "ping"
    assert codes(sink) == []


def test_plain_starlette_app_is_checked_too() -> None:
    def boom(request: Any) -> PlainTextResponse:
        raise ValueError("nope")

    app = Starlette(routes=[Route("/boom", boom)])
    sink = MemorySink()
    with TestClient(RuntimeGuard(app, sink=sink, environ={}, config=QUIET), raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    assert codes(sink) == ["FAA304", "FAA401"]
    assert only(sink, "FAA304").line == line_of(boom, "raise ValueError")


class ExplodingSink:
    def emit(self, diagnostic: Diagnostic) -> None:
        raise RuntimeError("sink down")

    def close(self) -> None:
        raise RuntimeError("sink down")


def test_a_failing_sink_changes_nothing_and_other_sinks_still_report() -> None:
    sink = MemorySink()
    guard = RuntimeGuard(broken_app, sinks=[ExplodingSink(), sink], environ={})
    with TestClient(guard, raise_server_exceptions=False) as client:
        response = client.get("/leak")
    assert response.status_code == 200 and "Traceback" in response.json()["error"]
    assert "FAA303" in codes(sink)


def test_a_failing_detector_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("detector bug")

    monkeypatch.setattr("runtime_guard.middleware.cors_problem", broken)
    client, _, _ = guarded()
    with client:
        response = client.get("/stream")
    assert response.status_code == 200 and response.text == "".join(f"chunk {i}\n" for i in range(5))


def test_secrets_never_reach_findings() -> None:
    client, sink, _ = guarded()
    with client:
        client.get("/leak?token=s3cret-query", headers={"Authorization": "Bearer s3cret-header", "Cookie": "sid=s3cret-cookie"})
        client.get("/crash?token=s3cret-query", headers={"Authorization": "Bearer s3cret-header"})
    dumped = json.dumps([d.to_dict() for d in sink.diagnostics])
    assert "s3cret" not in dumped
    assert {"FAA303", "FAA304"} <= set(codes(sink))


def test_environment_overrides_arguments() -> None:
    guard = RuntimeGuard(broken_app, sink=MemorySink(), mode="report", environ={"RUNTIME_GUARD_MODE": "enforce", "RUNTIME_GUARD_BLOCK_THRESHOLD": "bad"})
    assert guard.config.mode == "enforce"
    assert guard.config.block_threshold == 0.075  # an invalid value is ignored, not fatal (the default stays)


def test_disabled_guard_is_a_passthrough() -> None:
    sink = MemorySink()
    with TestClient(RuntimeGuard(broken_app, sink=sink, environ={"RUNTIME_GUARD_DISABLED": "1"}), raise_server_exceptions=False) as client:
        client.get("/leak")
    assert sink.diagnostics == []


def test_report_route_needs_the_token() -> None:
    client, _, _ = guarded(report_path="/_runtime_guard")
    client.app.config = GuardConfig(report_path="/_runtime_guard", report_token="t0ken")  # type: ignore[attr-defined]
    with client:
        client.get("/leak")
        assert client.get("/_runtime_guard").status_code == 401
        body = client.get("/_runtime_guard", headers={"Authorization": "Bearer t0ken"}).json()
    assert {item["code"] for item in body} >= {"FAA303", "FAA401"}
    without_token, _, _ = guarded(report_path="/_runtime_guard")
    with without_token:
        assert without_token.get("/_runtime_guard").status_code == 404  # disabled: the app's own 404


def test_add_middleware_mounting_works_like_wrapping() -> None:
    app = FastAPI()

    @app.get("/leak")
    async def leak_again() -> dict[str, str]:
        return {"error": "Traceback (most recent call last):\n  ..."}

    sink = MemorySink()
    app.add_middleware(RuntimeGuard, sink=sink, block_threshold=0.1, slow_request_threshold=10.0, mode="report")
    with TestClient(app) as client:
        client.get("/leak")
    assert {"FAA303", "FAA401"} <= set(codes(sink))


def test_reporter_deduplicates_with_a_count_and_is_bounded() -> None:
    sink = MemorySink()
    reporter = Reporter([sink], max_distinct=2)
    for line in (1, 1, 1, 2, 3):
        reporter.report(Diagnostic("FAA102", "m", "a.py", line, source="runtime"))
    assert [d.line for d in sink.diagnostics] == [1, 2]
    assert {d.line: d.details["count"] for d in reporter.findings()} == {1: 3, 2: 1}
    assert reporter.dropped == 1


# -- the request path: what report mode puts between the app and the server --------------


class _ServerAwaitable:
    """What a server's ``send`` returns: awaited by the app, not by the guard."""

    def __init__(self, sent: list[dict[str, Any]], message: dict[str, Any]) -> None:
        self.sent, self.message = sent, message

    def __await__(self) -> Any:
        self.sent.append(self.message)
        return iter(())


def _http_scope(path: str = "/") -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": path, "headers": [], "query_string": b""}


def test_report_mode_hands_the_app_the_servers_own_awaitable() -> None:
    """Report mode looks at each message and returns the server's awaitable as it is:
    no coroutine of the guard's under every message, and the message goes out unchanged."""
    returned: list[tuple[object, object]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in (
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]},
            {"type": "http.response.body", "body": b"ok"},
        ):
            outcome = send(message)
            returned.append((outcome, message))
            await outcome

    sent: list[dict[str, Any]] = []

    def server_send(message: dict[str, Any]) -> _ServerAwaitable:
        return _ServerAwaitable(sent, message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    guard = RuntimeGuard(app, sink=MemorySink(), environ={}, config=GuardConfig(watchdog=False))
    asyncio.run(guard(_http_scope(), receive, server_send))
    guard.close()
    assert [type(outcome) for outcome, _ in returned] == [_ServerAwaitable, _ServerAwaitable]
    assert [outcome.message for outcome, _ in returned] == [message for _, message in returned]  # type: ignore[attr-defined]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert len(guard.inflight) == 0


def test_an_error_of_the_servers_send_is_not_the_apps_escaped_exception() -> None:
    """The client left (the server's send raised): not FAA304, in either mode; an app's own error is."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/own":
            raise LookupError("the app's own bug")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        except OSError as exc:
            raise RuntimeError("gave up on the client") from exc  # a framework's ClientDisconnect, say

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def server_send(message: dict[str, Any]) -> None:
        if message.get("more_body"):  # the client leaves during the partial body
            raise OSError("connection reset by peer")

    for mode in ("report", "enforce"):
        sink = MemorySink()
        guard = RuntimeGuard(app, sink=sink, environ={}, config=GuardConfig(watchdog=False, mode=mode))
        with pytest.raises(RuntimeError):
            asyncio.run(guard(_http_scope("/gone"), receive, server_send))
        if mode == "report":
            with pytest.raises(LookupError):
                asyncio.run(guard(_http_scope("/own"), receive, server_send))
        else:  # enforce mode answers it with a generic 500 instead
            asyncio.run(guard(_http_scope("/own"), receive, server_send))
        guard.close()
        escaped = [d for d in sink.diagnostics if d.code == "FAA304"]
        assert [d.details["exception"] for d in escaped] == ["LookupError"], (mode, sink.diagnostics)


def test_a_request_keeps_the_latest_exception_texts_once() -> None:
    from runtime_guard.request_state import MAX_EXCEPTION_TEXTS, RequestState

    state = RequestState({"type": "http"}, 0.0)
    assert state.exception_texts == ()  # nothing recorded, nothing made
    for number in range(MAX_EXCEPTION_TEXTS + 5):
        state.record_text(f"error number {number}")
        state.record_text(f"error number {number}")  # the same text twice: kept once
    state.record_text("")
    assert list(state.exception_texts) == [f"error number {n}" for n in range(5, MAX_EXCEPTION_TEXTS + 5)]
    assert RequestState({"type": "http"}, 0.0).exception_texts == ()  # the class's tuple was not changed


def test_the_context_variable_holds_a_plain_key_not_the_state() -> None:
    """The request's context variable holds an int key into ``ACTIVE``: set to a gc-tracked
    object in every request's task, it set off the garbage collector under uvicorn."""
    import gc

    from runtime_guard.request_state import ACTIVE, CURRENT, current

    seen: list[tuple[bool, bool, str]] = []
    app = FastAPI()

    @app.get("/look")
    async def look() -> dict[str, bool]:
        state = current()
        seen.append((gc.is_tracked(CURRENT.get()), state is not None, state.route if state else ""))
        return {"ok": True}

    client, _sink, _guard = guarded(app)
    with client:
        for _ in range(3):
            assert client.get("/look").status_code == 200
    assert seen == [(False, True, "GET /look")] * 3
    assert ACTIVE == {}  # every request's entry went with it
    assert current() is None


def _cors_app(**options: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, **options)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.mark.parametrize(
    ("options", "severity", "says"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "error", "with `allow_credentials=True`"),
        ({"allow_origins": ["*"]}, "warning", '`allow_origins=["*"]`'),
        ({"allow_origin_regex": r"https?://.*", "allow_credentials": True}, "error", "`allow_origin_regex`"),
    ],
)
def test_a_cors_configuration_open_to_every_origin_is_reported_at_start_up(
    options: dict[str, Any], severity: str, says: str
) -> None:
    sink = MemorySink()
    with TestClient(RuntimeGuard(_cors_app(**options), sink=sink, environ={}, config=QUIET)) as client:
        # A request from an origin the guard does not probe with: the response check cannot judge it.
        client.get("/healthz", headers={"Origin": "https://partner.example.org"})
    finding = only(sink, "FAA301")
    assert finding.severity == severity and says in finding.message, finding.message
    assert finding.details.get("configured") is True
    assert (finding.filename, finding.line) == (HERE, line_of(_cors_app, "app = FastAPI()"))


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": ["https://app.example.com"], "allow_credentials": True},
        {"allow_origin_regex": r"https://([a-z]+\.)?example\.com", "allow_credentials": True},
    ],
)
def test_a_cors_configuration_naming_its_origins_is_not_reported(options: dict[str, Any]) -> None:
    sink = MemorySink()
    with TestClient(RuntimeGuard(_cors_app(**options), sink=sink, environ={}, config=QUIET)) as client:
        client.get("/healthz", headers={"Origin": "https://app.example.com"})
    assert "FAA301" not in [d.code for d in sink.diagnostics]
