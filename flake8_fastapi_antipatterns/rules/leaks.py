"""FAA303: exception text or tracebacks sent back to the client.

A *leak* is the text of an exception -- ``str(e)``, ``repr(e)``, an f-string,
``%`` or ``.format`` of it, ``e.args``, ``traceback.format_exc()`` -- reaching
a *sink* that becomes the response: ``HTTPException(detail=...)``, the content
of a ``Response``/``JSONResponse``/``PlainTextResponse``/``HTMLResponse``, or
the value a route handler or exception handler returns.  The exception is a
name bound by an enclosing ``except ... as e:`` or the ``exc`` parameter of a
registered exception handler.  Also reported: ``FastAPI(debug=True)`` /
``Starlette(debug=True)``, which sends tracebacks of unhandled errors.

Deliberately silent: logging (not a sink), public attributes of an exception
(``exc.detail``, ``exc.message``, ``exc.errors()``), and exceptions whose text
is meant for the client (``HTTPException``, ``RequestValidationError``,
pydantic's ``ValidationError``, and in a registered exception handler, the
project's own exception classes).  An ``except`` of the project's own exception
classes is judged by provenance (``analysis/provenance.py``): what the project
raised with text it wrote is not a leak; a class the project builds anywhere
from another exception's text (``raise StorageError(f"failed: {e}")``, or through a project helper
that returns that text) is.  A named class of an application package (not a builtin, not a library
whose errors carry its own text) answered with a 4xx or a 503 is its package's message about the
request; ``if isinstance(e, C):`` under a broad catch is judged like ``except C``, and a tuple class by
class; so is ``type(e) is C`` (also in ``x if type(e) is C else y``), and an exact builtin class the ``try``
raises only with text it wrote.  Values passed through a function we do not
know (``redact(str(e))``) are assumed to be cleaned, and an ``HTTPException`` handed to (or caught and handed to)
a project function that replaces it unless the caller may see it (``exception_text.replaced``) is not the response.
Exceptions that only say something ended (``ENDED``: a broken stream, a cancelled task) carry nothing internal,
nor does a ``try`` that only reads the request body (``ClientDisconnect``), and a narrow ``except`` around a
``try`` that only parses, encodes or normalises a value (``provenance.only_input_parsing``) catches only errors
about that value. A project function that documents a builtin class among what it raises
(``provenance.documented_raises``) raises it with its own text, as a literal ``raise`` would.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from flake8_fastapi_antipatterns.analysis.app_model import Route
from flake8_fastapi_antipatterns.analysis.audience import in_admin_branch
from flake8_fastapi_antipatterns.analysis.classes import derives_from
from flake8_fastapi_antipatterns.analysis.development import development_nodes, error_detail_only
from flake8_fastapi_antipatterns.analysis.exception_text import (
    CARRIERS,
    HTTP_EXCEPTIONS,
    MODEL_DUMPS,
    RESPONSE_CLASSES,
    STR_METHODS,
    STRINGIFIERS,
    TRACEBACK_TEXT,
    carried_given,
    decides_by_class,
    flag_defaults,
    guarded_sinks,
    passed_on,
    replaced,
    values_added,
)
from flake8_fastapi_antipatterns.analysis.names import (
    FunctionNode,
    Names,
    Scope,
    is_project_name,
    same_definition,
    walk_shallow,
)
from flake8_fastapi_antipatterns.analysis.nodes import (
    bound_arguments,
    child_nodes,
    ends_the_call,
    last_name,
    node_fields,
)
from flake8_fastapi_antipatterns.analysis.provenance import (
    DESCRIBES_INPUT,
    OWN_BUILTINS,
    TEXT_SOURCES,
    answer_cut_short,
    may_rewrap,
    only_input_parsing,
    only_own_text,
    only_project_checks,
    raised_by_the_project,
    wraps_out_of_reach,
)
from flake8_fastapi_antipatterns.rules import Checker, register

# Exceptions whose text is written for the client, or describes only the data that was checked
# (validation and decode errors: the fields that failed, the position of the fault).
PUBLIC_EXCEPTIONS = HTTP_EXCEPTIONS | DESCRIBES_INPUT | {
    "fastapi.exceptions.RequestValidationError",
    "fastapi.exceptions.WebSocketRequestValidationError",
}
# Exceptions that say only that a stream, a connection or a task ended: their text is empty, a fixed
# phrase of the operating system ("[Errno 32] Broken pipe") or the reason given to ``cancel()``.
ENDED = frozenset(
    {"anyio.BrokenResourceError", "anyio.ClosedResourceError", "anyio.EndOfStream", "builtins.BrokenPipeError",
     "builtins.ConnectionResetError", "builtins.ConnectionAbortedError", "asyncio.CancelledError",
     "asyncio.exceptions.CancelledError", "starlette.requests.ClientDisconnect"}
)  # fmt: skip
PUBLIC_EXCEPTIONS |= ENDED
# Calls that reach the current exception or its text without naming it.
EXCEPTION_SOURCES = TRACEBACK_TEXT | {"sys.exception", "sys.exc_info"}
_SOURCE_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in EXCEPTION_SOURCES)
# Responses that send what a generator yields.
STREAMING_RESPONSES = frozenset({"StreamingResponse", "EventSourceResponse"})
REQUEST_CLASSES = frozenset({"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"})
WEBSOCKET_SENDS = frozenset({"send_json", "send_text"})
WEBSOCKET_CLASSES = frozenset({"fastapi.WebSocket", "starlette.websockets.WebSocket", "fastapi.websockets.WebSocket"})
# Top-level packages whose CamelCase classes are not the project's response models.
_LIBRARY_TOPS = frozenset({"fastapi", "starlette", "builtins", "pydantic", "sqlalchemy", "httpx", "requests", "aiohttp"})
# Libraries beyond provenance's text sources whose exceptions carry their own (internal) text.
_TEXT_LIBRARIES = frozenset(
    {"starlette", "fastapi", "pydantic", "google", "azure", "kubernetes", "docker", "grpc", "elasticsearch",
     "motor", "aiomysql", "pymysql", "MySQLdb", "sqlite3", "aiosqlite", "celery", "kombu", "pika", "aiokafka",
     "confluent_kafka", "stripe", "twilio", "paramiko", "git", "ldap3", "socket", "ssl", "asyncio", "concurrent",
     "multiprocessing", "io", "tempfile", "PIL", "numpy", "pandas", "torch", "transformers", "langchain",
     "langchain_core", "httpcore", "websockets", "anyio", "chromadb", "qdrant_client", "pinecone", "weaviate"}
)  # fmt: skip
# Dependencies whose name says only an administrator gets through.
# What builds or validates a Pydantic model from data: its errors describe that data.
PYDANTIC_MODELS = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "sqlmodel.SQLModel"})
VALIDATING_METHODS = frozenset({"model_validate", "model_validate_json", "model_validate_strings", "parse_obj", "parse_raw", "validate_python", "validate_json"})
# Attributes that hold another exception (chaining, SQLAlchemy's DBAPIError.orig).
CHAINED = frozenset({"__cause__", "__context__", "orig"})
_MAX_DEPTH = 8
_FOLLOW_NAMES = 3
# 503 Service Unavailable: the service cannot serve the request now (see ``_client_statuses``).
_UNAVAILABLE = frozenset({503})
# How many files mentioning an exception class are read for the statuses it is answered with elsewhere.
_ELSEWHERE_FILES = 64
# How many module functions returning caught text one question follows, each into the next.
_MAX_RETURNING = 8
_HTTP_STATUS_ENUMS = frozenset({"http.HTTPStatus"})

Position = tuple[int, int]


# What a ``try`` body may hold and still raise nothing with text worth hiding.
_READ_ONLY_NODES = (ast.Assign, ast.AnnAssign, ast.Expr, ast.Name, ast.Attribute, ast.Constant, ast.Load, ast.Store)


def _reads_only(body: list[ast.stmt]) -> bool:
    """A ``try`` that only reads names and attributes into names (``limit = settings.max_upload``): no
    call, subscript or arithmetic, so at most an ``AttributeError`` naming one of the app's attributes."""
    return all(isinstance(node, _READ_ONLY_NODES) for statement in body for node in ast.walk(statement))


@dataclass
class BodyIndex:
    """What one walk over a body learned: live exception names and local assignments."""

    live: dict[int, frozenset[str]]
    """id(node) -> exception names live where the node runs."""
    assignments: dict[str, list[tuple[Position, ast.expr]]]
    """local name -> (where, value) of each plain assignment to it."""
    body: list[ast.stmt] = field(default_factory=list)
    """The statements walked (to tell an assignment every path runs from one in a branch)."""
    additions: dict[str, list[tuple[Position, ast.expr]]] = field(default_factory=dict)
    """local name -> (where, value) of each value put into the container it holds: ``errors.append(v)``,
    ``results.extend(v)``, ``data["error"] = v``."""
    statements: dict[int, ast.stmt] = field(default_factory=dict)
    """id(value) -> the statement that assigns it, for the assignments that replace the name's value
    (not ``x += v``, nor ``(x := v)``, whose place in a statement is not known)."""
    unpacked: set[str] = field(default_factory=set)
    """Names bound by unpacking (``a, b = f()``), modelled item by item (``_unpacked``)."""
    unmodelled: set[str] = field(default_factory=set)
    """Names also bound in ways not modelled: a ``for`` target, ``with ... as (a, b)``, ``a, *rest = ...``."""
    _listed: dict[int, tuple[list[ast.stmt], ast.AST | None]] | None = None
    """id(node) -> (the statement list holding it or its statement, its parent node)."""

    def values_reaching(self, name: ast.Name) -> list[ast.expr]:
        """The values ``name`` may hold where it is read: the assignments before the read, latest first,
        down to one that runs on every path to the read (one in an ``if``, a loop, a ``try`` or an
        ``except`` that does not hold the read leaves the value before it in place), and what was put
        into the container since (``results.append(v)``). When the name is set more than once, a value
        set in a block that ends in ``raise`` or ``return`` (and does not hold the read) never reaches
        it; a name set once keeps its one value, as before."""
        here = (name.lineno, name.col_offset)
        earlier = sorted(
            (
                (where, value)
                for where, value in self.assignments.get(name.id, [])
                if where < here and not _holds(value, here)  # ``x = f(x)`` reads the value before
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        found: list[ast.expr] = []
        since: Position = (0, 0)
        for where, value in earlier:
            if len(earlier) > 1 and not self._may_reach(self.statements.get(id(value), value), name):
                continue
            found.append(value)
            statement = self.statements.get(id(value))
            if statement is not None and self._on_every_path(statement, name):
                since = where
                break
        found.extend(
            value
            for where, value in self.additions.get(name.id, [])
            if since < where < here and self._may_reach(value, name)
        )
        return found

    def added(self, name: str, value: ast.expr) -> bool:
        """Whether ``value`` was put into the container ``name`` holds (not assigned to it)."""
        return any(item is value for _, item in self.additions.get(name, []))

    def _places(self) -> dict[int, tuple[list[ast.stmt], ast.AST | None]]:
        if self._listed is None:
            self._listed = _statement_lists(self.body)
        return self._listed

    def _lists_around(self, node: ast.AST) -> list[list[ast.stmt]]:
        """The statement lists around ``node``, innermost first."""
        places = self._places()
        found: list[list[ast.stmt]] = []
        current: ast.AST | None = node
        while current is not None and (place := places.get(id(current))) is not None:
            if not found or found[-1] is not place[0]:
                found.append(place[0])
            current = place[1]
        return found

    def _on_every_path(self, statement: ast.stmt, read: ast.AST) -> bool:
        """Whether ``statement`` sits in a statement list that also holds the read (or a statement around it)."""
        place = self._places().get(id(statement))
        if place is None:
            return True  # not found: as before, the latest assignment counts alone
        return any(listed is place[0] for listed in self._lists_around(read))

    def _may_reach(self, value: ast.AST, read: ast.AST) -> bool:
        """Whether the code after ``value`` may go on to ``read``: no statement list around ``value`` that
        does not hold the read ends in ``raise`` or ``return``."""
        around_read = self._lists_around(read)
        for listed in self._lists_around(value):
            if any(listed is other for other in around_read):
                return True
            if ends_the_call(listed):
                return False
        return True


def _holds(node: ast.expr, here: Position) -> bool:
    """Whether the source of ``node`` spans the position ``here``."""
    end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    return (node.lineno, node.col_offset) <= here < end


def _statement_lists(body: list[ast.stmt]) -> dict[int, tuple[list[ast.stmt], ast.AST | None]]:
    """id(node) -> (the statement list it sits in, its parent node), for every node of ``body`` outside
    nested functions and classes; an expression takes the list of its statement."""
    found: dict[int, tuple[list[ast.stmt], ast.AST | None]] = {}
    stack: list[tuple[ast.AST, list[ast.stmt], ast.AST | None]] = [(s, body, None) for s in body]
    while stack:
        node, listed, parent = stack.pop()
        found[id(node)] = (listed, parent)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        for field_name in node_fields(type(node)):
            value = getattr(node, field_name, None)
            if isinstance(value, ast.AST):
                stack.append((value, listed, node))
            elif isinstance(value, list):
                inner = value if value and isinstance(value[0], ast.stmt) else listed
                stack.extend((item, inner, node) for item in value if isinstance(item, ast.AST))
    return found


@dataclass
class Owner:
    """A body whose statements run together: the module, or one function."""

    body: list[ast.stmt]
    func: FunctionNode | None
    scope: Scope | None
    initial: frozenset[str]
    """Exception names live from the start (an exception handler's ``exc``)."""
    returns_to_client: str | None
    """"route handler" / "exception handler" when what it returns is the response."""


@dataclass
class Leak:
    shown: str
    """The leaking expression as the message shows it."""


_Check = Callable[[ast.expr], Leak | None]
_CheckAll = Callable[[list[ast.expr]], Leak | None]


def http_status(names: Names, call: ast.Call) -> int | None:
    """The status code of an ``HTTPException``/response written as a number or ``status.HTTP_4xx_...``."""
    value = next((k.value for k in call.keywords if k.arg == "status_code"), None)
    if value is None and call.args and names.qualify(call.func) in HTTP_EXCEPTIONS:
        value = call.args[0]
    return _status_value(names, value, 0)


def _status_value(names: Names, value: ast.expr | None, depth: int) -> int | None:
    """A status written as a number, ``status.HTTP_409_CONFLICT``, ``HTTPStatus.CONFLICT``, or a
    module-level constant holding one of those (``CONFLICT_STATUS = 409``)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return value.value
    if isinstance(value, ast.Attribute) and value.attr.startswith("HTTP_"):
        digits = value.attr[5:8]
        return int(digits) if digits.isdigit() else None
    if isinstance(value, ast.Attribute) and names.qualify(value.value) in _HTTP_STATUS_ENUMS:
        member = getattr(HTTPStatus, value.attr, None)
        return member.value if isinstance(member, HTTPStatus) else None
    if isinstance(value, ast.Name) and value.id not in names.imports and depth < _FOLLOW_NAMES:
        return _status_value(names, names.bindings.get(value.id), depth + 1)
    return None


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # unparse is not total over odd trees
        return "..."
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_HANDLER_REGISTRATIONS = frozenset({"exception_handler", "add_exception_handler"})
_KNOWN_CALLS = TRACEBACK_TEXT | STRINGIFIERS | CARRIERS
# What an ``except`` names that catches an ``HTTPException`` raised in its ``try``.
_CATCHES_HTTP = HTTP_EXCEPTIONS | {"builtins.Exception", "builtins.BaseException"}


@register
class LeakChecker(Checker):
    codes = ("FAA303",)

    def run(self) -> None:
        if not self.ctx.imports_web_framework:
            return
        self.program = self.ctx.program
        self._parent_map: dict[int, FunctionNode] | None = None
        self._check_debug()
        handlers = self._exception_handlers()
        self._with_sources = self._bodies_with_sources()
        self._returned: dict[int, list[tuple[int | None, Leak, int]]] = {}
        self._returning: list[int] = []
        self._returning_cuts = 0
        for owner in self._owners(handlers, self._with_sources | self._calling_catchers(self._with_sources)):
            self._check_owner(owner)

    def _bodies_with_sources(self) -> set[FunctionNode | None]:
        """The bodies (function, or None for the module) holding an ``except ... as e``, a traceback or sys call."""
        names = self.ctx.names
        found: set[FunctionNode | None] = set()
        for node, runs_in, _ in names.nodes.run_in(ast.ExceptHandler, ast.Call):
            if isinstance(node, ast.ExceptHandler):
                if node.name:
                    found.add(runs_in)
            elif (
                isinstance(node, ast.Call)
                and names.may_name(node.func, _SOURCE_NAMES)
                and names.qualify(node.func) in EXCEPTION_SOURCES
            ):
                found.add(runs_in)
        return found

    def _calling_catchers(self, with_sources: set[FunctionNode | None]) -> set[FunctionNode | None]:
        """The bodies that call, by its name, a function of the module holding an ``except ... as e``:
        what it returns may be the text of what it caught (``_returned_text``)."""
        catchers = {func.name for func in with_sources if func is not None}
        if not catchers:
            return set()
        return {
            runs_in
            for node, runs_in, _ in self.ctx.names.nodes.run_in(ast.Call)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in catchers
        }

    # -- debug mode ---------------------------------------------------------
    def _is_true(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Name) and expr.id not in self.ctx.names.imports:
            bound = self.ctx.names.bindings.get(expr.id)
            return isinstance(bound, ast.Constant) and bound.value is True
        return isinstance(expr, ast.Constant) and expr.value is True

    def _check_debug(self) -> None:
        # ``if in_debug_mode(): app = FastAPI(debug=True)``: a switch for development, not production.
        development: set[int] | None = None

        def in_development(node: ast.AST) -> bool:
            # The recogniser the serving path uses for development-only routes (``analysis/development.py``).
            nonlocal development
            if development is None:
                development = set(development_nodes(self.ctx.tree))
                for func in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
                    development |= development_nodes(func)
            return id(node) in development

        for site in self.ctx.model.apps:
            for keyword in site.call.keywords:
                if keyword.arg == "debug" and self._is_true(keyword.value) and not in_development(site.call):
                    shown = _short(site.call.func)
                    self.ctx.report_anywhere(
                        "FAA303",
                        site.call,
                        f"`{shown}(debug=True)` answers every unhandled error with its traceback",
                    )
        for node in self.ctx.names.nodes.of(ast.Assign):
            if self._is_true(node.value) and not in_development(node):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "debug"
                        and self.ctx.model.owner_kind(target.value) == "app"
                    ):
                        self.ctx.report_anywhere(
                            "FAA303",
                            node,
                            f"`{_short(target)} = True` answers every unhandled error with its traceback",
                        )

    # -- who returns to the client ----------------------------------------
    def _public_type(self, node: ast.expr | None, *, own_classes: bool = False, names: Names | None = None) -> bool:
        """True when every exception class named in ``node`` has client-facing text.

        ``own_classes``: the project's own exception classes count as well (for a registered
        exception handler, see ``_exception_handlers``). ``names``: of the module ``node`` is written
        in, when not this one (a handler registered in another module).
        """
        if node is None:
            return False
        names = names or self.ctx.names
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return True  # a status code handler receives an HTTPException
        if isinstance(node, ast.Tuple):
            return bool(node.elts) and all(self._public_type(e, own_classes=own_classes, names=names) for e in node.elts)
        return names.qualify(node) in PUBLIC_EXCEPTIONS or (own_classes and names.project_class(node) is not None)

    def _own_class(self, node: ast.expr) -> bool:
        """A class defined in this project (this module or one it imports from), not a library's or a builtin."""
        return self.ctx.names.project_class(node) is not None

    def _exception_handlers(self) -> dict[int, bool]:
        """id(function) -> whether every class it handles has public text.

        A handler registered for one of the project's own exception classes answers with the text
        the project wrote for it: FastAPI's documented way of turning a domain error
        (``UnicornException``) into a response.  Handlers for ``Exception``, builtins or a
        library's errors are not so.
        """
        found: dict[int, bool] = {}

        def add(func: ast.AST | None, handled: ast.expr | None) -> None:
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[id(func)] = found.get(id(func), True) and self._public_type(handled, own_classes=True)

        def first_arg(call: ast.Call, keyword: str) -> ast.expr | None:
            if call.args:
                return call.args[0]
            return next((k.value for k in call.keywords if k.arg == keyword), None)

        nodes = self.ctx.names.nodes
        # Both registrations are attribute names the module spells: most modules spell neither.
        registering = _HANDLER_REGISTRATIONS & nodes.identifiers
        for registration in nodes.each(ast.Call) if registering else ():
            handed = _registered_by_hand(registration)
            if handed is not None and isinstance(handed[1], ast.Name):
                # ``app.add_exception_handler(C, handler)``, or ``app.exception_handler(C)(handler)``: the
                # decorator applied by hand.
                add(self.ctx.names.functions.get(handed[1].id), handed[0])
        self._registered_elsewhere(found)
        for node in nodes.each(ast.FunctionDef, ast.AsyncFunctionDef) if registering else ():
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "exception_handler"
                ):
                    add(node, first_arg(decorator, "exc_class_or_status_code"))
        for site in self.ctx.model.apps:
            for keyword in site.call.keywords:
                if keyword.arg == "exception_handlers" and isinstance(keyword.value, ast.Dict):
                    for key, value in zip(keyword.value.keys, keyword.value.values):
                        if isinstance(value, ast.Name):
                            add(self.ctx.names.functions.get(value.id), key)
        return found

    def _registered_elsewhere(self, found: dict[int, bool]) -> None:
        """The module's functions another module registers as exception handlers
        (``app.exception_handler(Exception)(exception_handler)``, ``app.add_exception_handler(ValueError,
        exception_handler)`` after ``from .handlers import exception_handler``). Asked only of functions
        shaped as Starlette calls a handler (``_handler_signature``) and not routes; the registrations are
        read in the project's files that mention the function (at most ``_ELSEWHERE_FILES``)."""
        for name, func in self.ctx.names.functions.items():
            if (
                not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
                or id(func) in found
                or not _handler_signature(func, self.ctx.names)
                or self.ctx.model.route_for(func) is not None
            ):
                continue
            # This module's own registrations were read by the caller.
            for names in self._modules_mentioning(name, other_than_this=True):
                if not _HANDLER_REGISTRATIONS & names.nodes.identifiers:
                    continue
                for call in names.nodes.each(ast.Call):
                    handed = _registered_by_hand(call)
                    target = names.resolve_function(handed[1]) if handed is not None else None
                    if handed is not None and target is not None and same_definition(target, (self.ctx.names, func)):
                        found[id(func)] = found.get(id(func), True) and self._public_type(
                            handed[0], own_classes=True, names=names
                        )

    def _streamed(self) -> set[str]:
        """Names of the module's generator functions whose output a streaming response sends
        (``StreamingResponse(events())``, ``EventSourceResponse(gen)``): what they yield reaches the client."""
        found: set[str] = set()
        for call in self.ctx.names.nodes.of(ast.Call):
            if not isinstance(call, ast.Call) or last_name(call.func) not in STREAMING_RESPONSES:
                continue
            first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "content"), None)
            if isinstance(first, ast.Call):
                first = first.func
            name = last_name(first) if first is not None else None
            if name is not None:
                found.add(name)
        return self._passed_on(found) if found else found

    def _passed_on(self, streamed: set[str]) -> set[str]:
        """``streamed`` with the module's generators whose items a streamed generator yields on as they
        come (``async for event in _events(...): yield event``, ``yield from _events(...)``): what those
        yield reaches the client too."""
        generators: dict[str, list[FunctionNode]] = {}
        for func in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
            generators.setdefault(func.name, []).append(func)
        pending = list(streamed)
        found = set(streamed)
        while pending:
            for func in generators.get(pending.pop(), []):
                for inner in _yielded_on(func):
                    if inner not in found and inner in generators:
                        found.add(inner)
                        pending.append(inner)
        return found

    def _owners(self, handlers: dict[int, bool], with_sources: set[FunctionNode | None]) -> Iterator[Owner]:
        """The bodies that may leak: a body with no caught exception, no traceback or sys call and
        no handler argument cannot, and skipping those saves walking most of the module."""
        if None in with_sources:
            yield Owner(self.ctx.tree.body, None, None, frozenset(), None)
        streamed = self._streamed()
        for node in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
            if node not in with_sources and not (id(node) in handlers and not handlers[id(node)]):
                continue
            initial: frozenset[str] = frozenset()
            role: str | None = None
            if id(node) in handlers:
                role = "exception handler"
                positional = [*node.args.posonlyargs, *node.args.args]
                if len(positional) >= 2 and not handlers[id(node)]:
                    initial = frozenset({positional[1].arg})
            elif (route := self.ctx.model.route_for(node)) is not None:
                if self._operator_only(route):
                    continue  # an admin's route: the error text is shown to the operator who runs the service
                role = "route handler"
            elif node.name in streamed and _is_generator(node):
                role = "stream"
            if initial or node in with_sources:
                yield Owner(node.body, node, self.ctx.names.scope(node), initial, role)

    def _resolve(self, names: Names, call: ast.Call, func: FunctionNode | None) -> tuple[Names, FunctionNode] | None:
        """The project function or method a call runs, through the call graph (``self.repo.get()``,
        ``Service(db).create()``, a dependency's declared class); by name at module level."""
        if func is None:
            return names.resolve_function(call.func)
        resolver = self.program.resolver(names)
        try:
            found = resolver.function_called(call, resolver.where(func))
        except (RecursionError, ValueError, OSError):
            answer_cut_short()  # an answer that met this is not kept for other files
            return None
        return (found[0].names, found[1]) if found is not None else None

    def _harmless(
        self, caught: ast.expr | None, body: list[ast.stmt], tried: list[ast.stmt] | None = None, func: FunctionNode | None = None
    ) -> bool:
        """Whether every class ``caught`` names (one, or a tuple mixing kinds) has text fit for the client,
        each by its own measure: a public class, one of the project's own classes that carries only
        text the project wrote (``only_own_text``), or a class of an application package answered
        with a client status (``_application_class``, ``_client_statuses``). ``body``: where the
        caught exception is handled (the ``except`` body, or the body of ``if isinstance(exc, ...)``).

        ``tried``: the body of the ``try`` (in ``func``), when known; a builtin class of a tuple then also
        counts when what the ``try`` calls raises it with its own text (``provenance.raised_by_the_project``,
        asked of that class alone)."""
        if caught is None:
            return False
        elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if not elements:
            return False
        for element in elements:
            if self._public_type(element) or only_own_text(self.ctx.names, element, self._resolve):
                continue
            if tried is not None and wraps_out_of_reach(self.ctx.names, element, tried, func, self._resolve):
                continue  # the project's class, built from another error's text only where this ``try`` cannot go
            if self._application_class(element):
                # Asked of each class: a websocket's answer depends on the class (``_statuses_elsewhere``).
                if self._client_statuses(body, element):
                    continue
                return False
            if tried is None or len(elements) == 1:
                return False  # a lone class: ``_walk`` has asked ``raised_by_the_project`` already
            if not raised_by_the_project(self.ctx.names, element, tried, func, self._resolve):
                return False
        return True

    def _application_class(self, element: ast.expr) -> bool:
        """A named exception class of an application package: not a builtin, not a library whose
        errors carry its own text (a database, HTTP, cloud, OS or parser library), and not the
        project's own (those are judged by provenance)."""
        qualified = self.ctx.names.qualify(element)
        if qualified is None or "." not in qualified:
            return False
        top = qualified.split(".")[0]
        return not (top == "builtins" or top in TEXT_SOURCES or top in _TEXT_LIBRARIES or self._own_class(element))

    def _client_statuses(self, body: list[ast.stmt], caught: ast.expr | None = None) -> bool:
        """``except PolicyViolation as exc: raise HTTPException(403, detail=str(exc))``: every
        ``HTTPException`` or response ``body`` sends has a status that says what the message is for.
        A 4xx says it describes the client's request, which is what such a class is for; a 503 that
        the service cannot serve it now (a policy or a dependency not ready), the class's own
        condition. A 500 passes whatever happened on, and a 502/504 reports an upstream's failure,
        whose text is the upstream's.

        A websocket message has no status: when ``body`` sends only such messages, the statuses the
        project answers the ``caught`` class with elsewhere say what it is for (``_statuses_elsewhere``)."""
        sent = [n for statement in body for n in ast.walk(statement) if isinstance(n, ast.Call) and self._sink(n) is not None]
        statuses = [http_status(self.ctx.names, n) for n in sent if not self._websocket_send(n)]
        if sent and not statuses and caught is not None:
            statuses = self._statuses_elsewhere(caught)
        return bool(statuses) and all(
            status is not None and (400 <= status < 500 or status in _UNAVAILABLE) for status in statuses
        )

    def _modules_mentioning(self, word: str, *, other_than_this: bool = False) -> Iterator[Names]:
        """The project modules whose text holds ``word`` (at most ``_ELSEWHERE_FILES``), as the index
        parsed them; ``other_than_this``: this module's own file left out (and not parsed again)."""
        resolver = self.ctx.names.resolver
        if resolver is None:
            return
        here = resolver.index.real_path(resolver.filename) if other_than_this else None
        for path in (resolver.index.files_mentioning(resolver.filename, word) or [])[:_ELSEWHERE_FILES]:
            if here is not None and resolver.index.real_path(path) == here:
                continue
            module = resolver.index.module(path)
            if module is not None:
                yield module.names

    def _statuses_elsewhere(self, caught: ast.expr) -> list[int | None]:
        """The status of every ``HTTPException`` raised in an ``except`` of the class ``caught`` names,
        in the project's files that mention it (at most ``_ELSEWHERE_FILES``)."""
        qualified = self.ctx.names.qualify(caught)
        if qualified is None:
            return []
        statuses: list[int | None] = []
        for names in self._modules_mentioning(qualified.rsplit(".", 1)[-1]):
            for handler in names.nodes.each(ast.ExceptHandler):
                named = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if not any(e is not None and names.qualify(e) == qualified for e in named):
                    continue
                statuses.extend(
                    http_status(names, n)
                    for statement in handler.body
                    for n in ast.walk(statement)
                    if isinstance(n, ast.Call) and names.qualify(n.func) in HTTP_EXCEPTIONS
                )
        return statuses

    def _websocket_send(self, call: ast.Call) -> bool:
        return (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in WEBSOCKET_SENDS
            and bool(call.args)
            and self._is_websocket(call.func.value)
        )

    def _operator_only(self, route: Route) -> bool:
        """A route only an administrator can call (``analysis/audience.py``), unless the project asks
        for such routes to be judged too (``faa-operator-routes = judge``)."""
        if not self.ctx.settings.quiet_operator_routes:
            return False
        return self.ctx.serving.facts().audience.route_is_operator_only(route.func, route.registration)

    def _validates_only(self, body: list[ast.stmt]) -> bool:
        """A ``try`` whose every call builds or validates a Pydantic model (``Form(**payload)``,
        ``Item.model_validate(data)``): what it raises is a validation error, which lists the fields
        of the client's own data that failed."""
        calls = [n for stmt in body for n in walk_shallow(stmt) if isinstance(n, ast.Call)]
        return bool(calls) and all(
            (isinstance(call.func, ast.Attribute) and call.func.attr in VALIDATING_METHODS) or self._is_model(call.func)
            for call in calls
        )

    def _reads_request_body(self, body: list[ast.stmt], owner: Owner) -> bool:
        """A ``try`` whose only calls read the request's body (``data = await request.body()``): that
        raises only ``ClientDisconnect`` (the client went away) or Starlette's fixed "Stream consumed",
        nothing about the server."""
        calls = [n for stmt in body for n in walk_shallow(stmt) if isinstance(n, ast.Call)]
        return bool(calls) and all(
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "body"
            and not call.args
            and not call.keywords
            and isinstance(call.func.value, ast.Name)
            and self._is_request(call.func.value.id, owner)
            for call in calls
        )

    def _is_request(self, name: str, owner: Owner) -> bool:
        """A parameter of ``owner`` annotated ``Request``."""
        scope = owner.scope
        if scope is None or name not in scope.params:
            return False
        annotation = scope.annotations.get(name)
        return annotation is not None and self.ctx.names.qualify(annotation) in REQUEST_CLASSES

    def _is_model(self, callee: ast.expr) -> bool:
        """A project class that derives (through project classes) from Pydantic's ``BaseModel``."""
        return derives_from(self.ctx.names, callee, PYDANTIC_MODELS)

    # -- walking one body -------------------------------------------------------
    def _walk(self, owner: Owner, *, upper_bound: bool = False) -> Iterator[tuple[ast.AST, frozenset[str]]]:
        """Every node of the body with the exception names live there.

        Like ``walk_shallow``: nested functions, lambdas and classes are not
        entered (their decorators and defaults are, they run here).

        ``upper_bound``: every name an ``except`` binds is live in its handler, none judged harmless
        and none narrowed away. What the judging does is take names out of the live sets, so a body
        with no leak then has none at all, and the judging (which follows the ``try``'s calls into
        the project) is spared.
        """
        stack: list[tuple[ast.AST, frozenset[str]]] = [(s, owner.initial) for s in owner.body]
        own_raises: set[int] = set()
        """Handlers of a narrow builtin class whose ``try`` only meets what the project raised itself."""
        trys: list[ast.Try] = []
        """The ``try`` statements met so far, to find the one whose handler bound a narrowed name."""
        while stack:
            node, live = stack.pop()
            yield node, live
            if isinstance(node, ast.Try) and not upper_bound:
                # Only a handler that binds the exception can put its text anywhere.
                validates_only = any(handler.name for handler in node.handlers) and (
                    self._validates_only(node.body)
                    or _reads_only(node.body)
                    or self._reads_request_body(node.body, owner)
                    or only_project_checks(self.ctx.names, node.body, owner.func, self._resolve)
                )
                parses_only: bool | None = None
                for handler in node.handlers:
                    if not handler.name:
                        continue
                    if validates_only or raised_by_the_project(
                        self.ctx.names, handler.type, node.body, owner.func, self._resolve
                    ):
                        own_raises.add(id(handler))
                    elif self._narrow(handler.type):
                        # ``except (OSError, ValueError)`` around ``os.path.realpath(candidate)``: what the
                        # ``try`` can raise describes the value it parsed. A broad ``except`` is not
                        # quieted so: it is no statement about what the body raises.
                        if parses_only is None:
                            parses_only = only_input_parsing(self.ctx.names, node.body, owner.func)
                        if parses_only or (
                            _uses(handler) and self._harmless(handler.type, handler.body, node.body, owner.func)
                        ):
                            # A tuple judged class by class, a builtin an application package raises.
                            own_raises.add(id(handler))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                if not isinstance(node, ast.Lambda):
                    stack.extend((d, live) for d in node.decorator_list)
                if not isinstance(node, ast.ClassDef):
                    defaults = [*node.args.defaults, *node.args.kw_defaults]
                    stack.extend((d, live) for d in defaults if d is not None)
                continue
            if isinstance(node, ast.Try):
                trys.append(node)
            if isinstance(node, (ast.If, ast.IfExp)) and live and not upper_bound:
                narrowed = _narrowed(node.test, live)
                branch: list[ast.AST] = list(node.body) if isinstance(node, ast.If) else [node.body]
                quieted: str | None = None
                if narrowed is not None and self._narrowed_harmless(narrowed, node, branch, trys, owner):
                    # ``except Exception as exc: ... if isinstance(exc, PolicyViolation): raise
                    # HTTPException(403, str(exc))`` (or ``str(exc) if type(exc) is ValueError else ...``):
                    # in that branch the exception is of the class tested, judged as an ``except`` of it
                    # would be.
                    quieted = narrowed.name
                else:
                    # ``if "stream or streaming set to True" in str(exc):``: the branch answers only the
                    # message the code recognised by a sentence of it.
                    quieted = _recognised_text(node.test, live)
                if quieted is not None:
                    body = {id(s) for s in branch}
                    inner = live - {quieted}
                    stack.extend((c, inner if id(c) in body else live) for c in child_nodes(node))
                    continue
            if isinstance(node, ast.ExceptHandler):
                inner = live
                if node.name:
                    # A handler for a public exception, or for the project's own exceptions that
                    # carry only text the project wrote, rebinds the name to something harmless.
                    harmless = not upper_bound and (
                        self._public_type(node.type)
                        or id(node) in own_raises
                        or self._harmless(node.type, node.body)
                    )
                    inner = live - {node.name} if harmless else live | {node.name}
                body = {id(s) for s in node.body}
                stack.extend((c, inner if id(c) in body else live) for c in child_nodes(node))
                continue
            stack.extend((c, live) for c in child_nodes(node))

    def _check_owner(self, owner: Owner) -> None:
        # Most bodies catch exceptions only to log them: a first look with every caught name live
        # finds no sink reached, and the judging of each handler is never needed.
        if not self._leaks(owner, upper_bound=True):
            return
        lines: set[int] = set()
        for node, message in self._leaks(owner):
            if owner.func is not None and self.ctx.settings.quiet_operator_routes and in_admin_branch(owner.func, node):
                # ``if url_idx is not None and user.role != "admin": raise ...`` earlier: the text goes
                # to the operator, as from a route only administrators can call (``_operator_only``).
                continue
            line = getattr(node, "lineno", 0)
            if line in lines:
                continue  # ``return translate(create_error_response(e))``: one leak, said once
            lines.add(line)
            self.ctx.report("FAA303", node, f"{message}, so the client sees internal error text")

    def _index(self, owner: Owner, upper_bound: bool) -> tuple[BodyIndex, list[tuple[ast.AST, frozenset[str]]]]:
        """One walk over ``owner``'s body: every node with the names live there, and the index."""
        index = BodyIndex(live={}, assignments={}, body=owner.body)
        nodes: list[tuple[ast.AST, frozenset[str]]] = []
        for node, live in self._walk(owner, upper_bound=upper_bound):
            index.live[id(node)] = live
            nodes.append((node, live))
            for target, value in _assigned(node):
                index.assignments.setdefault(target.id, []).append(((target.lineno, target.col_offset), value))
                index.live.setdefault(id(value), live)  # an element of an unpacked value (``_assigned``)
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    index.statements[id(value)] = node
                if isinstance(node, ast.Assign) and target not in node.targets:
                    index.unpacked.add(target.id)
            for target, value in values_added(node):
                index.additions.setdefault(target.id, []).append(((value.lineno, value.col_offset), value))
            index.unmodelled.update(_unmodelled(node))
        return index, nodes

    def _returned_text(self, call: ast.Call, owner: Owner, element: int | None) -> Leak | None:
        """``clone_path, error = await _clone_repo(...)``: a function of this module that returns the text
        of an exception it caught itself (``return None, f"Clone failed: {e}"``). ``element``: the item
        of the returned tuple read, when known; an item that holds no text is not a leak."""
        found = self._resolve(self.ctx.names, call, owner.func)
        if found is None or found[0] is not self.ctx.names:
            return None  # a function of another module is judged there, by its own module's names
        func = found[1]
        for position, leak, line in self._returned_leaks(func):
            if element is None or position is None or position == element:
                return Leak(f"{leak.shown} returned by `{func.name}()` (line {line})")
        return None

    def _returned_leaks(self, func: FunctionNode) -> list[tuple[int | None, Leak, int]]:
        """(item of the returned tuple or None for the whole value, the leak, its line) for each
        ``return`` of ``func`` that hands back the text of an exception it caught. A route handler or a
        stream is left out: what it returns is judged as its own response."""
        known = self._returned.get(id(func))
        if known is not None:
            return known
        if id(func) in self._returning or len(self._returning) >= _MAX_RETURNING:
            # Met again while its own answer is worked out (or too deep a chain): nothing from here,
            # and the answers worked out meanwhile are not kept, so no file order shapes them.
            self._returning_cuts += 1
            return []
        cuts = self._returning_cuts
        self._returning.append(id(func))
        try:
            found = self._returned_leaks_of(func)
        finally:
            self._returning.pop()
        if self._returning_cuts == cuts:
            self._returned[id(func)] = found
        return found

    def _returned_leaks_of(self, func: FunctionNode) -> list[tuple[int | None, Leak, int]]:
        found: list[tuple[int | None, Leak, int]] = []
        if func in self._with_sources and self.ctx.model.route_for(func) is None and not _is_generator(func):
            owner = Owner(func.body, func, self.ctx.names.scope(func), frozenset(), None)
            if any(isinstance(n, ast.Return) and n.value is not None and live for n, live in self._index(owner, True)[1]):
                index, nodes = self._index(owner, False)
                for node, live in nodes:
                    if not (isinstance(node, ast.Return) and node.value is not None and live):
                        continue
                    items = list(enumerate(node.value.elts)) if isinstance(node.value, ast.Tuple) else [(None, node.value)]
                    for position, item in items:
                        leak = self._leak(item, index.live.get(id(item), live), owner, index)
                        if leak is not None:
                            found.append((position, leak, node.lineno))
        return found

    def _leaks(self, owner: Owner, *, upper_bound: bool = False) -> list[tuple[ast.AST, str]]:
        """Where ``owner``'s body sends a caught exception's text, each with what the message says of
        it. ``upper_bound`` (see ``_walk``): only whether there is any counts, and the first ends the look."""
        index, nodes = self._index(owner, upper_bound)
        where = f"`{owner.func.name}`" if owner.func is not None else "module level"
        found: list[tuple[ast.AST, str]] = []
        for node, live in nodes:
            if upper_bound and found:
                break
            if isinstance(node, ast.Call):
                sink = self._sink(node)
                if sink is None:
                    sent = self._through_helper(node, live, owner, "sent", index) if live else None
                    if sent is not None:
                        found.append((
                            node,
                            f"`{_short(node.func)}()` in {where} is handed {sent.shown} and puts its text in the "
                            "HTTPException or response it sends",
                        ))  # fmt: skip
                    continue
                label, value = sink
                leak = self._leak(value, live, owner, index)
                # Whether a project function replaces the error later only takes findings away.
                if leak is not None and (upper_bound or not self._replaced_later(node, owner, index)):
                    found.append((node, f"`{label}` in {where} receives {leak.shown}"))
            elif isinstance(node, ast.Yield) and node.value is not None and owner.returns_to_client == "stream":
                leak = self._leak(node.value, live, owner, index)
                if leak is not None:
                    found.append((node, f"the stream {where} sends the client {leak.shown}"))
            elif isinstance(node, ast.Return) and node.value is not None and owner.returns_to_client == "stream":
                continue
            elif isinstance(node, ast.Return) and node.value is not None and owner.returns_to_client:
                leak = self._leak(node.value, live, owner, index)
                if leak is not None:
                    found.append((node, f"{owner.returns_to_client} {where} returns {leak.shown}"))
        if found and not upper_bound and owner.func is not None:
            # ``if settings.DEBUG: raise HTTPException(500, traceback.format_exc())``: the operator's opt-in.
            switched = error_detail_only(owner.func)
            found = [(node, message) for node, message in found if id(node) not in switched]
        return found

    # -- errors a project function replaces before they are sent ----------------------------------
    def _replaced_later(self, sink: ast.Call, owner: Owner, index: BodyIndex) -> bool:
        """The ``HTTPException`` holding the text is not what the client gets: the project hands it to a
        function that replaces it unless the caller may see it (``exception_text.replaced``), either
        right away (``http_error = HTTPException(detail=str(exc))`` then ``raise error_for_client(
        http_error, expose_details=owner)``) or where it is caught (``raise HTTPException(...)`` in a
        local function whose every caller catches it and hands it to such a function)."""
        func = owner.func
        if func is None:
            return False
        targets = {name for name, values in index.assignments.items() if any(value is sink for _, value in values)}
        if targets:
            return len(targets) == 1 and self._only_handed_to_replacers(func, targets.pop())
        raised = any(isinstance(n, ast.Raise) and n.exc is sink for n in walk_shallow(func))
        return raised and self._caught_and_replaced(func, 0)

    def _only_handed_to_replacers(self, func: FunctionNode, name: str) -> bool:
        """Every read of ``name`` in ``func`` is an argument that a project function replaces."""
        loads = [n for n in walk_shallow(func) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
        handed: set[int] = set()
        for call in walk_shallow(func):
            if isinstance(call, ast.Call):
                handed.update(id(argument) for argument in self._replaced_arguments(call, func))
        return bool(loads) and all(id(load) in handed for load in loads)

    def _replaced_arguments(self, call: ast.Call, func: FunctionNode) -> list[ast.expr]:
        """The arguments of ``call`` that the project function it runs replaces (``exception_text.replaced``)."""
        found = self._resolve(self.ctx.names, call, func)
        if found is None:
            return []
        helper_names, helper = found
        replacing = replaced(helper_names, helper)
        if not replacing:
            return []
        return [argument for param, argument in bound_arguments(call, helper) if param in replacing]

    def _caught_and_replaced(self, func: FunctionNode, depth: int) -> bool:
        """What escapes the local function ``func`` is caught, wherever it is called, by an ``except``
        that hands the caught exception to a function that replaces it; followed through local
        functions that let it pass, up to the function they are defined in."""
        parent = self._parents().get(id(func))
        if parent is None or depth >= _FOLLOW_NAMES:
            return False
        # Every use of its name is one of the calls followed: handed on as a value, it may run anywhere.
        uses = sum(isinstance(n, ast.Name) and n.id == func.name and isinstance(n.ctx, ast.Load) for n in ast.walk(parent))
        sites = self._call_sites(parent, func)
        if not sites or len(sites) != uses:
            return False
        for _call, runs_in, trys in sites:
            verdict = self._first_catch(trys, runs_in)
            if verdict is None:  # nothing in ``runs_in`` catches it: it escapes to whoever calls that
                if runs_in is parent or not self._caught_and_replaced(runs_in, depth + 1):
                    return False
            elif not verdict:
                return False
        return True

    def _call_sites(
        self, parent: FunctionNode, func: FunctionNode
    ) -> list[tuple[ast.Call, FunctionNode, list[ast.Try]]] | None:
        """Each direct call of ``func`` inside ``parent`` (or a function nested there): the call, the
        function it runs in, and the ``try`` statements whose body holds it, innermost first. None when
        it is called in a way that moves its errors elsewhere (``create_task(func())``)."""
        sites: list[tuple[ast.Call, FunctionNode, list[ast.Try]]] = []
        moved = False

        def visit(node: ast.AST, runs_in: FunctionNode, trys: list[ast.Try], parent_node: ast.AST | None) -> None:
            nonlocal moved
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == func.name:
                awaited = isinstance(parent_node, ast.Await)
                if isinstance(func, ast.AsyncFunctionDef) and not awaited or isinstance(parent_node, ast.Call):
                    moved = True
                sites.append((node, runs_in, trys))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not runs_in:
                if node is func:
                    return
                for statement in node.body:
                    visit(statement, node, [], None)
                return
            if isinstance(node, (ast.Lambda, ast.ClassDef)):
                return
            if isinstance(node, ast.Try):
                for statement in node.body:
                    visit(statement, runs_in, [node, *trys], node)
                for other in [*node.handlers, *node.orelse, *node.finalbody]:
                    visit(other, runs_in, trys, node)
                return
            for child in ast.iter_child_nodes(node):
                visit(child, runs_in, trys, node)

        for statement in parent.body:
            visit(statement, parent, [], None)
        return None if moved else sites

    def _first_catch(self, trys: list[ast.Try], runs_in: FunctionNode) -> bool | None:
        """Whether the first ``except`` of ``trys`` that catches an ``HTTPException`` replaces it; None
        when none catches it."""
        for statement in trys:
            for handler in statement.handlers:
                if not self._catches_http_errors(handler.type):
                    continue
                if handler.name is None:
                    return False
                if any(
                    isinstance(s, ast.Raise) and (s.exc is None or (isinstance(s.exc, ast.Name) and s.exc.id == handler.name))
                    for s in handler.body
                ):
                    return False  # passed on unchanged whoever calls
                handed = [
                    argument
                    for call in ast.walk(handler)
                    if isinstance(call, ast.Call)
                    for argument in self._replaced_arguments(call, runs_in)
                ]
                return any(isinstance(a, ast.Name) and a.id == handler.name for a in handed)
        return None

    def _narrowed_harmless(
        self, narrowed: Narrowed, test_node: ast.AST, branch: list[ast.AST], trys: list[ast.Try], owner: Owner
    ) -> bool:
        """Whether, in the branch of a test that narrows a caught exception to ``narrowed.classes``, its
        text is fit for the client, judged as ``except <classes>`` around the same ``try`` would be.

        An exact test of a builtin class the ``try`` raises itself with text it wrote (``type(exc) is
        ValueError`` where the ``try`` has ``raise ValueError("Chat not found")``, in its own body or
        in functions it defines) also counts: the exact class leaves out every subclass a library
        reports its own errors with (``JSONDecodeError``, ``UnicodeDecodeError``, pydantic's
        ``ValidationError``), so what the branch answers is the project's own plain raises."""
        statements = [s for s in branch if isinstance(s, ast.stmt)]
        if self._harmless(narrowed.classes, statements):
            return True
        tried = _tried(trys, narrowed.name, test_node)
        if tried is None:
            return False
        if raised_by_the_project(self.ctx.names, narrowed.classes, tried.body, owner.func, self._resolve):
            return True
        if self._narrow(narrowed.classes) and (
            only_input_parsing(self.ctx.names, tried.body, owner.func)
            or self._harmless(narrowed.classes, statements, tried.body, owner.func)
        ):
            return True
        return narrowed.exact and _raised_plainly(narrowed.classes, tried.body, self.ctx.names)

    def _narrow(self, caught: ast.expr | None) -> bool:
        """An ``except`` that names classes, none of them ``Exception`` or ``BaseException``."""
        if caught is None:
            return False
        elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        return bool(elements) and not any(
            self.ctx.names.qualify(e) in ("builtins.Exception", "builtins.BaseException") for e in elements
        )

    def _catches_http_errors(self, caught: ast.expr | None) -> bool:
        if caught is None:
            return True
        elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        return any(self.ctx.names.qualify(e) in _CATCHES_HTTP for e in elements)

    def _parents(self) -> dict[int, FunctionNode]:
        """id(function) -> the function it is defined in, for the module's local functions."""
        if self._parent_map is None:
            self._parent_map = {}
            for node in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
                for inner in walk_shallow(node):
                    if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._parent_map[id(inner)] = node
        return self._parent_map

    def _sink(self, call: ast.Call) -> tuple[str, ast.expr] | None:
        """(how the message names the sink, the value that becomes the response)."""
        if self._websocket_send(call):
            return f"{_short(call.func)}(...)", call.args[0]
        qualified = self.ctx.names.qualify(call.func)
        if qualified in HTTP_EXCEPTIONS:
            parameter, position = "detail", 1
        elif qualified in RESPONSE_CLASSES:
            parameter, position = "content", 0
        else:
            return None
        label = f"{_short(call.func)}({parameter}=...)"
        for keyword in call.keywords:
            if keyword.arg == parameter:
                return label, keyword.value
        positional = call.args[: position + 1]
        if len(positional) > position and not any(isinstance(a, ast.Starred) for a in positional):
            return label, call.args[position]
        return None

    def _is_websocket(self, receiver: ast.expr) -> bool:
        """A name annotated ``WebSocket`` in the function it is used in, or called ``websocket``/``ws``."""
        if not isinstance(receiver, ast.Name):
            return False
        if receiver.id in ("websocket", "ws"):
            return True
        for func in self.ctx.names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
            annotation = self.ctx.names.scope(func).annotations.get(receiver.id)
            if annotation is not None and self.ctx.names.qualify(annotation) in WEBSOCKET_CLASSES:
                return True
        return False

    # -- what leaks -----------------------------------------------------------
    def _exception(self, expr: ast.expr, live: frozenset[str]) -> str | None:
        """How to name the caught exception ``expr`` evaluates to, or None if it is not one."""
        if isinstance(expr, ast.Name):
            return f"caught exception `{expr.id}`" if expr.id in live else None
        if isinstance(expr, ast.Attribute) and expr.attr in CHAINED:
            return self._exception(expr.value, live)
        if isinstance(expr, ast.Call) and not expr.args and self.ctx.names.qualify(expr.func) == "sys.exception":
            return "the current exception"
        if (
            isinstance(expr, ast.Subscript)
            and isinstance(expr.slice, ast.Constant)
            and expr.slice.value == 1
            and isinstance(expr.value, ast.Call)
            and self.ctx.names.qualify(expr.value.func) == "sys.exc_info"
        ):
            return "the current exception"
        return None

    def _leak(
        self, expr: ast.expr, live: frozenset[str], owner: Owner, index: BodyIndex, depth: int = 0, follows: int = 0
    ) -> Leak | None:
        if depth > _MAX_DEPTH:
            return None

        def inner(child: ast.expr) -> Leak | None:
            return self._leak(child, live, owner, index, depth + 1, follows)

        def formatted(child: ast.expr) -> Leak | None:
            # ``child`` is turned into text here: the exception itself leaks.
            exception = self._exception(child, live)
            if exception:
                return Leak(f"the text of {exception} (`{_short(expr)}`)")
            return inner(child)

        def first(children: list[ast.expr]) -> Leak | None:
            for child in children:
                found = inner(child)
                if found:
                    return found
            return None

        if isinstance(expr, ast.Name):
            return self._follow(expr, live, owner, index, depth, follows)
        if isinstance(expr, ast.JoinedStr):
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    found = formatted(part.value)
                    if found:
                        return found
            return None
        if isinstance(expr, ast.Attribute):
            exception = self._exception(expr.value, live) if expr.attr == "args" else None
            if exception:
                return Leak(f"the arguments of {exception} (`{_short(expr)}`)")
            return None
        if isinstance(expr, ast.Call):
            return (
                self._leak_call(expr, live, formatted, first)
                or self._through_helper(expr, live, owner, "returned", index, depth)
                or self._returned_text(expr, owner, None)
            )
        if isinstance(expr, ast.Await):
            return inner(expr.value)
        if isinstance(expr, ast.BinOp):
            if isinstance(expr.op, ast.Mod):
                right = expr.right
                operands = right.elts if isinstance(right, ast.Tuple) else [right]
                if isinstance(right, ast.Dict):
                    operands = [v for v in right.values if v is not None]
                for operand in operands:
                    found = formatted(operand)
                    if found:
                        return found
            return first([expr.left, expr.right])
        if isinstance(expr, ast.Dict):
            return first([*(k for k in expr.keys if k is not None), *expr.values])
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return first(list(expr.elts))
        if isinstance(expr, ast.Starred):
            return inner(expr.value)
        if isinstance(expr, ast.Subscript):
            called = expr.value.value if isinstance(expr.value, ast.Await) else expr.value
            if (
                isinstance(called, ast.Call)
                and isinstance(expr.slice, ast.Constant)
                and type(expr.slice.value) is int
            ):
                # ``result[1]``, ``error`` of ``_, error = f()``: only that item of what ``f`` returns.
                return (
                    self._leak_call(called, live, formatted, first)
                    or self._through_helper(called, live, owner, "returned", index, depth)
                    or self._returned_text(called, owner, expr.slice.value)
                )
            return inner(expr.value)
        if isinstance(expr, ast.IfExp):
            # Each branch with the names live there: ``str(exc) if type(exc) is ValueError else ...``
            # has narrowed ``exc`` in its first branch (``_walk``).
            for branch in (expr.body, expr.orelse):
                found = self._leak(branch, index.live.get(id(branch), live), owner, index, depth + 1, follows)
                if found:
                    return found
            return None
        if isinstance(expr, ast.BoolOp):
            return first(list(expr.values))
        return None

    def _leak_call(self, call: ast.Call, live: frozenset[str], formatted: _Check, first: _CheckAll) -> Leak | None:
        qualified = self.ctx.names.qualify(call.func)
        if qualified is not None and qualified not in _KNOWN_CALLS and "." in qualified:
            # A project's alias of a library function (``JSONCodec = json`` in its codec module, then
            # ``JSONCodec.dumps(...)``) is that function.
            qualified = self.ctx.names.value_path(call.func) or qualified
        if qualified in TRACEBACK_TEXT:
            return Leak(f"a traceback (`{_short(call)}`)")
        if qualified in STRINGIFIERS:
            return formatted(call.args[0]) if len(call.args) >= 1 else None
        keyword_values = [k.value for k in call.keywords]
        if qualified in CARRIERS or self._builds_a_model(call.func, qualified):
            return first([*call.args, *keyword_values])
        if isinstance(call.func, ast.Attribute):
            method = call.func.attr
            if method == "format":
                for argument in [*call.args, *keyword_values]:
                    target = argument.value if isinstance(argument, ast.Starred) else argument
                    found = formatted(target)
                    if found:
                        return found
                return first([call.func.value])
            if method == "join":
                return first([call.func.value, *call.args])
            if method in STR_METHODS or method in MODEL_DUMPS:
                # ``err.model_dump()``: the dict of what the model holds.
                return first([call.func.value])
        return None

    def _through_helper(
        self, call: ast.Call, live: frozenset[str], owner: Owner, how: str, index: BodyIndex | None = None, depth: int = 0
    ) -> Leak | None:
        """A caught exception handed to a project function that returns its text (``how="returned"``)
        or sends it to the client itself (``"sent"``): ``create_error_response(e)``, ``_raise_error(exc)``;
        or its text, handed to a project function that returns or sends that value as it is
        (``exception_text.passed_on``): ``format_error_event(str(exc))``, ``_error_response(f"failed: {e}")``."""
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if not any(
            isinstance(n, ast.Name)
            and (n.id in live or (index is not None and (n.id in index.assignments or n.id in index.additions)))
            for a in arguments
            for n in ast.walk(a)
        ):
            return None  # no argument reads a live name or a local that may hold text: a cheap look first
        found = self._resolve(self.ctx.names, call, owner.func)
        if found is None:
            return None
        helper_names, helper = found
        # A flag the call passes (``handle_request_limit_error(e, sanitize=True)``), or leaves at its
        # default (``sanitize: bool = False``), settles the tests that read it in the helper:
        # ``"Rate limit reached" if sanitize else str(e)``, ``if sanitize and ...:``.
        bound = bound_arguments(call, helper)
        passed = {param for param, _ in bound}
        settled: dict[str, object] = {p: v for p, v in flag_defaults(helper).items() if p not in passed}
        settled.update(
            (param, argument.value)
            for param, argument in bound
            if isinstance(argument, ast.Constant) and isinstance(argument.value, bool)
        )
        carrying = getattr(carried_given(helper_names, helper, settled), how)
        passing = getattr(passed_on(helper_names, helper), how)
        if not carrying and not passing:
            return None
        for param, argument in bound:
            exception = self._exception(argument, live)
            if exception and param in carrying and how == "returned" and self._policy_holds(call, argument, helper_names, helper, owner):
                continue
            if exception and param in carrying and self._sorted_by_helper(helper_names, helper, param, settled, how):
                continue
            if exception and param in carrying:
                return Leak(exception if how == "sent" else f"the text of {exception} (through `{_short(call.func)}()`)")
            if not exception and param in passing and index is not None:
                text = self._leak(argument, live, owner, index, depth + 1)
                if text is not None:
                    return Leak(f"{text.shown} (through `{_short(call.func)}()`)")
        return None

    def _sorted_by_helper(
        self, names: Names, helper: FunctionNode, param: str, flags: Mapping[str, object], how: str
    ) -> bool:
        """``handle_error(e)`` whose every use of ``e``'s text sits under a test that sorts it, judged as
        the same test in a handler would be: ``if isinstance(e, ContextLengthExceeded): raise
        HTTPException(400, str(e))`` with the project's own class, ``if "Rate limit reached" in
        message:`` (a sentence of a known message) with ``message = str(e)``. The flags the call passes
        settle the tests and branches that read them (``exception_text.guarded_sinks``)."""
        sinks = guarded_sinks(names, helper, param, flags, how)
        if sinks is None or not sinks.tests:
            return False
        return all(
            any(self._sorts(names, test, param, sinks.bound_once, 0) for test in tests) for tests in sinks.tests
        )

    def _sorts(self, names: Names, test: ast.expr, param: str, bound_once: Mapping[str, ast.expr], depth: int) -> bool:
        """Whether ``test`` holds only for exceptions ``param`` whose text is fit for the client."""
        if depth > _FOLLOW_NAMES:
            return False
        if isinstance(test, ast.Name) and test.id in bound_once:
            return self._sorts(names, bound_once[test.id], param, bound_once, depth + 1)
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "bool" and len(test.args) == 1:
            return self._sorts(names, test.args[0], param, bound_once, depth + 1)
        if isinstance(test, ast.BoolOp):
            sorted_by = [self._sorts(names, value, param, bound_once, depth + 1) for value in test.values]
            return any(sorted_by) if isinstance(test.op, ast.And) else all(sorted_by)
        live = frozenset({param})
        narrowed = _narrowed(test, live)
        if narrowed is not None:
            return self._public_type(narrowed.classes, names=names) or only_own_text(names, narrowed.classes, self._resolve)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            # ``message = str(e)`` earlier: the test reads the text through the local.
            operands = [
                bound_once[o.id] if isinstance(o, ast.Name) and o.id in bound_once else o
                for o in (test.left, test.comparators[0])
            ]
            test = ast.Compare(left=operands[0], ops=test.ops, comparators=[operands[1]])
        return _recognised_text(test, live) is not None

    def _policy_holds(
        self, call: ast.Call, argument: ast.expr, helper_names: Names, helper: FunctionNode, owner: Owner
    ) -> bool:
        """``detail=sanitize_database_error(e, PROJECT_READ_FAILED)``: a helper that chooses by the class
        of the exception what text to hand back (``exception_text.decides_by_class``: a fixed text for
        ``SQLAlchemyError``, the message otherwise) is the project's policy for its errors, and holds
        unless the ``try`` is seen to get past it (``provenance.may_rewrap``): a call there of a library
        whose errors carry what it met outside the process (``subprocess.run``, an HTTP client), or a
        project function within reach that puts another exception's text into a class the policy
        lets through (``raise RuntimeError(msg, e) from e``)."""
        if not isinstance(argument, ast.Name) or not decides_by_class(helper_names, helper):
            return False
        tried = _tried_for(owner.body, argument.id, call)
        return tried is not None and not may_rewrap(self.ctx.names, tried, owner.func, self._resolve, self._library_call)

    def _library_call(self, names: Names, call: ast.Call, func: FunctionNode | None) -> str | None:
        """The top-level package of the library a call runs, as the call graph knows it (``httpx`` for
        ``client.get(url)`` on an ``httpx.AsyncClient``, ``subprocess`` for ``subprocess.run``)."""
        qualified = names.qualify(call.func, names.scope(func) if func is not None else None)
        path = qualified
        if func is not None and (qualified is None or is_project_name(qualified)):
            resolver = self.program.resolver(names)
            try:
                path = resolver.callee_path(call, resolver.where(func))
            except (RecursionError, ValueError, OSError):
                return None
        if path is None:
            return None
        top = path.removeprefix("await ").split(".", 1)[0]
        return None if is_project_name(top) else top

    def _builds_a_model(self, callee: ast.expr, qualified: str | None) -> bool:
        """``ValidateProviderResponse(error=str(e))``: a model class of the project carries what it is
        built from to the client. A library's class does not count (its responses are sinks of their
        own), nor one that cannot be found."""
        name = last_name(callee)
        if name is None or not name[:1].isupper() or name.isupper():
            return False
        if qualified is not None and qualified.startswith(("builtins.",) + tuple(f"{top}." for top in _LIBRARY_TOPS)):
            return False
        return self._own_class(callee)

    def _follow(
        self, name: ast.Name, live: frozenset[str], owner: Owner, index: BodyIndex, depth: int, follows: int
    ) -> Leak | None:
        """A local variable: judge the value it last got before this read, where it got it."""
        scope = owner.scope
        if name.id in live or scope is None or follows >= _FOLLOW_NAMES:
            return None
        if name.id in scope.params:
            return None
        if name.id in scope.unknown and (name.id not in index.unpacked or name.id in index.unmodelled):
            return None
        values = index.values_reaching(name)
        for value in values:
            if id(value) not in index.live:
                continue
            if owner.func is not None and id(value) in error_detail_only(owner.func):
                continue  # set only when the operator turned on error detail
            found = self._leak(value, index.live[id(value)], owner, index, depth + 1, follows + 1)
            if found is not None:
                put = f" (put in at line {value.lineno})" if index.added(name.id, value) else ""
                return Leak(f"{found.shown} through `{name.id}`{put}")
        return None


def _tried_for(body: list[ast.stmt], name: str, node: ast.AST) -> list[ast.stmt] | None:
    """The body of the ``try`` whose ``except ... as name`` holds ``node`` (``_tried`` over the body's
    ``try`` statements, outer ones first as ``ast.walk`` meets them)."""
    trys = [inner for statement in body for inner in ast.walk(statement) if isinstance(inner, ast.Try)]
    found = _tried(trys, name, node)
    return found.body if found is not None else None


@dataclass(frozen=True)
class Narrowed:
    """A test that holds only when the live exception ``name`` is of ``classes`` (a class or a tuple);
    ``exact`` when it compares the exact class (``type(exc) is C``), leaving subclasses out."""

    name: str
    classes: ast.expr
    exact: bool


def _narrowed(test: ast.expr, live: frozenset[str]) -> Narrowed | None:
    """The narrowing of a test that holds only when a live exception name is of some classes:
    ``isinstance(exc, Conflict)``, ``type(exc) is ValueError``, ``type(exc) == ValueError``,
    ``type(exc) in (KeyError, ValueError)``, or such a test among the operands of ``and``."""
    tests = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    for candidate in tests:
        checked = _live_argument(candidate, "isinstance", 2, live)
        if checked is not None and isinstance(candidate, ast.Call):
            return Narrowed(checked, candidate.args[1], exact=False)
        if isinstance(candidate, ast.Compare) and len(candidate.ops) == 1:
            op, left, right = candidate.ops[0], candidate.left, candidate.comparators[0]
            if isinstance(op, (ast.Is, ast.Eq)) and _type_of(right, live) and not _type_of(left, live):
                left, right = right, left  # ``ValueError is type(exc)``
            name = _type_of(left, live)
            if name is None:
                continue
            if isinstance(op, (ast.Is, ast.Eq)) and isinstance(right, (ast.Name, ast.Attribute)):
                return Narrowed(name, right, exact=True)
            if isinstance(op, ast.In) and isinstance(right, (ast.Tuple, ast.Set, ast.List)) and right.elts:
                return Narrowed(name, ast.Tuple(elts=list(right.elts), ctx=ast.Load()), exact=True)
    return None


# How many words a phrase needs to name one message: "not found" or "timeout" match errors of any
# origin, "stream or streaming set to True" a known message of a known component.
_SENTENCE_WORDS = 3


def _recognised_text(test: ast.expr, live: frozenset[str]) -> str | None:
    """The live exception name a test recognises by its text: ``str(exc) == "..."``, or a phrase of
    at least ``_SENTENCE_WORDS`` words found in it (``"stream or streaming set to True" in str(exc)``),
    alone or among the operands of ``and``. Where it holds, the text is the message the code knows."""
    tests = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    for candidate in tests:
        if not (isinstance(candidate, ast.Compare) and len(candidate.ops) == 1):
            continue
        op, left, right = candidate.ops[0], candidate.left, candidate.comparators[0]
        if isinstance(op, ast.Eq) and _text_of(right, live) and not _text_of(left, live):
            left, right = right, left  # ``"..." == str(exc)``
        if isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
            name = _text_of(left, live)
        elif isinstance(op, ast.In) and isinstance(left, ast.Constant) and isinstance(left.value, str):
            name = _text_of(right, live) if len(left.value.split()) >= _SENTENCE_WORDS else None
        else:
            continue
        if name is not None:
            return name
    return None


def _text_of(expr: ast.expr, live: frozenset[str]) -> str | None:
    """The live exception name of ``str(exc)``, or None."""
    return _live_argument(expr, "str", 1, live)


def _type_of(expr: ast.expr, live: frozenset[str]) -> str | None:
    """The live exception name of ``type(exc)``, or None."""
    return _live_argument(expr, "type", 1, live)


def _live_argument(expr: ast.expr, builtin: str, arity: int, live: frozenset[str]) -> str | None:
    """The live exception name ``expr`` hands first to ``builtin`` called with ``arity`` positional
    arguments (``isinstance(exc, C)``, ``type(exc)``), or None."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == builtin
        and len(expr.args) == arity
        and not expr.keywords
        and isinstance(expr.args[0], ast.Name)
        and expr.args[0].id in live
    ):
        return expr.args[0].id
    return None


def _tried(trys: list[ast.Try], name: str, node: ast.AST) -> ast.Try | None:
    """The ``try`` whose ``except ... as name`` holds ``node`` (the innermost, if they nest)."""
    found: ast.Try | None = None
    for candidate in trys:
        for handler in candidate.handlers:
            if handler.name == name and any(n is node for s in handler.body for n in ast.walk(s)):
                found = candidate  # ``trys`` lists outer statements first
    return found


def _raised_plainly(classes: ast.expr, body: list[ast.stmt], names: Names) -> bool:
    """Whether the ``try`` ``body`` raises each of ``classes`` (builtins the project raises, not
    shadowed) with a message it wrote and never with other text: ``raise ValueError("Chat not found")``,
    also in the functions the body defines (tasks it starts), but not in a handler, where a raise may
    carry what that handler caught."""
    elements = classes.elts if isinstance(classes, ast.Tuple) else [classes]
    wanted = {e.id for e in elements if isinstance(e, ast.Name) and e.id not in names.imports and e.id not in names.classes}
    if not elements or len(wanted) != len(elements) or not wanted <= OWN_BUILTINS:
        return False
    literal: set[str] = set()
    for statement in body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if not (isinstance(exc, ast.Name) and exc.id in wanted):
                continue
            if not (isinstance(node.exc, ast.Call) and _written(node.exc)):
                return False
            literal.add(exc.id)
    return literal == wanted


def _written(call: ast.Call) -> bool:
    """``ValueError("...")``: arguments that are literal text, nothing formatted into them."""
    return not call.keywords and all(
        isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args
    )


def _uses(handler: ast.ExceptHandler) -> bool:
    """Whether the body of ``except ... as e`` reads ``e`` (only then is what it caught worth judging)."""
    return any(isinstance(n, ast.Name) and n.id == handler.name for s in handler.body for n in ast.walk(s))


def _yielded_on(func: FunctionNode) -> set[str]:
    """Names of the functions whose items ``func`` yields unchanged: ``yield from f(...)``, or ``for x in
    f(...):`` / ``async for x in f(...):`` whose body yields ``x``."""
    found: set[str] = set()
    for node in walk_shallow(func):
        if isinstance(node, ast.YieldFrom) and isinstance(node.value, ast.Call):
            name = last_name(node.value.func)
        elif (
            isinstance(node, (ast.For, ast.AsyncFor))
            and isinstance(node.iter, ast.Call)
            and isinstance(node.target, ast.Name)
            and any(
                isinstance(n, ast.Yield) and isinstance(n.value, ast.Name) and n.value.id == node.target.id
                for s in node.body
                for n in walk_shallow(s)
            )
        ):
            name = last_name(node.iter.func)
        else:
            continue
        if name is not None:
            found.add(name)
    return found


def _handler_signature(func: FunctionNode, names: Names) -> bool:
    """``(request, exc)``: two positional parameters, the first a request (annotated ``Request``, or
    named for one), as Starlette calls an exception handler."""
    positional = [*func.args.posonlyargs, *func.args.args]
    if len(positional) != 2 or func.args.vararg is not None:
        return False
    first = positional[0]
    if first.annotation is not None:
        return names.qualify(first.annotation) in REQUEST_CLASSES
    return first.arg in ("request", "req", "_request", "_req", "_")


def _registered_by_hand(call: ast.Call) -> tuple[ast.expr, ast.expr] | None:
    """(class, function) a call registers as an exception handler without a decorator line:
    ``app.exception_handler(C)(f)`` or ``app.add_exception_handler(C, f)``."""
    inner = call.func
    if (
        isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "exception_handler"
        and inner.args
        and len(call.args) == 1
    ):
        return inner.args[0], call.args[0]
    if isinstance(call.func, ast.Attribute) and call.func.attr == "add_exception_handler" and len(call.args) >= 2:
        return call.args[0], call.args[1]
    return None


def _is_generator(func: FunctionNode) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(func))


def _unmodelled(node: ast.AST) -> list[str]:
    """Names a statement binds in ways ``_assigned`` does not model."""
    targets: list[ast.expr] = []
    if isinstance(node, (ast.For, ast.AsyncFor)):
        targets.append(node.target)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets.extend(i.optional_vars for i in node.items if i.optional_vars is not None and not isinstance(i.optional_vars, ast.Name))
    elif isinstance(node, ast.Assign):
        targets.extend(
            t for t in node.targets if isinstance(t, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Starred) for e in t.elts)
        )
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _unpacked(target: ast.Tuple | ast.List, value: ast.expr) -> list[tuple[ast.Name, ast.expr]]:
    """``a, b = x, y`` item by item; ``a, b = f()`` as ``f()[0]``, ``f()[1]`` (made here, placed where
    ``value`` is), which ``_leak`` judges item by item when ``f`` is a function of the module."""
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
        return [(t, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name)]
    found: list[tuple[ast.Name, ast.expr]] = []
    for position, element in enumerate(target.elts):
        if isinstance(element, ast.Name):
            item = ast.Subscript(value=value, slice=ast.Constant(value=position), ctx=ast.Load())
            found.append((element, ast.copy_location(item, value)))
    return found


def _assigned(node: ast.AST) -> list[tuple[ast.Name, ast.expr]]:
    """(name, value) pairs a statement binds plainly (``x = v``, ``x: T = v``, ``x += v``, ``(x := v)``)."""
    if isinstance(node, ast.Assign):
        found = [(t, node.value) for t in node.targets if isinstance(t, ast.Name)]
        for target in node.targets:
            if isinstance(target, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in target.elts):
                found.extend(_unpacked(target, node.value))
        return found
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target, node.value)]
    if isinstance(node, ast.NamedExpr):
        return [(node.target, node.value)]
    return []
