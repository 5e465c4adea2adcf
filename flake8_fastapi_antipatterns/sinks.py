"""Where findings go: the same sinks serve the flake8 side and the runtime guard.

Every sink has ``emit(diagnostic)`` and ``close()``.  Sinks may be called from
the runtime guard's watchdog thread, so the ones that hold state lock it.
Standard library only: no flake8, no astroid.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol, runtime_checkable

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sarif import to_sarif

PathLike = str | os.PathLike[str]


@runtime_checkable
class Sink(Protocol):
    def emit(self, diagnostic: Diagnostic) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps findings in a list (tests, the report route, the pytest plugin)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Diagnostic] = []

    def emit(self, diagnostic: Diagnostic) -> None:
        with self._lock:
            self._items.append(diagnostic)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """A snapshot copy: safe to iterate while the guard keeps reporting."""
        with self._lock:
            return list(self._items)

    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def close(self) -> None:
        pass


class TextSink:
    """``path:line:col: CODE message`` lines, as flake8 prints them."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        # Resolved at emit time when None, so pytest's capture and redirected stderr work.
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, diagnostic: Diagnostic) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        with self._lock:
            stream.write(diagnostic.format_text() + "\n")
            stream.flush()

    def close(self) -> None:
        pass


def _record(diagnostic: Diagnostic) -> dict[str, Any]:
    record = diagnostic.to_dict()
    record["pid"] = os.getpid()
    record["host"] = socket.gethostname()
    record["time"] = time.time()
    return record


class JsonLinesSink:
    """One JSON object per line, safe for several worker processes appending to one file.

    With a path, each finding is a single ``os.write`` on a descriptor opened
    with ``O_APPEND``: POSIX appends each write whole, so lines from different
    workers never interleave mid-line.  Each line carries the writer's pid and host.
    """

    def __init__(self, target: PathLike | IO[str]) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._stream: IO[str] | None = None
        if isinstance(target, (str, os.PathLike)):
            self._fd = os.open(os.fspath(target), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        else:
            self._stream = target

    def emit(self, diagnostic: Diagnostic) -> None:
        line = json.dumps(_record(diagnostic), default=repr, sort_keys=True) + "\n"
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, line.encode("utf-8"))
            elif self._stream is not None:
                self._stream.write(line)
                self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def read_json_lines(source: PathLike | IO[str]) -> Iterator[Diagnostic]:
    """Findings back from a JSON-lines file; blank lines are skipped, bad lines raise ValueError."""
    opened = isinstance(source, (str, os.PathLike))
    stream: IO[str] = open(source, encoding="utf-8") if opened else source  # type: ignore[arg-type,assignment]
    with stream if opened else contextlib.nullcontext(stream):
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
            if not isinstance(data, dict):
                raise ValueError(f"line {number}: expected a JSON object")
            try:
                yield Diagnostic.from_dict(data)
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None


class SarifSink:
    """Collects findings and writes one SARIF 2.1.0 log on ``close()``."""

    def __init__(self, target: PathLike | IO[str]) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._items: list[Diagnostic] = []
        self._closed = False

    def emit(self, diagnostic: Diagnostic) -> None:
        with self._lock:
            self._items.append(diagnostic)

    def render(self) -> dict[str, Any]:
        with self._lock:
            return to_sarif(self._items)

    def flush(self) -> None:
        """Write the log of everything so far (again): the runtime guard calls this at each shutdown."""
        with self._lock:
            text = json.dumps(to_sarif(self._items), indent=2, default=repr)
        self._write(text)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            text = json.dumps(to_sarif(self._items), indent=2, default=repr)
        self._write(text)

    def _write(self, text: str) -> None:
        if isinstance(self._target, (str, os.PathLike)):
            with open(self._target, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self._target.write(text + "\n")
            self._target.flush()


class LoggingSink:
    """Sends each finding to a stdlib logger, with the record's fields in ``extra``."""

    def __init__(self, logger: str | logging.Logger = "flake8_fastapi_antipatterns", level: int = logging.WARNING) -> None:
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._level = level

    def emit(self, diagnostic: Diagnostic) -> None:
        self._logger.log(
            self._level,
            "%s %s (%s:%d)",
            diagnostic.code,
            diagnostic.message,
            diagnostic.filename,
            diagnostic.line,
            extra={"faa": diagnostic.to_dict()},
        )

    def close(self) -> None:
        pass


def emit_all(sink: Sink, diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        sink.emit(diagnostic)


__all__ = [
    "JsonLinesSink",
    "LoggingSink",
    "MemorySink",
    "SarifSink",
    "Sink",
    "TextSink",
    "emit_all",
    "read_json_lines",
]
