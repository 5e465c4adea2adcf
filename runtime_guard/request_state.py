"""What the guard knows about the request being handled in the current task."""

from __future__ import annotations

import contextvars
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from runtime_guard.frames import FrameInfo, endpoint_location
from runtime_guard.inflight import route_template

MAX_EXCEPTION_TEXTS = 16


@dataclass
class RequestState:
    scope: MutableMapping[str, Any]
    started: float
    records_texts: bool = True
    """False when this request's guard has ``exception_texts`` off: another guard in the process
    may keep the exception-text callback running, and it must not record texts for this one."""
    last_exception: int = 0
    """id() of the exception last recorded: every line of an except block sees the same one."""
    exception_texts: list[str] = field(default_factory=list)
    """str()/repr() of exceptions raised while this request ran (for FAA303), the latest
    ``MAX_EXCEPTION_TEXTS``.  A list, not a bounded deque: one is made per request, and a
    deque costs several times more to make."""

    @property
    def route(self) -> str:
        return f"{self.scope.get('method', '')} {route_template(self.scope)}".strip()

    def endpoint_location(self) -> FrameInfo | None:
        endpoint = self.scope.get("endpoint")
        return endpoint_location(endpoint) if endpoint is not None else None


CURRENT: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar("runtime_guard_request", default=None)
