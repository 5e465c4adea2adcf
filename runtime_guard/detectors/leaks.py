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


class LeakScanner:
    """Feeds on body chunks; ``found`` says what leaked (None while nothing has)."""

    def __init__(self, limit: int, exception_texts: Iterable[str]) -> None:
        self.limit = limit
        self._window = bytearray()
        self._texts = [t.encode("utf-8", "replace") for t in exception_texts if len(t) >= MIN_TEXT]
        self.found: str | None = None

    @property
    def exhausted(self) -> bool:
        return len(self._window) >= self.limit

    def feed(self, chunk: bytes, exception_texts: Iterable[str] = ()) -> str | None:
        """Scan ``chunk`` (its part inside the window); returns what it found in this chunk."""
        if self.found is not None or self.exhausted or not chunk:
            return None
        overlap = max((len(m) for m in TRACEBACK_MARKERS), default=0)
        start = max(len(self._window) - overlap, 0)
        self._window.extend(chunk[: self.limit - len(self._window)])
        for text in exception_texts:
            encoded = text.encode("utf-8", "replace")
            if len(text) >= MIN_TEXT and encoded not in self._texts:
                self._texts.append(encoded)
        region = bytes(self._window[start:])
        for marker in TRACEBACK_MARKERS:
            if marker in region:
                self.found = "a Python traceback" if b"Traceback" in marker else "the framework's debug error page"
                return self.found
        for encoded_text in self._texts:
            if encoded_text in self._window:
                self.found = "the text of an exception raised while handling the request"
                return self.found
        return None


def redacted(chunk: bytes) -> bytes:
    """A same-length replacement, so a declared Content-Length stays true."""
    marker = b"[redacted by runtime_guard]"
    if len(chunk) <= len(marker):
        return b"*" * len(chunk)
    return marker + b" " * (len(chunk) - len(marker))
