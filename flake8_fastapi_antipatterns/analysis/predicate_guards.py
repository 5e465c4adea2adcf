"""Lazy initialisation asked of a predicate method: ``if not self._should_load(): return``.

::

    async def fetch_keys(self) -> None:
        if not self._should_fetch():
            return
        if self.url.startswith("http"):
            data = await self._fetch_remote()
        else:
            data = self._read_local()      # once: _should_fetch() is ``not self._keys`` here
        self._keys = parse(data)

    def _should_fetch(self) -> bool:
        if not self.url.startswith("http"):
            return not self._keys          # a local file is read once
        return self._refresh_due()

The guard is ``analysis/run_once.py``'s early return, with its test written in a method of the same
class. The method is read for the branch the call is in: under ``else`` of ``if C:`` the method's
``if not C: return E`` answers ``E``. When that answer is "the attribute is still empty" (``not
self._keys``, ``self._keys is None``) and the function fills the attribute, that branch runs once
per object, as ``if self._keys: return`` would make it. Only a method of the same class called with
no arguments is read, and only while its statements are conditions on the same test, returns and
assignments to locals; anything else leaves the branch reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.run_once import node_ids

Condition = tuple[str, bool]
"""A branch's test (``ast.dump`` of it, without ``not``) and whether it holds there."""


def predicate_guarded_nodes(func: FunctionNode, methods: Mapping[str, FunctionNode]) -> frozenset[int]:
    """Ids of the nodes of ``func`` that only its first call runs, by a guard asking a predicate method."""
    receiver = _receiver(func)
    if receiver is None:
        return frozenset()
    found: set[int] = set()
    for index, stmt in enumerate(func.body):
        predicate = _predicate_guard(stmt, receiver, methods)
        if predicate is None:
            continue
        rest = func.body[index + 1 :]
        for block, condition in _branches(rest):
            slot = _answer(predicate, receiver, condition)
            if slot is not None and _fills(rest, receiver, slot):
                found.update(node_ids(block))
    return frozenset(found)


def _receiver(func: FunctionNode) -> str | None:
    positional = [*func.args.posonlyargs, *func.args.args]
    return positional[0].arg if positional and positional[0].arg == "self" else None


def _predicate_guard(stmt: ast.stmt, receiver: str, methods: Mapping[str, FunctionNode]) -> FunctionNode | None:
    """The method of ``if not self.method(): return`` (no arguments, no ``else``)."""
    if not (isinstance(stmt, ast.If) and not stmt.orelse and stmt.body and isinstance(stmt.body[-1], ast.Return)):
        return None
    test = stmt.test
    if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
        return None
    call = test.operand
    if not (isinstance(call, ast.Call) and not call.args and not call.keywords):
        return None
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == receiver):
        return None
    method = methods.get(func.attr)
    return method if isinstance(method, ast.FunctionDef) and _receiver(method) == receiver else None


def _condition(test: ast.expr) -> Condition:
    holds = True
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, holds = test.operand, not holds
    return ast.dump(test), holds


def _branches(rest: list[ast.stmt]) -> Iterator[tuple[list[ast.stmt], Condition]]:
    """The two blocks of each ``if C: ... else: ...`` at the top of ``rest``, with the condition each runs under."""
    for stmt in rest:
        if isinstance(stmt, ast.If):
            test, holds = _condition(stmt.test)
            yield stmt.body, (test, holds)
            if stmt.orelse:
                yield stmt.orelse, (test, not holds)


def _answer(method: FunctionNode, receiver: str, condition: Condition) -> str | None:
    """The attribute the method's answer under ``condition`` says is still empty (``not self._keys``), if any."""
    for stmt in method.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            continue  # a local the answers use: ``now = time.monotonic()``
        if isinstance(stmt, ast.Return):
            return _empty_slot(stmt.value, receiver)
        if not (isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1 and isinstance(stmt.body[0], ast.Return)):
            return None
        test, holds = _condition(stmt.test)
        if test != condition[0]:
            return None  # a test the branch says nothing about
        if holds == condition[1]:
            return _empty_slot(stmt.body[0].value, receiver)
    return None


def _empty_slot(value: ast.expr | None, receiver: str) -> str | None:
    """``x`` of ``not self.x`` or ``self.x is None``."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        value = value.operand
    elif (
        isinstance(value, ast.Compare)
        and len(value.ops) == 1
        and isinstance(value.ops[0], ast.Is)
        and isinstance(value.comparators[0], ast.Constant)
        and value.comparators[0].value is None
    ):
        value = value.left
    else:
        return None
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == receiver:
        return value.attr
    return None


def _fills(rest: list[ast.stmt], receiver: str, slot: str) -> bool:
    """Whether ``rest`` assigns ``self.<slot>``."""
    for stmt in rest:
        for node in ast.walk(stmt):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == slot
                    and isinstance(target.value, ast.Name)
                    and target.value.id == receiver
                ):
                    return True
    return False


__all__ = ["predicate_guarded_nodes"]
