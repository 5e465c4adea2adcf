"""What the probe prints: a summary table for people, JSON lines or SARIF for tools.

JSON lines are ``Diagnostic.to_dict()`` records (plus ``time``, when the
finding was first seen), the shape the guard's ``JsonLinesSink`` writes and
``python -m flake8_fastapi_antipatterns report --runtime`` reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sarif import to_sarif
from runtime_guard.probe.coverage import RouteCoverage
from runtime_guard.probe.runner import ProbeResult

FORMATS = ("text", "json", "sarif")
MESSAGE_WIDTH = 110


def relative(filename: str, cwd: str | None = None) -> str:
    """A path under the working directory as a relative one; others unchanged."""
    if not os.path.isabs(filename):
        return filename
    base = cwd or os.getcwd()
    try:
        shown = os.path.relpath(filename, base)
    except ValueError:  # another drive on Windows
        return filename
    return filename if shown.startswith("..") else shown


EXPLAIN = "python -m flake8_fastapi_antipatterns explain {code}"
STATE_WORDS = {
    "exercised": "exercised",
    "rejected": "not exercised",
    "skipped": "skipped",
    "not sent": "not sent",
    "websocket": "not exercised",
}


def _fix(diagnostic: Diagnostic) -> str:
    """The finding's own fix (a field's bound) or the catalogue's."""
    custom = diagnostic.details.get("fix")
    if isinstance(custom, str) and custom:
        return custom
    rule = CATALOGUE.get(diagnostic.code)
    return rule.fix if rule is not None else ""


def _what(diagnostic: Diagnostic) -> str:
    """The finding without the fix that ends every message, shortened for a table."""
    what = diagnostic.message
    fix = _fix(diagnostic)
    if fix and what.endswith("; " + fix):
        what = what[: -len(fix) - 2]
    return what if len(what) <= MESSAGE_WIDTH else what[: MESSAGE_WIDTH - 3] + "..."


def summary_table(findings: Iterable[Diagnostic], cwd: str | None = None) -> str:
    """One row per distinct finding, its fix on the line below."""
    shown = list(findings)
    rows = [(d.code, str(d.details.get("count", 1)), f"{relative(d.filename, cwd)}:{d.line}", _what(d)) for d in shown]
    header = ("code", "count", "location", "message")
    if not rows:
        return "no findings\n"
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(3)]
    indent = " " * (widths[0] + widths[1] + widths[2] + 6)
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:<{widths[2]}}  {header[3]}"]
    lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}  {'-' * len(header[3])}")
    for diagnostic, (code, count, location, message) in zip(shown, rows):
        lines.append(f"{code:<{widths[0]}}  {count:>{widths[1]}}  {location:<{widths[2]}}  {message}")
        lines.append(f"{indent}fix: {_fix(diagnostic)}")
    return "\n".join(lines) + "\n"


def coverage_table(rows: list[RouteCoverage]) -> str:
    """Per route: exercised (2xx seen), not exercised and why, skipped and why; websockets listed."""
    if not rows:
        return "routes: the app has no route the probe can call\n"
    http = [row for row in rows if row.state != "websocket"]
    exercised = sum(1 for row in http if row.exercised)
    rejected = sum(1 for row in http if row.state == "rejected")
    skipped = sum(1 for row in http if row.state in ("skipped", "not sent"))
    sockets = len(rows) - len(http)
    head = f"routes: {exercised} of {len(http)} operations exercised (a valid request answered 2xx)"
    parts = [f"{rejected} answered no request with 2xx"] if rejected else []
    if skipped:
        parts.append(f"{skipped} skipped")
    if sockets:
        parts.append(f"{sockets} websocket route(s) not exercised")
    if parts:
        head += "; " + "; ".join(parts)
    table = [(row.label, STATE_WORDS[row.state], row.answers or "-", row.why) for row in rows]
    widths = [max(len(title), *(len(entry[i]) for entry in table)) for i, title in enumerate(("route", "result", "answers"))]
    lines = [head, f"  {'route':<{widths[0]}}  {'result':<{widths[1]}}  {'answers':<{widths[2]}}  why"]
    for label, state, answers, why in table:
        lines.append(f"  {label:<{widths[0]}}  {state:<{widths[1]}}  {answers:<{widths[2]}}  {why}".rstrip())
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CodeSettings:
    """Where the codes the probe reports were chosen, for the "how to accept them" advice."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source: str | None = None


def _toml_list(codes: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{code}"' for code in codes) + "]"


def failing_summary(findings: list[Diagnostic], settings: CodeSettings) -> str:
    """Which codes make the exit status 1, the fix of each, and the line that accepts them."""
    codes = sorted({d.code for d in findings})
    if not codes:
        return ""
    lines = [f"exit status 1: findings of {', '.join(codes)}"]
    width = max(len(code) for code in codes)
    for code in codes:
        rule = CATALOGUE.get(code)
        title = rule.title if rule is not None else ""
        fixes = {_fix(d) for d in findings if d.code == code}
        fix = fixes.pop() if len(fixes) == 1 else "the fix under each finding above"
        lines.append(f"  {code:<{width}}  {title}: {fix}")
        lines.append(f"  {'':<{width}}  more: {EXPLAIN.format(code=code)}")
    ignore = [*settings.ignore, *(code for code in codes if code not in settings.ignore)]
    where = f" (it takes precedence over {settings.source})" if settings.source and "[flake8]" in settings.source else ""
    lines.append(f"to accept them (exit status 0), in pyproject.toml{where}:")
    lines.append("    [tool.runtime-guard.probe]")
    if settings.select:
        lines.append(f"    select = {_toml_list(settings.select)}")
    lines.append(f"    ignore = {_toml_list(ignore)}")
    lines.append(f"  or on the command line: --ignore {','.join(ignore)}")
    return "\n".join(lines) + "\n"


def text_report(target: str, result: ProbeResult, *, cwd: str | None = None, settings: CodeSettings | None = None) -> str:
    stats = result.stats
    sent = stats.send
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(sent.statuses.items())) or "none"
    http = [row for row in stats.coverage if row.state != "websocket"]
    lines = [
        f"runtime_guard probe {target}: {sent.sent} requests, {len(stats.exercised)} of {len(http) or stats.operations} "
        f"operations exercised, in {stats.seconds:.1f} s (statuses {statuses})",
    ]
    if not stats.lifespan:
        lines.append("  the app does not support the lifespan protocol: probed without start-up/shutdown")
    if stats.credentials:
        lines.append(f"  credentials handed over: {stats.credentials}")
    lines.extend(f"  {note}" for note in stats.notes)
    codes = sorted({d.code for d in result.findings})
    lines.append("")
    body = coverage_table(stats.coverage) + "\n" + summary_table(result.findings, cwd)
    tail = f"{len(result.findings)} finding(s): {', '.join(codes)}\n" if result.findings else ""
    failing = failing_summary(result.findings, settings or CodeSettings())
    return "\n".join(lines) + "\n" + body + tail + ("\n" + failing if failing else "")


def json_lines(result: ProbeResult) -> str:
    out: list[str] = []
    for diagnostic in result.findings:
        record = diagnostic.to_dict()
        seen = result.first_seen.get(diagnostic.location_key())
        if seen is not None:
            record["time"] = seen
        out.append(json.dumps(record, default=repr, sort_keys=True))
    return "".join(line + "\n" for line in out)


def sarif(result: ProbeResult) -> str:
    return json.dumps(to_sarif(result.findings), indent=2, default=repr) + "\n"


def render(fmt: str, target: str, result: ProbeResult, settings: CodeSettings | None = None) -> str:
    if fmt == "json":
        return json_lines(result)
    if fmt == "sarif":
        return sarif(result)
    return text_report(target, result, settings=settings)
