"""Work the guard does away from the event loop it watches: file reads, thread joins, shutdown.

``run_off_loop`` is awaited where the guard may wait (start-up, the first
request, shutdown): the loop goes on serving while a worker thread does the
work.  ``later`` hands over work nobody waits for (a finding whose location
needs a source file not yet in memory).  Both run the work in place when the
calling thread runs no asyncio loop (a trio server, a plain thread), where
there is no loop to keep free.
"""

from __future__ import annotations

import logging
from asyncio import _get_running_loop
from collections.abc import Callable
from typing import TypeVar

__all__ = ["later", "run_off_loop"]

T = TypeVar("T")

log = logging.getLogger("runtime_guard")


async def run_off_loop(work: Callable[[], T]) -> T:
    """``work()`` in the loop's default thread pool, awaited; in place without an asyncio loop."""
    loop = _get_running_loop()
    if loop is None:
        return work()
    try:
        future = loop.run_in_executor(None, work)
    except RuntimeError:  # the loop's executor was shut down already (the loop is closing)
        return work()
    return await future


def later(work: Callable[[], None]) -> None:
    """``work()`` in the loop's default thread pool, not awaited; a fault in it is logged and dropped."""

    def guarded() -> None:
        try:
            work()
        except Exception:  # fail-open: the request that found it has long gone on
            log.warning("runtime_guard: a finding could not be located off the loop", exc_info=True)

    loop = _get_running_loop()
    if loop is None:
        guarded()
        return
    try:
        loop.run_in_executor(None, guarded)
    except RuntimeError:  # the loop's executor was shut down already
        guarded()
