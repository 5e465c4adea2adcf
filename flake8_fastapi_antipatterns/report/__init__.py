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
from flake8_fastapi_antipatterns.report.model import Finding, Problem, Report, sanitized
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


def _problem_order(sources: SourceFiles) -> Callable[[Problem], tuple[str, int, str, int]]:
    def key(problem: Problem) -> tuple[str, int, str, int]:
        d = problem.lead.diagnostic
        return (sources.display(d.filename), d.line, d.code, d.col)

    return key


def build_report(diagnostics: Iterable[Diagnostic], sources: SourceFiles, inputs: Sequence[str] = ()) -> Report:
    """Findings of both sources: details whitelisted, duplicates merged, grouped into problems."""
    merged = merge(sanitized(d) for d in diagnostics)
    static = [d for d in merged if d.source == "static"]
    runtime = [d for d in merged if d.source == "runtime"]
    correlation = correlate(static, runtime, sources)
    findings = sorted(correlation.findings, key=_order(sources))
    problems = sorted(correlation.problems, key=_problem_order(sources))
    return Report(findings=tuple(findings), inputs=tuple(inputs), problems=tuple(problems))


__all__ = [
    "Finding",
    "Problem",
    "Report",
    "SourceFiles",
    "build_report",
    "render_html",
    "render_json",
    "render_sarif",
    "render_text",
    "sarif_log",
]
