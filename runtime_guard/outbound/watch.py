"""One guard's view of the outbound calls its requests make: FAA204 and FAA205.

FAA204: a call made with no timeout that is still running when its request's
budget (``slow_request_threshold`` from the request's start) is spent.  Such a
call is put in a table while it runs; nothing else is.  Two places look at it:

- the watchdog's tick (``sweep``, on the watchdog thread, every check
  interval): it finds the call *while* it still hangs, which matters because
  a call with no timeout may never come back, and it needs no thread, timer or
  loop callback per call.  A timer on the event loop would not do: a sync call
  made on the loop (itself FAA102) stops the loop and its timers with it, and
  a sync call in a worker thread would need a thread-safe hand-over to the
  loop for every call;
- the end of the call: a call that outlived the budget between two ticks, or
  under a guard whose watchdog is switched off, is reported when it returns.

A call that started after its request's budget was already spent is not
tracked: the request was late before it began (FAA103 says so).

FAA205: every call's outcome feeds ``HostFailures`` (see there); a host that
crosses the threshold is reported once, at the call that crossed it.

Findings go through the guard's reporter, which keeps one per code and line
(the call site) and counts the repeats.
"""

from __future__ import annotations

import threading
import time
import types
from dataclasses import dataclass
from typing import Any

from runtime_guard.frames import FrameInfo, innermost_user_frame
from runtime_guard.outbound.failures import Failure, HostFailures, RepeatedFailures
from runtime_guard.outbound.faults import fault
from runtime_guard.outbound.libraries import CallInfo
from runtime_guard.request_state import RequestState
from runtime_guard.runtime_findings import fix_for, report_at

__all__ = ["OutboundCall", "OutboundWatch"]

# Calls without a timeout tracked at once; past this, new ones go untracked rather than grow memory.
DEFAULT_MAX_TRACKED = 10_000
_COPY_ATTEMPTS = 5
_FALLBACK_FIX = {
    "FAA204": "pass an explicit timeout (e.g. `timeout=(3, 10)`, `httpx.Timeout(10, connect=3)`)",
    "FAA205": "wrap the call in a circuit breaker and answer 503 while it is open",
}



@dataclass(eq=False)
class OutboundCall:
    """One outbound call in flight, made while serving ``state``."""

    library: str
    host: str
    started: float
    """``time.monotonic()`` when the call began."""
    state: RequestState
    request: int
    """The request's key (``request_state.CURRENT``)."""
    unbounded: str | None
    deadline: float
    """When the request's budget runs out (``time.monotonic()``)."""
    site: FrameInfo | None = None
    """The app's line that made the call: taken when the call begins, for calls without a timeout only."""
    tracked: bool = False
    reported: bool = False


class OutboundWatch:
    """Turns the outbound calls of one guard's requests into FAA204 and FAA205 findings; thread-safe."""

    def __init__(
        self,
        reporter: Any,
        *,
        budget: float,
        failure_threshold: int,
        failure_window: float,
        max_tracked: int = DEFAULT_MAX_TRACKED,
    ) -> None:
        self._reporter = reporter
        self.budget = float(budget)
        self.failures = HostFailures(failure_threshold, failure_window)
        self.max_tracked = max_tracked
        self._unbounded: dict[int, OutboundCall] = {}
        """Calls without a timeout in flight, by id: added and removed by the calling thread, read by the sweep."""
        self._lock = threading.Lock()  # only to report a call once; never held while calling out
        self.unlocated = 0
        """Findings not reported: no line of the app's own made the call, as for the guard's other parts."""

    def __len__(self) -> int:
        return len(self._unbounded)

    # -- the calls (from the wrappers, on the calling thread) -----------------------

    def begin(self, library: str, info: CallInfo, state: RequestState, request: int, caller: types.FrameType | None) -> OutboundCall:
        now = time.monotonic()
        call = OutboundCall(library, info.host, now, state, request, info.unbounded, state.started + self.budget)
        if info.unbounded is not None and now < call.deadline and len(self._unbounded) < self.max_tracked:
            call.site = innermost_user_frame(caller) or state.endpoint_location()
            call.tracked = True
            self._unbounded[id(call)] = call
        return call

    def end(self, call: OutboundCall, caller: types.FrameType | None, failure: str | None, *, succeeded: bool) -> None:
        """The call returned (``succeeded`` unless it failed) or raised (``failure`` None: not the host's fault)."""
        now = time.monotonic()
        if call.tracked:
            self._unbounded.pop(id(call), None)
            if now > call.deadline:
                self._outlived(call, now, ongoing=False)
        if failure is not None:
            self._failed(call, now, failure, caller)
        elif succeeded:
            self.failures.succeeded(call.host)

    # -- FAA204 -------------------------------------------------------------------------

    def sweep(self, now: float | None = None) -> None:
        """Report the calls without a timeout still running past their request's budget (the watchdog's tick)."""
        if not self._unbounded:
            return  # the common case, every tick: nothing in flight without a timeout
        now = time.monotonic() if now is None else now
        for call in self._snapshot():
            if not call.reported and now > call.deadline:
                self._outlived(call, now, ongoing=True)

    def _snapshot(self) -> list[OutboundCall]:
        for _ in range(_COPY_ATTEMPTS):
            try:
                return list(self._unbounded.copy().values())
            except RuntimeError:  # resized by a calling thread mid-copy; try again
                continue
        return []

    def _outlived(self, call: OutboundCall, now: float, *, ongoing: bool) -> None:
        with self._lock:
            if call.reported:
                return
            call.reported = True
        try:
            state = call.state
            route = state.route
            site = call.site
            if site is None:
                self.unlocated += 1  # no line of the app's made the call (a library acting alone)
                return
            elapsed = now - state.started
            still = "is still running" if ongoing else "ran"
            message = (
                f"an outbound {call.library} call to {call.host} made with {call.unbounded} {still} {elapsed:.1f} s "
                f"into {route}, past the request's {self.budget:g} s budget, in {site.place}"
            )
            details: dict[str, Any] = {
                "host": call.host,
                "route": route,
                "library": call.library,
                "timeout": call.unbounded,
                "budget_seconds": self.budget,
                "request_seconds": round(elapsed, 3),
                "call_seconds": round(now - call.started, 3),
                "function": site.function,
            }
            if ongoing:
                details["ongoing"] = True
            self._report("FAA204", message, site, details)
        except Exception as exc:  # noqa: BLE001 - fail-open
            fault("reporting an outbound call past its budget", exc)

    # -- FAA205 -------------------------------------------------------------------------

    def _failed(self, call: OutboundCall, now: float, failure: str, caller: types.FrameType | None) -> None:
        crossed = self.failures.failed(call.host, Failure(now, call.request, call.state.route, failure))
        if crossed is None:
            return
        site = call.site or innermost_user_frame(caller) or call.state.endpoint_location()
        if site is None:
            self.unlocated += 1  # no line of the app's made the call (a library acting alone)
            return
        self._report_repeated(crossed, call.library, site)

    def _report_repeated(self, crossed: RepeatedFailures, library: str, site: FrameInfo) -> None:
        routes = ", ".join(crossed.routes)
        message = (
            f"{crossed.failures} calls in a row to {crossed.host} failed ({', '.join(crossed.kinds)}) within "
            f"{crossed.span_seconds:.1f} s, made by {crossed.requests} requests ({routes}), each one still attempted "
            f"with nothing failing fast; the latest through {library} in {site.place}"
        )
        details: dict[str, Any] = {
            "host": crossed.host,
            "library": library,
            "failures": crossed.failures,
            "total_failures": crossed.total_failures,
            "requests": crossed.requests,
            "span_seconds": round(crossed.span_seconds, 3),
            "window_seconds": self.failures.window,
            "threshold": self.failures.threshold,
            "routes": crossed.routes,
            "errors": crossed.kinds,
            "function": site.function,
        }
        self._report("FAA205", message, site, details)

    # -- plumbing -------------------------------------------------------------------------

    def _report(self, code: str, message: str, where: FrameInfo, details: dict[str, Any]) -> None:
        report_at(
            self._reporter,
            code,
            message,
            where,
            details,
            fix=fix_for(code, _FALLBACK_FIX),
            fault=fault,
            failing="reporting an outbound finding",
        )

    def reset(self) -> None:
        """Forget the calls in flight and the hosts' failures (the guard stopped; a test ended)."""
        self._unbounded.clear()
        self.failures.clear()

