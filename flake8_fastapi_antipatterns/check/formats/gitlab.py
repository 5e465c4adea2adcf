"""GitLab Code Quality report: the findings in the merge request's code-quality widget.

A JSON array of issues with GitLab's documented fields: ``description``, ``check_name``,
``fingerprint``, ``severity`` and ``location`` (``path``, ``lines.begin``). GitLab compares the
fingerprints of the merge request's report with the target branch's to say which findings are new
or fixed, so they come from the code around each finding (the baseline's key), not its line number:
inserting lines above a finding does not make it look new.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from flake8_fastapi_antipatterns.check.baseline import stable_fingerprints
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE, CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

GITLAB_SEVERITIES = ("info", "minor", "major", "critical", "blocker")


def severity(finding: Diagnostic) -> str:
    """An FAA warning is a production defect (``major``); a file left unchecked is ``critical``."""
    if finding.code == PARSE_ERROR_CODE or finding.severity == "error":
        return "critical"
    return "info" if finding.severity == "note" else "major"


def issue(finding: Diagnostic, fingerprint: str) -> dict[str, Any]:
    return {
        "description": f"{finding.code} {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": severity(finding),
        # GitLab needs a line: a finding about a file as a whole points at its first.
        "location": {"path": finding.filename, "lines": {"begin": max(finding.line, 1)}},
    }


def write(report: CheckReport, out: TextIO) -> None:
    issues = [issue(f, print_) for f, print_ in zip(report.findings, stable_fingerprints(report))]
    json.dump(issues, out, indent=2, ensure_ascii=False)
    out.write("\n")
