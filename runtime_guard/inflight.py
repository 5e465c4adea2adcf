"""Requests in flight, readable from the watchdog thread without per-request locks.

The loop thread adds and removes entries; the watchdog thread only copies the
table.  Single dict operations are atomic under the GIL, so neither side takes
a lock: a request never waits on the watchdog.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["InFlight", "RequestInfo", "Tracked", "route_template"]

# Requests tracked at once; past this, new ones go untracked rather than grow memory.
DEFAULT_MAX_TRACKED = 10_000
# How often to retry a copy that raced a resize (see ``current``).
_COPY_ATTEMPTS = 5


@dataclass
class RequestInfo:
    method: str
    route: str
    started: float
    """``time.monotonic()`` when the request began."""
    endpoint: Any = None
    """The route handler, once the router picked one (for the watchdog's attribution)."""


def route_template(scope: Mapping[str, Any]) -> str:
    """The route's path template (``/users/{user_id}``) when the router set it, else the raw path.

    Templates keep findings aggregatable (one entry per route, not per user id).
    """
    path = str(scope.get("path", ""))
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        # Older Starlette (before scope["route"]) records only the endpoint the router chose.
        endpoint = scope.get("endpoint")
        found = _template_of_endpoint(getattr(scope.get("app"), "routes", ()), endpoint) if endpoint else None
        return found if found is not None else path
    # Under a Mount the innermost router's route path lacks the mount prefix;
    # Starlette records the consumed prefix in root_path.
    root_path = str(scope.get("root_path", ""))
    app_root = str(scope.get("app_root_path", root_path))
    prefix = root_path[len(app_root) :] if root_path.startswith(app_root) else ""
    if prefix and not template.startswith(prefix):
        return prefix + template
    return template


# How deep to follow mounts when looking a template up; deeper trees fall back to the raw path.
_MAX_MOUNT_DEPTH = 8


def _template_of_endpoint(routes: Any, endpoint: Any, prefix: str = "", depth: int = 0) -> str | None:
    """The full path template of the route serving ``endpoint``, following mounted sub-apps."""
    if depth > _MAX_MOUNT_DEPTH:
        return None
    for route in list(routes or ()):
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if getattr(route, "endpoint", None) is endpoint:
            return prefix + path
        children = getattr(route, "routes", None)
        if children:
            found = _template_of_endpoint(children, endpoint, prefix + path, depth + 1)
            if found is not None:
                return found
    return None


class Tracked(Protocol):
    """What the table needs of a request: its scope and when it began."""

    scope: MutableMapping[str, Any]
    started: float
    """``time.monotonic()`` when the request began."""


@dataclass
class _Entry:
    scope: MutableMapping[str, Any]
    started: float


class InFlight:
    """The table of requests being served.

    ``begin``/``end`` track a scope; the guard puts its own per-request state in
    ``requests`` directly (``requests[id(state)] = state`` while ``len(requests) <
    max_tracked``), since a method call each way is a measurable share of a trivial request.
    """

    def __init__(self, max_tracked: int = DEFAULT_MAX_TRACKED) -> None:
        # The scope itself is kept (not copied) so the route the router sets later is visible.
        self.requests: dict[int, Tracked] = {}
        self.max_tracked = max_tracked

    def begin(self, scope: MutableMapping[str, Any], started: float | None = None) -> int:
        """Track a request; ``started`` is its ``time.monotonic()`` start when the caller has it.

        Returns the token for ``end``: 0 when the table is full and the request goes untracked.
        """
        if len(self.requests) >= self.max_tracked:
            return 0
        entry = _Entry(scope, time.monotonic() if started is None else started)
        self.requests[id(entry)] = entry  # held here, so its id stays unique until ``end``
        return id(entry)

    def end(self, token: int) -> None:
        self.requests.pop(token, None)

    def __len__(self) -> int:
        return len(self.requests)

    def entries(self) -> list[tuple[MutableMapping[str, Any], float]]:
        """The raw table (scope, start) as it is now: cheap, for a caller that must not miss a moment."""
        for _ in range(_COPY_ATTEMPTS):
            try:
                return [(entry.scope, entry.started) for entry in self.requests.copy().values()]
            except RuntimeError:  # resized under us by a finalizer mid-copy; try again
                continue
        return []

    def current(self, entries: list[tuple[MutableMapping[str, Any], float]] | None = None) -> list[RequestInfo]:
        """The requests in flight, oldest first: now, or as ``entries`` (from ``entries()``) had them."""
        infos: list[RequestInfo] = []
        for scope, started in self.entries() if entries is None else entries:
            try:
                infos.append(
                    RequestInfo(
                        method=str(scope.get("method") or str(scope.get("type", "")).upper()),
                        route=route_template(scope),
                        started=started,
                        endpoint=scope.get("endpoint"),
                    )
                )
            # Fail-open: a scope mutated mid-read is skipped, never an error for the caller.
            except Exception:  # noqa: BLE001, S112
                continue
        infos.sort(key=lambda info: info.started)
        return infos
