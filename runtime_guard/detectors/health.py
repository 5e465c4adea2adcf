"""FAA401 at runtime: the app's route table (routers, mounts, hosts) has no health path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

MAX_DEPTH = 8


def route_paths(routes: Iterable[Any], prefix: str = "", depth: int = 0) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    for route in routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            path = ""
        children = getattr(route, "routes", None)
        if children is not None and not getattr(route, "endpoint", None):
            # Mount/Host/Router: their own routes hang below their path.
            yield from route_paths(children, prefix + path.rstrip("/"), depth + 1)
        elif path:
            yield prefix + path


def find_routes(app: Any) -> list[Any] | None:
    """The route table of ``app`` or of the app a middleware stack wraps (None when there is none)."""
    seen = 0
    while app is not None and seen < 32:
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            return routes
        app = getattr(app, "app", None)
        seen += 1
    return None


def has_health_route(routes: Iterable[Any], health_paths: Iterable[str]) -> bool:
    wanted = [h.rstrip("/") for h in health_paths if h.strip("/")]
    for path in route_paths(routes):
        trimmed = path.rstrip("/")
        if any(trimmed == h or trimmed.endswith(h) for h in wanted):
            return True
    return False
