"""FAA302: request bodies that reach a route handler without a schema.

Two shapes: a body parameter whose type says nothing (``payload: dict``,
``Any`` with ``Body()``, ``list[dict]``), and a handler that reads
``await request.json()`` / ``body()`` / ``form()`` itself.

Judged by where the value goes: a body checked by a model or schema right away
(``Item(**payload)``, ``Item.model_validate(data)``, a ``validate``/``verify``
call), passed on unchanged to another service (``json=payload``,
``content=body``: a pass-through proxy), or read only to pre-buffer it
(``await request.form()`` as a statement) is not a finding.

Which parameter is a body follows FastAPI's own rule: an explicit ``Body()``
marker, or no marker at all on a non-scalar type that is not a path
parameter.  ``Depends``/``Security`` and ``Query``/``Path``/``Header``/
``Cookie``/``Form``/``File`` markers are not JSON bodies, and a marker we
cannot identify (a call into another module) keeps the rule silent.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.app_model import Route
from flake8_fastapi_antipatterns.analysis.names import (
    FunctionNode,
    Names,
    annotated_extras,
    unwrap_annotation,
    walk_shallow,
)
from flake8_fastapi_antipatterns.rules import Checker, register

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
# Calls that only re-shape the raw body on its way to a validator.
PASS_THROUGH = frozenset(
    {"json.loads", "orjson.loads", "ujson.loads", "yaml.safe_load", "yaml.load", "yaml.full_load", "tomllib.loads"}
)
# Name words that say a call checks what it is given (a schema, a webhook signature).
VALIDATING_WORDS = frozenset({"validate", "validator", "valid", "verify", "signature", "hmac"})
VALIDATING_METHODS = frozenset({"construct_event", "parse_obj", "parse_raw"})
NOT_MODELS = ("fastapi.", "starlette.", "builtins.")
NON_BODY_ROUTES = frozenset({"route", "add_route", "websocket", "websocket_route", "add_websocket_route"})
# Keywords of an outbound call that send a value on as the request's body.
FORWARDING_KEYWORDS = frozenset({"json", "content", "data", "body"})
_PATH_PARAM = re.compile(r"{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^}]*)?}")
_MAX_DEPTH = 6


@dataclass
class BodyParam:
    arg: ast.arg
    shown: str
    """The parameter as the message shows it, closing backtick included: ``payload: dict` ``."""
    consequence: str


def _camel_case(name: str) -> bool:
    return name[:1].isupper() and not name.isupper() and "_" not in name


def _is_name(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # unparse is not total over odd trees
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
            if self._opaque_values(inner):
                return "any JSON object is accepted unchecked"
            return "any keys are accepted, with no schema and no bound on their number"
        if name in ANY_TYPES and any_counts and not isinstance(inner, ast.Subscript):
            return "any JSON value is accepted unchecked"
        if name in SEQUENCE_TYPES and isinstance(inner, ast.Subscript) and not isinstance(inner.slice, ast.Tuple):
            element = self.inner_type(inner.slice)
            if element is not None and self._type_name(element) in MAPPING_TYPES | ANY_TYPES:
                return "its items are accepted unchecked"
        return None

    def _opaque_values(self, mapping: ast.expr) -> bool:
        """True for ``dict``, ``dict[str, Any]``, ``dict[str, dict]``: values of any shape."""
        if not isinstance(mapping, ast.Subscript):
            return True
        parameters = mapping.slice.elts if isinstance(mapping.slice, ast.Tuple) else [mapping.slice]
        value = self.inner_type(parameters[-1]) if parameters else None
        if value is None:
            return False
        return self._type_name(value) in MAPPING_TYPES | ANY_TYPES and self._opaque_values(value)

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
        types = _Types(self.ctx.names)
        for route in self.ctx.model.routes:
            if route.is_websocket or _registered_as(route) in NON_BODY_ROUTES:
                continue  # Starlette-style endpoints and websockets have no body parameters
            name = route.func.name
            for body in self._body_params(route, types):
                self.ctx.report(
                    "FAA302",
                    body.arg,
                    f"route handler `{name}` takes its request body as `{body.shown}, so {body.consequence}",
                    parameter=body.arg.arg,
                    handler=name,
                )
            for read, shown in self._raw_reads(route.func, types):
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
        defaults: dict[int, ast.expr] = {}
        for arg, default in zip(reversed(positional), reversed(args.defaults)):
            defaults[id(arg)] = default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
            if kw_default is not None:
                defaults[id(arg)] = kw_default
        in_path = _path_params(route)
        found: list[BodyParam] = []
        nodes: list[ast.AST] | None = None
        for arg in [*positional, *args.kwonlyargs]:
            default_kind = types.marker(defaults.get(id(arg)))
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
                if self._name_validated(arg.arg, nodes) or self._name_forwarded(arg.arg, nodes):
                    continue  # checked by a model or schema right away, or passed on as it came
                found.append(BodyParam(arg, f"{arg.arg}: {_short(arg.annotation)}`", consequence))
        return found

    @staticmethod
    def _name_forwarded(name: str, nodes: list[ast.AST]) -> bool:
        """The body is passed on unchanged to another service (``client.post(url, json=payload)``,
        ``content=body``): a pass-through proxy, where the service behind it does the checking."""
        for node in nodes:
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in FORWARDING_KEYWORDS and _is_name(keyword.value, name):
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
                if not self._validated(node, parents, nodes):
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
                if self._is_validator(parent):
                    return True
                if self.ctx.names.qualify(parent.func) in PASS_THROUGH:
                    node = parent
                    continue
                return False
            if isinstance(parent, (ast.Assign, ast.AnnAssign)):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    name = targets[0].id
                    return self._name_validated(name, nodes) or self._name_forwarded(name, nodes)
            return False
        return False

    def _name_validated(self, name: str, nodes: list[ast.AST], depth: int = 0) -> bool:
        """The variable holding the body goes into a check, or is turned into a value that does.

        ``raw = await request.body(); data = yaml.safe_load(raw); Item.model_validate(data)``;
        ``schema = preprocess(payload); is_valid_schema(schema)``.
        """
        for node in nodes:
            if isinstance(node, ast.Call) and self._is_validator(node):
                values = [*node.args, *(k.value for k in node.keywords)]
                for value in values:
                    inner = value.value if isinstance(value, ast.Starred) else value
                    if isinstance(inner, ast.Name) and inner.id == name:
                        return True
            elif (
                depth < _MAX_DEPTH
                and isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id != name
                and isinstance(node.value, ast.Call)
                and any(isinstance(a, ast.Name) and a.id == name for a in node.value.args)
                and self._name_validated(node.targets[0].id, nodes, depth + 1)
            ):
                return True
        return False

    def _is_validator(self, call: ast.Call) -> bool:
        callee = call.func
        short = callee.attr if isinstance(callee, ast.Attribute) else callee.id if isinstance(callee, ast.Name) else ""
        lowered = short.lower()
        if lowered.startswith("model_validate") or lowered in VALIDATING_METHODS:
            return True
        if set(lowered.split("_")) & VALIDATING_WORDS:
            return True
        qualified = self.ctx.names.qualify(callee)
        if qualified is not None and qualified.split(".")[0] in ("hmac", "hashlib"):
            return True
        # Constructing a model from the data validates it: ``Item(**data)``, ``Valves(**form)``
        # with ``Valves`` a model class the code looked up (a CamelCase name).
        if isinstance(callee, ast.Name) and (
            callee.id in self.ctx.names.classes or (_camel_case(callee.id) and callee.id not in self.ctx.names.imports)
        ):
            return True
        return (
            qualified is not None
            and not qualified.startswith(NOT_MODELS)
            and qualified.rsplit(".", 1)[-1][:1].isupper()
        )
