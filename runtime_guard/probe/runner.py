"""The probe's run: plan, start the app under the guard, exercise it, probe it, stop it.

Order matters for a bounded budget: one valid request per route first (the
cheapest way to see most runtime codes), then the special probes, then the
remaining examples round-robin until ``max_examples`` or the time budget.  A
route that answered slower than the slow-request threshold (or timed out)
gets no further examples: its finding is in, and it would eat the budget.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.options import DEFAULT_HEALTH_PATHS
from flake8_fastapi_antipatterns.sinks import MemorySink, Sink
from runtime_guard.config import DEFAULT_BLOCK_THRESHOLD, GuardConfig
from runtime_guard.detectors.location import app_location
from runtime_guard.frames import FrameInfo, is_user_file, user_endpoint_location
from runtime_guard.middleware import ASGIApp, RuntimeGuard
from runtime_guard.offloop import run_off_loop
from runtime_guard.probe.client import Deadline, Outcome, PathFilter, Sender, SendStats
from runtime_guard.probe.coverage import Answers, RouteCoverage, app_wide_refusal, route_coverage
from runtime_guard.probe.credentials import ClientSetup, call_factory
from runtime_guard.probe.findings import code_filter, report_probe_finding
from runtime_guard.probe.generate import ProbeRequest, requests_for
from runtime_guard.probe.lifespan import Lifespan
from runtime_guard.probe.plan import Operation, build_plan, openapi_document, route_entries, websocket_entries
from runtime_guard.probe.probes import body_probe, burst_probe, cors_probe, health_candidates, health_probe
from runtime_guard.probe.progress import Progress
from runtime_guard.probe.schema import Resolver, SchemaError

DEFAULT_METHODS = frozenset({"GET", "POST"})
DESTRUCTIVE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class ProbeOptions:
    max_examples: int = 10
    """Valid requests per operation at most (the first is the simplest hypothesis draws)."""
    time_budget: float = 60.0
    """Seconds for the whole run, start-up included; no request starts after it."""
    request_timeout: float = 10.0
    slow_request_threshold: float = 1.0
    block_threshold: float = DEFAULT_BLOCK_THRESHOLD
    burst: int = 120
    burst_window: float = 10.0
    oversized_bytes: int = 1024 * 1024
    exclude_paths: tuple[str, ...] = ()
    methods: frozenset[str] = DEFAULT_METHODS
    health_paths: tuple[str, ...] = DEFAULT_HEALTH_PATHS
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    seed: int = 0
    base_url: str = "http://localhost"
    startup_timeout: float = 30.0
    headers: tuple[tuple[str, str], ...] = ()
    """Sent with every request (``--header``), replacing generated headers of the same name."""
    client_factory: Callable[..., Any] | None = None
    """Called once after start-up, with the app when it takes an argument (``--client-factory``):
    returns headers, a :class:`ClientSetup` or a client to take credentials from, or None."""


@dataclass
class ProbeStats:
    operations: int = 0
    exercised: list[str] = field(default_factory=list)
    """Operations a valid request of which was answered 2xx."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Operation -> why no request was sent to it."""
    coverage: list[RouteCoverage] = field(default_factory=list)
    """One row per operation (and websocket route): exercised, rejected (and why), skipped (and why)."""
    credentials: str = ""
    """What the user handed over (header names, cookie names), never their values."""
    notes: list[str] = field(default_factory=list)
    send: SendStats = field(default_factory=SendStats)
    seconds: float = 0.0
    lifespan: bool = True


@dataclass
class ProbeResult:
    findings: list[Diagnostic]
    """Distinct findings kept by select/ignore, each with ``details["count"]``, in code order."""
    first_seen: dict[tuple[str, str, int], float]
    """``time.time()`` when each finding was first reported (for the report's stall timeline)."""
    stats: ProbeStats


def _caller_frames() -> frozenset[str]:
    """``file:line`` of the user frames that called the probe (they wait, suspended, while it runs)."""
    found: set[str] = set()
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            found.add(f"{frame.f_code.co_filename}:{frame.f_lineno}")
        frame = frame.f_back
    return frozenset(found)


def _own_stall(finding: Diagnostic, callers: frozenset[str]) -> bool:
    """A loop stall outside any request with none of the app's code on the stack.

    The only user frames such a stall can show are the caller's (a test calling
    ``asyncio.run(probe.run())``), suspended below the loop: what stalled was the probe.
    """
    details = finding.details
    stack = details.get("stack") or []
    return (
        finding.code in ("FAA101", "FAA102")
        and "route" not in details
        and "routes_in_flight" not in details
        and isinstance(stack, list)
        and all(entry in callers for entry in stack)
    )


class _Clock:
    """A sink that remembers when each distinct finding arrived (the reporter emits each once)."""

    def __init__(self) -> None:
        self.first_seen: dict[tuple[str, str, int], float] = {}

    def emit(self, diagnostic: Diagnostic) -> None:
        self.first_seen.setdefault(diagnostic.location_key(), time.time())

    def close(self) -> None:
        pass


def _cheapest(outcomes: dict[str, Outcome], operations: list[Operation], health: set[str]) -> ProbeRequest | None:
    """The GET request that answered fastest with 2xx (else below 500, not refused): the burst's and CORS probe's target."""
    candidates: list[Outcome] = []
    for operation in operations:
        outcome = outcomes.get(operation.label)
        if operation.method == "GET" and outcome is not None and not outcome.timed_out and operation.path not in health:
            candidates.append(outcome)
    # A route that refused the probe (401/403) says nothing of a limiter that sits behind the authentication.
    answered = [o for o in candidates if o.ok] or [
        o for o in candidates if o.status is not None and o.status < 500 and o.status not in (401, 403, 429)
    ]
    return min(answered, key=lambda o: o.duration).request if answered else None


class Probe:
    def __init__(
        self,
        app: ASGIApp,
        options: ProbeOptions,
        *,
        app_site: FrameInfo | None = None,
        sinks: Sequence[Sink] = (),
        progress: Progress | None = None,
        environ: dict[str, str] | None = None,
        on_request: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self.app_site = app_site or app_location(app)
        self.sinks = list(sinks)
        self.memory = MemorySink()
        self.clock = _Clock()
        self.guard = RuntimeGuard(
            app,
            sinks=[self.memory, self.clock, *sinks],
            config=GuardConfig(
                block_threshold=options.block_threshold,
                slow_request_threshold=options.slow_request_threshold,
                health_paths=options.health_paths,
            ),
            environ=environ,
        )
        # App-wide findings the guard cannot place (an app a factory builds) go where the app comes from.
        self.guard.app_site = self.app_site
        self.progress = progress or Progress(None, budget=options.time_budget)
        self.wanted: Callable[[str], bool] = code_filter(options.select, options.ignore)
        self.stats = ProbeStats()
        self.answers = Answers()
        self.on_request = on_request
        self._callers: frozenset[str] = frozenset()
        self.plan_order: list[Operation] = []

    # -- planning --------------------------------------------------------------
    def _plan(self, deadline: Deadline) -> tuple[list[Operation], dict[str, list[ProbeRequest]], Resolver]:
        document: dict[str, Any] | None
        try:
            document = openapi_document(self.app)
        except Exception as exc:  # noqa: BLE001 - a broken schema still leaves the route table
            document = None
            self.stats.notes.append(f"the OpenAPI document could not be built ({type(exc).__name__}: {exc}); using the route table")
        resolver = Resolver(document)
        operations = build_plan(self.app, document)
        self.plan_order = operations
        self.stats.operations = len(operations)
        exclude = PathFilter(self.options.exclude_paths)
        chosen: list[Operation] = []
        examples: dict[str, list[ProbeRequest]] = {}
        for operation in operations:
            if exclude.excludes(operation.path):
                self.stats.skipped[operation.label] = "excluded path"
                continue
            if operation.method not in self.options.methods:
                why = "destructive method" if operation.method in DESTRUCTIVE_METHODS else "method not selected"
                self.stats.skipped[operation.label] = f"{why} (--include-methods {operation.method})"
                continue
            if deadline.expired:
                self.stats.skipped[operation.label] = "time budget spent while planning"
                continue
            try:
                drawn = requests_for(operation, resolver, self.options.max_examples, random_seed=self.options.seed)
            except Exception as exc:  # noqa: BLE001 - one odd schema must not stop the run (hypothesis errors included)
                why = str(exc) if isinstance(exc, SchemaError) else f"{type(exc).__name__}: {exc}"
                self.stats.skipped[operation.label] = f"no valid request could be generated ({why})"
                continue
            if not drawn:
                self.stats.skipped[operation.label] = "no valid request could be generated"
                continue
            chosen.append(operation)
            examples[operation.label] = drawn
        return chosen, examples, resolver

    # -- the run ---------------------------------------------------------------
    def _close(self) -> None:
        self.guard.close()
        for sink in self.sinks:  # the caller's sinks: a SarifSink writes its log on close
            sink.close()

    async def run(self) -> ProbeResult:
        options = self.options
        self._callers = _caller_frames()
        deadline = Deadline(options.time_budget)
        operations, examples, resolver = self._plan(deadline)
        entries = route_entries(self.app)
        health_paths = health_candidates(entries, options.health_paths)
        body_routes = [op for op in operations if op.body is not None or op.may_read_body]
        self.progress.expect(
            sum(len(v) for v in examples.values())
            + (len(health_paths) if self.wanted("FAA401") else 0)
            + (2 if self.wanted("FAA301") else 0)
            + (3 * len(body_routes) if self.wanted("FAA302") else 0)
            + (options.burst if self.wanted("FAA305") else 0)
        )
        lifespan = Lifespan(self.guard, timeout=options.startup_timeout)
        try:
            await lifespan.startup()
        except BaseException:
            self.guard.close()  # whatever the guard started before the app gave up
            raise
        self.stats.lifespan = lifespan.supported
        try:
            setup = ClientSetup(headers=list(options.headers))
            if options.client_factory is not None:
                setup = setup.merged(await call_factory(options.client_factory, self.app))
        except BaseException:
            try:
                await lifespan.shutdown()
            finally:
                self.guard.close()
            raise
        self.stats.credentials = setup.described
        sender = Sender(
            self.guard,
            state=lifespan.state,
            deadline=deadline,
            request_timeout=options.request_timeout,
            exclude=PathFilter(options.exclude_paths),
            methods=options.methods,
            base_url=options.base_url,
            credentials=setup,
            on_sent=lambda request: self.progress.advance(f"{request.label} {request.note}".strip()),
            on_outcome=self.on_request,
        )
        try:
            await self._exercise(sender, operations, examples, resolver, set(health_paths), health_paths)
        finally:
            await sender.aclose()
            self.progress.close()
            try:
                await lifespan.shutdown()
            finally:
                # Off the loop: there closing waits for the sinks' queued writes and the watchdog's
                # last report, so the files are complete when the probe returns.
                await run_off_loop(self._close)
        self.stats.send = sender.stats
        self.stats.seconds = deadline.elapsed
        if sender.stats.timeouts:
            self.stats.notes.append(f"timed out after {options.request_timeout:g} s: {', '.join(sorted(set(sender.stats.timeouts)))}")
        for reason, count in sorted(sender.stats.refused.items()):
            self.stats.notes.append(f"not sent ({reason}): {count} request(s)")
        self._cover()
        findings = [d for d in self._located(self.guard.reporter.findings()) if self.wanted(d.code)]
        findings.sort(key=lambda d: (d.code, d.filename, d.line))
        return ProbeResult(findings, dict(self.clock.first_seen), self.stats)

    def _located(self, findings: list[Diagnostic]) -> list[Diagnostic]:
        """The guard's findings as the probe reports them.

        A loop stall outside any request with none of the app's code on the stack is the
        probe's own work (or a busy machine pausing the process): dropped.  (App-level findings
        the guard cannot place itself go to ``app_site``, which the probe hands the guard.)
        """
        stalls = [d for d in findings if _own_stall(d, self._callers)]
        if stalls:
            self.stats.notes.append(
                f"ignored {len(stalls)} loop stall(s) outside any request with no app code on the stack "
                "(the probe's own work or a busy machine)"
            )
        return [d for d in findings if not _own_stall(d, self._callers)]

    async def _exercise(
        self,
        sender: Sender,
        operations: list[Operation],
        examples: dict[str, list[ProbeRequest]],
        resolver: Resolver,
        health: set[str],
        health_paths: list[str],
    ) -> None:
        options = self.options
        reporter = self.guard.reporter
        if self.wanted("FAA401"):
            self.stats.notes.append(await health_probe(sender, health_paths, reporter, self.app_site))
        # One valid request per operation: the first (simplest) example.
        first: dict[str, Outcome] = {}
        done: set[str] = set()
        for operation in operations:
            outcome = await self._valid(sender, examples[operation.label][0])
            if outcome is None:
                continue
            first[operation.label] = outcome
            if outcome.timed_out or outcome.duration > options.slow_request_threshold:
                done.add(operation.label)
        target = _cheapest(first, operations, health)
        if self.wanted("FAA301"):
            if target is not None:
                await cors_probe(sender, target, self.guard.config.cors_probe_origins[0])
            else:
                self.stats.notes.append("CORS: no GET route answered, nothing to probe")
        if self.wanted("FAA302"):
            for operation in operations:
                if operation.body is None and not operation.may_read_body:
                    continue
                requests = examples[operation.label]
                valid = next((r for r in requests if r.has_json_body), requests[0])
                handler = user_endpoint_location(operation.endpoint) if operation.endpoint is not None else None
                where = handler or self.app_site
                accepted = await body_probe(sender, operation, valid, resolver, options.oversized_bytes, reporter, where)
                if accepted:
                    self.stats.notes.append(f"bodies: {operation.label} accepted {'; '.join(accepted)}")
        if self.wanted("FAA305") and options.burst > 0:
            await self._burst(sender, target)
        # The remaining examples, round-robin: every route gets its share of the budget.
        for index in range(1, options.max_examples):
            pending = [op for op in operations if op.label not in done and index < len(examples[op.label])]
            if not pending or sender.deadline.expired:
                break
            for operation in pending:
                outcome = await self._valid(sender, examples[operation.label][index])
                if outcome is None:
                    continue
                if outcome.timed_out or outcome.duration > options.slow_request_threshold:
                    done.add(operation.label)
        if sender.deadline.expired:
            self.stats.notes.append(f"the time budget ({options.time_budget:g} s) ended the run")

    async def _valid(self, sender: Sender, request: ProbeRequest) -> Outcome | None:
        """Send one of the generated valid requests and count its answer for the coverage."""
        outcome = await sender.send(request)
        if outcome is not None:
            self.answers.record(request.label, outcome.status, outcome.detail)
        return outcome

    def _cover(self) -> None:
        labels = [op.label for op in self.plan_order]
        websockets = [f"{entry.method} {entry.path}" for entry in websocket_entries(self.app)]
        self.stats.coverage = route_coverage(labels, self.stats.skipped, self.answers, websockets)
        self.stats.exercised = [row.label for row in self.stats.coverage if row.exercised]
        note = app_wide_refusal(self.stats.coverage)
        if note is not None:
            self.stats.notes.append(note)

    async def _burst(self, sender: Sender, target: ProbeRequest | None) -> None:
        options = self.options
        if sender.stats.rate_limited is not None:
            self.stats.notes.append(f"burst: not needed, {sender.stats.rate_limited} was already answered 429")
            return
        if target is None:
            self.stats.notes.append("burst: no GET route answered, nothing to burst")
            return
        result = await burst_probe(sender, target, options.burst, options.burst_window)
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items()))
        if result.limited:
            self.stats.notes.append(f"burst: {target.label} answered 429 after {result.sent} requests")
        elif not result.complete:
            self.stats.notes.append(
                f"burst: inconclusive, {result.sent} of {result.wanted} requests to {target.label} in {result.seconds:.1f} s"
            )
        else:
            report_probe_finding(
                self.guard.reporter,
                "FAA305",
                self.app_site,
                f"{result.sent} requests to {target.label} from one client in {result.seconds:.1f} s drew no 429 ({statuses})",
                route=target.label,
                requests=result.sent,
                seconds=round(result.seconds, 3),
            )
            self.stats.notes.append(f"burst: {result.sent} requests to {target.label}, no 429")
