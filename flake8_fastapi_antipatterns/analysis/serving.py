"""The serving path: what a running app reaches while it serves requests.

The line-level rules (FAA101, FAA102, FAA103, FAA204, FAA205, FAA303, FAA402) matter
where a request can reach the code. This stage answers, for a function of the linted
file, whether and from where:

- **serving**: a route handler, a dependency (``Depends``/``Security``), middleware,
  an exception handler, background work started from any of them or from the lifespan
  (``add_task``, ``create_task``, task groups), or something they call;
- **startup**: only run once: the lifespan (before its ``yield`` or after it; a function
  decorated with a ``lifespan`` wrapper such as ``@svcs.fastapi.lifespan`` is one),
  ``on_event``/``on_startup`` handlers, code run at import time, a function that starts
  the server (or calls the function of its module that does), a call only the first call
  of its caller makes (lazy initialisation, a flag switched off: ``analysis/run_once.py``);
- **none**: no app runs it: command-line programs (typer/click commands, the
  ``if __name__ == "__main__":`` block, a module-level ``asyncio.run``), functions
  nothing in the project calls or names;
- **development**: only with a debug or development switch on (``analysis/development.py``):
  called only under ``if settings.DEBUG:``, or a route of a router that every
  ``include_router`` puts on the app only under such a switch;
- **unknown**: the search could not settle it (a name too common to follow, a
  decorator that registers the function with a library, a method a library base
  class calls). Unknown is reported like serving: silence needs evidence.

The search goes backwards from the function: the project files that mention its name
(``ProjectIndex.files_mentioning``) are read, each once, into the places that call or
name a function, with the enclosing function of each place; those enclosing functions
are asked the same question, up to a bound. Calls are matched by name, not resolved:
a name the project uses for two functions makes both reachable when either is, which
can only keep a finding, never drop one. The one exception is a method of a class the
project never names: nothing can make an instance of it, so no ``x.method()`` is a call of it.

A project with neither an app nor a router (a library used by someone else's app) has
no serving path to follow: every function is judged (``Reach.unknown``).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from flake8_fastapi_antipatterns.analysis.app_model import ROUTE_DECORATORS
from flake8_fastapi_antipatterns.analysis.audience import ModuleAudience, module_audience
from flake8_fastapi_antipatterns.analysis.classes import ProjectClass, declarations, lineage, same_class, subclasses
from flake8_fastapi_antipatterns.analysis.classes import bases as bases_of
from flake8_fastapi_antipatterns.analysis.development import development_lines
from flake8_fastapi_antipatterns.analysis.inclusions import name_uses
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import (
    child_nodes,
    is_main_guard,
    last_name,
    names_a_symbol,
    names_class_again,
)
from flake8_fastapi_antipatterns.analysis.project import ProjectIndex
from flake8_fastapi_antipatterns.analysis.run_once import run_once_lines

Stage = Literal["serving", "startup", "development", "none", "unknown"]
# Development ranks below startup: a function production runs at start-up and a debug branch also calls is
# still production code.
_RANK: dict[Stage, int] = {"serving": 4, "unknown": 3, "startup": 2, "development": 1, "none": 0}

# Bounds of one question: functions visited, files read for one name, entries kept.
MAX_VISITS = 300
MAX_FILES_PER_NAME = 80
MAX_ENTRIES = 20

DefKey = tuple[str, int, str]
"""(file, line of the ``def``, name)."""

# Calls that register what they are handed with the serving app, by the name called.
_DEPENDENCY_WRAPPERS = frozenset({"Depends", "Security"})
_ROUTE_REGISTRATIONS = frozenset(
    {"add_api_route", "add_route", "add_websocket_route", "add_api_websocket_route", "APIRoute", "Route",
     "WebSocketRoute", "APIWebSocketRoute"}
)
_HANDLER_REGISTRATIONS = frozenset({"add_exception_handler", "exception_handler"})
_MIDDLEWARE_REGISTRATIONS = frozenset({"add_middleware", "middleware", "Middleware", "BaseHTTPMiddleware"})
_BACKGROUND = frozenset({"add_task", "create_task", "ensure_future", "start_soon", "run_coroutine_threadsafe", "spawn"})
# A task queue's job (rq ``@job``, Celery ``@app.task``, taskiq ``@broker.task``) put on the queue by a
# method of the function itself: ``export_job.delay(...)`` only enqueues it, and a worker process runs
# it. Celery's ``.s``/``.si``/``.signature`` build a signature a worker runs the same way.
_ENQUEUE_METHODS = frozenset({"delay", "apply_async", "kiq", "send_with_options", "s", "si", "signature"})
_ENQUEUED = "<enqueued>"
"""The ``wrapper`` of a site that is the receiver of one of ``_ENQUEUE_METHODS``."""
# What a receiver bound to one of these (by annotation or value) is: no project class's instance, so
# ``to_encode.update({...})`` on ``to_encode: dict[str, Any]`` calls no project method ``update``.
_BUILTIN_TYPES = frozenset(
    {"dict", "list", "set", "frozenset", "tuple", "str", "bytes", "bytearray", "Dict", "List", "Set", "FrozenSet",
     "Tuple", "Mapping", "MutableMapping", "Sequence", "MutableSequence", "MutableSet", "AbstractSet", "DefaultDict",
     "defaultdict", "OrderedDict", "Counter", "deque", "Deque"}
)  # fmt: skip
# Methods and functions whose result is plain data (a dict, a list): a response's decoded body, a model dumped.
_DATA_METHODS = frozenset({"json", "model_dump", "dict", "to_dict", "keys", "values", "items", "split", "splitlines"})
_DATA_LOADERS = frozenset({"json.loads", "orjson.loads", "ujson.loads", "yaml.safe_load", "tomllib.loads"})
# Standard-library functions that make a file or a process (``f = open(path)``, ``proc = await
# asyncio.create_subprocess_exec(...)``): ``f.write(...)``, ``proc.communicate()`` are their methods.
_STDLIB_FACTORIES = frozenset({
    "builtins.open", "io.open", "gzip.open", "bz2.open", "lzma.open", "os.fdopen", "os.popen",
    "tempfile.NamedTemporaryFile", "tempfile.TemporaryFile", "tempfile.SpooledTemporaryFile",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "subprocess.run",
    "socket.create_connection", "socket.socket",
})  # fmt: skip
# Words of a route's path that name signing in or out: the OAuth callback, the code exchange, a login form.
_SIGN_IN_WORDS = frozenset({"oauth", "oauth2", "oidc", "openid", "sso", "saml", "login", "logout", "signin", "signout"})
_PATH_WORD = re.compile(r"[a-z0-9]+")
_BUILTIN_VALUES = (ast.Dict, ast.List, ast.Set, ast.Tuple, ast.DictComp, ast.ListComp, ast.SetComp, ast.JoinedStr)
_EVENT_REGISTRATIONS = frozenset({"on_event", "add_event_handler"})
_STARTUP_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})
_LIFESPAN_DECORATORS = frozenset({"lifespan"})  # last name of a decorator that makes the function a lifespan
STARTED_AT_STARTUP = "background work started at start-up"
"""The label of an entry that runs per round of a background loop, not per request."""
_SCRIPT_RUNNERS = frozenset({"run"})  # asyncio.run / anyio.run / trio.run at module level: a script
_CLI_DECORATORS = frozenset({"command", "callback", "group"})
# Calls that start the web server: what the function making them does itself runs before any request.
_SERVER_STARTS = frozenset({"serve", "serve_http", "run_server", "start_server"})
_APP_CLASSES = frozenset({"FastAPI", "Starlette"})  # what is served, never included in another app
# A module importing one of these may build or serve the app (``main.py`` starting uvicorn on an app a
# factory made, and putting its own objects on ``app.state``).
_WEB_FRAMEWORKS = frozenset({"fastapi", "starlette", "uvicorn", "gunicorn", "hypercorn", "granian", "daphne"})
_TEST_DECORATORS = frozenset({"fixture", "parametrize"})  # pytest runs these, no app does
# Decorators of remote-execution libraries, by the library the module imports: the function's body runs
# in a worker process or a sandbox elsewhere (``@ray.remote``, Modal's ``@app.function(...)``), never
# in the server, however it is called (a direct call is refused; ``.remote(...)`` sends it away).
_REMOTE_DECORATORS = {"ray": frozenset({"remote"}), "modal": frozenset({"function", "cls"})}
# Decorators that leave a function called where it is named (its callers are still its callers).
# How many other files ``_only_annotated_elsewhere`` reads for a class's name before it gives up.
_ANNOTATION_FILES = 16


def _annotations(node: ast.AST) -> list[ast.expr]:
    """The annotations ``node`` holds itself: a parameter's, a function's return, an annotated assignment's."""
    if isinstance(node, ast.arg):
        return [node.annotation] if node.annotation is not None else []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.returns] if node.returns is not None else []
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


# Bases that never build an instance of a subclass themselves.
_INERT_BASES = frozenset({"builtins.object", "abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol"})
_TRANSPARENT_DECORATORS = frozenset(
    {"staticmethod", "classmethod", "property", "cached_property", "wraps", "override", "abstractmethod",
     "asynccontextmanager", "contextmanager", "lru_cache", "cache", "setter", "getter", "deleter",
     "overload", "final", "dataclass", "total_ordering", "singledispatch", "singledispatchmethod"}
)


@dataclass(frozen=True)
class Entry:
    """Where a request enters: a route (``GET /users/{user_id}``), a dependency, middleware..."""

    label: str
    path: str
    line: int

    def shown(self) -> str:
        return f"{self.label} ({_relative(self.path)}:{self.line})"


@dataclass(frozen=True)
class Reach:
    stage: Stage
    entries: tuple[Entry, ...] = ()
    operator_only: bool = False
    """Served, but only through routes an administrator must call (``analysis/audience.py``)."""

    @property
    def sign_in_only(self) -> bool:
        """Reached only from routes of signing in or out (``GET /auth/oauth/{provider}/callback``): they
        run once per login of a user, not once per call of the API."""
        return self.stage == "serving" and bool(self.entries) and all(_signs_in(e.label) for e in self.entries)

    @property
    def per_round_only(self) -> bool:
        """Reached only by background work started at start-up: once per round of a loop, not per request."""
        return self.stage == "serving" and bool(self.entries) and all(e.label == STARTED_AT_STARTUP for e in self.entries)

    @property
    def reported(self) -> bool:
        """Whether a line-level finding in the function is reported (serving, or not known not to be)."""
        return self.stage in ("serving", "unknown")

    def suffix(self) -> str:
        """``, reached from GET /users/{user_id} (app/routes.py:14) and 2 more`` (empty when no entry is known)."""
        if self.stage != "serving" or not self.entries:
            return ""
        first, more = self.entries[0], len(self.entries) - 1
        extra = f" and {more} more" if more else ""
        return f", reached from {first.shown()}{extra}"


@dataclass(frozen=True)
class _Answer:
    reach: Reach
    final: bool = True
    """Not cut short by a cycle (so it holds wherever the question started)."""
    cost: int = 1
    """Functions visited to work it out."""


UNKNOWN = Reach("unknown")
NONE = Reach("none")
STARTUP = Reach("startup")
DEVELOPMENT = Reach("development")


def _relative(path: str) -> str:
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if shown.startswith("..") else shown


def _settles(reach: Reach) -> bool:
    """A reach no other caller can change: from a route anyone may call, at any time."""
    return reach.stage == "serving" and not reach.operator_only and not reach.per_round_only and not reach.sign_in_only


def _combine(reaches: list[Reach]) -> Reach:
    if not reaches:
        return NONE
    best = max(reaches, key=lambda r: _RANK[r.stage])
    if best.stage != "serving":
        return best
    # Operator-only when every way in is: an unknown caller may be a public route.
    operator_only = all(r.operator_only for r in reaches if r.stage == "serving") and not any(
        r.stage == "unknown" for r in reaches
    )
    entries: dict[Entry, None] = {}
    for reach in reaches:
        if reach.stage == "serving":
            for entry in reach.entries:
                if len(entries) >= MAX_ENTRIES:
                    break
                entries.setdefault(entry, None)
    # A request's way in is named first, one of the API's before a sign-in's: the message says where a
    # request meets the code.
    ordered = sorted(entries, key=lambda entry: (entry.label == STARTED_AT_STARTUP, _signs_in(entry.label)))
    return Reach("serving", tuple(ordered), operator_only)


# -- what one module says ------------------------------------------------------------------------


@dataclass
class Definition:
    key: DefKey
    node: FunctionNode
    cls: ast.ClassDef | None
    """The class it is a method of."""
    parent: DefKey | None
    """The function it is nested in."""


class Site(NamedTuple):
    """One place a name is used: called, or handed somewhere.

    A tuple of strings and numbers: a module's thousands of sites are built fast, and the garbage
    collector stops tracking them once it has seen that they hold nothing it needs to follow.
    """

    owner: DefKey | None
    """The function the place runs in; None at module level (import time) or in a class body."""
    line: int
    called: bool
    attribute: bool
    """Named as an attribute (``x.name``) rather than a bare name."""
    wrapper: str | None
    """The name of the call it is an argument of (``Depends`` in ``Depends(get_db)``)."""
    keyword: str | None
    """The keyword it is passed as (``lifespan`` in ``FastAPI(lifespan=...)``)."""
    wrapper_text: str | None
    """The wrapper's first argument when it is a string (``"startup"`` in ``on_event("startup", f)``)."""
    in_main: bool
    """Inside ``if __name__ == "__main__":``."""
    receiver: str | None = None
    """For ``x.name``: ``x`` when it is a plain name (a module alias, ``self``...)."""


@dataclass
class ModuleFacts:
    path: str
    definitions: dict[DefKey, Definition] = field(default_factory=dict)
    spans: list[tuple[int, int, DefKey]] = field(default_factory=list)
    """(first line, last line, def) of every function, outermost first."""
    sites: dict[str, list[Site]] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    """Router name -> the ``prefix=`` it is built with (``router = APIRouter(prefix="/users")``)."""
    launchers: set[DefKey] = field(default_factory=set)
    """Functions that start the web server (``uvicorn.run(app)``, ``await server.serve()``)."""
    audience: ModuleAudience = field(default_factory=ModuleAudience)
    """The aliases and routers that make the module's routes operator-only."""
    tree: weakref.ref[ast.Module] | None = None
    """The module itself (held weakly: the facts are kept for as long as the tree is)."""

    def enclosing(self, line: int) -> Definition | None:
        """The innermost function whose body holds ``line``."""
        found: DefKey | None = None
        for first, last, key in self.spans:
            if first < line <= last or (first == line and self.definitions[key].node.body[0].lineno == line):
                found = key
        return self.definitions.get(found) if found is not None else None


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):  # ``router.get("/x")(handler)``: the decorator-call form
        return _name_of(node.func)
    return last_name(node)


class _Collector:
    """One walk of a module: its functions and every place a name is called or handed on."""

    def __init__(self, path: str) -> None:
        self.facts = ModuleFacts(path)

    def run(self, tree: ast.Module) -> ModuleFacts:
        self._body(tree.body, None, None, False)
        self._launchers_callers()
        return self.facts

    def _launchers_callers(self) -> None:
        """A module function that calls one of the module's launchers by name is one too: what it does
        runs before the server it has started takes a request (``main() -> run_server() -> serve()``)."""
        facts = self.facts
        pending = [key for key in facts.launchers if facts.definitions[key].cls is None]
        while pending:
            launcher = facts.definitions[pending.pop()]
            if launcher.parent is not None:
                continue  # a nested function is not what its bare name means elsewhere in the module
            for site in facts.sites.get(launcher.key[2], ()):
                if site.called and not site.attribute and site.owner is not None and site.owner not in facts.launchers:
                    facts.launchers.add(site.owner)
                    pending.append(site.owner)

    def _body(self, statements: list[ast.stmt], owner: DefKey | None, cls: ast.ClassDef | None, in_main: bool) -> None:
        for statement in statements:
            self._statement(statement, owner, cls, in_main)

    def _statement(self, node: ast.stmt, owner: DefKey | None, cls: ast.ClassDef | None, in_main: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            key: DefKey = (self.facts.path, node.lineno, node.name)
            self.facts.definitions[key] = Definition(key, node, cls, owner)
            self.facts.spans.append((node.lineno, node.end_lineno or node.lineno, key))
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]
            # ``Annotated[str, Depends(get_user)]`` names the dependency in an annotation.
            annotations = [a.annotation for a in arguments if a is not None and a.annotation is not None]
            for expr in [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d), *annotations]:
                self._expr(expr, owner, in_main)
            self._body(node.body, key, None, False)
            return
        if isinstance(node, ast.ClassDef):
            for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
                self._expr(expr, owner, in_main)
            self._body(node.body, owner, node, in_main)
            return
        if owner is None and isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            prefix = next((k.value for k in node.value.keywords if k.arg == "prefix"), None)
            if isinstance(prefix, ast.Constant) and isinstance(prefix.value, str) and _name_of(node.value.func) == "APIRouter":
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.facts.prefixes[target.id] = prefix.value
        if owner is None and isinstance(node, ast.If) and is_main_guard(node.test):
            self._body(node.body, None, cls, True)
            self._body(node.orelse, None, cls, in_main)
            return
        for child in child_nodes(node):
            if isinstance(child, ast.stmt):
                self._statement(child, owner, cls, in_main)
            elif isinstance(child, ast.expr):
                self._expr(child, owner, in_main)
            else:  # handlers, match cases, comprehensions' parts: walk what they hold
                for inner in child_nodes(child):
                    if isinstance(inner, ast.stmt):
                        self._statement(inner, owner, cls, in_main)
                    elif isinstance(inner, ast.expr):
                        self._expr(inner, owner, in_main)

    def _expr(
        self,
        node: ast.expr,
        owner: DefKey | None,
        in_main: bool,
        wrapper: str | None = None,
        keyword: str | None = None,
        wrapper_text: str | None = None,
    ) -> None:
        stack: list[tuple[ast.AST, str | None, str | None, str | None]] = [(node, wrapper, keyword, wrapper_text)]
        while stack:
            current, wrapped_by, passed_as, text = stack.pop()
            if isinstance(current, ast.Call):
                func = current.func
                name = _name_of(func)
                if name is not None and not isinstance(func, ast.Call):
                    self._site(name, current.lineno, owner, True, isinstance(func, ast.Attribute),
                               wrapped_by, passed_as, text, in_main, _receiver(func))
                # ``router.get("/x")(handler)``: the decorator-call form registers what it is handed.
                registering = func if isinstance(func, ast.Call) else current
                first = registering.args[0] if registering.args else None
                first_text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                handed_to = f"@{name}" if isinstance(func, ast.Call) and name is not None else name
                # The callee's own parts (``obj`` in ``obj.method()``) are not handed to anything.
                if isinstance(func, ast.Attribute):
                    enqueued = _ENQUEUED if func.attr in _ENQUEUE_METHODS else None
                    stack.append((func.value, enqueued, None, None))
                elif not isinstance(func, ast.Name):
                    stack.append((func, None, None, None))
                for argument in current.args:
                    stack.append((argument, handed_to, None, first_text))
                for kw in current.keywords:
                    stack.append((kw.value, handed_to, kw.arg, first_text))
                continue
            if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
                self._site(current.id, current.lineno, owner, False, False, wrapped_by, passed_as, text, in_main)
                continue
            if isinstance(current, ast.Attribute):
                self._site(current.attr, current.lineno, owner, False, True, wrapped_by, passed_as, text, in_main,
                           _receiver(current))
                stack.append((current.value, None, None, None))
                continue
            if isinstance(current, (ast.List, ast.Tuple, ast.Set, ast.Starred)):
                children = current.elts if not isinstance(current, ast.Starred) else [current.value]
                stack.extend((c, wrapped_by, passed_as, text) for c in children)
                continue
            if isinstance(current, ast.Dict):
                stack.extend((v, wrapped_by, passed_as, text) for v in current.values)
                stack.extend((k, None, None, None) for k in current.keys if k is not None)
                continue
            if isinstance(current, ast.Lambda):
                stack.append((current.body, None, None, None))
                continue
            for child in child_nodes(current):
                if isinstance(child, ast.expr):
                    stack.append((child, None, None, None))
                elif isinstance(child, ast.comprehension):
                    stack.extend((c, None, None, None) for c in [child.iter, child.target, *child.ifs])

    def _site(
        self, name: str, line: int, owner: DefKey | None, called: bool, attribute: bool,
        wrapper: str | None, keyword: str | None, text: str | None, in_main: bool, receiver: str | None = None,
    ) -> None:
        site = Site(owner, line, called, attribute, wrapper, keyword, text, in_main, receiver)
        self.facts.sites.setdefault(name, []).append(site)
        if called and owner is not None and (
            name in _SERVER_STARTS or (name == "run" and receiver in ("uvicorn", "hypercorn", "granian"))
        ):
            self.facts.launchers.add(owner)


def _builtin_annotation(names: Names, annotation: ast.expr, depth: int = 0) -> bool:
    """An annotation naming only built-in containers or strings (``Dict[str, Any]``), or ``TypedDict``
    classes (a dict at run time), optionally ``None`` too (``Optional[ThreadDict]``, ``dict | None``)."""
    if depth > 4:
        return False
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return depth > 0  # the ``None`` of an optional; alone, nothing to say
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _builtin_annotation(names, annotation.left, depth + 1) and _builtin_annotation(names, annotation.right, depth + 1)
    if isinstance(annotation, ast.Subscript):
        if last_name(annotation.value) in ("Optional", "Union"):
            inner = annotation.slice
            parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return all(_builtin_annotation(names, part, depth + 1) for part in parts)
        annotation = annotation.value
    if _is_builtin_type(names, annotation):
        return True
    return last_name(annotation) is not None and _is_typed_dict(names, annotation)


# Where the containers of ``_BUILTIN_TYPES`` come from; a project class of such a name is no container.
_CONTAINER_MODULES = frozenset({"builtins", "typing", "typing_extensions", "collections", "collections.abc"})


def _is_builtin_type(names: Names, node: ast.expr) -> bool:
    """``dict``, ``typing.Dict``, ``collections.Counter``: not a project class that shares the name."""
    if last_name(node) not in _BUILTIN_TYPES:
        return False
    if isinstance(node, ast.Name) and (node.id in names.bindings or node.id in names.classes or node.id in names.functions):
        return False
    dotted = names.qualify(node)
    if dotted is None:
        return isinstance(node, ast.Name) and node.id not in names.imports
    return dotted.rsplit(".", 1)[0] in _CONTAINER_MODULES


def _is_typed_dict(names: Names, node: ast.expr) -> bool:
    """A project class declared as a ``TypedDict`` (in this module or imported from another)."""
    cls = names.classes.get(node.id) if isinstance(node, ast.Name) else None
    if cls is None:
        try:
            symbol = names.project_symbol(node)
        except (RecursionError, ValueError, OSError):
            return False
        cls = symbol.module.names.classes.get(symbol.name) if symbol is not None else None
    return cls is not None and any(last_name(base) == "TypedDict" for base in cls.bases)


class _ReceiverJudge:
    """Whether a type or a value is foreign to a method's class (``target``): no object of it can run
    the method. Unknown is not foreign."""

    def __init__(
        self, names: Names, target: ProjectClass, caller_class: ast.ClassDef | None, scope: Scope | None = None
    ) -> None:
        self.names = names
        self.target = target
        self.caller_class = caller_class
        self.scope = scope
        """The calling function's names: what a copy's original is bound to (``rest = items.copy()``)."""
        self._line: list[ProjectClass] | None = None
        self.substitutable = False
        """What is judged is a dependency (``Depends``): its declared class may be overridden."""

    def at(self, owner: ProjectClass) -> _ReceiverJudge:
        """The judge for what ``owner``'s class body and methods declare, read with its module's names."""
        if owner.names is self.names:
            return self
        return _ReceiverJudge(owner.names, self.target, owner.node)

    def line(self) -> list[ProjectClass]:
        if self._line is None:
            self._line = lineage(self.target)
        return self._line

    def declaration(self, annotation: ast.expr | None, value: ast.expr | None) -> bool:
        if annotation is not None:
            # ``self.sms: BaseNotifier = SmsNotifier()``: what is built there counts as much as what is written.
            return self.annotation(annotation) and not (isinstance(value, ast.Call) and self._builds_target(value))
        return value is not None and self.value(value)

    def annotation(self, annotation: ast.expr, depth: int = 0) -> bool:
        if depth > 4:
            return False
        names = self.names
        if _builtin_annotation(names, annotation):
            return True
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            parts = [annotation.left, annotation.right]
        elif isinstance(annotation, ast.Subscript) and last_name(annotation.value) in ("Optional", "Union"):
            inner = annotation.slice
            parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        else:
            return self._class(annotation.value if isinstance(annotation, ast.Subscript) else annotation)
        real = [part for part in parts if not (isinstance(part, ast.Constant) and part.value is None)]
        return bool(real) and all(self.annotation(part, depth + 1) for part in real)

    def value(self, value: ast.expr, depth: int = 0) -> bool:
        names = self.names
        if isinstance(value, ast.Await):
            value = value.value
        original = _copied(names, value)
        if original is not None:
            # A copy is of its original's type: ``items.copy()`` of a list, ``copy.copy(TEMPLATE)`` of a repository.
            return depth < 4 and self._bound_value(original, depth + 1)
        if isinstance(value, _BUILTIN_VALUES) or (isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes))):
            return True
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Name) and _is_builtin_type(names, func):
            return True
        returns = self._returns(func)
        if returns is not None:
            return self.annotation(returns)  # the project's own ``to_dict()`` may return anything
        if isinstance(func, ast.Attribute) and func.attr in _DATA_METHODS:
            return True
        qualified = names.qualify(func)
        if qualified in _DATA_LOADERS or qualified in _STDLIB_FACTORIES:
            return True
        return self._class(func, exact=True)

    def _bound_value(self, node: ast.expr, depth: int) -> bool:
        """Whether what a local name holds is foreign (by its annotation or value in the calling function)."""
        if not isinstance(node, ast.Name):
            return self.value(node, depth)
        if self.scope is None or node.id in self.scope.unknown:
            return False
        annotation = self.scope.annotations.get(node.id)
        if annotation is not None:
            return self.annotation(annotation)
        bound = self.scope.values.get(node.id)
        return bound is not None and self.value(bound, depth)

    def _builds_target(self, value: ast.Call) -> bool:
        """Whether ``value`` calls a project class that is not foreign to the target (its own class or a
        subclass of it)."""
        func = value.func
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        try:
            located = self.names.project_class(func)
        except (RecursionError, ValueError, OSError):
            return False
        return located is not None and not self.value(value)

    def _unrelated(self, held: ProjectClass) -> bool:
        """Whether an object declared as the project class ``held`` cannot run the target's method: the
        classes are not one another's bases, ``held`` is no protocol or proxy, and no project class
        derives from both (a mixin putting the target's method into a subclass of ``held``)."""
        if self.substitutable:
            return False  # a dependency: ``app.dependency_overrides`` may put another implementation there
        held_line = lineage(held)
        if any(same_class(c, self.target) for c in held_line) or any(same_class(c, held) for c in self.line()):
            return False
        if any(_names_protocol(c) for c in held_line) or any(
            _defines(c.node, "__getattr__") or _defines(c.node, "__getattribute__") for c in held_line
        ):
            return False
        if any(_library_based(c) for c in held_line):
            return False  # a library base may proxy anything (``wrapt.ObjectProxy``, ``LocalProxy``)
        key = (_statement_key(held), _statement_key(self.target))
        known = _UNRELATED.get(key)
        if known is None:
            below = subclasses(self.target)
            known = below is not None and not any(any(same_class(c, held) for c in lineage(sub)) for sub in below)
            if len(_UNRELATED) > 4096:
                _UNRELATED.clear()
            _UNRELATED[key] = known
        return known

    def _returns(self, func: ast.expr) -> ast.expr | None:
        """The return annotation of the project function or method ``func`` names, if it has one."""
        if (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
            and self.caller_class is not None
        ):
            for stmt in self.caller_class.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == func.attr:
                    return stmt.returns
            return None
        try:
            found = self.names.resolve_function(func)
        except (RecursionError, ValueError, OSError):
            return None
        return found[1].returns if found is not None else None

    def _class(self, named: ast.expr, exact: bool = False) -> bool:
        """A library class the target does not derive from, or (``exact``: the class is called, so the
        object is of that very class) a project class that does not derive from the target. A project
        class named only as a type is never foreign: an object of it may be of a subclass that also
        derives from the target (a mixin), or, for a protocol, of any class at all."""
        if not isinstance(named, (ast.Name, ast.Attribute)):
            return False
        try:
            located = self.names.project_class(named)
        except (RecursionError, ValueError, OSError):
            located = None
        if located is not None:
            if not exact:
                return self._unrelated(ProjectClass(*located))
            line = lineage(ProjectClass(*located))
            if any(_defines(c.node, "__getattr__") or _defines(c.node, "__getattribute__") for c in line):
                return False  # a proxy: it hands any method on to the object it wraps
            return not any(same_class(c, self.target) for c in line)
        dotted = self.names.qualify(named)
        if dotted is None or "." not in dotted or dotted.startswith(("typing.", "typing_extensions.", "builtins.")):
            return False
        short = dotted.rsplit(".", 1)[-1]
        if not short[:1].isupper():
            return False  # a function: what it returns is not known here
        if _names_the_project(self.names, dotted):
            return False  # an alias the project binds (``RepoDep = Annotated[Repo, Depends(...)]``, ``Users = UserRepo``)
        derived = {last_name(base.value if isinstance(base, ast.Subscript) else base) for c in self.line() for base in c.node.bases}
        return short not in derived


# Standard-library classes whose objects carry whatever the program puts on them.
_OPEN_STDLIB_CLASSES = frozenset({
    "threading.local", "types.SimpleNamespace", "argparse.Namespace", "contextvars.ContextVar", "queue.Queue",
    "asyncio.Queue", "collections.ChainMap", "functools.partial", "weakref.ref", "weakref.WeakValueDictionary",
})


def _stdlib_class(names: Names, func: ast.expr) -> bool:
    """A call of a standard-library class (``subprocess.Popen``), one that holds only its own data."""
    dotted = names.qualify(func)
    if dotted is None or "." not in dotted or dotted in _OPEN_STDLIB_CLASSES:
        return False
    top, short = dotted.split(".", 1)[0], dotted.rsplit(".", 1)[-1]
    return top in sys.stdlib_module_names and short[:1].isupper() and top not in ("typing", "builtins")


def _item_annotation(annotation: ast.expr) -> ast.expr | None:
    """``X`` for ``list[X]``, ``Sequence[X]``, ``set[X]``, ``tuple[X, ...]`` (one item type)."""
    if not isinstance(annotation, ast.Subscript) or last_name(annotation.value) not in _SEQUENCES:
        return None
    inner = annotation.slice
    if isinstance(inner, ast.Tuple):
        if len(inner.elts) == 2 and isinstance(inner.elts[1], ast.Constant) and inner.elts[1].value is Ellipsis:
            return inner.elts[0]
        return None
    return inner


_SEQUENCES = frozenset({
    "list", "List", "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple", "Sequence", "MutableSequence",
    "Iterable", "Collection", "deque", "Deque", "AbstractSet", "MutableSet",
})


def _loop_sources(func: FunctionNode, name: str) -> list[ast.expr] | None:
    """What the ``for`` loops binding ``name`` walk, when such loops are the name's only bindings in
    the function (a name also assigned, or a parameter, may hold something else)."""
    if any(arg.arg == name for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)):
        return None
    found: list[ast.expr] = []
    stores = 0
    for node in walk_shallow(func):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            stores += 1
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name) and node.target.id == name:
            found.append(node.iter)
    return found if found and stores == len(found) else None


def _foreign_items(names: Names, caller_class: ast.ClassDef | None, iterated: ast.expr, judge: _ReceiverJudge) -> bool:
    """Whether every item of what a ``for`` loop walks is foreign: a tuple or list written out
    (``for pipe in (proc.stdin, proc.stdout)``), or a container whose annotation names its item
    type (``self.workers: list[multiprocessing.Process]``)."""
    if isinstance(iterated, (ast.Tuple, ast.List, ast.Set)):
        elements = iterated.elts
        return bool(elements) and all(
            judge.value(element) or _stdlib_attribute(names, caller_class, element) for element in elements
        )
    if not (isinstance(iterated, ast.Attribute) and isinstance(iterated.value, ast.Name) and iterated.value.id == "self"):
        return False
    if caller_class is None:
        return False
    found = declarations(ProjectClass(names, caller_class), iterated.attr)
    if not found:
        return False
    for declared in found:
        item = _item_annotation(declared.annotation) if declared.annotation is not None else None
        if item is None or not judge.at(declared.owner).annotation(item):
            return False
    return True


def _stdlib_attribute(names: Names, caller_class: ast.ClassDef | None, node: ast.expr) -> bool:
    """``self.process.stdin`` where ``self.process`` holds an object made by a standard-library
    class (``subprocess.Popen(...)``): what such an object's attributes hold is the standard
    library's own (pipes, sockets, numbers), never a project object."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and caller_class is not None):
        return False
    holder = node.value
    if not (isinstance(holder.value, ast.Name) and holder.value.id == "self"):
        return False
    found = declarations(ProjectClass(names, caller_class), holder.attr)
    return bool(found) and all(
        d.value is not None and isinstance(d.value, ast.Call) and _stdlib_class(d.owner.names, d.value.func) for d in found
    )


def _defines(cls: ast.ClassDef, name: str) -> bool:
    return any(isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name for stmt in cls.body)


def _class_held(names: Names, annotation: ast.expr | None, value: ast.expr | None) -> ProjectClass | None:
    """The project class a name holds an instance of, by its annotation (``server: "SyncServer"``,
    ``Annotated[SyncServer, Depends(...)]``) or the call of the class it is bound to."""
    named: ast.expr | None = None
    if annotation is not None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Annotated":
            inner = annotation.slice
            annotation = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        named = annotation
    elif isinstance(value, ast.Call):
        named = value.func
    if not isinstance(named, (ast.Name, ast.Attribute)):
        return None
    try:
        located = names.project_class(named)
    except (RecursionError, ValueError, OSError):
        return None
    return ProjectClass(*located) if located is not None else None


def _own_method_elsewhere(caller: ProjectClass, target: ProjectClass, name: str) -> bool:
    """``self.name(...)`` in a class that defines ``name`` itself and is neither the target's class
    nor one of its bases: the call runs the caller's own method (or an override in the caller's
    subclasses), never the target's (a sibling class's method of the same name)."""
    if same_class(caller, target) or not _defines(caller.node, name):
        return False
    if any(same_class(base, caller) for base in lineage(target)):
        return False
    # A third class may put the target's class before the caller in its method order (a mixin,
    # ``class ItemService(HttpFetchMixin, BaseService)``): then ``self.m()`` in the caller runs the
    # target's ``m``. Only a subclass of the caller that also derives from the target can.
    key = (_statement_key(caller), _statement_key(target), name)
    known = _OWN_ELSEWHERE.get(key)
    if known is None:
        below = subclasses(caller)
        known = below is not None and not any(_runs(sub, name, target) for sub in below)
        if len(_OWN_ELSEWHERE) > 4096:
            _OWN_ELSEWHERE.clear()
        _OWN_ELSEWHERE[key] = known
    return known


# (calling class, method's class, method) -> ``_own_method_elsewhere``'s answer.
_OWN_ELSEWHERE: dict[tuple[tuple[str, int], tuple[str, int], str], bool] = {}


def _runs(cls: ProjectClass, name: str, target: ProjectClass) -> bool:
    """Whether an object of ``cls`` runs ``target``'s ``name``: the first class of its method order
    (read depth-first, left to right) that defines it is ``target``."""
    for owner in lineage(cls):
        if _defines(owner.node, name):
            return same_class(owner, target)
    return False


def _names_the_project(names: Names, dotted: str) -> bool:
    """Whether ``dotted`` names something of the project: a binding of a project module (an alias of
    a class, an ``Annotated`` dependency) or any name under a project module."""
    resolver = names.resolver
    if resolver is None:
        return False
    try:
        if resolver.symbol(dotted) is not None:
            return True
    except (RecursionError, ValueError, OSError):
        return True
    module = dotted.rsplit(".", 1)[0]
    if resolver.module(module) is not None:
        return True
    # A package of the project the index does not resolve (a workspace member under ``libs/core/src/core``).
    return resolver.index.has_directory(resolver.filename, dotted.split(".", 1)[0])


def _bound_around(names: Names, facts: ModuleFacts, definition: Definition, name: str) -> bool:
    """Whether a function ``definition`` is nested in binds ``name`` (a generator closing over its
    route's ``queue = EventQueue(path)``)."""
    return _binding_scope(names, facts, definition, name) is not None


_UNREAD = Scope()
"""What ``_binding_scope`` answers past its depth: bound somewhere, nothing known of how."""


def _binding_scope(names: Names, facts: ModuleFacts, definition: Definition, name: str) -> Scope | None:
    """The scope of the nearest function ``definition`` is nested in that binds ``name``; None when
    none does."""
    parent = facts.definitions.get(definition.parent) if definition.parent is not None else None
    for _ in range(8):
        if parent is None:
            return None
        scope = names.scope(parent.node)
        if _binds(scope, name):
            return scope
        parent = facts.definitions.get(parent.parent) if parent.parent is not None else None
    return _UNREAD


def _binds(scope: Scope, name: str) -> bool:
    """Whether the function ``scope`` describes binds ``name`` (a parameter, an assignment, a loop...)."""
    return name in scope.values or name in scope.params or name in scope.unknown or name in scope.annotations


def _library_import(names: Names, name: str) -> bool:
    """Whether the module-level ``name`` is an import from outside the project (``json`` in
    ``json.load(f)``, ``from redis import client``): its methods are the library's, never a project class's."""
    dotted = names.imports.get(name)
    if dotted is None or name in names.bindings or any(name in g.names for g in names.nodes.of(ast.Global)):
        return False  # not imported, or bound again at module level or by a function's ``global``
    return not _names_the_project(names, dotted)


def _copied(names: Names, value: ast.expr) -> ast.expr | None:
    """The original of a shallow or deep copy: ``x`` in ``x.copy()``, ``copy.copy(x)``, ``copy.deepcopy(x)``."""
    if not (isinstance(value, ast.Call) and not value.keywords):
        return None
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "copy" and not value.args:
        if names.qualify(func) is not None:
            return None  # ``copy.copy`` spelled as an attribute of the module, below
        return func.value
    if len(value.args) == 1 and names.qualify(func) in ("copy.copy", "copy.deepcopy"):
        return value.args[0]
    return None


# (held class, target class), each as (real path, line) -> whether they are unrelated (``_unrelated``).
_UNRELATED: dict[tuple[tuple[str, int], tuple[str, int]], bool] = {}


def _statement_key(cls: ProjectClass) -> tuple[str, int]:
    resolver = cls.names.resolver
    path = os.path.realpath(resolver.filename) if resolver is not None else ""
    return (path, cls.node.lineno)


def _names_protocol(cls: ProjectClass) -> bool:
    """A ``typing.Protocol``: any class with the methods is one, whatever its bases."""
    return any(last_name(base.value if isinstance(base, ast.Subscript) else base) == "Protocol" for base in cls.node.bases)


def _receiver(node: ast.expr) -> str | None:
    """``x`` for ``x.name``; ``x.attr`` for ``x.attr.name`` (``self.repo``, ``server.run_manager``);
    ``celery.result.AsyncResult()`` for ``AsyncResult(task_id).name`` (a method of what a call makes)."""
    if not isinstance(node, ast.Attribute):
        return None
    value = node.value
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        return f"{value.value.id}.{value.attr}"  # ``self.repo.get()``, ``server.run_manager.get()``
    if isinstance(value, ast.Call):
        callee = _dotted(value.func)
        return f"{callee}{MADE_BY_CALL}" if callee is not None else None
    return None


MADE_BY_CALL = "()"
"""The end of a ``Site.receiver`` that is the object a call returns (``AsyncResult()``)."""


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


_FACTS: weakref.WeakKeyDictionary[ast.Module, ModuleFacts] = weakref.WeakKeyDictionary()


def module_facts(tree: ast.Module, path: str) -> ModuleFacts:
    """The functions and name uses of one module, computed once per parsed tree."""
    known = _FACTS.get(tree)
    if known is None or known.path != path:
        known = _FACTS[tree] = _Collector(path).run(tree)
        known.audience = module_audience(tree)
        known.tree = weakref.ref(tree)
    return known


# -- the question --------------------------------------------------------------------------------


def _decorator_name(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return _name_of(target)


def _signs_in(label: str) -> bool:
    """A route label (``GET /oauth/{provider}/callback``) whose path has a word of signing in or out."""
    _, _, path = label.partition(" ")
    return path.startswith("/") and not _SIGN_IN_WORDS.isdisjoint(_PATH_WORD.findall(path.lower()))


def _route_label(decorator: ast.expr, prefixes: dict[str, str] | None = None) -> str | None:
    """``GET /users/{user_id}`` for a route decorator, else None; ``prefixes`` are the module's routers'
    own prefixes (``APIRouter(prefix="/users")``), put in front of the path."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    attr = decorator.func.attr
    if attr not in ROUTE_DECORATORS:
        return None
    path_node = decorator.args[0] if decorator.args else next((k.value for k in decorator.keywords if k.arg == "path"), None)
    if path_node is None:
        return None
    if isinstance(path_node, ast.Constant) and isinstance(path_node.value, str):
        path = path_node.value
        if path and not path.startswith("/"):
            return None  # ``cache.get("key")``-shaped: not a route
    elif isinstance(path_node, (ast.JoinedStr, ast.Name, ast.Attribute, ast.BinOp)):
        path = ast.unparse(path_node)
    else:
        return None
    owner = decorator.func.value
    if prefixes and isinstance(owner, ast.Name) and owner.id in prefixes:
        path = prefixes[owner.id].rstrip("/") + path if path else prefixes[owner.id]
    if attr in ("websocket", "websocket_route"):
        method = "WEBSOCKET"
    elif attr in ("api_route", "route"):
        method = "ROUTE"
    else:
        method = attr.upper()
    return f"{method} {path}"


class ServingPath:
    """Answers "does a running app reach this function, and from where" for one project (one per process)."""

    def __init__(self, index: ProjectIndex | None) -> None:
        self.index = index
        self._answers: dict[DefKey, _Answer] = {}
        self._library: dict[str, bool] = {}
        self._development_routers: dict[tuple[str, str], bool] = {}
        self._programs: dict[str, bool] = {}
        self._unbuilt: dict[DefKey, bool] = {}

    # -- the project --------------------------------------------------------------------------
    def is_library(self, anchor: str | None, tree: ast.Module) -> bool:
        """No app and no router anywhere in the project: nothing to follow."""
        if self.index is None or anchor is None:
            return not any(
                isinstance(n, ast.Call) and _name_of(n.func) in ("FastAPI", "APIRouter", "Starlette", "Router")
                for n in ast.walk(tree)
            )
        root = self.index.project_root(anchor)
        if root not in self._library:
            found = False
            for word in ("FastAPI", "APIRouter", "Starlette"):
                files = self.index.files_mentioning(anchor, word)
                if files is None or files:
                    found = True  # too large to read whole counts as "has an app": answers become unknown
                    break
            self._library[root] = not found
        return self._library[root]

    # -- one function -------------------------------------------------------------------------
    def reach(self, facts: ModuleFacts, definition: Definition) -> Reach:
        """Where ``definition`` (of the module ``facts`` describes) is reached from."""
        return self._reach(definition, {facts.path: facts}, set()).reach

    def _reach(self, definition: Definition, local: dict[str, ModuleFacts], visiting: set[DefKey]) -> _Answer:
        """The answer for one function. Final answers are remembered for the process; one cut short by
        a cycle depends on where the question started and is not. What an answer costs (functions
        visited, a remembered one charged what it cost when it was worked out) is the same whichever
        file asked first, so a serial and a parallel run answer alike."""
        key = definition.key
        known = self._answers.get(key)
        if known is not None:
            return known
        if key in visiting:
            return _Answer(NONE, False, 1)  # a cycle adds nothing the other callers do not
        visiting.add(key)
        try:
            answer = self._decide(definition, local, visiting)
        finally:
            visiting.discard(key)
        if answer.final:
            self._answers[key] = answer
        return answer

    def _decide(self, definition: Definition, local: dict[str, ModuleFacts], visiting: set[DefKey]) -> _Answer:
        node = definition.node
        path, line, name = definition.key
        if self.index is not None and self.index.shadowed(path):
            return _Answer(NONE)  # dead code: ``import`` finds the package of the same name beside the file
        unknown_decorator = False
        for decorator in node.decorator_list:
            label = _route_label(decorator, local[path].prefixes)
            if label is not None:
                if self._development_route(definition, decorator, local, visiting):
                    return _Answer(DEVELOPMENT)
                operator_only = local[path].audience.route_is_operator_only(node, decorator)
                return _Answer(Reach("serving", (Entry(label, path, decorator.lineno),), operator_only))
            decorated = _decorator_name(decorator)
            if decorated in ("exception_handler", "middleware"):
                return _Answer(Reach("serving", (Entry(f"{decorated.replace('_', ' ')} `{name}`", path, line),)))
            if decorated == "on_event" or decorated in _LIFESPAN_DECORATORS:
                # ``@svcs.fastapi.lifespan`` wraps the app's lifespan: it runs once, at start-up and shutdown,
                # however the wrapped object is handed on (``attrs.evolve(lifespan, registry=...)``).
                return _Answer(STARTUP)
            if decorated in _CLI_DECORATORS or decorated in _TEST_DECORATORS or self._runs_remotely(path, decorated):
                return _Answer(NONE)
            if decorated not in _TRANSPARENT_DECORATORS:
                unknown_decorator = True
        if definition.key in local[path].launchers:
            return _Answer(STARTUP)  # what runs before the server it starts takes a request
        cls = definition.cls
        if cls is not None and name in ("dispatch", "__call__") and _is_middleware_class(cls):
            return _Answer(Reach("serving", (Entry(f"middleware `{cls.name}`", path, cls.lineno),)))
        searched = self._search_name(definition)
        sites = self._sites(definition, searched, local) if searched is not None else None
        if sites is None:
            return self._reached_through_self(definition, searched, local, visiting)
        reaches: list[Reach] = []
        final = True
        cost = 1
        serving_at = -1
        for number, (site_facts, site) in enumerate(sites):
            answer = self._site_reach(site_facts, site, local, visiting)
            final = final and answer.final
            cost += answer.cost
            if cost > MAX_VISITS:
                served = [r for r in reaches if r.stage == "serving"]
                if served:  # reached, through operator-only routes so far: who else calls is unknown
                    return _Answer(_combine([*served, UNKNOWN]), final, cost)
                return _Answer(UNKNOWN, final, cost)  # too far to follow
            reaches.append(answer.reach)
            # Reached from a route anyone may call: settled. Reached only from operator-only routes, only
            # from signing in, or only by background work started at start-up, so far: the other callers
            # are followed too, since one public caller makes it public and one request makes it per
            # request.
            if _settles(answer.reach):
                serving_at = number
                break
        if serving_at >= 0:
            # Reached: the other uses are only counted (``and 2 more``), where they are entries
            # themselves, rather than followed.
            for site_facts, site in sites[serving_at + 1:]:
                direct = self._direct_entry(site_facts, site)
                if direct is not None:
                    reaches.append(direct)
            return _Answer(_combine(reaches), final, cost)
        if not reaches:
            if definition.parent is not None:
                parent = local[path].definitions.get(definition.parent) if path in local else None
                if parent is not None:
                    above = self._reach(parent, local, visiting)
                    return _Answer(above.reach, above.final, cost + above.cost)
            if unknown_decorator and self._standalone_registration(definition, local):
                return _Answer(NONE)
            if unknown_decorator or name.startswith("__") or (cls is not None and self._library_may_call(path, cls)):
                return _Answer(UNKNOWN)
            return _Answer(NONE, final, cost)
        return _Answer(_combine(reaches), final, cost)

    def _library_may_call(self, path: str, cls: ast.ClassDef) -> bool:
        """Whether a library class may call the method itself: ``cls`` or one of its project bases has
        a base the project does not define (other than ``object``, ``ABC``, ``Generic[...]`` and
        ``Protocol``, which call nothing)."""
        if not _has_outside_bases(cls):
            return False
        module = self.index.module(path) if self.index is not None else None
        if module is None:
            return True
        held = ProjectClass(module.names, cls)
        below = subclasses(held)
        if below is None:
            return True
        for owner in (*lineage(held), *below):
            if _library_based(owner):
                return True  # a base the project does not define
            if _calls_by_name(owner.node):
                return True  # ``getattr(self, f"on_{kind}")``, a class decorator collecting methods, ``__init_subclass__``
        return False

    def _runs_remotely(self, path: str, decorated: str | None) -> bool:
        """A decorator of a remote-execution library the module imports (``_REMOTE_DECORATORS``)."""
        if decorated is None or self.index is None:
            return False
        module = self.index.module(path)
        if module is None:
            return False
        return any(decorated in names and module.names.imports_library((library,)) for library, names in _REMOTE_DECORATORS.items())

    def _reached_through_self(
        self, definition: Definition, word: str | None, local: dict[str, ModuleFacts], visiting: set[DefKey]
    ) -> _Answer:
        """A method whose name too many files use to search them (``get``, ``run``): its class's other
        methods still call it as ``self.get(...)``, and such a call runs it. One of them reached by
        any request settles the question; otherwise who else calls the method stays unknown."""
        cls = definition.cls
        facts = local.get(definition.key[0])
        if cls is None or word is None or facts is None:
            return _Answer(UNKNOWN)
        final = True
        cost = 1
        for site in facts.sites.get(word, ()):
            if not (site.attribute and site.called and site.receiver in ("self", "cls")) or site.owner == definition.key:
                continue
            owner = facts.definitions.get(site.owner) if site.owner is not None else None
            if owner is None or owner.cls is not cls:
                continue  # another class's ``self``: a method of the same name there
            answer = self._site_reach(facts, site, local, visiting)
            final = final and answer.final
            cost += answer.cost
            if cost > MAX_VISITS:
                break
            reach = answer.reach
            if _settles(reach):
                return _Answer(reach, final, cost)
        return _Answer(UNKNOWN, final, cost)

    def _standalone_registration(self, definition: Definition, local: dict[str, ModuleFacts]) -> bool:
        """Whether every decorator that registers the function hands it to an object only a program of
        its own runs: ``@mcp.tool()`` with ``mcp = FastMCP(...)`` made by the module, ``mcp.run()``
        under its ``if __name__ == "__main__":``, and the object used nowhere else in the project but
        in such blocks (a package may re-export it). The web app never serves what it registers; an
        object also mounted on the app (``app.mount("/mcp", mcp.sse_app())``) is a use elsewhere."""
        path = definition.key[0]
        facts = local.get(path)
        tree = facts.tree() if facts is not None and facts.tree is not None else None
        if tree is None:
            return False
        registries: set[str] = set()
        for decorator in definition.node.decorator_list:
            if _decorator_name(decorator) in _TRANSPARENT_DECORATORS:
                continue
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                return False
            registries.add(target.value.id)
        return bool(registries) and all(self._runs_alone(path, tree, registry) for registry in registries)

    def _runs_alone(self, path: str, tree: ast.Module, registry: str) -> bool:
        """Whether the module-level object ``registry`` of the module at ``path`` is only run by a
        ``__main__`` block (see ``_standalone_registration``)."""
        made = [
            s for s in tree.body
            if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == registry for t in s.targets)
        ]
        if len(made) != 1 or not isinstance(made[0].value, ast.Call):
            return False
        if _name_of(made[0].value.func) in {*_APP_CLASSES, "APIRouter", "Router"}:
            return False  # the app itself, or a router the app includes
        decorating: set[int] = set()
        in_main: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                decorating.update(id(inner) for d in node.decorator_list for inner in ast.walk(d))
        for statement in tree.body:
            if isinstance(statement, ast.If) and is_main_guard(statement.test):
                in_main.update(id(inner) for inner in ast.walk(statement))
        run_in_main = False
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and node.id == registry and isinstance(node.ctx, ast.Load)):
                continue
            if id(node) in in_main:
                run_in_main = True
            elif id(node) not in decorating:
                return False  # handed on, mounted, called outside a script's block
        if not run_in_main:
            return False
        if self.index is None:
            return True
        mentioning = self.index.files_mentioning(path, registry)
        if mentioning is None or len(mentioning) > MAX_FILES_PER_NAME:
            return False
        real = self.index.real_path(path)
        for file in mentioning:
            if self.index.real_path(file) == real or _is_test_path(file):
                continue
            if not self._used_only_by_scripts(file, path, registry):
                return False
        return True

    def _used_only_by_scripts(self, file: str, path: str, registry: str) -> bool:
        """Whether ``file`` uses the object ``registry`` of the module at ``path`` only inside its
        ``__main__`` block, or only imports it (a package re-exporting it)."""
        assert self.index is not None
        named = self._import_names(path, registry, file)
        module = self.index.module(file)
        if named is None or module is None:
            return False
        bare, receivers = named
        facts = module_facts(module.names.tree, file)
        for local_name in bare:
            if any(not site.in_main for site in facts.sites.get(local_name, ()) if not site.attribute):
                return False
        for site in facts.sites.get(registry, ()):
            if site.attribute and site.receiver in receivers and not site.in_main:
                return False
        return True

    def _program_only(self, path: str) -> bool:
        """Whether the module at ``path`` is a program of its own: it has a ``__main__`` block, imports
        no web framework, and no other project file names it (no import, no import string). The objects
        its classes make exist only while that program runs, in its own process; a method call in the
        server's code (``await session.run(...)`` on a database session) is another class's method."""
        if self.index is None or os.path.basename(path) == "__init__.py":
            return False
        known = self._programs.get(path)
        if known is None:
            module = self.index.module(path)
            known = (
                module is not None
                and any(isinstance(s, ast.If) and is_main_guard(s.test) for s in module.names.tree.body)
                and not module.names.imports_library(_WEB_FRAMEWORKS)
                and not self._named_elsewhere(path)
            )
            self._programs[path] = known
        return known

    def _named_elsewhere(self, path: str, depth: int = 0) -> bool:
        """Whether another project file imports the module at ``path`` or holds its name in a string that
        could import it (``"pkg.tools.cleanup"``, ``"pkg.tools.cleanup:main"``); prose in a comment or
        docstring that mentions the module is no use of it, and neither is a re-export by its package's
        ``__init__`` that nothing else names in turn."""
        assert self.index is not None
        word = _module_word(path)
        mentioning = self.index.files_mentioning(path, word)
        texts = self.index.project_texts(path)
        if mentioning is None or texts is None:
            return True
        real = self.index.real_path(path)
        named = re.compile(rb"[\"'][\w.]*\b" + re.escape(word.encode()) + rb"\b[\w.:]*[\"']")
        if self._package_imported_by_pattern(path):
            return True
        for file in mentioning:
            if self.index.real_path(file) == real:
                continue
            if os.path.basename(file) == "__init__.py" and os.path.dirname(file) == os.path.dirname(path) and depth < 4:
                if self._named_elsewhere(file, depth + 1):
                    return True
                continue
            if word in self.index.import_words(file):
                return True
            text = texts.get(self.index.real_path(file))
            if text is None or named.search(text):
                return True
        return False

    def _package_imported_by_pattern(self, path: str) -> bool:
        """Whether a project file builds module names of the package holding ``path`` at run time:
        ``import_module(f"agent.tools.{name}")``, ``"agent.tools." + name`` (plugins found by name)."""
        assert self.index is not None
        package = os.path.basename(os.path.dirname(path))
        texts = self.index.project_texts(path)
        mentioning = self.index.files_mentioning(path, package)
        if not package or texts is None or mentioning is None:
            return True
        built = re.compile(rb"\b" + re.escape(package.encode()) + rb"\.(?:\{|[\"']\s*\+)")
        for file in mentioning:
            text = texts.get(self.index.real_path(file))
            if text is None or built.search(text):
                return True
        return False

    def _search_name(self, definition: Definition) -> str | None:
        """The word whose uses are this function's callers (the class name for ``__init__``), or None
        for a dunder method called by the language rather than by name."""
        name = definition.key[2]
        if name == "__init__" and definition.cls is not None:
            return definition.cls.name
        if name.startswith("__") and name.endswith("__"):
            return None
        return name

    def _importer_check(self, definition: Definition, word: str, file: str) -> Callable[[Site], bool] | None:
        """For a module's function (or a class, for ``__init__``): which uses in ``file`` name *it*
        rather than another function of the same name. None accepts every use (nothing to check with)."""
        path = definition.key[0]
        if self.index is None:
            return None
        if file == path:
            return lambda site: not site.attribute or site.receiver not in ("self", "cls")
        module = self.index.module(file)
        resolver = module.names.resolver if module is not None else None
        if module is None or resolver is None:
            return None
        names = module.names
        index = self.index
        if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in names.tree.body):
            return None  # ``from x import *``: names come in unseen
        real = self.index.real_path(path)

        def names_it(dotted: str | None) -> bool:
            if dotted is None:
                return False
            symbol = resolver.symbol(dotted)
            return symbol is not None and symbol.name == word and index.real_path(symbol.module.path) == real

        bare = names_it(names.imports.get(word))
        receivers: dict[str, bool] = {}

        def accepts(site: Site) -> bool:
            if not site.attribute:
                return bare
            receiver = site.receiver
            if receiver is None or receiver not in names.imports:
                return False
            if receiver not in receivers:
                receivers[receiver] = names_it(f"{names.imports[receiver]}.{word}")
            return receivers[receiver]

        return accepts

    def _importers(self, path: str, files: list[str]) -> list[str]:
        """Of ``files``, those that are ``path`` or import its module by name (or a package that re-exports it)."""
        assert self.index is not None
        stems = {_module_word(path)}
        for file in files:
            if os.path.basename(file) == "__init__.py" and stems & self.index.import_words(file):
                stems.add(os.path.basename(os.path.dirname(file)))
        return [f for f in files if f == path or stems & self.index.import_words(f)]

    def _sites(self, definition: Definition, word: str, local: dict[str, ModuleFacts]) -> list[tuple[ModuleFacts, Site]] | None:
        """Every use of ``word`` that may call the function; None when the name is too common to
        follow or the project too large to have been read."""
        path = definition.key[0]
        method = definition.cls is not None and definition.key[2] != "__init__"
        files: list[str]
        if self.index is None:
            files = [path]
        else:
            found = self.index.files_mentioning(path, word)
            if found is None:
                return None
            if definition.cls is None and definition.parent is None:
                # A module's function is used where the module is imported: ``from .crud import
                # get_user``, ``crud.get_user(...)``, or a package re-exporting it.
                found = self._importers(path, found)
            if len(found) > MAX_FILES_PER_NAME:
                return None
            files = found if path in found else [path, *found]
        if method and self._never_instantiated(definition, local):
            return []  # no instance of its class can exist: nothing calls the method
        if method and self._program_only(path):
            files = [path]  # its objects live in the program the module is, never in another module's calls
        uses: list[tuple[ModuleFacts, Site]] = []
        for file in files:
            if file != path and _is_test_path(file):
                continue  # code only tests call is not served
            facts = self._project_facts(file, local)
            if facts is None:
                continue
            accepts = None if method else self._importer_check(definition, word, file)
            for site in facts.sites.get(word, ()):
                if site.owner == definition.key:
                    continue  # recursion
                if method and not site.attribute:
                    continue  # a method is reached through an attribute: ``self.m()``, ``repo.m()``
                if method and self._foreign_receiver(file, facts, site, definition):
                    continue  # ``headers.update(...)`` on a dict: another type's method of that name
                if accepts is not None and not accepts(site):
                    continue
                uses.append((facts, site))
            if file != path and not method:
                # ``from .rpc import attach_router as attach_rpc_router``, at the top or inside a function.
                for alias in self._aliases(definition, word, file):
                    uses.extend((facts, site) for site in facts.sites.get(alias, ()) if not site.attribute)
        return uses

    def _foreign_receiver(self, file: str, facts: ModuleFacts, site: Site, definition: Definition) -> bool:
        """Whether a method call's receiver holds, where it is called, something that cannot be an
        object of the method's class: plain data (``to_encode: Dict[str, Any]``, ``{...}``, a decoded
        JSON body, an f-string), an object of a library class (``self.process = subprocess.Popen(...)``)
        or one made by calling a project class that does not derive from the method's class. Such a
        call runs that type's method of the name, not this one. What
        the receiver holds is read from its annotation or value in the calling function, or, for
        ``self.attr``, from the declarations of the calling method's class."""
        receiver = site.receiver
        owner = facts.definitions.get(site.owner) if site.owner is not None else None
        if receiver is None or owner is None or self.index is None:
            return False
        module = self.index.module(file)
        if module is None or definition.cls is None:
            return False
        target_module = self.index.module(definition.key[0])
        if target_module is None:
            return False
        names = module.names
        target = ProjectClass(target_module.names, definition.cls)
        if receiver in ("self", "cls"):
            return owner.cls is not None and _own_method_elsewhere(ProjectClass(names, owner.cls), target, definition.key[2])
        scope = names.scope(owner.node)
        judge = _ReceiverJudge(names, target, owner.cls, scope)
        if receiver.endswith(MADE_BY_CALL):
            # ``AsyncResult(task_id).revoke()``: what the call returns, judged like a value bound to a name.
            callee = ast.parse(receiver[: -len(MADE_BY_CALL)], mode="eval").body
            return judge.value(ast.Call(func=callee, args=[], keywords=[]))
        if "." in receiver:
            # ``self.process.kill()``, ``server.run_manager.get_run_messages()`` with ``server: SyncServer``:
            # what the holder's class declares for the attribute (``self.run_manager = RunManager()`` in
            # its ``__init__``), each declaration read in its own module (a base class may live in another).
            base, attribute = receiver.split(".", 1)
            if base == "self":
                holder = ProjectClass(names, owner.cls) if owner.cls is not None else None
            elif not _binds(scope, base):
                around = _binding_scope(names, facts, owner, base)
                if around is None:
                    # ``os.path.exists(name)``: an attribute of a library module is the library's.
                    return _library_import(names, base)
                # ``rag.doc_status.initialize()`` in a route defined inside ``create_routes(rag: LightRAG)``.
                holder = _class_held(names, around.annotations.get(base), around.values.get(base) if base not in around.unknown else None)
            else:
                holder = _class_held(names, scope.annotations.get(base), scope.values.get(base) if base not in scope.unknown else None)
            if holder is None:
                return False
            found = declarations(holder, attribute)
            return bool(found) and all(judge.at(d.owner).declaration(d.annotation, d.value) for d in found)
        annotation = scope.annotations.get(receiver)
        if annotation is not None:
            judge.substitutable = _injected(scope, receiver, annotation)
            return judge.annotation(annotation)
        if receiver in scope.unknown:
            walked = _loop_sources(owner.node, receiver)
            return walked is not None and all(_foreign_items(names, owner.cls, iterated, judge) for iterated in walked)
        value = scope.values.get(receiver)
        if not _binds(scope, receiver):
            if _bound_around(names, facts, owner, receiver):
                return False
            if _library_import(names, receiver):
                return True
            # A module-level object: ``redis_client = redis.Redis(...)``, then ``redis_client.get(key)``.
            bound = names.bindings.get(receiver) if receiver not in names.imports else None
            return isinstance(bound, ast.Call) and judge.value(bound)
        return value is not None and judge.value(value)

    def _never_instantiated(self, definition: Definition, local: dict[str, ModuleFacts]) -> bool:
        """Whether the project never names the method's class outside its ``class`` statement, but in
        imports and annotations of other modules.

        Then no instance of it is made, so a method call on some object (``container.start()``) is
        another class's method of the same name. Not for a class with a metaclass or a decorator but
        transparent ones (a decorator may register the class). A class with bases only when they build
        and register nothing (``_bases_build_nothing``: a library may find and build a subclass of its
        own base, a project base may register its subclasses) and other modules do import it: one with a
        base that no other file of the project mentions may be an implementation the package offers its
        users (a data layer they configure), which the project itself never needs to build. A name in a
        string that could look it up (``import_string("app.Logger")``) counts as named.
        """
        cls = definition.cls
        if cls is None or self.index is None:
            return False
        if cls.keywords or any(_decorator_name(d) not in _TRANSPARENT_DECORATORS for d in cls.decorator_list):
            return False
        path = definition.key[0]
        module = self.index.module(path)
        if module is None:
            return False
        key: DefKey = (path, cls.lineno, cls.name)
        known = self._unbuilt.get(key)
        if known is not None:
            return known
        known = self._unbuilt[key] = self._unbuilt_class(path, cls, module.names, local)
        return known

    def _unbuilt_class(self, path: str, cls: ast.ClassDef, names: Names, local: dict[str, ModuleFacts]) -> bool:
        assert self.index is not None
        # Its own module first (no other file read): a use by name, a string that may look it up
        # (``globals()["Logger"]``), a second class statement of the name. The names a store, an
        # annotation or a pattern holds are not sites, as they make no instance.
        facts = local.get(path) or module_facts(names.tree, path)
        if facts.sites.get(cls.name) or names_class_again(ast.walk(names.tree), cls, references=False):
            return False
        based = any(not (isinstance(base, ast.Name) and base.id == "object") for base in cls.bases)
        only_here = self.index.mentioned_only_in(path, cls.name)
        if based and (only_here or not self._bases_build_nothing(ProjectClass(names, cls), path)):
            return False
        return only_here or self._only_annotated_elsewhere(path, cls)

    def _only_annotated_elsewhere(self, path: str, cls: ast.ClassDef) -> bool:
        """Whether the other project files that spell the class's name only import it and write it in
        annotations (``interface: QueuingInterface``): a type hint makes no instance."""
        if self.index is None:
            return False
        modules = self.index.modules_mentioning(path, cls.name, _ANNOTATION_FILES)
        if modules is None:
            return False
        real = self.index.real_path(path)
        for module in modules:
            if self.index.real_path(module.path) == real:
                continue
            # ``ast.walk`` meets the node that holds an annotation before any node inside it: one walk
            # both learns what is annotation and leaves it out.
            annotated: set[int] = set()
            for node in ast.walk(module.names.tree):
                for annotation in _annotations(node):
                    annotated.update(id(inner) for inner in ast.walk(annotation))
                if id(node) in annotated:
                    continue
                if isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] == cls.name and node.asname:
                    return False  # imported under another name: its uses are not spelled with this one
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and cls.name in node.value:
                    if names_a_symbol(node.value):
                        return False  # ``import_string("app.QueuingInterface")``
                if (isinstance(node, ast.Name) and node.id == cls.name) or (
                    isinstance(node, ast.Attribute) and node.attr == cls.name
                ):
                    return False
        return True

    def _bases_build_nothing(self, cls: ProjectClass, path: str) -> bool:
        """Whether nothing but a named use can make an instance of ``cls``: every class it derives
        from is the project's (or ``object``, ``abc.ABC``, ``typing.Generic``/``Protocol``), none of
        them has a metaclass, a registering decorator or ``__init_subclass__`` (a base that registers
        its subclasses finds them without naming them), and the project never asks a class for its
        ``__subclasses__()``."""
        found = self.index.files_mentioning(path, "__subclasses__") if self.index is not None else None
        if found is None or found:
            return False
        for current in lineage(cls):
            node = current.node
            if any(k.arg != "metaclass" or current.names.qualify(k.value) != "abc.ABCMeta" for k in node.keywords):
                return False
            if any(_decorator_name(d) not in _TRANSPARENT_DECORATORS for d in node.decorator_list):
                return False
            if any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__init_subclass__" for s in node.body):
                return False
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id == "object":
                    continue
                if current.names.project_class(base) is None and current.names.qualify(base) not in _INERT_BASES:
                    return False
        return True

    def _aliases(self, definition: Definition, word: str, file: str) -> list[str]:
        """The other names ``file`` imports the module function ``definition`` (named ``word``) as."""
        module = self.index.module(file) if self.index is not None else None
        resolver = module.names.resolver if module is not None else None
        if module is None or resolver is None or self.index is None:
            return []
        real = self.index.real_path(definition.key[0])
        found: list[str] = []
        for local_name, dotted in module.names.imports.items():
            if local_name == word or dotted.rsplit(".", 1)[-1] != word:
                continue
            symbol = resolver.symbol(dotted)
            if symbol is not None and symbol.name == word and self.index.real_path(symbol.module.path) == real:
                found.append(local_name)
        return found

    def _site_reach(self, facts: ModuleFacts, site: Site, local: dict[str, ModuleFacts], visiting: set[DefKey]) -> _Answer:
        """What one use of the name says about the function."""
        if site.in_main or site.wrapper == _ENQUEUED:
            return _Answer(NONE)  # a script's block; a job a worker process runs (``job.delay(...)``)
        if _in_development_branch(facts, site.line):
            return _Answer(DEVELOPMENT)
        wrapper, keyword = site.wrapper, site.keyword
        if wrapper is not None and wrapper.startswith("@"):
            # Handed to what a call returned: ``app.get("/x")(f)``, ``app.exception_handler(E)(f)``.
            decorator = wrapper[1:]
            if decorator in ROUTE_DECORATORS:
                return _Answer(Reach("serving", (Entry(f"the route registered with `{decorator}`", facts.path, site.line),)))
            wrapper = decorator
        registered = self._registered(wrapper, keyword, site, facts.path)
        if registered is not None:
            return _Answer(registered)
        owner = facts.definitions.get(site.owner) if site.owner is not None else None
        if owner is not None and site.called and wrapper is None and site.line in run_once_lines(owner.node):
            # Called only by the first call of its caller (lazy initialisation, a flag the first run
            # turns off): once per process, like start-up. A task started there still runs while the
            # app serves (``wrapper`` is ``create_task`` then).
            return _Answer(STARTUP)
        if owner is None:
            if wrapper in _SCRIPT_RUNNERS:
                return _Answer(NONE)  # ``asyncio.run(main())`` at module level: a script
            return _Answer(STARTUP if site.called else UNKNOWN)
        above = self._reach(owner, local, visiting)
        if wrapper in _SCRIPT_RUNNERS and site.called and above.reach.stage == "unknown":
            # ``asyncio.run(main(args))`` cannot run on a running loop: in a function no route, handler
            # or start-up is known to call, it starts a program of its own (a command's entry point).
            # Charged as one visit: what it took to learn that is not a path to this function.
            return _Answer(NONE, above.final, 1)
        if wrapper in _BACKGROUND and above.reach.stage == "startup":
            # Work the lifespan starts in the background runs while the app serves.
            started = Reach("serving", (Entry(STARTED_AT_STARTUP, facts.path, site.line),))
            return _Answer(started, above.final, above.cost)
        return above

    # -- development-only routes ------------------------------------------------------------------
    def _development_route(
        self, definition: Definition, decorator: ast.expr, local: dict[str, ModuleFacts], visiting: set[DefKey]
    ) -> bool:
        """A route the production app does not have: defined under a development switch, or on a
        module-level router that every ``include_router`` puts on the app only under one (in its own
        module or one importing it, directly or through functions called only under one)."""
        path = definition.key[0]
        facts = local[path]
        if _in_development_branch(facts, decorator.lineno):
            return True
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            return False
        router = decorator.func.value
        tree = facts.tree() if facts.tree is not None else None
        if not isinstance(router, ast.Name) or definition.parent is not None or tree is None or not _router_at_top(tree, router.id):
            return False
        key = (path, router.id)
        known = self._development_routers.get(key)
        if known is None:
            self._development_routers[key] = False  # a cycle through the inclusions proves nothing
            # The inclusions are searched lazily: the first one production makes settles the
            # answer, before the project's other files that name the router are read.
            known = False
            for inclusion in self._inclusions(path, router.id, local):
                if inclusion is None or not self._runs_in_development(inclusion[0], inclusion[1], local, visiting):
                    known = False
                    break
                known = True
            self._development_routers[key] = known
        return known

    def _runs_in_development(self, facts: ModuleFacts, line: int, local: dict[str, ModuleFacts], visiting: set[DefKey]) -> bool:
        if _in_development_branch(facts, line):
            return True
        owner = facts.enclosing(line)
        return owner is not None and self._reach(owner, local, visiting).reach.stage == "development"

    def _project_facts(self, file: str, local: dict[str, ModuleFacts]) -> ModuleFacts | None:
        """The name uses of a project file, read once per search into ``local``; None when the
        index cannot read it (or there is no index and the search has not met the file)."""
        facts = local.get(file)
        if facts is None and self.index is not None:
            module = self.index.module(file)
            if module is not None:
                facts = local[file] = module_facts(module.names.tree, file)
        return facts

    def _inclusions(self, path: str, router: str, local: dict[str, ModuleFacts]) -> Iterator[tuple[ModuleFacts, int] | None]:
        """The lines that hand the module-level ``router`` of ``path`` to ``include_router``, file by
        file; None (and nothing after it) where it is used some other way (put in a list, passed on)
        or the project could not be searched."""
        files = [path]
        if self.index is not None:
            found = self.index.files_mentioning(path, router)
            if found is None:
                yield None
                return
            found = [f for f in self._importers(path, found) if f != path and not _is_test_path(f)]
            if len(found) > MAX_FILES_PER_NAME:
                yield None
                return
            files.extend(found)
        for file in files:
            if file != path and self.index is not None and self.index.module(file) is None:
                continue  # a file the index cannot read holds no inclusion
            names = self._import_names(path, router, file)
            if names is None:
                yield None
                return
            bare, receivers = names
            if file != path and not bare and not receivers:
                continue  # it imports neither the router nor its module: its uses are of other routers
            facts = self._project_facts(file, local)
            if facts is None and self.index is not None:
                continue  # the index cannot read this file (the searched one included)
            tree = facts.tree() if facts is not None and facts.tree is not None else None
            if facts is None or tree is None:
                yield None
                return
            for name in {router, *bare}:
                for use in name_uses(tree).get(name, ()):
                    if (use.receiver is None and name in bare) or (use.receiver is not None and use.receiver in receivers):
                        if not use.included:
                            yield None
                            return
                        yield facts, use.line

    def _import_names(self, path: str, target: str, file: str) -> tuple[set[str], set[str]] | None:
        """How ``file`` names the module-level object ``target`` of ``path`` (a router, a tool
        registry): (bare names, module aliases it is an attribute of); None when ``file`` cannot be
        read or a star import may bring it in unseen."""
        if file == path:
            return {target}, set()
        assert self.index is not None
        module = self.index.module(file)
        resolver = module.names.resolver if module is not None else None
        if module is None or resolver is None:
            return None
        names = module.names
        if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in names.tree.body):
            return None
        real = self.index.real_path(path)

        def resolves_to(dotted: str, name: str | None) -> bool:
            if name is None:
                found = resolver.module(dotted)
                return found is not None and self.index is not None and self.index.real_path(found.path) == real
            symbol = resolver.symbol(dotted)
            return (
                symbol is not None and symbol.name == name and self.index is not None
                and self.index.real_path(symbol.module.path) == real
            )

        word = _module_word(path)
        bare = {local for local, dotted in names.imports.items() if dotted.rsplit(".", 1)[-1] == target and resolves_to(dotted, target)}
        receivers = {local for local, dotted in names.imports.items() if dotted.rsplit(".", 1)[-1] == word and resolves_to(dotted, None)}
        return bare, receivers

    def _direct_entry(self, facts: ModuleFacts, site: Site) -> Reach | None:
        """The entry a use is by itself (a route handler calling, a ``Depends``), without following callers."""
        registered = self._registered(site.wrapper, site.keyword, site, facts.path)
        if registered is not None and registered.stage == "serving":
            return registered
        owner = facts.definitions.get(site.owner) if site.owner is not None else None
        if owner is None:
            return None
        for decorator in owner.node.decorator_list:
            label = _route_label(decorator, facts.prefixes)
            if label is not None:
                operator_only = facts.audience.route_is_operator_only(owner.node, decorator)
                return Reach("serving", (Entry(label, facts.path, decorator.lineno),), operator_only)
        return None

    @staticmethod
    def _registered(wrapper: str | None, keyword: str | None, site: Site, path: str) -> Reach | None:
        """What handing the function to ``wrapper`` (as ``keyword``) makes of it, when that settles it."""
        if wrapper in _DEPENDENCY_WRAPPERS:
            return Reach("serving", (Entry("a dependency", path, site.line),))
        if wrapper in _ROUTE_REGISTRATIONS and not site.called:
            return Reach("serving", (Entry(f"the route registered with `{wrapper}`", path, site.line),))
        if wrapper in _HANDLER_REGISTRATIONS or keyword == "exception_handlers":
            return Reach("serving", (Entry("an exception handler", path, site.line),))
        if wrapper in _MIDDLEWARE_REGISTRATIONS and not site.called:
            return Reach("serving", (Entry("middleware", path, site.line),))
        if keyword in _STARTUP_KEYWORDS or (wrapper in _EVENT_REGISTRATIONS and site.wrapper_text in ("startup", "shutdown")):
            return STARTUP
        return None


def _router_at_top(tree: ast.Module, name: str) -> bool:
    """``name = APIRouter(...)`` (or any value but an app) among the module's top-level statements.
    An app (``app = FastAPI()``) is served, never handed to ``include_router``: searching the project
    for its inclusions would cost a read of every file that says ``app`` and find none."""
    for statement in tree.body:
        value: ast.expr | None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign):
            targets, value = [statement.target], statement.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return not (isinstance(value, ast.Call) and _name_of(value.func) in _APP_CLASSES)
    return False


def _in_development_branch(facts: ModuleFacts, line: int) -> bool:
    """Whether ``line`` of the module runs only with a development switch on (``analysis/development.py``)."""
    owner = facts.enclosing(line)
    node: FunctionNode | ast.Module | None = owner.node if owner is not None else (facts.tree() if facts.tree else None)
    return node is not None and line in development_lines(node)


def _is_test_path(path: str) -> bool:
    """A pytest module: what calls code from there is a test run. (Helpers in a ``tests`` folder are
    left to their own callers, which end in test functions nothing calls.)"""
    name = os.path.basename(path)
    return name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


def _module_word(path: str) -> str:
    """The word an import of the module at ``path`` names: ``crud`` for ``app/crud.py``, ``app`` for ``app/__init__.py``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(os.path.dirname(path)) if stem == "__init__" else stem


def _is_middleware_class(cls: ast.ClassDef) -> bool:
    return any(_name_of(base) in ("BaseHTTPMiddleware",) for base in cls.bases) or any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "__call__"
        and len(n.args.args) == 4 and [a.arg for a in n.args.args[1:]] == ["scope", "receive", "send"]
        for n in cls.body
    )


# Bases that call none of a class's methods.
_INERT_BASES = frozenset({
    "builtins.object", "object", "abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol",
    "typing_extensions.Generic",
})  # fmt: skip
# Calls that reach methods by a name made at run time.
_BY_NAME = frozenset({"getattr", "getmembers", "__getattribute__", "vars", "dir"})


def _injected(scope: Scope, name: str, annotation: ast.expr) -> bool:
    """Whether the parameter ``name`` is a dependency: ``= Depends(...)``, or ``Annotated[X, Depends(...)]``."""
    marked = [scope.defaults.get(name)]
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Annotated" and isinstance(annotation.slice, ast.Tuple):
        marked.extend(annotation.slice.elts[1:])
    return any(isinstance(m, ast.Call) and last_name(m.func) in ("Depends", "Security", "Inject", "Provide") for m in marked)


def _library_based(cls: ProjectClass) -> bool:
    """Whether ``cls`` has a base the project does not define, other than the inert ones."""
    named = [
        b for b in cls.node.bases
        if cls.names.qualify(b.value if isinstance(b, ast.Subscript) else b) not in _INERT_BASES
    ]
    return len(named) > len(bases_of(cls))


def _calls_by_name(cls: ast.ClassDef) -> bool:
    """Whether a class may call its methods without spelling them: a lookup by a computed name
    (``getattr(self, f"on_{kind}")``, ``inspect.getmembers``), a class decorator other than a
    transparent one (it may collect them), or ``__init_subclass__``."""
    if any(_decorator_name(d) not in _TRANSPARENT_DECORATORS for d in cls.decorator_list):
        return True
    for node in ast.walk(cls):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__init_subclass__":
            return True
        if isinstance(node, ast.Call) and last_name(node.func) in _BY_NAME:
            spelled = len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            if not spelled:  # ``getattr(self, "_states", None)`` reads one attribute by its written name
                return True
    return False


def _has_outside_bases(cls: ast.ClassDef) -> bool:
    """A class with a base (other than ``object``): a library base may call the method itself."""
    return any(not (isinstance(b, ast.Name) and b.id == "object") for b in cls.bases)


# -- the per-file entry point used by the rules ----------------------------------------------------


class FileServing:
    """The serving-path answers for the functions of one linted file."""

    def __init__(self, names: Names, filename: str, scope: str) -> None:
        resolver = names.resolver
        self.index = resolver.index if resolver is not None else None
        self.path = resolver.filename if resolver is not None else filename
        self.tree = names.tree
        self.scope = scope
        self._facts: ModuleFacts | None = None
        self._active: bool | None = None

    @property
    def active(self) -> bool:
        """False under ``faa-scope = all`` and for a library (no app or router in the project)."""
        if self._active is None:
            if self.scope == "all":
                self._active = False
            else:
                self._active = not _serving_for(self.index).is_library(
                    self.path if self.index is not None else None, self.tree
                )
        return self._active

    def facts(self) -> ModuleFacts:
        if self._facts is None:
            self._facts = module_facts(self.tree, self.path)
        return self._facts

    def at_module_level(self, line: int) -> bool:
        """Whether ``line`` runs at import (module level or a class body), not inside a function."""
        return self.facts().enclosing(line) is None

    def reach_at(self, line: int) -> Reach | None:
        """Where the code at ``line`` is reached from; None when the serving path is not in use."""
        if not self.active:
            return None
        facts = self.facts()
        definition = facts.enclosing(line)
        if definition is None:
            return STARTUP  # module level: runs once, at import
        try:
            return _serving_for(self.index).reach(facts, definition)
        except RecursionError:
            return UNKNOWN


    def only_in_development(self, func: FunctionNode) -> bool:
        """Whether ``func`` (of this file) runs only with a development switch on; False under
        ``faa-scope = all``, where every route counts."""
        reach = self.reach_at(func.body[0].lineno)
        return reach is not None and reach.stage == "development"


_SERVING: dict[int, ServingPath] = {}


def _serving_for(index: ProjectIndex | None) -> ServingPath:
    """One answer memo per project index (one per process), and one for in-memory modules."""
    key = id(index) if index is not None else 0
    found = _SERVING.get(key)
    if found is None or found.index is not index:
        found = _SERVING[key] = ServingPath(index)
    return found


__all__ = ["STARTED_AT_STARTUP", "Entry", "FileServing", "Reach", "ServingPath", "module_facts"]
