"""What the guard knows about the request being handled in the current task."""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from runtime_guard.frames import FrameInfo, user_endpoint_location
from runtime_guard.inflight import route_template

if TYPE_CHECKING:
    from runtime_guard.outbound.watch import OutboundWatch

MAX_EXCEPTION_TEXTS = 16


class RequestState:
    """One request's state, made for every request the guard serves.

    A plain class rather than a dataclass: attributes that change on few requests are
    defaults on the class, set on the instance only when they change, since each attribute
    ``__init__`` sets costs every request again.
    """

    records_texts: bool = True
    """False when this request's guard has ``exception_texts`` off: another guard in the process
    may keep the exception-text callback running, and it must not record texts for this one."""
    last_exception: int = 0
    """id() of the exception last recorded: every line of an except block sees the same one."""
    exception_texts: Sequence[str] = ()
    """str()/repr() of exceptions the app handled while this request ran (for FAA303), the latest
    ``MAX_EXCEPTION_TEXTS``: a list once the first is recorded (``record_text``), the class's
    empty tuple until then.  A list, not a bounded deque: a deque costs several times more to make."""

    def __init__(self, scope: MutableMapping[str, Any], started: float) -> None:
        self.scope = scope
        self.started = started
        """``time.monotonic()`` when the request reached the guard."""

    def record_text(self, text: str) -> None:
        """Keep ``text`` (once) among the request's exception texts, the latest ``MAX_EXCEPTION_TEXTS``."""
        texts = self.exception_texts
        if not isinstance(texts, list):
            texts = self.exception_texts = []
        if text and text not in texts:
            texts.append(text)
            if len(texts) > MAX_EXCEPTION_TEXTS:
                del texts[0]  # keep the latest: the one a handler echoes

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.route}>"

    @property
    def route(self) -> str:
        return f"{self.scope.get('method', '')} {route_template(self.scope)}".strip()

    @property
    def outbound(self) -> OutboundWatch | None:
        """What watches this request's outbound HTTP calls (its guard's), if anything does."""
        return None

    def endpoint_location(self) -> FrameInfo | None:
        """The ``def`` line of the route's handler, when it is the app's own (not a library's route)."""
        endpoint = self.scope.get("endpoint")
        return user_endpoint_location(endpoint) if endpoint is not None else None


CURRENT: contextvars.ContextVar[int] = contextvars.ContextVar("runtime_guard_request", default=0)
"""The key in ``ACTIVE`` of the request the current task (or worker thread) is serving; 0: none.

A number rather than the state itself: under uvicorn, a context variable set to a gc-tracked
object in every request's task set off the garbage collector every fifty requests or so (full
collections included), about 3% of a trivial route's time; set to an int, it does not.
"""

ACTIVE: dict[int, RequestState] = {}
"""The requests being served in this process, by key: the guard adds each for as long as it runs."""

_keys = itertools.count(1)
next_key = _keys.__next__
"""A new key: never one used before, so a task that outlives its request never finds another's state."""


def current() -> RequestState | None:
    """The state of the request the calling task or worker thread is serving, if any."""
    return ACTIVE.get(CURRENT.get())
