"""Exceptions seen during a request: their texts (for FAA303) and the ones that escape (FAA304).

On Python 3.12+ a ``sys.monitoring`` RAISE callback records the str()/repr()
of each exception raised in, or passing through, the user's code while a
request is in flight (bounded per request), so a body that echoes ``str(e)``
after the app caught ``e`` is recognised.  On older Pythons only tracebacks
and the debug page are recognised.

The callback runs for every raise in the process, including the many that
libraries raise and catch themselves (an ``os.environ`` miss raises three
times); it gets away cheaply with those: one set look-up of the frame's file.
Code the app's author wrote is the only place that can echo an exception it
caught, and an exception raised inside a library reaches that code through a
RAISE event in the user's frame as well.
"""

from __future__ import annotations

import logging
import sys
import threading
import types
from typing import Any

from runtime_guard.frames import is_user_file
from runtime_guard.request_state import CURRENT, MAX_EXCEPTION_TEXTS

log = logging.getLogger("runtime_guard")

# Exceptions whose text is meant for the client.
PUBLIC_EXCEPTIONS = frozenset({"HTTPException", "WebSocketException", "RequestValidationError", "ValidationError"})
_lock = threading.Lock()
_tool_id: int | None = None
_users = 0


# Exception types whose text is never recorded, by type: walking the MRO on every raise was the
# guard's largest per-request cost.  Bounded, since classes made on the fly would pile up.
_SKIPPED_TYPES: dict[type, bool] = {}
_MAX_SKIPPED_TYPES = 1024


def _public(exc: BaseException) -> bool:
    return any(cls.__name__ in PUBLIC_EXCEPTIONS for cls in type(exc).__mro__)


def _skipped(exc: BaseException) -> bool:
    """Texts meant for the client, and iteration plumbing: not worth recording."""
    kind = type(exc)
    skipped = _SKIPPED_TYPES.get(kind)
    if skipped is None:
        skipped = _public(exc) or isinstance(exc, (StopIteration, StopAsyncIteration, GeneratorExit))
        if len(_SKIPPED_TYPES) < _MAX_SKIPPED_TYPES:
            _SKIPPED_TYPES[kind] = skipped
    return skipped


# Files already known not to be the user's.  Nearly every raise is a library's (FastAPI reads
# the environment on each request: three raises per missing variable), and a set membership
# test is the cheapest way out of the callback, cheaper than even the context-variable read.
_LIBRARY_FILES: set[str] = set()
_MAX_LIBRARY_FILES = 4096


def _on_raise(code: types.CodeType, offset: int, exc: BaseException) -> Any:
    filename = code.co_filename
    if filename in _LIBRARY_FILES:
        return None
    if not is_user_file(filename):
        if len(_LIBRARY_FILES) < _MAX_LIBRARY_FILES:
            _LIBRARY_FILES.add(filename)
        return None
    state = CURRENT.get()
    if state is None or not state.records_texts or _skipped(exc):
        return None
    texts = state.exception_texts
    try:
        text = str(exc)
        if text and text not in texts:
            texts.append(text)
        if repr(exc) not in texts:
            texts.append(repr(exc))
    except Exception:  # an exception whose __str__ fails: nothing to match against
        pass
    if len(texts) > MAX_EXCEPTION_TEXTS:
        del texts[: len(texts) - MAX_EXCEPTION_TEXTS]  # keep the latest: the one a handler echoes
    return None


def install() -> bool:
    """Start recording exception texts (reference-counted; False where unsupported)."""
    global _tool_id, _users
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    with _lock:
        if _tool_id is None:
            for candidate in range(6):
                if monitoring.get_tool(candidate) is None:
                    monitoring.use_tool_id(candidate, "runtime_guard")
                    monitoring.register_callback(candidate, monitoring.events.RAISE, _on_raise)
                    monitoring.set_events(candidate, monitoring.events.RAISE)
                    _tool_id = candidate
                    break
            else:
                log.warning("runtime_guard: no free sys.monitoring tool id; exception texts are not tracked")
                return False
        _users += 1
    return True


def uninstall() -> None:
    global _tool_id, _users
    monitoring = getattr(sys, "monitoring", None)
    with _lock:
        if _tool_id is None or monitoring is None:
            return
        _users -= 1
        if _users > 0:
            return
        monitoring.set_events(_tool_id, 0)
        monitoring.register_callback(_tool_id, monitoring.events.RAISE, None)
        monitoring.free_tool_id(_tool_id)
        _tool_id = None


def has_catch_all_handler(app: object) -> bool:
    """Whether a Starlette/FastAPI app handles ``Exception``/500 itself (then nothing escapes to clients)."""
    handlers = getattr(app, "exception_handlers", None)
    return isinstance(handlers, dict) and any(key in (Exception, BaseException, 500) for key in handlers)
