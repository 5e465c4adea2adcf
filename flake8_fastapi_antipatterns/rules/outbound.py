"""FAA204/FAA205: outbound HTTP calls without a bounded timeout, a reused client or a circuit breaker.

FAA204 reports four things:

- a ``requests`` call (``requests.get`` ... ``requests.request``, or the same
  methods on a ``requests.Session()``) without ``timeout=``, or with
  ``timeout=None``: requests waits forever by default.  A session with an
  adapter mounted on it (``s.mount(...)``) or a method replaced on it may
  carry a default timeout, so its calls are left alone;
- an ``httpx`` function, client or client call given ``timeout=None`` or
  ``httpx.Timeout(None)``.  A *missing* timeout is fine: httpx defaults to 5 s;
- an ``aiohttp.ClientTimeout`` that bounds neither the whole request nor a read
  (``total`` and ``sock_read`` missing, ``None``, or a setting that is ``None`` unless the
  environment sets it: ``analysis/default_values.py``);
- an ``httpx.AsyncClient``/``httpx.Client``/``aiohttp.ClientSession`` created
  per request: in a route handler, in a same-module ``Depends`` provider of
  one, or in a same-module function they call (websocket handlers run once
  per connection and are left out).  Clients stored on an
  attribute or a ``global`` (a lazily built shared client) and functions
  cached with ``lru_cache``/``cache`` are not per request.

FAA205 (opt-in) reports an outbound call (requests, httpx, aiohttp) made
directly in a route handler's body with no circuit breaker around it.  A
breaker is anything from purgatory, aiobreaker, pybreaker or circuitbreaker,
a name given with ``--faa-breaker-names``, or -- for hand-rolled breakers as
in seed 12 -- any expression whose name or resolved path contains "breaker".
The call counts as wrapped when the handler is decorated with one, when it
runs inside a ``with``/``async with`` of one or as an argument of a call to
one, or when the handler calls any method of one (``breaker.can_execute()``).
Calls a breaker would add little to are left alone (``_breaker_adds_little``):
an OAuth authorization-code exchange, a call whose failure the handler answers
under a timeout of at most ``FAST_FAIL_SECONDS``, and a call in a branch only
administrators reach.

Calls passed through ``**kwargs`` (whose timeout cannot be seen) and
receivers that cannot be resolved are never reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.app_model import Route
from flake8_fastapi_antipatterns.analysis.audience import in_admin_branch, parent_map
from flake8_fastapi_antipatterns.analysis.calls import body_walk, short
from flake8_fastapi_antipatterns.analysis.default_values import UNKNOWN, setting_default
from flake8_fastapi_antipatterns.analysis.names import DEPENDS, FunctionNode, Names, Scope, annotated_extras, is_none
from flake8_fastapi_antipatterns.analysis.run_once import run_once_nodes
from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.rules import Checker, register

REQUEST_METHODS = frozenset({"get", "post", "put", "delete", "patch", "head", "options", "request"})
REQUESTS_MODULES = ("requests", "requests.api")
REQUESTS_SESSIONS = frozenset(
    {"requests.Session()", "requests.session()", "requests.sessions.Session()", "requests.sessions.session()"}
)
# requests.Session.request(method, url, params, data, headers, cookies, files, auth, timeout, ...)
SESSION_REQUEST_TIMEOUT_POSITION = 8

HTTPX_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"})
HTTPX_CLIENTS = frozenset({"httpx.Client()", "httpx.AsyncClient()"})
HTTPX_CLIENT_CLASSES = frozenset({"httpx.Client", "httpx.AsyncClient"})
HTTPX_TIMEOUT = "httpx.Timeout"

AIOHTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "ws_connect"})
AIOHTTP_SESSIONS = frozenset({"aiohttp.ClientSession()", "aiohttp.client.ClientSession()"})
AIOHTTP_FUNCTIONS = frozenset({"aiohttp.request", "aiohttp.client.request"})

SHARED_CLIENT_FIX = "create one client in the lifespan and share it through app.state or a dependency"
PER_REQUEST_CLIENTS = frozenset(
    {
        "httpx.AsyncClient", "httpx.Client", "aiohttp.ClientSession", "aiohttp.client.ClientSession",
        # openai's httpx clients with its default limits and timeouts: a connection pool each, like httpx's.
        "openai.DefaultAsyncHttpxClient", "openai.DefaultHttpxClient",
    }
)  # fmt: skip
# What a module must spell, or import under another name, to build one of them.
_CLIENT_CLASS_NAMES = frozenset(path.rsplit(".", 1)[-1] for path in PER_REQUEST_CLIENTS)
CACHE_DECORATORS = frozenset(
    {"functools.lru_cache", "functools.cache", "functools.cached_property", "async_lru.alru_cache"}
)
BREAKER_LIBRARIES = frozenset({"purgatory", "aiobreaker", "pybreaker", "circuitbreaker"})
# Route handlers reach their helpers through at most this many same-module calls.
_MAX_HELPER_DEPTH = 4


@dataclass(frozen=True)
class Outbound:
    """One call that goes out over HTTP."""

    library: str
    """"requests", "httpx" or "aiohttp"."""
    method: str
    on_client: bool
    """Made on a client/session object rather than through a module function."""
    path: str


def classify(path: str | None) -> Outbound | None:
    """What a resolved callee path is, if it is an outbound HTTP call."""
    if not path:
        return None
    path = path.removeprefix("await ")
    receiver, _, method = path.rpartition(".")
    if receiver in REQUESTS_MODULES and method in REQUEST_METHODS:
        return Outbound("requests", method, on_client=False, path=path)
    if receiver in REQUESTS_SESSIONS and method in REQUEST_METHODS:
        return Outbound("requests", method, on_client=True, path=path)
    if receiver == "httpx" and method in HTTPX_METHODS:
        return Outbound("httpx", method, on_client=False, path=path)
    if receiver in HTTPX_CLIENTS and (method in HTTPX_METHODS or method in ("send", "build_request")):
        return Outbound("httpx", method, on_client=True, path=path)
    if receiver in AIOHTTP_SESSIONS and method in AIOHTTP_METHODS:
        return Outbound("aiohttp", method, on_client=True, path=path)
    if path in AIOHTTP_FUNCTIONS:
        return Outbound("aiohttp", "request", on_client=False, path=path)
    return None


def value_of(names: Names, expr: ast.expr, scope: Scope | None) -> str | None:
    """``Names.value_path``, except that an annotated local is what its annotation says.

    ``client: httpx.AsyncClient = request.app.state.http`` says nothing useful
    through its value, but its annotation says what it is.
    """
    if isinstance(expr, ast.Name):
        if scope is not None and expr.id in scope.annotations and expr.id not in scope.unknown:
            annotated = names.annotation_path(scope.annotations[expr.id])
            if annotated is not None:
                return annotated
        return names.value_path(expr, scope)
    if isinstance(expr, ast.Attribute) and _annotated_root(expr, scope):
        base = value_of(names, expr.value, scope)
        return f"{base}.{expr.attr}" if base else None
    if isinstance(expr, ast.Call) and _annotated_root(expr.func, scope):
        callee = value_of(names, expr.func, scope)
        return f"{callee}()" if callee else None
    return names.value_path(expr, scope)


def _annotated_root(expr: ast.expr, scope: Scope | None) -> bool:
    node = expr
    for _ in range(12):
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            break
    return isinstance(node, ast.Name) and scope is not None and node.id in scope.annotations


def callee_path(names: Names, call: ast.Call, scope: Scope | None) -> str | None:
    path = value_of(names, call.func, scope)
    return path.removeprefix("await ") if path else None


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword
    return None


def _has_double_star(call: ast.Call) -> bool:
    return any(k.arg is None for k in call.keywords)


def _unbounded_httpx_timeout(expr: ast.expr, names: Names, scope: Scope | None) -> bool:
    """``None`` or ``httpx.Timeout(None)`` with nothing else set."""
    if is_none(expr):
        return True
    if isinstance(expr, ast.Call) and names.qualify(expr.func, scope) == HTTPX_TIMEOUT:
        values = [*expr.args, *(k.value for k in expr.keywords if k.arg in (None, "timeout"))]
        others = [k for k in expr.keywords if k.arg not in (None, "timeout")]
        return not others and len(values) == 1 and is_none(values[0])
    return False


AIOHTTP_TIMEOUTS = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout", "aiohttp.timeout.ClientTimeout"})
# What bounds a request made with an ``aiohttp.ClientTimeout``: its whole time, or each read (a stream's
# idle time). ``sock_connect`` and ``connect`` bound only the start: a server that stops answering
# keeps the request waiting.
_AIOHTTP_BOUNDS = ("total", "sock_read")
_AIOHTTP_POSITIONS = ("total", "connect", "sock_read", "sock_connect")
"""``aiohttp.ClientTimeout``'s fields in the order it takes them positionally."""
UNBOUNDED_AIOHTTP = "bounds neither a whole request nor a read"
AIOHTTP_TIMEOUT_FIX = (
    "give `total=` a number of seconds (a stream: `sock_read=`, the longest wait between two chunks), or "
    "a setting whose default is one"
)


def _unbounded_aiohttp_timeout(names: Names, call: ast.Call, func: FunctionNode | None) -> str | None:
    """``aiohttp.ClientTimeout(total=None)``, or a ``total`` from a setting that is ``None`` unless the
    environment sets it (``AIOHTTP_CLIENT_TIMEOUT``), with no ``sock_read`` either: nothing bounds it.
    Unlike the session's default (five minutes), a ``ClientTimeout`` built so waits forever."""
    if any(keyword.arg is None for keyword in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    given = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg in _AIOHTTP_BOUNDS}
    for position, argument in enumerate(call.args):
        if position < len(_AIOHTTP_POSITIONS) and _AIOHTTP_POSITIONS[position] in _AIOHTTP_BOUNDS:
            given.setdefault(_AIOHTTP_POSITIONS[position], argument)
    before = _top_level_statement(names, call) if func is None else None
    said: list[str] = []
    for bound in _AIOHTTP_BOUNDS:
        expr = given.get(bound)
        if expr is None:
            said.append(f"no `{bound}`")
            continue
        if isinstance(expr, ast.Constant):
            if not _no_bound(expr.value):
                return None
            said.append(f"`{bound}={expr.value!r}`")
            continue
        if not isinstance(expr, ast.Name) or _bound_nearer(names, expr.id, call, func):
            return None  # a value worked out where it is used
        value, from_environment = setting_default(names, expr, before=before)
        if value is UNKNOWN or not _no_bound(value):
            return None
        unless = " unless the environment sets it" if from_environment else ""
        said.append(f"`{bound}={expr.id}`, {value!r}{unless}")
    return f"{UNBOUNDED_AIOHTTP} ({'; '.join(said)}): a request made with it can wait forever"


def _no_bound(value: object) -> bool:
    """``None``, or a number of seconds aiohttp takes for none (zero or less)."""
    if value is None:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0


def _top_level_statement(names: Names, node: ast.AST) -> ast.stmt | None:
    """The module-level statement holding ``node``."""
    line = getattr(node, "lineno", 0)
    for stmt in names.tree.body:
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            return stmt
    return None


def _bound_nearer(names: Names, name: str, call: ast.Call, func: FunctionNode | None) -> bool:
    """Whether ``name`` at ``call`` is bound by a function around it (a local, a parameter, a loop
    target, an ``except ... as``), a lambda's parameter or a comprehension's target, rather than
    read from the module."""
    nodes = names.nodes
    current = func
    while current is not None:
        scope = names.scope(current)
        if name in scope.values or name in scope.params or name in scope.unknown:
            return True
        current = nodes.enclosing_def(current)
    span = (call.lineno, call.col_offset)
    for node in nodes.each(ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
        if isinstance(node, ast.Lambda):
            arguments = node.args
            bound = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            bound = {n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        else:
            continue
        end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
        if name in bound and (node.lineno, node.col_offset) <= span <= end:
            return True
    return False


HTTP_LIBRARIES = frozenset({"requests", "httpx", "aiohttp"})
# Names a call must end in to be worth resolving: resolution can read other project files.
_RELEVANT_NAMES = (
    REQUEST_METHODS
    | HTTPX_METHODS
    | AIOHTTP_METHODS
    | {"send", "build_request", "Client", "AsyncClient", "ClientSession", "ClientTimeout", "DefaultAsyncHttpxClient", "DefaultHttpxClient"}
)


def may_be_http(names: Names, call: ast.Call) -> bool:
    """A cheap test that lets most calls skip name resolution."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in _RELEVANT_NAMES
    if isinstance(func, ast.Name):
        imported = names.imports.get(func.id)
        if imported is not None:
            return imported.split(".")[0] in HTTP_LIBRARIES or imported in PER_REQUEST_CLIENTS
        return func.id in names.bindings
    return False


def _call_name(call: ast.Call) -> str:
    return f"{short(call.func)}()"


def _scoped_calls(names: Names) -> Iterator[tuple[ast.Call, FunctionNode | None]]:
    """Every call with the innermost function it is written in (None at module level)."""
    for call, written_in in names.nodes.written_in(ast.Call):
        if isinstance(call, ast.Call):
            yield call, written_in


def _is_request(names: Names, call: ast.Call) -> bool:
    """A call that sends a request (``requests.get``), not one that builds a client (``httpx.Client(...)``)."""
    outbound = classify(callee_path(names, call, None))
    return outbound is not None and outbound.method not in ("build_request",)


def _where(func: FunctionNode | None) -> str:
    return f"in `{func.name}`" if func is not None else "at module level"


@dataclass(frozen=True)
class PerRequest:
    """A function that runs for every request of some route, and why."""

    func: FunctionNode
    reason: str
    """How messages say where the client is created."""
    route: str
    """The route handler it runs for."""


@register
class OutboundChecker(Checker):
    codes = ("FAA204", "FAA205")

    def run(self) -> None:
        names = self.ctx.names
        if not names.imports_library(HTTP_LIBRARIES) and not names.imports_project_names:
            # Every finding is a call ``classify`` recognises, whose path starts at an import of
            # an HTTP library, here or in a project module: most modules have neither.
            return
        self._customised: set[str] | None = None
        self._fresh_calls: dict[int, list[ast.Call]] = {}
        per_request = self._per_request_functions()
        fresh_clients = self._fresh_clients(per_request)
        folded: set[int] = set()
        """``ClientTimeout`` calls said in the finding of the session they are given to."""
        for call, func in _scoped_calls(self.ctx.names):
            if id(call) in folded or not may_be_http(self.ctx.names, call):
                continue
            scope = self.ctx.names.scope(func) if func is not None else None
            if func is None and self.ctx.serving.active and _is_request(self.ctx.names, call):
                continue  # a request made once, at import: the serving path never waits on it
            problem = self._timeout_problem(call, scope, func)
            fresh = fresh_clients.get(id(call))
            if fresh is not None and problem is None:
                # ``aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))``: one finding says both.
                given = _keyword(call, "timeout")
                if given is not None and isinstance(given.value, ast.Call):
                    inner = self._timeout_problem(given.value, scope, func)
                    if inner is not None:
                        folded.add(id(given.value))
                        problem = f"its `{_call_name(given.value)}` {inner}"
            if fresh is None and problem is None:
                continue
            if problem is None and self._only_at_sign_in(call):
                continue  # a client per login, with its timeout: a shared one would save a handshake per login
            shown = _call_name(call)
            if fresh is not None:
                # Only what is wrong: a client that has its timeout is told about reuse alone.
                detail = f", and {problem}" if problem else ""
                self.ctx.report(
                    "FAA204",
                    call,
                    f"`{shown}` is created per request {fresh} (no connection reuse){detail}",
                    function=func.name if func else None,
                    # With a timeout problem too, the rule's fix (a timeout and one client) says where to keep it.
                    remedy=f"{get_rule('FAA204').fix}, shared through app.state or a dependency" if problem else SHARED_CLIENT_FIX,
                )
            elif problem is not None:
                self.ctx.report(
                    "FAA204", call, f"`{shown}` {_where(func)} {problem}", function=func.name if func else None,
                    remedy=AIOHTTP_TIMEOUT_FIX if problem.startswith(UNBOUNDED_AIOHTTP) else None,
                )
        self._breakers()

    def _only_at_sign_in(self, call: ast.Call) -> bool:
        """Whether only routes of signing in or out reach ``call`` (``Reach.sign_in_only``). Idle
        connections close within seconds (httpx keeps them 5 s, aiohttp 15 s), so between two logins
        a shared client would hold no warm connection to reuse."""
        serving = self.ctx.serving
        if not serving.active:
            return False
        reach = serving.reach_at(call.lineno)
        return reach is not None and reach.sign_in_only

    # -- timeouts -----------------------------------------------------------
    def _timeout_problem(self, call: ast.Call, scope: Scope | None, func: FunctionNode | None = None) -> str | None:
        names = self.ctx.names
        path = callee_path(names, call, scope)
        if path is None:
            return None
        if path in AIOHTTP_TIMEOUTS:
            return _unbounded_aiohttp_timeout(names, call, func)
        timeout = _keyword(call, "timeout")
        outbound = classify(path)
        if path in HTTPX_CLIENT_CLASSES or (outbound is not None and outbound.library == "httpx"):
            if timeout is not None and _unbounded_httpx_timeout(timeout.value, names, scope):
                return f"is given `timeout={short(timeout.value)}`, which turns off httpx's 5 s default"
            return None
        if outbound is None or outbound.library != "requests":
            return None
        if timeout is not None:
            return "is given `timeout=None` and may wait forever" if is_none(timeout.value) else None
        if _has_double_star(call) or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        if outbound.on_client:
            if outbound.method == "request" and len(call.args) > SESSION_REQUEST_TIMEOUT_POSITION:
                return None
            if self._customised is None:
                self._customised = self._customised_receivers()
            if self._receiver_name(call) in self._customised:
                return None
        return "has no `timeout=` (requests waits forever by default)"

    @staticmethod
    def _receiver_name(call: ast.Call) -> str | None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, ast.Name):
            return receiver.id
        if isinstance(receiver, ast.Attribute):
            return receiver.attr
        return None

    def _customised_receivers(self) -> set[str]:
        """Names of objects given an adapter (``s.mount(...)``) or a replaced method: they may set a timeout."""
        found: set[str] = set()
        for node in self.ctx.names.nodes.each(ast.Call, ast.Assign, ast.AnnAssign):
            owner: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "mount":
                owner = node.func.value
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr in REQUEST_METHODS:
                        owner = target.value
            if isinstance(owner, ast.Name):
                found.add(owner.id)
            elif isinstance(owner, ast.Attribute):
                found.add(owner.attr)
        return found

    # -- per-request clients --------------------------------------------------
    def _per_request_functions(self) -> list[PerRequest]:
        names = self.ctx.names
        found: dict[int, PerRequest] = {}
        queue: list[tuple[PerRequest, int]] = []

        def add(func: FunctionNode, reason: str, route: str, depth: int) -> None:
            if id(func) in found or self._cached(func):
                return
            entry = PerRequest(func, reason, route)
            found[id(func)] = entry
            queue.append((entry, depth))

        for route in self.ctx.model.routes:
            if route.is_websocket:
                # A websocket handler runs once per long-lived connection, not per request.
                continue
            handler = route.func.name
            add(route.func, f"in route handler `{handler}`", handler, 0)
            for provider in self._providers(route):
                add(provider, f"in `{provider.name}`, a dependency of route handler `{handler}`", handler, 1)
        while queue:
            entry, depth = queue.pop(0)
            if depth >= _MAX_HELPER_DEPTH:
                continue
            scope = names.scope(entry.func)
            for node in body_walk(entry.func):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                callee = node.func.id
                if callee in scope.values or callee in scope.params or callee not in names.functions:
                    continue
                if callee in names.imports:
                    continue
                reason = f"in `{callee}`, called for every request of route handler `{entry.route}`"
                add(names.functions[callee], reason, entry.route, depth + 1)
        self._served_elsewhere(found)
        return list(found.values())

    def _served_elsewhere(self, found: dict[int, PerRequest]) -> None:
        """The functions of this module that build a client and that requests reach through other
        modules, methods and services (the serving path: ``GitHubService._make_request`` behind a route
        of another file), added to ``found``. Background work started at start-up runs per round, not per
        request: a function only it reaches is left out."""
        serving = self.ctx.serving
        if not serving.active:
            return
        names = self.ctx.names
        if (
            names.spelled is not None
            and not names.spelled & _CLIENT_CLASS_NAMES
            and not any(dotted.rsplit(".", 1)[-1] in _CLIENT_CLASS_NAMES for dotted in names.imports.values())
        ):
            return  # a module that neither spells nor imports a client class builds none
        for func in names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
            if id(func) in found or self._cached(func) or not func.body:
                continue
            if names.nodes.enclosing_def(func) is not None or self.ctx.model.route_for(func) is not None:
                # A nested def is left to the search from the route that defines it, as before; a route
                # handler is judged by the loop over routes (a websocket's client serves its connection).
                continue
            # What the body says first: the search for who reaches it is asked only of functions that
            # build a client they neither keep nor hand back.
            if not self._fresh_client_calls(func):
                continue
            if _returns_what_it_builds(func, names) and not _is_property(func, names):
                # A factory: its callers decide whether the client is kept (``app.state.http = ...``). A
                # property's caller is every ``self.client.post(...)``: each access builds one anew.
                continue
            reach = serving.reach_at(func.body[0].lineno)
            if reach is None or reach.stage != "serving" or reach.per_round_only:
                continue  # (background work started at start-up runs it once per round, not per request)
            where = f"in the property `{func.name}`, which builds one on every read" if _is_property(func, names) else f"in `{func.name}`"
            found[id(func)] = PerRequest(func, where, func.name)

    def _providers(self, route: Route) -> Iterator[FunctionNode]:
        """Same-module functions a route injects with ``Depends``."""
        names = self.ctx.names
        args = route.func.args
        candidates: list[ast.expr] = [
            *args.defaults,
            *(d for d in args.kw_defaults if d is not None),
        ]
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.annotation is not None:
                candidates.extend(annotated_extras(arg.annotation, names))
        dependencies = route.keyword("dependencies")
        if isinstance(dependencies, (ast.List, ast.Tuple)):
            candidates.extend(dependencies.elts)
        for candidate in candidates:
            if not (isinstance(candidate, ast.Call) and names.qualify(candidate.func) in DEPENDS):
                continue
            provider = candidate.args[0] if candidate.args else None
            keyword = _keyword(candidate, "dependency")
            if keyword is not None:
                provider = keyword.value
            if isinstance(provider, ast.Name) and provider.id in names.functions and provider.id not in names.imports:
                yield names.functions[provider.id]

    def _cached(self, func: FunctionNode) -> bool:
        """A function whose result is cached builds its client once, not per request."""
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.ctx.names.qualify(target) in CACHE_DECORATORS:
                return True
        return False

    def _fresh_clients(self, per_request: list[PerRequest]) -> dict[int, str]:
        """id(call) -> where, for every client construction that runs once per request."""
        fresh: dict[int, str] = {}
        for entry in per_request:
            for call in self._fresh_client_calls(entry.func):
                fresh.setdefault(id(call), entry.reason)
        return fresh

    def _fresh_client_calls(self, func: FunctionNode) -> list[ast.Call]:
        """The client constructions each call of ``func`` makes anew: not kept on an attribute, a subscript
        or a global, not run once, not on the app itself."""
        known = self._fresh_calls.get(id(func))
        if known is not None:
            return known
        names = self.ctx.names
        scope = names.scope(func)
        found = [
            node
            for node in body_walk(func)
            if isinstance(node, ast.Call)
            and may_be_http(names, node)
            and names.value_path(node.func, scope) in PER_REQUEST_CLIENTS
            and not _in_process(names, node, scope)
        ]
        if found:
            # Kept on an attribute or a global, or built once (also after ``if self._specs and now <
            # self._expires: return self._specs``, on a miss): not anew each call.
            kept = _kept_beyond_request(func) | run_once_nodes(func, shared=names.imports.keys())
            found = [node for node in found if id(node) not in kept]
        self._fresh_calls[id(func)] = found
        return found

    # -- FAA205 ---------------------------------------------------------------
    def _breakers(self) -> None:
        names = self.ctx.names
        for route in self.ctx.model.routes:
            func = route.func
            scope = names.scope(func)
            if any(self._is_breaker(d, scope) for d in func.decorator_list if d is not route.registration):
                continue
            parents: dict[int, ast.AST] | None = None  # built for the first outbound call only
            body = list(body_walk(func))
            if any(self._uses_breaker(node, scope) for node in body):
                continue
            for node in body:
                if not isinstance(node, ast.Call) or not may_be_http(names, node):
                    continue
                outbound = classify(callee_path(names, node, scope))
                if outbound is None or outbound.method == "build_request":
                    continue
                construction = _receiver_construction(names, node, scope)
                if construction is not None and _in_process(names, construction, scope):
                    continue  # a client on the app itself (ASGITransport): no other service to protect from
                if parents is None:
                    parents = parent_map(func)
                if self._wrapped(node, parents, scope):
                    continue
                if self._breaker_adds_little(node, func, parents, scope):
                    continue
                self.ctx.report(
                    "FAA205",
                    node,
                    f"`{_call_name(node)}` in route handler `{func.name}` calls another service with no circuit "
                    "breaker around it",
                    function=func.name,
                    library=outbound.library,
                )

    def _breaker_adds_little(
        self, call: ast.Call, func: FunctionNode, parents: dict[int, ast.AST], scope: Scope
    ) -> bool:
        """Calls a reviewer would not put a breaker around (worked out only for a call about to be reported).

        - an OAuth authorization-code exchange (``grant_type=authorization_code``): made once per
          login by the user who is logging in; a breaker would only turn the provider's outage
          into a different error on the same page;
        - a call whose failure the handler already answers (an ``except`` that returns a fallback
          or raises an error status) under a timeout of at most ``FAST_FAIL_SECONDS``: each
          request during an outage fails about as fast as an open breaker would make it;
        - a call in a branch the handler has closed to everyone but administrators
          (``if url_idx is not None and user.role != "admin": raise ...``): an operator's tool,
          like the routes ``analysis/audience.py`` finds (unless operator routes are judged).
        """
        names = self.ctx.names
        if _exchanges_authorization_code(names, call, scope):
            return True
        if _answered_failure(names, call, parents, scope) and _short_timeout(names, call, scope):
            return True
        return self.ctx.settings.quiet_operator_routes and in_admin_branch(func, call, parents)

    def _uses_breaker(self, node: ast.AST, scope: Scope) -> bool:
        """A method call on a breaker (``breaker.can_execute()``) or a ``with breaker:`` anywhere in the handler."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return self._is_breaker(node.func.value, scope)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            return any(self._is_breaker(item.context_expr, scope) for item in node.items)
        return False

    def _wrapped(self, call: ast.Call, parents: dict[int, ast.AST], scope: Scope) -> bool:
        node: ast.AST = call
        while id(node) in parents:
            parent = parents[id(node)]
            if isinstance(parent, ast.Call) and node is not parent.func and self._is_breaker(parent.func, scope):
                return True
            if isinstance(parent, (ast.With, ast.AsyncWith)):
                if any(self._is_breaker(item.context_expr, scope) for item in parent.items):
                    return True
            node = parent
        return False

    def _is_breaker(self, expr: ast.expr, scope: Scope | None) -> bool:
        names = self.ctx.names
        head = expr
        # ``await factory.get_breaker("x")``, ``@circuit(failure_threshold=5)``: what is called decides.
        while isinstance(head, (ast.Await, ast.Call)):
            head = head.value if isinstance(head, ast.Await) else head.func
        spelled = " ".join(_identifiers(head))
        path = value_of(names, head, scope) or names.qualify(head, scope) or ""
        bare = path.removeprefix("await ").replace("()", "")
        if bare.split(".")[0] in BREAKER_LIBRARIES:
            return True
        for configured in self.ctx.settings.breaker_names:
            configured = configured.strip(".")
            if not configured:
                continue
            if bare == configured or bare.startswith(f"{configured}.") or bare.endswith(f".{configured}"):
                return True
            if configured in _identifiers(head):
                return True
        return "breaker" in f"{spelled} {path}".lower()


def _identifiers(expr: ast.expr) -> list[str]:
    parts: list[str] = []
    node: ast.expr = expr
    for _ in range(12):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        elif isinstance(node, (ast.Call, ast.Await)):
            node = node.func if isinstance(node, ast.Call) else node.value
        else:
            break
    return parts


# -- FAA205: calls a breaker would add little to -------------------------------

# A timeout at most this long fails a call about as fast as an open breaker would (and is shorter
# than httpx's own 5 s default, so a call only counts when it asks for a short timeout).
FAST_FAIL_SECONDS = 3.0
# Exceptions an outbound call raises when the other service is down or slow.
NETWORK_FAILURES = frozenset(
    {
        "builtins.Exception",
        "builtins.BaseException",
        "builtins.OSError",
        "builtins.ConnectionError",
        "builtins.TimeoutError",
        "asyncio.TimeoutError",
        "asyncio.exceptions.TimeoutError",
        "httpx.HTTPError",
        "httpx.RequestError",
        "httpx.TransportError",
        "httpx.TimeoutException",
        "httpx.ConnectError",
        "aiohttp.ClientError",
        "aiohttp.ClientConnectionError",
        "aiohttp.ClientConnectorError",
        "aiohttp.ServerTimeoutError",
        "requests.RequestException",
        "requests.ConnectionError",
        "requests.Timeout",
        "requests.exceptions.RequestException",
        "requests.exceptions.ConnectionError",
        "requests.exceptions.Timeout",
    }
)
TIMEOUT_CLASSES = frozenset({"httpx.Timeout", "aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout"})
PAYLOAD_KEYWORDS = ("data", "json", "params", "content")
# How many names or wrapping calls (``json.dumps(payload)``) are followed to reach a value.
_FOLLOW_DEPTH = 3


def _resolve(
    names: Names, expr: ast.expr | None, scope: Scope | None, *, steps: int = _FOLLOW_DEPTH, params_hide: bool = True
) -> ast.expr | None:
    """What a local or module-level name was assigned from (``payload`` -> its dict), following up to
    ``steps`` names (``a = b``); anything but a name is its own value.

    ``params_hide=False``: a parameter of the function with no local assignment is taken for the
    module-level binding of its name, as the look-ups of a client (its construction, its transport)
    do: ``def fetch(client)`` beside a module-level ``client = httpx.AsyncClient(...)``."""
    for _ in range(steps):
        if not isinstance(expr, ast.Name):
            break
        if scope is not None and expr.id in scope.values:
            expr = scope.values[expr.id]
        elif (not params_hide or scope is None or expr.id not in scope.params) and expr.id in names.bindings:
            expr = names.bindings[expr.id]
        else:
            break
    return expr


def _exchanges_authorization_code(names: Names, call: ast.Call, scope: Scope | None) -> bool:
    """The call posts an OAuth token request with ``grant_type=authorization_code`` (a login callback)."""
    for keyword in call.keywords:
        if keyword.arg in PAYLOAD_KEYWORDS and _grants_authorization_code(names, keyword.value, scope, 0):
            return True
    return False


def _grants_authorization_code(names: Names, expr: ast.expr, scope: Scope | None, depth: int) -> bool:
    value = _resolve(names, expr, scope)
    if isinstance(value, ast.Dict):
        return any(
            isinstance(key, ast.Constant)
            and key.value == "grant_type"
            and isinstance(item, ast.Constant)
            and item.value == "authorization_code"
            for key, item in zip(value.keys, value.values)
        )
    if isinstance(value, ast.Call) and depth < _FOLLOW_DEPTH:
        # ``dict(grant_type=...)``, or the payload encoded first (``json.dumps(data)``, ``urlencode(data)``).
        if any(
            k.arg == "grant_type" and isinstance(k.value, ast.Constant) and k.value.value == "authorization_code"
            for k in value.keywords
        ):
            return True
        return bool(value.args) and _grants_authorization_code(names, value.args[0], scope, depth + 1)
    return False


def _answered_failure(names: Names, call: ast.Call, parents: dict[int, ast.AST], scope: Scope | None) -> bool:
    """The call sits in a ``try`` whose handler catches a network failure and answers it itself
    (returns a fallback or raises an error status) instead of re-raising it."""
    node: ast.AST = call
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(parent, ast.Try) and any(node is stmt for stmt in parent.body):
            if any(_catches_network_failure(names, h, scope) and not _reraises(h) for h in parent.handlers):
                return True
        node = parent
    return False


def _catches_network_failure(names: Names, handler: ast.ExceptHandler, scope: Scope | None) -> bool:
    if handler.type is None:
        return True
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(names.qualify(kind, scope) in NETWORK_FAILURES for kind in caught)


def _reraises(handler: ast.ExceptHandler) -> bool:
    """A bare ``raise`` or ``raise exc`` of what was caught: the failure is not answered here."""
    for node in ast.walk(handler):
        if not isinstance(node, ast.Raise):
            continue
        if node.exc is None:
            return True
        if isinstance(node.exc, ast.Name) and node.exc.id == handler.name:
            return True
    return False


def _short_timeout(names: Names, call: ast.Call, scope: Scope | None) -> bool:
    """The call, or the client it is made on (when built in sight), has a timeout of at most
    ``FAST_FAIL_SECONDS``."""
    timeout = _keyword(call, "timeout")
    if timeout is None:
        construction = _receiver_construction(names, call, scope)
        timeout = _keyword(construction, "timeout") if construction is not None else None
    if timeout is None:
        return False
    seconds = _timeout_seconds(names, timeout.value, scope)
    return seconds is not None and seconds <= FAST_FAIL_SECONDS


def _timeout_seconds(names: Names, expr: ast.expr, scope: Scope | None) -> float | None:
    """The longest a timeout lets a call wait, when it is written as numbers: ``2``, ``(1, 3)``,
    ``httpx.Timeout(2.0)``, ``aiohttp.ClientTimeout(total=1)``, or a name bound to one of those."""
    value = _resolve(names, expr, scope)
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
        return float(value.value)
    if isinstance(value, ast.Tuple):  # requests: (connect, read)
        return _longest([_timeout_seconds(names, element, scope) for element in value.elts])
    if isinstance(value, ast.Call) and names.qualify(value.func, scope) in TIMEOUT_CLASSES:
        if names.qualify(value.func, scope) == HTTPX_TIMEOUT:
            # httpx.Timeout(default, connect=..., read=...): every phase is bounded by one of them.
            given = [*value.args[:1], *(k.value for k in value.keywords)]
        else:
            # aiohttp.ClientTimeout: only ``total`` bounds the whole call.
            given = [k.value for k in value.keywords if k.arg == "total"]
        return _longest([_timeout_seconds(names, item, scope) for item in given])
    return None


def _longest(parts: list[float | None]) -> float | None:
    """The longest of several bounds, or None when one of them is not a number (or there are none)."""
    known = [part for part in parts if part is not None]
    return max(known) if known and len(known) == len(parts) else None


IN_PROCESS_TRANSPORTS = frozenset({"httpx.ASGITransport", "httpx.WSGITransport"})


def _in_process(names: Names, construction: ast.Call, scope: Scope | None) -> bool:
    """``AsyncClient(transport=ASGITransport(app=app))``: requests that never leave the process.

    Such a client opens no connections (nothing to reuse) and calls no other service.
    """
    transport = _keyword(construction, "transport")
    if transport is None:
        return False
    value = _resolve(names, transport.value, scope, steps=1, params_hide=False)
    return isinstance(value, ast.Call) and names.qualify(value.func, scope) in IN_PROCESS_TRANSPORTS


def _receiver_construction(names: Names, call: ast.Call, scope: Scope | None) -> ast.Call | None:
    """The call that built the client a method is called on (``client`` in ``client.get``), when it is in sight."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    value = _resolve(names, receiver, scope, steps=1, params_hide=False)
    return value if isinstance(value, ast.Call) else None


def _is_property(func: FunctionNode, names: Names) -> bool:
    """``@property``: the function runs on every read of the attribute (``cached_property`` is cached)."""
    return any(names.qualify(d) in ("property", "builtins.property") for d in func.decorator_list)


def _returns_what_it_builds(func: FunctionNode, names: Names) -> bool:
    """``def new_client(): return httpx.AsyncClient(...)``: a function that hands the client it builds to
    its caller, who may keep it (``CLIENTS[base] = build(base)``) or use it once."""
    scope = names.scope(func)
    for node in body_walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Call) and names.value_path(inner.func, scope) in PER_REQUEST_CLIENTS:
                    return True
    return False


def _kept_beyond_request(func: FunctionNode) -> set[int]:
    """Ids of nodes whose value is stored on an attribute, a subscript or a global: shared, not per request.
    An item of a dict the function itself built or was handed by a call (``params = self.client_params();
    params["http_client"] = httpx.AsyncClient()``, the keyword arguments of the client it returns) is not
    kept beyond the call; an item of anything else (``CLIENTS[base]``, ``cache = self._cache``) is."""
    declared: set[str] = set()
    for node in body_walk(func):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    made_here = _dicts_made_here(func, declared)
    kept: set[int] = set()
    for node in body_walk(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(
                isinstance(t, ast.Attribute)
                or (isinstance(t, ast.Subscript) and not (isinstance(t.value, ast.Name) and t.value.id in made_here))
                or (isinstance(t, ast.Name) and t.id in declared)
                for t in targets
            ):
                kept.update(id(n) for n in ast.walk(node.value))
    return kept


def _dicts_made_here(func: FunctionNode, declared: set[str]) -> set[str]:
    """Local names every assignment of which binds a dict literal or what a call returns (not an alias
    of an attribute or another name, which may be a container shared beyond the call)."""
    made: dict[str, bool] = {}
    for node in body_walk(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in declared:
                    fresh = isinstance(node.value, (ast.Dict, ast.DictComp, ast.Call))
                    made[target.id] = made.get(target.id, True) and fresh
    return {name for name, fresh in made.items() if fresh}


__all__ = ["OutboundChecker", "Outbound", "classify"]
