"""The special probes: health paths (FAA401), CORS (FAA301), bad bodies (FAA302), a burst (FAA305).

CORS findings come from the guard (it judges every response); the other
three are judged here, from what the app answered, and reported through the
guard's reporter so they are de-duplicated with everything else.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from runtime_guard.frames import FrameInfo
from runtime_guard.probe.bodies import bad_bodies
from runtime_guard.probe.client import BURST_ADDRESS, Outcome, Sender
from runtime_guard.probe.fields import field_site
from runtime_guard.probe.findings import report_probe_finding
from runtime_guard.probe.generate import ProbeRequest
from runtime_guard.probe.plan import Operation, RouteEntry
from runtime_guard.probe.schema import Resolver
from runtime_guard.reporter import Reporter

PROBE_COOKIE = "session=runtime-guard-probe"


def _answered(outcome: Outcome | None) -> bool:
    """What an orchestrator's health check counts as an answer: 2xx/3xx, or 503 ("not ready")."""
    return outcome is not None and outcome.status is not None and (200 <= outcome.status < 400 or outcome.status == 503)


def health_candidates(entries: list[RouteEntry], health_paths: tuple[str, ...]) -> list[str]:
    """GET routes of the route table at a health path (as the guard's start-up check matches them)."""
    wanted = [h.rstrip("/") for h in health_paths if h.strip("/")]
    found: list[str] = []
    for entry in entries:
        trimmed = entry.path.rstrip("/")
        if entry.method == "GET" and "{" not in entry.path and any(trimmed == h or trimmed.endswith(h) for h in wanted):
            if entry.path not in found:
                found.append(entry.path)
    return found


async def health_probe(sender: Sender, paths: list[str], reporter: Reporter, where: FrameInfo | None) -> str:
    """GET each health route; FAA401 when routes exist but none answers. Returns a note for the summary."""
    if not paths:
        return "health: no route at a health path (the guard reports FAA401 from the route table)"
    answers: list[str] = []
    for path in paths:
        outcome = await sender.send(ProbeRequest("GET", path, path))
        if outcome is None:
            continue
        if _answered(outcome):
            return f"health: GET {path} answered {outcome.status}"
        answers.append(f"GET {path} -> {'timeout' if outcome.timed_out else outcome.status}")
    if not answers:
        return "health: no health route could be probed (excluded or out of time)"
    if not any(d.code == "FAA401" for d in reporter.findings()):
        report_probe_finding(
            reporter,
            "FAA401",
            where,
            f"the app has health routes but none answered as a health check should ({'; '.join(answers)})",
            answers=answers,
        )
    return f"health: none answered ({'; '.join(answers)})"


async def cors_probe(sender: Sender, target: ProbeRequest, origin: str) -> None:
    """A request from a foreign origin carrying a cookie, then a preflight; the guard judges the answers."""
    cookie = [(k, v) for k, v in target.headers if k.lower() != "cookie"]
    simple = ProbeRequest(
        target.method,
        target.template,
        target.path,
        list(target.query),
        [*cookie, ("origin", origin), ("cookie", PROBE_COOKIE)],
        note="CORS: foreign origin with a cookie",
    )
    await sender.send(simple)
    preflight = ProbeRequest(
        "OPTIONS",
        target.template,
        target.path,
        list(target.query),
        [("origin", origin), ("access-control-request-method", target.method), ("access-control-request-headers", "content-type")],
        note="CORS: preflight from a foreign origin",
    )
    await sender.send(preflight)


async def body_probe(
    sender: Sender,
    operation: Operation,
    valid: ProbeRequest,
    resolver: Resolver,
    oversized_bytes: int,
    reporter: Reporter,
    where: FrameInfo | None,
) -> list[str]:
    """Send the bad bodies; report what was accepted (FAA302) and return it for the summary.

    Each unbounded string field is tried on its own and reported on its own, at
    the field's line when the model's source is found, with that field's fix.
    Any other bad body accepted (a padded free-form object, a wrong type, text
    that is not JSON) means the body reached the handler unvalidated: one
    finding with the catalogue's fix, and the route's probing stops there.
    """
    accepted: list[str] = []
    for bad in bad_bodies(operation, valid, resolver, oversized_bytes):
        outcome = await sender.send(bad.request)
        if outcome is None or not outcome.ok:
            continue
        if operation.body is None and outcome.body_read == 0:
            continue  # the handler never read the body: it was not "accepted", just ignored
        accepted.append(bad.note)
        if bad.field is not None:
            field = bad.field
            site = field_site(operation.endpoint, field) or where
            what = f"past its declared maxLength {field.limit}" if field.limit is not None else "it declares no length bound"
            report_probe_finding(
                reporter,
                "FAA302",
                site,
                f"{operation.label} accepted {bad.size} in `{field.label}` (status {outcome.status}): {what}",
                fix=field.fix(),
                route=operation.label,
                status=outcome.status,
                probe_body=bad.note,
                field=field.label,
            )
            continue
        report_probe_finding(
            reporter,
            "FAA302",
            where,
            f"{operation.label} accepted {bad.note} with status {outcome.status}",
            route=operation.label,
            status=outcome.status,
            probe_body=bad.note,
        )
        break
    return accepted


@dataclass
class BurstResult:
    target: str
    wanted: int
    sent: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def limited(self) -> bool:
        return self.statuses[429] > 0

    @property
    def complete(self) -> bool:
        return self.sent >= self.wanted


async def burst_probe(sender: Sender, target: ProbeRequest, count: int, window: float) -> BurstResult:
    """``count`` requests to one route from one client within ``window`` seconds; stops at the first 429."""
    result = BurstResult(target.label, count)
    started = time.monotonic()
    while result.sent < count and time.monotonic() - started < window:
        outcome = await sender.send(target, address=BURST_ADDRESS)
        if outcome is None:
            break
        result.sent += 1
        if outcome.status is not None:
            result.statuses[outcome.status] += 1
            if outcome.status == 429:
                break
    result.seconds = time.monotonic() - started
    return result
