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
import threading
from asyncio import _get_running_loop
from collections.abc import Callable
from typing import TypeVar

__all__ = ["drain", "later", "run_off_loop"]

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


# Work handed to ``later`` and not finished yet: shutdown waits for it, so a finding located off
# the loop still reaches the sinks before they are flushed (and before a test reads them).
_pending = 0
_settled = threading.Condition()


def drain(timeout: float = 2.0) -> bool:
    """Wait (off the loop) until the work ``later`` handed over is done; False when time ran out."""
    with _settled:
        return _settled.wait_for(lambda: _pending == 0, timeout=timeout)


def later(work: Callable[[], None]) -> None:
    """``work()`` in the loop's default thread pool, not awaited; a fault in it is logged and dropped."""
    global _pending

    def guarded() -> None:
        global _pending
        try:
            work()
        except Exception:  # fail-open: the request that found it has long gone on
            log.warning("runtime_guard: a finding could not be located off the loop", exc_info=True)
        finally:
            with _settled:
                _pending -= 1
                _settled.notify_all()

    with _settled:
        _pending += 1

    loop = _get_running_loop()
    if loop is None:
        guarded()
        return
    try:
        loop.run_in_executor(None, guarded)
    except RuntimeError:  # the loop's executor was shut down already
        guarded()
