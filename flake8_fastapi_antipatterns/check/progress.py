"""A ``checked N/M files`` counter on a terminal, for runs long enough to wonder about."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

# Shown only once a run has lasted this long (a quick run prints nothing), then redrawn at most
# this often.
SHOW_AFTER_SECONDS = 2.0
REDRAW_SECONDS = 0.1


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: bool, now: Callable[[], float] = time.monotonic) -> None:
        self._total = total
        self._stream = stream
        self._enabled = enabled
        self._now = now
        self._started = self._now()
        self._drawn_at: float | None = None
        self._done = 0
        self._width = 0

    @staticmethod
    def wanted(stream: TextIO, disabled: bool) -> bool:
        """On when not turned off and ``stream`` is a terminal."""
        if disabled:
            return False
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    def advance(self) -> None:
        self._done += 1
        if not self._enabled:
            return
        now = self._now()
        if now - self._started < SHOW_AFTER_SECONDS:
            return
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_SECONDS and self._done < self._total:
            return
        self._drawn_at = now
        text = f"faa: checked {self._done}/{self._total} files"
        self._width = max(self._width, len(text))
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()

    def close(self) -> None:
        """Erase the counter, so that what follows starts on a clean line."""
        if self._drawn_at is not None:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
