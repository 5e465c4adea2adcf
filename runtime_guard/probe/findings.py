"""The probe's own findings (FAA302, FAA305, FAA401), shaped like the guard's, and ``--select/--ignore``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic, Severity
from runtime_guard.frames import FrameInfo
from runtime_guard.reporter import Reporter


def probe_finding(
    code: str,
    where: FrameInfo,
    message: str,
    *,
    severity: Severity = "warning",
    fix: str | None = None,
    **details: object,
) -> Diagnostic:
    """A finding of the probe; ``fix`` replaces the catalogue's fix when the probe knows a more precise one
    (kept in ``details["fix"]`` too, for the summary table)."""
    return Diagnostic(
        code=code,
        message=f"{message}; {fix or get_rule(code).fix}",
        filename=where.filename,
        line=where.line,
        severity=severity,
        source="runtime",
        details={"probe": True, **({"fix": fix} if fix else {}), **{k: v for k, v in details.items() if v is not None}},
    )


def report_probe_finding(
    reporter: Reporter,
    code: str,
    where: FrameInfo | None,
    message: str,
    *,
    severity: Severity = "warning",
    fix: str | None = None,
    **details: object,
) -> bool:
    """Report a probe finding at ``where``; False (nothing reported) when there is no line of the app's."""
    if where is None:
        return False
    reporter.report(probe_finding(code, where, message, severity=severity, fix=fix, **details))
    return True


def code_filter(select: Iterable[str], ignore: Iterable[str]) -> Callable[[str], bool]:
    """flake8's rule: a code is kept when its longest matching ``select`` prefix is longer than its
    longest matching ``ignore`` prefix (no ``select`` selects everything)."""
    chosen = tuple(p.strip().upper() for p in select if p.strip())
    dropped = tuple(p.strip().upper() for p in ignore if p.strip())

    def wanted(code: str) -> bool:
        code = code.upper()
        selected = max((len(p) for p in chosen if code.startswith(p)), default=-1 if chosen else 0)
        if selected < 0:
            return False
        ignored = max((len(p) for p in dropped if code.startswith(p)), default=-1)
        return selected > ignored

    return wanted
