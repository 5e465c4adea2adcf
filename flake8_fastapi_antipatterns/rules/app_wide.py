"""FAA304, FAA305, FAA401: what a whole app lacks (catch-all handler, rate limiter, health route).

Each is reported once per app, at the ``FastAPI(...)``/``Starlette(...)`` call,
and says what was looked for.  The app is followed into the routers it
includes and the apps it mounts, from its own module or other project modules
(``analysis/app_graph.py``); when an included router or mounted app cannot be
resolved, the codes it could satisfy stay silent rather than guess.  Mounts are
followed both ways by the same resolution (``app.mount``, ``Mount``, ``Host``;
the mounted app built in the module, imported, or returned by a project factory
the mounting code calls): the app at the root of a mount tree is judged with the
routes of every app mounted into it, and an app that another app mounts, in its
module or in another project module, is judged for FAA305 and FAA401 as part of
that tree, not on its own (finding the modules that mount it reads the project's
files once per run, and only for an app that would otherwise be reported).  Apps built in pytest modules (``test_*.py``,
``*_test.py``, ``conftest.py``) are test fixtures and are not judged at all.
"""

from __future__ import annotations

import ast
import re

from flake8_fastapi_antipatterns.analysis.app_graph import (
    AppGraph,
    build_app_graph,
    middleware_classes,
    mounted_apps,
    mounted_elsewhere,
    serves_front_end,
)
from flake8_fastapi_antipatterns.analysis.app_model import middleware_registration
from flake8_fastapi_antipatterns.analysis.classes import ProjectClass, class_index, find_method
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope
from flake8_fastapi_antipatterns.analysis.nodes import alternative_assignments, last_name
from flake8_fastapi_antipatterns.options import DEFAULT_HEALTH_PATHS
from flake8_fastapi_antipatterns.rules import Checker, register
from flake8_fastapi_antipatterns.rules.base import is_test_module

CATCH_ALL = frozenset({"builtins.Exception", "builtins.BaseException"})
LIMITER_MODULES = ("slowapi", "fastapi_limiter", "limits", "ratelimit", "starlette_ratelimit", "asgi_ratelimit", "pyrate_limiter")
# Identifiers that say "rate limit": RateLimitMiddleware, rate_limit, Limiter, throttle_requests.
LIMITER_WORDS = re.compile(r"rate_?limit|throttl|limiter", re.IGNORECASE)
# Limits on concurrency, not on a client's rate: ``limiter = anyio.to_thread.current_default_thread_limiter()``
# says "limiter" and protects nothing from a burst.
CONCURRENCY_LIMITERS = frozenset(
    {
        "anyio.CapacityLimiter",
        "anyio.to_thread.current_default_thread_limiter",
        "anyio.Semaphore",
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
    }
)
_CONCURRENCY_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in CONCURRENCY_LIMITERS)


def _is_catch_all(node: ast.expr, names: Names) -> bool:
    if isinstance(node, ast.Constant) and node.value == 500:
        return True
    return names.qualify(node) in CATCH_ALL


def _handler_keys(mapping: ast.expr | None, names: Names) -> list[ast.expr] | None:
    """Keys of an ``exception_handlers={...}`` dict; None when it is not a literal we can read."""
    if isinstance(mapping, ast.Name) and mapping.id in names.bindings:
        mapping = names.bindings[mapping.id]
    if isinstance(mapping, ast.Dict):
        return [key for key in mapping.keys if key is not None]
    return None


def _wraps_app_in_try(cls: ast.ClassDef | FunctionNode, names: Names) -> bool:
    """A pure ASGI (or dispatch-style) middleware class, or an ``@app.middleware("http")`` function,
    that catches ``Exception`` around the app (``await call_next(request)``)."""
    for node in ast.walk(cls):
        if isinstance(node, ast.Try):
            catches = any(
                (handler.type is None or _is_catch_all(handler.type, names)) and not _always_raises(handler.body)
                for handler in node.handlers
            )
            awaits_app = any(_calls_the_app(n) for stmt in node.body for n in ast.walk(stmt))
            if catches and awaits_app:
                return True
    return False


def _calls_the_app(node: ast.AST) -> bool:
    """``await self.app(scope, receive, send)`` or ``await call_next(request)``: the rest of the app, not
    some other awaited helper (looking up the user for an audit entry) that happens to sit in a ``try``."""
    if not (isinstance(node, ast.Await) and isinstance(node.value, ast.Call)):
        return False
    name = (last_name(node.value.func) or "").lower()
    return "app" in name or "next" in name


def _always_raises(body: list[ast.stmt]) -> bool:
    """A handler body that ends by raising on every path: it cleans up (rolls back, logs, notes the
    status) and lets the error go on, so it answers nothing itself."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _always_raises(last.body) and _always_raises(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _always_raises(last.body)
    return False


# Words that name a probe route anywhere in its path (``/api/v1/utils/health-check/``).
PROBE_WORDS = frozenset(
    {"health", "healthz", "healthcheck", "ready", "readyz", "readiness", "live", "livez", "liveness", "ping"}
)
# How many project functions an app is handed through before its registrations are out of sight.
MAX_REGISTRATION_DEPTH = 3
# Calls that add routes to the app they are made on.
ROUTE_REGISTRATIONS = ("include_router", "add_api_route", "add_route", "api_route", "mount")
OWN_ROUTE_REGISTRATIONS = ("include_router", "add_api_route", "add_route", "api_route")


def _names_a_probe(path: str) -> bool:
    """A path one of whose segments is a probe word, alone or joined (``health-check``, ``live_ness``)."""
    for segment in path.strip("/").split("/"):
        words = [w for w in re.split(r"[-_.]", segment.lower()) if w]
        if any(w in PROBE_WORDS for w in words) or "".join(words) in PROBE_WORDS:
            return True
    return False


def _class_node(expr: ast.expr, names: Names) -> tuple[Names, ast.ClassDef] | None:
    if isinstance(expr, ast.Name) and expr.id in names.classes:
        return names, names.classes[expr.id]
    return names.project_class(expr)


def _holds_concurrency_limit(names: Names, name: str) -> bool:
    """``name`` is a concurrency primitive's own name, or every binding of it holds one.

    A name bound to anything else, or in a way we do not model, may be a rate limiter.
    """
    if name in _CONCURRENCY_NAMES:
        return True
    values: list[tuple[ast.expr, Scope | None]] = []
    if name in names.bindings:
        values.append((names.bindings[name], None))
    elif name in names.imports or name in names.functions or name in names.classes:
        return False
    for func in names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
        scope = names.scope(func)
        if name in scope.values:
            values.append((scope.values[name], scope))
        elif name in scope.params or name in scope.unknown:
            return False
    if not values:
        return False
    return all((names.value_path(value, scope) or "").removesuffix("()") in CONCURRENCY_LIMITERS for value, scope in values)


def _callee(names: Names, func: ast.expr, call: ast.Call | None = None) -> tuple[Names, FunctionNode] | None:
    """The project ``def`` a call runs: a function, a method called on its class
    (``ErrorHandler.configure_app(app)``, a class method or static method), or a method of the
    class ``call`` is written in called on ``self``/``cls`` (``self._add_routes(app)``)."""
    found = names.resolve_function(func)
    if found is not None or not isinstance(func, ast.Attribute):
        return found
    if call is not None and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        written_in = names.nodes.call_written_in(call)
        own = class_index(names).class_of(written_in) if written_in is not None else None
        method = find_method(own, func.attr) if own is not None else None
        return (method[0].names, method[1]) if method is not None else None
    try:
        located = names.project_class(func.value)
    except (RecursionError, ValueError, OSError):
        return None
    method = find_method(ProjectClass(*located), func.attr) if located is not None else None
    return (method[0].names, method[1]) if method is not None else None


@register
class AppWideChecker(Checker):
    codes = ("FAA304", "FAA305", "FAA401")

    def run(self) -> None:
        if self.ctx.in_test_module:
            return  # apps a test module builds are fixtures: the deployed app is built elsewhere
        # Facts about a module that every app of it asks again (a module may build dozens of apps).
        self._passing: dict[str, list[ast.Call]] | None = None
        self._registers: dict[tuple[int, tuple[str, ...]], bool] = {}
        self._limiter_mentions: dict[int, bool] = {}
        self._mounted_elsewhere: dict[int, bool] = {}
        mounted = mounted_apps(self.ctx.model)
        stand_ins = self._unbound_and_not_returned()
        # ``if debug: app = FastAPI(debug=True) else: app = FastAPI()``: one app, judged at its first shape.
        alternatives = alternative_assignments(self.ctx.names.nodes) if len(self.ctx.model.apps) > 1 else set()
        for site in self.ctx.model.apps:
            if id(site.call) in alternatives:
                continue
            graph = build_app_graph(site, self.ctx.names, self.ctx.model)
            if id(site.call) in stand_ins and not (graph.paths or graph.unknown):
                # ``proxy_startup_event(FastAPI())``, ``{"app": FastAPI()}``: an app bound to no name and
                # not returned, with no routes, can be given none: a stand-in, not a service (a factory's
                # ``return FastAPI()`` is still judged: its caller adds the routes).
                continue
            probes_only = bool(graph.paths) and not graph.unknown and all(_names_a_probe(p) for p in graph.paths)
            # Besides what it mounts, at most routes left out of the API schema (a redirect to the
            # docs, a page): the API lives in the mounted apps.
            unlisted = set(graph.unlisted_paths)
            only_mounts = bool(graph.mounts) and all(path in unlisted for path in graph.own_paths)
            # ``configure_routes(app)``: routes added out of sight (a helper that only mounts adds none).
            if probes_only and self._app_passed_to_project_function(graph, *ROUTE_REGISTRATIONS):
                probes_only = False
            if only_mounts and self._app_passed_to_project_function(graph, *OWN_ROUTE_REGISTRATIONS):
                only_mounts = False
            # An app that only mounts others has no route of its own to fail: each mounted app answers
            # its own errors. A probe-only app (``/health`` answering from a flag) has nothing to catch
            # and nothing a rate limit should refuse: an orchestrator calls it.
            # A browser front end mounted into the app that serves the API: its pages and files fail as
            # pages, and no client of it parses an error body (the API's own app is judged).
            front_end = serves_front_end(graph) and (id(site.call) in mounted or self._served_through_another_app(graph))
            if not probes_only and not only_mounts and not front_end:
                self._check_exception_handler(graph)
            if id(site.call) in mounted:
                continue  # probed and rate-limited through the app it is mounted on, which follows the mount
            if not probes_only:
                self._check_rate_limit(graph)
            self._check_health(graph)

    def _unbound_and_not_returned(self) -> set[int]:
        """The app constructions (``id`` of their call) bound to no name and not returned by a factory."""
        unbound = {id(site.call) for site in self.ctx.model.apps if site.name is None}
        if not unbound:
            return set()
        nodes = self.ctx.names.nodes
        returned = {id(node.value) for node in nodes.of(ast.Return) if node.value is not None}
        returned |= {id(node.body) for node in nodes.of(ast.Lambda)}
        return unbound - returned

    def _served_through_another_app(self, graph: AppGraph) -> bool:
        """Another project module mounts this app: its routes are judged as part of that app.

        Asked only before a FAA305/FAA401 would be reported, or of an app serving a front end (it may
        read the project's files).
        A project too large to search whole leaves the app judged on its own.
        """
        key = id(graph.site.call)
        if key not in self._mounted_elsewhere:
            self._mounted_elsewhere[key] = mounted_elsewhere(graph.site, self.ctx.model, is_test_module) is True
        return self._mounted_elsewhere[key]

    # -- FAA304 -----------------------------------------------------------------
    def _check_exception_handler(self, graph: AppGraph) -> None:
        names = self.ctx.names
        keys = _handler_keys(next((k.value for k in graph.site.call.keywords if k.arg == "exception_handlers"), None), names)
        if any(k.arg == "exception_handlers" for k in graph.site.call.keywords) and keys is None:
            return  # handlers built elsewhere: cannot tell
        splatted = graph.splatted
        if splatted is None or {"exception_handlers", "middleware"} & splatted:
            return  # ``FastAPI(**settings)``: the handlers or a catching middleware may be in there
        if keys and any(_is_catch_all(key, names) for key in keys):
            return
        for part_names, call in graph.registrations:
            if isinstance(call.func, ast.Attribute) and call.func.attr == "add_exception_handler" and call.args:
                if _is_catch_all(call.args[0], part_names):
                    return
        for part_names, decorator in graph.decorators:
            if isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "exception_handler" and decorator.args:
                if _is_catch_all(decorator.args[0], part_names):
                    return
        for part_names, middleware in middleware_classes(graph):
            found = _class_node(middleware, part_names)
            if found is not None and _wraps_app_in_try(found[1], found[0]):
                return
        if self._function_middleware_catches(graph):
            return
        if self._app_passed_to_project_function(graph, "add_exception_handler", "exception_handler"):
            return
        self.ctx.report(
            "FAA304",
            graph.site.call,
            f"`{graph.name}` registers no handler for `Exception` (looked for `@{graph.site.name or 'app'}.exception_handler(Exception)`, "
            "`add_exception_handler(Exception, ...)` and `exception_handlers={Exception: ...}` on the app and its routers), "
            "so an unexpected error reaches the client as the server's default 500",
        )

    def _function_middleware_catches(self, graph: AppGraph) -> bool:
        """A catch-all written as function middleware: ``@app.middleware("http")`` on a function, or
        ``app.middleware("http")(catch_errors)``, whose ``try`` around ``call_next`` catches ``Exception``."""
        names = self.ctx.names
        owner = graph.site.name
        if owner is None:
            return False
        for node in names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef, ast.Call):
            candidates: list[FunctionNode] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(middleware_registration(d, owner) for d in node.decorator_list):
                    candidates.append(node)
            elif isinstance(node, ast.Call) and middleware_registration(node.func, owner) and node.args:
                found = names.resolve_function(node.args[0])
                if found is not None:
                    candidates.append(found[1])
            if any(_wraps_app_in_try(func, names) for func in candidates):
                return True
        return False

    def _app_passed_to_project_function(self, graph: AppGraph, *methods: str) -> bool:
        """``setup_errors(app)``: a project function that registers on the app it is given."""
        names = self.ctx.names
        if self._passing is None:
            self._passing = {}
            for node in names.nodes.of(ast.Call):
                for passed in {a.id for a in node.args if isinstance(a, ast.Name)}:
                    self._passing.setdefault(passed, []).append(node)
        for node in self._passing.get(graph.site.name or "", []):
            found = _callee(names, node.func, node)
            if found is not None and self._function_registers(found[0], found[1], methods, 0):
                return True
        return False

    def _function_registers(self, names: Names, func: FunctionNode, methods: tuple[str, ...], depth: int) -> bool:
        """``func`` calls one of ``methods`` itself, or hands one of its parameters (the app) on to a
        project function that does (``register_api_routers(app)`` -> ``register_health_router(app)``)."""
        key = (id(func), methods)
        if key in self._registers:
            return self._registers[key]
        self._registers[key] = False  # a cycle registers nothing
        params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
        found = False
        for inner in ast.walk(func):
            if isinstance(inner, ast.Attribute) and inner.attr in methods:
                found = True
                break
            if (
                depth < MAX_REGISTRATION_DEPTH
                and isinstance(inner, ast.Call)
                and any(isinstance(a, ast.Name) and a.id in params for a in inner.args)
            ):
                callee = _callee(names, inner.func)
                if callee is not None and self._function_registers(callee[0], callee[1], methods, depth + 1):
                    found = True
                    break
        self._registers[key] = found
        return found

    # -- FAA305 -----------------------------------------------------------------
    def _check_rate_limit(self, graph: AppGraph) -> None:
        if not graph.paths or graph.unknown:
            return  # no routes to protect, or parts we cannot see may hold the limiter
        configured = self.ctx.settings.rate_limit_names
        for part in graph.parts:
            imports = part.names.imports.values()
            if id(part.names) not in self._limiter_mentions:
                # Once per module: a limiter library imported, or a name that says rate limit
                # (one search over all the names: no pattern spans a newline).
                self._limiter_mentions[id(part.names)] = part.names.imports_library(LIMITER_MODULES) or (
                    LIMITER_WORDS.search("\n".join(part.names.nodes.identifiers)) is not None
                    and any(
                        LIMITER_WORDS.search(name) and not _holds_concurrency_limit(part.names, name)
                        for name in part.names.nodes.identifiers
                    )
                )
            if self._limiter_mentions[id(part.names)]:
                return
            identifiers = part.names.nodes.identifiers
            if configured and any(
                name in identifiers or any(q == name or q.endswith("." + name) or q.startswith(name + ".") for q in imports)
                for name in configured
            ):
                return
        if self._served_through_another_app(graph):
            return
        self.ctx.report(
            "FAA305",
            graph.site.call,
            f"`{graph.name}` serves {len(graph.paths)} route(s) with no rate limiter (looked for slowapi, fastapi-limiter, "
            "and middleware or dependencies named rate limit/throttle/limiter; name yours with --faa-rate-limit-names)",
        )

    # -- FAA401 -----------------------------------------------------------------
    def _check_health(self, graph: AppGraph) -> None:
        if graph.unknown:
            return  # an included router or mounted app we cannot see may serve it
        health = self.ctx.settings.health_paths
        by_words = health == DEFAULT_HEALTH_PATHS
        # A path the deployment files probe (a Dockerfile HEALTHCHECK, a Kubernetes httpGet probe) is
        # a health route when the app serves it, whatever its words.
        probed = [p.text for p in self.ctx.deployment.probe_paths]
        for path in graph.paths:
            trimmed = path.rstrip("/") or "/"
            if any(trimmed == h.rstrip("/") or trimmed.endswith(h.rstrip("/")) for h in health if h.strip("/")):
                return
            if any(trimmed == p.split("?")[0].rstrip("/") for p in probed if p.strip("/")):
                return
            if by_words and _names_a_probe(trimmed):
                return
        if self._app_passed_to_project_function(graph, *ROUTE_REGISTRATIONS):
            return  # ``register_routers(app)``: routes added where this module cannot see them
        if self._served_through_another_app(graph):
            return
        looked_at = ", ".join(part.label for part in graph.parts)
        self.ctx.report(
            "FAA401",
            graph.site.call,
            f"`{graph.name}` has no route at {', '.join(health)} (looked at {looked_at}); "
            "orchestrators and load balancers have nothing to probe (list your paths with --faa-health-paths)",
        )
