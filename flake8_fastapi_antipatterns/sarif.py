"""SARIF 2.1.0 rendering of findings (static, runtime, or both in one run).

Given a root, every file under it is named relative to it through the ``SRCROOT`` base
(``originalUriBaseIds``), whatever form the finding had: flake8's relative names and the
guard's absolute ones end up alike, as code-scanning services expect.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import CATALOGUE, Rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.docs import rule_markdown

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "flake8-fastapi-antipatterns"
DOCS_URI = "https://pypi.org/project/flake8-fastapi-antipatterns/"
ROOT_BASE_ID = "SRCROOT"


def _artifact_uri(filename: str) -> str:
    """A URI reference for a finding's file: relative paths stay relative."""
    if not filename:
        return "unknown"
    posix = filename.replace("\\", "/")
    if os.path.isabs(filename):
        return "file://" + quote(posix if posix.startswith("/") else "/" + posix)
    return quote(posix)


def artifact_location(filename: str, root: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """A SARIF ``artifactLocation``: relative to ``SRCROOT`` for a file under ``root``, else as named."""
    if root is not None and filename and not filename.startswith("<"):
        base = os.path.realpath(root)
        full = os.path.realpath(filename if os.path.isabs(filename) else os.path.join(base, filename))
        relative = os.path.relpath(full, base)
        if relative != os.curdir and not relative.startswith(os.pardir):
            return {"uri": quote(relative.replace(os.sep, "/")), "uriBaseId": ROOT_BASE_ID}
        return {"uri": _artifact_uri(full)}
    return {"uri": _artifact_uri(filename)}


def _root_uri(root: str | os.PathLike[str]) -> str:
    uri = Path(os.path.realpath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"  # a base URI must end with a slash


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


def physical_location(diag: Diagnostic, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(diag.filename, root)}
    if diag.line >= 1:
        physical["region"] = {"startLine": diag.line, "startColumn": max(diag.col, 0) + 1}
    return physical


def _result(diag: Diagnostic, rule_index: dict[str, int], root: str | os.PathLike[str] | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "level": diag.severity,
        "message": {"text": diag.message},
        "locations": [{"physicalLocation": physical_location(diag, root)}],
        "properties": {"source": diag.source, "details": diag.details},
    }
    if diag.code in rule_index:
        result["ruleIndex"] = rule_index[diag.code]
    return result


def to_sarif(
    diagnostics: Iterable[Diagnostic],
    *,
    tool_version: str = __version__,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """One SARIF log, one run, one tool; each result says whether it is static or runtime.

    With ``root``, files under it are relative to the run's ``SRCROOT`` base; without it,
    relative names stay relative and absolute ones become ``file://`` URIs.
    """
    findings = list(diagnostics)
    rules = [_rule_descriptor(rule) for rule in CATALOGUE.values()]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": tool_version,
                "informationUri": DOCS_URI,
                "rules": rules,
            }
        },
    }
    if root is not None:
        run["originalUriBaseIds"] = {
            ROOT_BASE_ID: {"uri": _root_uri(root), "description": {"text": "The project's root directory."}}
        }
    run["results"] = [_result(d, rule_index, root) for d in findings]
    run["columnKind"] = "unicodeCodePoints"
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    }
