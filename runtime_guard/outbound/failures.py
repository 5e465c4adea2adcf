"""FAA205's memory: per host, the calls that failed since its last success, in a bounded table.

A circuit breaker shows itself by what does *not* happen: after a few failures
it stops calling the host for a while, so the run of failed calls stops
growing.  Without one, every request tries again and pays for it.  So a host
is reported when ``threshold`` calls to it failed in a row (no success in
between), the last ``threshold`` of them within ``window`` seconds, made by
more than one request: one request's own retry loop is not "every request".
The defaults (10 in 60 s) sit above what the common breakers let through
(pybreaker, aiobreaker and purgatory open after 5 failures and let one trial
call through per 30 or 60 s), so an app that has one is not reported.

Memory is bounded twice: each host keeps at most ``threshold`` failures (a
deque), and at most ``max_hosts`` hosts are remembered, the one that failed
least recently forgotten first.  Healthy hosts take no room: a success only
clears the run of a host already in the table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_HOSTS", "Failure", "HostFailures", "RepeatedFailures"]

DEFAULT_MAX_HOSTS = 256
_MAX_ROUTES_LISTED = 5
_MAX_KINDS_LISTED = 5


@dataclass(frozen=True)
class Failure:
    """One failed call: when, for which request, and how it failed (``HTTP 503``, ``ConnectError``)."""

    at: float
    """``time.monotonic()`` when the call failed."""
    request: int
    """The request's key (``request_state.CURRENT``): never reused, so distinct keys are distinct requests."""
    route: str
    kind: str


@dataclass
class _Run:
    recent: deque[Failure]
    """The latest failures since the host's last success (at most ``threshold``)."""
    total: int = 0
    """Failures of this host since it was first remembered."""
    reported: bool = False


@dataclass(frozen=True)
class RepeatedFailures:
    """A host that crossed the threshold: what the FAA205 finding says."""

    host: str
    failures: int
    """Failed calls in a row counted (``threshold``)."""
    total_failures: int
    requests: int
    """Distinct requests those calls were made for."""
    span_seconds: float
    """From the first to the last of those failures."""
    routes: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


class HostFailures:
    """Runs of failed calls per host; thread-safe (sync calls fail in worker threads)."""

    def __init__(self, threshold: int, window: float, max_hosts: int = DEFAULT_MAX_HOSTS) -> None:
        if threshold < 2:
            raise ValueError(f"the failure threshold must be at least 2, not {threshold!r}")
        if window <= 0:
            raise ValueError(f"the failure window must be positive, not {window!r}")
        self.threshold = threshold
        self.window = float(window)
        self.max_hosts = max_hosts
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._runs)

    def succeeded(self, host: str) -> None:
        """A call to ``host`` succeeded: its run of failures is over (the host is remembered as reported)."""
        run = self._runs.get(host)  # no lock for the common case: a healthy host is not in the table
        if run is not None and run.recent:
            with self._lock:
                run.recent.clear()

    def failed(self, host: str, failure: Failure) -> RepeatedFailures | None:
        """Record a failed call; the finding to report when this one made the host cross the threshold."""
        with self._lock:
            run = self._runs.get(host)
            if run is None:
                while len(self._runs) >= self.max_hosts:
                    self._runs.popitem(last=False)
                run = self._runs[host] = _Run(deque(maxlen=self.threshold))
            else:
                self._runs.move_to_end(host)
            run.recent.append(failure)
            run.total += 1
            if run.reported or len(run.recent) < self.threshold:
                return None
            recent = list(run.recent)
            span = recent[-1].at - recent[0].at
            if span > self.window:
                return None  # failing, but slowly enough for a breaker's trial calls
            requests = {item.request for item in recent}
            if len(requests) < 2:
                return None  # one request retrying: not calls attempted on every request
            run.reported = True
            total = run.total
        return RepeatedFailures(
            host=host,
            failures=len(recent),
            total_failures=total,
            requests=len(requests),
            span_seconds=span,
            routes=_distinct((item.route for item in reversed(recent)), _MAX_ROUTES_LISTED),
            kinds=_distinct((item.kind for item in reversed(recent)), _MAX_KINDS_LISTED),
        )

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


def _distinct(values: Iterable[str], limit: int) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
            if len(seen) >= limit:
                break
    return seen
