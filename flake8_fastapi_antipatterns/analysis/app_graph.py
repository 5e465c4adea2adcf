"""What an app is made of across modules: its routes, the routers it includes, its handlers.

The app-level rules (FAA304, FAA305, FAA401) must not judge ``main.py`` alone
when the health route, the catch-all handler or the limiter live in an
included module.  ``AppGraph`` collects, for one ``FastAPI(...)`` /
``Starlette(...)`` construction, everything registered on it in its module and
in the project modules its routers come from.  What cannot be resolved is
recorded as ``unknown`` so the rules can stay silent instead of guessing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from flake8_fastapi_antipatterns.analysis.app_model import AppModel, AppSite
from flake8_fastapi_antipatterns.analysis.names import Names

ROUTE_CLASSES = frozenset(
    {
        "starlette.routing.Route",
        "starlette.routing.WebSocketRoute",
        "fastapi.routing.APIRoute",
        "fastapi.routing.APIWebSocketRoute",
    }
)
MOUNT_CLASSES = frozenset({"starlette.routing.Mount", "starlette.routing.Host"})
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
MAX_INCLUDE_DEPTH = 6


@dataclass
class Part:
    """One module's contribution to an app: a router (or the app itself) in that module."""

    names: Names
    model: AppModel
    owner: str | None
    """The variable the routes hang on (``router``); None for routes passed as a list."""
    prefix: str
    label: str
    """How the part is named in messages (``ops.router``)."""


@dataclass
class AppGraph:
    site: AppSite
    parts: list[Part] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Every route path registered on the app, with include prefixes applied."""
    unknown: list[str] = field(default_factory=list)
    """Things included or mounted that could not be resolved (so may hold anything)."""
    registrations: list[tuple[Names, ast.Call]] = field(default_factory=list)
    """Calls made on the app or its parts (add_middleware, add_exception_handler, ...)."""
    decorators: list[tuple[Names, ast.Call]] = field(default_factory=list)
    """Decorator calls on the app's or its parts' names (``@app.exception_handler(...)``)."""

    @property
    def name(self) -> str:
        return self.site.name or "the app"


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix.rstrip("/") + ("/" + path.lstrip("/") if path else "")


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def build_app_graph(site: AppSite, names: Names, model: AppModel) -> AppGraph:
    graph = AppGraph(site=site)
    _add_part(graph, Part(names, model, site.name, "", site.name or "app"), depth=0, seen=set())
    _collect_route_list(graph, names, site.call, "")
    return graph


def _add_part(graph: AppGraph, part: Part, depth: int, seen: set[tuple[int, str | None]]) -> None:
    key = (id(part.names.tree), part.owner)
    if key in seen or depth > MAX_INCLUDE_DEPTH:
        return
    seen.add(key)
    graph.parts.append(part)
    if part.owner is None:
        return
    for site in part.model.sites:
        # APIRouter(prefix="/users") applies under whatever include_router added.
        if site.name == part.owner and site.kind == "router":
            part.prefix = _join(part.prefix, _string(_keyword(site.call, "prefix")) or "")
    for route in part.model.routes:
        if route.owner == part.owner and route.path is not None:
            graph.paths.append(_join(part.prefix, route.path))
    graph.decorators.extend((part.names, decorator) for decorator in part.model.decorators_on(part.owner))
    for node in part.model.calls_on(part.owner):
        if not isinstance(node.func, ast.Attribute):
            continue
        graph.registrations.append((part.names, node))
        method = node.func.attr
        if method == "include_router" and node.args:
            prefix = _string(_keyword(node, "prefix")) or ""
            _include(graph, part, node.args[0], _join(part.prefix, prefix), depth, seen)
        elif method in ("add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route") and node.args:
            path = _string(node.args[0])
            if path is not None:
                graph.paths.append(_join(part.prefix, path))
        elif method == "mount" and node.args:
            mount_path = _string(node.args[0]) or ""
            target = node.args[1] if len(node.args) > 1 else _keyword(node, "app")
            graph.unknown.append(f"the app mounted at {mount_path or '?'}" if target is not None else "a mount")


def _include(graph: AppGraph, part: Part, router: ast.expr, prefix: str, depth: int, seen: set[tuple[int, str | None]]) -> None:
    """Add the router ``router`` (an expression in ``part``'s module) to the graph."""
    label = ast.unparse(router) if isinstance(router, (ast.Name, ast.Attribute)) else "a router"
    if isinstance(router, ast.Name) and part.model.owner_kind(router) == "router":
        _add_part(graph, Part(part.names, part.model, router.id, prefix, label), depth + 1, seen)
        return
    resolver = part.names.resolver
    dotted = part.names.qualify(router)
    if resolver is None or dotted is None:
        graph.unknown.append(label)
        return
    symbol = resolver.symbol(dotted)
    if symbol is None or not isinstance(symbol.node, ast.Call):
        graph.unknown.append(label)
        return
    module = symbol.module
    _add_part(graph, Part(module.names, module.model, symbol.name, prefix, label), depth + 1, seen)


def _collect_route_list(graph: AppGraph, names: Names, call: ast.Call, prefix: str) -> None:
    """Starlette-style ``routes=[Route("/health", ...), Mount("/api", routes=[...])]``."""
    routes = _keyword(call, "routes")
    if isinstance(routes, ast.Name) and routes.id in names.bindings:
        routes = names.bindings[routes.id]
    if routes is None:
        return
    if not isinstance(routes, (ast.List, ast.Tuple)):
        graph.unknown.append("a routes list")
        return
    for element in routes.elts:
        if not isinstance(element, ast.Call):
            graph.unknown.append("a route entry")
            continue
        kind = names.qualify(element.func)
        path = _string(element.args[0]) if element.args else _string(_keyword(element, "path"))
        if kind in ROUTE_CLASSES and path is not None:
            graph.paths.append(_join(prefix, path))
        elif kind in MOUNT_CLASSES:
            _collect_route_list(graph, names, element, _join(prefix, path or ""))
            if _keyword(element, "app") is not None or len(element.args) > 1:
                graph.unknown.append(f"the app mounted at {path or '?'}")
        else:
            graph.unknown.append("a route entry")


def middleware_classes(graph: AppGraph) -> list[tuple[Names, ast.expr]]:
    """The middleware classes the app adds (``add_middleware(X)``, ``Middleware(X)`` in ``middleware=``)."""
    found: list[tuple[Names, ast.expr]] = []
    for names, call in graph.registrations:
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_middleware" and call.args:
            found.append((names, call.args[0]))
    for decorator_names, decorator in graph.decorators:
        if isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "middleware":
            found.append((decorator_names, decorator.func))
    listed = _keyword(graph.site.call, "middleware")
    names0 = graph.parts[0].names
    if isinstance(listed, ast.Name) and listed.id in names0.bindings:
        listed = names0.bindings[listed.id]
    if isinstance(listed, (ast.List, ast.Tuple)):
        for element in listed.elts:
            if isinstance(element, ast.Call) and names0.qualify(element.func) in MIDDLEWARE_WRAPPERS and element.args:
                found.append((names0, element.args[0]))
    return found
