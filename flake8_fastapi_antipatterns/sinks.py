"""Where findings go: the same sinks serve the flake8 side and the runtime guard.

Every sink has ``emit(diagnostic)`` and ``close()``.  Sinks may be called from
the runtime guard's watchdog thread, so the ones that hold state lock it.

The runtime guard also calls them on the event loop it watches, where a file
write is the very blocking it reports.  So the sinks that write (text, JSON
lines, SARIF, logging) hand a write made on an event-loop thread to one
background thread (``BackgroundWriter``), which does the writes in the order
they were handed over; ``flush()`` and ``close()`` called off the loop wait for
what is pending.  Called from any other thread (the flake8 side, the watchdog),
they write at once.
Standard library only: no flake8, no astroid.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol, runtime_checkable

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sarif import to_sarif

PathLike = str | os.PathLike[str]


@runtime_checkable
class Sink(Protocol):
    def emit(self, diagnostic: Diagnostic) -> None: ...

    def close(self) -> None: ...


_log = logging.getLogger("flake8_fastapi_antipatterns.sinks")


def on_event_loop() -> bool:
    """Whether the calling thread runs an asyncio event loop (asyncio is not imported for this)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


class BackgroundWriter:
    """One daemon thread that does the writes the sinks hand over from an event loop, in order.

    Bounded: at most ``max_pending`` writes wait; past that a write is dropped and
    counted in ``dropped`` (a warning is logged once), and the caller never waits.
    Handing over is a put on a ``queue.SimpleQueue``, which takes no lock the
    caller could wait on.  Pending writes are done at interpreter exit too.
    """

    def __init__(self, max_pending: int = 10_000) -> None:
        self.max_pending = max_pending
        self.dropped = 0
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failed: set[int] = set()
        self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="faa-sink-writer", daemon=True)
        self._thread.start()

    def after_fork(self) -> None:
        """A forked worker has no writer thread: a fresh queue and thread for it."""
        self._jobs = queue.SimpleQueue()
        self._start()

    def submit(self, job: Callable[[], None], owner: object = None) -> bool:
        """Queue ``job``; False (and counted) when ``max_pending`` writes already wait."""
        if self._jobs.qsize() >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1:
                _log.warning("sink writes are falling behind: %d pending, later ones dropped", self.max_pending)
            return False
        self._jobs.put(functools.partial(self._guarded, job, id(owner)))
        return True

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every write queued so far is done; never call it on an event loop (it waits)."""
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            return False
        done = threading.Event()
        self._jobs.put(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        jobs = self._jobs
        while True:
            jobs.get()()

    def _guarded(self, job: Callable[[], None], owner: int) -> None:
        try:
            job()
        except Exception:
            if owner not in self._failed:  # once per sink: a full disk fails every write after
                self._failed.add(owner)
                _log.warning("a sink's background write failed; later failures of it are not logged", exc_info=True)


_writer: BackgroundWriter | None = None
_writer_lock = threading.Lock()


def background_writer() -> BackgroundWriter:
    """The process's writer, started by the first sink that needs it (when the sink is made)."""
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = BackgroundWriter()
            atexit.register(_drain_at_exit, weakref.ref(_writer))
            if hasattr(os, "register_at_fork"):  # POSIX only
                os.register_at_fork(after_in_child=_restart_in_child)
        return _writer


def _drain_at_exit(writer: weakref.ref[BackgroundWriter]) -> None:
    """At interpreter exit (daemon threads still run then): write what is pending, briefly."""
    alive = writer()
    if alive is not None:
        alive.drain(2.0)


def _restart_in_child() -> None:
    if _writer is not None:
        _writer.after_fork()


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
        self._writer = background_writer()

    def emit(self, diagnostic: Diagnostic) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        line = diagnostic.format_text() + "\n"
        if on_event_loop():
            self._writer.submit(functools.partial(self._write, stream, line), owner=self)
        else:
            self._write(stream, line)

    def _write(self, stream: IO[str], line: str) -> None:
        with self._lock:
            stream.write(line)
            stream.flush()

    def flush(self) -> None:
        """Wait for the lines handed to the background writer (off the event loop)."""
        if not on_event_loop():
            self._writer.drain()

    def close(self) -> None:
        self.flush()


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
        # Opened here, when the sink is made (start-up), never on the first finding.
        if isinstance(target, (str, os.PathLike)):
            self._fd = os.open(os.fspath(target), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        else:
            self._stream = target
        self._writer = background_writer()

    def emit(self, diagnostic: Diagnostic) -> None:
        line = json.dumps(_record(diagnostic), default=repr, sort_keys=True) + "\n"
        if on_event_loop():
            self._writer.submit(functools.partial(self._write, line), owner=self)
        else:
            self._write(line)

    def _write(self, line: str) -> None:
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, line.encode("utf-8"))
            elif self._stream is not None:
                self._stream.write(line)
                self._stream.flush()

    def flush(self) -> None:
        """Wait for the lines handed to the background writer (off the event loop)."""
        if not on_event_loop():
            self._writer.drain()

    def close(self) -> None:
        """Close the file once the pending lines are written (on an event loop: after them, in the background)."""
        if on_event_loop():
            self._writer.submit(self._close_now, owner=self)
            return
        self._writer.drain()
        self._close_now()

    def _close_now(self) -> None:
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
        self._writer = background_writer()

    def emit(self, diagnostic: Diagnostic) -> None:
        with self._lock:
            self._items.append(diagnostic)

    def render(self) -> dict[str, Any]:
        with self._lock:
            return to_sarif(self._items)

    def flush(self) -> None:
        """Write the log of everything so far (again): the runtime guard calls this at each shutdown."""
        if on_event_loop():
            self._writer.submit(self.flush, owner=self)
            return
        with self._lock:
            text = json.dumps(to_sarif(self._items), indent=2, default=repr)
        self._write(text)

    def close(self) -> None:
        if on_event_loop():
            self._writer.submit(self.close, owner=self)
            return
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
        self._writer = background_writer()

    def emit(self, diagnostic: Diagnostic) -> None:
        # The logger's handlers may write to a file or a socket: not on an event loop.
        if on_event_loop():
            self._writer.submit(functools.partial(self._log, diagnostic), owner=self)
        else:
            self._log(diagnostic)

    def flush(self) -> None:
        """Wait for the records handed to the background writer (off the event loop)."""
        if not on_event_loop():
            self._writer.drain()

    def _log(self, diagnostic: Diagnostic) -> None:
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
        self.flush()


def emit_all(sink: Sink, diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        sink.emit(diagnostic)


__all__ = [
    "BackgroundWriter",
    "JsonLinesSink",
    "LoggingSink",
    "MemorySink",
    "SarifSink",
    "Sink",
    "TextSink",
    "background_writer",
    "emit_all",
    "on_event_loop",
    "read_json_lines",
]
