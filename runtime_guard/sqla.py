"""SQLAlchemy pool instrumentation: FAA201 (pool waits, disconnects pre-ping would catch), FAA202 (leaks at shutdown).

SQLAlchemy is optional: the guard instruments it only once the app has
imported it (the guard never imports it for an app that does not use it), and
``instrument_sqlalchemy`` returns None without it.

How a checkout wait is measured.  SQLAlchemy's pool events fire *after* a
connection is handed out (``checkout``); there is no "connection requested"
event.  So each ``QueuePool`` (and its async variant) gets its ``_do_get`` —
the step that takes a connection from the queue, waiting when the pool is
exhausted — wrapped on the instance, the first time the pool is seen
(``engine_connect`` or ``checkout``, both listened to globally on the Engine and
Pool classes, so engines created before the guard are covered too).  The
wrapper only times calls made while the pool is at capacity (no idle
connection, overflow used up): that is a real wait, not the time to open a
new connection.  The original method runs unchanged; exceptions (the pool's
own TimeoutError included) pass through untouched.  ``remove()`` unwraps.

Only weak references are kept to engines, pools and connection records.
"""

from __future__ import annotations

import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from runtime_guard.faults import FaultLog
from runtime_guard.frames import FrameInfo, innermost_user_frame
from runtime_guard.runtime_findings import fix_for, report_at

__all__ = ["SqlaInstrumentation", "instrument_sqlalchemy"]


_MAX_SITES_LISTED = 5

_FALLBACK_FIX = {
    "FAA201": (
        "size the pool for the load (pool_size, max_overflow, pool_timeout) and set pool_pre_ping=True and pool_recycle"
    ),
    "FAA202": (
        "dispose engines and close clients in the app's lifespan shutdown, and return every connection (use `with`)"
    ),
}



_faults = FaultLog("runtime_guard.sqla")
_faults_logged = _faults.logged
_fault = _faults.fault


def _here() -> FrameInfo | None:
    """The innermost line of the app's own on the calling stack (None: a library acting alone)."""
    return innermost_user_frame(sys._getframe(1))


def instrument_sqlalchemy(reporter: Any, *, pool_wait_threshold: float) -> SqlaInstrumentation | None:
    """Listen to every SQLAlchemy engine and pool; None when SQLAlchemy is not installed."""
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool, QueuePool
    except ImportError:
        return None
    instrumentation = SqlaInstrumentation(reporter, pool_wait_threshold, event, Engine, Pool, QueuePool)
    try:
        instrumentation.attach()
    except Exception as exc:  # noqa: BLE001 - fail-open: an unexpected SQLAlchemy leaves the app uninstrumented
        _fault("instrumenting SQLAlchemy", exc)
        instrumentation.remove()
        return None
    return instrumentation


class SqlaInstrumentation:
    """The listeners and pool wrappers of one guard; ``remove()`` undoes all of it."""

    def __init__(
        self,
        reporter: Any,
        pool_wait_threshold: float,
        event: Any,
        engine_cls: type,
        pool_cls: type,
        queue_pool_cls: type,
    ) -> None:
        self._reporter = reporter
        self._threshold = float(pool_wait_threshold)
        self._event = event
        self._engine_cls = engine_cls
        self._pool_cls = pool_cls
        self._queue_pool_cls = queue_pool_cls
        self._engines: weakref.WeakSet[Any] = weakref.WeakSet()
        self._wrapped: weakref.WeakKeyDictionary[Any, Callable[[], Any]] = weakref.WeakKeyDictionary()
        # Connection record -> (where it was checked out, its pool): the leak sites for FAA202.
        self._out: weakref.WeakKeyDictionary[Any, tuple[FrameInfo | None, weakref.ref[Any]]] = (
            weakref.WeakKeyDictionary()
        )
        # Engine -> the app's line that first connected it: where FAA202 points when no checkout site is known.
        self._first_connect: weakref.WeakKeyDictionary[Any, FrameInfo] = weakref.WeakKeyDictionary()
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = [
            (engine_cls, "engine_connect", self._on_engine_connect),
            (pool_cls, "checkout", self._on_checkout),
            (pool_cls, "checkin", self._on_checkin),
            (pool_cls, "detach", self._on_detach),
            (pool_cls, "invalidate", self._on_invalidate),
            (pool_cls, "soft_invalidate", self._on_invalidate),
        ]
        self._attached = False

    def attach(self) -> None:
        if self._attached:
            return
        self._attached = True
        for target, name, listener in self._listeners:
            self._event.listen(target, name, listener)

    def remove(self) -> None:
        """Detach every listener and unwrap every pool (idempotent)."""
        for target, name, listener in self._listeners:
            try:
                if self._event.contains(target, name, listener):
                    self._event.remove(target, name, listener)
            except Exception as exc:  # noqa: BLE001 - fail-open
                _fault("removing SQLAlchemy listeners", exc)
        self._attached = False
        for pool, wrapper in list(self._wrapped.items()):
            if vars(pool).get("_do_get") is wrapper:
                del vars(pool)["_do_get"]
        self._wrapped.clear()
        self._out.clear()

    # -- reporting -------------------------------------------------------------

    def _report(self, code: str, message: str, where: FrameInfo, details: dict[str, Any]) -> None:
        report_at(
            self._reporter,
            code,
            message,
            where,
            details,
            fix=fix_for(code, _FALLBACK_FIX),
            fault=_fault,
            failing="reporting a SQLAlchemy finding",
        )

    @staticmethod
    def _pool_details(pool: Any) -> dict[str, Any]:
        details: dict[str, Any] = {"pool": type(pool).__name__}
        for key, read in (
            ("pool_size", lambda: pool.size()),
            ("max_overflow", lambda: pool._max_overflow),
            ("overflow", lambda: pool.overflow()),
            ("checked_out", lambda: pool.checkedout()),
            ("pool_timeout", lambda: pool.timeout()),
            ("pre_ping", lambda: bool(pool._pre_ping)),
        ):
            try:
                details[key] = read()
            except Exception:  # noqa: BLE001, S112 - pools without a size or timeout: leave it out
                continue
        return details

    # -- FAA201: waits -----------------------------------------------------------

    def _wrap_pool(self, pool: Any) -> None:
        if pool in self._wrapped or not isinstance(pool, self._queue_pool_cls):
            return
        original: Callable[[Any], Any] = getattr(type(pool), "_do_get")  # noqa: B009 - typed as Any on purpose
        original_code = original.__code__
        threshold = self._threshold
        pool_ref = weakref.ref(pool)
        owner = weakref.ref(self)

        def timed_do_get() -> Any:
            this = pool_ref()
            if this is None or sys._getframe(1).f_code is original_code:
                return original(this)  # QueuePool retries by calling itself: time only the outer call
            try:
                started = _at_capacity_since(this)
            except Exception:  # noqa: BLE001 - fail-open: never measure rather than break a checkout
                started = None
            if started is None:
                return original(this)
            timed_out = False
            try:
                return original(this)
            except BaseException as exc:
                timed_out = type(exc).__name__ == "TimeoutError"
                raise
            finally:
                waited = time.monotonic() - started
                instrumentation = owner()
                if waited > threshold and instrumentation is not None:
                    instrumentation._on_wait(this, waited, timed_out)

        vars(pool)["_do_get"] = timed_do_get
        self._wrapped[pool] = timed_do_get

    def _on_wait(self, pool: Any, waited: float, timed_out: bool) -> None:
        try:
            where = innermost_user_frame(sys._getframe(2))
            if where is None:
                return  # a library's own checkout (a health ping, a warm-up): no line of the app's to point at
            details = self._pool_details(pool)
            details.update(
                {"wait_seconds": round(waited, 3), "threshold_seconds": self._threshold, "timed_out": timed_out}
            )
            size = details.get("pool_size", "?")
            overflow = details.get("max_overflow", "?")
            verb = "timed out after" if timed_out else "waited"
            message = (
                f"{verb} {waited:.2f} s for a connection from an exhausted {details['pool']} "
                f"(pool_size={size}, max_overflow={overflow}) in {where.place}"
            )
            self._report("FAA201", message, where, details)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("measuring a pool checkout", exc)

    # -- listeners (every one swallows its own faults: SQLAlchemy would raise them into the app) --

    def _on_engine_connect(self, conn: Any) -> None:
        try:
            engine = conn.engine
            self._engines.add(engine)
            if engine not in self._first_connect:
                where = _here()
                if where is not None:
                    self._first_connect[engine] = where
            self._wrap_pool(engine.pool)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("tracking a SQLAlchemy engine", exc)

    def _on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        try:
            pool = getattr(proxy, "_pool", None)
            if pool is None:
                return
            self._wrap_pool(pool)
            self._out[record] = (_here(), weakref.ref(pool))
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("tracking a pool checkout", exc)

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        try:
            self._out.pop(record, None)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("tracking a pool checkin", exc)

    def _on_detach(self, dbapi_connection: Any, record: Any) -> None:
        self._on_checkin(dbapi_connection, record)

    def _on_invalidate(self, dbapi_connection: Any, record: Any, exception: BaseException | None) -> None:
        try:
            if exception is None:
                return  # invalidated on purpose by the app, not a dead connection
            pool = self._pool_of(record)
            if pool is None or getattr(pool, "_pre_ping", True):
                return  # pre-ping is on (or unknown): nothing it would have caught
            where = _here()
            if where is None:
                return  # found dead by the library acting alone: no line of the app's to point at
            details = self._pool_details(pool)
            details["exception"] = f"{type(exception).__module__}.{type(exception).__qualname__}"
            message = (
                f"a pooled connection turned out dead ({type(exception).__name__}) in {where.place}; "
                "the engine has no pool_pre_ping, which tests connections at checkout"
            )
            self._report("FAA201", message, where, details)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("inspecting an invalidated connection", exc)

    def _pool_of(self, record: Any) -> Any:
        entry = self._out.get(record)
        if entry is not None:
            return entry[1]()
        # Invalidated during checkout (before our checkout event): ask the record itself.
        return getattr(record, "_ConnectionRecord__pool", None)

    # -- FAA202: shutdown ------------------------------------------------------------

    def check_shutdown(self) -> None:
        """FAA202 for every pool the app used that still has connections checked out."""
        try:
            self._check_shutdown()
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("checking SQLAlchemy engines at shutdown", exc)

    def _check_shutdown(self) -> None:
        sites: dict[int, list[FrameInfo]] = {}
        pools: dict[int, Any] = {}
        for where, pool_ref in list(self._out.values()):
            pool = pool_ref()
            if pool is not None:
                pools[id(pool)] = pool
                if where is not None:
                    sites.setdefault(id(pool), []).append(where)
        engines = {id(engine.pool): engine for engine in list(self._engines)}
        for engine in engines.values():
            pools.setdefault(id(engine.pool), engine.pool)
        for key, pool in pools.items():
            known = sites.get(key, [])
            checkedout = getattr(pool, "checkedout", None)
            count = checkedout() if callable(checkedout) else len(known)
            if count <= 0:
                continue
            ranked = [site for site, _ in Counter(known).most_common()]
            engine = engines.get(key)
            # No checkout seen from the app's code: the app's line that first connected the engine.
            where = ranked[0] if ranked else (self._first_connect.get(engine) if engine is not None else None)
            if where is None:
                continue  # no line of the app's own to point at
            details = self._pool_details(pool)
            details["checked_out"] = count
            details["checkout_sites"] = [f"{site.filename}:{site.line}" for site in ranked[:_MAX_SITES_LISTED]]
            if engine is not None:
                details["driver"] = str(engine.url.drivername)  # never the URL: it may hold a password
            where_text = f", checked out in {where.place}" if ranked else f", first connected in {where.place}"
            message = (
                f"at shutdown a {details.get('driver', 'SQLAlchemy')} engine still has {count} checked-out "
                f"connection(s) never returned{where_text}"
            )
            self._report("FAA202", message, where, details)


def _at_capacity_since(pool: Any) -> float | None:
    """Now, if taking a connection from ``pool`` has to wait for one to come back; else None."""
    max_overflow = getattr(pool, "_max_overflow", -1)
    if max_overflow < 0 or pool.checkedin() > 0:
        return None  # unbounded overflow or an idle connection: no wait
    if pool.overflow() < max_overflow:
        return None  # it may open a new connection instead of waiting
    return time.monotonic()
