"""Which routes the probe really exercised, and why the others were not.

A route counts as exercised only when one of its valid requests was answered
2xx: a route that answered every request 401, 404 or 422 never ran its
handler's body, so the runtime codes say nothing about it.  Each route that
was not exercised says why, from the statuses it answered, so the user knows
what to hand over (credentials, real ids) or to exclude.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

State = Literal["exercised", "rejected", "skipped", "not sent", "websocket"]

AUTH_STATUSES = frozenset({401, 403})
CREDENTIALS_HINT = "hand over credentials with --header 'Authorization: Bearer ...' or --client-factory"


@dataclass
class RouteCoverage:
    label: str
    """``GET /items/{item_id}``, or ``WEBSOCKET /ws``."""
    state: State
    statuses: Counter[int] = field(default_factory=Counter)
    why: str = ""

    @property
    def exercised(self) -> bool:
        return self.state == "exercised"

    @property
    def answers(self) -> str:
        return ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))


@dataclass
class Answers:
    """The statuses each operation's valid requests got, and the first body of each refusal."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    timeouts: Counter[str] = field(default_factory=Counter)
    details: dict[tuple[str, int], str] = field(default_factory=dict)

    def record(self, label: str, status: int | None, detail: str) -> None:
        if status is None:
            self.timeouts[label] += 1
            return
        self.statuses.setdefault(label, Counter())[status] += 1
        if detail:
            self.details.setdefault((label, status), detail)


def _detail(text: str) -> str:
    """FastAPI's ``{"detail": ...}`` as one short line: the message, or the first validation error's place and message."""
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:120]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail[:120]
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(part) for part in first.get("loc") or ())
        return f"{where}: {first.get('msg', '')}"[:120] + (f" (+{len(detail) - 1} more)" if len(detail) > 1 else "")
    return " ".join(text.split())[:120]


def _why(label: str, statuses: Counter[int], answers: Answers, everyone_refused: int | None) -> str:
    first = min(statuses, key=lambda s: (-statuses[s], s))
    said = _detail(answers.details.get((label, first), ""))
    said = f" ({said})" if said else ""
    if set(statuses) <= AUTH_STATUSES:
        if everyone_refused is not None:
            return f"every route answered {everyone_refused}{said}: an app-wide dependency or middleware; {CREDENTIALS_HINT}"
        return f"authentication or permission{said}: {CREDENTIALS_HINT}"
    if set(statuses) == {404}:
        return f"not found{said}: the generated path values are not ids of your data"
    if set(statuses) == {422}:
        return f"the app rejected the generated values{said}: the handler checks more than the schema says"
    if all(status >= 500 for status in statuses):
        return f"the handler failed every time ({'/'.join(map(str, sorted(statuses)))}: see the findings)"
    if all(300 <= status < 400 for status in statuses):
        return "answered only with redirects"
    return f"no 2xx answer{said}"


def route_coverage(
    operations: list[str],
    skipped: dict[str, str],
    answers: Answers,
    websockets: list[str],
) -> list[RouteCoverage]:
    """One row per operation in plan order, then the websocket routes."""
    sent = [label for label in operations if label in answers.statuses or label in answers.timeouts]
    refused = [
        label for label in sent
        if label in answers.statuses and not any(200 <= s < 300 for s in answers.statuses[label])
    ]
    # Every route that was sent something said no with the same auth status: one gate in front of all of them.
    shared = {status for label in refused for status in answers.statuses[label]}
    everyone_refused = (
        next(iter(shared)) if len(sent) >= 2 and len(refused) == len(sent) and len(shared) == 1 and shared <= AUTH_STATUSES else None
    )
    rows: list[RouteCoverage] = []
    for label in operations:
        if label in skipped:
            rows.append(RouteCoverage(label, "skipped", why=skipped[label]))
            continue
        statuses = answers.statuses.get(label, Counter())
        if any(200 <= status < 300 for status in statuses):
            rows.append(RouteCoverage(label, "exercised", statuses))
        elif statuses:
            rows.append(RouteCoverage(label, "rejected", statuses, _why(label, statuses, answers, everyone_refused)))
        elif label in answers.timeouts:
            rows.append(RouteCoverage(label, "rejected", why=f"timed out ({answers.timeouts[label]} request(s))"))
        else:
            rows.append(RouteCoverage(label, "not sent", why="the time budget ended first (raise --time-budget)"))
    rows.extend(
        RouteCoverage(label, "websocket", why="websocket route: not exercised (the probe sends HTTP requests only)")
        for label in websockets
    )
    return rows


def app_wide_refusal(rows: list[RouteCoverage]) -> str | None:
    """A note when one status refused every route that was sent something (401 from an app-wide dependency)."""
    for row in rows:
        if row.state == "rejected" and row.why.startswith("every route answered"):
            return f"coverage: {row.why}"
    return None
