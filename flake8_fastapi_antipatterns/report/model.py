"""The records a report is made of: findings, whether both detectors saw them, and the details safe to show."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic, Severity

SHOWN_DETAILS: tuple[str, ...] = ("route", "method", "stall_seconds", "count", "function", "chain", "exception")
"""The only ``details`` keys a report shows: runtime details may carry anything else (stacks, exception text).

``exception`` is the escaped exception's class name (FAA304), never its text."""

KEPT_DETAILS: tuple[str, ...] = (*SHOWN_DETAILS, "time")
"""What a report keeps at all: the shown keys plus the time a runtime finding was recorded (for the timeline)."""

STALL_CODES: frozenset[str] = frozenset({"FAA101", "FAA102"})

_MAX_TEXT = 300
_MAX_ITEMS = 20


def _safe_value(value: Any) -> Any:
    """A JSON scalar, or a short list of strings; anything else is dropped (None)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if isinstance(value, (list, tuple)):
        return [str(item)[:_MAX_TEXT] for item in value[:_MAX_ITEMS]]
    return None


def safe_details(details: dict[str, Any], keys: Sequence[str] = KEPT_DETAILS) -> dict[str, Any]:
    """The whitelisted part of ``details``, with values bounded in size."""
    kept: dict[str, Any] = {}
    for key in keys:
        if key in details:
            value = _safe_value(details[key])
            if value is not None:
                kept[key] = value
    return kept


def sanitized(diagnostic: Diagnostic) -> Diagnostic:
    """A copy of ``diagnostic`` whose details hold only whitelisted keys."""
    return dataclasses.replace(diagnostic, details=safe_details(diagnostic.details))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass(frozen=True)
class Finding:
    """One finding of the report; ``confirmed`` when the other detector saw the same problem
    (the same code in the same function; for FAA301/FAA304, the same app: see ``correlate``)."""

    diagnostic: Diagnostic
    confirmed: bool = False
    related: tuple[Diagnostic, ...] = field(default=(), compare=False)
    """The findings of the other source that match this one."""

    @property
    def is_static(self) -> bool:
        return self.diagnostic.source == "static"

    @property
    def stall_seconds(self) -> float | None:
        """How long the event loop stalled, for runtime FAA101/FAA102 findings that say so."""
        d = self.diagnostic
        if d.source != "runtime" or d.code not in STALL_CODES:
            return None
        return _number(d.details.get("stall_seconds"))

    @property
    def count(self) -> int:
        """How often the runtime guard saw it (1 when not counted)."""
        value = _number(self.diagnostic.details.get("count"))
        return max(int(value), 1) if value is not None else 1

    @property
    def time(self) -> float | None:
        return _number(self.diagnostic.details.get("time"))

    def to_dict(self) -> dict[str, Any]:
        record = self.diagnostic.to_dict()
        record["confirmed"] = self.confirmed
        return record


_SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True)
class Problem:
    """One thing to fix: a static finding with the runtime evidence of it, or runtime evidence alone.

    Two static findings of one code in one function are two problems (two lines to change); a
    runtime finding that matches both backs each of them.
    """

    static: Finding | None
    runtime: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        if self.static is None and not self.runtime:
            raise ValueError("a problem holds at least one finding")

    @property
    def lead(self) -> Finding:
        """The finding that says where to fix it: the static one when there is one."""
        return self.static if self.static is not None else self.runtime[0]

    @property
    def code(self) -> str:
        return self.lead.diagnostic.code

    @property
    def findings(self) -> tuple[Finding, ...]:
        return ((self.static,) if self.static is not None else ()) + self.runtime

    @property
    def severity(self) -> Severity:
        """The gravest severity among its findings (a runtime error outranks a static warning)."""
        return min((f.diagnostic.severity for f in self.findings), key=lambda s: _SEVERITY_RANK.get(s, 3))

    @property
    def both(self) -> bool:
        """Seen by both detectors: a static finding confirmed at runtime."""
        return self.static is not None and bool(self.runtime)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    inputs: tuple[str, ...] = ()
    """What was read, as the user named it (``flake8.txt``, ``lint: app/``, ``-``)."""
    problems: tuple[Problem, ...] = ()
    """The findings grouped into things to fix (each finding is in at least one problem)."""

    @property
    def static(self) -> list[Finding]:
        return [f for f in self.findings if f.is_static]

    @property
    def runtime(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_static]

    @property
    def confirmed(self) -> list[Finding]:
        """Static findings the runtime guard confirmed."""
        return [f for f in self.findings if f.is_static and f.confirmed]

    @property
    def stalls(self) -> list[Finding]:
        return [f for f in self.findings if f.stall_seconds is not None]

    @property
    def confirmed_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.both]

    def codes(self) -> list[str]:
        return sorted({f.diagnostic.code for f in self.findings})
