"""The HTML form: one self-contained page (inline CSS and SVG, no scripts, nothing fetched).

Every piece of text from the inputs goes through ``html.escape``, and a
Content-Security-Policy forbids scripts and remote loads, should anything slip.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from html import escape

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report.chart import MAX_BARS, stall_chart
from flake8_fastapi_antipatterns.report.model import SHOWN_DETAILS, Finding, Report
from flake8_fastapi_antipatterns.report.render_text import summary_rows
from flake8_fastapi_antipatterns.report.sources import SourceFiles

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CHECK = (
    '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8.5l3 3 7-7" fill="none" '
    'stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>'
)

_CSS = """
:root {
  --bg: #f6f7f9; --panel: #ffffff; --ink: #1f2430; --muted: #5f6b7a; --line: #e3e6eb;
  --static: #3b5bdb; --static-bg: #e8edff; --runtime: #c2410c; --runtime-bg: #fff0e6;
  --ok: #2b8a3e; --ok-bg: #e6f6ea; --hit: #fff4c2; --code-bg: #f8f9fb;
  --error: #c92a2a; --warning: #b7791f; --note: #1c7ed6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14161b; --panel: #1c1f26; --ink: #e6e8ec; --muted: #9aa3b2; --line: #2c313b;
    --static: #91a7ff; --static-bg: #232a45; --runtime: #ffa94d; --runtime-bg: #3a2a1c;
    --ok: #69db7c; --ok-bg: #1f3325; --hit: #3d3520; --code-bg: #171a20;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.wrap { max-width: 1160px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; letter-spacing: -0.01em; }
.meta { color: var(--muted); margin: 0 0 20px; font-size: 13px; }
.meta code { font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 28px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.card .n { font-size: 28px; font-weight: 700; line-height: 1.1; }
.card .l { color: var(--muted); font-size: 13px; }
.card.static .n { color: var(--static); } .card.runtime .n { color: var(--runtime); } .card.ok .n { color: var(--ok); }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin-bottom: 24px; }
h2 { font-size: 18px; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: var(--muted); opacity: .55; }
tfoot td { font-weight: 700; border-bottom: none; }
a { color: inherit; }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 700; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis-line { stroke: var(--muted); stroke-width: 1; }
.chart text { fill: var(--muted); font: 12px system-ui, sans-serif; }
.chart .value { fill: var(--ink); font-weight: 600; font-size: 11px; }
.chart .legend { fill: var(--ink); }
.chart .bar:hover rect { opacity: .8; }
.note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
details.rule { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; margin-bottom: 18px; overflow: hidden; }
details.rule > summary { cursor: pointer; padding: 14px 22px; list-style: none; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
details.rule > summary::-webkit-details-marker { display: none; }
details.rule > summary h3 { margin: 0; font-size: 17px; }
details.rule > summary .counts { margin-left: auto; display: flex; gap: 6px; }
.rule-body { padding: 0 22px 18px; }
.fix { background: var(--ok-bg); border-left: 4px solid var(--ok); border-radius: 6px; padding: 8px 12px; margin: 0 0 6px; }
.why { color: var(--muted); font-size: 14px; margin: 0 0 12px; }
.file { margin-top: 16px; }
.file h4 { margin: 0 0 8px; font: 600 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); word-break: break-all; }
.finding { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; margin-bottom: 10px; }
.finding.is-static { border-left: 4px solid var(--static); }
.finding.is-runtime { border-left: 4px solid var(--runtime); }
.finding.is-confirmed { box-shadow: 0 0 0 1px var(--ok) inset; }
.finding .head { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
.loc { font: 600 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.msg { margin: 0 0 8px; overflow-wrap: anywhere; }
.msg code, .fix code, .why code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--code-bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; }
.related { margin: 0 0 8px; font-size: 13px; color: var(--ok); }
.badge { display: inline-flex; align-items: center; gap: 4px; border-radius: 999px; padding: 1px 9px;
  font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge .icon { width: 12px; height: 12px; }
.badge.static { background: var(--static-bg); color: var(--static); }
.badge.runtime { background: var(--runtime-bg); color: var(--runtime); }
.badge.confirmed { background: var(--ok-bg); color: var(--ok); }
.badge.count { background: var(--line); color: var(--ink); }
.sev { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.sev.error { color: var(--error); } .sev.warning { color: var(--warning); } .sev.note { color: var(--note); }
dl.details { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 8px; font-size: 13px; }
dl.details div { display: flex; gap: 6px; }
dl.details dt { color: var(--muted); }
dl.details dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
pre.excerpt { margin: 0; background: var(--code-bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 0;
  overflow-x: auto; font: 13px/1.55 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.excerpt span.l { display: block; padding: 0 12px; white-space: pre; }
pre.excerpt span.l.hit { background: var(--hit); }
pre.excerpt span.n { display: inline-block; min-width: 3.2em; padding-right: 12px; color: var(--muted); text-align: right; user-select: none; }
.empty { text-align: center; color: var(--muted); padding: 40px; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; text-align: center; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _prose(text: str) -> str:
    """Escaped text whose `backticked` spans become <code> (escaping first keeps that safe)."""
    parts = _e(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return _e(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _message(diagnostic: Diagnostic) -> str:
    """The message without the rule's fix at its end (the rule's section shows the fix once)."""
    rule = CATALOGUE.get(diagnostic.code)
    message = diagnostic.message
    if rule is not None and message.endswith("; " + rule.fix):
        message = message[: -len(rule.fix) - 2]
    return message


def _anchor(code: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9_-]", "-", code)


def _badges(finding: Finding) -> str:
    d = finding.diagnostic
    out = [f'<span class="badge {_e(d.source)}">{_e(d.source)}</span>']
    if finding.confirmed and finding.is_static:
        out.append(
            f'<span class="badge confirmed" title="the runtime guard saw this code in this function">{_CHECK}confirmed at runtime</span>'
        )
    elif finding.confirmed:
        out.append(
            f'<span class="badge confirmed" title="a static finding points at the same function">{_CHECK}matches a static finding</span>'
        )
    if finding.count > 1:
        out.append(f'<span class="badge count">seen {finding.count}×</span>')
    return "".join(out)


def _details(finding: Finding) -> str:
    items = []
    for key in SHOWN_DETAILS:
        if key == "count" or key not in finding.diagnostic.details:
            continue
        value = finding.diagnostic.details[key]
        if key == "stall_seconds" and isinstance(value, (int, float)):
            shown = f"{value:.2f} s"
        elif isinstance(value, list):
            shown = " → ".join(str(v) for v in value)
        else:
            shown = str(value)
        label = key.replace("_", " ")
        items.append(f"<div><dt>{_e(label)}</dt><dd>{_e(shown)}</dd></div>")
    return f'<dl class="details">{"".join(items)}</dl>' if items else ""


def _related(finding: Finding, sources: SourceFiles) -> str:
    if not finding.related:
        return ""
    items = []
    for other in finding.related[:5]:
        where = f"{sources.display(other.filename)}:{other.line}"
        facts = [f"line {other.line}"]
        route = other.details.get("route")
        if isinstance(route, str):
            method = other.details.get("method")
            facts.append(f"{method} {route}" if isinstance(method, str) else route)
        stall = other.details.get("stall_seconds")
        if isinstance(stall, (int, float)) and not isinstance(stall, bool):
            facts.append(f"loop blocked {stall:.2f} s")
        items.append(f'<span title="{_e(where)}">{_e(", ".join(facts))}</span>')
    label = "Seen at runtime:" if finding.is_static else "Flagged statically:"
    return f'<p class="related"><strong>{label}</strong> {"; ".join(items)}</p>'


def _excerpt(finding: Finding, sources: SourceFiles) -> str:
    d = finding.diagnostic
    if not finding.is_static and any(other.line == d.line for other in finding.related):
        return ""  # the static finding just above shows these lines
    lines = sources.excerpt(finding.diagnostic.filename, finding.diagnostic.line)
    if not lines:
        return ""
    rows = "".join(
        f'<span class="l{" hit" if line.hit else ""}"><span class="n">{line.number}</span>{_e(line.text)}</span>'
        for line in lines
    )
    return f'<pre class="excerpt"><code>{rows}</code></pre>'


def _finding(finding: Finding, sources: SourceFiles) -> str:
    d = finding.diagnostic
    if d.line >= 1:
        where = f"line {d.line}, col {d.col + 1}"
    else:
        where = "location unknown" if d.filename.startswith("<") or not d.filename else "whole file"
    classes = f"finding is-{_e(d.source)}" + (" is-confirmed" if finding.confirmed else "")
    severity = f'<span class="sev {_e(d.severity)}">{_e(d.severity)}</span>' if d.severity != "warning" else ""
    return (
        f'<article class="{classes}">'
        f'<div class="head"><span class="loc">{_e(where)}</span>{_badges(finding)}{severity}</div>'
        f'<p class="msg">{_prose(_message(d))}</p>'
        f"{_details(finding)}{_related(finding, sources)}{_excerpt(finding, sources)}</article>"
    )


def _counts(findings: list[Finding]) -> str:
    static = sum(f.is_static for f in findings)
    runtime = len(findings) - static
    confirmed = sum(f.is_static and f.confirmed for f in findings)
    out = []
    if static:
        out.append(f'<span class="badge static">{static} static</span>')
    if runtime:
        out.append(f'<span class="badge runtime">{runtime} runtime</span>')
    if confirmed:
        out.append(f'<span class="badge confirmed">{_CHECK}{confirmed} confirmed</span>')
    return f'<span class="counts">{"".join(out)}</span>'


def _rule_section(code: str, findings: list[Finding], sources: SourceFiles) -> str:
    rule = CATALOGUE.get(code)
    title = rule.title if rule else "Unknown code"
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_file[sources.display(finding.diagnostic.filename)].append(finding)
    files = []
    for filename in sorted(by_file):
        ordered = sorted(by_file[filename], key=lambda f: (f.diagnostic.line, not f.is_static, f.diagnostic.col))
        body = "".join(_finding(f, sources) for f in ordered)
        shown = filename if filename and not filename.startswith("<") else "(no source location)"
        files.append(f'<div class="file"><h4>{_e(shown)}</h4>{body}</div>')
    guidance = ""
    if rule is not None:
        why = rule.doc.why.split("\n\n")[0]
        guidance = f'<p class="fix"><strong>Fix:</strong> {_prose(rule.fix)}</p><p class="why">{_prose(why)}</p>'
    return (
        f'<details class="rule" id="{_anchor(code)}" open><summary><span class="code">{_e(code)}</span>'
        f"<h3>{_e(title)}</h3>{_counts(findings)}</summary>"
        f'<div class="rule-body">{guidance}{"".join(files)}</div></details>'
    )


def _summary(report: Report) -> str:
    rows = []

    def cell(n: int) -> str:
        return f'<td class="num{" zero" if n == 0 else ""}">{n}</td>'

    for code, title, static, runtime, confirmed in summary_rows(report):
        rows.append(
            f'<tr><td><a class="code" href="#{_anchor(code)}">{_e(code)}</a></td><td>{_e(title)}</td>'
            f"{cell(static)}{cell(runtime)}{cell(confirmed)}</tr>"
        )
    totals = f"{cell(len(report.static))}{cell(len(report.runtime))}{cell(len(report.confirmed))}"
    return (
        '<section class="panel" id="summary"><h2>Summary</h2><table><thead><tr><th>Code</th><th>Rule</th>'
        '<th class="num">Static</th><th class="num">Runtime</th><th class="num">Confirmed at runtime</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot><tr><td></td><td>Total</td>{totals}</tr></tfoot></table></section>"
    )


def _stalls(report: Report) -> str:
    stalls = report.stalls
    if not stalls:
        body = '<p class="note">No event-loop stalls were recorded at runtime.</p>'
    else:
        total = sum((f.stall_seconds or 0.0) * f.count for f in stalls)
        longest = max(f.stall_seconds or 0.0 for f in stalls)
        more = f" (the {MAX_BARS} longest are drawn)" if len(stalls) > MAX_BARS else ""
        body = (
            f"{stall_chart(stalls)}"
            f'<p class="note">{len(stalls)} stall location(s){more}; longest {longest:.2f} s; '
            f"about {total:.2f} s of blocked loop in all. Hover a bar for its function and route.</p>"
        )
    return f'<section class="panel" id="stalls"><h2>Event-loop stalls (FAA101 / FAA102 at runtime)</h2>{body}</section>'


def _cards(report: Report) -> str:
    cards = [
        ("", len(report.findings), "findings"),
        ("static", len(report.static), "static (flake8)"),
        ("runtime", len(report.runtime), "runtime (guard)"),
        ("ok", len(report.confirmed), "static confirmed at runtime"),
        ("", len(report.codes()), "distinct codes"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {kind}"><div class="n">{n}</div><div class="l">{_e(label)}</div></div>'
            for kind, n, label in cards
        )
        + "</div>"
    )


def render_html(report: Report, sources: SourceFiles, *, generated: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(generated if generated is not None else time.time()))
    inputs = ", ".join(f"<code>{_e(name)}</code>" for name in report.inputs) or "none"
    if report.findings:
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for finding in report.findings:
            by_code[finding.diagnostic.code].append(finding)
        sections = "".join(_rule_section(code, by_code[code], sources) for code in sorted(by_code))
        main = f'{_summary(report)}{_stalls(report)}<h2 id="findings">Findings</h2>{sections}'
    else:
        main = '<section class="panel empty">No findings: nothing to fix.</section>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        "<title>FastAPI anti-patterns report</title>"
        f"<style>{_CSS}</style></head>\n"
        '<body><div class="wrap"><header><h1>FastAPI anti-patterns report</h1>'
        f'<p class="meta">Generated {_e(stamp)} from {inputs}</p>{_cards(report)}</header>\n'
        f"<main>{main}</main>\n"
        f"<footer>flake8-fastapi-antipatterns {_e(__version__)} · full rule pages: "
        "<code>python -m flake8_fastapi_antipatterns explain CODE</code></footer>"
        "</div></body></html>\n"
    )
