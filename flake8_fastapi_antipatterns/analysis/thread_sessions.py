"""Calls on a thread-local ``scoped_session`` that run only when the calling thread already has one.

``Session = scoped_session(sessionmaker(...))`` keeps one session per thread (its default
``scopefunc`` is thread-local). ``if not Session.registry.has(): return`` followed by
``Session.commit()`` and ``Session.remove()``, or the same calls inside ``if
Session.registry.has():``, act only when code on this very thread has already used the
session: on the event loop thread that earlier use is the blocking database work, and it is
reported where it is made. When the app does its database work in worker threads (plain
``def`` routes, ``run_in_threadpool``), the loop thread's registry is empty and the guarded
calls do nothing at all. Either way the guarded call is not a blocking database call of its
own.

Only calls on the guarded session itself are skipped, and only for a session built with the
default scope: a ``scopefunc=`` (a session per task or per request) is shared with other
threads and coroutines, and its ``registry.has()`` says nothing about this thread.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Iterator

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names
from flake8_fastapi_antipatterns.analysis.nodes import ends_the_call
from flake8_fastapi_antipatterns.analysis.run_once import statement_lists

SCOPED_SESSION = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})


def thread_guarded_calls(func: FunctionNode, names: Names) -> frozenset[int]:
    """Ids of the calls of ``func`` on a thread-local ``scoped_session`` that run only once its
    registry holds a session for the calling thread."""
    cached = _CACHE.get(func)
    if cached is not None:
        return cached
    found = frozenset(_find(func, names))
    _CACHE[func] = found
    return found


# Weakly keyed: the answer must not keep a linted file's tree alive.
_CACHE: weakref.WeakKeyDictionary[FunctionNode, frozenset[int]] = weakref.WeakKeyDictionary()


def _find(func: FunctionNode, names: Names) -> Iterator[int]:
    for body in statement_lists(func):
        for index, stmt in enumerate(body):
            if not isinstance(stmt, ast.If):
                continue
            session = _has_test(stmt.test)
            guarded: list[ast.stmt] = []
            if session is not None:
                guarded = stmt.body
            elif isinstance(stmt.test, ast.UnaryOp) and isinstance(stmt.test.op, ast.Not):
                session = _has_test(stmt.test.operand)
                if session is not None and ends_the_call(stmt.body):
                    guarded = [*stmt.orelse, *body[index + 1 :]]
            if session is None or not guarded or not _thread_local(session, names):
                continue
            spelled = ast.dump(session)
            for inner in guarded:
                for node in ast.walk(inner):
                    if (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute)
                        and ast.dump(node.func.value) == spelled
                    ):
                        yield id(node)


def _has_test(test: ast.expr) -> ast.expr | None:
    """The session of ``<session>.registry.has()``, else None."""
    if (
        isinstance(test, ast.Call)
        and not test.args
        and not test.keywords
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "has"
        and isinstance(test.func.value, ast.Attribute)
        and test.func.value.attr == "registry"
        and isinstance(test.func.value.value, (ast.Name, ast.Attribute))
    ):
        return test.func.value.value
    return None


def _thread_local(session: ast.expr, names: Names) -> bool:
    """Whether ``session`` names a module-level ``scoped_session(...)`` built with the default scope."""
    if not isinstance(session, ast.Name):
        return False
    owner = names
    value: ast.AST | None = names.bindings.get(session.id) if session.id not in names.imports else None
    if value is None:
        symbol = names.project_symbol(session)
        if symbol is None:
            return False
        owner, value = symbol.module.names, symbol.node
    return (
        isinstance(value, ast.Call)
        and owner.qualify(value.func) in SCOPED_SESSION
        and all(keyword.arg not in ("scopefunc", None) for keyword in value.keywords)
    )


__all__ = ["thread_guarded_calls"]
