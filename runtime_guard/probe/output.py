"""What the probe prints: a summary table for people, JSON lines or SARIF for tools.

JSON lines are ``Diagnostic.to_dict()`` records (plus ``time``, when the
finding was first seen), the shape the guard's ``JsonLinesSink`` writes and
``python -m flake8_fastapi_antipatterns report --runtime`` reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sarif import to_sarif
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


def _what(diagnostic: Diagnostic) -> str:
    """The finding without the catalogue's fix that ends every message, shortened for a table."""
    what = diagnostic.message
    rule = CATALOGUE.get(diagnostic.code)
    if rule is not None and what.endswith("; " + rule.fix):
        what = what[: -len(rule.fix) - 2]
    return what if len(what) <= MESSAGE_WIDTH else what[: MESSAGE_WIDTH - 3] + "..."


def summary_table(findings: Iterable[Diagnostic], cwd: str | None = None) -> str:
    rows = [
        (d.code, str(d.details.get("count", 1)), f"{relative(d.filename, cwd)}:{d.line}", _what(d)) for d in findings
    ]
    header = ("code", "count", "location", "message")
    if not rows:
        return "no findings\n"
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(3)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:<{widths[2]}}  {header[3]}"]
    lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}  {'-' * len(header[3])}")
    for code, count, location, message in rows:
        lines.append(f"{code:<{widths[0]}}  {count:>{widths[1]}}  {location:<{widths[2]}}  {message}")
    return "\n".join(lines) + "\n"


def text_report(target: str, result: ProbeResult, *, cwd: str | None = None) -> str:
    stats = result.stats
    sent = stats.send
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(sent.statuses.items())) or "none"
    lines = [
        f"runtime_guard probe {target}: {sent.sent} requests to {len(stats.exercised)} of {stats.operations} operations "
        f"in {stats.seconds:.1f} s (statuses {statuses})",
    ]
    if not stats.lifespan:
        lines.append("  the app does not support the lifespan protocol: probed without start-up/shutdown")
    for operation, why in stats.skipped.items():
        lines.append(f"  skipped {operation}: {why}")
    lines.extend(f"  {note}" for note in stats.notes)
    codes = sorted({d.code for d in result.findings})
    lines.append("")
    body = summary_table(result.findings, cwd)
    tail = f"{len(result.findings)} finding(s): {', '.join(codes)}\n" if result.findings else ""
    return "\n".join(lines) + "\n" + body + tail


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


def render(fmt: str, target: str, result: ProbeResult) -> str:
    if fmt == "json":
        return json_lines(result)
    if fmt == "sarif":
        return sarif(result)
    return text_report(target, result)
