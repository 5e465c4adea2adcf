"""``RuntimeGuard``: a pure ASGI middleware that reports the FAA codes a running app shows.

Mount it either way:

    app.add_middleware(RuntimeGuard, sink=MemorySink())
    app = RuntimeGuard(app, sink=MemorySink())

It watches; it does not change what the app does (``mode="report"``), except
in ``mode="enforce"``, where it also redacts leaked details and turns an
escaped exception into a generic 500.  A fault inside the guard is logged
once and the request goes on untouched (fail-open).  WebSocket traffic passes
through; lifespan passes through with the guard's start-up checks beside it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import time
import types
from asyncio import _get_running_loop
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import parse_qs

from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic, Severity
from flake8_fastapi_antipatterns.sinks import JsonLinesSink, LoggingSink, Sink
from runtime_guard import sqla
from runtime_guard.config import DEFAULT_BLOCK_THRESHOLD, GuardConfig, Mode
from runtime_guard.detectors import exceptions as exception_texts
from runtime_guard.detectors import stdout as stdout_watch
from runtime_guard.detectors.cors import cors_configuration_problem, cors_problem
from runtime_guard.detectors.health import find_routes, has_health_route
from runtime_guard.detectors.leaks import SHORTEST_MARKER, LeakScanner, redacted, scan_body
from runtime_guard.detectors.location import app_location
from runtime_guard.frames import FrameInfo, endpoint_location, user_endpoint_location, user_frame_from_traceback
from runtime_guard.inflight import InFlight
from runtime_guard.offloop import drain, later, run_off_loop
from runtime_guard.outbound import clients as outbound_clients
from runtime_guard.outbound.watch import OutboundWatch
from runtime_guard.reporter import Reporter
from runtime_guard.request_state import ACTIVE, CURRENT, RequestState, next_key
from runtime_guard.source import SourceNotLoaded
from runtime_guard.watchdog import LoopWatchdog

log = logging.getLogger("runtime_guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GENERIC_500 = json.dumps({"detail": "Internal Server Error"}).encode()
_ALLOW_ORIGIN_LENGTH = len(b"access-control-allow-origin")
_monotonic = time.monotonic  # (a global look-up per request rather than a module attribute's)
# The guard's loop before its first start (``None`` is a loop too: trio's, where asyncio has none).
_NOT_STARTED = object()
# How many chained exceptions (``raise ... from``, raised in ``except``) are searched for the server's send.
_MAX_CHAIN = 8
# Route handlers whose source is read into memory at start-up (off the loop), so that findings
# made on the loop can be placed at their ``def`` line without reading a file there.
_MAX_HANDLERS_LOADED = 2000


class RuntimeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        sink: Sink | None = None,
        sinks: Sequence[Sink] = (),
        block_threshold: float = DEFAULT_BLOCK_THRESHOLD,
        slow_request_threshold: float = GuardConfig.slow_request_threshold,
        mode: Mode = GuardConfig.mode,
        health_paths: Iterable[str] | None = None,
        pool_wait_threshold: float = GuardConfig.pool_wait_threshold,
        report_path: str | None = None,
        config: GuardConfig | None = None,
        environ: MutableMapping[str, str] | None = None,
    ) -> None:
        self.app = app
        base = config or GuardConfig(
            mode=mode,
            block_threshold=block_threshold,
            slow_request_threshold=slow_request_threshold,
            pool_wait_threshold=pool_wait_threshold,
            report_path=report_path,
        )
        if health_paths is not None:
            base = replace(base, health_paths=tuple(health_paths))
        self.config = base.with_environment(environ)
        all_sinks: list[Sink] = [*([sink] if sink is not None else []), *sinks]
        if self.config.jsonl_path:
            try:
                all_sinks.append(JsonLinesSink(self.config.jsonl_path))
            except OSError:
                log.warning("runtime_guard: cannot open %s for findings", self.config.jsonl_path, exc_info=True)
        self.reporter = Reporter(all_sinks or [LoggingSink("runtime_guard")])
        self.inflight = InFlight()
        self._in_flight = self.inflight.requests
        self._max_tracked = self.inflight.max_tracked
        self.watchdog = LoopWatchdog(self.reporter, self.inflight, self.config.block_threshold)
        self._sqla: sqla.SqlaInstrumentation | None = None
        self._sqla_pending = False
        self._outbound: OutboundWatch | None = None
        """Where this guard's requests' outbound calls are judged (FAA204, FAA205), when it watches them."""
        if self.config.instrument_outbound:
            self._outbound = OutboundWatch(
                self.reporter,
                budget=self.config.slow_request_threshold,
                failure_threshold=self.config.outbound_failure_threshold,
                failure_window=self.config.outbound_failure_window,
            )
            self.watchdog.on_tick = self._outbound.sweep
        self._outbound_held = False
        self._outbound_pending = False
        self._stdout: stdout_watch.StdoutWatch | None = None
        self._tracking_exceptions = False
        self._loop: asyncio.AbstractEventLoop | object | None = _NOT_STARTED
        """The loop ``_start`` last ran on (``_NOT_STARTED`` until it runs, and again after ``close``):
        a request on another loop (a new test client) starts again."""
        self._modules_seen = 0
        """``len(sys.modules)`` when last looked at: the app imported more since when it differs."""
        self._app_checked = False
        self._faults: set[str] = set()
        self.app_site: FrameInfo | None = None
        """Where the app is made, when the caller knows better than ``app_location`` (the probe,
        for an app a factory builds): app-wide findings go there when the guard finds no line."""
        self.unlocated = 0
        """Findings not reported because no line of the app's own could be found for them."""

    # -- plumbing -----------------------------------------------------------
    def _fault(self, where: str) -> None:
        """Log a fault inside the guard once per place; the app goes on untouched."""
        if where not in self._faults:
            self._faults.add(where)
            log.warning("runtime_guard: fault in %s (reported once; the app is unaffected)", where, exc_info=True)

    def _report(
        self, code: str, where: FrameInfo | None, message: str, *, severity: Severity = "warning", **details: object
    ) -> None:
        """Report at ``where``; with no line of the app's own to point at, count it instead."""
        if where is None:
            self.unlocated += 1
            log.debug("runtime_guard: %s not reported: no line of the app's to point at (%s)", code, message)
            return
        self.reporter.report(
            Diagnostic(
                code=code,
                message=f"{message}; {get_rule(code).fix}",
                filename=where.filename,
                line=where.line,
                severity=severity,
                source="runtime",
                details={k: v for k, v in details.items() if v is not None},
            )
        )

    def _report_at(
        self,
        code: str,
        locate: Callable[[], FrameInfo | None],
        message: str,
        *,
        severity: Severity = "warning",
        **details: object,
    ) -> None:
        """Report at ``locate()``; when that needs a source file not in memory (on the loop), off the loop."""
        try:
            where = locate()
        except SourceNotLoaded:
            later(lambda: self._report(code, locate(), message, severity=severity, **details))
            return
        self._report(code, where, message, severity=severity, **details)

    def _app_site(self, app: object | None) -> FrameInfo | None:
        """Where the app is made; else where the caller says it is; else the ASGI app the guard wraps,
        when the user wrote it (a plain ASGI app has no ``FastAPI(...)`` line)."""
        return (app_location(app) if app is not None else None) or self.app_site or user_endpoint_location(self.app)

    def _look_at(self, app: object | None) -> bool:
        """Off the loop, once: the app-wide checks, and the source files findings will point into read
        into memory.  Returns whether a route table was found."""
        user_endpoint_location(self.app)
        return app is not None and self._check_app(app)

    # -- ASGI ---------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.config
        if scope["type"] != "http" or config.disabled:
            if scope["type"] == "lifespan" and not config.disabled:
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        # HTTP is served right here rather than in a method of its own: every coroutine
        # between the server and the app costs each request again at each resumption.
        if config.report_path is not None and scope.get("path") == config.report_path and config.report_token:
            await self._serve_report(scope, send)
            return
        exchange: _Exchange | None = None
        try:
            # One test for all a request rarely needs: the app's one-time check, a first start or
            # a new loop (a test client per test), modules the app imported since the last request.
            if self._loop is not _get_running_loop() or len(sys.modules) != self._modules_seen or not self._app_checked:
                await self._prepare(scope)
            started = _monotonic()
            exchange = (_EnforcingExchange if config.mode == "enforce" else _Exchange)(self, scope, started, send)
            in_flight = self._in_flight
            if len(in_flight) < self._max_tracked:
                in_flight[id(exchange)] = exchange
        except Exception:
            self._fault("request start")
            exchange = None
        if exchange is None:
            # Served outside the except block: the app's own exceptions must not chain
            # to the guard's fault (a traceback the app renders would show it).
            await self.app(scope, receive, send)
            return
        key = next_key()
        ACTIVE[key] = exchange
        context = CURRENT.set(key)
        try:
            await self.app(scope, receive, exchange.send)
        except Exception as exc:
            if not await exchange.escaped(exc):
                raise
        finally:
            CURRENT.reset(context)
            del ACTIVE[key]
            in_flight.pop(id(exchange), None)
            # The slow-request check, only when the response was late enough to need it.
            answered = exchange.started_at
            if answered is None or answered - started > config.slow_request_threshold:
                exchange.finished()

    async def _prepare(self, scope: Scope) -> None:
        """What ``__call__`` does on a request that is not like the one before it (see there)."""
        if not self._app_checked:
            # One look, whatever it finds (a plain ASGI app has no route table to find), and
            # marked first: requests arriving while it runs do not look again.
            self._app_checked = True
            # Off the loop: it reads the app's source files.  The request waits for it (once).
            await run_off_loop(partial(self._look_at, scope.get("app")))
        # (_get_running_loop: None, not an error, under a server that runs on trio.)
        if self._loop is not _get_running_loop():
            self._start()
        if len(sys.modules) != self._modules_seen:
            self._on_new_modules()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def observed_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "lifespan.startup.complete":
                await self._on_startup(scope)
            elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self._on_shutdown()
            await send(message)

        await self.app(scope, receive, observed_send)

    async def _on_startup(self, scope: Scope) -> None:
        try:
            # The app check first, off the loop: it walks sys.modules and reads source files.
            if not self._app_checked:
                self._app_checked = await run_off_loop(partial(self._look_at, scope.get("app") or self.app))
            self._start()
        except Exception:
            self._fault("start-up checks")

    def _start(self) -> None:
        """Start what watches the process; idempotent (also run on the first request)."""
        first = self._loop is _NOT_STARTED
        self._loop = _get_running_loop()
        if not first:
            if self.config.watchdog:
                self.watchdog.start()  # a new loop (a test client per test) gets a new watchdog run
            return
        if self.config.instrument_sqlalchemy:
            self._instrument_sqlalchemy()
        if self._outbound is not None:
            self._instrument_outbound()
        self._stdout = stdout_watch.install(self._on_stdout)
        self._tracking_exceptions = self.config.exception_texts and exception_texts.install()
        # Last: the set-up above may import SQLAlchemy on the loop, a stall the
        # watchdog would otherwise report as the app's own.
        if self.config.watchdog:
            self.watchdog.start()
        self._modules_seen = len(sys.modules)

    def _on_new_modules(self) -> None:
        """The app imported modules since the last request: SQLAlchemy to instrument, code to watch."""
        self._modules_seen = len(sys.modules)
        if self._sqla_pending and "sqlalchemy" in sys.modules:
            self._instrument_sqlalchemy()
        if self._outbound_pending:
            self._outbound_pending = not outbound_clients.patch_imported()
        if self._tracking_exceptions:
            exception_texts.watch_new_modules()  # the app imported modules of its own since

    def _instrument_sqlalchemy(self) -> None:
        """Instrument SQLAlchemy once the app has imported it; never import it for the app.

        An app that does not use SQLAlchemy would otherwise carry its thousands of module
        objects through every garbage collection (about a tenth of a trivial route's
        throughput).  Until the app imports it, each request compares ``len(sys.modules)`` with
        its last value and looks SQLAlchemy up only when it grew (``_on_new_modules``), so an
        app that imports it lazily is instrumented from then on.
        """
        if "sqlalchemy" in sys.modules:
            self._sqla_pending = False
            self._sqla = sqla.instrument_sqlalchemy(self.reporter, pool_wait_threshold=self.config.pool_wait_threshold)
        else:
            self._sqla_pending = True

    def _instrument_outbound(self) -> None:
        """Wrap the HTTP client libraries the app has imported (httpx, httpx2, requests, aiohttp); never import one.

        One the app imports later is wrapped at the next request after it did (``_on_new_modules``),
        the same way as SQLAlchemy.
        """
        if not self._outbound_held:
            outbound_clients.hold()
            self._outbound_held = True
        self._outbound_pending = not outbound_clients.patch_imported()

    async def _on_shutdown(self) -> None:
        """The shutdown checks, the sinks' files written and the watchdog joined: off the loop."""
        try:
            await run_off_loop(self._shut_down)
        except Exception:
            self._fault("shutdown")

    def _shut_down(self) -> None:
        drain()  # findings still being located off the loop reach the sinks before the flush
        try:
            if self._sqla is not None:
                self._sqla.check_shutdown()
        except Exception:
            self._fault("shutdown checks")
        # After the shutdown checks, so their findings reach a SARIF file too; sinks stay open
        # (a test suite runs one app's lifespan many times).
        self.reporter.flush()
        self.close()

    def close(self) -> None:
        """Stop the watchdog and restore what the guard replaced (stdout, monitoring, HTTP clients)."""
        try:
            self.watchdog.stop()
            if self._stdout is not None:
                stdout_watch.uninstall(self._stdout)
                self._stdout = None
            if self._tracking_exceptions:
                exception_texts.uninstall()
                self._tracking_exceptions = False
            if self._sqla is not None:
                self._sqla.remove()
                self._sqla = None
            self._sqla_pending = False
            if self._outbound_held:
                self._outbound_held = False
                self._outbound_pending = False
                outbound_clients.release()
            if self._outbound is not None:
                self._outbound.reset()
            self._loop = _NOT_STARTED
        except Exception:
            self._fault("shutdown")

    def _check_app(self, app: object) -> bool:
        """Once per app, off the loop: a CORS configuration open to every origin (FAA301), a debug-mode
        app (FAA303) and a route table with no health path (FAA401); and the route handlers' source read
        into memory, for findings placed on the loop later.  Returns whether a route table was found."""
        routes = find_routes(app)
        if routes is None:
            return False
        target = app
        while getattr(target, "routes", None) is not routes and getattr(target, "app", None) is not None:
            target = target.app  # type: ignore[attr-defined]
        _load_handlers(routes)
        where = app_location(target) or self._app_site(app)
        cors = cors_configuration_problem(target)
        if cors is not None:
            self._report("FAA301", where, cors[1], severity=cors[0], configured=True)
        if getattr(target, "debug", False) is True:
            self._report("FAA303", where, "the app runs with `debug=True`: every unhandled error is answered with its traceback")
        if not has_health_route(routes, self.config.health_paths):
            self._report(
                "FAA401",
                where,
                f"the app's route table has no route at {', '.join(self.config.health_paths)}",
                routes=len(routes),
            )

        return True

    def _on_stdout(self, state: RequestState, frame: FrameInfo) -> None:
        self._report("FAA402", frame, f"`{frame.function}` wrote to stdout while handling {state.route}", route=state.route)

    # -- HTTP (served in ``__call__``) ---------------------------------------
    async def _serve_report(self, scope: Scope, send: Send) -> None:
        expected = f"Bearer {self.config.report_token}".encode()
        given = dict((k.lower(), v) for k, v in scope.get("headers", [])).get(b"authorization", b"")
        if hmac.compare_digest(given, expected):
            # ``?stalls``: the loop stalls that were not the app's (GC, no CPU, the guard's or the server's code).
            if b"stalls" in parse_qs(scope.get("query_string", b""), keep_blank_values=True):
                answer: object = self.watchdog.stall_notes.snapshot()
            else:
                answer = [d.to_dict() for d in self.reporter.findings()]
            status, body = 200, json.dumps(answer, default=repr).encode()
        else:
            status, body = 401, b'{"detail": "Unauthorized"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _load_handlers(routes: Sequence[object]) -> None:
    """Read the handlers' source into memory (off the loop), placing each ``def`` line once."""
    for route in routes[:_MAX_HANDLERS_LOADED]:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None:
            endpoint_location(endpoint)


def _code_of(function: object) -> types.CodeType | None:
    """The code a call to ``function`` runs: a function's, a bound method's, or ``__call__``'s."""
    target = getattr(function, "__func__", function)
    code = getattr(target, "__code__", None)
    if code is None:
        # An object with an ``async def __call__``: looked up on its class, as a call does.
        call = next((klass.__dict__["__call__"] for klass in type(function).__mro__ if "__call__" in klass.__dict__), None)
        code = getattr(call, "__code__", None)
    return code if isinstance(code, types.CodeType) else None


def _raised_through(exc: BaseException, code: types.CodeType | None) -> bool:
    """Whether ``exc``, or an exception it was raised while handling, passed through ``code``."""
    current: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if current is None or code is None:
            return False
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code is code:
                return True
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return False


class _Exchange(RequestState):
    """One HTTP request/response passing through the guard (report mode), and the request's state.

    One object per request rather than a state and an exchange: each costs every request again.
    What changes on few requests is a default on the class, set on the instance when it does.
    """

    responded = False
    started_at: float | None = None
    """When the response headers went out: a streamed body after that is not the request being slow."""
    scanner: LeakScanner | None = None
    """Made for a streamed body only; a body sent whole is scanned as it is (``_scan``)."""
    held_start: Message | None = None
    enforce = False

    def __init__(self, guard: RuntimeGuard, scope: Scope, started: float, send: Send) -> None:
        # RequestState.__init__ written out (a call more would cost every request); the
        # exception texts stay the class's empty tuple until the detector records one.
        self.scope = scope
        self.started = started
        self.guard = guard
        self._send = send
        if not guard._tracking_exceptions:
            self.records_texts = False

    def send(self, message: Message) -> Awaitable[None]:
        """Look at the message, then hand it on as it is.

        Not a coroutine: it returns the server's own awaitable, so no frame of the guard's
        stands between the app and the server while the message goes out.  This runs for
        every message of every response, hence the common cases written out here rather
        than in helpers (each call is a measurable share of a trivial request).
        """
        try:
            kind = message.get("type")
            if kind == "http.response.body":
                if self.scanner is None and not message.get("more_body", False):
                    body = message.get("body") or b""
                    # A short body, with no exception text to look for, cannot hold a marker.
                    if len(body) >= SHORTEST_MARKER or self.exception_texts:
                        leak = scan_body(body, self.exception_texts, self.guard.config.leak_scan_bytes)
                        if leak is not None:
                            self._report_leak(leak)
                else:
                    leak = self._scan(message)
                    if leak is not None:
                        self._report_leak(leak)
            elif kind == "http.response.start":
                self.responded = True
                self.started_at = _monotonic()
                for key, _value in message.get("headers") or ():
                    # (The length first: lower() makes a new bytes object for every header.)
                    if len(key) == _ALLOW_ORIGIN_LENGTH and key.lower() == b"access-control-allow-origin":
                        self._check_cors(message)
                        break
        except Exception:
            self.guard._fault("response inspection")
        return self._send(message)

    @property
    def outbound(self) -> OutboundWatch | None:
        return self.guard._outbound

    def client_gone(self, exc: BaseException) -> bool:
        """Whether ``exc`` came out of the server's ``send``: the client left, not an error of the app.

        Told from the traceback (the server's send is on it, or on the exception it was
        raised while handling, as Starlette's ClientDisconnect is) rather than by catching it
        in ``send``: that would put a coroutine of the guard's under every message.
        """
        return _raised_through(exc, _code_of(self._send))

    def _scan(self, message: Message) -> str | None:
        """The leak in this body message, if any: a body sent whole needs no scanner (and no copy)."""
        body = message.get("body", b"") or b""
        if self.scanner is None:
            if not message.get("more_body", False):
                return scan_body(body, self.exception_texts, self.guard.config.leak_scan_bytes)
            self.scanner = LeakScanner(self.guard.config.leak_scan_bytes, ())
        return self.scanner.feed(body, self.exception_texts)

    def _check_cors(self, message: Message) -> None:
        for key, _value in message.get("headers") or ():
            if key.lower() == b"access-control-allow-origin":
                break
        else:
            return  # the common case: no CORS header, nothing to judge
        problem = cors_problem(self.scope.get("headers", []), message.get("headers", []), self.guard.config.cors_probe_origins)
        if problem is not None:
            severity, text = problem
            self.guard._report_at(
                "FAA301", self.app_location, f"{text} (on {self.route})", severity=severity, route=self.route
            )

    def app_location(self) -> FrameInfo | None:
        return self.guard._app_site(self.scope.get("app"))

    def handler_or_app_location(self) -> FrameInfo | None:
        """The route's handler when it is the app's, else the app (an answer the app as a whole gave)."""
        return self.endpoint_location() or self.app_location()

    def _report_leak(self, what: str) -> None:
        self.guard._report_at(
            "FAA303",
            self.handler_or_app_location,
            f"the response to {self.route} carried {what}",
            route=self.route,
            redacted=self.enforce,
        )

    async def escaped(self, exc: Exception) -> bool:
        """Report an exception leaving the app; True when the guard answered for it (enforce mode)."""
        if self.client_gone(exc):
            return False  # e.g. Starlette's ClientDisconnect: the server's send failed, the app did not
        try:
            app = self.scope.get("app")
            if not exception_texts.has_catch_all_handler(app):
                raised_at = user_frame_from_traceback(exc.__traceback__)
                self.guard._report_at(
                    "FAA304",
                    (lambda: raised_at) if raised_at is not None else self.handler_or_app_location,
                    f"`{type(exc).__name__}` escaped the app while handling {self.route}",
                    route=self.route,
                    exception=type(exc).__name__,
                )
            if self.enforce and not self.responded:
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(GENERIC_500)).encode())]
                await self._send({"type": "http.response.start", "status": 500, "headers": headers})
                await self._send({"type": "http.response.body", "body": GENERIC_500})
                return True
        except Exception:
            self.guard._fault("escaped-exception handling")
        return False

    def finished(self) -> None:
        try:
            # Time to the response headers: a stream (server-sent events, a token stream) that
            # answers at once and then runs long is the right design, not FAA103.
            end = self.started_at if self.started_at is not None else _monotonic()
            duration = end - self.started
            config = self.guard.config
            if duration <= config.slow_request_threshold:
                return
            blocked = self.guard.watchdog.blocked_time_between(self.started, end)
            if blocked >= duration / 2:
                return  # the loop was blocked: that is FAA101/FAA102, already reported by the watchdog
            self.guard._report_at(
                "FAA103",
                self.endpoint_location,
                f"{self.route} took {duration:.1f} s to respond without blocking the loop (waiting on slow work, such as an LLM call)",
                route=self.route,
                duration_seconds=round(duration, 3),
            )
        except Exception:
            self.guard._fault("slow-request check")


class _EnforcingExchange(_Exchange):
    """Enforce mode: a leak is replaced before it goes out, so the response start is held back."""

    enforce = True

    async def send(self, message: Message) -> None:
        try:
            outgoing = self._observe(message)
        except Exception:
            self.guard._fault("response inspection")
            outgoing = [message] if self.held_start is None else [self._release(), message]
        for item in outgoing:
            await self._send(item)

    def _release(self) -> Message:
        held, self.held_start = self.held_start, None
        assert held is not None
        return held

    def _observe(self, message: Message) -> list[Message]:
        """The messages to send in place of ``message`` (a leak is replaced)."""
        kind = message.get("type")
        if kind == "http.response.start":
            self.responded = True
            self.started_at = _monotonic()
            self._check_cors(message)
            # Held until the first body chunk is seen, so a leak can still be replaced.
            self.held_start = message
            return []
        if kind != "http.response.body":
            return [message] if self.held_start is None else [self._release(), message]
        body = message.get("body", b"") or b""
        leak = self._scan(message)
        if leak is not None:
            self._report_leak(leak)
        start = self.held_start
        outgoing: list[Message]
        if leak is None:
            outgoing = [start, message] if start is not None else [message]
        elif start is not None and not message.get("more_body", False):
            # A whole (single-chunk) response: answer a generic 500 instead.
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(GENERIC_500)).encode())]
            outgoing = [{**start, "status": 500, "headers": headers}, {**message, "body": GENERIC_500}]
        else:
            replaced = {**message, "body": redacted(body)}
            outgoing = [start, replaced] if start is not None else [replaced]
        # Released only now: should the above fail, send() still has the start to pass on.
        self.held_start = None
        return outgoing
