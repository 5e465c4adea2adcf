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

``error_detail_only`` finds code behind a switch for error detail (a debug switch, or a setting such
as ``expose_stacktrace`` read by its key: ``if conf.get("api", "expose_stacktrace") == "True":``): the
error text sent there is the operator's opt-in (FAA303), as ``FastAPI(debug=True)`` is. A parameter
or a caught exception is never such a switch: the client, or the error, chose its value.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterator

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import (
    DEVELOPMENT_WORDS,
    ends_the_call,
    last_name,
    lines_only_in,
    parameter_names,
)
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


def error_detail_only(func: FunctionNode) -> frozenset[int]:
    """Ids of the nodes of ``func`` that only run while a switch for error detail is on: a debug or
    development switch, or a setting named for showing errors (``expose_stacktrace``,
    ``SHOW_ERROR_DETAILS``, ``include_traceback``), read as an attribute, a name, a call or a setting's
    key (``conf.get("api", "expose_stacktrace") == "True"``). What runs there is the operator's opt-in,
    like ``FastAPI(debug=True)``. A switch the caller hands in (a parameter: ``debug: bool = False`` on
    a route is the client's to set) is none, nor an attribute of a caught exception."""
    cached = _DETAIL.get(func)
    if cached is None:
        params = parameter_names(func)
        # Nor is what was caught (``exc.debug_message``): it is the error, not a setting.
        params.update(h.name for h in ast.walk(func) if isinstance(h, ast.ExceptHandler) and h.name)
        cached = _DETAIL[func] = frozenset(_find(func, _detail_name, frozenset(params), read=True))
    return cached


# Weakly keyed: the answer must not keep a linted file's tree alive.
_CACHE: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()
_DIAGNOSTICS: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()
_DETAIL: weakref.WeakKeyDictionary[ast.AST, frozenset[int]] = weakref.WeakKeyDictionary()


# Switches of a development server, as whole names read as a setting's attribute: ``if config.run.watch:``
# (re-reading files as they change), ``if args.reload:``. Production runs with them off. A bare name of
# these words is a parameter or a local (``async def get_job(job_id, watch: bool = False)``: the
# client's choice), no setting.
_DEVELOPMENT_SWITCHES = frozenset({"watch", "reload", "autoreload", "auto_reload", "hot_reload", "use_reloader"})


def _development_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in DEVELOPMENT_WORDS)


def _development_setting(test: ast.Name | ast.Attribute) -> bool:
    """``settings.reload``, ``config.run.watch``, or a module constant ``RELOAD`` (upper case: a
    setting, where a lower-case ``reload`` is a parameter or a local)."""
    if isinstance(test, ast.Attribute):
        return test.attr.lower() in _DEVELOPMENT_SWITCHES
    return test.id.isupper() and test.id.lower() in _DEVELOPMENT_SWITCHES


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


def _detail_name(name: str) -> bool:
    """A debug or development switch, or a setting whose words say it shows errors: ``expose``, a stack
    trace or traceback, or ``show``/``verbose``/``detailed``/``include`` with ``error(s)``/``details``.
    A dunder (``exc.__traceback__``) is an object's own attribute, not a setting."""
    if name.startswith("__"):
        return False
    if _development_name(name):
        return True
    words = {word.lower() for word in _WORDS.findall(name)}
    if words & {"expose", "exposed", "stacktrace", "stacktraces", "traceback", "tracebacks"}:
        return True
    return bool(words & {"error", "errors", "details"} and words & {"show", "verbose", "detailed", "include"})


# Values a switch is compared with when it is on: ``conf.get("api", "expose_stacktrace") == "True"``.
_ON_VALUES = (True, 1, "True", "true", "1", "yes", "on")


def _find(
    func: FunctionNode | ast.Module,
    switch_name: Callable[[str], bool],
    handed_in: frozenset[str] = frozenset(),
    *,
    read: bool = False,
) -> Iterator[int]:
    """``read``: a setting read by its key or compared with an "on" value counts too (``_switch_on``)."""
    for body in statement_lists(func):
        for index, stmt in enumerate(body):
            if not isinstance(stmt, ast.If):
                continue
            if _switch_on(stmt.test, switch_name, handed_in, read):
                yield from node_ids(stmt.body)
            elif _switch_off(stmt.test, switch_name, handed_in, read):
                yield from node_ids(stmt.orelse)
                if ends_the_call(stmt.body):
                    yield from node_ids(body[index + 1 :])


def _switch_on(
    test: ast.expr, switch_name: Callable[[str], bool], handed_in: frozenset[str] = frozenset(), read: bool = False
) -> bool:
    """True only when a switch ``switch_name`` recognises is on: ``settings.DEBUG``, ``in_debug_mode() and x``;
    with ``read``, also ``conf.get("api", "expose_stacktrace") == "True"``. ``handed_in``: names whose value
    the caller chose (parameters), which are no switch of the service's."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_switch_on(value, switch_name, handed_in, read) for value in test.values)
    if (
        read
        and isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Eq, ast.Is))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value in _ON_VALUES
        and not isinstance(test.comparators[0].value, float)
    ):
        test = test.left
    root = test
    while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
        root = root.func if isinstance(root, ast.Call) else root.value
    if isinstance(root, ast.Name) and root.id in handed_in:
        return False
    if isinstance(test, ast.Call):
        if not test.args and not test.keywords:
            test = test.func
        elif not read:
            return False
        else:
            # A setting read by its key: ``conf.getboolean("api", "expose_stacktrace")``, ``os.getenv("DEBUG")``.
            keys = [a.value for a in test.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            return bool(keys) and switch_name(keys[-1])
    if isinstance(test, (ast.Name, ast.Attribute)):
        if switch_name is _development_name and _development_setting(test):
            return True
        return switch_name(last_name(test) or "")
    return False


def _switch_off(
    test: ast.expr, switch_name: Callable[[str], bool], handed_in: frozenset[str] = frozenset(), read: bool = False
) -> bool:
    return (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and _switch_on(test.operand, switch_name, handed_in, read)
    )


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


__all__ = ["development_lines", "development_nodes", "development_only", "diagnostics_only", "error_detail_only"]
