"""FAA402 at runtime: writes to stdout while a request is being handled, attributed to the line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

from runtime_guard.frames import FrameInfo, innermost_user_frame
from runtime_guard.request_state import RequestState
from runtime_guard.request_state import current as current_state

log = logging.getLogger("runtime_guard")


class StdoutWatch:
    """A thin proxy for ``sys.stdout``: reports, then writes through unchanged."""

    def __init__(self, wrapped: TextIO, on_write: Callable[[RequestState, FrameInfo], None]) -> None:
        self._wrapped = wrapped
        self._on_write = on_write
        self._fault_logged = False

    def write(self, text: str) -> int:
        state = current_state()
        if state is not None and text.strip():
            try:
                frame = innermost_user_frame(sys._getframe(1))
                if frame is not None:
                    self._on_write(state, frame)
            except Exception:  # fail-open: the write itself must happen regardless
                if not self._fault_logged:
                    self._fault_logged = True
                    log.warning("runtime_guard: fault in the stdout watch (reported once; the app is unaffected)", exc_info=True)
        return self._wrapped.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


def install(on_write: Callable[[RequestState, FrameInfo], None]) -> StdoutWatch:
    if isinstance(sys.stdout, StdoutWatch):
        return sys.stdout
    watch = StdoutWatch(sys.stdout, on_write)
    sys.stdout = watch
    return watch


def uninstall(watch: StdoutWatch) -> None:
    if sys.stdout is watch:
        sys.stdout = watch._wrapped
