"""One line per finding: ``path:line:col: CODE message``."""

from __future__ import annotations

from typing import TextIO

from flake8_fastapi_antipatterns.check.report import CheckReport


def write(report: CheckReport, out: TextIO) -> None:
    for finding in report.findings:
        out.write(finding.format_text() + "\n")
