"""Each finding with the code around it, a caret under its column, and its fix.

For reading in a terminal or a CI log; not meant to be parsed (use ``json`` for that).
"""

from __future__ import annotations

from typing import TextIO

from flake8_fastapi_antipatterns.check.formats.rule_info import rule_info
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE, CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

CONTEXT_LINES = 1
"""Lines shown above and below the finding's line."""

TAB_SIZE = 4


def _caret_offset(line: str, col: int) -> int:
    """Where the caret goes under ``line`` once tabs are expanded.

    The finding's column is the parser's, a UTF-8 byte offset: a line with accents or CJK text
    before the call would put a character count off by the extra bytes.
    """
    prefix = line.encode("utf-8")[: max(col, 0)].decode("utf-8", errors="ignore")
    return len(prefix.expandtabs(TAB_SIZE))


def excerpt(lines: list[str], line: int, col: int) -> list[str]:
    """The numbered lines around ``line`` (1-based) with a caret under ``col``; empty if out of range."""
    if not 1 <= line <= len(lines):
        return []
    first = max(1, line - CONTEXT_LINES)
    last = min(len(lines), line + CONTEXT_LINES)
    width = len(str(last))
    gutter = " " * width + " |"
    shown = [gutter]
    for number in range(first, last + 1):
        text = lines[number - 1].expandtabs(TAB_SIZE).rstrip()
        shown.append(f"{number:>{width}} | {text}".rstrip())
        if number == line:
            shown.append(f"{gutter} {' ' * _caret_offset(lines[number - 1], col)}^")
    shown.append(gutter)
    return shown


def render(report: CheckReport, finding: Diagnostic) -> str:
    info = rule_info(finding.code)
    # Every message ends with the fix that fits its call: the rule's general fix, shown apart on
    # its own line, or a remedy the rule chose for this call (a subprocess, a database driver),
    # which stays in the message rather than being contradicted by the general one.
    general_fix = f"; {info.fix}" if info.fix else None
    if general_fix and finding.message.endswith(general_fix):
        header = f"{finding.filename}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message[: -len(general_fix)]}"
        fix_line: str | None = info.fix
    else:
        header, fix_line = finding.format_text(), None
    parts = [header]
    parts.extend(excerpt(report.source_lines(finding.filename), finding.line, finding.col))
    if finding.code == PARSE_ERROR_CODE:
        parts.append(f"  = {info.title}: no rule was run on this file")
    if fix_line:
        parts.append(f"  = fix: {fix_line}")
    if info.explain:
        parts.append(f"  = docs: {info.explain}")
    return "\n".join(parts) + "\n"


def write(report: CheckReport, out: TextIO) -> None:
    out.write("\n".join(render(report, finding) for finding in report.findings))
