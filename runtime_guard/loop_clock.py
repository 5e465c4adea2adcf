"""The loop thread's CPU clock: did the loop run during a stall, or did it wait for a core?

A stall measured on the wall clock has two very different readings.  When the
loop thread spent the stall on the CPU, something ran on it; when its CPU
clock barely moved, the thread was blocked in a call (a ``time.sleep``, a
socket read) or was not running at all: the machine or the container was
short of CPU, the process was throttled by its CPU limit, or another thread
held the GIL.

The clock is the thread's own POSIX CPU clock.  Its id is taken once, on the
loop thread, when the watchdog starts (``pthread_getcpuclockid`` of that
thread); from then on any thread can read it with ``clock_gettime``, a cheap
system call.  Where the platform has no per-thread CPU clock (macOS, Windows)
the source gives ``None`` and the watchdog goes without.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

__all__ = ["CpuClock", "CpuClockSource", "read_cpu", "thread_cpu_clock"]

CpuClock = Callable[[], float]
"""Seconds of CPU time the loop thread has used so far (any thread may call it)."""
CpuClockSource = Callable[[], "CpuClock | None"]
"""Called on the loop thread at start-up: that thread's CPU clock, or None where there is none."""


def thread_cpu_clock() -> CpuClock | None:
    """The calling thread's CPU clock, readable from other threads; None where unavailable."""
    get_clock_id = getattr(time, "pthread_getcpuclockid", None)
    if get_clock_id is None:
        return None
    try:
        clock_id = get_clock_id(threading.get_ident())
        time.clock_gettime(clock_id)  # refused here rather than at every reading
    except (OSError, OverflowError, ValueError, AttributeError):
        return None
    return functools.partial(time.clock_gettime, clock_id)


def read_cpu(clock: CpuClock | None) -> float | None:
    """One reading, or None: no clock, or the thread it belongs to is gone."""
    if clock is None:
        return None
    try:
        return clock()
    except (OSError, OverflowError, ValueError):
        return None
