"""The records a report is made of: findings, whether both detectors saw them, and the details safe to show."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic

SHOWN_DETAILS: tuple[str, ...] = ("route", "method", "stall_seconds", "count", "function", "chain")
"""The only ``details`` keys a report shows: runtime details may carry anything else (stacks, exception text)."""

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
    """One finding of the report; ``confirmed`` when the other detector saw the same code in the same function."""

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


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    inputs: tuple[str, ...] = ()
    """What was read, as the user named it (``flake8.txt``, ``lint: app/``, ``-``)."""

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

    def codes(self) -> list[str]:
        return sorted({f.diagnostic.code for f in self.findings})
