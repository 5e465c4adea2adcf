"""SARIF 2.1.0 for code-scanning services (GitHub code scanning, Azure DevOps, IDE viewers).

The project's SARIF rendering, with every file relative to the checked root (``SRCROOT``), a rule
descriptor for FAA000 (not in the catalogue), and the baseline's stable fingerprint of each result
in ``partialFingerprints`` so that a service follows a finding across unrelated edits.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from flake8_fastapi_antipatterns.check.baseline import stable_fingerprints
from flake8_fastapi_antipatterns.check.formats.rule_info import (
    PARSE_ERROR_DESCRIPTION,
    PARSE_ERROR_FIX,
    PARSE_ERROR_TITLE,
)
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE, CheckReport
from flake8_fastapi_antipatterns.sarif import to_sarif

FINGERPRINT_KEY = "faaContextHash/v1"


def parse_error_descriptor() -> dict[str, Any]:
    return {
        "id": PARSE_ERROR_CODE,
        "name": "ParseError",
        "shortDescription": {"text": PARSE_ERROR_TITLE},
        "fullDescription": {"text": PARSE_ERROR_DESCRIPTION},
        "help": {"text": f"{PARSE_ERROR_TITLE}: {PARSE_ERROR_FIX}"},
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "properties": {"tags": ["fastapi", "parse-error"]},
    }


def sarif_log(report: CheckReport) -> dict[str, Any]:
    log = to_sarif(report.findings, root=report.root)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    parse_error_index = len(rules)
    rules.append(parse_error_descriptor())
    for result, fingerprint in zip(run["results"], stable_fingerprints(report)):
        if result["ruleId"] == PARSE_ERROR_CODE:
            result["ruleIndex"] = parse_error_index
            result["level"] = "error"
        result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    return log


def write(report: CheckReport, out: TextIO) -> None:
    json.dump(sarif_log(report), out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")
