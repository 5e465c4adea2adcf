"""Sending the probe's requests in-process: httpx's ASGI transport, no server, no network.

Every request goes through ``Sender.send``, which is also where the safety
rules are enforced (whatever a probe asks for): no request to an excluded
path, no request with a method the user did not allow, nothing after the
time budget.
"""

from __future__ import annotations

import asyncio
import contextvars
import fnmatch
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from runtime_guard.middleware import ASGIApp, Message, Receive, Scope, Send
from runtime_guard.probe.credentials import ClientSetup
from runtime_guard.probe.generate import ProbeRequest

# Client addresses from the documentation ranges (RFC 5737): foreign to any real allow-list.
EXERCISE_ADDRESSES = tuple(f"192.0.2.{n}" for n in range(1, 255))
BURST_ADDRESS = ("198.51.100.7", 40000)
# Methods a probe may send whatever the user allowed: the CORS preflight changes nothing.
ALWAYS_ALLOWED = frozenset({"OPTIONS"})
# Enough of a refusal's body to say why (FastAPI's `{"detail": ...}`), not a whole page.
DETAIL_CHARS = 300

_BODY_READ: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("runtime_guard_probe_read", default=None)
_ADDRESS: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar("runtime_guard_probe_address", default=None)


class ProbeApp:
    """The outermost layer: client address and lifespan state into the scope, body bytes read counted."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = _ADDRESS.get()
        if address is not None:
            scope["client"] = address
        scope["state"] = dict(self.state)
        counter = _BODY_READ.get()
        if counter is None:
            await self.app(scope, receive, send)
            return

        async def counted() -> Message:
            message = await receive()
            if message.get("type") == "http.request":
                counter[0] += len(message.get("body", b"") or b"")
            return message

        await self.app(scope, counted, send)


class PathFilter:
    """``--exclude-path`` globs (shell-style; ``*`` also matches ``/``), checked on template and path."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)

    def excludes(self, *paths: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for path in paths for pattern in self.patterns)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.seconds = seconds

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float:
        return self.seconds - self.elapsed

    @property
    def expired(self) -> bool:
        return self.remaining <= 0


@dataclass
class Outcome:
    request: ProbeRequest
    status: int | None
    """None when the request timed out."""
    duration: float
    body_read: int
    """Bytes of the request body the app read."""
    headers: httpx.Headers | None = None
    detail: str = ""
    """The start of the response body when it was not 2xx (why the app said no)."""

    @property
    def timed_out(self) -> bool:
        return self.status is None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class SendStats:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    """Requests not sent, by reason (excluded path, method not allowed, time budget)."""
    rate_limited: str | None = None
    """The first request answered 429, if any."""


class Sender:
    def __init__(
        self,
        app: ASGIApp,
        *,
        state: dict[str, Any],
        deadline: Deadline,
        request_timeout: float,
        exclude: PathFilter,
        methods: frozenset[str],
        base_url: str = "http://localhost",
        credentials: ClientSetup | None = None,
        on_sent: Callable[[ProbeRequest], None] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        transport = httpx.ASGITransport(app=ProbeApp(app, state), raise_app_exceptions=False)
        self.credentials = credentials or ClientSetup()
        self._client = httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            follow_redirects=False,
            timeout=None,
            auth=self.credentials.auth,
        )
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.exclude = exclude
        self.methods = methods | ALWAYS_ALLOWED
        self.on_sent = on_sent
        self.on_outcome = on_outcome
        self.stats = SendStats()
        self._address = 0

    def allows(self, request: ProbeRequest) -> str | None:
        """Why ``request`` must not be sent (None when it may)."""
        if self.exclude.excludes(request.template, request.path):
            return "excluded path"
        if request.method not in self.methods:
            return f"{request.method} not allowed"
        if self.deadline.expired:
            return "time budget spent"
        return None

    async def send(self, request: ProbeRequest, *, address: tuple[str, int] | None = None) -> Outcome | None:
        """Send ``request``; None when a safety rule or the budget forbids it.

        A 429 from the exercise's own address moves the probe to the next
        address and repeats the request once: the limiter is working (noted),
        and the route still gets exercised.
        """
        outcome = await self._send_once(request, address)
        if outcome is not None and outcome.status == 429 and address is None:
            self.stats.rate_limited = self.stats.rate_limited or request.label
            self._address = (self._address + 1) % len(EXERCISE_ADDRESSES)
            outcome = await self._send_once(request, None) or outcome
        return outcome

    async def _send_once(self, request: ProbeRequest, address: tuple[str, int] | None) -> Outcome | None:
        reason = self.allows(request)
        if reason is not None:
            self.stats.refused[reason] += 1
            return None
        counter = [0]
        read_token = _BODY_READ.set(counter)
        address_token = _ADDRESS.set(address or (EXERCISE_ADDRESSES[self._address], 40000))
        started = time.monotonic()
        timeout = max(min(self.request_timeout, self.deadline.remaining), 0.05)
        try:
            response = await asyncio.wait_for(
                self._client.request(
                    request.method,
                    request.path,
                    params=tuple(request.query) if request.query else None,
                    headers=self.credentials.apply(request.headers),
                    content=request.content,
                    data=request.form if request.content is None else None,
                    files=request.files,
                ),
                timeout,
            )
            status: int | None = response.status_code
            headers: httpx.Headers | None = response.headers
            detail = "" if response.is_success else response.text[:DETAIL_CHARS]
        except asyncio.TimeoutError:
            status, headers, detail = None, None, ""
            self.stats.timeouts.append(request.label)
        finally:
            _BODY_READ.reset(read_token)
            _ADDRESS.reset(address_token)
        duration = time.monotonic() - started
        self.stats.sent += 1
        if status is not None:
            self.stats.statuses[status] += 1
            if status == 429 and self.stats.rate_limited is None:
                self.stats.rate_limited = request.label
        if self.on_sent is not None:
            self.on_sent(request)
        outcome = Outcome(request, status, duration, counter[0], headers, detail)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()
