"""One report of static (flake8) and runtime (guard) findings: text, JSON, SARIF or HTML.

``python -m flake8_fastapi_antipatterns report --help`` for the command line; in code::

    sources = SourceFiles(root)
    report = build_report([*static_findings, *runtime_findings], sources)
    html = render_html(report, sources)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report.correlate import correlate
from flake8_fastapi_antipatterns.report.merge import merge
from flake8_fastapi_antipatterns.report.model import Finding, Report, sanitized
from flake8_fastapi_antipatterns.report.render_data import render_json, render_sarif, sarif_log
from flake8_fastapi_antipatterns.report.render_html import render_html
from flake8_fastapi_antipatterns.report.render_text import render_text
from flake8_fastapi_antipatterns.report.sources import SourceFiles


def _order(sources: SourceFiles) -> Callable[[Finding], tuple[str, int, bool, int, str]]:
    """By file and line, static before runtime (the finding before its confirmation)."""

    def key(finding: Finding) -> tuple[str, int, bool, int, str]:
        d = finding.diagnostic
        return (sources.display(d.filename), d.line, not finding.is_static, d.col, d.code)

    return key


def build_report(diagnostics: Iterable[Diagnostic], sources: SourceFiles, inputs: Sequence[str] = ()) -> Report:
    """Findings of both sources: details whitelisted, duplicates merged, static ones correlated with runtime ones."""
    merged = merge(sanitized(d) for d in diagnostics)
    static = [d for d in merged if d.source == "static"]
    runtime = [d for d in merged if d.source == "runtime"]
    findings = sorted(correlate(static, runtime, sources), key=_order(sources))
    return Report(findings=tuple(findings), inputs=tuple(inputs))


__all__ = [
    "Finding",
    "Report",
    "SourceFiles",
    "build_report",
    "render_html",
    "render_json",
    "render_sarif",
    "render_text",
    "sarif_log",
]
