"""What one module declares to FastAPI: apps, routers, and route handlers."""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names
from flake8_fastapi_antipatterns.analysis.nodes import last_name
from flake8_fastapi_antipatterns.analysis.project import ModuleInfo

HTTP_METHODS = frozenset({"get", "post", "put", "delete", "patch", "options", "head", "trace"})
ROUTE_DECORATORS = HTTP_METHODS | {"api_route", "route", "websocket", "websocket_route"}
APP_CLASSES = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "starlette.applications.Starlette",
    }
)
ROUTER_CLASSES = frozenset(
    {
        "fastapi.APIRouter",
        "fastapi.routing.APIRouter",
        "starlette.routing.Router",
    }
)


@dataclass
class AppSite:
    """A ``FastAPI(...)``/``Starlette(...)`` or ``APIRouter(...)`` construction."""

    call: ast.Call
    kind: str
    """"app" or "router"."""
    name: str | None
    """The module-level name it is bound to, if any."""


@dataclass
class Route:
    func: FunctionNode
    owner: str | None
    """The app/router variable the route is registered on (``app`` in ``@app.get``)."""
    methods: tuple[str, ...]
    path: str | None
    registration: ast.expr
    """The decorator call (or ``add_api_route`` call) that registers it."""

    @property
    def is_websocket(self) -> bool:
        return any(m.startswith("websocket") for m in self.methods)

    def keyword(self, name: str) -> ast.expr | None:
        if isinstance(self.registration, ast.Call):
            for keyword in self.registration.keywords:
                if keyword.arg == name:
                    return keyword.value
        return None


def _constant_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


_SITE_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in APP_CLASSES | ROUTER_CLASSES)


def _class_of(call: ast.Call, names: Names) -> str | None:
    if not names.may_name(call.func, _SITE_NAMES):
        return None
    qualified = names.qualify(call.func)
    if qualified in APP_CLASSES:
        return "app"
    if qualified in ROUTER_CLASSES:
        return "router"
    return None


def _factory_result_name(factory: str, assigned: list[tuple[ast.Call, str]]) -> str | None:
    """The one name this module binds what the factory ``factory`` returns to (``fastapi_app =
    self._make_app(...)`` for ``def _make_app(self): return FastAPI(...)``): the app a factory returns
    bare is configured under that name (its handlers, routers and middleware), so it is judged by it.
    None when no call binds it, or calls bind it to different names."""
    found = {
        name
        for call, name in assigned
        if (isinstance(call.func, ast.Name) and call.func.id == factory)
        or (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == factory
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in ("self", "cls")
        )
    }
    return found.pop() if len(found) == 1 else None


class AppModel:
    """Apps, routers and routes of one module, computed once per file."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.sites: list[AppSite] = []
        self.routes: list[Route] = []
        self._route_by_func: dict[int, Route] = {}
        self._owner_kinds: dict[str, str] = {}
        self._owner_uses: tuple[dict[str, list[ast.Call]], dict[str, list[ast.Call]]] | None = None
        self._collect_sites()
        self._collect_routes()

    @property
    def apps(self) -> list[AppSite]:
        return [s for s in self.sites if s.kind == "app"]

    @property
    def routers(self) -> list[AppSite]:
        return [s for s in self.sites if s.kind == "router"]

    def _collect_sites(self) -> None:
        bound: dict[int, str] = {}
        assigned: list[tuple[ast.Call, str]] = []
        nodes = self.names.nodes
        for node in nodes.each(ast.Assign, ast.AnnAssign):
            if isinstance(node.value, ast.Call):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        bound[id(node.value)] = target.id
                    elif isinstance(target, ast.Attribute):
                        bound[id(node.value)] = target.attr
                    if id(node.value) in bound:
                        assigned.append((node.value, bound[id(node.value)]))
        returned_by: dict[int, str] | None = None
        for call in nodes.of(ast.Call):
            kind = _class_of(call, self.names)
            if kind:
                name = bound.get(id(call))
                if name is None and kind == "app":
                    if returned_by is None:
                        returned_by = {
                            id(ret.value): func.name
                            for ret, func in nodes.written_in(ast.Return)
                            if func is not None and isinstance(ret, ast.Return) and isinstance(ret.value, ast.Call)
                        }
                    factory = returned_by.get(id(call))
                    if factory is not None:
                        name = _factory_result_name(factory, assigned)
                self.sites.append(AppSite(call=call, kind=kind, name=name))
                if name:
                    self._owner_kinds[name] = kind
        self.sites.sort(key=lambda s: (s.call.lineno, s.call.col_offset))

    def _uses(self) -> tuple[dict[str, list[ast.Call]], dict[str, list[ast.Call]]]:
        # One pass for every app of the module: a test file builds dozens of apps, each
        # including the module's routers, and each of those used to walk the whole tree.
        if self._owner_uses is None:
            calls: dict[str, list[ast.Call]] = {}
            decorators: dict[str, list[ast.Call]] = {}
            nodes = self.names.nodes
            for definition in nodes.each(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                for decorator in definition.decorator_list:  # type: ignore[attr-defined]  # all three kinds have it
                    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute):
                        owner = owner_name(decorator.func.value)
                        if owner is not None:
                            decorators.setdefault(owner, []).append(decorator)
            for call in nodes.of(ast.Call):
                if isinstance(call.func, ast.Attribute):
                    owner = owner_name(call.func.value)
                    if owner is not None:
                        calls.setdefault(owner, []).append(call)
            self._owner_uses = (calls, decorators)
        return self._owner_uses

    def calls_on(self, owner: str) -> list[ast.Call]:
        """Method calls on a name (``app.include_router(...)``), anywhere in the module, in walk order."""
        return self._uses()[0].get(owner, [])

    def decorators_on(self, owner: str) -> list[ast.Call]:
        """Decorator calls on a name (``@app.exception_handler(...)``), in walk order."""
        return self._uses()[1].get(owner, [])

    def owner_kind(self, owner: ast.expr) -> str | None:
        """"app"/"router" when ``owner`` is a name this module binds to one."""
        if isinstance(owner, ast.Name):
            return self._owner_kinds.get(owner.id)
        if isinstance(owner, ast.Attribute):
            return self._owner_kinds.get(owner.attr)
        return None

    def _registration(self, decorator: ast.expr) -> tuple[str | None, tuple[str, ...], str | None] | None:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            return None
        attr = decorator.func.attr
        if attr not in ROUTE_DECORATORS:
            return None
        path = _constant_str(decorator.args[0]) if decorator.args else None
        for keyword in decorator.keywords:
            if keyword.arg == "path":
                path = _constant_str(keyword.value)
        owner_node = decorator.func.value
        known_owner = self.owner_kind(owner_node) is not None
        # An owner imported from another module is unknown here; a path-shaped
        # first argument is then what tells a route from any other ``.get(...)``.
        if not known_owner and (path is None or not (path == "" or path.startswith("/"))):
            return None
        owner = owner_node.id if isinstance(owner_node, ast.Name) else None
        if attr in HTTP_METHODS:
            methods: tuple[str, ...] = (attr.upper(),)
        elif attr in ("api_route", "route"):
            methods = _methods_keyword(decorator) or ("GET",)
        else:
            methods = (attr,)
        return owner, methods, path

    def _collect_routes(self) -> None:
        functions: dict[str, FunctionNode] = {}
        nodes = self.names.nodes
        for node in nodes.of(ast.FunctionDef, ast.AsyncFunctionDef):
            functions.setdefault(node.name, node)
            for decorator in node.decorator_list:
                found = self._registration(decorator)
                if found:
                    self._add(Route(node, found[0], found[1], found[2], decorator))
                    break
        for call in nodes.of(ast.Call):
            # app.add_api_route("/x", handler, methods=[...])
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr in ("add_api_route", "add_route")
                and len(call.args) >= 2
                and isinstance(call.args[1], ast.Name)
                and call.args[1].id in functions
            ):
                func = functions[call.args[1].id]
                owner = call.func.value.id if isinstance(call.func.value, ast.Name) else None
                self._add(Route(func, owner, _methods_keyword(call) or ("GET",), _constant_str(call.args[0]), call))

    def _add(self, route: Route) -> None:
        if id(route.func) not in self._route_by_func:
            self._route_by_func[id(route.func)] = route
            self.routes.append(route)

    def route_for(self, func: FunctionNode) -> Route | None:
        return self._route_by_func.get(id(func))


def owner_name(node: ast.expr) -> str | None:
    """The name methods are called on: ``app`` in ``app.get``, ``router`` in ``self.router.get``."""
    return last_name(node)


def middleware_registration(node: ast.expr, owner: str | None = None) -> bool:
    """``<app>.middleware("http")``, the decorator Starlette registers function middleware with.

    With ``owner``, only on the app of that name (``app``, ``self.app``), whatever the argument:
    the app's name already tells the registration apart. Without, on anything, but only with the
    one literal argument ``"http"`` (the one middleware type Starlette accepts; by position or as
    ``middleware_type=``), which tells it
    apart from other libraries' ``.middleware(...)`` methods."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "middleware"):
        return False
    if owner is not None:
        return owner_name(node.func.value) == owner
    # The type given by position or by its keyword (``middleware(middleware_type="http")``).
    given = [*node.args, *(k.value for k in node.keywords if k.arg == "middleware_type")]
    return (
        len(given) == 1
        and len(node.args) + len(node.keywords) == 1
        and isinstance(given[0], ast.Constant)
        and given[0].value == "http"
    )


def _methods_keyword(call: ast.Call) -> tuple[str, ...] | None:
    for keyword in call.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, (ast.List, ast.Tuple, ast.Set)):
            methods = [_constant_str(e) for e in keyword.value.elts]
            return tuple(m.upper() for m in methods if m)
    return None


# Keyed weakly by the index's record of the module, which the model does not refer to: the model
# (and the module's ``Names`` it holds) goes when the index drops the module. Keyed by the
# ``Names`` it holds, an entry would keep its own key, and every module ever asked about, alive.
_MODELS: weakref.WeakKeyDictionary[ModuleInfo, AppModel] = weakref.WeakKeyDictionary()


def model_of(module: ModuleInfo) -> AppModel:
    """The apps, routers and routes of a project module the index parsed (built once per module)."""
    model = _MODELS.get(module)
    if model is None:
        model = _MODELS[module] = AppModel(module.names)
    return model
