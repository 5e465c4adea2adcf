"""Garbage-collection pauses, timed through ``gc.callbacks``.

A collection holds the GIL from start to end, whichever thread runs it, so the
event loop cannot turn meanwhile: a long collection is a loop stall that no
line of the app caused.  The watchdog subtracts these pauses from a stall
before blaming anyone.

The callback runs at the start and the end of every collection, so it does
the least it can: two clock readings, and an append for a pause long enough
to matter.  Only the recent pauses are kept (a bounded ring).  Collections are
process-wide, so one recorder (``PAUSES``) serves every watchdog: it is in
``gc.callbacks`` while at least one of them runs.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from typing import Any

__all__ = ["PAUSES", "GcPauses"]

_RING_SIZE = 1024
_COPY_ATTEMPTS = 5


class GcPauses:
    """Records collections of at least ``min_pause`` seconds while it has users."""

    def __init__(self, min_pause: float = 0.001) -> None:
        self.min_pause = min_pause
        self._pauses: deque[tuple[float, float]] = deque(maxlen=_RING_SIZE)
        self._started = 0.0
        self._users = 0
        self._lock = threading.Lock()  # acquire/release only (watchdog start and end)

    def acquire(self) -> None:
        """One more user: the callback is installed with the first."""
        with self._lock:
            self._users += 1
            if self._users == 1 and self._on_gc not in gc.callbacks:
                gc.callbacks.append(self._on_gc)

    def release(self) -> None:
        """One user fewer: the callback is removed with the last."""
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users == 0:
                try:
                    gc.callbacks.remove(self._on_gc)
                except ValueError:  # someone cleared gc.callbacks: nothing left to remove
                    pass

    @property
    def installed(self) -> bool:
        return self._on_gc in gc.callbacks

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # Collections never overlap (the collector holds the GIL and refuses to re-enter),
        # so one start time is enough.
        now = time.monotonic()
        if phase == "start":
            self._started = now
        elif now - self._started >= self.min_pause:
            self._pauses.append((self._started, now))

    def seconds_between(self, start: float, end: float) -> float:
        """Seconds of collection within [start, end] (``time.monotonic()`` values)."""
        pauses: list[tuple[float, float]] = []
        for _ in range(_COPY_ATTEMPTS):
            try:
                pauses = list(self._pauses)
                break
            except RuntimeError:  # appended to mid-copy by a collection on another thread
                continue
        total = 0.0
        for pause_start, pause_end in pauses:
            overlap = min(end, pause_end) - max(start, pause_start)
            if overlap > 0:
                total += overlap
        return total


PAUSES = GcPauses()
"""The process's recorder, shared by every watchdog."""
