"""SARIF 2.1.0 rendering of findings (static, runtime, or both in one run)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import CATALOGUE, Rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.docs import rule_markdown

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "flake8-fastapi-antipatterns"
DOCS_URI = "https://pypi.org/project/flake8-fastapi-antipatterns/"


def _artifact_uri(filename: str) -> str:
    """A URI reference for a finding's file: relative paths stay relative."""
    if not filename:
        return "unknown"
    posix = filename.replace("\\", "/")
    if os.path.isabs(filename):
        return "file://" + quote(posix if posix.startswith("/") else "/" + posix)
    return quote(posix)


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.slug.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.doc.what},
        "help": {"text": f"{rule.title}: {rule.fix}", "markdown": rule_markdown(rule, heading_level=2)},
        "defaultConfiguration": {"enabled": rule.default_on, "level": "warning"},
        "properties": {"seed": rule.seed, "tags": ["fastapi", "static" if rule.runtime is None else "static+runtime"]},
    }


def _result(diag: Diagnostic, rule_index: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _artifact_uri(diag.filename)}}
    if diag.line >= 1:
        physical["region"] = {"startLine": diag.line, "startColumn": max(diag.col, 0) + 1}
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "level": diag.severity,
        "message": {"text": diag.message},
        "locations": [{"physicalLocation": physical}],
        "properties": {"source": diag.source, "details": diag.details},
    }
    if diag.code in rule_index:
        result["ruleIndex"] = rule_index[diag.code]
    return result


def to_sarif(diagnostics: Iterable[Diagnostic], *, tool_version: str = __version__) -> dict[str, Any]:
    """One SARIF log, one run, one tool; each result says whether it is static or runtime."""
    findings = list(diagnostics)
    rules = [_rule_descriptor(rule) for rule in CATALOGUE.values()]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "informationUri": DOCS_URI,
                        "rules": rules,
                    }
                },
                "results": [_result(d, rule_index) for d in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
