"""The terminal form: flake8-shaped lines (editors' problem matchers still read them), then a summary."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.report.model import SHOWN_DETAILS, Finding, Problem, Report
from flake8_fastapi_antipatterns.report.sources import SourceFiles


def _tags(finding: Finding) -> str:
    d = finding.diagnostic
    tags: list[str] = [d.source]
    if finding.confirmed:
        tags.append("confirmed at runtime" if finding.is_static else "confirms a static finding")
    for key in SHOWN_DETAILS:
        if key in d.details:
            value = d.details[key]
            shown = " -> ".join(value) if isinstance(value, list) else str(value)
            tags.append(f"{key}={shown}")
    return ", ".join(tags)


def _line(finding: Finding, sources: SourceFiles | None) -> str:
    d = finding.diagnostic
    if sources is not None:
        # The guard reports absolute paths (its workers may run anywhere): show both halves alike.
        d = replace(d, filename=sources.display(d.filename))
    message = " ".join(d.format_text().splitlines())
    return f"{message}  [{_tags(finding)}]"


@dataclass(frozen=True)
class SummaryRow:
    code: str
    title: str
    problems: int
    static: int
    runtime: int
    both: int
    """Problems seen by both detectors (static findings confirmed at runtime)."""


def summary_rows(report: Report) -> list[SummaryRow]:
    """One row per code, in code order."""
    problems: dict[str, list[Problem]] = defaultdict(list)
    for problem in report.problems:
        problems[problem.code].append(problem)
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        findings[finding.diagnostic.code].append(finding)
    rows = []
    for code in report.codes():
        rule = CATALOGUE.get(code)
        of_code = findings[code]
        rows.append(
            SummaryRow(
                code=code,
                title=rule.title if rule else code,
                problems=len(problems[code]),
                static=sum(f.is_static for f in of_code),
                runtime=sum(not f.is_static for f in of_code),
                both=sum(p.both for p in problems[code]),
            )
        )
    return rows


def headline(report: Report) -> str:
    """``66 findings (23 static, 43 runtime) in 47 problems; 12 static confirmed at runtime``."""
    return (
        f"{len(report.findings)} findings ({len(report.static)} static, {len(report.runtime)} runtime) "
        f"in {len(report.problems)} problems; {len(report.confirmed_problems)} static confirmed at runtime"
    )


def render_text(report: Report, sources: SourceFiles | None = None) -> str:
    if not report.findings:
        return "no findings\n"
    out = [_line(f, sources) for f in report.findings]
    out.append("")
    out.append(headline(report))
    rows = summary_rows(report)
    width = max(len(row.title) for row in rows)
    out.append(f"  {'code':<7} {'rule':<{width}}  problems  static  runtime  confirmed")
    for row in rows:
        out.append(
            f"  {row.code:<7} {row.title:<{width}}  {row.problems:>8}  {row.static:>6}  {row.runtime:>7}  {row.both:>9}"
        )
    return "\n".join(out) + "\n"
