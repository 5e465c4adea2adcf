"""The threads the loop watchdogs run on: one started per watch, kept for the next.

A watch (``LoopWatchdog``'s run over one event loop) ends whenever its loop does: a
test client that makes a loop per request, a test's end.  Starting a thread for each
next watch cost a thread start and join every time; here a thread that finished its
watch waits ``LINGER_SECONDS`` for another (of any watchdog in the process) before it
ends.  A deployed app watches one loop for its whole life, so it keeps one thread;
a test session that makes hundreds of loops keeps one or two.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

__all__ = ["IDLE_THREAD_NAME", "LINGER_SECONDS", "THREAD_NAME", "WatchHandle", "run_watch"]

log = logging.getLogger("runtime_guard")

THREAD_NAME = "runtime-guard-watchdog"
IDLE_THREAD_NAME = f"{THREAD_NAME} (idle)"
"""A thread's name while it waits for a watch: a thread dump shows which threads are watching."""
LINGER_SECONDS = 10.0
"""How long a thread with no watch waits for the next one before it ends."""

_lock = threading.Lock()
_idle: list[_Worker] = []


class WatchHandle:
    """One watch handed to a thread: the thread, and when the watch has returned."""

    __slots__ = ("done", "thread")

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.done = threading.Event()


class _Worker:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._job: tuple[Callable[[], None], WatchHandle] | None = None
        self.thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)

    def hand(self, job: Callable[[], None]) -> WatchHandle:
        """Give this worker its next watch (with ``_lock`` held: it is idle or new)."""
        handle = WatchHandle(self.thread)
        self.thread.name = THREAD_NAME
        self._job = (job, handle)
        self._wake.set()
        return handle

    def _serve(self) -> None:
        while True:
            self._wake.wait(LINGER_SECONDS)
            with _lock:
                taken, self._job = self._job, None
                self._wake.clear()
                if taken is None:  # nothing handed over while it waited: end
                    if self in _idle:
                        _idle.remove(self)
                    return
            job, handle = taken
            try:
                job()
            except Exception:  # the watch catches its own faults; this is the last resort
                log.warning("runtime_guard: a loop watch failed; the app is unaffected", exc_info=True)
            with _lock:
                self.thread.name = IDLE_THREAD_NAME
                _idle.append(self)
            # Set after the worker is idle again, so the next watch (started by whoever waited for
            # this one to end) finds it there.
            handle.done.set()


def run_watch(job: Callable[[], None]) -> WatchHandle:
    """Run ``job`` on an idle watch thread, or on a new one when none is idle."""
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.thread.is_alive():
                return worker.hand(job)
        worker = _Worker()
        handle = worker.hand(job)
    worker.thread.start()
    return handle


def _forget_idle_after_fork() -> None:
    # A forked child (a pre-forking server's worker) has none of its parent's threads.
    global _lock
    _lock = threading.Lock()
    _idle.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_idle_after_fork)
