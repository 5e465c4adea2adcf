"""What every format says about a finding's code besides its message: title, fix, where to read more.

FAA000 (a file that does not parse) is not a catalogue rule, so its texts are written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

EXPLAIN_COMMAND = "flake8-fastapi-antipatterns explain"
"""The installed command that prints a rule's full documentation (its page under docs/rules/)."""

PARSE_ERROR_TITLE = "File could not be parsed"
PARSE_ERROR_FIX = (
    "correct the syntax error (or run the check under a Python that reads this syntax); "
    "until the file parses, no rule looks at it"
)
PARSE_ERROR_DESCRIPTION = (
    "The running Python could not parse this file, so no rule was run on it. It is reported "
    "so that a file is never skipped silently."
)


@dataclass(frozen=True)
class RuleInfo:
    code: str
    title: str
    fix: str
    explain: str | None
    """The command that documents the code, or None when there is no rule page (FAA000)."""


def rule_info(code: str) -> RuleInfo:
    if code == PARSE_ERROR_CODE:
        return RuleInfo(code, PARSE_ERROR_TITLE, PARSE_ERROR_FIX, None)
    rule = CATALOGUE.get(code)
    if rule is None:
        # A code from a newer catalogue than this one: say what we can rather than fail the run.
        return RuleInfo(code, code, "", None)
    return RuleInfo(code, rule.title, rule.fix, f"{EXPLAIN_COMMAND} {code}")


def is_error(finding: Diagnostic) -> bool:
    """A parse failure is an error whatever its record says: the file was not checked at all."""
    return finding.code == PARSE_ERROR_CODE or finding.severity == "error"


def column(finding: Diagnostic) -> int:
    """The 1-based column every format prints (the record's column is 0-based)."""
    return max(finding.col, 0) + 1
