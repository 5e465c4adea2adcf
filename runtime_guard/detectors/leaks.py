"""FAA303 at runtime: response bodies that carry a traceback, the debug page, or an exception's text.

Only a bounded window of each body is scanned (``leak_scan_bytes``), across
chunk boundaries, so a streamed response is never held in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

TRACEBACK_MARKERS: tuple[bytes, ...] = (
    b"Traceback (most recent call last)",
    b"<title>Starlette Debugger</title>",
    b'class="traceback-container"',
)
# An exception's text shorter than this is too likely to appear in a normal body.
MIN_TEXT = 8
# Bytes of the window scanned again with each chunk, so a marker split across two chunks is found.
_OVERLAP = max(len(marker) for marker in TRACEBACK_MARKERS) - 1
SHORTEST_MARKER = min(len(marker) for marker in TRACEBACK_MARKERS)
TRACEBACK = "a Python traceback"
DEBUG_PAGE = "the framework's debug error page"
EXCEPTION_TEXT = "the text of an exception raised while handling the request"


def _marker_found(marker: bytes) -> str:
    return TRACEBACK if b"Traceback" in marker else DEBUG_PAGE


def scan_body(body: bytes, exception_texts: Iterable[str], limit: int) -> str | None:
    """What leaked in a body sent whole, as one message (the common case): nothing to keep for later chunks."""
    if not isinstance(body, bytes):  # a bytearray or memoryview from an unusual app
        body = bytes(body[:limit])
    region = body[:limit] if len(body) > limit else body
    # find() rather than ``in``: for bytes, ``in`` first tries the operand as an int and
    # pays for the failure, three times slower on the short bodies most responses have.
    # A body shorter than every marker (``{"ok": true}``) cannot hold one.
    if len(region) >= SHORTEST_MARKER:
        for marker in TRACEBACK_MARKERS:
            if region.find(marker) >= 0:
                return _marker_found(marker)
    for text in exception_texts:
        if len(text) >= MIN_TEXT and region.find(text.encode("utf-8", "replace")) >= 0:
            return EXCEPTION_TEXT
    return None


class LeakScanner:
    """Feeds on the chunks of a streamed body; ``found`` says what leaked (None while nothing has).

    Texts are encoded once, however many chunks follow; each chunk costs a
    copy into the bounded window and a search of its new part.
    """

    def __init__(self, limit: int, exception_texts: Iterable[str]) -> None:
        self.limit = limit
        self._window = bytearray()
        self._known: set[str] = set()
        self._texts: list[bytes] = []
        self._learn(exception_texts)
        self.found: str | None = None

    @property
    def exhausted(self) -> bool:
        return len(self._window) >= self.limit

    def _learn(self, exception_texts: Iterable[str]) -> None:
        for text in exception_texts:
            if text not in self._known:
                self._known.add(text)
                if len(text) >= MIN_TEXT:
                    self._texts.append(text.encode("utf-8", "replace"))

    def feed(self, chunk: bytes, exception_texts: Iterable[str] = ()) -> str | None:
        """Scan ``chunk`` (its part inside the window); returns what it found in this chunk."""
        window = self._window
        room = self.limit - len(window)
        if self.found is not None or room <= 0 or not chunk:
            return None
        start = max(len(window) - _OVERLAP, 0)
        window += chunk[:room] if len(chunk) > room else chunk
        if exception_texts:
            self._learn(exception_texts)
        for marker in TRACEBACK_MARKERS:
            if window.find(marker, start) >= 0:
                self.found = _marker_found(marker)
                return self.found
        for encoded_text in self._texts:
            if window.find(encoded_text) >= 0:
                self.found = EXCEPTION_TEXT
                return self.found
        return None


def redacted(chunk: bytes) -> bytes:
    """A same-length replacement, so a declared Content-Length stays true."""
    marker = b"[redacted by runtime_guard]"
    if len(chunk) <= len(marker):
        return b"*" * len(chunk)
    return marker + b" " * (len(chunk) - len(marker))
