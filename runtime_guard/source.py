"""Source lines for finding locations, never read from disk on the event loop.

Where a handler's ``def`` or an app's ``FastAPI(...)`` line is needs the source
file.  Reading it is blocking I/O, which the guard must not do on the loop it
watches.  Off the loop (the watchdog thread, a worker thread, a sync route's
thread) lines come from ``linecache`` as usual.  On the loop only lines already
in ``linecache``'s memory are used; a file not loaded yet raises
``SourceNotLoaded``, and the caller resolves the location off the loop instead
(``runtime_guard.offloop``).  The guard loads the files of every route it can
see off the loop at start-up, so this is rare.
"""

from __future__ import annotations

import linecache
from asyncio import _get_running_loop

__all__ = ["SourceNotLoaded", "on_event_loop", "source_lines"]


class SourceNotLoaded(Exception):
    """The source is not in memory and this thread runs an event loop: read it elsewhere."""


def on_event_loop() -> bool:
    """Whether the calling thread is running an asyncio event loop (blocking here stalls it)."""
    return _get_running_loop() is not None


def source_lines(filename: str) -> list[str]:
    """The lines of ``filename`` ([] when it has no source); see the module docstring."""
    if not on_event_loop():
        return linecache.getlines(filename)
    entry = linecache.cache.get(filename)
    # A loaded entry is (size, mtime, lines, fullname); a 1-tuple is a lazy loader that would read.
    if entry is not None and len(entry) == 4:
        lines: list[str] = entry[2]
        return lines
    raise SourceNotLoaded(filename)
