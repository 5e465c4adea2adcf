"""FAA302: request bodies that reach a route handler without a schema.

Two shapes: a body parameter whose type says nothing (``payload: dict``,
``dict[str, Any]``, ``Any`` with ``Body()``, ``list[dict]``), and a handler
that reads ``await request.json()`` / ``body()`` / ``form()`` itself.  A map
with a declared value type (``dict[str, float]``) is typed, like ``list[float]``.

Judged by where the value goes: a body checked by a model or schema right away
(``Item(**payload)``, ``Item.model_validate(data)``, a ``validate``/``verify``
call), passed on unchanged to another service (``json=payload``,
``content=body``: a pass-through proxy), or read only to pre-buffer it
(``await request.form()`` as a statement) is not a finding.  Past those quick
looks, ``analysis/body_flow.py`` follows it into the project helpers it is
handed to (a proxy that reads a few keys, a helper that validates it) and
accepts a body read by fixed keys whose every value is checked before use.

Which parameter is a body follows FastAPI's own rule: an explicit ``Body()``
marker, or no marker at all on a non-scalar type that is not a path
parameter.  ``Depends``/``Security`` and ``Query``/``Path``/``Header``/
``Cookie``/``Form``/``File`` markers are not JSON bodies, and a marker we
cannot identify (a call into another module) keeps the rule silent.

A route the production app does not have (its router is put on the app only under a development
switch, ``analysis/serving.py``) is left out unless ``faa-scope = all``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.app_model import Route
from flake8_fastapi_antipatterns.analysis.body_flow import (
    PARSERS,
    BodyFlow,
    Flow,
    forwards,
    is_validator,
    name_validated,
)
from flake8_fastapi_antipatterns.analysis.classes import ProjectClass, lineage
from flake8_fastapi_antipatterns.analysis.names import (
    FunctionNode,
    Names,
    annotated_extras,
    unwrap_annotation,
    walk_shallow,
)
from flake8_fastapi_antipatterns.analysis.nodes import last_name
from flake8_fastapi_antipatterns.rules import Checker, register

# Base classes of a Pydantic model a body parameter may be declared as.
PYDANTIC_MODELS = frozenset({"BaseModel", "RootModel", "SQLModel"})
BODY_MARKERS = frozenset({"fastapi.Body", "fastapi.params.Body", "fastapi.param_functions.Body"})
OTHER_MARKERS = frozenset(
    f"{module}.{name}"
    for module in ("fastapi", "fastapi.params", "fastapi.param_functions")
    for name in ("Depends", "Security", "Query", "Path", "Header", "Cookie", "Form", "File")
)
# Metadata FastAPI ignores when it decides what a parameter is.
IGNORED_METADATA = frozenset({"pydantic.Field", "pydantic.fields.Field"})
MAPPING_TYPES = frozenset(
    {
        "builtins.dict",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "typing.OrderedDict",
        "typing.DefaultDict",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
    }
)
ANY_TYPES = frozenset({"typing.Any", "typing_extensions.Any", "builtins.object"})
SEQUENCE_TYPES = frozenset(
    {"builtins.list", "typing.List", "typing.Sequence", "collections.abc.Sequence", "builtins.set", "typing.Set"}
)
REQUEST_CLASSES = frozenset({"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"})
RAW_READS = frozenset({"json", "body", "form"})
NON_BODY_ROUTES = frozenset({"route", "add_route", "websocket", "websocket_route", "add_websocket_route"})
_PATH_PARAM = re.compile(r"{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^}]*)?}")
_MAX_DEPTH = 6


@dataclass
class BodyParam:
    arg: ast.arg
    shown: str
    """The parameter as the message shows it, closing backtick included: ``payload: dict` ``."""
    consequence: str


def _aliases_of(name: str, nodes: list[ast.AST]) -> set[str]:
    """``name`` and the names assigned from it unchanged (``outgoing = body``), transitively."""
    held = {name}
    assignments = [
        (node.targets[0].id, node.value.id)
        for node in nodes
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Name)
    ]
    changed = True
    while changed:
        changed = False
        for target, source in assignments:
            if source in held and target not in held:
                held.add(target)
                changed = True
    return held


def _passes(value: ast.expr, held: set[str]) -> bool:
    """A keyword's value that is one of ``held``, or picks one (``body if body else None``, ``body or None``)."""
    if isinstance(value, ast.Name):
        return value.id in held
    if isinstance(value, ast.IfExp):
        return _passes(value.body, held) or _passes(value.orelse, held)
    if isinstance(value, ast.BoolOp):
        return any(_passes(part, held) for part in value.values)
    return False


def _is_name(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # unparse is not total over odd trees
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_by_fields(read: ast.expr, func: FunctionNode, fields: set[str]) -> bool:
    """Whether the JSON ``read`` (``await request.json()``) is used only by keys in ``fields``:
    ``(await request.json())["run_id"]``, or ``payload = await request.json()`` and then only
    ``payload["run_id"]`` and ``payload.get("score")``."""
    if not (isinstance(read, ast.Await) and isinstance(read.value, ast.Call)):
        return False
    func_node = read.value.func
    if not (isinstance(func_node, ast.Attribute) and func_node.attr == "json"):
        return False
    holder: str | None = None
    for node in walk_shallow(func):
        if isinstance(node, ast.Subscript) and node.value is read:
            return _field_key(node.slice, fields)
        if isinstance(node, ast.Assign) and node.value is read:
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                return False
            holder = node.targets[0].id
    if holder is None:
        return False
    used: set[int] = set()
    for node in walk_shallow(func):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == holder:
            if not _field_key(node.slice, fields):
                return False
            used.add(id(node.value))
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == holder
        ):
            if not (node.args and _field_key(node.args[0], fields)):
                return False
            used.add(id(node.func.value))
    loads = [
        node for node in walk_shallow(func)
        if isinstance(node, ast.Name) and node.id == holder and isinstance(node.ctx, ast.Load)
    ]
    return bool(loads) and all(id(node) in used for node in loads)


def _field_key(key: ast.expr, fields: set[str]) -> bool:
    return isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value in fields


def _path_params(route: Route) -> set[str]:
    return set(_PATH_PARAM.findall(route.path)) if route.path else set()


def _registered_as(route: Route) -> str | None:
    registration = route.registration
    if isinstance(registration, ast.Call) and isinstance(registration.func, ast.Attribute):
        return registration.func.attr
    return None


class _Types:
    """Reading parameter annotations and markers the way FastAPI does."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def resolve_alias(self, annotation: ast.expr) -> ast.expr:
        """``Payload = dict[str, Any]`` then ``body: Payload`` -> ``dict[str, Any]``."""
        node = annotation
        for _ in range(_MAX_DEPTH):
            if not (isinstance(node, ast.Name) and node.id not in self.names.imports):
                break
            bound = self.names.bindings.get(node.id)
            if not isinstance(bound, (ast.Subscript, ast.Name, ast.Attribute, ast.BinOp)):
                break
            node = bound
        return node

    def inner_type(self, annotation: ast.expr) -> ast.expr | None:
        node: ast.expr | None = annotation
        for _ in range(_MAX_DEPTH):
            if node is None:
                return None
            resolved = self.resolve_alias(node)
            unwrapped = unwrap_annotation(resolved, self.names)
            if unwrapped is node:
                return node
            node = unwrapped
        return node

    def _type_name(self, node: ast.expr) -> str | None:
        target = node.value if isinstance(node, ast.Subscript) else node
        return self.names.qualify(target)

    def untyped(self, annotation: ast.expr, *, any_counts: bool) -> str | None:
        """What the type lets through without a schema, or None when it is a schema.

        ``Any`` counts only when ``any_counts`` (FastAPI reads a bare ``Any``
        parameter from the query string unless it is marked ``Body()``).
        """
        inner = self.inner_type(annotation)
        if inner is None:
            return None
        name = self._type_name(inner)
        if name in MAPPING_TYPES:
            # A declared value type (``dict[str, float]``, ``dict[str, JsonValue]``) makes a typed map,
            # its keys data rather than fields: as checked as ``list[float]``.
            return "any JSON object is accepted unchecked" if self._opaque_values(inner) else None
        if name in ANY_TYPES and any_counts and not isinstance(inner, ast.Subscript):
            return "any JSON value is accepted unchecked"
        if name in SEQUENCE_TYPES and isinstance(inner, ast.Subscript) and not isinstance(inner.slice, ast.Tuple):
            element = self.inner_type(inner.slice)
            if element is not None and self._type_name(element) in MAPPING_TYPES | ANY_TYPES and self._opaque(element):
                return "its items are accepted unchecked"
        return None

    def _opaque_values(self, mapping: ast.expr) -> bool:
        """True for ``dict``, ``dict[str, Any]``, ``dict[str, dict]``, ``dict[str, list[Any]]``: values of any shape."""
        if not isinstance(mapping, ast.Subscript):
            return True
        parameters = mapping.slice.elts if isinstance(mapping.slice, ast.Tuple) else [mapping.slice]
        value = self.inner_type(parameters[-1]) if parameters else None
        return value is not None and self._opaque(value)

    def _opaque(self, node: ast.expr) -> bool:
        """A type that says nothing about the shape of a value: ``Any``, ``dict``, ``list[dict]``."""
        name = self._type_name(node)
        if name in ANY_TYPES:
            return True
        if name in MAPPING_TYPES:
            return self._opaque_values(node)
        if name in SEQUENCE_TYPES and isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Tuple):
            item = self.inner_type(node.slice)
            return item is not None and self._opaque(item)
        return False

    def marker(self, expr: ast.expr | None, depth: int = 0) -> str | None:
        """"body", "other" (not a JSON body), "unknown" (a call we cannot see into), or None."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name) and expr.id not in self.names.imports and expr.id in self.names.bindings:
            return self.marker(self.names.bindings[expr.id], depth + 1)
        if not isinstance(expr, ast.Call):
            return None
        qualified = self.names.qualify(expr.func)
        if qualified in BODY_MARKERS:
            return "body"
        if qualified in OTHER_MARKERS:
            return "other"
        if qualified in IGNORED_METADATA:
            return None
        return "unknown"

    def annotation_marker(self, annotation: ast.expr) -> str | None:
        # FastAPI uses the last FastAPI marker in Annotated[...] metadata.
        kind: str | None = None
        for extra in annotated_extras(self.resolve_alias(annotation), self.names):
            found = self.marker(extra) if self._readable(extra) else "unknown"
            if found is not None:
                kind = found
        return kind

    def _readable(self, metadata: ast.expr) -> bool:
        """Metadata whose kind can be read here: a call, or a constant (FastAPI ignores those).

        Anything else (``deps[0]``, a local, an imported object) may well be a ``Depends``,
        so it is unknown and keeps the rule silent.
        """
        node = metadata
        for _ in range(_MAX_DEPTH):
            if not (isinstance(node, ast.Name) and node.id not in self.names.imports and node.id in self.names.bindings):
                break
            node = self.names.bindings[node.id]
        return isinstance(node, (ast.Call, ast.Constant, ast.JoinedStr))


@register
class ValidationChecker(Checker):
    codes = ("FAA302",)

    def run(self) -> None:
        if not self.ctx.imports_web_framework:
            return
        self.program = self.ctx.program
        self.flows = BodyFlow(self.program)
        types = _Types(self.ctx.names)
        for route in self.ctx.model.routes:
            if route.is_websocket or _registered_as(route) in NON_BODY_ROUTES:
                continue  # Starlette-style endpoints and websockets have no body parameters
            params = self._body_params(route, types)
            reads = self._raw_reads(route.func, types)
            if reads:
                fields = self._model_fields(route, types)
                if fields:
                    # FastAPI has parsed and validated the body into the model: a read of the same JSON by
                    # the model's own fields gets checked values back (keys the model drops do not count).
                    reads = [(read, shown) for read, shown in reads if not _read_by_fields(read, route.func, fields)]
            # Asked last: whether the route exists in production costs a search of the project.
            if not (params or reads) or self.ctx.serving.only_in_development(route.func):
                continue  # nothing to say, or a route only a development switch puts on the app
            name = route.func.name
            for body in params:
                self.ctx.report(
                    "FAA302",
                    body.arg,
                    f"route handler `{name}` takes its request body as `{body.shown}, so {body.consequence}",
                    parameter=body.arg.arg,
                    handler=name,
                )
            for read, shown in reads:
                self.ctx.report(
                    "FAA302",
                    read,
                    f"route handler `{name}` reads the raw body with `{shown}`, "
                    "so nothing checks its shape, types or size",
                    handler=name,
                )

    # -- body parameters ----------------------------------------------------
    def _body_params(self, route: Route, types: _Types) -> list[BodyParam]:
        func = route.func
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        defaults = self.ctx.names.scope(func).defaults
        in_path = _path_params(route)
        found: list[BodyParam] = []
        nodes: list[ast.AST] | None = None
        for arg in [*positional, *args.kwonlyargs]:
            default_kind = types.marker(defaults.get(arg.arg))
            annotated_kind = types.annotation_marker(arg.annotation) if arg.annotation is not None else None
            kinds = {default_kind, annotated_kind} - {None}
            if kinds & {"other", "unknown"}:
                continue
            explicit_body = "body" in kinds
            if arg.annotation is None:
                if explicit_body:
                    shown = f"{arg.arg}=Body(...)` with no type"
                    found.append(BodyParam(arg, shown, "any JSON value is accepted unchecked"))
                continue
            if not explicit_body and arg.arg in in_path:
                continue
            consequence = types.untyped(arg.annotation, any_counts=explicit_body)
            if consequence:
                if nodes is None:
                    nodes = list(walk_shallow(func))
                if name_validated(self.ctx.names, arg.arg, nodes) or self._name_forwarded(arg.arg, nodes):
                    continue  # checked by a model or schema right away, or passed on as it came
                if self._checked_elsewhere(self.flows.of_name(self.program.main, func, arg.arg)):
                    continue
                found.append(BodyParam(arg, f"{arg.arg}: {_short(arg.annotation)}`", consequence))
        return found

    def _model_fields(self, route: Route, types: _Types) -> set[str]:
        """The fields of the Pydantic model of the project's that the handler takes the body as
        (``request_body: UpsertEvaluationBody``: no ``Query``/``Depends``-like marker, not a path
        parameter, a class deriving from ``BaseModel``), its bases' included; empty when there is none."""
        func = route.func
        in_path = _path_params(route)
        defaults = self.ctx.names.scope(func).defaults
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            if arg.annotation is None or arg.arg in in_path:
                continue
            if {types.marker(defaults.get(arg.arg)), types.annotation_marker(arg.annotation)} - {None, "body"}:
                continue  # ``filters: Filters = Depends()``, ``Query()``: not the body
            inner = types.inner_type(arg.annotation)
            if not isinstance(inner, (ast.Name, ast.Attribute)):
                continue
            try:
                located = self.ctx.names.project_class(inner)
            except (RecursionError, ValueError, OSError):
                continue
            if located is None:
                continue
            line = lineage(ProjectClass(*located))
            if any(
                last_name(base.value if isinstance(base, ast.Subscript) else base) in PYDANTIC_MODELS
                for c in line
                for base in c.node.bases
            ):
                return {
                    stmt.target.id
                    for c in line
                    for stmt in c.node.body
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                }
        return set()

    def _checked_elsewhere(self, flow: Flow) -> bool:
        """Handed on whole to an outbound call or a check (here or in a helper), or checked field by field."""
        return flow.handed_on or self.flows.checked_by_field(flow)

    def _name_forwarded(self, name: str, nodes: list[ast.AST]) -> bool:
        """The body is passed on unchanged to another service (``client.post(url, json=payload)``,
        ``content=body``, also through an alias, ``outgoing = body``, or as one side of a choice,
        ``content=body if body else None``): a pass-through proxy, where the service behind it does
        the checking."""
        held = _aliases_of(name, nodes)
        for node in nodes:
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if _passes(keyword.value, held) and forwards(self.ctx.names, node, keyword.arg):
                        return True
        return False

    # -- raw reads ----------------------------------------------------------
    def _request_params(self, func: FunctionNode, types: _Types) -> set[str]:
        scope = self.ctx.names.scope(func)
        found: set[str] = set()
        for name, annotation in scope.annotations.items():
            if name not in scope.params or name in scope.values or name in scope.unknown:
                continue
            inner = types.inner_type(annotation)
            if inner is not None and self.ctx.names.qualify(inner) in REQUEST_CLASSES:
                found.add(name)
        return found

    def _raw_reads(self, func: FunctionNode, types: _Types) -> list[tuple[ast.expr, str]]:
        requests = self._request_params(func, types)
        if not requests:
            return []
        parents: dict[int, ast.AST] = {}
        nodes = list(walk_shallow(func))
        for node in nodes:
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
        reads: list[tuple[ast.expr, str]] = []
        for node in nodes:
            if isinstance(node, ast.Await) and self._is_raw_read(node.value, requests):
                if isinstance(parents.get(id(node)), ast.Expr):
                    continue  # ``await request.form()`` alone: it only pre-buffers the body for a library
                if self._validated(node, parents, nodes):
                    continue
                if not self._checked_elsewhere(self.flows.of_expression(self.program.main, func, node)):
                    reads.append((node, _short(node)))
            elif isinstance(node, ast.AsyncWith):
                # ``async with request.form() as form:`` (Starlette closes the upload files after).
                for item in node.items:
                    if self._is_raw_read(item.context_expr, requests):
                        reads.append((item.context_expr, f"async with {_short(item.context_expr)}"))
        return reads

    @staticmethod
    def _is_raw_read(expr: ast.expr, requests: set[str]) -> bool:
        return (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in RAW_READS
            and isinstance(expr.func.value, ast.Name)
            and expr.func.value.id in requests
            and not expr.args
            and not expr.keywords
        )

    def _validated(self, read: ast.expr, parents: dict[int, ast.AST], nodes: list[ast.AST]) -> bool:
        """True when the raw value goes straight into a schema or signature check."""
        node: ast.AST = read
        for _ in range(_MAX_DEPTH):
            parent = parents.get(id(node))
            if isinstance(parent, ast.keyword):
                node, parent = parent, parents.get(id(parent))
            if isinstance(parent, ast.Call) and node is not parent.func:
                if is_validator(self.ctx.names, parent):
                    return True
                if self.ctx.names.qualify(parent.func) in PARSERS:
                    node = parent
                    continue
                return False
            if isinstance(parent, (ast.Assign, ast.AnnAssign)):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    name = targets[0].id
                    return name_validated(self.ctx.names, name, nodes) or self._name_forwarded(name, nodes)
            return False
        return False
