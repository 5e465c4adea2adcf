"""Why the event loop stalled, when the app's code is not what the samples show.

The watchdog blames a stall on the app (FAA101/FAA102) only when the app's
code, or a blocking call it made, is on the loop thread's stack in the samples
taken during the stall.  Every other stall gets one of these causes and is
kept as a note (counted, the recent ones listed, and logged), never reported
as a finding of a route:

``gc_pause``
    garbage collection took all but less than the threshold of the stall
    (timed through ``gc.callbacks``; a collection holds the GIL, so the loop
    waits whichever thread collects).
``guard_code``
    most samples show the guard's own code running on the loop thread.
``no_cpu``
    no app code on the stack, and the loop thread's CPU clock advanced by less
    than the threshold during the stall: with a core to itself, the loop would
    not have stalled that long.  The thread was not running (the machine or the
    container was short of CPU, the process was throttled by its CPU limit,
    another thread held the GIL) or waited inside the server's or a library's
    code.
``server_code``
    no app code on the stack while the loop thread ran on the CPU for longer
    than the threshold: the server's, the framework's or another library's own
    work (parsing, an HTTP client running in the same loop, many small
    requests at once).
``no_app_frame``
    no app code on the stack, and no CPU clock on this platform to say more.

One case without app code on the stack is still the app's: the framework
working for a single route (the stack passes through the router, one request in
flight) on the CPU for longer than the threshold, such as encoding a huge
response the handler returned.  That is FAA102 at the handler's ``def``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import types
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from runtime_guard.frames import is_user_file

__all__ = [
    "CAUSES",
    "Cause",
    "StackOwner",
    "StallEvidence",
    "StallNote",
    "StallNotes",
    "judge",
    "read_stack",
]

_logger = logging.getLogger("runtime_guard.watchdog")

Cause = Literal["gc_pause", "guard_code", "no_cpu", "server_code", "no_app_frame"]
CAUSES: tuple[Cause, ...] = ("gc_pause", "guard_code", "no_cpu", "server_code", "no_app_frame")
Verdict = Literal["app", "route_framework", "gc_pause", "guard_code", "no_cpu", "server_code", "no_app_frame"]

_EXPLAINED: dict[str, str] = {
    "gc_pause": "a garbage collection paused the process",
    "guard_code": "the runtime guard's own code ran on the loop",
    "no_cpu": "the loop thread got no CPU (the machine or container was short of CPU, or another thread held the GIL)",
    "server_code": "the server's, the framework's or a library's own code ran on the loop",
    "no_app_frame": "no app code was on the loop's stack (no per-thread CPU clock here to say more)",
}

# The guard's packages, by module name: their frames are the guard's own work.
_GUARD_PACKAGES = ("runtime_guard", "flake8_fastapi_antipatterns")
# The router: a frame of these means the loop is working for a route.
_DISPATCH_PACKAGES = ("starlette.routing", "fastapi.routing")
# The frames that run the event loop itself; user frames outward of them started the loop
# (``uvicorn.run(app)`` under ``if __name__ == "__main__":``) and are not running now.
_LOOP_RUNNERS = ("asyncio.runners",)
_LOOP_RUNNER_FUNCTIONS = frozenset({"run_forever", "run_until_complete", "_run_once"})
_LOOP_RUNNER_MODULES = ("asyncio.base_events", "asyncio.windows_events", "asyncio.unix_events")
# Server entry points that start the loop themselves (with uvloop, its run methods have no frame).
_SERVER_ENTRY_POINTS = frozenset({("uvicorn.main", "run"), ("uvicorn.server", "run")})
_MAX_FRAMES = 1000
_RECENT = 50
# At most one log line per cause in this many seconds (the count says how many more).
_LOG_EVERY = 60.0


def _in_package(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _is_stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


@dataclass(frozen=True)
class StackOwner:
    """Whose code a sample without app code shows."""

    guard: bool
    """The innermost frame outside the standard library is the guard's."""
    in_router: bool
    """The stack passes through the router: the loop is working for a route."""
    user_below_loop: bool = False
    """The event loop's own run frames lie between the innermost frame and every user frame: the
    user frames only started the loop (``uvicorn.run(app)`` in the app's ``__main__``)."""


def _runs_the_loop(module: str, function: str) -> bool:
    return (
        _in_package(module, _LOOP_RUNNERS)
        or (function in _LOOP_RUNNER_FUNCTIONS and _in_package(module, _LOOP_RUNNER_MODULES))
        or (module, function) in _SERVER_ENTRY_POINTS
    )


def frames_below_loop(current: types.FrameType | None) -> frozenset[tuple[str, str]]:
    """(file, function) of the user frames that run the loop, read on the loop thread from inside it:
    the program that started it (``uvicorn.run(app)`` in the app's ``__main__``, a test calling
    ``asyncio.run``).  A sample whose innermost user frame is one of these shows no app code."""
    found: set[tuple[str, str]] = set()
    loop_seen = False
    frame = current
    depth = 0
    while frame is not None and depth < _MAX_FRAMES:
        name = frame.f_globals.get("__name__")
        module = name if isinstance(name, str) else ""
        if _runs_the_loop(module, frame.f_code.co_name):
            loop_seen = True
        elif loop_seen and is_user_file(frame.f_code.co_filename):
            found.add((frame.f_code.co_filename, frame.f_code.co_name))
        frame = frame.f_back
        depth += 1
    return frozenset(found)


def read_stack(innermost: types.FrameType | None) -> StackOwner:
    """Read module names only: cheap, and nothing of the app's values is touched."""
    guard = False
    in_router = False
    owner_found = False
    loop_seen = False
    user_below_loop = False
    frame = innermost
    depth = 0
    while frame is not None and depth < _MAX_FRAMES:
        name = frame.f_globals.get("__name__")
        module = name if isinstance(name, str) else ""
        if not owner_found and module and not _is_stdlib(module):
            owner_found = True
            guard = _in_package(module, _GUARD_PACKAGES)
        if _in_package(module, _DISPATCH_PACKAGES):
            in_router = True
        if not loop_seen and _runs_the_loop(module, frame.f_code.co_name):
            loop_seen = True
        elif is_user_file(frame.f_code.co_filename):
            user_below_loop = loop_seen
            break  # the innermost user frame: nothing outward of it changes the answers
        frame = frame.f_back
        depth += 1
    return StackOwner(guard=guard, in_router=in_router, user_below_loop=user_below_loop)


@dataclass
class StallEvidence:
    """What the watchdog knows about one stall when it decides who caused it."""

    seconds: float
    """How late the loop was (the measured stall)."""
    threshold: float
    cpu_seconds: float | None
    """The loop thread's CPU time from its last on-time turn to the end of the stall (None: no clock)."""
    cpu_span_seconds: float
    """How long that span was: the stall, plus up to one check interval before the loop was due."""
    gc_seconds: float
    app_samples: int
    """Samples showing app code (or a sync database call)."""
    other_samples: int
    """Samples (not idle) without app code."""
    guard_samples: int
    """Of ``other_samples``, those showing the guard's own code."""
    route_alone: bool
    """The most frequent sample without app code was inside the router serving a single request."""


def judge(evidence: StallEvidence) -> Verdict:
    """``app``: the app's code; ``route_framework``: the framework working for one route; else a cause."""
    if evidence.gc_seconds > 0 and evidence.seconds - evidence.gc_seconds <= evidence.threshold:
        return "gc_pause"
    if evidence.app_samples:
        return "app"
    if evidence.other_samples and 2 * evidence.guard_samples > evidence.other_samples:
        return "guard_code"
    if evidence.cpu_seconds is None:
        return "no_app_frame"
    # Would the stall have passed the threshold had the loop thread had a core to itself?  Only
    # when it ran for longer than the threshold.  Counted low: a collection is CPU time too but
    # not the code the samples show, and the span read begins up to an interval before the loop
    # was due, when the loop may have been busy with ordinary work.
    before_due = max(evidence.cpu_span_seconds - evidence.seconds, 0.0)
    busy = evidence.cpu_seconds - evidence.gc_seconds - before_due
    if busy < evidence.threshold:
        return "no_cpu"
    if evidence.route_alone:
        return "route_framework"
    return "server_code"


@dataclass
class StallNote:
    """A stall that was not the app's: counted and listed, never reported as FAA101/FAA102."""

    cause: Cause
    stall_seconds: float
    threshold_seconds: float
    cpu_seconds: float | None
    gc_seconds: float
    samples: int
    where: str | None
    """``file:line`` of the place seen most often on the loop thread (library code), if any."""
    function: str | None
    routes_in_flight: list[str] = field(default_factory=list)
    ongoing: bool = False
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("stall_seconds", "cpu_seconds", "gc_seconds"):
            if isinstance(data[key], float):
                data[key] = round(data[key], 3)
        return data

    def describe(self) -> str:
        cpu = f"; {self.cpu_seconds:.3f} s of loop-thread CPU" if self.cpu_seconds is not None else ""
        gc = f"; {self.gc_seconds:.3f} s in garbage collection" if self.gc_seconds else ""
        at = f"; seen at {self.where} ({self.function})" if self.where else ""
        serving = f"; in flight: {', '.join(self.routes_in_flight)}" if self.routes_in_flight else ""
        duration = f"over {self.stall_seconds:.2f} s (still blocked)" if self.ongoing else f"{self.stall_seconds:.2f} s"
        return (
            f"runtime guard: the event loop stalled for {duration}: {_EXPLAINED[self.cause]}"
            f"{cpu}{gc}{at}{serving}; not reported as FAA101/FAA102 [{self.cause}]"
        )


class StallNotes:
    """Stalls with another cause than the app: counts per cause and the recent ones (bounded)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.recent: deque[StallNote] = deque(maxlen=_RECENT)
        self._lock = threading.Lock()
        self._next_log: dict[str, float] = {}
        self._unlogged: Counter[str] = Counter()

    def add(self, note: StallNote) -> None:
        with self._lock:
            self.counts[note.cause] += 1
            self.recent.append(note)
            now = time.monotonic()
            if now < self._next_log.get(note.cause, 0.0):
                self._unlogged[note.cause] += 1
                return
            self._next_log[note.cause] = now + _LOG_EVERY
            more = self._unlogged.pop(note.cause, 0)
        suffix = f" ({more} more like it since the last such line)" if more else ""
        _logger.info("%s%s", note.describe(), suffix)

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready: ``{"counts": {cause: n}, "recent": [note, ...]}``, oldest first."""
        with self._lock:
            return {"counts": dict(self.counts), "recent": [note.to_dict() for note in self.recent]}

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()
            self.recent.clear()
            self._unlogged.clear()
            self._next_log.clear()
