"""Which stack frames belong to the user's code, and where a route handler lives.

Every runtime finding points at a line the user wrote: the blocking call, the
raise site, the handler.  Library frames (the standard library, anything
installed in site-packages, and this project's own packages) are skipped so
the finding lands on the user's line rather than inside Starlette or sqlite3.

Frames are classified on the event loop (a ``print``, a raise), so classifying
one is string work only: the library directories are read once, at import.
Placing a handler needs its source, read through ``runtime_guard.source``,
which never reads a file on the loop.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import re
import site
import sysconfig
import types
from dataclasses import dataclass

from runtime_guard.source import SourceNotLoaded, source_lines

__all__ = [
    "FrameInfo",
    "endpoint_codes",
    "endpoint_location",
    "innermost_user_frame",
    "is_user_file",
    "library_of",
    "user_endpoint_location",
    "user_frame_from_traceback",
    "user_frames",
]

# How far to scan from a decorator line to its ``def`` (multi-line decorators).
_DEF_SCAN_LIMIT = 100
# A cap on frames walked: deep recursion must not make a sample expensive.
_MAX_FRAMES = 1000


@dataclass(frozen=True)
class FrameInfo:
    filename: str
    line: int
    function: str

    @property
    def place(self) -> str:
        r"""How a message names it: ``\`handler\` (app.py:12)``."""
        return f"`{self.function}` ({os.path.basename(self.filename)}:{self.line})"


def _resolved(path: str) -> str:
    """``path`` as an absolute, normalised string: no file-system call (safe on the event loop)."""
    if not os.path.isabs(path):
        path = os.path.join(_START_DIR, path)
    return os.path.normcase(os.path.normpath(path))


def _own_package_dirs() -> list[str]:
    """This project's packages: their frames are plumbing, not the user's code.

    ``find_spec`` locates a package without importing it, so this never drags
    in anything the runtime guard should not load.
    """
    dirs = [os.path.dirname(__file__)]
    try:
        spec = importlib.util.find_spec("flake8_fastapi_antipatterns")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(spec.submodule_search_locations)
    return dirs


def _library_dirs() -> list[str]:
    dirs: list[str] = []
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.append(paths[key])
    try:
        dirs.extend(site.getsitepackages())
    except AttributeError:  # some embedded/virtualenv builds lack it
        pass
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user_site, str):
        dirs.append(user_site)
    return dirs


def _excluded_prefixes() -> tuple[str, ...]:
    """The library directories, as written and with symlinks resolved (a frame may name either)."""
    prefixes: set[str] = set()
    for directory in _library_dirs() + _own_package_dirs():
        for form in (_resolved(directory), _resolved(os.path.realpath(directory))):
            prefixes.add(form.rstrip(os.sep) + os.sep)
    return tuple(sorted(prefixes))


# Computed once, when the guard is imported: classifying a frame is then string work only,
# since a frame is classified on the event loop (a print, a raise) where a file-system call
# would be the very blocking the guard reports.  A relative ``co_filename`` (a script run
# from its folder) is relative to the directory the process started in.
_START_DIR = os.getcwd()
_EXCLUDED_PREFIXES = _excluded_prefixes()
_LIBRARY_PARTS = frozenset({"site-packages", "dist-packages"})


@functools.lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """True when ``filename`` is code the user wrote (cached per filename: called per frame)."""
    if not filename or (filename.startswith("<") and filename.endswith(">")):
        return False  # <frozen ...>, <string>, <stdin>: nothing to point at
    path = _resolved(filename)
    if _LIBRARY_PARTS.intersection(path.split(os.sep)):
        return False
    return not path.startswith(_EXCLUDED_PREFIXES)


def library_of(module: str) -> str:
    """The distribution-level name a module belongs to, as findings name it (``httpx._client`` -> ``httpx``)."""
    return module.partition(".")[0].lstrip("_") or module


def _frame_info(frame: types.FrameType) -> FrameInfo:
    code = frame.f_code
    line = frame.f_lineno
    return FrameInfo(code.co_filename, line if line is not None else code.co_firstlineno, code.co_name)


def innermost_user_frame(frame: types.FrameType | None) -> FrameInfo | None:
    """From ``frame`` (the innermost) outward, the first frame in user code."""
    depth = 0
    while frame is not None and depth < _MAX_FRAMES:
        if is_user_file(frame.f_code.co_filename):
            return _frame_info(frame)
        frame = frame.f_back
        depth += 1
    return None


def user_frames(frame: types.FrameType | None, limit: int = 10) -> list[FrameInfo]:
    """Up to ``limit`` user frames from ``frame`` outward, innermost first."""
    found: list[FrameInfo] = []
    depth = 0
    while frame is not None and depth < _MAX_FRAMES and len(found) < limit:
        if is_user_file(frame.f_code.co_filename):
            found.append(_frame_info(frame))
        frame = frame.f_back
        depth += 1
    return found


def user_frame_from_traceback(tb: types.TracebackType | None) -> FrameInfo | None:
    """The deepest user frame of a traceback: where user code raised (or called what raised)."""
    found: FrameInfo | None = None
    depth = 0
    while tb is not None and depth < _MAX_FRAMES:
        code = tb.tb_frame.f_code
        if is_user_file(code.co_filename):
            # tb_lineno is the line executing when the exception passed through;
            # the frame's own f_lineno may have moved on since.
            found = FrameInfo(code.co_filename, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
        depth += 1
    return found


def _unwrap_callable(obj: object) -> object:
    """Peel partials, bound methods and ``functools.wraps`` layers down to the user's callable."""
    seen: set[int] = set()
    while id(obj) not in seen:
        seen.add(id(obj))
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif isinstance(obj, (types.MethodType, staticmethod, classmethod)):
            obj = obj.__func__
        elif getattr(obj, "__wrapped__", None) is not None and not isinstance(obj, type):
            obj = obj.__wrapped__  # type: ignore[attr-defined]
        else:
            break
    return obj


@functools.lru_cache(maxsize=2048)
def _code_location(code: types.CodeType) -> FrameInfo:
    """The ``def`` line of a function: ``co_firstlineno`` is its first decorator's line.

    Cached per code object; ``SourceNotLoaded`` (on the loop, source not in memory) is not cached.
    """
    if code.co_name.startswith("<"):
        return FrameInfo(code.co_filename, code.co_firstlineno, code.co_name)  # lambdas have no def
    lines = source_lines(code.co_filename)
    pattern = re.compile(r"\s*(async\s+)?def\s+" + re.escape(code.co_name) + r"\b")
    for line in range(code.co_firstlineno, min(code.co_firstlineno + _DEF_SCAN_LIMIT, len(lines) + 1)):
        if pattern.match(lines[line - 1]):
            return FrameInfo(code.co_filename, line, code.co_name)
    return FrameInfo(code.co_filename, code.co_firstlineno, code.co_name)


@functools.lru_cache(maxsize=512)
def _class_location(cls: type) -> FrameInfo | None:
    """A class endpoint (e.g. Starlette's ``HTTPEndpoint``): the ``class`` line."""
    codes = [
        member.__code__
        for member in (_unwrap_callable(value) for value in vars(cls).values())
        if isinstance(member, types.FunctionType)
    ]
    if not codes:
        return None
    first = min(codes, key=lambda code: code.co_firstlineno)
    lines = source_lines(first.co_filename)
    pattern = re.compile(r"\s*class\s+" + re.escape(cls.__name__) + r"\b")
    for line in range(min(first.co_firstlineno, len(lines)), max(first.co_firstlineno - _DEF_SCAN_LIMIT, 0), -1):
        if pattern.match(lines[line - 1]):
            return FrameInfo(first.co_filename, line, cls.__name__)
    return FrameInfo(first.co_filename, first.co_firstlineno, cls.__name__)


def _class_call(cls: type) -> object:
    """The ``__call__`` a class defines (looked up on the MRO, never the metaclass's)."""
    for klass in cls.__mro__:
        if "__call__" in vars(klass):
            return vars(klass)["__call__"]
    return None


def endpoint_codes(endpoint: object) -> tuple[types.CodeType, ...]:
    """The code objects that run when ``endpoint`` handles a request (to spot it on a stack)."""
    try:
        target = _unwrap_callable(endpoint)
        if isinstance(target, type):  # a class endpoint: any of its methods
            members = (_unwrap_callable(value) for value in vars(target).values())
            return tuple(member.__code__ for member in members if isinstance(member, types.FunctionType))
        if not inspect.isfunction(target):
            target = _unwrap_callable(_class_call(type(target)))
        code = getattr(target, "__code__", None)
        return (code,) if isinstance(code, types.CodeType) else ()
    except Exception:  # noqa: BLE001 - fail-open: a strange endpoint must never break the guard
        return ()


def endpoint_location(endpoint: object) -> FrameInfo | None:
    """Where a route handler is defined, or None when it has no Python source.

    Raises ``SourceNotLoaded`` on the event loop when the handler's file is not in memory yet.
    """
    try:
        target = _unwrap_callable(endpoint)
        if isinstance(target, type):
            return _class_location(target)
        if not inspect.isfunction(target):
            target = _unwrap_callable(_class_call(type(target)))  # a callable instance
        code = getattr(target, "__code__", None)
        if not isinstance(code, types.CodeType):
            return None
        return _code_location(code)
    except SourceNotLoaded:
        raise
    except Exception:  # noqa: BLE001 - fail-open: a strange endpoint must never break the guard
        return None


def user_endpoint_location(endpoint: object) -> FrameInfo | None:
    """``endpoint_location`` when the handler is the user's: a library's own route (FastAPI's
    ``/openapi.json``, a mounted static-files app) is no place a user can act on."""
    where = endpoint_location(endpoint)
    return where if where is not None and is_user_file(where.filename) else None
