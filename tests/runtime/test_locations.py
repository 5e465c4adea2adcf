# ruff: noqa: ASYNC251  (blocking inside async handlers is what these tests are about)
"""Every runtime finding points at a line of the app's own, or is not reported.

A stall inside a library is placed at the app's line that called into it and names the
library; a stall with no line of the app's on the stack (a library's own route) is counted,
not reported; ``<unknown>`` and line 0 never appear.  And texts written for the client
(Starlette's authentication errors, the app's own ``HTTPException`` details) are not FAA303.
"""

from __future__ import annotations

import inspect
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard
from runtime_guard.frames import is_user_file
from tests.runtime import probe_apps, test_fault_injection, test_middleware

HERE = __file__
THRESHOLD = 0.1
needs_monitoring = pytest.mark.skipif(sys.version_info < (3, 12), reason="exception texts are tracked with sys.monitoring (3.12+)")

# A third-party library, as an installed one looks to the guard: a file under site-packages.
SLOWLIB = '''
import time


def fetch():
    time.sleep(0.3)
    return "data"


async def library_route():
    time.sleep(0.3)  # a library's own route handler that blocks the loop
    return {"ok": True}
'''


@pytest.fixture
def slowlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    site_packages = tmp_path / "lib" / "site-packages"
    (site_packages / "slowlib").mkdir(parents=True)
    (site_packages / "slowlib" / "__init__.py").write_text(SLOWLIB)
    monkeypatch.syspath_prepend(str(site_packages))
    monkeypatch.delitem(sys.modules, "slowlib", raising=False)
    import slowlib  # type: ignore[import-not-found]

    yield slowlib
    sys.modules.pop("slowlib", None)


def line_of(func: Callable[..., Any], text: str) -> int:
    lines, start = inspect.getsourcelines(func)
    return start + next(offset for offset, line in enumerate(lines) if text in line)


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` for a bounded time: a stall is reported once the loop is back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def library_app(slowlib: ModuleType) -> FastAPI:
    app = FastAPI()

    @app.get("/fetch")
    async def fetch_route() -> dict[str, str]:
        return {"data": slowlib.fetch()}  # the app's line: a sync library call on the loop

    app.add_api_route("/library", slowlib.library_route)
    return app


# -- stalls inside libraries --------------------------------------------------------


def test_a_stall_inside_a_library_is_placed_at_the_app_line_that_called_it_and_names_the_library(
    slowlib: ModuleType,
) -> None:
    sink = MemorySink()
    guard = RuntimeGuard(library_app(slowlib), sink=sink, environ={}, config=GuardConfig(block_threshold=THRESHOLD))
    with TestClient(guard) as client:
        assert client.get("/fetch").json() == {"data": "data"}
        assert eventually(lambda: any(d.code == "FAA102" for d in sink.diagnostics))
    stall = next(d for d in sink.diagnostics if d.code == "FAA102")
    assert (stall.filename, stall.line) == (HERE, line_of(library_app, "slowlib.fetch()"))
    assert stall.details["library"] == "slowlib"
    assert "`fetch_route` (test_locations.py:" in stall.message and " via slowlib " in stall.message


def test_a_stall_with_no_app_line_on_the_stack_is_counted_not_reported(slowlib: ModuleType) -> None:
    sink = MemorySink()
    guard = RuntimeGuard(library_app(slowlib), sink=sink, environ={}, config=GuardConfig(block_threshold=THRESHOLD))
    with TestClient(guard) as client:
        assert client.get("/library").json() == {"ok": True}
        # Counted, not reported: set aside as a stall note (no app code on the stack) or, when the
        # causes are not told apart, as a stall with no line of the app's to place it at.
        assert eventually(
            lambda: guard.watchdog.unlocated + sum(guard.watchdog.stall_notes.snapshot()["counts"].values()) >= 1
        )
    # Not at the library's handler in site-packages, nor anywhere else against the route.
    assert [d for d in sink.diagnostics if d.details.get("route") == "/library"] == []
    assert [d for d in sink.diagnostics if "site-packages" in d.filename] == []


# -- client messages are not leaks ----------------------------------------------------


def check_token(token: str) -> SimpleUser:
    if token != "Bearer good":
        raise AuthenticationError("Invalid credentials")
    return SimpleUser("ada")


class TokenBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        token = conn.headers.get("authorization")
        if token is None:
            return None
        try:
            user = check_token(token)
        except AuthenticationError:
            conn.scope["auth_failed"] = True  # noted, then answered by the middleware's on_error
            raise
        return AuthCredentials(["authenticated"]), user


async def home(request: Request) -> Response:
    return PlainTextResponse(f"hello {request.user.display_name}")


async def report(request: Request) -> Response:
    try:
        {}["ledger_balance_column"]
    except KeyError:
        return PlainTextResponse(traceback.format_exc(), status_code=500)
    return PlainTextResponse("")


auth_app = Starlette(
    routes=[Route("/", home), Route("/report", report)],
    middleware=[Middleware(AuthenticationMiddleware, backend=TokenBackend())],
)


@needs_monitoring
def test_starlette_authentication_errors_are_client_messages_but_a_traceback_is_still_a_leak() -> None:
    sink = MemorySink()
    guard = RuntimeGuard(auth_app, sink=sink, environ={}, config=GuardConfig(watchdog=False))
    with TestClient(guard) as client:
        rejected = client.get("/", headers={"Authorization": "Bearer stolen"})
        assert (rejected.status_code, rejected.text) == (400, "Invalid credentials")
        assert [d for d in sink.diagnostics if d.code == "FAA303"] == []
        assert client.get("/report", headers={"Authorization": "Bearer good"}).status_code == 500
    leaks = [d for d in sink.diagnostics if d.code == "FAA303"]
    assert [(d.details["route"], d.line) for d in leaks] == [("GET /report", line_of(report, "def report"))]


class OrderNotFound(Exception):
    pass


def find_order(order_id: int) -> dict[str, int]:
    raise OrderNotFound("Order not found in this account")


orders_app = FastAPI()


@orders_app.get("/orders/{order_id}")
async def read_order(order_id: int) -> dict[str, int]:
    try:
        return find_order(order_id)
    except OrderNotFound:
        raise HTTPException(status_code=404, detail="Order not found in this account") from None


@orders_app.get("/ledger")
async def read_ledger() -> dict[str, int]:
    try:
        return {"balance": {}["ledger_balance_column"]}
    except KeyError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from None


@needs_monitoring
def test_an_http_exception_detail_the_app_wrote_is_not_a_leak_but_a_copied_exception_text_is() -> None:
    sink = MemorySink()
    guard = RuntimeGuard(orders_app, sink=sink, environ={}, config=GuardConfig(watchdog=False))
    with TestClient(guard) as client:
        assert client.get("/orders/7").json() == {"detail": "Order not found in this account"}
        assert [d for d in sink.diagnostics if d.code == "FAA303"] == []
        assert client.get("/ledger").json() == {"detail": "'ledger_balance_column'"}
    leaks = [d for d in sink.diagnostics if d.code == "FAA303"]
    assert [(d.details["route"], d.line) for d in leaks] == [("GET /ledger", line_of(read_ledger, "def read_ledger"))]


# -- the property: no finding without a line of the app's -------------------------------


async def plain_asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """No framework: no route table, no endpoint; its leak is still placed (at this function)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Traceback (most recent call last):\n  boom"})


def paths_of(app: Any) -> list[str]:
    """A request path for each route of ``app`` (path parameters filled in), and the docs routes."""
    paths = ["/openapi.json", "/docs", "/no-such-route", "/"]
    for route in getattr(app, "routes", []):
        path = getattr(route, "path", None)
        if isinstance(path, str) and path not in paths:
            paths.append("/".join("7" if part.startswith("{") else part for part in path.split("/")))
    return paths


APPS = {
    "probe_apps.slow_app": lambda slowlib: probe_apps.slow_app,
    "test_middleware.broken_app": lambda slowlib: test_middleware.broken_app,
    "test_middleware.texts_app": lambda slowlib: test_middleware.texts_app,
    "test_fault_injection.app": lambda slowlib: test_fault_injection.app,
    "auth_app": lambda slowlib: auth_app,
    "orders_app": lambda slowlib: orders_app,
    "library_app": library_app,
    "plain_asgi_app": lambda slowlib: plain_asgi_app,
}


@pytest.mark.parametrize("name", list(APPS))
def test_no_finding_of_any_test_app_lacks_a_line_of_the_apps_own(name: str, slowlib: ModuleType) -> None:
    app = APPS[name](slowlib)
    sink = MemorySink()
    guard = RuntimeGuard(app, sink=sink, environ={}, config=GuardConfig(block_threshold=THRESHOLD))
    with TestClient(guard, raise_server_exceptions=False) as client:
        for path in paths_of(app):
            for method in ("GET", "POST"):
                client.request(method, path, headers={"Authorization": "Bearer stolen", "Origin": "https://runtime-guard-probe.invalid"})
        time.sleep(0.2)  # a stall of the last request is reported once the loop is back
    findings: list[Diagnostic] = sink.diagnostics
    assert findings, "every test app shows at least one finding"
    misplaced = [d for d in findings if d.filename.startswith("<") or d.line <= 0 or not is_user_file(d.filename)]
    assert misplaced == []
