"""The machine forms: JSON (a list of findings) and SARIF 2.1.0 (one run, one tool, both sources)."""

from __future__ import annotations

import json
from typing import Any

from flake8_fastapi_antipatterns.report.model import Report
from flake8_fastapi_antipatterns.sarif import to_sarif


def render_json(report: Report) -> str:
    """``Diagnostic.to_dict()`` of every finding, plus ``confirmed``."""
    return json.dumps([f.to_dict() for f in report.findings], indent=2, default=repr) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    """The SARIF log; each result's ``properties`` says its ``source`` and whether it is ``confirmed``."""
    log = to_sarif(f.diagnostic for f in report.findings)
    for finding, result in zip(report.findings, log["runs"][0]["results"], strict=True):
        result["properties"]["confirmed"] = finding.confirmed
    return log


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, default=repr) + "\n"
