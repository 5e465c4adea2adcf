"""Where to attribute a finding that belongs to the app as a whole (FAA301, FAA303 debug, FAA401)."""

from __future__ import annotations

import re
import sys
import weakref
from functools import lru_cache

from runtime_guard.detectors.health import find_routes
from runtime_guard.frames import FrameInfo, endpoint_codes, endpoint_location, is_user_file
from runtime_guard.source import source_lines

# Apps whose line was looked up, found or not (weakly held: a test suite makes many apps).
_found: weakref.WeakKeyDictionary[object, FrameInfo | None] = weakref.WeakKeyDictionary()


def app_location(app: object) -> FrameInfo | None:
    """The ``name = FastAPI(...)`` line of the module that holds ``app``, when a user module holds it.

    Python does not record where an object was created; the module-level
    variable that refers to the app, found in ``sys.modules``, is the next
    best thing and matches where the static rules report app-level codes.
    Remembered per app.  On the event loop, raises ``SourceNotLoaded`` when the
    answer needs a source file not in memory yet (the guard looks the app up off
    the loop at start-up, so this is rare).
    """
    try:
        return _found[app]
    except (KeyError, TypeError):  # not looked up yet, or an app that takes no weak reference
        pass
    where = _app_location(app)
    try:
        _found[app] = where
    except TypeError:
        pass
    return where


def _app_location(app: object) -> FrameInfo | None:
    # A module that imports the app (``from main import app``) also refers to it: prefer the
    # module whose source assigns it by calling its class, then any that assigns it.
    best: tuple[int, FrameInfo] | None = None
    constructor = f"{type(app).__name__}("
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not is_user_file(filename):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for name, value in items:
            if value is not app:
                continue
            line = _assignment_line(filename, name)
            rank = 0 if line == 0 else (2 if constructor in source_lines(filename)[line - 1] else 1)
            if best is None or rank > best[0]:
                best = (rank, FrameInfo(filename, line or 1, "<module>"))
            if rank == 2:
                return best[1]
    return best[1] if best is not None else _constructor_above_handlers(app)


# Route handlers looked at for an app no module variable holds (the first few user handlers).
_MAX_HANDLERS = 16


def _constructor_above_handlers(app: object) -> FrameInfo | None:
    """Where a factory builds the app (``def create_app(): app = FastAPI() ...``): no module holds it.

    The app's own route handlers are defined in the factory or beside it, after the app was
    made (``@app.get`` needs it): the nearest ``FastAPI(`` call written above a handler, in the
    handler's file, is where it was made.  FastAPI's own handlers (the docs routes) are not user
    code and are passed over.
    """
    routes = find_routes(app)
    if not routes:
        return None
    constructor = re.compile(rf"(?<![\w]){re.escape(type(app).__name__)}\(")
    looked_at = 0
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        handler = endpoint_location(endpoint) if endpoint is not None else None
        if handler is None or not is_user_file(handler.filename):
            continue
        lines = source_lines(handler.filename)
        for number in range(min(handler.line, len(lines)), 0, -1):
            if constructor.search(lines[number - 1]):
                qualname = getattr(_code_of(endpoint), "co_qualname", "")
                factory = qualname.split(".<locals>", 1)[0] if ".<locals>" in qualname else "<module>"
                return FrameInfo(handler.filename, number, factory)
        looked_at += 1
        if looked_at >= _MAX_HANDLERS:
            break
    return None


def _code_of(endpoint: object) -> object:
    codes = endpoint_codes(endpoint)
    return codes[0] if codes else None


@lru_cache(maxsize=256)
def _assignment_line(filename: str, name: str) -> int:
    """The first line that assigns ``name`` at module level, or 0."""
    pattern = re.compile(rf"^{re.escape(name)}\s*(:[^=]+)?=(?!=)")
    for number, line in enumerate(source_lines(filename), 1):
        if pattern.match(line):
            return number
    return 0
