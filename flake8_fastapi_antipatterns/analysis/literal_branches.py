"""Branches a helper does not take for the literal its caller passes.

``load_prompt("summary")`` runs ``if name in PROMPTS: return PROMPTS[name]`` and returns: the file read
after it is for names the table does not hold, which that caller never asks for. The call graph binds
a string literal to such a parameter (``literal_path``) and leaves out, for that binding, the calls of
the statements the literal cannot reach (``skipped_calls``). Only a top-level ``if`` of the helper whose
test is the parameter's membership (``in`` / ``not in``) of a module-level table written out as a literal
(a dict, set, list, tuple or ``frozenset({...})`` of strings, in the helper's module or a project module
it imports the table from) counts: a table built at run time may hold anything.

Likewise an argument the caller leaves out: a parameter that defaults to ``None`` and guards a top-level
``if`` (``if db:``, ``if db is not None:``, ``if db and ...:``) is bound as ``OMITTED_NONE`` by a call
that does not pass it (nor ``*args``/``**kwargs``), and that ``if``'s body is left out for that binding.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import ends_the_call, parameter_defaults, parameter_names
from flake8_fastapi_antipatterns.analysis.run_once import node_ids

LITERAL_PREFIX = "<literal:"
OMITTED_NONE = "<literal:None>"
"""The path an argument the caller leaves out is bound as, for a parameter that defaults to ``None``
and guards a branch (``none_guarded_parameters``)."""


def literal_path(value: str) -> str:
    """The path a string literal passed to a table-guarded parameter is bound as."""
    return f"{LITERAL_PREFIX}{value!r}>"


@dataclass(frozen=True)
class NoneGuard:
    param: str
    skipped: frozenset[int]
    """Ids of the nodes that do not run when the parameter holds its default ``None``."""


_NONE_GUARDS: weakref.WeakKeyDictionary[ast.AST, tuple[NoneGuard, ...]] = weakref.WeakKeyDictionary()


def none_guards(func: FunctionNode) -> tuple[NoneGuard, ...]:
    """The top-level ``if`` statements of ``func`` taken only when a parameter that defaults to
    ``None`` holds something: ``if db:``, ``if db is not None:``, ``if db and isinstance(db, BaseDb):``.
    A caller that leaves the argument out never runs their bodies (``get_agent_by_id(id, agents)``
    looks in the list and never queries the database it was not handed)."""
    known = _NONE_GUARDS.get(func)
    if known is None:
        known = _NONE_GUARDS[func] = _find_none_guards(func)
    return known


def none_guarded_parameters(func: FunctionNode) -> frozenset[str]:
    """The parameters an omitted argument is worth binding for (``OMITTED_NONE``)."""
    return frozenset(guard.param for guard in none_guards(func))


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
    ``arguments`` bind to its guarded parameters. Only a literal the table holds decides: a table may
    gain keys at run time, never (in the code this reads) lose the ones written in it."""
    guards = table_guards(func)
    nones = none_guards(func)
    if not guards and not nones:
        return frozenset()
    given = dict(arguments)
    skipped: set[int] = set()
    for none in nones:
        if given.get(none.param) == OMITTED_NONE:
            skipped |= none.skipped
    for guard in guards:
        bound = given.get(guard.param)
        if bound is None or not bound.startswith(LITERAL_PREFIX):
            continue
        keys = _constant_keys(names, guard.table)
        if keys is not None and bound in {literal_path(key) for key in keys}:
            skipped |= guard.skipped
    return frozenset(skipped)


def _find(func: FunctionNode) -> tuple[TableGuard, ...]:
    # A parameter the body rebinds (``name = name.lower()``) no longer holds what the caller passed.
    rebound = {n.id for n in walk_shallow(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    params = parameter_names(func) - rebound
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


def _find_none_guards(func: FunctionNode) -> tuple[NoneGuard, ...]:
    rebound = {n.id for n in walk_shallow(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defaulted = _defaults_to_none(func) - rebound
    if not defaulted:
        return ()
    found: list[NoneGuard] = []
    for statement in func.body:
        if not isinstance(statement, ast.If):
            continue
        param = _holds_something(statement.test, defaulted)
        if param is not None:
            skipped = frozenset(node_ids(statement.body))
            if skipped:
                found.append(NoneGuard(param, skipped))
    return tuple(found)


def _defaults_to_none(func: FunctionNode) -> set[str]:
    """The parameters of ``func`` whose default is ``None`` (a caller may leave them out)."""
    return {name for name, default in parameter_defaults(func).items() if isinstance(default, ast.Constant) and default.value is None}


def _holds_something(test: ast.expr, params: set[str]) -> str | None:
    """The parameter a test is false for when it is ``None``: ``p``, ``p is not None``, or an ``and``
    that starts with one of those."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        test = test.values[0]
    if isinstance(test, ast.Name) and test.id in params:
        return test.id
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.left, ast.Name)
        and test.left.id in params
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return test.left.id
    return None


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


__all__ = ["LITERAL_PREFIX", "OMITTED_NONE", "NoneGuard", "TableGuard", "guarded_parameters", "literal_path", "none_guarded_parameters", "none_guards", "skipped_calls", "table_guards"]
