"""What an app is made of across modules: its routes, the routers it includes, its handlers.

The app-level rules (FAA304, FAA305, FAA401) must not judge ``main.py`` alone
when the health route, the catch-all handler or the limiter live in an
included module.  ``AppGraph`` collects, for one ``FastAPI(...)`` /
``Starlette(...)`` construction, everything registered on it in its module and
in the project modules its routers come from, and the apps it mounts (built in
its module, imported, or returned by a project factory: ``factory_app``).  The
same resolution answers the other way round, whether an app is mounted by
another (``mounted_apps``, ``mounted_elsewhere``).  What cannot be resolved is
recorded as ``unknown`` so the rules can stay silent instead of guessing.
"""

from __future__ import annotations

import ast
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from flake8_fastapi_antipatterns.analysis.app_model import AppModel, AppSite, model_of
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, is_lookup, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import parameter_names
from flake8_fastapi_antipatterns.analysis.project import ModuleInfo, ProjectIndex, Symbol

ROUTE_CLASSES = frozenset(
    {
        "starlette.routing.Route",
        "starlette.routing.WebSocketRoute",
        "fastapi.routing.APIRoute",
        "fastapi.routing.APIWebSocketRoute",
    }
)
MOUNT = "starlette.routing.Mount"
HOST = "starlette.routing.Host"
MOUNT_CLASSES = frozenset({MOUNT, HOST})
_MOUNT_NAMES = frozenset({"Mount", "Host"})
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
STATIC_FILES = frozenset({"starlette.staticfiles.StaticFiles", "fastapi.staticfiles.StaticFiles"})
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
    splatted: frozenset[str] | None = frozenset()
    """The keys the app's ``**mapping`` arguments pass (``_splatted_keywords``); None when unreadable."""
    mounts: int = 0
    """How many apps are mounted on the app (followed or not)."""
    mounted_paths: list[str] = field(default_factory=list)
    """The paths of ``paths`` that apps mounted on this one serve (they answer their own errors)."""
    unlisted_paths: list[str] = field(default_factory=list)
    """The paths of ``paths`` whose routes are left out of the API schema (``include_in_schema=False``:
    a redirect to the docs, a page), so not part of the API clients call."""

    @property
    def own_paths(self) -> list[str]:
        """The paths the app's own routes and included routers serve, mounted apps left out."""
        mounted = set(self.mounted_paths)
        return [path for path in self.paths if path not in mounted]

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


# Keyword arguments that add routes or middleware, which the graph cannot follow inside ``**``.
_STRUCTURAL_KEYWORDS = frozenset({"routes", "middleware"})


def _splatted_keywords(call: ast.Call, names: Names) -> frozenset[str] | None:
    """The keys a call's ``**mapping`` arguments pass (``FastAPI(**settings)``); None when one cannot be read.

    Readable: a dict display with string keys, or ``dict(title=...)``, written in the call or bound
    to a module-level name.  An empty set when the call has no ``**`` argument.
    """
    keys: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is not None:
            continue
        value = keyword.value
        if isinstance(value, ast.Name) and value.id in names.bindings:
            value = names.bindings[value.id]
        if isinstance(value, ast.Dict) and all(_string(key) is not None for key in value.keys):
            keys.update(_string(key) or "" for key in value.keys)
        elif (
            isinstance(value, ast.Call)
            and names.qualify(value.func) == "builtins.dict"
            and not value.args
            and all(k.arg is not None for k in value.keywords)
        ):
            keys.update(k.arg or "" for k in value.keywords)
        else:
            return None
    return frozenset(keys)


def build_app_graph(site: AppSite, names: Names, model: AppModel) -> AppGraph:
    splatted = _splatted_keywords(site.call, names)
    graph = AppGraph(site=site, splatted=splatted)
    if splatted is None or splatted & _STRUCTURAL_KEYWORDS:
        graph.unknown.append("the app's ** keyword arguments")
    seen: set[tuple[int, str | None]] = set()
    part = Part(names, model, site.name, "", site.name or "app")
    _add_part(graph, part, depth=0, seen=seen)
    _collect_route_list(graph, part, site.call, "", 0, seen)
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
            if _unlisted(route.keyword("include_in_schema")):
                graph.unlisted_paths.append(graph.paths[-1])
    graph.decorators.extend((part.names, decorator) for decorator in part.model.decorators_on(part.owner))
    for node in part.model.calls_on(part.owner):
        if not isinstance(node.func, ast.Attribute):
            continue
        graph.registrations.append((part.names, node))
        method = node.func.attr
        if method == "include_router" and node.args:
            if _parameter_of_caller(part.names, node, node.args[0]):
                # ``def _add_router(self, app, router): app.include_router(router)``: whichever router
                # the callers hand in, not the module's object that happens to share the name.
                graph.unknown.append(ast.unparse(node.args[0]))
                continue
            prefix = _string(_keyword(node, "prefix")) or ""
            _include(graph, part, node.args[0], _join(part.prefix, prefix), depth, seen)
        elif method in ("add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route") and node.args:
            path = _string(node.args[0])
            if path is not None:
                graph.paths.append(_join(part.prefix, path))
                if _unlisted(_keyword(node, "include_in_schema")):
                    graph.unlisted_paths.append(graph.paths[-1])
        elif method == "mount":
            mount_path, target = _mount_target(node)
            if target is None:
                graph.mounts += 1
                graph.unknown.append("a mount")
            else:
                _mount(graph, part, node, target, _join(part.prefix, mount_path), depth, seen)


def _parameter_of_caller(names: Names, call: ast.Call, argument: ast.expr) -> bool:
    """Whether ``argument`` is a name the def that ``call`` is written in takes as a parameter."""
    if not isinstance(argument, ast.Name):
        return False
    func = names.nodes.call_written_in(call)
    return func is not None and argument.id in parameter_names(func)


def _unlisted(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def _mount_target(call: ast.Call) -> tuple[str, ast.expr | None]:
    """The path and the app of ``x.mount(path, app)`` or ``Mount(path, app=...)``, positional or by keyword."""
    path = _string(call.args[0]) if call.args else _string(_keyword(call, "path"))
    target = call.args[1] if len(call.args) > 1 else _keyword(call, "app")
    return path or "", target


def _mount(
    graph: AppGraph, part: Part, call: ast.Call, target: ast.expr, prefix: str, depth: int, seen: set[tuple[int, str | None]]
) -> None:
    """An app (or router) mounted at ``prefix`` by ``call``: followed when this module or a project module builds it.

    Only its routes count for the app it is mounted on (a health route or a limited
    route under the mount is served through it); its exception handlers do not, since
    a mounted app answers its own errors.
    """
    graph.mounts += 1
    where = _mounted_part(part, call, target) if depth < MAX_INCLUDE_DEPTH else None
    if where is None:
        graph.unknown.append(f"the app mounted at {prefix or '?'}")
        return
    names, model, name, built = where
    if name is not None and (id(names.tree), name) in seen:
        return  # already part of this app (an app mounted in itself, or two apps mounted in each other)
    label = name if names is part.names and name is not None else ast.unparse(target)
    host = _mount_target(call)[0] if part.names.qualify(call.func) == HOST else ""
    how = f"routed for host {host}" if host else f"mounted at {prefix or '/'}"
    mounted_part = Part(names, model, name, "", f"{label} ({how})")
    mounted = AppGraph(site=graph.site)
    _add_part(mounted, mounted_part, depth + 1, seen)
    for construction in [built] if built is not None else [site.call for site in model.apps if site.name == name]:
        _collect_route_list(mounted, mounted_part, construction, "", depth + 1, seen)
    graph.parts.extend(mounted.parts)
    served = [_join(prefix, path) for path in mounted.paths]
    graph.paths.extend(served)
    graph.mounted_paths.extend(served)
    graph.unknown.extend(mounted.unknown)


def _mounted_part(part: Part, call: ast.Call, target: ast.expr) -> tuple[Names, AppModel, str | None, ast.Call | None] | None:
    """Where the app or router ``target`` (mounted by ``call`` in ``part``'s module) is built, and its name there.

    In this module (``admin = FastAPI()`` above the mount), in a project module it
    imports (``from .admin import app as admin_app``, ``admin.app``), or by a project
    factory (``ui = create_ui_app()``: ``factory_app``); None when it is none of these.
    The last item is the construction of a factory's app (whose routes list is read),
    None when the app is known by its name.
    """
    if isinstance(target, ast.Name) and part.model.owner_kind(target) is not None:
        return part.names, part.model, target.id, None
    symbol = _project_construction(part.names, target)
    if symbol is not None:
        model = model_of(symbol.module)
        if any(site.name == symbol.name and site.call is symbol.node for site in model.sites):
            return symbol.module.names, model, symbol.name, None
    built = factory_app(part.names, part.model, target, part.names.nodes.call_written_in(call))
    if built is None:
        return None
    return built.names, built.model, built.site.name, built.site.call


@dataclass(frozen=True)
class FactoryApp:
    """An app a project function builds and returns, as a mount target gets it."""

    names: Names
    model: AppModel
    """The factory's module."""
    factory: FunctionNode
    site: AppSite


def factory_app(names: Names, model: AppModel, target: ast.expr, where: FunctionNode | None) -> FactoryApp | None:
    """The app a mount target gets from a project factory: ``mount("/", create_ui_app())``, or a name
    bound to such a call in ``where`` (the def the mount is written in; None for module level).

    The factory is a project function, in this module or another, whose every ``return`` gives
    the same ``FastAPI(...)``/``Starlette(...)`` it builds (``returned_app``).
    """
    value: ast.expr | None = target
    if isinstance(target, ast.Name):
        value = names.scope(where).values.get(target.id) if where is not None else names.bindings.get(target.id)
    if not isinstance(value, ast.Call):
        return None
    scope = names.scope(where) if where is not None else None
    found = names.resolve_function(value.func, scope)
    if found is None:
        return None
    factory_names, factory = found
    factory_model = model
    if factory_names is not names:
        symbol = names.project_symbol(value.func)
        if symbol is None or symbol.node is not factory:
            return None
        factory_model = model_of(symbol.module)
    site = returned_app(factory_names, factory_model, factory)
    return None if site is None else FactoryApp(factory_names, factory_model, factory, site)


def returned_app(names: Names, model: AppModel, func: FunctionNode) -> AppSite | None:
    """The app ``func`` builds and returns: every ``return`` gives the same ``FastAPI(...)`` construction
    written in it, itself or through a name bound to it. A ``return`` of a look-up (``cache[key]``,
    ``cache.get(key)``: an app built by an earlier call) agrees with any."""
    sites = {id(site.call): site for site in model.apps}
    scope = names.scope(func)
    found: AppSite | None = None
    for node in walk_shallow(func):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value: ast.expr | None = node.value
        if isinstance(value, ast.Name):
            value = scope.values.get(value.id)
        site = sites.get(id(value)) if value is not None else None
        if site is None:
            if is_lookup(node.value):
                continue
            return None
        if found is not None and found is not site:
            return None
        found = site
    return found


def _project_construction(names: Names, expr: ast.expr) -> Symbol | None:
    """The project-module name ``expr`` refers to (``from .admin import app``), when it is bound to a call there."""
    resolver = names.resolver
    dotted = names.qualify(expr)
    if resolver is None or dotted is None:
        return None
    symbol = resolver.symbol(dotted)
    return symbol if symbol is not None and isinstance(symbol.node, ast.Call) else None


def _is_mount_call(call: ast.Call, names: Names) -> bool:
    """``x.mount(path, app)``, ``Mount(path, app=...)`` or ``Host(host, app=...)``."""
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr == "mount") or (
        names.may_name(func, _MOUNT_NAMES) and names.qualify(func) in MOUNT_CLASSES
    )


def mount_calls(names: Names) -> list[tuple[ast.Call, FunctionNode | None]]:
    """The module's ``x.mount(path, app)``, ``Mount(path, app=...)`` and ``Host(host, app=...)`` calls,
    each with the def it is written in (None at module level)."""
    known = _MOUNT_CALLS.get(names.tree)
    if known is None:
        known = _MOUNT_CALLS[names.tree] = (
            [
                (call, where)
                for call, where in names.nodes.written_in(ast.Call)
                if isinstance(call, ast.Call) and _is_mount_call(call, names)
            ]
            if {"mount", *_MOUNT_NAMES} & names.nodes.identifiers
            else []
        )
    return known


# A module's mount calls, found once per parsed tree: each app of the module asks while its graph is built.
_MOUNT_CALLS: weakref.WeakKeyDictionary[ast.Module, list[tuple[ast.Call, FunctionNode | None]]] = weakref.WeakKeyDictionary()


# What each mounting file mounts: (real path of the module, name) of every project app or router,
# worked out once per version of the file (its parsed module, which the index re-reads when the
# file changes; held weakly, so that a module the index dropped is not kept): every app module of a
# project may ask.
_MOUNTED_BY_FILE: dict[str, tuple[weakref.ref[ModuleInfo], frozenset[tuple[str, str]]]] = {}
_MAX_MOUNT_MEMOS = 512


def mounted_elsewhere(site: AppSite, model: AppModel, skip: Callable[[str], bool]) -> bool | None:
    """Whether another module of the project mounts the app ``site`` builds (``main.mount("/admin", admin.app)``).

    Such an app is served, probed and rate-limited through the app that mounts it, as one
    mounted in its own module is (``mounted_apps``).  Files for which ``skip`` is true (test
    modules) do not count.  None when the project could not be searched whole.
    """
    resolver = model.names.resolver
    if resolver is None:
        return False
    keys = _mount_keys(site, model)
    if not keys:
        return False
    index = resolver.index
    files = index.mounting_files(resolver.filename)
    if files is None:
        return None
    own = index.real_path(resolver.filename)
    # An import of the module names it: ``from .admin import app``, ``import app.admin``, ``from . import admin``
    # (a package's own name for its ``__init__.py``).  Only the files whose imports hold that word are parsed.
    stem = os.path.splitext(os.path.basename(own))[0]
    module_name = os.path.basename(os.path.dirname(own)) if stem == "__init__" else stem
    for path, words in files.items():
        if module_name not in words or skip(path) or index.real_path(path) == own:
            continue
        module = index.module(path)
        if module is None:
            continue
        known = _MOUNTED_BY_FILE.get(path)
        if known is None or known[0]() is not module:
            if len(_MOUNTED_BY_FILE) >= _MAX_MOUNT_MEMOS:
                _MOUNTED_BY_FILE.clear()
            known = _MOUNTED_BY_FILE[path] = (weakref.ref(module), _mounted_by(module, index))
        if any((own, key) in known[1] for key in keys):
            return True
    return False


def _mount_keys(site: AppSite, model: AppModel) -> list[str]:
    """How a mount in another module names the app ``site`` builds (``_mounted_by``): its name, and
    ``factory()`` when a module-level function of its module builds and returns it."""
    names = model.names
    keys = [site.name] if site.name is not None else []
    where = names.nodes.call_written_in(site.call)
    if where is not None and names.functions.get(where.name) is where and returned_app(names, model, where) is site:
        keys.append(f"{where.name}()")
    return keys


def _mounted_by(module: ModuleInfo, index: ProjectIndex) -> frozenset[tuple[str, str]]:
    """(real path of the module, name) of every project app or router that ``module`` mounts: the name
    it is bound to there, or ``factory()`` for the app a project factory returns (``_mount_keys``)."""
    mounted: set[tuple[str, str]] = set()
    model = model_of(module)
    for call, where in mount_calls(module.names):
        target = _mount_target(call)[1]
        if target is None:
            continue
        symbol = _project_construction(module.names, target)
        if symbol is not None:
            mounted.add((index.real_path(symbol.module.path), symbol.name))
        built = factory_app(module.names, model, target, where)
        resolver = built.names.resolver if built is not None else None
        if built is not None and resolver is not None:
            mounted.add((index.real_path(resolver.filename), f"{built.factory.name}()"))
    return frozenset(mounted)


def _include(graph: AppGraph, part: Part, router: ast.expr, prefix: str, depth: int, seen: set[tuple[int, str | None]]) -> None:
    """Add the router ``router`` (an expression in ``part``'s module) to the graph."""
    label = ast.unparse(router) if isinstance(router, (ast.Name, ast.Attribute)) else "a router"
    if isinstance(router, ast.Name) and part.model.owner_kind(router) == "router":
        _add_part(graph, Part(part.names, part.model, router.id, prefix, label), depth + 1, seen)
        return
    symbol = _project_construction(part.names, router)
    if symbol is None:
        graph.unknown.append(label)
        return
    module = symbol.module
    _add_part(graph, Part(module.names, model_of(module), symbol.name, prefix, label), depth + 1, seen)


def _collect_route_list(graph: AppGraph, part: Part, call: ast.Call, prefix: str, depth: int, seen: set[tuple[int, str | None]]) -> None:
    """Starlette-style ``routes=[Route("/health", ...), Mount("/api", routes=[...])]``."""
    names = part.names
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
            # A host routes by the request's host name: what it serves keeps its paths.
            mount_path = _join(prefix, path or "") if kind == MOUNT else prefix
            if kind == MOUNT:
                _collect_route_list(graph, part, element, mount_path, depth, seen)
            target = _mount_target(element)[1]
            if target is not None:
                _mount(graph, part, element, target, mount_path, depth, seen)
        else:
            graph.unknown.append("a route entry")


def mounted_apps(model: AppModel) -> set[int]:
    """The app constructions (``id`` of their call) that another app or router of the module mounts.

    ``parent.mount("/v1", child)``, ``Mount("/v1", app=child)`` and ``Host("api.example.com",
    app=child)`` count when written in the same function as ``child = FastAPI()`` (or both at
    module level), or when ``child`` is what a factory of the module returns (``child =
    create_child()`` beside the mount, or ``mount("/v1", create_child())``): probes and rate
    limits reach ``child`` through the app it is mounted on, which follows the mount.
    """
    names = model.names
    if not model.apps:
        return set()
    mount_sites = mount_calls(names)
    if not mount_sites:
        return set()
    apps = [site for site in model.apps if site.name]
    app_names = {site.name for site in apps}
    calls = {id(site.call) for site in apps}
    written: dict[int, int] = {}
    for call, where in names.nodes.written_in(ast.Call):
        if id(call) in calls:
            written[id(call)] = id(where)
    mounts: set[tuple[int, str]] = set()
    built: set[int] = set()
    for call, where in mount_sites:
        target = _mount_target(call)[1]
        if isinstance(target, ast.Name) and target.id in app_names:
            mounts.add((id(where), target.id))
        factory = factory_app(names, model, target, where) if target is not None else None
        if factory is not None and factory.model is model:
            built.add(id(factory.site.call))
    return built | {id(site.call) for site in apps if (written.get(id(site.call)), site.name) in mounts}


def serves_front_end(graph: AppGraph) -> bool:
    """Whether the app serves a built browser front end: ``app.frontend("/", directory="dist")``, or a
    ``StaticFiles(directory=..., html=True)`` mount (a site, answered with its ``index.html``)."""
    for names, call in graph.registrations:
        if not isinstance(call.func, ast.Attribute):
            continue
        if call.func.attr == "frontend":
            return True
        if call.func.attr == "mount":
            target = _mount_target(call)[1]
            if isinstance(target, ast.Call) and names.qualify(target.func) in STATIC_FILES:
                html = _keyword(target, "html")
                if isinstance(html, ast.Constant) and html.value is True:
                    return True
    return False


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
