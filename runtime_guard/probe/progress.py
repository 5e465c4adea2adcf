"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import shutil
import time
from typing import TextIO

_REDRAW_EVERY = 0.05


class Progress:
    def __init__(self, stream: TextIO | None, *, budget: float) -> None:
        self.stream = stream if stream is not None and _is_tty(stream) else None
        self.budget = budget
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    @property
    def enabled(self) -> bool:
        return self.stream is not None

    def expect(self, requests: int) -> None:
        self.total += max(requests, 0)

    def advance(self, label: str) -> None:
        self.done += 1
        if self.stream is None:
            return
        now = time.monotonic()
        if now - self._drawn < _REDRAW_EVERY and self.done < self.total:
            return
        self._drawn = now
        columns = shutil.get_terminal_size((80, 20)).columns
        total = max(self.total, self.done)
        filled = int(20 * self.done / total) if total else 0
        line = f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{total} requests  {now - self.started:4.1f}/{self.budget:g} s  {label}"
        line = line[: max(columns - 1, 10)]
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.stream is not None and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
