"""Code a function runs only with a debug or development switch on.

``if settings.DEBUG: dump(request)``, the ``else`` of ``if not in_debug_mode(): ...``, and
what follows ``if not settings.debug: return``: a production run keeps the switch off and
never takes these lines, so a blocking call there costs nothing where FAA102 is about.
The switch is recognised by its name (``debug``, ``dev_mode``, ``development``, as for
FAA303's ``debug=True``), alone or joined with ``and`` to other conditions; a test joined
with ``or`` may be true in production and is not a switch. A switch named otherwise (a
feature flag read from the environment) says nothing about production and is not
recognised.

``diagnostics_only`` finds, the same way, code behind a diagnostics switch: prompt or request
tracing, profiling (``if is_promptrace_enabled():``, ``if settings.ENABLE_PROFILING:``). Such a
switch is off by default, but production may turn it on for a while, so it says less than a
debug switch does: FAA102 leaves only the local file work behind it unreported (the trace file it
writes), not a network call or a subprocess (a tracing exporter that posts every request).
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterator

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import DEVELOPMENT_WORDS, last_name, lines_only_in
from flake8_fastapi_antipatterns.analysis.run_once import node_ids, statement_lists


def development_only(func: FunctionNode) -> frozenset[int]:
    """Ids of the nodes of ``func`` that only run while a debug or development switch is on."""
    cached = _CACHE.get(func)
    if cached is not None:
        return cached
    found = frozenset(_find(func, _development_name))
    _CACHE[func] = found
    return found


def diagnostics_only(func: FunctionNode) -> frozenset[int]:
    """Ids of the nodes of ``func`` that only run while a tracing or profiling switch is on."""
    cached = _DIAGNOSTICS.get(func)
    if cached is None:
        cached = _DIAGNOSTICS[func] = frozenset(_find(func, _diagnostics_name))
    return cached


# Weakly keyed: the answer must not keep a linted file's tree alive.
_CACHE: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()
_DIAGNOSTICS: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()


def _development_name(name: str) -> bool:
    return any(word in name.lower() for word in DEVELOPMENT_WORDS)


# The words of a name: ``is_promptrace_enabled`` -> is, promptrace, enabled; ``enableTracing`` -> enable, tracing.
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _diagnostics_name(name: str) -> bool:
    """A word of the name ends in ``trace``/``tracing`` (``promptrace``, ``stacktrace``) or is
    ``profiling``/``profiler``. Whole words, so ``traceback`` and ``user_profile`` are not switches."""
    for word in _WORDS.findall(name):
        word = word.lower()
        if word.endswith(("trace", "tracing")) or word in ("profiling", "profiler"):
            return True
    return False


def _find(func: FunctionNode | ast.Module, switch_name: Callable[[str], bool]) -> Iterator[int]:
    for body in statement_lists(func):
        for index, stmt in enumerate(body):
            if not isinstance(stmt, ast.If):
                continue
            if _switch_on(stmt.test, switch_name):
                yield from node_ids(stmt.body)
            elif _switch_off(stmt.test, switch_name):
                yield from node_ids(stmt.orelse)
                if stmt.body and isinstance(stmt.body[-1], (ast.Return, ast.Raise)):
                    yield from node_ids(body[index + 1 :])


def _switch_on(test: ast.expr, switch_name: Callable[[str], bool]) -> bool:
    """True only when a switch ``switch_name`` recognises is on: ``settings.DEBUG``, ``in_debug_mode() and x``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_switch_on(value, switch_name) for value in test.values)
    if isinstance(test, ast.Call) and not test.args and not test.keywords:
        test = test.func
    if isinstance(test, (ast.Name, ast.Attribute)):
        return switch_name(last_name(test) or "")
    return False


def _switch_off(test: ast.expr, switch_name: Callable[[str], bool]) -> bool:
    return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _switch_on(test.operand, switch_name)


def development_nodes(node: FunctionNode | ast.Module) -> frozenset[int]:
    """``development_only`` for a function or for a module's top level (``if settings.DEBUG:`` there)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return development_only(node)
    cached = _CACHE.get(node)
    if cached is None:
        cached = _CACHE[node] = frozenset(_find(node, _development_name))
    return cached


def development_lines(node: FunctionNode | ast.Module) -> frozenset[int]:
    """The lines of ``node`` (a function, or a module's top level) that run only with a development
    switch on: a call written there (``if settings.DEBUG: app.include_router(debug.router)``) happens
    only in development. A line that also holds code production runs (``if debug: f()`` on one line:
    its test) is left out."""
    cached = _LINES.get(node)
    if cached is not None:
        return cached
    # A module is read like a function body: its statement lists, nested definitions left out.
    found = lines_only_in(ast.iter_child_nodes(node), development_nodes(node))
    _LINES[node] = found
    return found


_LINES: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()


__all__ = ["development_lines", "development_nodes", "development_only", "diagnostics_only"]
