"""Duplicates out: the same static finding read twice, the same runtime finding from several workers."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

from flake8_fastapi_antipatterns.diagnostics import Diagnostic


def _key(diagnostic: Diagnostic) -> tuple[str, str, int, str]:
    return (diagnostic.code, os.path.normpath(diagnostic.filename), diagnostic.line, diagnostic.source)


def _count(diagnostic: Diagnostic) -> int:
    value = diagnostic.details.get("count")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _stall(diagnostic: Diagnostic) -> float:
    value = diagnostic.details.get("stall_seconds")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def merge(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """One finding per code, file, line and source, in first-seen order.

    Static repeats are dropped.  Runtime repeats (one JSON-lines file per
    worker, or several runs) add up their ``count`` and keep the longest stall
    and the earliest time.
    """
    merged: dict[tuple[str, str, int, str], Diagnostic] = {}
    for diagnostic in diagnostics:
        key = _key(diagnostic)
        first = merged.get(key)
        if first is None:
            merged[key] = diagnostic
        elif diagnostic.source == "runtime":
            details = dict(first.details)
            details["count"] = _count(first) + _count(diagnostic)
            if _stall(diagnostic) > _stall(first):
                details["stall_seconds"] = diagnostic.details["stall_seconds"]
            times = [
                t for t in (first.details.get("time"), diagnostic.details.get("time")) if isinstance(t, (int, float))
            ]
            if times:
                details["time"] = min(times)
            merged[key] = dataclasses.replace(first, details=details)
    return list(merged.values())
