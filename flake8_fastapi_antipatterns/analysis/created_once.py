"""Files written only when they are missing: get-or-create of a file at a fixed path.

``if not os.path.exists(ID_FILE): write a new id to ID_FILE``: the first call creates the
file and every later call finds it, so the write runs once per installation however often
the function is called. It is lazy initialisation whose slot is a file rather than a
global, and is start-up cost in the same way (``analysis/run_once.py``). The shapes:

- ``if not exists(P): ...write P...`` (``os.path.exists``/``isfile``, ``P.exists()``/``is_file()``);
- the ``else`` of ``if exists(P): ...`` when it writes ``P``;
- ``if exists(P): return ...`` followed by code that writes ``P``;
- ``if value is None: value = new(); ...write P...`` (or ``if not value:``) where ``value``
  was read from ``P`` earlier in the function: what the function looks for is missing from
  the file, so it makes it and writes it there, and the next call reads it back. A branch
  that uses a parameter of the function (``user_id``) writes once per value the caller
  passes, a per-user cache kept in one file, and is not recognised.

``P`` must be a fixed path (``analysis/fixed_paths.py``: constants, settings, the
environment) and the very expression the test names. A file whose path takes a request
value (a per-user file, an upload) is created once per request value, not once: it is not
recognised, and neither is a write the branch does not guard.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet

from flake8_fastapi_antipatterns.analysis.fixed_paths import opened_path, read_only_open
from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import last_name, parameter_names
from flake8_fastapi_antipatterns.analysis.run_once import node_ids, statement_lists

FixedJudge = Callable[[ast.expr], bool]
"""Whether a path expression of the function is a fixed path."""

EXISTENCE_TESTS = frozenset({"exists", "isfile", "is_file", "lexists"})
WRITE_METHODS = frozenset({"write_text", "write_bytes"})
READ_METHODS = frozenset({"read_text", "read_bytes"})
# The names a call that writes a file ends in (``_open_kind``).
FILE_CALLS = WRITE_METHODS | READ_METHODS | {"open"}
# Rounds of following values from one local to the next (``contents -> line -> value``).
MAX_ROUNDS = 6


def created_once_nodes(func: FunctionNode, fixed: FixedJudge, spelled: AbstractSet[str] | None = None) -> frozenset[int]:
    """Ids of every node of ``func`` that only runs while a file at a fixed path is still missing.

    ``spelled``: every name and attribute the function's module spells, when known: a module
    that never spells a file call (``open``, ``write_text``...) has no function that writes a file.
    """
    if spelled is not None and spelled.isdisjoint(FILE_CALLS):
        return frozenset()
    cached = _CACHE.get(func)
    if cached is not None:
        return cached
    found = frozenset(_find(func, fixed)) if _writes_a_file(func) else frozenset()
    _CACHE[func] = found
    return found


# Weakly keyed: the answer must not keep a linted file's tree alive.
_CACHE: weakref.WeakKeyDictionary[FunctionNode, frozenset[int]] = weakref.WeakKeyDictionary()


def _writes_a_file(func: FunctionNode) -> bool:
    """The cheap question first: most functions write no file at all."""
    return any(_written_path(node) is not None for node in ast.walk(func) if isinstance(node, ast.Call))


def _open_kind(call: ast.Call) -> str | None:
    """How ``fixed_paths`` names a file call: ``open`` for the builtin form, ``Path.<method>`` otherwise."""
    name = last_name(call.func)
    if name == "open":
        builtin = isinstance(call.func, ast.Name) or (
            isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "io"
        )
        return "open" if builtin else "Path.open"
    if name in WRITE_METHODS or name in READ_METHODS:
        return f"Path.{name}"
    return None


def _written_path(call: ast.Call) -> ast.expr | None:
    kind = _open_kind(call)
    if kind is None or read_only_open(call, kind):
        return None
    return opened_path(call, kind)


def _read_path(call: ast.Call) -> ast.expr | None:
    kind = _open_kind(call)
    if kind is None or not read_only_open(call, kind):
        return None
    return opened_path(call, kind)


def _key(expr: ast.expr) -> str:
    return ast.dump(expr)


def _find(func: FunctionNode, fixed: FixedJudge) -> Iterator[int]:
    read_from = _values_read(func)
    parameters = parameter_names(func)
    for body in statement_lists(func):
        for index, stmt in enumerate(body):
            if not isinstance(stmt, ast.If):
                continue
            tested = _existence(stmt.test)
            if tested is not None:
                path, present = tested
                key = _key(path)
                if not present and _writes(stmt.body, key) and fixed(path):
                    yield from node_ids(stmt.body)
                elif present and _writes(stmt.orelse, key) and fixed(path):
                    yield from node_ids(stmt.orelse)
                elif present and _returns(stmt.body) and not stmt.orelse and fixed(path):
                    rest = body[index + 1 :]
                    if _writes(rest, key):
                        yield from node_ids(rest)
                continue
            missing = _missing_value(stmt.test)
            if missing is None:
                continue
            if _uses_any(stmt.body, parameters):
                continue  # what it writes depends on the caller: once per value, not once
            for key, path in read_from.get(missing, {}).items():
                if _assigns(stmt.body, missing) and _writes(stmt.body, key) and fixed(path):
                    yield from node_ids(stmt.body)
                    break


def _existence(test: ast.expr) -> tuple[ast.expr, bool] | None:
    """(the path, whether the test is true when the file exists) for ``exists(P)`` and ``not exists(P)``."""
    present = True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        present, test = False, test.operand
    if not isinstance(test, ast.Call) or last_name(test.func) not in EXISTENCE_TESTS or test.keywords:
        return None
    if test.args:
        return (test.args[0], present) if len(test.args) == 1 else None  # ``os.path.exists(P)``
    if isinstance(test.func, ast.Attribute):
        return test.func.value, present  # ``P.exists()``
    return None


def _missing_value(test: ast.expr) -> str | None:
    """The local an ``if`` finds empty: ``value is None``, ``value == None``, ``not value``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return test.operand.id
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.left, ast.Name)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return test.left.id
    return None


def _values_read(func: FunctionNode) -> dict[str, dict[str, ast.expr]]:
    """Locals holding what the function read from a file: name -> {path key: path}.

    ``with open(P) as f``, ``text = P.read_text()``, then whatever is computed from them
    (``contents = f.readlines()``, ``for line in contents``, ``value = line.split("=")[1]``).
    """
    read: dict[str, dict[str, ast.expr]] = {}
    nodes = list(ast.walk(func))
    for _ in range(MAX_ROUNDS):
        grown = False
        for node in nodes:
            sources: dict[str, ast.expr] = {}
            targets: list[ast.expr] = []
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None and isinstance(item.context_expr, ast.Call):
                        path = _read_path(item.context_expr)
                        if path is not None:
                            grown |= _mark(read, [item.optional_vars], {_key(path): path})
                continue
            if isinstance(node, ast.Assign):
                sources, targets = _sources(node.value, read), node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                sources, targets = _sources(node.value, read), [node.target]
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                sources, targets = _sources(node.iter, read), [node.target]
            if sources:
                grown |= _mark(read, targets, sources)
        if not grown:
            break
    return read


def _sources(value: ast.expr, read: dict[str, dict[str, ast.expr]]) -> dict[str, ast.expr]:
    """The files an expression's value comes from: locals already read from them, or a read call."""
    found: dict[str, ast.expr] = {}
    for node in ast.walk(value):
        if isinstance(node, ast.Name) and node.id in read:
            found.update(read[node.id])
        elif isinstance(node, ast.Call):
            path = _read_path(node)
            if path is not None:
                found[_key(path)] = path
    return found


def _mark(read: dict[str, dict[str, ast.expr]], targets: list[ast.expr], sources: dict[str, ast.expr]) -> bool:
    grown = False
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                known = read.setdefault(node.id, {})
                if not sources.keys() <= known.keys():
                    known.update(sources)
                    grown = True
    return grown


def _writes(body: list[ast.stmt], key: str) -> bool:
    """Whether a statement list writes the file at the path ``key`` names."""
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                path = _written_path(node)
                if path is not None and _key(path) == key:
                    return True
    return False


def _assigns(body: list[ast.stmt], name: str) -> bool:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    return True
    return False


def _uses_any(body: list[ast.stmt], names: set[str]) -> bool:
    return bool(names) and any(
        isinstance(node, ast.Name) and node.id in names for stmt in body for node in ast.walk(stmt)
    )


def _returns(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return)


__all__ = ["created_once_nodes"]
