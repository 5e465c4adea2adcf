"""runtime_guard.sqla: pool waits and dead connections (FAA201), leaked checkouts at shutdown (FAA202)."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool, QueuePool
from starlette.testclient import TestClient

import runtime_guard.sqla
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard.sqla import SqlaInstrumentation, instrument_sqlalchemy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HERE = os.path.abspath(__file__)
WAIT_THRESHOLD = 0.1
HOLD = 0.4  # how long the other thread keeps the only connection


def line_of(marker: str) -> int:
    for number, source in enumerate(Path(HERE).read_text().splitlines(), 1):
        if source.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(f"marker {marker!r} not found")


class Reporter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[Diagnostic] = []

    def report(self, diagnostic: Diagnostic) -> None:
        with self.lock:
            self.items.append(diagnostic)

    def codes(self) -> list[str]:
        with self.lock:
            return [item.code for item in self.items]


@pytest.fixture
def reporter() -> Reporter:
    return Reporter()


@pytest.fixture
def instrumented(reporter: Reporter) -> Iterator[SqlaInstrumentation]:
    instrumentation = instrument_sqlalchemy(reporter, pool_wait_threshold=WAIT_THRESHOLD)
    assert instrumentation is not None
    yield instrumentation
    instrumentation.remove()


def small_engine(tmp_path: Path, **options: Any) -> Engine:
    """A file-backed sqlite engine with one pooled connection and no overflow."""
    options.setdefault("poolclass", QueuePool)
    options.setdefault("pool_size", 1)
    options.setdefault("max_overflow", 0)
    options.setdefault("pool_timeout", 5)
    return create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", **options)


def hold_connection(engine: Engine, seconds: float) -> threading.Thread:
    """Another thread checks out the pool's only connection and keeps it ``seconds``."""
    acquired = threading.Event()

    def holder() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            acquired.set()
            time.sleep(seconds)

    thread = threading.Thread(target=holder)
    thread.start()
    assert acquired.wait(5)
    return thread


# -- FAA201: waiting for a pooled connection ------------------------------------------


def test_checkout_wait_past_threshold_is_faa201_at_the_user_line(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path)
    with engine.connect() as conn:  # the first use wraps the pool
        conn.execute(text("SELECT 1"))
    holder = hold_connection(engine, HOLD)
    with engine.connect() as conn:  # marker: waiting-connect
        conn.execute(text("SELECT 1"))
    holder.join()
    engine.dispose()
    assert len(reporter.items) == 1, [d.format_text() for d in reporter.items]
    finding = reporter.items[0]
    assert (finding.code, finding.filename, finding.line) == ("FAA201", HERE, line_of("marker: waiting-connect"))
    assert finding.source == "runtime"
    assert finding.details["wait_seconds"] >= HOLD - 0.2
    assert finding.details["timed_out"] is False
    assert finding.details["pool"] == "QueuePool"
    assert (finding.details["pool_size"], finding.details["max_overflow"]) == (1, 0)
    assert "pool_size=1, max_overflow=0" in finding.message


def test_checkout_timeout_is_reported_and_the_error_reaches_the_app_unchanged(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path, pool_timeout=0.2)
    with engine.connect():
        pass
    holder = hold_connection(engine, HOLD)
    with pytest.raises(sqlalchemy.exc.TimeoutError, match="QueuePool limit"):
        engine.connect()  # marker: timeout-connect
    holder.join()
    engine.dispose()
    (finding,) = reporter.items
    assert (finding.code, finding.line) == ("FAA201", line_of("marker: timeout-connect"))
    assert finding.details["timed_out"] is True
    assert "timed out" in finding.message


def test_no_wait_no_finding(tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation) -> None:
    engine = small_engine(tmp_path, pool_size=2)
    for _ in range(5):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    with engine.connect(), engine.connect():  # both pooled connections at once: still no wait
        pass
    engine.dispose()
    assert reporter.items == []


def test_orm_session_wait_is_attributed_to_the_session_line(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
    holder = hold_connection(engine, HOLD)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))  # marker: session-execute
    holder.join()
    engine.dispose()
    assert [(d.code, d.line) for d in reporter.items] == [("FAA201", line_of("marker: session-execute"))]


# -- FAA201: dead connections pre-ping would have caught -----------------------------------


def _kill_pooled_connection(engine: Engine) -> None:
    """The database drops an idle pooled connection (as a server restart or idle timeout does)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    dbapi_connection.close()  # back in the pool, idle, and dead


def test_dead_connection_without_pre_ping_is_faa201(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path)
    _kill_pooled_connection(engine)
    with pytest.raises(sqlalchemy.exc.ProgrammingError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # marker: dead-execute
    engine.dispose()
    (finding,) = reporter.items
    assert (finding.code, finding.filename, finding.line) == ("FAA201", HERE, line_of("marker: dead-execute"))
    assert finding.details["pre_ping"] is False
    assert finding.details["exception"] == "sqlite3.ProgrammingError"
    assert "pool_pre_ping" in finding.message


def test_dead_connection_with_pre_ping_is_not_reported(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path, pool_pre_ping=True)
    _kill_pooled_connection(engine)
    with engine.connect() as conn:  # pre-ping replaces the dead connection: the query works
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    assert reporter.items == []


def test_explicit_invalidate_is_not_reported(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path)
    with engine.connect() as conn:
        conn.invalidate()
    engine.dispose()
    assert reporter.items == []


# -- FAA202: connections still checked out at shutdown ---------------------------------------


def test_connection_never_returned_is_faa202_at_its_checkout(
    tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation
) -> None:
    engine = small_engine(tmp_path, pool_size=3)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    leaked = engine.connect()  # marker: leaked-connect
    instrumented.check_shutdown()
    (finding,) = reporter.items
    assert (finding.code, finding.filename, finding.line) == ("FAA202", HERE, line_of("marker: leaked-connect"))
    assert finding.details["checked_out"] == 1
    assert finding.details["driver"] == "sqlite"
    assert finding.details["checkout_sites"] == [f"{HERE}:{line_of('marker: leaked-connect')}"]
    assert str(tmp_path) not in finding.message  # no URL in findings
    leaked.close()
    reporter.items.clear()
    instrumented.check_shutdown()
    assert reporter.items == []
    engine.dispose()


def test_engines_are_tracked_weakly(tmp_path: Path, reporter: Reporter, instrumented: SqlaInstrumentation) -> None:
    engine = small_engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    engine_ref = weakref.ref(engine)
    pool_ref = weakref.ref(engine.pool)
    del engine, conn
    gc.collect()
    assert engine_ref() is None
    assert pool_ref() is None
    instrumented.check_shutdown()
    assert reporter.items == []


# -- lifecycle and fail-open ------------------------------------------------------------------


def test_remove_detaches_listeners_and_unwraps_pools(tmp_path: Path, reporter: Reporter) -> None:
    instrumentation = instrument_sqlalchemy(reporter, pool_wait_threshold=WAIT_THRESHOLD)
    assert instrumentation is not None
    engine = small_engine(tmp_path)
    with engine.connect():
        pass
    assert "_do_get" in vars(engine.pool)
    assert event.contains(Pool, "checkout", instrumentation._on_checkout)
    instrumentation.remove()
    instrumentation.remove()
    assert "_do_get" not in vars(engine.pool)
    assert not event.contains(Pool, "checkout", instrumentation._on_checkout)
    assert not event.contains(Engine, "engine_connect", instrumentation._on_engine_connect)
    holder = hold_connection(engine, HOLD)
    with engine.connect():
        pass
    holder.join()
    engine.dispose()
    assert reporter.items == []


class BrokenReporter:
    def report(self, diagnostic: Diagnostic) -> None:
        raise RuntimeError("sink down")


def test_a_failing_reporter_never_breaks_a_checkout(tmp_path: Path) -> None:
    runtime_guard.sqla._faults_logged.clear()
    instrumentation = instrument_sqlalchemy(BrokenReporter(), pool_wait_threshold=WAIT_THRESHOLD)
    assert instrumentation is not None
    try:
        engine = small_engine(tmp_path)
        with engine.connect():
            pass
        holder = hold_connection(engine, HOLD)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        holder.join()
        leaked = engine.connect()
        instrumentation.check_shutdown()
        leaked.close()
        engine.dispose()
    finally:
        instrumentation.remove()
    assert "reporting a SQLAlchemy finding" in runtime_guard.sqla._faults_logged


def test_without_sqlalchemy_instrumentation_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "sqlalchemy" or name.startswith("sqlalchemy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # makes `import sqlalchemy` raise ImportError
    assert instrument_sqlalchemy(Reporter(), pool_wait_threshold=WAIT_THRESHOLD) is None


# -- a real app: sync routes in the thread pool share a one-connection pool ---------------------


def test_fastapi_app_pool_wait_and_leak(tmp_path: Path, reporter: Reporter) -> None:
    engine = small_engine(tmp_path)
    app = FastAPI()
    leaks: list[Any] = []

    @app.get("/slow-report")
    def slow_report() -> dict[str, int]:
        with engine.connect() as conn:  # marker: route-connect
            time.sleep(HOLD)
            return {"value": conn.execute(text("SELECT 1")).scalar_one()}

    @app.get("/leak")
    def leak() -> dict[str, str]:
        leaks.append(Session(engine).connection())  # marker: route-leak
        return {}

    instrumentation = instrument_sqlalchemy(reporter, pool_wait_threshold=WAIT_THRESHOLD)
    assert instrumentation is not None
    try:
        with TestClient(app) as client:
            client.get("/slow-report")  # warm-up: the pool is seen and wrapped
            threads = [threading.Thread(target=client.get, args=("/slow-report",)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            client.get("/leak")
        instrumentation.check_shutdown()
    finally:
        instrumentation.remove()
        for conn in leaks:
            conn.close()
        engine.dispose()
    waits = [d for d in reporter.items if d.code == "FAA201"]
    leaked = [d for d in reporter.items if d.code == "FAA202"]
    assert [(d.filename, d.line) for d in waits] == [(HERE, line_of("marker: route-connect"))]
    assert [(d.filename, d.line) for d in leaked] == [(HERE, line_of("marker: route-leak"))]


def test_guard_writes_a_sarif_sink_at_shutdown_with_the_shutdown_findings(tmp_path: Path) -> None:
    import json

    from flake8_fastapi_antipatterns.sinks import SarifSink
    from runtime_guard import RuntimeGuard

    engine = small_engine(tmp_path)
    app = FastAPI()
    leaks: list[Any] = []

    @app.get("/leak")
    def leak() -> dict[str, str]:
        leaks.append(Session(engine).connection())  # marker: sarif-leak
        return {}

    log_path = tmp_path / "runtime.sarif"
    try:
        with TestClient(RuntimeGuard(app, sink=SarifSink(str(log_path)), environ={})) as client:
            client.get("/leak")
            assert not log_path.exists()  # written when the app shuts down, not per finding
    finally:
        for conn in leaks:
            conn.close()
        engine.dispose()
    results = json.loads(log_path.read_text(encoding="utf-8"))["runs"][0]["results"]
    leaked = [r for r in results if r["ruleId"] == "FAA202"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in leaked] == [line_of("marker: sarif-leak")]


LAZY_IMPORT_APP = r"""
import asyncio, sys
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from runtime_guard import GuardConfig, MemorySink, RuntimeGuard

async def plain(request):
    return PlainTextResponse("ok")

async def uses_db(request):
    import sqlalchemy  # the app's first use of SQLAlchemy, long after start-up
    return PlainTextResponse(sqlalchemy.__version__)

guard = RuntimeGuard(Starlette(routes=[Route("/", plain), Route("/db", uses_db)]), sink=MemorySink(), config=GuardConfig(watchdog=False))

async def call(path):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await guard(scope, receive, send)
    return sent[0]["status"]

async def main():
    assert await call("/") == 200
    print("after first request:", "sqlalchemy" in sys.modules, guard._sqla is not None)
    assert await call("/db") == 200
    assert await call("/") == 200
    print("after the app imported it:", "sqlalchemy" in sys.modules, guard._sqla is not None)

asyncio.run(main())
"""


def test_the_guard_never_imports_sqlalchemy_and_instruments_it_once_the_app_does() -> None:
    # In a fresh interpreter: this one has SQLAlchemy imported already.
    import subprocess

    result = subprocess.run([sys.executable, "-c", LAZY_IMPORT_APP], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "after first request: False False",
        "after the app imported it: True True",
    ], result.stdout + result.stderr
