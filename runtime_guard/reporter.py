"""Fan-out of runtime findings to the sinks: de-duplicated, bounded, and fail-open."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sinks import Sink

log = logging.getLogger("runtime_guard")


class Reporter:
    """Sends each distinct finding to every sink once, and counts its repeats.

    A finding is "the same" when code, file and line match
    (``Diagnostic.location_key``): a blocking call hit by every request is one
    finding with a count, not one per request.  Called from the event loop and
    from the watchdog thread, hence the lock (held only for a dict update,
    never while a sink runs).
    """

    def __init__(self, sinks: Sequence[Sink], *, max_distinct: int = 10_000) -> None:
        self.sinks: list[Sink] = list(sinks)
        self.max_distinct = max_distinct
        self.dropped = 0
        """Distinct findings not kept because ``max_distinct`` was reached."""
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, int], tuple[Diagnostic, int]] = {}
        self._failed_sinks: set[int] = set()

    def report(self, diagnostic: Diagnostic) -> None:
        try:
            key = diagnostic.location_key()
            with self._lock:
                known = self._seen.get(key)
                if known is not None:
                    self._seen[key] = (known[0], known[1] + 1)
                    return
                if len(self._seen) >= self.max_distinct:
                    self.dropped += 1
                    return
                self._seen[key] = (diagnostic, 1)
            for sink in self.sinks:
                self._emit(sink, diagnostic)
        except Exception:  # fail-open: reporting must never break the request that found it
            log.warning("runtime_guard: could not record a finding", exc_info=True)

    def _emit(self, sink: Sink, diagnostic: Diagnostic) -> None:
        try:
            sink.emit(diagnostic)
        except Exception:
            if id(sink) not in self._failed_sinks:
                self._failed_sinks.add(id(sink))
                log.warning("runtime_guard: sink %r failed; later failures of it are not logged", sink, exc_info=True)

    def findings(self) -> list[Diagnostic]:
        """Every distinct finding so far, with ``details["count"]`` = how often it was seen."""
        with self._lock:
            items = list(self._seen.values())
        return [dataclasses.replace(d, details={**d.details, "count": count}) for d, count in items]

    def reset(self) -> None:
        """Forget the findings seen so far: the next occurrence of each is sent to the sinks again.

        The pytest plugin resets between tests, so a finding counts for every
        test that triggers it rather than only for the first one.
        """
        with self._lock:
            self._seen.clear()
            self.dropped = 0

    def flush(self) -> None:
        """Ask sinks that write on demand (SARIF) to write what they hold; the others have nothing to do."""
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if not callable(flush):
                continue
            try:
                flush()
            except Exception:
                log.warning("runtime_guard: flushing sink %r failed", sink, exc_info=True)

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.warning("runtime_guard: closing sink %r failed", sink, exc_info=True)
