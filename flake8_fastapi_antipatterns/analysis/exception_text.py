"""Helpers that carry an exception's text: which parameters of a function reach the client.

The leak rule (FAA303) follows a caught exception into the project function it
is handed to: ``create_error_response(e)`` that returns ``ErrorResponse(message=
str(e))``, ``_raise_tts_error(exc, r)`` that raises ``HTTPException(detail=
f"External: {exc}")``, ``parse_exception(exc)`` that returns ``str(exc)``.  For
one function this module answers which parameters' text

- the function *returns* (as text, or inside a response, a project model, a
  dict): the caller's sink decides whether it reaches the client;
- the function *raises or builds* into an ``HTTPException`` or a response itself.

Text passed through a call the function makes into anything else
(``redact(str(e))``, ``logger.error(str(e))``) is assumed cleaned, as in the rule.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.development import error_detail_only
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import bound_arguments, last_name, parameter_defaults, parameters

HTTP_EXCEPTIONS = frozenset(
    {"fastapi.HTTPException", "fastapi.exceptions.HTTPException", "starlette.exceptions.HTTPException"}
)
RESPONSE_CLASSES = frozenset(
    {"fastapi.Response"}
    | {
        f"{module}.{name}"
        for module in ("fastapi.responses", "starlette.responses")
        for name in ("Response", "JSONResponse", "PlainTextResponse", "HTMLResponse", "ORJSONResponse", "UJSONResponse")
    }
)
TRACEBACK_TEXT = frozenset(
    {
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.format_tb",
        "traceback.format_stack",
    }
)
STRINGIFIERS = frozenset({"builtins.str", "builtins.repr", "builtins.format", "builtins.ascii"})
# Methods of ``str`` (and ``bytes``): their result is the text they are called on, reshaped.
STR_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "replace", "lower", "upper", "capitalize", "title", "casefold", "split", "rsplit",
     "splitlines", "removeprefix", "removesuffix", "encode", "decode", "center", "ljust", "rjust", "zfill", "expandtabs"}
)  # fmt: skip
# Pattern substitutions take out what the pattern matches (an address, a path) and keep the rest of the
# text: a "sanitiser" made of them still hands on the message it was given.
SUBSTITUTIONS = frozenset({"re.sub", "re.subn", "regex.sub", "regex.subn"})
# Methods of a (Pydantic) model that hand on the values it holds, as a dict or as JSON text.
MODEL_DUMPS = frozenset({"model_dump", "model_dump_json", "dict", "json"})
# What the client is sent as it is built: an ``HTTPException`` raised, a response returned.
_SINK_CLASSES = HTTP_EXCEPTIONS | RESPONSE_CLASSES
# Arguments of an ``HTTPException`` or a response that hold no text the client reads as a message.
_NOT_TEXT_KEYWORDS = frozenset({"status_code", "headers", "media_type", "background"})
# Calls that carry their arguments' text into their result.
CARRIERS = frozenset(
    {"json.dumps", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset"}
)
_MAX_DEPTH = 8
_MAX_FOLLOWS = 3


@dataclass(frozen=True)
class Carried:
    returned: frozenset[str]
    """Parameters whose text the function returns."""
    sent: frozenset[str]
    """Parameters whose text the function puts into an ``HTTPException`` it raises or a response it builds."""

    def __bool__(self) -> bool:
        return bool(self.returned or self.sent)


_NOTHING = Carried(frozenset(), frozenset())
_CACHE: weakref.WeakKeyDictionary[ast.AST, Carried] = weakref.WeakKeyDictionary()


def carried(names: Names, func: FunctionNode) -> Carried:
    """Which of ``func``'s parameters carry their text to its result or to a client-facing sink."""
    return _answer(_CACHE, "carried", names, func)


# The answers being worked out (a helper reads the helpers it calls), and how many times one was met
# again or the chain was cut for depth: such a question is answered "nothing" there, and an answer
# worked out meanwhile depends on where the reading started, so it is not kept (the next question
# works it out again). Kept answers are then the same whichever file asked first.
_READING: list[tuple[str, int]] = []
_CUTS = [0]
MAX_HELPER_CHAIN = 12
"""How many helpers deep one question reads (``create_error_response`` -> ``sanitize_message`` -> ...)."""


def _answer(
    cache: weakref.WeakKeyDictionary[ast.AST, Carried], kind: str, names: Names, func: FunctionNode
) -> Carried:
    known = cache.get(func)
    if known is not None:
        return known
    key = (kind, id(func))
    if key in _READING or len(_READING) >= MAX_HELPER_CHAIN:
        _CUTS[0] += 1
        return _NOTHING
    cuts = _CUTS[0]
    _READING.append(key)
    try:
        known = _carried(names, func, values=kind == "passed")
    finally:
        _READING.pop()
    if _CUTS[0] == cuts:
        cache[func] = known
    return known


_PASSED: weakref.WeakKeyDictionary[ast.AST, Carried] = weakref.WeakKeyDictionary()


def passed_on(names: Names, func: FunctionNode) -> Carried:
    """Which of ``func``'s parameters it hands on as they are (text the caller made of an exception):
    ``format_error_event(message)`` that returns ``f"data: {json.dumps({'message': message})}"``,
    ``error_response(detail)`` that builds ``JSONResponse({"error": detail})``. Unlike ``carried``, a
    parameter counts when its value reaches the result or the sink, not only when it is made text there."""
    return _answer(_PASSED, "passed", names, func)


# Methods that put their arguments into the container they are called on.
ADDING_METHODS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft"})


def values_added(node: ast.AST) -> list[tuple[ast.Name, ast.expr]]:
    """(container name, value) pairs a node puts into a local container: ``errors.append(v)``,
    ``data.update(k=v)``, ``data["error"] = v``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ADDING_METHODS
        and isinstance(node.func.value, ast.Name)
    ):
        skip = 1 if node.func.attr in ("insert", "setdefault") else 0
        return [(node.func.value, v) for v in [*node.args[skip:], *(k.value for k in node.keywords)]]
    if isinstance(node, ast.Assign):
        return [
            (t.value, node.value)
            for t in node.targets
            if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
        ]
    return []


def carried_given(names: Names, func: FunctionNode, given: Mapping[str, object]) -> Carried:
    """``carried`` for one call that passes some parameters as constants (``given``: parameter -> value):
    a conditional expression that tests such a parameter takes the branch the value chooses
    (``handle_error(exc, sanitize=True)`` with ``detail="Rate limit reached" if sanitize else str(e)``
    sends a fixed text). Not kept: it is asked only of calls that pass a constant."""
    if not given:
        return carried(names, func)  # most calls: nothing to settle, and the kept answer serves
    kept = _unrebound(func, given)
    return _carried(names, func, given=kept) if kept else carried(names, func)


def _unrebound(func: FunctionNode, given: Mapping[str, object]) -> dict[str, object]:
    """The flags of ``given`` that ``func`` never rebinds: a rebound one decides nothing."""
    stored = {n.id for n in walk_shallow(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {flag: value for flag, value in given.items() if flag not in stored}


def _carried(names: Names, func: FunctionNode, *, values: bool = False, given: Mapping[str, object] | None = None) -> Carried:
    params = frozenset(p for p in parameters(func) if p not in ("self", "cls"))
    if not params:
        return _NOTHING
    assigned: dict[str, ast.expr] = {}
    added: dict[str, list[ast.expr]] = {}
    nodes = list(walk_shallow(func))
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigned.setdefault(node.target.id, node.value)
        if not values:
            continue
        # What is put into a local container later (``payload["error"] = message``) is part of its value.
        for container, value in values_added(node):
            added.setdefault(container.id, []).append(value)
    reader = _Reader(names, params, assigned, added if values else None, given or {})
    skipped = error_detail_only(func)  # handed on only when the operator asked for detail
    found: dict[str, set[str]] = {"returned": set(), "sent": set()}
    for node in nodes:
        placed = None if id(node) in skipped else _placed(names, reader, node)
        if placed is not None:
            found[placed[0]] |= placed[1]
    return Carried(frozenset(found["returned"]), frozenset(found["sent"]))


def _placed(names: Names, reader: _Reader, node: ast.AST) -> tuple[str, set[str]] | None:
    """Where ``node`` puts parameters' text: ``("returned", ...)`` the ones a ``return`` hands back,
    ``("sent", ...)`` the ones an ``HTTPException`` or a response it builds holds; None for any other node."""
    if isinstance(node, ast.Return) and node.value is not None:
        return "returned", reader.text(node.value)
    if isinstance(node, ast.Call) and names.qualify(node.func) in _SINK_CLASSES:
        return "sent", reader.arguments(node)
    return None


@dataclass(frozen=True)
class GuardedSinks:
    """Where a helper puts one parameter's text, for one call of it (``guarded_sinks``)."""

    tests: tuple[tuple[ast.expr, ...], ...]
    """For each place the text goes (a sink it is put in, or a return that hands it back), the tests of
    the ``if`` bodies around it, as the call's flags leave them; an ``else`` branch adds none."""
    bound_once: Mapping[str, ast.expr]
    """Locals bound once where the call's flags let the code run (``message = str(e)``,
    ``context_error = isinstance(e, ContextLengthExceeded)``): what a test that names one asks."""


def guarded_sinks(
    names: Names, func: FunctionNode, param: str, given: Mapping[str, object], how: str
) -> GuardedSinks | None:
    """Where ``func`` puts the text of its parameter ``param``, for a call that passes ``given`` (flags,
    as for ``carried_given``): the ``HTTPException`` or response it builds with it (``how="sent"``), or
    the returns that hand it back (``"returned"``), each with the ``if`` tests it sits under. A test
    the flags settle is not a guard, and a branch they rule out is not read: with ``sanitize=False``,
    ``if sanitize and ...: context_error = ...`` never runs. None when ``func`` rebinds ``param``."""
    params = frozenset(p for p in parameters(func) if p not in ("self", "cls"))
    if param not in params:
        return None
    given = _unrebound(func, given)
    live: list[tuple[ast.AST, tuple[ast.expr, ...]]] = []
    _live_nodes(func.body, (), given, live)
    bindings: dict[str, list[ast.expr | None]] = {}
    for node, _ in live:
        for target, value in _bound(node):
            bindings.setdefault(target, []).append(value)
    if param in bindings:
        return None
    assigned = {name: values[0] for name, values in bindings.items() if values[0] is not None}
    reader = _Reader(names, params, assigned, None, given)
    skipped = error_detail_only(func)
    tests: list[tuple[ast.expr, ...]] = []
    for node, around in live:
        placed = None if id(node) in skipped else _placed(names, reader, node)
        if placed is not None and placed[0] == how and param in placed[1]:
            tests.append(around)
    once = {name: values[0] for name, values in bindings.items() if len(values) == 1 and values[0] is not None}
    return GuardedSinks(tuple(tests), once)


def flag_defaults(func: FunctionNode) -> dict[str, bool]:
    """The parameters of ``func`` whose default is ``True`` or ``False``: what a call that leaves one
    out passes (``def handle_error(e, *, sanitize: bool = False)``)."""
    return {
        name: default.value
        for name, default in parameter_defaults(func).items()
        if isinstance(default, ast.Constant) and isinstance(default.value, bool)
    }


def _bound(node: ast.AST) -> list[tuple[str, ast.expr | None]]:
    """The names a node binds, with the value where it is a plain ``name = value`` (None otherwise)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return [(node.targets[0].id, node.value)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [(node.target.id, node.value)] if node.value is not None else []
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.withitem, ast.comprehension)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars] if isinstance(node, ast.withitem) else [node.target]
        return [(n.id, None) for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [(node.name, None)]
    return []


def _live_nodes(
    body: list[ast.stmt], tests: tuple[ast.expr, ...], given: Mapping[str, object], out: list[tuple[ast.AST, tuple[ast.expr, ...]]]
) -> None:
    """Every node of ``body`` the flags in ``given`` let run (nested definitions and lambdas left out),
    with the tests of the ``if`` bodies around it."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.extend((d, tests) for d in statement.decorator_list)
            continue
        if isinstance(statement, ast.If):
            out.extend((n, tests) for n in _expression_nodes(statement.test))
            settled = settle(statement.test, given)
            if settled is not False:
                _live_nodes(statement.body, tests if settled is True else (*tests, settled), given, out)
            if settled is not True:
                _live_nodes(statement.orelse, tests, given, out)
            continue
        out.append((statement, tests))
        for _, value in ast.iter_fields(statement):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                _live_nodes(value, tests, given, out)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.ExceptHandler):
                        out.append((item, tests))
                        _live_nodes(item.body, tests, given, out)
                    elif isinstance(item, ast.match_case):
                        _live_nodes(item.body, tests, given, out)
                    elif isinstance(item, ast.AST):
                        out.extend((n, tests) for n in _expression_nodes(item))
            elif isinstance(value, ast.AST):
                out.extend((n, tests) for n in _expression_nodes(value))


def _expression_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of an expression (or a ``with`` item, a comprehension) that run where it is: itself and
    ``walk_shallow``'s (a lambda's defaults, not its body)."""
    return [node, *walk_shallow(node)]


def settle(test: ast.expr, given: Mapping[str, object]) -> ast.expr | bool:
    """``test`` as the flags in ``given`` leave it: True or False where they decide it
    (``sanitize and ...`` with ``sanitize=False``), else the test with the operands they decide taken
    out (``"Rate limit reached" in message or (sanitize and ...)`` becomes its first operand)."""
    if isinstance(test, ast.Name) and test.id in given:
        return bool(given[test.id])
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = settle(test.operand, given)
        return (not inner) if isinstance(inner, bool) else test
    if isinstance(test, ast.BoolOp):
        deciding = isinstance(test.op, ast.Or)  # the operand value that decides the whole
        left: list[ast.expr] = []
        for value in test.values:
            settled = settle(value, given)
            if settled is deciding:
                return deciding
            if not isinstance(settled, bool):
                left.append(settled)
        if not left:
            return not deciding
        return left[0] if len(left) == 1 else ast.BoolOp(op=test.op, values=left)
    return test


# Attributes that hold an exception's text or another exception: reading them keeps the text.
_TEXT_ATTRIBUTES = frozenset({"args", "__cause__", "__context__", "orig", "message", "detail"})
_REPLACED: weakref.WeakKeyDictionary[ast.AST, frozenset[str]] = weakref.WeakKeyDictionary()


def replaced(names: Names, func: FunctionNode) -> frozenset[str]:
    """The parameters ``func`` replaces with something of its own unless a condition on another value
    lets them through: ``error_for_client(error, expose_details=...)`` hands ``error`` back only
    ``if expose_details:`` and otherwise returns a generic error it builds.  What reaches the client
    through it is the project's decision about who may see the details, not an accident of the code.

    A parameter counts when at least one return builds a value without it (a call, a literal) and every
    return that hands it back (itself, or a value holding its text) sits under an ``if`` whose test does
    not read it: a test of the error itself (``isinstance(error, KeyError)``) only sorts errors."""
    known = _REPLACED.get(func)
    if known is None:
        known = _REPLACED[func] = _replaced(names, func)
    return known


def _replaced(names: Names, func: FunctionNode) -> frozenset[str]:
    params = frozenset(p for p in parameters(func) if p not in ("self", "cls"))
    if not params:
        return frozenset()
    returns = list(_guarded_returns(func.body, ()))
    reader = _Reader(names, params, {})
    found: set[str] = set()
    for param in params:
        fresh = False
        for value, tests in returns:
            if _mentions(value, param) or param in reader.text(value):
                if any(_mentions(test, param) for test in tests) or not tests:
                    break  # handed back whatever the error: not a decision about the caller
            elif isinstance(value, (ast.Call, ast.Constant, ast.JoinedStr)):
                fresh = True
        else:
            if fresh:
                found.add(param)
    return frozenset(found)


def _guarded_returns(body: list[ast.stmt], tests: tuple[ast.expr, ...]) -> list[tuple[ast.expr, tuple[ast.expr, ...]]]:
    """Each ``return value`` of a body (nested definitions left out) with the ``if`` tests it sits under."""
    found: list[tuple[ast.expr, tuple[ast.expr, ...]]] = []
    for statement in body:
        if isinstance(statement, ast.Return):
            if statement.value is not None:
                found.append((statement.value, tests))
        elif isinstance(statement, ast.If):
            found.extend(_guarded_returns(statement.body, (*tests, statement.test)))
            found.extend(_guarded_returns(statement.orelse, (*tests, statement.test)))
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    found.extend(_guarded_returns(inner, tests))
            for handler in getattr(statement, "handlers", ()):
                found.extend(_guarded_returns(handler.body, tests))
    return found


def _mentions(node: ast.AST, param: str) -> bool:
    """Whether ``node`` reads ``param`` other than through an attribute that holds none of its text
    (``error.status_code``, ``error.headers``)."""
    skipped: set[int] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr not in _TEXT_ATTRIBUTES:
            skipped.add(id(inner.value))
        elif isinstance(inner, ast.Name) and inner.id == param and id(inner) not in skipped:
            return True
    return False


def decides_by_class(names: Names, func: FunctionNode) -> bool:
    """``if isinstance(exc, SQLAlchemyError): return fallback``: a function that tests the class of a
    parameter whose text it returns, and has a return that does not carry that parameter: it chooses
    by the class of what it is handed what to let through. That choice is the project's policy for its
    errors, and such a function is taken to clean what it returns, as one the analysis cannot read is."""
    tested = {
        node.args[0].id
        for node in walk_shallow(func)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "isinstance"
        and node.args
        and isinstance(node.args[0], ast.Name)
    } & set(parameters(func))
    chosen = tested & carried(names, func).returned if tested else set()
    if not chosen:
        return False
    returns = [n.value for n in walk_shallow(func) if isinstance(n, ast.Return) and n.value is not None]
    return any(not any(_mentions(value, param) for param in chosen) for value in returns)


class _Reader:
    """Which parameters' text an expression holds."""

    def __init__(
        self,
        names: Names,
        params: frozenset[str],
        assigned: dict[str, ast.expr],
        added: dict[str, list[ast.expr]] | None = None,
        given: Mapping[str, object] | None = None,
    ) -> None:
        self.names = names
        self.params = params
        self.assigned = assigned
        self.added = added
        """With ``added`` (``passed_on``), a parameter's value counts as its text, and what is put into a
        local container counts as part of it."""
        self.given = given or {}
        """Parameters this call passes as constants: a conditional expression testing one takes its branch."""

    def arguments(self, call: ast.Call, depth: int = 0) -> set[str]:
        found: set[str] = set()
        sink = self.names.qualify(call.func) in _SINK_CLASSES
        for argument in [*call.args, *(k.value for k in call.keywords if not (sink and k.arg in _NOT_TEXT_KEYWORDS))]:
            found |= self.text(argument.value if isinstance(argument, ast.Starred) else argument, depth + 1)
        return found

    def _parameter(self, expr: ast.expr) -> str | None:
        """The parameter ``expr`` names, itself or through locals bound to it (``exc = message``)."""
        for _ in range(_MAX_FOLLOWS + 1):
            if not isinstance(expr, ast.Name):
                return None
            if expr.id in self.params:
                return expr.id
            value = self.assigned.get(expr.id)
            if value is None:
                return None
            expr = value
        return None

    def _formatted(self, expr: ast.expr, depth: int) -> set[str]:
        """``expr`` is turned into text: a parameter itself counts."""
        param = self._parameter(expr)
        if param is not None:
            return {param}
        return self.text(expr, depth + 1)

    def text(self, expr: ast.expr, depth: int = 0, follows: int = 0) -> set[str]:
        if depth > _MAX_DEPTH:
            return set()
        if isinstance(expr, ast.Name):
            held: set[str] = set()
            if self.added is not None and expr.id in self.params:
                held.add(expr.id)
            # A parameter the function rebinds (``message = str(exc)``) holds what it is rebound to.
            value = self.assigned.get(expr.id)
            if value is None or follows >= _MAX_FOLLOWS:
                return held
            held |= self.text(value, depth + 1, follows + 1)
            for item in (self.added or {}).get(expr.id, []):
                held |= self.text(item, depth + 1, follows + 1)
            return held
        if isinstance(expr, ast.JoinedStr):
            found: set[str] = set()
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    found |= self._formatted(part.value, depth)
            return found
        if isinstance(expr, ast.Attribute):
            if expr.attr == "args" and isinstance(expr.value, ast.Name) and expr.value.id in self.params:
                return {expr.value.id}
            if self.added is not None:
                # ``response.error.message``: what the value handed in holds is handed on with it.
                root: ast.expr = expr
                while isinstance(root, ast.Attribute):
                    root = root.value
                return self.text(root, depth + 1, follows)
            return set()
        if isinstance(expr, ast.BinOp):
            found = self.text(expr.left, depth + 1) | self.text(expr.right, depth + 1)
            if isinstance(expr.op, ast.Mod):
                operands = expr.right.elts if isinstance(expr.right, ast.Tuple) else [expr.right]
                for operand in operands:
                    found |= self._formatted(operand, depth)
            return found
        if isinstance(expr, ast.Dict):
            found = set()
            for value in expr.values:
                found |= self.text(value, depth + 1)
            return found
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            found = set()
            for element in expr.elts:
                found |= self.text(element, depth + 1)
            return found
        if isinstance(expr, ast.IfExp) and isinstance(expr.test, ast.Name) and expr.test.id in self.given:
            return self.text(expr.body if self.given[expr.test.id] else expr.orelse, depth + 1)
        if isinstance(expr, ast.IfExp):
            return self.text(expr.body, depth + 1) | self.text(expr.orelse, depth + 1)
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        return set()

    def _call(self, call: ast.Call, depth: int) -> set[str]:
        qualified = self.names.qualify(call.func)
        if qualified in STRINGIFIERS or qualified in TRACEBACK_TEXT:
            found: set[str] = set()
            for argument in call.args:
                found |= self._formatted(argument, depth)
            return found
        if qualified in CARRIERS or qualified in _SINK_CLASSES or self._model(call.func):
            return self.arguments(call, depth)
        if qualified in SUBSTITUTIONS:
            string = call.args[2] if len(call.args) > 2 else next((k.value for k in call.keywords if k.arg == "string"), None)
            return self._formatted(string, depth) if string is not None else set()
        if isinstance(call.func, ast.Attribute) and call.func.attr == "format":
            found = set()
            for argument in [*call.args, *(k.value for k in call.keywords)]:
                found |= self._formatted(argument, depth)
            return found
        if isinstance(call.func, ast.Attribute) and call.func.attr in STR_METHODS:
            return self._formatted(call.func.value, depth)  # only text has these methods
        if isinstance(call.func, ast.Attribute) and call.func.attr in MODEL_DUMPS:
            return self.text(call.func.value, depth + 1)
        return self._helper(call, depth)

    def _helper(self, call: ast.Call, depth: int) -> set[str]:
        """A project function called with a parameter's text: what it returns of it
        (``sanitize_message(message)``, ``create_error_response(message)``). Any other function is
        assumed to clean what it is given."""
        found_function = self.names.resolve_function(call.func)
        if found_function is None or decides_by_class(*found_function):
            return set()
        helper_names, helper = found_function
        inner = carried(helper_names, helper).returned
        passing = passed_on(helper_names, helper).returned if self.added is not None else frozenset()
        if not inner and not passing:
            return set()
        found: set[str] = set()
        for param, argument in bound_arguments(call, helper):
            if param in inner:
                found |= self._formatted(argument, depth)
            elif param in passing:
                found |= self.text(argument, depth + 1)
        return found

    def _model(self, callee: ast.expr) -> bool:
        """A class of the project (a response model, an error record): it carries what it is built from."""
        name = last_name(callee)
        return name is not None and name[:1].isupper() and self.names.project_class(callee) is not None


__all__ = ["ADDING_METHODS", "GuardedSinks", "carried_given", "flag_defaults", "guarded_sinks", "settle", "decides_by_class", "values_added", "passed_on", "replaced", "CARRIERS", "MODEL_DUMPS", "STR_METHODS", "SUBSTITUTIONS", "HTTP_EXCEPTIONS", "RESPONSE_CLASSES", "STRINGIFIERS", "TRACEBACK_TEXT", "Carried", "carried"]
