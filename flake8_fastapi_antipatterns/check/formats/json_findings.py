"""A JSON array of findings, one object each, for scripts and dashboards.

The shape is part of the public interface (documented in docs/check-output.md): fields may be
added, never renamed or removed. Each object::

    {"code", "title", "message", "severity", "filename", "location": {"row", "column"},
     "fix", "explain", "source", "details"}

``row`` and ``column`` are 1-based; ``row`` is 0 for a finding about a file as a whole.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from flake8_fastapi_antipatterns.check.formats.rule_info import column, is_error, rule_info
from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic


def finding_object(finding: Diagnostic) -> dict[str, Any]:
    info = rule_info(finding.code)
    return {
        "code": finding.code,
        "title": info.title,
        "message": finding.message,
        "severity": "error" if is_error(finding) else finding.severity,
        "filename": finding.filename,
        "location": {"row": max(finding.line, 0), "column": column(finding)},
        "fix": info.fix or None,
        "explain": info.explain,
        "source": finding.source,
        "details": finding.details,
    }


def write(report: CheckReport, out: TextIO) -> None:
    objects = [finding_object(finding) for finding in report.findings]
    # ``default=str``: a rule's details are plain data, but one odd value must not lose the whole report.
    json.dump(objects, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")
