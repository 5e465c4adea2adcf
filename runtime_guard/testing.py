"""The runtime guard inside a test run: guarded apps, per-test findings, client patching.

The pytest plugin (``runtime_guard.pytest_plugin``) is imported by every
pytest session where this package is installed, so it keeps to hooks and
imports this module only once a test actually uses the guard.

One ``Collector`` per pytest session receives the findings of every guard it
made and files them under the test running at that moment: a guard outlives
its test when a module-level or session-scoped ``TestClient`` holds it, and
its findings still belong to the test that made the request.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sinks import Sink
from runtime_guard.detectors import exceptions as exception_texts
from runtime_guard.middleware import RuntimeGuard

__all__ = ["ClientPatch", "Collector", "RuntimeGuardFixture", "TestGuard", "TestRecord", "guard_of", "is_app_level"]

# How far to follow ``.app`` when looking for a guard the user mounted already.
_MAX_WRAP_DEPTH = 32


class TestGuard(RuntimeGuard):
    """A ``RuntimeGuard`` that reads through to the app it wraps.

    Tests often reach the app through the client (``client.app.dependency_overrides``,
    ``client.app.state``).  For Starlette's ``TestClient`` the plugin hands ``client.app``
    back (``client.app is app``); where the guard must stay in front (``httpx.ASGITransport``'s
    ``app``), reads and writes of the app's attributes go through to the app.
    """

    __test__ = False  # not a test class, whatever pytest's collection patterns say

    def __getattr__(self, name: str) -> Any:
        # Only called for names the guard itself lacks; never for dunders (protocol
        # look-ups such as __await__ must see the guard as it is).
        if name.startswith("__") or "app" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["app"], name)

    def __init__(self, *args: Any, collector: Collector | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collector = collector
        self.__dict__["_built"] = True

    def _start(self) -> None:
        super()._start()
        if self._collector is not None:
            self._collector.started(self)

    def __setattr__(self, name: str, value: Any) -> None:
        # ``client.app.dependency_overrides = {...}`` must reach the app: a public name the guard
        # does not have is the app's.  The guard's own state is private (``_loop``) or set in
        # ``__init__``, so it stays on the guard.
        if (
            self.__dict__.get("_built", False)
            and not name.startswith("_")
            and name not in self.__dict__
            and not hasattr(type(self), name)
        ):
            setattr(self.__dict__["app"], name, value)
            return
        object.__setattr__(self, name, value)


def is_app_level(diagnostic: Diagnostic) -> bool:
    """Findings about the app's make-up rather than what a request did.

    A missing health route (FAA401), ``debug=True`` (FAA303 with no route) or a
    CORS configuration open to every origin (FAA301 read from the set-up) is true of every test that starts the app; such findings are listed once
    in the session summary instead of failing every test.
    """
    if diagnostic.code == "FAA401":
        return True
    if diagnostic.code == "FAA301":
        return bool(diagnostic.details.get("configured"))  # the CORS set-up, read at start-up
    return diagnostic.code == "FAA303" and "route" not in diagnostic.details


@dataclass
class TestRecord:
    """The findings filed under one test."""

    __test__ = False

    nodeid: str
    findings: list[Diagnostic] = field(default_factory=list)
    allowed: set[str] = field(default_factory=set)
    allow_all: bool = False
    checked: int = 0
    """How many of ``findings`` were already judged (the call phase judges, teardown judges the rest)."""

    def allows(self, code: str) -> bool:
        return self.allow_all or code in self.allowed


class _GuardSink:
    """What one guard reports to: the collector, told which guard it was."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.guard: RuntimeGuard | None = None

    def emit(self, diagnostic: Diagnostic) -> None:
        self.collector.emit(diagnostic, self.guard)

    def close(self) -> None:
        pass


class Collector:
    """The sink of every guard the plugin makes; files findings under the test running now.

    What a test costs does not grow with the session: the per-test work (``flush``,
    ``begin``, ``counts``) touches only the guards started or reporting since it last
    ran, never every guard made so far (a suite whose modules each hold a client holds
    hundreds), and the modules the exception-text watch scanned stay scanned for the
    session (``hold_exception_texts``).
    """

    def __init__(self, *, block_threshold: float | None = None, ignore: Iterable[str] = ()) -> None:
        self.block_threshold = block_threshold
        self.ignore = frozenset(ignore)
        self.current: TestRecord | None = None
        self.outside: list[Diagnostic] = []
        """Findings reported while no test ran (a module-level client used at import time)."""
        self.app_level: dict[tuple[str, str, int], Diagnostic] = {}
        self._lock = threading.Lock()
        self._all: weakref.WeakSet[RuntimeGuard] = weakref.WeakSet()
        # Guards made during the current test are held until it ends, so a client
        # dropped mid-test cannot take its guard (and unflushed findings) with it.
        self._held: list[RuntimeGuard] = []
        # Guards started since the last flush (the ones a flush stops), and guards that reported
        # since the current test began (the ones whose repeats are counted and then forgotten).
        self._started: dict[int, RuntimeGuard] = {}
        self._reported: dict[int, RuntimeGuard] = {}
        self._holds_exception_texts = False

    # -- the sink protocol (called from the loop and from watchdog threads) --
    def emit(self, diagnostic: Diagnostic, guard: RuntimeGuard | None = None) -> None:
        with self._lock:
            if guard is not None:
                self._reported[id(guard)] = guard  # its reporter now remembers this finding
            if diagnostic.code in self.ignore:
                return
            if is_app_level(diagnostic):
                self.app_level.setdefault(diagnostic.location_key(), diagnostic)
            if self.current is not None:
                self.current.findings.append(diagnostic)
            elif not is_app_level(diagnostic):
                self.outside.append(diagnostic)

    def close(self) -> None:
        pass

    # -- guards ---------------------------------------------------------------
    def guard(self, app: Any, **options: Any) -> TestGuard:
        """``app`` wrapped in a guard whose findings come here (``options`` go to ``RuntimeGuard``)."""
        sinks: list[Sink] = list(options.pop("sinks", ()))
        if options.get("sink") is not None:
            sinks.insert(0, options.pop("sink"))
        options.pop("sink", None)
        # Tests are deterministic: RUNTIME_GUARD_* variables configure deployed apps, not test runs.
        options.setdefault("environ", {})
        if self.block_threshold is not None and "config" not in options:
            options.setdefault("block_threshold", self.block_threshold)
        sink = _GuardSink(self)
        guard = TestGuard(app, sink=sink, sinks=sinks, collector=self, **options)
        sink.guard = guard
        with self._lock:
            self._all.add(guard)
            self._held.append(guard)
        return guard

    def wrap_client_app(self, app: Any) -> Any:
        """What a patched ``TestClient``/``ASGITransport`` serves: ``app`` guarded, unless it cannot or already is."""
        if not _is_asgi3(app) or already_guarded(app):
            return app
        return self.guard(app)

    def guards(self) -> list[RuntimeGuard]:
        with self._lock:
            return list({id(g): g for g in [*self._all, *self._held]}.values())

    def started(self, guard: RuntimeGuard) -> None:
        """(called by a guard) ``guard`` started watching: the next flush stops it."""
        self.hold_exception_texts(guard)
        with self._lock:
            self._started[id(guard)] = guard

    def hold_exception_texts(self, guard: RuntimeGuard) -> None:
        """Keep the exception-text watch installed for the session once a guard has used it.

        Each guard installs it when it starts and uninstalls it when it stops; with no guard
        left, uninstalling forgets which modules were scanned.  Tests stop every guard at
        each phase, so without this hold each test's first request would scan every module
        of the process again.
        """
        if self._holds_exception_texts or not guard._tracking_exceptions:
            return
        with self._lock:
            if self._holds_exception_texts:
                return
            self._holds_exception_texts = exception_texts.install()

    def flush(self) -> None:
        """Make the guards started since the last flush deliver what they saw: stop their
        watchdogs (which report a stall in progress) and restore what they replaced (the
        test's output capture changes between phases).  A guard starts again on its next request."""
        with self._lock:
            started = list(self._started.values())
            self._started.clear()
        for guard in started:
            guard.close()

    def begin(self, nodeid: str) -> TestRecord:
        self.flush()
        with self._lock:
            reported = list(self._reported.values())
            self._reported.clear()
        for guard in reported:
            guard.reporter.reset()  # each test sees its own first occurrence of a finding
        record = TestRecord(nodeid)
        with self._lock:
            self.current = record
        return record

    def end(self) -> None:
        self.flush()
        with self._lock:
            self.current = None
            self._held.clear()

    def shutdown(self) -> None:
        """The session is over: stop every guard still holding something and release the hold."""
        self.end()
        for guard in self.guards():
            guard.close()
        if self._holds_exception_texts:
            self._holds_exception_texts = False
            exception_texts.uninstall()

    def counts(self) -> dict[tuple[str, str, int], int]:
        """How often each finding was seen since the current test began, over every guard."""
        totals: dict[tuple[str, str, int], int] = {}
        with self._lock:
            reported = list(self._reported.values())
        for guard in reported:
            for finding in guard.reporter.findings():
                key = finding.location_key()
                totals[key] = totals.get(key, 0) + int(finding.details.get("count", 1))
        return totals

    def judge(self, record: TestRecord) -> list[Diagnostic]:
        """The findings of ``record`` not judged yet that the test does not allow (merged, with counts)."""
        self.flush()
        with self._lock:
            fresh = record.findings[record.checked :]
            record.checked = len(record.findings)
        return merged(
            [d for d in fresh if not is_app_level(d) and not record.allows(d.code)],
            self.counts(),
        )


def merged(findings: Sequence[Diagnostic], counts: dict[tuple[str, str, int], int]) -> list[Diagnostic]:
    """One finding per (code, file, line), carrying ``details["count"]``; two guards seeing the same thing count once."""
    seen: dict[tuple[str, str, int], Diagnostic] = {}
    for finding in findings:
        key = finding.location_key()
        if key not in seen:
            seen[key] = replace(finding, details={**finding.details, "count": max(counts.get(key, 1), 1)})
    return list(seen.values())


def already_guarded(app: Any) -> bool:
    """Whether a ``RuntimeGuard`` is ``app``, wraps it, or is in its ``user_middleware``."""
    target = app
    for _ in range(_MAX_WRAP_DEPTH):
        if isinstance(target, RuntimeGuard):
            return True
        for middleware in getattr(target, "user_middleware", None) or ():
            cls = getattr(middleware, "cls", None)
            if isinstance(cls, type) and issubclass(cls, RuntimeGuard):
                return True
        target = getattr(target, "app", None) if not isinstance(target, TestGuard) else None
        if target is None:
            return False
    return False


def _is_asgi3(app: Any) -> bool:
    """An ASGI 3 callable (what the guard can wrap); ASGI 2 classes are left to the client's adapter."""
    if inspect.isclass(app):
        return False
    while isinstance(app, functools.partial):
        app = app.func
    if inspect.iscoroutinefunction(app):
        return True
    return callable(app) and not inspect.isfunction(app) and inspect.iscoroutinefunction(type(app).__call__)


class ClientPatch:
    """Routes every ``TestClient`` and ``httpx.ASGITransport`` made while installed through a guard.

    The patch replaces the classes' ``__init__`` (their ``app`` argument is
    wrapped, nothing else changes) from ``pytest_configure`` to
    ``pytest_unconfigure``, so module-level clients made while test modules
    are collected are guarded too.
    """

    TARGETS: tuple[tuple[str, str], ...] = (("starlette.testclient", "TestClient"), ("httpx", "ASGITransport"))

    def __init__(self, wrap: Callable[[Any], Any]) -> None:
        self._wrap = wrap
        self._saved: list[tuple[type, Any]] = []
        self.import_warnings: list[warnings.WarningMessage] = []
        """Warnings raised by importing the clients here, for the plugin to re-issue where
        pytest records warnings (the import would otherwise have happened in collection)."""

    def install(self) -> list[str]:
        """Patch what is importable; the names patched."""
        patched: list[str] = []
        for module_name, class_name in self.TARGETS:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    # __import__ rather than importlib: a warning the import raises then names this file.
                    module = __import__(module_name, fromlist=[class_name])
                self.import_warnings.extend(caught)
                cls = getattr(module, class_name)
            except Exception:  # noqa: BLE001 - not installed (or broken): nothing to guard there
                continue
            original = cls.__dict__["__init__"]
            self._saved.append((cls, original))
            setattr(cls, "__init__", self._patched(original))  # noqa: B010 - mypy forbids assigning __init__
            patched.append(f"{module_name}.{class_name}")
        return patched

    def uninstall(self) -> None:
        while self._saved:
            cls, original = self._saved.pop()
            setattr(cls, "__init__", original)  # noqa: B010

    def _patched(self, original: Callable[..., None]) -> Callable[..., None]:
        wrap = self._wrap

        @functools.wraps(original)
        def __init__(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
            guarded = wrap(app)
            original(self, guarded, *args, **kwargs)
            if guarded is not app:
                _show_the_app(self, app, guarded)

        return __init__


class _LifespanView:
    """The test client as its lifespan task sees it: the same client, serving the guard."""

    def __init__(self, client: Any, guard: Any) -> None:
        self._client = client
        self.app = guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


async def _lifespan_through(client: Any, guard: Any, lifespan: Callable[[Any], Any]) -> None:
    await lifespan(_LifespanView(client, guard))


def _show_the_app(client: Any, app: Any, guard: Any) -> None:
    """Make ``client.app is app`` true for Starlette's ``TestClient``.

    Its requests go through the transport, which was built with the guard; only its lifespan
    task reads ``client.app``, so that task is handed a view of the client whose ``app`` is the
    guard.  Other clients (``httpx.ASGITransport``, whose ``app`` serves every request) keep
    the guard, which reads and writes through to the app.
    """
    lifespan = getattr(type(client), "lifespan", None)
    if getattr(client, "app", None) is not guard or not callable(lifespan):
        return
    client.app = app
    client.lifespan = functools.partial(_lifespan_through, client, guard, lifespan)
    client._runtime_guard = guard


def guard_of(client: Any) -> RuntimeGuard | None:
    """The guard the pytest plugin put in front of a test client's (or transport's) app, if any."""
    guard = getattr(client, "_runtime_guard", None)
    if isinstance(guard, RuntimeGuard):
        return guard
    app = getattr(client, "app", None)
    return app if isinstance(app, RuntimeGuard) else None


class RuntimeGuardFixture:
    """What the ``runtime_guard`` fixture gives a test.

        def test_orders(runtime_guard):
            client = TestClient(runtime_guard(app))
            client.get("/orders")          # the test fails if the guard saw an anti-pattern
            assert runtime_guard.codes() == []
    """

    __test__ = False

    def __init__(self, collector: Collector, record: TestRecord) -> None:
        self._collector = collector
        self._record = record

    def __call__(self, app: Any, **options: Any) -> TestGuard:
        """``app`` wrapped in a guard for this test; ``options`` are ``RuntimeGuard``'s (``block_threshold``...)."""
        return self._collector.guard(app, **options)

    @property
    def findings(self) -> list[Diagnostic]:
        """This test's findings so far (app-wide ones included), one per place, with ``details["count"]``."""
        self._collector.flush()
        with self._collector._lock:
            findings = list(self._record.findings)
        return merged(findings, self._collector.counts())

    def codes(self) -> list[str]:
        return sorted(d.code for d in self.findings)

    def allow(self, *codes: str) -> None:
        """Let these codes pass in this test (all codes when none is given), like the marker."""
        if codes:
            self._record.allowed.update(codes)
        else:
            self._record.allow_all = True


def relative(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive
        return path
    return path if rel.startswith(os.pardir) else rel


def format_findings(findings: Sequence[Diagnostic], root: str) -> list[str]:
    lines = []
    for finding in findings:
        count = int(finding.details.get("count", 1))
        times = f" (seen {count} times)" if count > 1 else ""
        lines.append(f"{finding.code} {relative(finding.filename, root)}:{finding.line}{times}: {finding.message}")
    return lines
