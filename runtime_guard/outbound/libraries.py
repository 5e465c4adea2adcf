"""What the guard knows of each HTTP client library: which method sends, where to, with what timeout, and what failed.

Each adapter is made from the library's module as the app imported it (taken
from ``sys.modules``, never imported here) and names one method per client
class to wrap, chosen so that every request that goes on the wire passes
through it exactly once, whichever helper the app called:

- httpx (and httpx2, its continuation under a new name, which has the same API):
  ``Client.send`` and ``AsyncClient.send``.  ``get``, ``post``,
  ``request`` and ``stream`` all end there; redirects and auth are followed
  inside it.  The timeout in force is the one ``build_request`` put in the
  request's ``timeout`` extension (the call's, else the client's).
- requests: ``HTTPAdapter.send``, which gets the final ``timeout`` as an
  argument.  ``Session.send`` calls itself again for each redirect, so it would
  count a redirect chain as nested calls; the adapter sees each hop once.
- aiohttp: ``ClientSession._request``.  It is private, but has kept its shape
  (``method, str_or_url, *, ..., timeout=...``) through every 3.x release,
  and wrapping it on the class covers sessions the app created before the
  guard started.  A trace config, the public hook, must be given to each
  session when it is made, so sessions made earlier (or with their own trace
  configs) would be missed.

Nothing here reads a response body: a call's outcome is its exception or its
status code.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LIBRARIES", "Adapter", "CallInfo", "Target", "adapter_for"]

LIBRARIES: tuple[str, ...] = ("httpx", "httpx2", "requests", "aiohttp")


@dataclass(frozen=True)
class CallInfo:
    """What a call says about itself before it goes out."""

    host: str
    """``host`` or ``host:port`` when the URL names a port."""
    unbounded: str | None
    """What is missing (``no timeout``, ``no read timeout``, ``no connect timeout``); None when bounded."""


@dataclass(frozen=True)
class Target:
    owner: type
    name: str
    is_async: bool


@dataclass(frozen=True)
class Adapter:
    library: str
    targets: tuple[Target, ...]
    describe: Callable[[Any, tuple[Any, ...], Mapping[str, Any]], CallInfo | None]
    """From the wrapped method's ``self``, positional and keyword arguments; None: not a network call."""
    exception_failure: Callable[[BaseException], str | None]
    """How the call failed (``ConnectError``, ``HTTP 503``), or None when the exception says nothing of the host."""
    result_failure: Callable[[Any], str | None]
    """``HTTP 5xx`` for a server error, None for any other response."""


def adapter_for(library: str) -> Adapter | None:
    """The adapter of ``library`` as the app imported it; None while it is not (yet fully) imported.

    Raises when the library is imported but no longer looks as expected (the caller logs it once).
    """
    module = sys.modules.get(library)
    if module is None:
        return None
    try:
        return _FACTORIES[library](module)
    except (AttributeError, KeyError):
        return None  # imported halfway (another thread is importing it): tried again later


# -- shared reading --------------------------------------------------------------


def _is_seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def missing_limit(connect: object, read: object) -> str | None:
    """Which of the waits on the remote host has no limit (a non-number is no limit)."""
    no_connect, no_read = not _is_seconds(connect), not _is_seconds(read)
    if no_connect and no_read:
        return "no timeout"
    if no_read:
        return "no read timeout"
    if no_connect:
        return "no connect timeout"
    return None


def host_of(hostname: str | None, port: int | None) -> str:
    host = hostname or "?"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{host}:{port}" if port else host


def _split_host(url: object) -> str:
    parts = urlsplit(str(url))
    try:
        port = parts.port
    except ValueError:
        port = None
    return host_of(parts.hostname, port)


def _status_failure(status: object) -> str | None:
    return f"HTTP {status}" if isinstance(status, int) and status >= 500 else None


_OS_FAILURES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, asyncio.TimeoutError)


# -- httpx -----------------------------------------------------------------------


def _httpx(module: ModuleType) -> Adapter:
    in_process = tuple(
        kind for kind in (getattr(module, "ASGITransport", None), getattr(module, "WSGITransport", None)) if isinstance(kind, type)
    )
    failures: tuple[type[BaseException], ...] = (
        module.TimeoutException,
        module.NetworkError,
        module.RemoteProtocolError,
        *_OS_FAILURES,
    )

    def describe(client: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CallInfo | None:
        if in_process and isinstance(getattr(client, "_transport", None), in_process):
            return None  # served in-process: no connection, nothing to wait on
        request = args[0] if args else kwargs["request"]
        url = request.url
        timeout = request.extensions.get("timeout")
        if isinstance(timeout, Mapping):
            unbounded = missing_limit(timeout.get("connect"), timeout.get("read"))
        else:
            unbounded = "no timeout"  # a Request built by hand and sent as is: httpcore waits forever
        return CallInfo(host_of(url.host, url.port), unbounded)

    def exception_failure(exc: BaseException) -> str | None:
        return type(exc).__name__ if isinstance(exc, failures) else None

    def result_failure(response: Any) -> str | None:
        return _status_failure(getattr(response, "status_code", None))

    return Adapter(
        module.__name__,
        (Target(module.Client, "send", False), Target(module.AsyncClient, "send", True)),
        describe,
        exception_failure,
        result_failure,
    )


# -- requests --------------------------------------------------------------------


def _requests(module: ModuleType) -> Adapter:
    adapters = sys.modules["requests.adapters"]
    exceptions = sys.modules["requests.exceptions"]
    failures: tuple[type[BaseException], ...] = (
        exceptions.ConnectionError,  # ConnectTimeout, ProxyError and SSLError among them
        exceptions.Timeout,
        exceptions.RetryError,  # retries (urllib3's Retry) used up on 5xx answers
        exceptions.ChunkedEncodingError,
        *_OS_FAILURES,
    )

    def describe(adapter: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CallInfo | None:
        # HTTPAdapter.send(request, stream=False, timeout=None, verify=True, cert=None, proxies=None)
        request = args[0] if args else kwargs["request"]
        timeout = kwargs["timeout"] if "timeout" in kwargs else (args[2] if len(args) > 2 else None)
        return CallInfo(_split_host(request.url), _requests_limit(timeout))

    def exception_failure(exc: BaseException) -> str | None:
        return type(exc).__name__ if isinstance(exc, failures) else None

    def result_failure(response: Any) -> str | None:
        return _status_failure(getattr(response, "status_code", None))

    return Adapter("requests", (Target(adapters.HTTPAdapter, "send", False),), describe, exception_failure, result_failure)


def _requests_limit(timeout: object) -> str | None:
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return missing_limit(timeout[0], timeout[1])
    if hasattr(timeout, "read_timeout"):  # a urllib3 Timeout
        if _is_seconds(getattr(timeout, "total", None)):
            return None
        return missing_limit(getattr(timeout, "connect_timeout", None), getattr(timeout, "read_timeout", None))
    return missing_limit(timeout, timeout)


# -- aiohttp ---------------------------------------------------------------------


def _aiohttp(module: ModuleType) -> Adapter:
    session_class = module.ClientSession
    if not inspect.iscoroutinefunction(getattr(session_class, "_request", None)):
        raise TypeError("aiohttp.ClientSession._request is not a coroutine function in this version")
    not_given = getattr(sys.modules.get("aiohttp.helpers"), "sentinel", object())
    response_error = module.ClientResponseError
    failures: tuple[type[BaseException], ...] = (module.ClientConnectionError, *_OS_FAILURES)

    def describe(session: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CallInfo | None:
        # ClientSession._request(method, str_or_url, *, ..., timeout=sentinel, ...)
        url = args[1] if len(args) > 1 else kwargs["str_or_url"]
        host = _split_host(url)
        base = getattr(session, "_base_url", None)
        if host == "?" and base is not None:
            host = _split_host(base)  # a path relative to the session's base_url
        if "timeout" in kwargs and kwargs["timeout"] is not not_given:
            timeout = kwargs["timeout"]
        else:
            timeout = getattr(session, "timeout", None)
        return CallInfo(host, _aiohttp_limit(timeout))

    def exception_failure(exc: BaseException) -> str | None:
        if isinstance(exc, response_error):  # raise_for_status=True
            return _status_failure(getattr(exc, "status", None))
        return type(exc).__name__ if isinstance(exc, failures) else None

    def result_failure(response: Any) -> str | None:
        return _status_failure(getattr(response, "status", None))

    return Adapter("aiohttp", (Target(session_class, "_request", True),), describe, exception_failure, result_failure)


def _aiohttp_limit(timeout: object) -> str | None:
    if timeout is None or _is_seconds(timeout):
        return missing_limit(timeout, timeout)  # a number (or None) is the total
    if _is_seconds(getattr(timeout, "total", None)):
        return None
    connect = getattr(timeout, "connect", None)
    if not _is_seconds(connect):
        connect = getattr(timeout, "sock_connect", None)
    return missing_limit(connect, getattr(timeout, "sock_read", None))


_FACTORIES: dict[str, Callable[[ModuleType], Adapter]] = {
    "httpx": _httpx,
    "httpx2": _httpx,
    "requests": _requests,
    "aiohttp": _aiohttp,
}
