"""What the probe can call: the app's operations, from its OpenAPI document and its route table.

The OpenAPI document (FastAPI's ``app.openapi()``) says which parameters and
body each operation takes.  The route table adds what the document leaves
out (``include_in_schema=False``, plain Starlette routes), with path
parameters typed by their convertors.  Framework routes (the docs pages,
``/openapi.json``) are left out: they are not the app's code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime_guard.detectors.health import MAX_DEPTH, find_routes

# Only these are requests the probe knows how to make; HEAD/OPTIONS/TRACE are not operations to exercise.
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FRAMEWORK_MODULES = ("fastapi", "starlette")
WEBSOCKET = "WEBSOCKET"
_CONVERTOR = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "str": {"type": "string"},
    "path": {"type": "string"},
}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    """path, query, header or cookie."""
    required: bool
    schema: Any


@dataclass(frozen=True)
class Body:
    media_type: str
    schema: Any
    required: bool

    @property
    def is_json(self) -> bool:
        return self.media_type in JSON_TYPES or self.media_type.endswith("+json")

    @property
    def is_form(self) -> bool:
        return self.media_type in FORM_TYPES


@dataclass
class Operation:
    method: str
    path: str
    """The path template, ``/users/{user_id}``."""
    parameters: list[Parameter] = field(default_factory=list)
    body: Body | None = None
    """The declared request body; None when the document declares none (or there is no document)."""
    body_unsupported: bool = False
    """A body is declared in a media type the probe does not generate (the body probes skip it)."""
    endpoint: Any = None
    documented: bool = True
    """From the OpenAPI document (the app's API), not only the route table."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def may_read_body(self) -> bool:
        """A body method with no declared body: the handler may read one itself (``await request.json()``)."""
        return self.body is None and not self.body_unsupported and self.method in BODY_METHODS


@dataclass(frozen=True)
class RouteEntry:
    method: str
    path: str
    """Template without convertors (``/files/{name}``)."""
    endpoint: Any
    convertors: dict[str, str]
    """Path parameter -> convertor name (``int``, ``str``, ``path``...)."""


def route_entries(app: object) -> list[RouteEntry]:
    routes = find_routes(app)
    return [entry for entry in _walk(routes, "", 0) if entry.method != WEBSOCKET] if routes is not None else []


def websocket_entries(app: object) -> list[RouteEntry]:
    """The app's websocket routes: listed in the coverage, never exercised (the probe speaks HTTP only)."""
    routes = find_routes(app)
    return [entry for entry in _walk(routes, "", 0) if entry.method == WEBSOCKET] if routes is not None else []


def _walk(routes: list[Any], prefix: str, depth: int) -> Iterator[RouteEntry]:
    if depth > MAX_DEPTH:
        return
    for route in routes:
        raw = getattr(route, "path", None)
        raw = raw if isinstance(raw, str) else ""
        children = getattr(route, "routes", None)
        if isinstance(children, list) and not getattr(route, "endpoint", None):
            yield from _walk(children, prefix + raw.rstrip("/"), depth + 1)
            continue
        methods = getattr(route, "methods", None)
        endpoint = getattr(route, "endpoint", None)
        if not raw or endpoint is None:
            continue  # mounted apps without a route table
        if "websocket" in type(route).__name__.lower():
            yield RouteEntry(WEBSOCKET, _CONVERTOR.sub(lambda m: "{" + m.group(1) + "}", prefix + raw), endpoint, {})
            continue
        full = prefix + raw
        convertors = {name: kind or "str" for name, kind in _CONVERTOR.findall(full)}
        template = _CONVERTOR.sub(lambda m: "{" + m.group(1) + "}", full)
        for method in sorted(methods or {"GET"}):
            if method.lower() in HTTP_METHODS:
                yield RouteEntry(method.upper(), template, endpoint, convertors)


def is_framework_endpoint(endpoint: object) -> bool:
    module = getattr(endpoint, "__module__", None) or ""
    return module.split(".")[0] in FRAMEWORK_MODULES


def openapi_document(app: object) -> dict[str, Any] | None:
    """The app's OpenAPI document, through any middleware wrapping it (None when it has none)."""
    seen = 0
    target: Any = app
    while target is not None and seen < 32:
        openapi = getattr(target, "openapi", None)
        if callable(openapi):
            document = openapi()
            return document if isinstance(document, dict) else None
        target = getattr(target, "app", None)
        seen += 1
    return None


def build_plan(app: object, document: Mapping[str, Any] | None) -> list[Operation]:
    """Every operation the app serves, documented ones first, in the document's order."""
    entries = route_entries(app)
    endpoints = {(entry.method, entry.path): entry.endpoint for entry in entries}
    operations: list[Operation] = []
    seen: set[tuple[str, str]] = set()
    if document is not None:
        for operation in _from_document(document):
            operation.endpoint = endpoints.get((operation.method, operation.path))
            operations.append(operation)
            seen.add((operation.method, operation.path))
    for entry in entries:
        key = (entry.method, entry.path)
        if key in seen or is_framework_endpoint(entry.endpoint):
            continue
        seen.add(key)
        parameters = [
            Parameter(name, "path", True, _CONVERTOR_SCHEMAS.get(kind, {"type": "string"}))
            for name, kind in entry.convertors.items()
        ]
        operations.append(Operation(entry.method, entry.path, parameters, endpoint=entry.endpoint, documented=False))
    return operations


def _from_document(document: Mapping[str, Any]) -> Iterator[Operation]:
    from runtime_guard.probe.schema import Resolver, SchemaError

    resolver = Resolver(document)
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return
    for path, item in paths.items():
        item = resolver.resolve(item)
        if not isinstance(path, str) or not isinstance(item, Mapping):
            continue
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            spec = item.get(method)
            if not isinstance(spec, Mapping):
                continue
            try:
                parameters = _parameters([*shared, *(spec.get("parameters") or [])], resolver)
                body, unsupported = _body(spec.get("requestBody"), resolver)
            except SchemaError:
                parameters, body, unsupported = [], None, True
            yield Operation(method.upper(), path, parameters, body, unsupported)


def _parameters(raw: list[Any], resolver: Any) -> list[Parameter]:
    found: dict[tuple[str, str], Parameter] = {}
    for item in raw:
        item = resolver.resolve(item)
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        location = str(item.get("in", "query"))
        schema = item.get("schema")
        content = item.get("content")
        if schema is None and isinstance(content, Mapping) and content:
            first = next(iter(content.values()))
            schema = first.get("schema") if isinstance(first, Mapping) else None
        required = bool(item.get("required")) or location == "path"
        # Later (operation-level) declarations override path-level ones of the same name.
        found[(location, item["name"])] = Parameter(item["name"], location, required, schema if schema is not None else {})
    return list(found.values())


def _body(raw: Any, resolver: Any) -> tuple[Body | None, bool]:
    raw = resolver.resolve(raw)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("content"), Mapping) or not raw["content"]:
        return None, False
    content: Mapping[str, Any] = raw["content"]
    required = bool(raw.get("required"))
    for media_type in content:
        candidate = Body(str(media_type), (content[media_type] or {}).get("schema", {}), required)
        if candidate.is_json:
            return candidate, False
    for media_type in FORM_TYPES:
        if media_type in content:
            return Body(media_type, (content[media_type] or {}).get("schema", {}), required), False
    return None, True
