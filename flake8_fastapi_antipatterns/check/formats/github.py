"""GitHub Actions workflow commands: one annotation per finding on the pull request's diff.

``::warning file=app/main.py,line=12,col=12,title=FAA101 ...::message``; ``::error`` for a file
that does not parse (and any error-severity finding), ``::notice`` for notes. Paths are made
relative to the repository (``GITHUB_WORKSPACE``) when the checked project is a subdirectory of it,
since GitHub places annotations by repository path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from flake8_fastapi_antipatterns.check.formats.rule_info import column, is_error, rule_info
from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic


def escape_data(text: str) -> str:
    """The message after ``::``: GitHub decodes ``%25``, ``%0D`` and ``%0A`` there."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A ``key=value`` property: also ``:`` and ``,``, which would end the value early."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _repository_prefix(root: Path) -> str:
    """The checked root's path inside the repository ("" at its top or outside Actions)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        inside = Path(os.path.realpath(root)).relative_to(os.path.realpath(workspace))
    except ValueError:
        return ""
    return "" if inside == Path(".") else inside.as_posix() + "/"


def _command(finding: Diagnostic) -> str:
    if is_error(finding):
        return "error"
    return "notice" if finding.severity == "note" else "warning"


def annotation(finding: Diagnostic, prefix: str = "") -> str:
    info = rule_info(finding.code)
    properties = [f"file={escape_property(prefix + finding.filename)}"]
    if finding.line >= 1:
        properties += [f"line={finding.line}", f"col={column(finding)}"]
    properties.append(f"title={escape_property(f'{finding.code} {info.title}')}")
    return f"::{_command(finding)} {','.join(properties)}::{escape_data(f'{finding.code} {finding.message}')}"


def write(report: CheckReport, out: TextIO) -> None:
    prefix = _repository_prefix(report.root)
    for finding in report.findings:
        out.write(annotation(finding, prefix) + "\n")
