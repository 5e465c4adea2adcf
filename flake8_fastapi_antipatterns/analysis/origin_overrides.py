"""``is_allowed_origin`` overrides that let any origin in.

A project subclass of ``CORSMiddleware`` may override ``is_allowed_origin(self, origin)``. An
override that answers ``True`` on a path where the origin was never compared with anything (only
tested for being empty, beside tests of the configuration) admits every site, whatever
``allow_origins`` says: ``if origin and not self.allow_origins: return True`` is a wildcard for
every deployment that configures no origins.

The origin counts as compared when a test uses it, or a value computed from it (``hostname =
urlparse(origin).hostname``), in any way other than its truth (``origin in allowed``,
``hostname.endswith(".example.com")``, ``pattern.fullmatch(origin)``). A rejection guard earlier in
a block (``if origin not in allowed: return False``) compares it for everything after it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.names import FunctionNode

METHOD = "is_allowed_origin"


@dataclass(frozen=True)
class AnyOrigin:
    """A ``return True`` that no comparison of the origin guards."""

    answer: ast.Return
    guard: ast.expr | None
    """The innermost test the answer is under (``origin and not self.allow_origins``), if any."""


def accepts_any_origin(method: FunctionNode) -> AnyOrigin | None:
    """The first ``return True`` of an ``is_allowed_origin`` override that admits any origin."""
    positional = [*method.args.posonlyargs, *method.args.args]
    if len(positional) < 2:
        return None
    derived = _derived_from(method, positional[1].arg)
    return _search(method.body, derived, None)


def _derived_from(method: FunctionNode, origin: str) -> set[str]:
    """``origin`` and the local names computed from it, directly or through one another."""
    derived = {origin}
    assignments = [
        (target.id, node.value)
        for node in ast.walk(method)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]
    assignments += [
        (node.target.id, node.value)
        for node in ast.walk(method)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None
    ]
    changed = True
    while changed:
        changed = False
        for name, value in assignments:
            if name not in derived and _mentions(value, derived):
                derived.add(name)
                changed = True
    return derived


def _mentions(node: ast.AST, derived: set[str]) -> bool:
    return any(isinstance(inner, ast.Name) and inner.id in derived for inner in ast.walk(node))


def _compares(test: ast.expr, derived: set[str]) -> bool:
    """Whether ``test`` uses the origin (or what was computed from it) other than for its truth."""
    if isinstance(test, ast.BoolOp):
        return any(_compares(value, derived) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _compares(test.operand, derived)
    if isinstance(test, ast.Name):
        return False  # ``if origin``: only whether there is one
    return _mentions(test, derived)


def _ends_by_accepting(body: list[ast.stmt]) -> bool:
    last = body[-1] if body else None
    return isinstance(last, ast.Return) and isinstance(last.value, ast.Constant) and last.value.value is True


def _search(body: list[ast.stmt], derived: set[str], guard: ast.expr | None) -> AnyOrigin | None:
    for stmt in body:
        if isinstance(stmt, ast.Return):
            if isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
                return AnyOrigin(stmt, guard)
            return None  # nothing after a return runs
        if isinstance(stmt, ast.If):
            if _compares(stmt.test, derived):
                if not _ends_by_accepting(stmt.body):
                    return None  # a guard that compared the origin: what follows is judged by it
                found = _search(stmt.orelse, derived, guard)
            else:
                found = _search(stmt.body, derived, stmt.test) or _search(stmt.orelse, derived, guard)
            if found is not None:
                return found
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            if isinstance(stmt, ast.While) and _compares(stmt.test, derived):
                continue
            found = _search(stmt.body, derived, guard) or _search(stmt.orelse, derived, guard)
            if found is not None:
                return found
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            found = _search(stmt.body, derived, guard)
            if found is not None:
                return found
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, *(handler.body for handler in stmt.handlers), stmt.orelse, stmt.finalbody):
                found = _search(block, derived, guard)
                if found is not None:
                    return found
        elif isinstance(stmt, ast.Match):
            return None  # a match on the origin compares it; one on anything else is rare here
    return None


__all__ = ["METHOD", "AnyOrigin", "accepts_any_origin"]
