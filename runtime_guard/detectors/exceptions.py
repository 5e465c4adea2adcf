"""Exceptions seen during a request: their texts (for FAA303) and the ones that escape (FAA304).

On Python 3.12+ the guard records the str()/repr() of each exception the app's own code
handles while a request is in flight (bounded per request), so a body that echoes ``str(e)``
after the app caught ``e`` is recognised.  On older Pythons only tracebacks and the debug page
are recognised.

How: the functions of the app's modules (files outside the standard library and
site-packages) get ``sys.monitoring`` LINE events.  The callback asks whether an exception is
being handled; when none is, it switches that line's event off for good (``DISABLE``), so once
each line has run once only the lines of ``except`` blocks are left, and the code they call,
and those report only while an exception is being handled: exactly where an app can echo one.
An exception handler registered with the app runs inside the framework's ``except`` block, so
it is seen the same way.  The exceptions libraries raise and catch among themselves (FastAPI
reads the environment on every request: a KeyError per missing variable) never reach the
callback, which a RAISE event would have called for each.

Texts written for the client are not recorded: those of ``HTTPException`` and validation errors,
of Starlette's ``AuthenticationError`` (``AuthenticationMiddleware`` answers a failed login with
its text), and any text the app itself writes as a literal in a function that builds an
``HTTPException`` (``raise HTTPException(404, detail="Order not found")``): an exception of the
app's carrying those same words, caught and turned into that answer, is not a leak.  Those
literals are collected while the app's functions are set up for watching (``_watch_code``).

Modules imported after start-up are picked up when ``sys.modules`` grows (checked per request:
one ``len``).  Code not in a module's namespace at scan time (a function made by ``exec``) is
not watched.
"""

from __future__ import annotations

import logging
import sys
import threading
import types
from typing import Any

from runtime_guard.frames import is_user_file
from runtime_guard.request_state import current as current_state

log = logging.getLogger("runtime_guard")

# Both exist from 3.12 (``sys.exception`` from 3.11); None before, and nothing here is installed.
_monitoring: Any = getattr(sys, "monitoring", None)
_current_exception: Any = getattr(sys, "exception", None)

# Exceptions whose text is meant for the client: by class name, and by module and class name.
PUBLIC_EXCEPTIONS = frozenset({"HTTPException", "WebSocketException", "RequestValidationError", "ValidationError"})
CLIENT_MESSAGE_CLASSES = frozenset({("starlette.authentication", "AuthenticationError")})
# Bounded: the code objects watched, how deep classes nest within a module's namespace, and how
# many decorator wrappers (``__wrapped__``) are followed down to the function they wrap.
MAX_WATCHED_CODE = 200_000
_MAX_CLASS_DEPTH = 4
_MAX_WRAPPED_DEPTH = 4

_lock = threading.Lock()
_tool_id: int | None = None
_users = 0
_watched: set[types.CodeType] = set()
_scanned_modules: set[str] = set()
"""The names of the modules scanned while the watch is installed (a name that left ``sys.modules``
is forgotten at the next scan, so a module imported afresh under it is scanned again)."""
_client_literals: set[str] = set()
"""String literals of the app's functions that build a public exception: texts the app wrote for clients."""
MAX_CLIENT_LITERALS = 100_000
line_events = 0
"""How many times the callback ran (a watched line not yet switched off, or an except block at work)."""


# Exception types whose text is never recorded, by type.  Bounded, since classes made on the
# fly would pile up.
_SKIPPED_TYPES: dict[type, bool] = {}
_MAX_SKIPPED_TYPES = 1024


def _public(exc: BaseException) -> bool:
    return any(
        cls.__name__ in PUBLIC_EXCEPTIONS or (cls.__module__, cls.__name__) in CLIENT_MESSAGE_CLASSES
        for cls in type(exc).__mro__
    )


def _skipped(exc: BaseException) -> bool:
    """Texts meant for the client, and iteration plumbing: not worth recording."""
    kind = type(exc)
    skipped = _SKIPPED_TYPES.get(kind)
    if skipped is None:
        skipped = _public(exc) or isinstance(exc, (StopIteration, StopAsyncIteration, GeneratorExit))
        if len(_SKIPPED_TYPES) < _MAX_SKIPPED_TYPES:
            _SKIPPED_TYPES[kind] = skipped
    return skipped


def _on_line(code: types.CodeType, line: int) -> Any:
    global line_events
    line_events += 1
    exc = _current_exception()
    if exc is None:
        # This line runs outside any except block: never ask again (about this line only).
        return _monitoring.DISABLE
    state = current_state()
    if state is None or not state.records_texts or id(exc) == state.last_exception or _skipped(exc):
        return None
    state.last_exception = id(exc)  # an except block's lines all see one exception: record it once
    try:
        text = str(exc)
        if text not in _client_literals:  # the app wrote these words for the client itself
            state.record_text(text)
        state.record_text(repr(exc))
    except Exception:  # an exception whose __str__ fails: nothing to match against
        pass
    return None


# -- which code is the app's ----------------------------------------------------
def _collect_client_literals(code: types.CodeType) -> None:
    """The string literals of a function that builds an ``HTTPException`` (or another public exception)."""
    if len(_client_literals) >= MAX_CLIENT_LITERALS or not PUBLIC_EXCEPTIONS.intersection(code.co_names):
        return
    _client_literals.update(const for const in code.co_consts if type(const) is str and const)



def _watch_code(code: types.CodeType, tool: int) -> None:
    pending = [code]
    while pending and len(_watched) < MAX_WATCHED_CODE:
        code = pending.pop()
        if code in _watched or not is_user_file(code.co_filename):
            continue
        _watched.add(code)
        _monitoring.set_local_events(tool, code, _monitoring.events.LINE)
        _collect_client_literals(code)
        # Nested functions, lambdas, comprehensions and class bodies: their code is a constant.
        pending.extend(const for const in code.co_consts if isinstance(const, types.CodeType))


def _functions_of(namespace: dict[str, Any], module: str, depth: int = 0) -> list[types.CodeType]:
    """The code of the functions, methods and properties defined in a module namespace.

    Values are told apart by their exact type, never by ``isinstance`` or attribute look-ups on
    the value itself: a module may hold lazy proxies (settings objects, request-bound locals)
    that do work, or raise, when asked about their class or their attributes.
    """
    found: list[types.CodeType] = []
    for value in list(namespace.values()):
        kind = type(value)
        if kind is staticmethod or kind is classmethod:
            value = value.__func__
            kind = type(value)
        if kind is property:
            found.extend(f.__code__ for f in (value.fget, value.fset, value.fdel) if type(f) is types.FunctionType)
        elif kind is types.FunctionType:
            # A decorator's wrapper (functools.wraps) and the function it wraps, both.
            for _ in range(_MAX_WRAPPED_DEPTH):
                found.append(value.__code__)
                value = value.__dict__.get("__wrapped__")
                if type(value) is not types.FunctionType:
                    break
        elif issubclass(kind, type) and value.__module__ == module and depth < _MAX_CLASS_DEPTH:
            found.extend(_functions_of(dict(vars(value)), module, depth + 1))
    return found


def watch_new_modules() -> None:
    """Watch the functions of the app's modules imported since the last scan.

    Each module is scanned once while the watch is installed, whatever number of guards
    start and stop meanwhile (a test suite starts and stops them at every test).
    """
    with _lock:
        tool = _tool_id
        if tool is None:
            return
        # Set differences of the names: the scan of a few new modules among thousands costs
        # one pass in C over the names rather than a Python loop over every module.
        present = sys.modules.keys()
        new_names = present - _scanned_modules
        if len(present) - len(new_names) < len(_scanned_modules):
            _scanned_modules.intersection_update(present)  # some scanned names left sys.modules
        for name in new_names:
            module = sys.modules.get(name)
            _scanned_modules.add(name)
            filename = getattr(module, "__file__", None)
            if not isinstance(filename, str) or not is_user_file(filename):
                continue
            try:
                for code in _functions_of(dict(vars(module)), name):
                    _watch_code(code, tool)
            except Exception:  # an odd module (a proxy namespace): skipped, the others are still watched
                log.debug("runtime_guard: could not scan module %s for exception handlers", name, exc_info=True)


def install() -> bool:
    """Start recording exception texts (reference-counted; False where unsupported)."""
    global _tool_id, _users
    monitoring = _monitoring
    if monitoring is None:
        return False
    with _lock:
        if _tool_id is None:
            for candidate in range(6):
                if monitoring.get_tool(candidate) is None:
                    monitoring.use_tool_id(candidate, "runtime_guard")
                    monitoring.register_callback(candidate, monitoring.events.LINE, _on_line)
                    _tool_id = candidate
                    break
            else:
                log.warning("runtime_guard: no free sys.monitoring tool id; exception texts are not tracked")
                return False
        _users += 1
    watch_new_modules()
    return True


def uninstall() -> None:
    global _tool_id, _users
    monitoring = _monitoring
    with _lock:
        if _tool_id is None or monitoring is None:
            return
        _users -= 1
        if _users > 0:
            return
        for code in _watched:
            monitoring.set_local_events(_tool_id, code, 0)
        _watched.clear()
        _scanned_modules.clear()
        _client_literals.clear()
        monitoring.register_callback(_tool_id, monitoring.events.LINE, None)
        monitoring.free_tool_id(_tool_id)
        _tool_id = None


def has_catch_all_handler(app: object) -> bool:
    """Whether a Starlette/FastAPI app handles ``Exception``/500 itself (then nothing escapes to clients)."""
    handlers = getattr(app, "exception_handlers", None)
    return isinstance(handlers, dict) and any(key in (Exception, BaseException, 500) for key in handlers)
