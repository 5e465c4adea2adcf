"""The event-loop watchdog: FAA101/FAA102 when the loop stops turning.

A heartbeat callback on the loop records when its next turn is due.  A daemon
thread checks that timestamp every ``interval``; once the loop is overdue by
half of ``threshold`` it samples the loop thread's stack (while the loop is
still stuck, so the culprit is on it) and, once the heartbeat runs again,
reports one finding when the measured stall exceeded ``threshold``.

A stall is blamed on the app only when the samples show the app's code (or a
blocking call it made) on the loop thread's stack.  Stalls with another cause
(a garbage-collection pause, a loop thread that got no CPU, the guard's or the
server's own code) become notes (``stall_notes``, ``stall_causes.py``), never a
finding of a route.  To tell those apart, each heartbeat also reads the loop
thread's CPU clock (``loop_clock.py``) and ``gc.callbacks`` time collections
(``gc_pauses.py``).

Nothing here runs per request: the loop side is one timer callback per
interval, and the thread reads plain attributes the loop writes (atomic under
the GIL).  The only lock guards ``start``/``stop``.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, cast

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard import gc_pauses, stall_causes
from runtime_guard.blocking import StackSample, analyse_stack
from runtime_guard.faults import FaultLog
from runtime_guard.frames import endpoint_codes, is_user_file, user_endpoint_location
from runtime_guard.inflight import InFlight, RequestInfo
from runtime_guard.loop_clock import CpuClock, CpuClockSource, read_cpu, thread_cpu_clock
from runtime_guard.runtime_findings import fix_for
from runtime_guard.source import on_event_loop
from runtime_guard.watch_threads import WatchHandle, run_watch

__all__ = ["LoopWatchdog"]


MIN_INTERVAL = 0.005
# Bounded memory: recent stalls kept for blocked_time_between, samples and
# distinct locations kept per stall.
_RING_SIZE = 512
_MAX_SAMPLES_PER_STALL = 400
_MAX_LOCATIONS_PER_STALL = 16
_MAX_ROUTES_LISTED = 10
# A loop stuck this long is reported while still stuck (it may never come back).
_ONGOING_AFTER = 5.0

_FALLBACK_FIX = {
    "FAA101": (
        "use an async driver (asyncpg, aiosqlite, SQLAlchemy's AsyncSession) or run the sync call "
        "in a worker thread (run_in_threadpool, anyio.to_thread.run_sync)"
    ),
    "FAA102": (
        "await an async equivalent, or move the blocking work to a worker thread "
        "(run_in_threadpool, anyio.to_thread.run_sync) or a process pool for CPU-bound work"
    ),
}



_faults = FaultLog("runtime_guard.watchdog")
_faults_logged = _faults.logged
_fault = _faults.fault


@functools.lru_cache(maxsize=512)
def _codes_of(endpoint: object) -> frozenset[int]:
    return frozenset(id(code) for code in endpoint_codes(endpoint))


def _endpoint_code_ids(endpoint: object) -> frozenset[int]:
    try:
        return _codes_of(endpoint)
    except TypeError:  # unhashable callable instance
        return frozenset(id(code) for code in endpoint_codes(endpoint))


@dataclass
class _Location:
    sample: StackSample
    count: int
    request: RequestInfo | None
    others_in_flight: list[RequestInfo]
    app_code: bool = True
    """The app's code (or a sync database call) is on the stack: the app may be blamed."""
    owner: stall_causes.StackOwner | None = None
    """Whose code the stack shows, read for a location without app code."""


def _is_app_code(
    sample: StackSample, owner: stall_causes.StackOwner | None, below_loop: frozenset[tuple[str, str]] = frozenset()
) -> bool:
    """App code running: a sync database call, or a user frame that is neither middleware awaiting the
    router nor the program that started the loop (``uvicorn.run(app)`` in the app's ``__main__``)."""
    if sample.driver is not None:
        return True
    user = sample.innermost_user
    if user is None or sample.outside_router:
        return False
    if (user.filename, user.function) in below_loop:
        return False
    return owner is None or not owner.user_below_loop


@dataclass
class _Stall:
    due: float
    samples: int = 0
    idle_samples: int = 0
    locations: dict[tuple[str, int, str | None], _Location] = field(default_factory=dict)
    reported: bool = False
    run: _Run | None = None


class _Run:
    """One watch of one loop: a fresh object per ``start`` so an old thread never sees new state."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self.stop_event = threading.Event()
        self.stopped = False
        self.stopped_at: float | None = None
        self.due = time.monotonic() + interval
        self.cpu_clock: CpuClock | None = None
        """The loop thread's CPU clock, taken on that thread at start-up (None: unavailable)."""
        self.beat_cpu: float | None = None
        """The CPU clock at the last heartbeat: where the next stall's CPU time is counted from."""
        self.beat_at = 0.0
        """``time.monotonic()`` of the last heartbeat."""
        self.gc_acquired = False
        self.below_loop: frozenset[tuple[str, str]] = frozenset()
        """(file, function) of the user frames that started the loop: never the app at work."""
        self.thread_id: int | None = None
        self.handle: asyncio.Handle | None = None
        self.watch: WatchHandle | None = None
        """The thread watching this run (shared with later runs: ``watch_threads``) and when it is done."""


class LoopWatchdog:
    """Reports loop stalls longer than ``threshold`` seconds (FAA101 for sync DB drivers, else FAA102)."""

    tell_causes_apart = True
    """False restores the attribution of earlier versions (any stall with a request in flight is that
    request's), to measure the difference side by side (``benchmarks/watchdog_detection.py``)."""

    def __init__(
        self,
        reporter: Any,
        inflight: InFlight,
        threshold: float,
        *,
        interval: float | None = None,
        cpu_clock: CpuClockSource = thread_cpu_clock,
    ) -> None:
        if threshold <= 0:
            raise ValueError(f"block threshold must be positive, not {threshold!r}")
        self._reporter = reporter
        self._inflight = inflight
        self.threshold = float(threshold)
        self.interval = max(float(interval) if interval is not None else self.threshold / 4, MIN_INTERVAL)
        # Sampling starts halfway to the threshold; whether the stall is reported is decided when
        # the loop comes back (``_finish``).  Waiting for the threshold itself missed stalls just
        # above it: the thread wakes once per interval and, against a loop that holds the GIL,
        # waits up to a switch interval more, so the loop was often running again before the
        # first sample.
        # (Never below one interval: shorter lateness is not recorded, so could not be measured.)
        self.sample_after = max(self.threshold / 2, min(self.interval, self.threshold))
        self._stalls: deque[tuple[float, float]] = deque(maxlen=_RING_SIZE)
        # (due, CPU seconds of the loop thread from the beat before to the late beat, wall seconds of
        # the same span), per stall.
        self._stall_cpu: deque[tuple[float, float | None, float]] = deque(maxlen=_RING_SIZE)
        self._cpu_clock_source = cpu_clock
        self._gc = gc_pauses.PAUSES
        self.stall_notes = stall_causes.StallNotes()
        """Stalls that were not the app's (GC, no CPU, the guard's or the server's code): never findings."""
        self._run: _Run | None = None
        self._control = threading.Lock()  # start/stop only; never taken per request
        self.unlocated = 0
        """Stalls not reported: no line of the app's own on the stack (a library's route or callback)."""
        self.on_tick: Callable[[float], None] | None = None
        """Called on the watchdog thread at every check with ``time.monotonic()``, loop stuck or not
        (the outbound watch finds calls past their request's budget this way); must be quick."""

    # -- control -------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        try:
            if loop is None:
                loop = asyncio.get_running_loop()
            run = self._run
            if run is not None and run.loop is loop and not run.stopped:
                return  # the common case (called per request): no lock
            with self._control:
                run = self._run
                if run is not None and run.loop is loop and not run.stopped:
                    return
                if run is not None:
                    self._stop_run(run)
                self._run = self._start_run(loop)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("starting the loop watchdog", exc)

    def _start_run(self, loop: asyncio.AbstractEventLoop) -> _Run:
        run = _Run(loop, self.interval)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        self._gc.acquire()
        run.gc_acquired = True  # released when the watch ends (the reused thread goes on)
        run.watch = run_watch(functools.partial(self._watch, run))
        # Scheduled after the thread is up: on a starved machine starting a thread can take
        # longer than the threshold, and that wait is the guard's, not the app's.
        if running is loop:
            self._learn_loop_thread(run)
            self._schedule(run, time.monotonic())
            run.thread_id = threading.get_ident()  # last: the watch thread samples only once it is set
        else:
            # Started from another thread: the first beat learns the loop's thread.
            loop.call_soon_threadsafe(self._beat, run)
        return run

    def stop(self) -> None:
        """Stop watching. Off the event loop it waits (up to a second) for the watch thread, which
        reports a stall still being measured; on the loop it does not wait (that would block it)."""
        try:
            with self._control:
                run, self._run = self._run, None
                if run is not None:
                    self._stop_run(run)
        except Exception as exc:  # noqa: BLE001 - fail-open
            _fault("stopping the loop watchdog", exc)

    def _stop_run(self, run: _Run) -> None:
        if run.stopped:
            return
        run.stopped = True
        run.stopped_at = time.monotonic()
        run.stop_event.set()
        handle = run.handle
        if handle is not None:
            if run.thread_id == threading.get_ident():
                handle.cancel()
            elif not run.loop.is_closed():
                try:
                    run.loop.call_soon_threadsafe(handle.cancel)
                except RuntimeError:  # closed in the meantime: its handles are gone anyway
                    pass
        watch = run.watch
        # Never waited for on an event loop (a new loop replacing the old one, a shutdown run there):
        # waiting for a thread is blocking.  Off the loop, its stall in progress is reported by then.
        if watch is not None and watch.thread is not threading.current_thread() and not on_event_loop():
            watch.done.wait(timeout=1.0)

    @property
    def thread(self) -> threading.Thread | None:
        """The thread watching the loop now (None when stopped)."""
        run = self._run
        return run.watch.thread if run is not None and run.watch is not None else None

    # -- loop side -----------------------------------------------------------

    def _schedule(self, run: _Run, now: float) -> None:
        run.due = now + run.interval
        run.handle = run.loop.call_later(run.interval, self._beat, run)

    def _learn_loop_thread(self, run: _Run) -> None:
        """On the loop thread: its CPU clock (a busy loop or one that got no CPU?) and the frames that run it."""
        try:
            run.cpu_clock = self._cpu_clock_source()
        except Exception as exc:  # noqa: BLE001 - fail-open: go without the clock
            _fault("reading the loop thread's CPU clock", exc)
            run.cpu_clock = None
        run.beat_cpu = read_cpu(run.cpu_clock)
        run.beat_at = time.monotonic()
        try:
            run.below_loop = stall_causes.frames_below_loop(sys._getframe(1))
        except Exception as exc:  # noqa: BLE001 - fail-open: go without
            _fault("reading the frames that run the loop", exc)

    def _beat(self, run: _Run) -> None:
        """Runs on the loop each interval; its lateness is how long the loop was stuck."""
        now = time.monotonic()
        if run.thread_id is None:
            self._learn_loop_thread(run)
            run.thread_id = threading.get_ident()
        cpu = read_cpu(run.cpu_clock) if run.cpu_clock is not None else None
        if now - run.due >= run.interval:
            before = run.beat_cpu
            used = cpu - before if cpu is not None and before is not None else None
            self._stall_cpu.append((run.due, used, now - run.beat_at))
            self._stalls.append((run.due, now))  # last: the watch thread reads the CPU entry once it sees this
        run.beat_cpu = cpu
        run.beat_at = now
        if not run.stopped:
            self._schedule(run, now)

    def blocked_time_between(self, start: float, end: float) -> float:
        """Seconds the loop was observed stuck within [start, end] (``time.monotonic()`` values).

        Counts heartbeats late by at least one interval; recent stalls only (a bounded ring).
        """
        stalls: list[tuple[float, float]] = []
        for _ in range(5):
            try:
                stalls = list(self._stalls)
                break
            except RuntimeError:  # appended to mid-copy; try again
                continue
        total = 0.0
        for stall_start, stall_end in stalls:
            overlap = min(end, stall_end) - max(start, stall_start)
            if overlap > 0:
                total += overlap
        # A stall that just ended may not be recorded yet: the request can finish in the
        # same loop step that unblocked, before the late heartbeat gets to run.
        run = self._run
        if run is not None and not run.stopped:
            due, now = run.due, time.monotonic()
            if now - due >= run.interval:
                total += max(0.0, min(end, now) - max(start, due))
        return total

    # -- watchdog thread -----------------------------------------------------

    def _watch(self, run: _Run) -> None:
        stall: _Stall | None = None
        while not run.stop_event.wait(run.interval):
            try:
                if run.loop.is_closed():
                    break
                due = run.due
                now = time.monotonic()
                self._tick(now)
                if stall is not None and due != stall.due:
                    self._finish(stall, self._measured(stall.due, now), ongoing=False)
                    stall = None
                if now - due <= self.sample_after or run.thread_id is None or not run.loop.is_running():
                    continue
                if stall is None:
                    stall = _Stall(due=due, run=run)
                self._sample(run, stall)
                if not stall.reported and now - due > max(_ONGOING_AFTER, 10 * self.threshold):
                    self._finish(stall, now - due, ongoing=True)
            except Exception as exc:  # noqa: BLE001 - fail-open
                _fault("watching the event loop", exc)
        if stall is not None:
            try:
                end = run.stopped_at if run.stopped_at is not None else time.monotonic()
                self._finish(stall, self._measured(stall.due, end), ongoing=False)
            except Exception as exc:  # noqa: BLE001 - fail-open
                _fault("reporting a loop stall", exc)
        if run.gc_acquired:
            run.gc_acquired = False
            self._gc.release()

    def _tick(self, now: float) -> None:
        tick = self.on_tick
        if tick is None:
            return
        try:
            tick(now)
        except Exception as exc:  # noqa: BLE001 - fail-open: the stall watch goes on
            _fault("running the watchdog's tick", exc)

    def _measured(self, due: float, fallback_end: float) -> float:
        """The stall as the heartbeat measured it when the loop came back."""
        for start, end in reversed(list(self._stalls)):
            if start == due:
                return end - start
        return max(fallback_end - due, 0.0)

    def _sample(self, run: _Run, stall: _Stall) -> None:
        if stall.samples >= _MAX_SAMPLES_PER_STALL or run.thread_id is None:
            return
        # The requests in flight are read first: the stack is analysed in Python, and should this
        # thread lose the GIL meanwhile, the stuck handler may return and its request end before a
        # later read.  Read before the stack, the table holds every request whose handler the stack
        # shows (while the loop is stuck, no request can start).
        in_flight = self._inflight.entries()
        frame = sys._current_frames().get(run.thread_id)
        if frame is None:
            return
        owner: stall_causes.StackOwner | None = None
        try:
            sample = analyse_stack(frame)
            if not sample.idle and sample.key() not in stall.locations and self.tell_causes_apart:
                owner = stall_causes.read_stack(frame)  # module names only, once per location
        finally:
            del frame  # never keep the loop's frames (and their locals) alive
        stall.samples += 1
        if sample.idle:
            stall.idle_samples += 1
            return
        key = sample.key()
        location = stall.locations.get(key)
        if location is not None:
            location.count += 1
            return
        if len(stall.locations) >= _MAX_LOCATIONS_PER_STALL:
            return
        app_code = _is_app_code(sample, owner, run.below_loop) if self.tell_causes_apart else _is_app_code(sample, None)
        request, others = self._request_for(sample, in_flight, owner, app_code)
        sample.code_ids = set()  # only needed to match the handler, right now
        stall.locations[key] = _Location(sample, 1, request, others, app_code, owner)

    def _request_for(
        self,
        sample: StackSample,
        entries: list[tuple[MutableMapping[str, Any], float]],
        owner: stall_causes.StackOwner | None = None,
        app_code: bool = True,
    ) -> tuple[RequestInfo | None, list[RequestInfo]]:
        """The request being served by the stuck code: its handler is on the stack, or it is alone
        and the stack shows app code or passes through the router (library code outside it, such as
        an HTTP client in the same loop, works for no request)."""
        in_flight = self._inflight.current(entries)
        on_stack = [info for info in in_flight if _endpoint_code_ids(info.endpoint) & sample.code_ids]
        if on_stack:
            return on_stack[-1], []
        if len(in_flight) == 1 and (
            not self.tell_causes_apart or app_code or (owner is not None and owner.in_router)
        ):
            return in_flight[0], []
        return None, in_flight[:_MAX_ROUTES_LISTED]

    def _stall_cpu_seconds(self, stall: _Stall) -> tuple[float | None, float]:
        """The loop thread's CPU time from its last beat before the stall to the stall's end, and how
        long that span was: as the late heartbeat read them, else read now (a stall still going on)."""
        for due, cpu, span in reversed(list(self._stall_cpu)):
            if due == stall.due:
                return cpu, span
        run = stall.run
        if run is None:
            return None, 0.0
        before = run.beat_cpu  # the last beat before the stall: the loop has not beaten since
        now = read_cpu(run.cpu_clock)
        return (now - before if now is not None and before is not None else None), time.monotonic() - run.beat_at

    def _finish(self, stall: _Stall, seconds: float, *, ongoing: bool) -> None:
        if stall.reported or not stall.locations:
            return  # only idle samples: the whole process was paused, not the loop
        if not ongoing and seconds <= self.threshold:
            return  # sampled early, but the loop came back within the threshold
        stall.reported = True
        ranked = sorted(stall.locations.values(), key=lambda location: -location.count)
        if self.tell_causes_apart:
            ranked = self._blamed(stall, seconds, ongoing, ranked)
            if not ranked:
                return
        diagnostic = self._diagnostic(ranked[0], ranked[1:], stall, seconds, ongoing)
        if diagnostic is None:
            self.unlocated += 1  # inside a library with no line of the app's above it: nothing to act on
            return
        try:
            self._reporter.report(diagnostic)
        except Exception as exc:  # noqa: BLE001 - fail-open: a broken sink must not break the watchdog
            _fault("reporting a loop stall", exc)

    def _blamed(self, stall: _Stall, seconds: float, ongoing: bool, ranked: list[_Location]) -> list[_Location]:
        """The locations to report, best first; none when the stall was not the app's (then noted)."""
        app = [location for location in ranked if location.app_code]
        other = [location for location in ranked if not location.app_code]
        top = other[0] if other else None
        cpu, span = self._stall_cpu_seconds(stall)
        evidence = stall_causes.StallEvidence(
            seconds=seconds,
            threshold=self.threshold,
            cpu_seconds=cpu,
            cpu_span_seconds=max(span, seconds),
            gc_seconds=self._gc.seconds_between(stall.due, stall.due + seconds),
            app_samples=sum(location.count for location in app),
            other_samples=sum(location.count for location in other),
            guard_samples=sum(location.count for location in other if location.owner and location.owner.guard),
            route_alone=bool(top and top.request is not None and top.owner and top.owner.in_router),
        )
        verdict = stall_causes.judge(evidence)
        if verdict == "app":
            return app
        if verdict == "route_framework" and top is not None and top.request is not None:
            if user_endpoint_location(top.request.endpoint) is not None:
                return [top]
            # The router has not picked the handler yet: there is no line of the app to point at.
            verdict = "server_code"
        # The note shows the place seen most often and the requests in flight then.
        seen = ranked[0]
        routes = [f"{seen.request.method} {seen.request.route}"] if seen.request else []
        routes = routes or [f"{info.method} {info.route}" for info in seen.others_in_flight]
        where = seen.sample.attributed
        self.stall_notes.add(
            stall_causes.StallNote(
                cause=cast(stall_causes.Cause, verdict),  # the verdicts left are causes
                stall_seconds=seconds,
                threshold_seconds=self.threshold,
                cpu_seconds=evidence.cpu_seconds,
                gc_seconds=evidence.gc_seconds,
                samples=stall.samples - stall.idle_samples,
                where=f"{where.filename}:{where.line}" if where else None,
                function=where.function if where else None,
                routes_in_flight=routes,
                ongoing=ongoing,
            )
        )
        return []

    def _diagnostic(
        self, best: _Location, others: list[_Location], stall: _Stall, seconds: float, ongoing: bool
    ) -> Diagnostic | None:
        """The finding, at the innermost line of the app's own; None when the stack shows none."""
        sample = best.sample
        code = "FAA101" if sample.driver else "FAA102"
        where = sample.attributed
        attributed_to = sample.attributed_to
        if (sample.innermost_user is None or sample.outside_router or not best.app_code) and best.request is not None:
            # The route's own handler, unless it is a library's (FastAPI's /openapi.json).
            endpoint_at = user_endpoint_location(best.request.endpoint)
            if endpoint_at is not None:
                where, attributed_to = endpoint_at, "endpoint"
            elif sample.outside_router:
                where = None  # the stuck work is a library route's; the app frame is only its caller
        if where is None or not is_user_file(where.filename):
            return None
        details: dict[str, Any] = {
            "stall_seconds": round(seconds, 3),
            "threshold_seconds": self.threshold,
            "function": where.function,
            "attributed_to": attributed_to,
            "stack": [f"{frame.filename}:{frame.line}" for frame in sample.user_stack],
            "samples": stall.samples - stall.idle_samples,
        }
        if ongoing:
            details["ongoing"] = True
        if sample.driver:
            details["driver"] = sample.driver
        if sample.via:
            details["via"] = sample.via
        if sample.library:
            details["library"] = sample.library
        innermost = sample.innermost_user
        if innermost is not None and innermost != where:
            details["blocking_frame"] = f"{innermost.filename}:{innermost.line}"
        if others:
            details["other_locations"] = [f"{o.sample.key()[0]}:{o.sample.key()[1]}" for o in others[:3]]
        if best.request is not None:
            details["method"] = best.request.method
            details["route"] = best.request.route
            serving = f"while serving {best.request.method} {best.request.route}"
        elif best.others_in_flight:
            details["routes_in_flight"] = [f"{info.method} {info.route}" for info in best.others_in_flight]
            count = len(best.others_in_flight)
            serving = f"while serving {count} request{'s' if count > 1 else ''} ({', '.join(details['routes_in_flight'])})"
        else:
            serving = "outside any request"
        duration = f"over {seconds:.2f} s (still blocked)" if ongoing else f"{seconds:.2f} s"
        cause = f" by a sync {sample.driver} call" if sample.driver else ""
        place = where.place
        if sample.library and not sample.driver:
            place += f" via {sample.library}"  # the app's line called into it; the stall was in there
        message = f"event loop blocked for {duration}{cause} in {place} {serving}; {fix_for(code, _FALLBACK_FIX)}"
        return Diagnostic(
            code=code,
            message=message,
            filename=where.filename,
            line=where.line,
            source="runtime",
            details=details,
        )
