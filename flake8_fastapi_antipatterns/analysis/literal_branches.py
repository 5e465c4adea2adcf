"""Branches a helper does not take for the literal its caller passes.

``load_prompt("summary")`` runs ``if name in PROMPTS: return PROMPTS[name]`` and returns: the file read
after it is for names the table does not hold, which that caller never asks for. The call graph binds
a string literal to such a parameter (``literal_path``) and leaves out, for that binding, the calls of
the statements the literal cannot reach (``skipped_calls``). Only a top-level ``if`` of the helper whose
test is the parameter's membership (``in`` / ``not in``) of a module-level table written out as a literal
(a dict, set, list, tuple or ``frozenset({...})`` of strings, in the helper's module or a project module
it imports the table from) counts: a table built at run time may hold anything.

Likewise the constants a call settles: ``None``, ``True`` or ``False`` passed as an argument, or left
out where the parameter defaults to one of them, are bound as such (``constant_path``) for a parameter
that an ``if`` of the helper tests. An ``if`` whose test those constants
decide (``if db:``, ``if not user_id or ...: return []``, ``if skip_validation or ...:``) then leaves
out, for that binding, the branch it does not take, and after a branch that leaves the function,
whatever follows it (``value_guards``).
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import decided_by, ends_the_call, parameter_defaults, parameter_names
from flake8_fastapi_antipatterns.analysis.run_once import node_ids, statement_lists

LITERAL_PREFIX = "<literal:"


def _bound_as(value: object) -> str:
    return f"{LITERAL_PREFIX}{value!r}>"


def literal_path(value: str) -> str:
    """The path a string literal passed to a table-guarded parameter is bound as."""
    return _bound_as(value)


# The path each of ``None``, ``True`` and ``False`` is bound as -> that constant.
_CONSTANTS: dict[str, bool | None] = {_bound_as(value): value for value in (None, True, False)}


def constant_path(value: object) -> str | None:
    """The path ``None``, ``True`` or ``False`` is bound as (None for any other value)."""
    return _bound_as(value) if value is None or isinstance(value, bool) else None


def is_constant_path(path: str) -> bool:
    """Whether ``path`` is one ``constant_path`` makes."""
    return path in _CONSTANTS


@dataclass(frozen=True)
class ValueGuard:
    """An ``if`` of a function whose test reads its parameters."""

    test: ast.expr
    params: frozenset[str]
    when_true: frozenset[int]
    """Ids of the nodes that do not run when the test holds: its ``else``, and what follows it when the
    body leaves the function (``if not user_id: return []``)."""
    when_false: frozenset[int]
    """Ids of the nodes that do not run when it fails: its body, and what follows it when the ``else``
    leaves the function."""


_VALUE_GUARDS: weakref.WeakKeyDictionary[ast.AST, tuple[ValueGuard, ...]] = weakref.WeakKeyDictionary()


def value_guards(func: FunctionNode) -> tuple[ValueGuard, ...]:
    """The ``if`` statements of ``func`` (at any depth, nested definitions aside) that test parameters
    the body never rebinds: a caller that settles the test with constants (``get_agent_by_id(id,
    agents)`` leaving ``db=None`` out before ``if db:``) never runs the branch it rules out."""
    known = _VALUE_GUARDS.get(func)
    if known is None:
        known = _VALUE_GUARDS[func] = _find_value_guards(func)
    return known


def constant_parameters(func: FunctionNode) -> frozenset[str]:
    """The parameters a constant argument (or one left at a ``None``/``True``/``False`` default) is worth
    binding for: those an ``if`` of ``func`` tests. One it only hands on (``default_model(provider,
    user_id=None)`` passing ``user_id`` to a helper that tests it) is not bound: binding every such
    parameter split the call graph's answers by binding and cost more than it told."""
    return frozenset(name for guard in value_guards(func) for name in guard.params)


def constant_defaults(func: FunctionNode) -> dict[str, str]:
    """Each parameter of ``func`` that defaults to ``None``, ``True`` or ``False``, with the path a call
    that leaves it out binds it as."""
    found: dict[str, str] = {}
    for name, default in parameter_defaults(func).items():
        if isinstance(default, ast.Constant):
            path = constant_path(default.value)
            if path is not None:
                found[name] = path
    return found


def omitted_constants(func: FunctionNode, wanted: frozenset[str] | None = None) -> dict[str, str]:
    """``constant_defaults`` of the parameters in ``wanted`` (``constant_parameters`` unless given)."""
    if wanted is None:
        wanted = constant_parameters(func)
    return {name: path for name, path in constant_defaults(func).items() if name in wanted}


_HANDED: weakref.WeakKeyDictionary[ast.AST, tuple[tuple[ast.Call, str], ...]] = weakref.WeakKeyDictionary()


def handed_arguments(func: FunctionNode) -> tuple[tuple[ast.Call, str], ...]:
    """The calls of ``func`` (nested definitions aside) that hand on, as they are, parameters no ``if`` of
    ``func`` tests: (the call, the parameter), before any ``*args`` of the call. Whether the helper called
    tests what it receives is the call graph's question (``CallResolver.handed_constants``)."""
    known = _HANDED.get(func)
    if known is None:
        params = _held_parameters(func) - {"self", "cls"} - constant_parameters(func)
        found: list[tuple[ast.Call, str]] = []
        for node in walk_shallow(func) if params else ():
            if not isinstance(node, ast.Call):
                continue
            for argument in node.args:
                if isinstance(argument, ast.Starred):
                    break
                if isinstance(argument, ast.Name) and argument.id in params:
                    found.append((node, argument.id))
            for keyword in node.keywords:
                if keyword.arg is not None and isinstance(keyword.value, ast.Name) and keyword.value.id in params:
                    found.append((node, keyword.value.id))
        known = _HANDED[func] = tuple(found)
    return known


@dataclass(frozen=True)
class TableGuard:
    param: str
    table: str
    skipped: frozenset[int]
    """Ids of the nodes (the calls among them) that do not run when the argument is one of the table's keys."""


_GUARDS: weakref.WeakKeyDictionary[ast.AST, tuple[TableGuard, ...]] = weakref.WeakKeyDictionary()


def table_guards(func: FunctionNode) -> tuple[TableGuard, ...]:
    """The top-level membership tests of ``func``'s parameters in a module-level name, worked out once
    per function (read from ``func`` alone: whether the name is a constant table is asked later)."""
    known = _GUARDS.get(func)
    if known is None:
        known = _GUARDS[func] = _find(func)
    return known


def guarded_parameters(func: FunctionNode) -> frozenset[str]:
    """The parameters a caller's string literal is worth binding for (``literal_path``)."""
    return frozenset(guard.param for guard in table_guards(func))


def skipped_calls(func: FunctionNode, names: Names, arguments: tuple[tuple[str, str], ...]) -> frozenset[int]:
    """The calls of ``func`` (a function of the module ``names`` reads) that do not run for the literals
    ``arguments`` bind to its guarded parameters: the constants (``constant_path``) that decide an ``if``
    of it (``value_guards``), and a string the table of a membership test holds. Only a literal the table
    holds decides: a table may gain keys at run time, never (in the code this reads) lose the ones
    written in it."""
    guards = table_guards(func)
    values = value_guards(func)
    if not guards and not values:
        return frozenset()
    given = dict(arguments)
    skipped: set[int] = set()
    constants = {name: ast.Constant(_CONSTANTS[path]) for name, path in given.items() if path in _CONSTANTS}
    for value_guard in values if constants else ():
        if value_guard.params.isdisjoint(constants):
            continue
        decided = decided_by(value_guard.test, constants)
        if decided is not None:
            skipped |= value_guard.when_true if decided else value_guard.when_false
    for guard in guards:
        bound = given.get(guard.param)
        if bound is None or not bound.startswith(LITERAL_PREFIX):
            continue
        keys = _constant_keys(names, guard.table)
        if keys is not None and bound in {literal_path(key) for key in keys}:
            skipped |= guard.skipped
    return frozenset(skipped)


def _held_parameters(func: FunctionNode) -> set[str]:
    """The parameters of ``func`` its body never rebinds: a rebound one (``name = name.lower()``) no
    longer holds what the caller passed."""
    rebound = {n.id for n in walk_shallow(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return parameter_names(func) - rebound


def _find(func: FunctionNode) -> tuple[TableGuard, ...]:
    params = _held_parameters(func)
    found: list[TableGuard] = []
    for position, statement in enumerate(func.body):
        if not isinstance(statement, ast.If):
            continue
        test = statement.test
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.In, ast.NotIn))
            and isinstance(test.left, ast.Name)
            and test.left.id in params
            and isinstance(test.comparators[0], ast.Name)
        ):
            continue
        if isinstance(test.ops[0], ast.In):
            # Taken for a key of the table: its ``else`` does not run, nor, when the branch always
            # leaves the function, anything after it.
            exits = ends_the_call(statement.body)
            skipped = frozenset(node_ids([*statement.orelse, *(func.body[position + 1 :] if exits else [])]))
        else:
            skipped = frozenset(node_ids(statement.body))  # ``if name not in TABLE:``: not taken for a key of it
        if skipped:
            found.append(TableGuard(test.left.id, test.comparators[0].id, skipped))
    return tuple(found)


def _find_value_guards(func: FunctionNode) -> tuple[ValueGuard, ...]:
    params = _held_parameters(func) - {"self", "cls"}
    if not params:
        return ()
    found: list[ValueGuard] = []
    for body in statement_lists(func):
        for position, statement in enumerate(body):
            if not isinstance(statement, ast.If):
                continue
            read = frozenset(n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name) and n.id in params)
            if not read:
                continue
            after = body[position + 1 :]
            when_true = frozenset(node_ids([*statement.orelse, *(after if ends_the_call(statement.body) else [])]))
            when_false = frozenset(node_ids([*statement.body, *(after if ends_the_call(statement.orelse) else [])]))
            found.append(ValueGuard(statement.test, read, when_true, when_false))
    return tuple(found)


def _constant_keys(names: Names, table: str) -> frozenset[str] | None:
    """The string keys (or items) of a module-level table written out as a literal, bound once, in
    this module or in the project module it is imported from (``from app.prompts import PROMPTS``)."""
    value: ast.AST | None
    if table in names.imports:
        try:
            symbol = names.project_symbol(ast.Name(id=table, ctx=ast.Load()))
        except (RecursionError, ValueError, OSError):
            return None
        if symbol is None or isinstance(symbol.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        value = symbol.node
    else:
        value = names.bindings.get(table)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("frozenset", "set"):
        value = value.args[0] if len(value.args) == 1 else None
    if isinstance(value, ast.Dict):
        items: list[ast.expr | None] = list(value.keys)
    elif isinstance(value, (ast.Set, ast.List, ast.Tuple)):
        items = list(value.elts)
    else:
        return None
    if not items or not all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
        return None  # ``**other`` in a dict, a computed key: the table may hold more
    return frozenset(i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str))


__all__ = ["LITERAL_PREFIX", "TableGuard", "ValueGuard", "constant_defaults", "constant_parameters", "constant_path", "guarded_parameters", "handed_arguments", "is_constant_path", "literal_path", "omitted_constants", "skipped_calls", "table_guards", "value_guards"]
