"""FAA201-FAA203: connection pools, resources never closed, deprecated startup/shutdown events.

FAA201 -- a ``create_engine``/``create_async_engine`` call (SQLAlchemy or
SQLModel, under any alias) that sets none of ``pool_size``, ``max_overflow``,
``pool_timeout``, ``pool_recycle``, ``pool_pre_ping`` and chooses no
``poolclass``/``pool``.  The URL decides whether a pool matters: SQLite
(a literal, an f-string, a module constant, an imported project constant,
``URL.create("sqlite...")``, or ``connect_args`` with ``check_same_thread``)
is skipped; a URL we cannot read (``settings.database_url``,
``os.environ[...]``) counts as a server database.  ``*args``/``**kwargs``
hide what is passed, so such calls are skipped.

FAA202 -- an engine (not SQLite: there is no server to say goodbye to),
Redis client, ``httpx.AsyncClient`` or aiohttp session assigned at module level
(import time) that nothing ever closes.  "Closed" is any reference to its
``dispose``/``close``/``aclose``/``disconnect``
(called, or handed over as in ``atexit.register(engine.dispose)``), an
``async with client:``, or handing it to ``enter_async_context``/``aclosing``
-- in this module or, for a module-level name, in a project module that
imports it (``main.py``'s lifespan disposing ``db.py``'s engine).  Aliases
are followed (``app.state.http = http`` then ``app.state.http.aclose()``).
Test files do not count as closing.  A module that does not import
FastAPI/Starlette is only reported when a project module that does imports
from it: a CLI script's engine is not an app's resource.

FAA203 -- ``@app.on_event(...)``/``app.add_event_handler(...)`` on an app or
router (bound in this module, imported from a project module, or -- in a
module importing FastAPI/Starlette -- any owner given the literal event
``"startup"``/``"shutdown"``), and ``on_startup=``/``on_shutdown=`` passed
to ``FastAPI``/``Starlette``/``APIRouter``/``Router``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flake8_fastapi_antipatterns.analysis.app_model import APP_CLASSES, ROUTER_CLASSES
from flake8_fastapi_antipatterns.analysis.calls import short
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope, walk_shallow
from flake8_fastapi_antipatterns.rules import Checker, register
from flake8_fastapi_antipatterns.rules.base import WEB_FRAMEWORKS, is_test_module

# --- FAA201 data -------------------------------------------------------------

ENGINE_FACTORIES: dict[str, bool] = {
    # qualified name -> whether it builds an async engine
    "sqlalchemy.create_engine": False,
    "sqlalchemy.engine.create_engine": False,
    "sqlalchemy.engine.create.create_engine": False,
    "sqlmodel.create_engine": False,
    "sqlalchemy.ext.asyncio.create_async_engine": True,
    "sqlalchemy.ext.asyncio.engine.create_async_engine": True,
}
ENGINE_FUNCTION_NAMES = frozenset(path.rsplit(".", 1)[-1] for path in ENGINE_FACTORIES)
POOL_SETTINGS = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping")
# Passing a pool class or a ready pool is a decision about pooling, whatever it is.
POOL_CHOICES = frozenset({"poolclass", "pool"})
URL_BUILDERS = frozenset(
    {
        "sqlalchemy.engine.URL.create",
        "sqlalchemy.URL.create",
        "sqlalchemy.engine.url.URL.create",
        "sqlalchemy.engine.make_url",
        "sqlalchemy.make_url",
        "sqlalchemy.engine.url.make_url",
    }
)
_MAX_FOLLOW = 6

# --- FAA202 data -------------------------------------------------------------


@dataclass(frozen=True)
class ResourceKind:
    label: str
    close: str
    """The method that releases it."""
    awaited: bool

    @property
    def verb(self) -> str:
        return "disposed" if self.close == "dispose" else "closed"

    def close_call(self, name: str) -> str:
        call = f"{name}.{self.close}()"
        return f"await {call}" if self.awaited else call


_SYNC_ENGINE = ResourceKind("SQLAlchemy engine", "dispose", awaited=False)
_ASYNC_ENGINE = ResourceKind("async SQLAlchemy engine", "dispose", awaited=True)
_SYNC_REDIS = ResourceKind("Redis client", "close", awaited=False)
_ASYNC_REDIS = ResourceKind("async Redis client", "aclose", awaited=True)

RESOURCE_FACTORIES: dict[str, ResourceKind] = {
    **{path: _ASYNC_ENGINE if is_async else _SYNC_ENGINE for path, is_async in ENGINE_FACTORIES.items()},
    **{
        f"{module}.{factory}": _SYNC_REDIS
        for module in ("redis", "redis.client")
        for factory in ("Redis", "StrictRedis", "Redis.from_url", "StrictRedis.from_url")
    },
    "redis.from_url": _SYNC_REDIS,
    "redis.RedisCluster": _SYNC_REDIS,
    "redis.cluster.RedisCluster": _SYNC_REDIS,
    **{
        f"{module}.{factory}": _ASYNC_REDIS
        for module in ("redis.asyncio", "redis.asyncio.client")
        for factory in ("Redis", "StrictRedis", "Redis.from_url", "StrictRedis.from_url")
    },
    "redis.asyncio.from_url": _ASYNC_REDIS,
    "redis.asyncio.RedisCluster": _ASYNC_REDIS,
    "redis.asyncio.cluster.RedisCluster": _ASYNC_REDIS,
    "httpx.AsyncClient": ResourceKind("httpx.AsyncClient", "aclose", awaited=True),
    "aiohttp.ClientSession": ResourceKind("aiohttp.ClientSession", "close", awaited=True),
    "aiohttp.client.ClientSession": ResourceKind("aiohttp.ClientSession", "close", awaited=True),
}
CLOSE_METHODS = frozenset({"dispose", "close", "aclose", "disconnect"})
# Calls that take ownership of what they are given and close it when their block ends.
CLOSING_WRAPPERS = frozenset({"enter_async_context", "enter_context", "aclosing", "closing"})

# Folders whose modules closing a resource say nothing of the app's shutdown (a migration disposes
# the engine it ran with; see ``_candidate_importers``).
NOT_APP_DIRS = frozenset({"migrations", "alembic"})
TEST_DIRS = frozenset({"tests", "test"})

# --- FAA203 data -------------------------------------------------------------

EVENT_NAMES = frozenset({"startup", "shutdown"})
EVENT_KEYWORDS = frozenset({"on_startup", "on_shutdown"})
_INSTANCES = frozenset(f"{cls}()" for cls in APP_CLASSES | ROUTER_CLASSES)


# --- shared helpers ----------------------------------------------------------


def scoped_nodes(names: Names, *kinds: type[ast.AST]) -> Iterator[tuple[ast.AST, FunctionNode | None]]:
    """The module's nodes of the given types, each with the innermost function that holds it (None at module level)."""
    yield from names.nodes.written_in(*kinds)


def _where(func: FunctionNode | None) -> str:
    return f"in `{func.name}`" if func is not None else "at module level"


def _call_name(call: ast.Call) -> str:
    return f"{short(call.func)}()"


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _hides_arguments(call: ast.Call) -> bool:
    """``f(*args)`` / ``f(**options)``: what is really passed cannot be seen."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _globals_of(func: FunctionNode) -> set[str]:
    declared: set[str] = set()
    for node in walk_shallow(func):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    return declared


# --- FAA201 ------------------------------------------------------------------


def _literal_url(expr: ast.expr | None, names: Names, scope: Scope | None, depth: int = 0) -> str | None:
    """The URL text an expression is known to start with, or None when it cannot be read."""
    if expr is None or depth > _MAX_FOLLOW:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr) and expr.values:
        head = expr.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _literal_url(expr.left, names, scope, depth + 1)
    if isinstance(expr, ast.Call):
        callee = names.qualify(expr.func, scope)
        if callee in URL_BUILDERS:
            first = expr.args[0] if expr.args else _keyword(expr, "drivername") or _keyword(expr, "name_or_url")
            return _literal_url(first, names, scope, depth + 1)
        if callee == "builtins.str" and len(expr.args) == 1:
            return _literal_url(expr.args[0], names, scope, depth + 1)
        return None
    if isinstance(expr, ast.Name):
        if scope is not None and expr.id in scope.values:
            value = scope.values[expr.id]
            # ``url = url.strip()`` reads the module-level ``url``.
            self_bound = any(isinstance(n, ast.Name) and n.id == expr.id for n in ast.walk(value))
            return _literal_url(value, names, None if self_bound else scope, depth + 1)
        if scope is not None and (expr.id in scope.params or expr.id in scope.unknown):
            return None
        if expr.id in names.bindings:
            return _literal_url(names.bindings[expr.id], names, None, depth + 1)
        if expr.id in names.imports and names.resolver is not None:
            symbol = names.resolver.symbol(names.imports[expr.id])
            if symbol is not None and isinstance(symbol.node, ast.expr):
                return _literal_url(symbol.node, symbol.module.names, None, depth + 1)
    return None


def _sqlite_connect_args(call: ast.Call) -> bool:
    """``connect_args={"check_same_thread": False}`` only makes sense for SQLite."""
    value = _keyword(call, "connect_args")
    if isinstance(value, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "check_same_thread" for k in value.keys)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        return any(k.arg == "check_same_thread" for k in value.keywords)
    return False


def _url_argument(call: ast.Call) -> ast.expr | None:
    return call.args[0] if call.args else _keyword(call, "url")


def _is_sqlite_engine(call: ast.Call, names: Names, scope: Scope | None = None) -> bool:
    argument = _url_argument(call)
    url = _literal_url(argument, names, scope)
    return (url is not None and url.lower().startswith("sqlite")) or _sqlite_connect_args(call) or _names_sqlite(argument)


def _names_sqlite(expr: ast.expr | None) -> bool:
    """A URL made by a helper whose name says SQLite (``_sync_sqlite_url(path)``)."""
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return "sqlite" in name.lower()


def _disposed_in(func: FunctionNode, call: ast.Call) -> bool:
    """The engine ``call`` makes is bound to a local name that the same function disposes, and the
    function is not a lifespan (whose engine serves the app until shutdown)."""
    if "lifespan" in func.name.lower() or any(a.arg == "app" for a in [*func.args.posonlyargs, *func.args.args]):
        return False
    bound: set[str] = set()
    disposed: set[str] = set()
    for node in walk_shallow(func):
        if isinstance(node, ast.Assign) and node.value is call:
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "dispose"
            and isinstance(node.func.value, ast.Name)
        ):
            disposed.add(node.func.value.id)
    return bool(bound & disposed)


def _may_be_engine(call: ast.Call, names: Names) -> bool:
    """A cheap test that lets most calls skip name resolution (which can read other files)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in ENGINE_FUNCTION_NAMES
    if isinstance(func, ast.Name):
        return func.id in names.bindings or names.imports.get(func.id, "").split(".")[0] in ("sqlalchemy", "sqlmodel")
    return False


def _engine_factory(call: ast.Call, names: Names, scope: Scope | None) -> str | None:
    path = names.value_path(call.func, scope)
    return path if path in ENGINE_FACTORIES else None


# --- FAA202: who closes a resource -------------------------------------------

Refers = Callable[[ast.expr, FunctionNode | None], bool]
"""Whether an expression, evaluated in the given function (None: module level), is the resource."""


@dataclass
class _Mentions:
    """The resource and the names/attributes it was copied into."""

    refers: Refers
    names: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)

    def exact(self, expr: ast.expr, func: FunctionNode | None) -> bool:
        if self.refers(expr, func):
            return True
        if isinstance(expr, ast.Name):
            return expr.id in self.names
        if isinstance(expr, ast.Attribute):
            return expr.attr in self.attributes
        return False

    def within(self, expr: ast.expr, func: FunctionNode | None) -> bool:
        """The resource or one of its parts (``client.connection_pool`` for ``.disconnect()``)."""
        for _ in range(_MAX_FOLLOW):
            if self.exact(expr, func):
                return True
            if not isinstance(expr, ast.Attribute):
                return False
            expr = expr.value
        return False


def closes(names: Names, refers: Refers) -> bool:
    """Whether anything in the module releases the resource ``refers`` recognises."""
    mentions = _Mentions(refers)
    for node, func in scoped_nodes(names, ast.Assign, ast.AnnAssign):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and refers(node.value, func):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    mentions.names.add(target.id)
                elif isinstance(target, ast.Attribute):
                    mentions.attributes.add(target.attr)
    for node, func in scoped_nodes(names, ast.Attribute, ast.With, ast.AsyncWith, ast.Call):
        if isinstance(node, ast.Attribute) and node.attr in CLOSE_METHODS and mentions.within(node.value, func):
            return True
        if isinstance(node, (ast.With, ast.AsyncWith)):
            if any(mentions.exact(item.context_expr, func) for item in node.items):
                return True
        if isinstance(node, ast.Call) and _closing_wrapper(node):
            if any(mentions.exact(arg, func) for arg in node.args):
                return True
    return False


def _closing_wrapper(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in CLOSING_WRAPPERS


def _module_name_refers(var: str, names: Names) -> Refers:
    """A module-level name, unless a function rebinds it locally (without ``global``)."""
    declared: dict[int, set[str]] = {}

    def refers(expr: ast.expr, func: FunctionNode | None) -> bool:
        if not (isinstance(expr, ast.Name) and expr.id == var):
            return False
        if func is None:
            return True
        scope = names.scope(func)
        if not (var in scope.values or var in scope.params or var in scope.unknown):
            return True
        if id(func) not in declared:
            declared[id(func)] = _globals_of(func)
        return var in declared[id(func)]

    return refers


def _attribute_refers(target: ast.Attribute) -> Refers:
    text = ast.dump(target, include_attributes=False)

    def refers(expr: ast.expr, func: FunctionNode | None) -> bool:
        return isinstance(expr, ast.Attribute) and ast.dump(expr, include_attributes=False) == text

    return refers


# --- FAA202: the project around the module ------------------------------------


def _candidate_importers(names: Names, own: Path, word: str) -> list[Path]:
    """The project's other files that say ``word`` (the module's own name), where its importers are;
    none when the project is too large to have been read whole."""
    resolver = names.resolver
    if resolver is None:
        return []
    found = resolver.index.files_mentioning(str(own), word) or []
    candidates = (Path(name).resolve() for name in found)
    return [c for c in candidates if c != own and not NOT_APP_DIRS.intersection(c.parent.parts)]


def _is_test_file(candidate: Path, own: Path) -> bool:
    """Test code closing a resource says nothing about the app's shutdown."""
    if is_test_module(candidate.name):
        return True
    own_parents = set(own.parents)
    return any(p.name in TEST_DIRS and p not in own_parents for p in candidate.parents)


@dataclass(frozen=True)
class ProjectUse:
    web_importer: bool
    """A module importing FastAPI/Starlette imports from the resource's module."""
    closed: bool
    """A (non-test) module importing the resource closes it."""


def project_use(names: Names, var: str) -> ProjectUse:
    """How the other modules of the project use ``var``, a module-level name of this module."""
    resolver = names.resolver
    if resolver is None:
        return ProjectUse(web_importer=False, closed=False)
    own = resolver.path.resolve()
    module_word = own.parent.name if own.name == "__init__.py" else own.stem
    web_importer = closed = False
    for candidate in _candidate_importers(names, own, module_word):
        info = resolver.index.module(candidate)
        if info is None or info.names.resolver is None:
            continue
        other = info.names
        if not _imports_from(other, own):
            continue
        if other.imports_library(WEB_FRAMEWORKS):
            web_importer = True
        if not closed and not _is_test_file(candidate, own) and closes(other, _imported_refers(other, own, var)):
            closed = True
        if web_importer and closed:
            break
    return ProjectUse(web_importer=web_importer, closed=closed)


def _imports_from(names: Names, own: Path) -> bool:
    resolver = names.resolver
    if resolver is None:
        return False
    for dotted in names.imports.values():
        symbol = resolver.symbol(dotted)
        if symbol is not None and symbol.module.path == own:
            return True
        module = resolver.module(dotted)
        if module is not None and module.path == own:
            return True
    return False


def _imported_refers(names: Names, own: Path, var: str) -> Refers:
    def refers(expr: ast.expr, func: FunctionNode | None) -> bool:
        if not isinstance(expr, (ast.Name, ast.Attribute)) or names.resolver is None:
            return False
        dotted = names.qualify(expr, names.scope(func) if func is not None else None)
        if dotted is None:
            return False
        symbol = names.resolver.symbol(dotted)
        return symbol is not None and symbol.module.path == own and symbol.name == var

    return refers


# --- the checker ---------------------------------------------------------------


@dataclass
class ModuleResource:
    target: ast.Name | ast.Attribute
    call: ast.Call
    kind: ResourceKind

    @property
    def shown(self) -> str:
        return short(self.target)


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time, including those under ``if``/``try``/``with``."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.With)):
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    yield from _module_statements([child])
            for handler in getattr(stmt, "handlers", []):
                yield from _module_statements(handler.body)


EVENT_METHODS = frozenset({"on_event", "add_event_handler"})


@register
class ResourceChecker(Checker):
    codes = ("FAA201", "FAA202", "FAA203")

    def run(self) -> None:
        self._pools()
        self._unclosed()
        self._events()

    # FAA201
    def _pools(self) -> None:
        names = self.ctx.names
        for node, func in scoped_nodes(names, ast.Call):
            if not (isinstance(node, ast.Call) and _may_be_engine(node, names)):
                continue
            scope = names.scope(func) if func is not None else None
            factory = _engine_factory(node, names, scope)
            if factory is None or _hides_arguments(node):
                continue
            given = {k.arg for k in node.keywords}
            if given & (set(POOL_SETTINGS) | POOL_CHOICES):
                continue
            if _is_sqlite_engine(node, names, scope):
                continue
            if func is not None and _disposed_in(func, node):
                continue  # a one-shot engine: made, used for a connection or two, and disposed here
            url = _literal_url(_url_argument(node), names, scope)
            shown = _call_name(node)
            if not shown.endswith(f"{factory.rsplit('.', 1)[-1]}()"):
                shown = f"{shown}` (`{factory}`)"
            else:
                shown = f"{shown}`"
            self.ctx.report(
                "FAA201",
                node,
                f"`{shown} {_where(func)} sets none of {', '.join(POOL_SETTINGS)} "
                "(SQLAlchemy's defaults: 5 connections + 10 overflow, 30 s checkout wait, no pre-ping, "
                "no recycling)",
                factory=factory,
                url=url,
            )

    # FAA202
    def _unclosed(self) -> None:
        for resource in self._module_resources():
            target = resource.target
            if isinstance(target, ast.Name):
                if closes(self.ctx.names, _module_name_refers(target.id, self.ctx.names)):
                    continue
                use = project_use(self.ctx.names, target.id)
                if use.closed or not (self.ctx.imports_web_framework or use.web_importer):
                    continue
            else:
                if not self.ctx.imports_web_framework:
                    continue
                if closes(self.ctx.names, _attribute_refers(target)):
                    continue
            close = resource.kind.close_call(resource.shown)
            self.ctx.report(
                "FAA202",
                resource.call,
                f"`{resource.shown} = {_call_name(resource.call)}` ({resource.kind.label}) is created at import "
                f"time and never {resource.kind.verb}: nothing calls `{close}`",
                variable=resource.shown,
                close=close,
            )

    def _module_resources(self) -> Iterator[ModuleResource]:
        names = self.ctx.names
        for stmt in _module_statements(self.ctx.tree.body):
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets, value = [stmt.target], stmt.value
            else:
                continue
            if not isinstance(value, ast.Call):
                continue
            kind = RESOURCE_FACTORIES.get(names.value_path(value.func) or "")
            if kind is None or (kind in (_SYNC_ENGINE, _ASYNC_ENGINE) and _is_sqlite_engine(value, names)):
                continue
            for target in targets:
                if isinstance(target, (ast.Name, ast.Attribute)):
                    yield ModuleResource(target, value, kind)
                    break

    # FAA203
    def _events(self) -> None:
        # A helper that registers on the app it is handed (``def setup(app): app.on_event(...)``) may
        # live in a module that imports no web framework: the spelled-out event names tell it.
        if not self.ctx.imports_web_framework and self.ctx.names.nodes.identifiers.isdisjoint(EVENT_METHODS):
            return
        for node in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef, ast.Call):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    if (
                        isinstance(decorator, ast.Call)
                        and self._event_registration(decorator, "on_event")
                        and not self._never_runs(decorator.lineno)
                    ):
                        event = _event_text(decorator)
                        self.ctx.report(
                            "FAA203",
                            decorator,
                            f"`@{short(decorator.func)}({event})` registers `{node.name}` as a deprecated "
                            "startup/shutdown event handler",
                            handler=node.name,
                        )
            elif isinstance(node, ast.Call):
                if (
                    isinstance(node.func, ast.Call)
                    and self._event_registration(node.func, "on_event")
                    and node.args
                    and not self._never_runs(node.lineno)
                ):
                    # ``app.on_event("shutdown")(self.shutdown)``: the decorator applied by hand.
                    handler = short(node.args[0])
                    self.ctx.report(
                        "FAA203",
                        node,
                        f"`{short(node.func)}({handler})` registers `{handler}` as a deprecated "
                        "startup/shutdown event handler",
                        handler=handler,
                    )
                elif (
                    self._event_registration(node, "add_event_handler")
                    and not self._forwards_handler(node)
                    and not self._never_runs(node.lineno)
                ):
                    handler = short(node.args[1]) if len(node.args) > 1 else "a handler"
                    self.ctx.report(
                        "FAA203",
                        node,
                        f"`{short(node.func)}({_event_text(node)}, ...)` registers `{handler}` as a deprecated "
                        "startup/shutdown event handler",
                        handler=handler,
                    )
        # ``FastAPI(on_startup=[...])``: the app and router constructions the model already found.
        for site in self.ctx.model.sites:
            self._event_keywords(site.call)

    def _forwards_handler(self, call: ast.Call) -> bool:
        """``for handler in router.on_startup: self.add_event_handler("startup", handler)``.

        A handler that is a parameter or a loop variable of the enclosing function is passed
        on, not chosen here (a router copying an included router's handlers, a helper that
        registers whatever it is given): the registration worth reporting is elsewhere.
        """
        handler = call.args[1] if len(call.args) > 1 else _keyword(call, "func")
        if not isinstance(handler, ast.Name):
            return False
        func = self.ctx.names.nodes.call_written_in(call)
        if func is None:
            return False
        scope = self.ctx.names.scope(func)
        return handler.id in scope.params or (handler.id in scope.unknown and handler.id not in scope.values)

    def _event_registration(self, call: ast.Call, method: str) -> bool:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == method):
            return False
        if self.ctx.imports_web_framework and self._is_app_or_router(func.value):
            return True
        # An owner we cannot resolve still counts when the event is spelled out: no other
        # library used beside FastAPI names its events "startup"/"shutdown" this way.
        first = call.args[0] if call.args else _keyword(call, "event_type")
        return isinstance(first, ast.Constant) and first.value in EVENT_NAMES

    def _is_app_or_router(self, owner: ast.expr) -> bool:
        if self.ctx.model.owner_kind(owner) is not None:
            return True
        path = self.ctx.names.value_path(owner)
        if path is None:
            return False
        if path.endswith(".router"):
            # ``app.router.add_event_handler(...)``
            path = path[: -len(".router")]
        return path in _INSTANCES

    def _never_runs(self, line: int) -> bool:
        """Whether the registration at ``line`` sits in a function nothing in the project calls (a
        set-up helper the app does not use: ``setup_instrumentation(app)`` defined and never called),
        so it registers nothing. Only when the serving path is in use: a library's helpers are its
        users'. Asked only of a registration found, as it follows the function's callers."""
        reach = self.ctx.serving.reach_at(line)
        return reach is not None and reach.stage == "none"

    def _event_keywords(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            if keyword.arg not in EVENT_KEYWORDS:
                continue
            value = keyword.value
            if isinstance(value, ast.Name) and value.id in self.ctx.names.bindings:
                value = self.ctx.names.bindings[value.id]
            # Only handlers we can see: a parameter passed on (``on_startup=on_startup``
            # in a wrapper) or ``None`` registers nothing here.
            if not (isinstance(value, (ast.List, ast.Tuple)) and value.elts):
                continue
            self.ctx.report(
                "FAA203",
                keyword,
                f"`{_call_name(call)}` is given deprecated `{keyword.arg}=` handlers",
                handler=short(value),
            )


def _event_text(call: ast.Call) -> str:
    first = call.args[0] if call.args else _keyword(call, "event_type")
    return short(first) if first is not None else ""


__all__ = ["ResourceChecker", "closes", "project_use", "scoped_nodes"]
