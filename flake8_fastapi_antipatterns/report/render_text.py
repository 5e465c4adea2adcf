"""The terminal form: flake8-shaped lines (editors' problem matchers still read them), then a summary."""

from __future__ import annotations

from dataclasses import replace

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.report.model import SHOWN_DETAILS, Finding, Report
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


def summary_rows(report: Report) -> list[tuple[str, str, int, int, int]]:
    """``(code, title, static, runtime, confirmed)`` per code, in code order."""
    rows = []
    for code in report.codes():
        of_code = [f for f in report.findings if f.diagnostic.code == code]
        rule = CATALOGUE.get(code)
        rows.append(
            (
                code,
                rule.title if rule else code,
                sum(f.is_static for f in of_code),
                sum(not f.is_static for f in of_code),
                sum(f.is_static and f.confirmed for f in of_code),
            )
        )
    return rows


def render_text(report: Report, sources: SourceFiles | None = None) -> str:
    if not report.findings:
        return "no findings\n"
    out = [_line(f, sources) for f in report.findings]
    out.append("")
    out.append(
        f"{len(report.findings)} findings: {len(report.static)} static, {len(report.runtime)} runtime; "
        f"{len(report.confirmed)} static confirmed at runtime"
    )
    rows = summary_rows(report)
    width = max(len(title) for _, title, *_ in rows)
    out.append(f"  {'code':<7} {'rule':<{width}}  static  runtime  confirmed")
    for code, title, static, runtime, confirmed in rows:
        out.append(f"  {code:<7} {title:<{width}}  {static:>6}  {runtime:>7}  {confirmed:>9}")
    return "\n".join(out) + "\n"
