"""Fewer young-generation garbage collections while one file is analysed.

The analysis of a file allocates a great many small objects: value paths, scopes, memo entries.
Nearly all of them are freed by reference counting as soon as the file is done, but CPython runs
a young collection every 700 allocations, and whatever is alive at that moment is promoted to an
older generation. Promoted objects are then walked again by every full collection of the rest of
the run. On the largest real app measured, the plugin's runs had full collections take about 16
times as long as plain flake8's (see benchmarks/README.md, the sixth round). Raising the
young-generation threshold while a file is analysed, and restoring it afterwards, leaves fewer of
those short-lived objects to be promoted. Nothing is switched off: collections still run, only
less often. flake8's own checks and other plugins run with the thresholds they had.

What outlives a file's analysis (the project index's parsed modules, kept for the files linted
next, and flake8's own state) is long-lived by then: it is frozen (``gc.freeze``), so that the full
collections flake8's own checks trigger later do not walk it again and again. On the largest real
app those collections took about 4.6 s of a 32 s run, nearly all of it walking the index's modules.
A frozen object is still freed as soon as nothing refers to it (a module the index drops); only
a reference cycle among frozen objects waits for a full collection while they are thawed (every
``THAW_FILES`` files, for one file).
A thaw moves every frozen object back, a host's own included (CPython 3.12 freezes a few hundred
at start-up; a server that forks workers may freeze its heap): the next file freezes them again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 100_000
"""Allocations between young collections while a file is analysed (CPython's default is 700)."""
THAW_FILES = 128
"""Files analysed between two thaws of the frozen objects. They stay thawed for the length of one file:
a full collection that runs then walks them and frees what became cyclic garbage while frozen. In
a flake8 run over the largest real app none ran, and freezing left the peak memory where it was
(264 MB against 256 MB)."""

_settled_files = 0


@contextmanager
def paced_collections() -> Iterator[None]:
    """Raise the young-generation threshold for the block and restore the caller's thresholds."""
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= YOUNG_THRESHOLD:
        # Automatic collection is off (threshold 0), or already paced by the caller: leave it be.
        yield
        return
    gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        _settle()


def _settle() -> None:
    """After a file's analysis: collect its young cyclic garbage, then freeze what is still alive
    (or, every ``THAW_FILES`` files, thaw it all instead)."""
    global _settled_files
    if not gc.isenabled():
        return
    _settled_files += 1
    if _settled_files >= THAW_FILES:
        _settled_files = 0
        gc.unfreeze()
        return
    # The young generations first: their cyclic garbage would otherwise be frozen with the rest.
    gc.collect(1)
    gc.freeze()
