"""What a stalled event-loop thread is doing: read one sampled stack, say where and why.

The watchdog hands over the loop thread's innermost frame while the loop is
stalled.  This module decides:

* whether the loop is really stalled or just idle in ``select`` (a process that
  was suspended as a whole wakes both threads at once);
* whether a synchronous database driver is on the stack (FAA101) and which;
* which user line to blame.

Pure-Python drivers (pymysql, psycopg 3, pymongo, redis, SQLAlchemy's sync API)
show up as frames of their modules.  C drivers (sqlite3, psycopg2) run without
a Python frame of their own, so for the innermost frame and the user frames the
call each one is making right now is read from the bytecode position and the
source, and the receiver's type is looked up without running any user code.
Only module and type names are read; no value ever leaves this module.
"""

from __future__ import annotations

import ast
import dis
import functools
import inspect
import linecache
import types
from dataclasses import dataclass, field
from typing import Any

from runtime_guard.frames import FrameInfo, is_user_file, library_of

__all__ = ["StackSample", "analyse_stack", "driver_of_module"]

_MAX_FRAMES = 1000
_MAX_USER_FRAMES = 10
# Frames whose in-progress call is resolved (innermost, then user frames outward).
_MAX_CALL_PROBES = 8

# Module prefix -> the driver name shown in findings.  Async variants of the same
# libraries are excluded by ``_ASYNC_MARKERS`` below.
_DRIVERS: tuple[tuple[str, str], ...] = (
    ("sqlite3", "sqlite3"),
    ("_sqlite3", "sqlite3"),
    ("psycopg2", "psycopg2"),
    ("psycopg", "psycopg"),
    ("pymysql", "pymysql"),
    ("MySQLdb", "MySQLdb"),
    ("mysql.connector", "mysql-connector"),
    ("pymongo", "pymongo"),
    ("redis", "redis"),
)
# SQLAlchemy's sync API: it runs the driver on the calling thread.
_SQLALCHEMY_SYNC = (
    "sqlalchemy.engine",
    "sqlalchemy.orm",
    "sqlalchemy.pool",
    "sqlalchemy.dialects",
    "sqlalchemy.connectors",
)
# Module-name parts containing "async" or starting with "aio" mark an async API
# (redis.asyncio, pymongo.asynchronous, psycopg.connection_async, ...aiosqlite).
# On the stack, these mean SQLAlchemy is driven by an async engine through greenlets.
_SQLALCHEMY_ASYNC = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.util._concurrency_py3k",
    "sqlalchemy.util.concurrency",
    "greenlet",
)
# The innermost frame of a loop that waits for I/O, not one that is blocked.
_IDLE_MODULES = ("selectors", "asyncio.windows_events", "asyncio.runners", "uvloop")
# At the bottom of every loop thread's stack (the loop's own run methods).
_EVENT_LOOP_MODULES = ("asyncio", "uvloop")
# The router: a user frame outside it is middleware waiting on the route, not the culprit.
_DISPATCH_MODULES = ("starlette.routing", "fastapi.routing")
# The frames that run a callback: the one just inside them is the callback itself.
_LOOP_MODULES = ("asyncio", "uvloop", "selectors", "threading", "concurrent", "runpy")


def _has_prefix(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _is_async_module(module: str) -> bool:
    return any("async" in part or part.startswith("aio") for part in module.split(".")[1:])


@functools.lru_cache(maxsize=2048)
def driver_of_module(module: str) -> str | None:
    """The sync database driver a module belongs to, or None (async APIs are None)."""
    if _is_async_module(module):
        return None
    for prefix, name in _DRIVERS:
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


@dataclass
class StackSample:
    """One reading of the loop thread's stack (locations only, never values)."""

    idle: bool = False
    innermost_user: FrameInfo | None = None
    attributed: FrameInfo | None = None
    """Where the finding should point: the DB call for FAA101, else the innermost user frame."""
    attributed_to: str = "user_frame"
    """user_frame | driver_call | callback (no user frame on the stack)."""
    driver: str | None = None
    via: str | None = None
    """"sqlalchemy" when the driver was reached through SQLAlchemy's sync API."""
    user_stack: list[FrameInfo] = field(default_factory=list)
    outside_router: bool = False
    """The innermost user frame is middleware around the router: the work is the route's."""
    library: str | None = None
    """The library the loop was stuck in (``httpx``, ``json``), when not in the user's own line:
    the one the attributed user frame called into, else the innermost frame's."""
    code_ids: set[int] = field(default_factory=set)
    """``id()`` of every code object on the stack, to find which handler is running."""

    def key(self) -> tuple[str, int, str | None]:
        where = self.attributed
        return (where.filename, where.line, self.driver) if where else ("", 0, self.driver)


def _module_of(frame: types.FrameType) -> str:
    name = frame.f_globals.get("__name__")
    return name if isinstance(name, str) else ""


def _frame_info(frame: types.FrameType) -> FrameInfo:
    line = frame.f_lineno
    return FrameInfo(
        frame.f_code.co_filename, line if line is not None else frame.f_code.co_firstlineno, frame.f_code.co_name
    )


# -- which call is a frame making right now ----------------------------------


@functools.lru_cache(maxsize=256)
def _call_offsets(code: types.CodeType) -> frozenset[int]:
    return frozenset(ins.offset for ins in dis.get_instructions(code) if ins.opname.startswith(("CALL", "PRECALL")))


def _source_segment(filename: str, position: tuple[Any, ...]) -> str | None:
    lineno, end_lineno, col, end_col = position
    if None in (lineno, end_lineno, col, end_col):
        return None
    lines = [linecache.getline(filename, number) for number in range(lineno, end_lineno + 1)]
    if not all(lines):
        return None
    # Column offsets are UTF-8 byte offsets.
    encoded = [line.encode("utf-8") for line in lines]
    if len(encoded) == 1:
        return encoded[0][col:end_col].decode("utf-8", "replace")
    encoded[0] = encoded[0][col:]
    encoded[-1] = encoded[-1][:end_col]
    return b"".join(encoded).decode("utf-8", "replace")


def _chain(node: ast.expr) -> tuple[str, ...] | None:
    """``self.db.cursor().execute`` -> ("self", "db", "cursor", "()", "execute")."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return tuple(reversed(parts))
        else:
            return None


def _calls_in(tree: ast.AST) -> list[tuple[str, ...]]:
    chains: list[tuple[str, ...]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            chain = _chain(node.func)
            if chain:
                chains.append(chain)
    return chains


@functools.lru_cache(maxsize=512)
def _pending_calls(code: types.CodeType, lasti: int) -> tuple[tuple[str, ...], ...]:
    """The callee expressions a frame may be in the middle of calling.

    On 3.11+ the instruction's source span is exactly the call; on 3.10 the
    whole line is parsed and every call on it is a candidate.
    """
    if lasti < 0 or lasti not in _call_offsets(code):
        return ()
    positions = getattr(code, "co_positions", None)
    if positions is not None:
        spans = list(positions())
        index = lasti // 2
        if index >= len(spans):
            return ()
        segment = _source_segment(code.co_filename, spans[index])
        if segment is None:
            return ()
        try:
            tree: ast.AST = ast.parse("(\n" + segment + "\n)", mode="eval")
        except SyntaxError:
            return ()
        body = tree.body if isinstance(tree, ast.Expression) else None
        if isinstance(body, ast.Call):
            chain = _chain(body.func)
            return (chain,) if chain else ()
        return tuple(_calls_in(tree))
    line = _line_of_offset(code, lasti)
    text = linecache.getline(code.co_filename, line).strip() if line else ""
    for candidate in (text, text + " pass", text.rstrip(":")):
        try:
            return tuple(_calls_in(ast.parse(candidate)))
        except SyntaxError:
            continue
    return ()


def _line_of_offset(code: types.CodeType, offset: int) -> int | None:
    found: int | None = None
    for start, line in dis.findlinestarts(code):
        if start > offset:
            break
        found = line
    return found


def _module_name_of_object(obj: object) -> str | None:
    """The module an object comes from, read without running user code."""
    kind = type(obj)
    if issubclass(kind, types.ModuleType):
        name = inspect.getattr_static(obj, "__name__", None)
        return name if isinstance(name, str) else None
    if issubclass(kind, type):
        module = vars(obj).get("__module__") if isinstance(obj, type) else None
        return module if isinstance(module, str) else None
    objclass = getattr(obj, "__objclass__", None) if issubclass(kind, _DESCRIPTOR_TYPES) else None
    if isinstance(objclass, type):
        return objclass.__module__
    if issubclass(kind, _FUNCTION_TYPES):
        self_obj = getattr(obj, "__self__", None)
        if self_obj is not None and not issubclass(type(self_obj), types.ModuleType):
            return type(self_obj).__module__
        module = getattr(obj, "__module__", None)
        return module if isinstance(module, str) else None
    return kind.__module__


_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_DESCRIPTOR_TYPES = (types.MethodDescriptorType, types.WrapperDescriptorType, types.ClassMethodDescriptorType)


def _lookup_root(frame: types.FrameType, name: str) -> tuple[bool, object]:
    # f_locals on 3.13+ is a read-only view; on older versions it refreshes the
    # frame's locals dict, which an optimized (function) frame never reads back.
    local_vars = frame.f_locals
    if name in local_vars:
        return True, local_vars[name]
    if name in frame.f_globals:
        return True, frame.f_globals[name]
    builtins = frame.f_builtins
    if name in builtins:
        return True, builtins[name]
    return False, None


_MISSING = object()


def _driver_of_call(frame: types.FrameType, chain: tuple[str, ...]) -> str | None:
    found, obj = _lookup_root(frame, chain[0])
    if not found:
        return None
    for part in chain[1:]:
        module = _module_name_of_object(obj)
        driver = driver_of_module(module) if module else None
        if driver:
            return driver
        if part == "()":
            return None  # a call's result is unknown without running it
        obj = inspect.getattr_static(obj, part, _MISSING)
        if obj is _MISSING:
            return None
    module = _module_name_of_object(obj)
    return driver_of_module(module) if module else None


def _driver_in_pending_call(frame: types.FrameType) -> str | None:
    for chain in _pending_calls(frame.f_code, frame.f_lasti):
        driver = _driver_of_call(frame, chain)
        if driver:
            return driver
    return None


# -- the whole stack ---------------------------------------------------------


def analyse_stack(innermost: types.FrameType) -> StackSample:
    """Classify a stalled loop thread's stack, innermost frame first."""
    frames: list[types.FrameType] = []
    frame: types.FrameType | None = innermost
    while frame is not None and len(frames) < _MAX_FRAMES:
        frames.append(frame)
        frame = frame.f_back
    sample = StackSample()
    modules = [_module_of(f) for f in frames]
    if _has_prefix(modules[0], _IDLE_MODULES):
        sample.idle = True
        return sample
    user = [is_user_file(f.f_code.co_filename) for f in frames]
    sample.code_ids = {id(f.f_code) for f in frames}
    sample.user_stack = [_frame_info(f) for f, mine in zip(frames, user) if mine][:_MAX_USER_FRAMES]
    sample.innermost_user = sample.user_stack[0] if sample.user_stack else None

    driver_index = _find_driver(frames, modules, user, sample)
    if driver_index is not None:
        # Blame the user line that called into the driver (outward from the driver frame).
        for index in range(driver_index, len(frames)):
            if user[index]:
                sample.attributed = _frame_info(frames[index])
                sample.attributed_to = "driver_call"
                sample.library = _library_called(modules, user, index)
                return sample
    if sample.innermost_user is not None:
        first_user = user.index(True)
        sample.outside_router = any(_has_prefix(module, _DISPATCH_MODULES) for module in modules[:first_user])
        sample.attributed = sample.innermost_user
        sample.attributed_to = "user_frame"
        sample.library = _library_called(modules, user, 0 if sample.outside_router else first_user)
        return sample
    sample.library = _library_called(modules, user, 0)
    # No user code on the stack: point at the callback the loop is running.
    for index, module in enumerate(modules):
        if _has_prefix(module, _LOOP_MODULES):
            if index > 0:
                sample.attributed = _frame_info(frames[index - 1])
                sample.attributed_to = "callback"
            break
    return sample


def _library_called(modules: list[str], user: list[bool], index: int) -> str | None:
    """The library the frame at ``index`` was inside of: the frame just inside it, when not user code.

    ``index`` 0 (no user frame to start from) names the innermost frame's library.
    """
    inner = index - 1 if index > 0 else 0
    if user[inner] or not modules[inner]:
        return None
    return library_of(modules[inner])


def _find_driver(
    frames: list[types.FrameType], modules: list[str], user: list[bool], sample: StackSample
) -> int | None:
    """Index of the innermost frame showing a sync DB driver (and fill in ``sample.driver``)."""
    # An async engine runs SQLAlchemy's sync core inside a greenlet, whose stack
    # starts fresh: no asyncio frames below it.  Those frames are not a sync driver.
    greenlet_driven = not any(_has_prefix(module, _EVENT_LOOP_MODULES) for module in modules) or any(
        _has_prefix(module, _SQLALCHEMY_ASYNC) or (module.startswith("sqlalchemy.") and _is_async_module(module))
        for module in modules
    )
    probes = 0
    for index, (frame, module) in enumerate(zip(frames, modules)):
        driver = driver_of_module(module)
        if driver:
            sample.driver = driver
            return index
        if not greenlet_driven and _has_prefix(module, _SQLALCHEMY_SYNC):
            sample.via = "sqlalchemy"
            # The DBAPI call itself is often a C call made from this frame.
            sample.driver = _probe(frame) or sample.driver or "sqlalchemy"
            return index
        if (index == 0 or user[index]) and probes < _MAX_CALL_PROBES:
            probes += 1
            driver = _probe(frame)
            if driver:
                sample.driver = driver
                return index
    return None


def _probe(frame: types.FrameType) -> str | None:
    try:
        return _driver_in_pending_call(frame)
    except (AttributeError, KeyError, TypeError, ValueError, RuntimeError, SyntaxError):
        return None  # a frame that moved on or odd source: no evidence either way
