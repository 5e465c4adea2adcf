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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 100_000
"""Allocations between young collections while a file is analysed (CPython's default is 700)."""


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
