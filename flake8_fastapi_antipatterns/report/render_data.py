"""The machine forms: JSON (a list of findings) and SARIF 2.1.0 (one run, one tool, both sources)."""

from __future__ import annotations

import json
import os
from typing import Any

from flake8_fastapi_antipatterns.report.model import Finding, Report
from flake8_fastapi_antipatterns.sarif import physical_location, to_sarif

_MAX_RELATED = 10


def problem_numbers(report: Report) -> dict[int, int]:
    """``id(finding)`` to the number (from 1, in report order) of the first problem holding it."""
    numbers: dict[int, int] = {}
    for number, problem in enumerate(report.problems, 1):
        for finding in problem.findings:
            numbers.setdefault(id(finding), number)
    return numbers


def render_json(report: Report) -> str:
    """``Diagnostic.to_dict()`` of every finding, plus ``confirmed`` and the ``problem`` it belongs to."""
    numbers = problem_numbers(report)
    records = []
    for finding in report.findings:
        record = finding.to_dict()
        record["problem"] = numbers.get(id(finding))
        records.append(record)
    return json.dumps(records, indent=2, default=repr) + "\n"


def _related_locations(finding: Finding, root: str | os.PathLike[str] | None) -> list[dict[str, Any]]:
    text = "seen at runtime here" if finding.is_static else "the static finding of this problem"
    return [
        {"id": index, "physicalLocation": physical_location(other, root), "message": {"text": text}}
        for index, other in enumerate(finding.related[:_MAX_RELATED])
    ]


def sarif_log(report: Report, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The SARIF log; each result's ``properties`` says its ``source``, whether it is ``confirmed``
    and its ``problem``, and ``relatedLocations`` point at the other detector's findings of it.

    With ``root`` (the report's root), the files of both halves are relative to ``SRCROOT``.
    """
    log = to_sarif((f.diagnostic for f in report.findings), root=root)
    numbers = problem_numbers(report)
    for finding, result in zip(report.findings, log["runs"][0]["results"], strict=True):
        result["properties"]["confirmed"] = finding.confirmed
        result["properties"]["problem"] = numbers.get(id(finding))
        related = _related_locations(finding, root)
        if related:
            result["relatedLocations"] = related
    return log


def render_sarif(report: Report, root: str | os.PathLike[str] | None = None) -> str:
    return json.dumps(sarif_log(report, root), indent=2, default=repr) + "\n"
