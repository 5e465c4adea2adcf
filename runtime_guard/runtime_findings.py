"""A runtime finding as the guard's parts report it: the catalogue's fix appended, sent fail-open."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flake8_fastapi_antipatterns import catalogue
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from runtime_guard.frames import FrameInfo
from runtime_guard.reporter import Reporter


def fix_for(code: str, fallbacks: Mapping[str, str]) -> str:
    """The catalogue's fix for ``code``; the part's own text where the catalogue does not know it
    (a partial install)."""
    try:
        return catalogue.get(code).fix
    except KeyError:
        return fallbacks.get(code, "")


def report_at(
    reporter: Reporter,
    code: str,
    message: str,
    where: FrameInfo,
    details: dict[str, Any],
    *,
    fix: str,
    fault: Callable[[str, BaseException], None],
    failing: str,
) -> None:
    """Send a finding at ``where``; a sink that raises is logged once (as ``failing``), never raised."""
    diagnostic = Diagnostic(
        code=code,
        message=f"{message}; {fix}",
        filename=where.filename,
        line=where.line,
        source="runtime",
        details=details,
    )
    try:
        reporter.report(diagnostic)
    except Exception as exc:  # noqa: BLE001 - fail-open: a broken sink must not break the app's work
        fault(failing, exc)


__all__ = ["fix_for", "report_at"]
