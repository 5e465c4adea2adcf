"""The HTML form: one self-contained page (inline CSS, SVG and script, nothing fetched).

The summary, the stall chart, the filter controls and the rule texts are written here; the
problem cards are drawn by the page's script from a JSON data block, one page of cards at a
time, so a report of thousands of findings stays a page of a few screens. Text from the inputs
is escaped with ``html.escape`` here and set through ``textContent`` by the script; the
Content-Security-Policy allows no remote loads and no script but the page's own (by its hash).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections import Counter
from functools import cache
from html import escape
from importlib import resources

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.report.chart import MAX_BARS, stall_chart
from flake8_fastapi_antipatterns.report.model import Report
from flake8_fastapi_antipatterns.report.page_data import PAGE_SIZE, page_data, script_json
from flake8_fastapi_antipatterns.report.render_text import summary_rows
from flake8_fastapi_antipatterns.report.sources import SourceFiles

_SEEN_BY = (("", "all"), ("both", "static, confirmed at runtime"), ("static", "static only"), ("runtime", "runtime only"))


@cache
def _asset(name: str) -> str:
    return resources.files("flake8_fastapi_antipatterns.report").joinpath(name).read_text(encoding="utf-8")


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _prose(text: str) -> str:
    """Escaped text whose `backticked` spans become <code> (escaping first keeps that safe)."""
    parts = _e(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return _e(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _anchor(code: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9_-]", "-", code)


def _summary(report: Report) -> str:
    def cell(n: int) -> str:
        return f'<td class="num{" zero" if n == 0 else ""}">{n}</td>'

    rows = [
        f'<tr><td><a class="code" href="#code={_e(row.code)}" title="list the {_e(row.code)} problems">'
        f"{_e(row.code)}</a></td><td>{_e(row.title)}</td>"
        f"{cell(row.problems)}{cell(row.static)}{cell(row.runtime)}{cell(row.both)}</tr>"
        for row in summary_rows(report)
    ]
    totals = (
        f"{cell(len(report.problems))}{cell(len(report.static))}{cell(len(report.runtime))}"
        f"{cell(len(report.confirmed_problems))}"
    )
    return (
        '<section class="panel" id="summary"><h2>Summary</h2><table><thead><tr><th>Code</th><th>Rule</th>'
        '<th class="num">Problems</th><th class="num">Static</th><th class="num">Runtime</th>'
        '<th class="num">Confirmed at runtime</th></tr></thead>'
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


def _options(name: str, label: str, choices: list[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{_e(value)}">{_e(text)}</option>' for value, text in choices)
    return f'<label>{_e(label)}<select name="{name}">{options}</select></label>'


def _filters(report: Report, sources: SourceFiles) -> str:
    """The controls, with what there is to choose and how many problems each choice holds."""
    problems = report.problems
    codes = Counter(p.code for p in problems)
    severities = Counter(p.severity for p in problems)
    files = Counter(sources.display(p.lead.diagnostic.filename) for p in problems)
    code_choices = [("", f"all ({len(problems)})")] + [
        (code, f"{code} {CATALOGUE[code].title if code in CATALOGUE else ''} ({n})".replace("  ", " "))
        for code, n in sorted(codes.items())
    ]
    severity_choices = [("", "all")] + [(s, f"{s} ({severities[s]})") for s in ("error", "warning", "note") if s in severities]
    file_choices = [("", f"all ({len(files)} files)")] + [
        (name, f"{name or '(no source location)'} ({n})") for name, n in sorted(files.items())
    ]
    kinds = Counter("both" if p.both else ("static" if p.static is not None else "runtime") for p in problems)
    seen_choices = [(value, f"{text} ({kinds[value]})" if value else text) for value, text in _SEEN_BY]
    view = (
        '<fieldset><legend>Group by</legend>'
        '<label><input type="radio" name="view" value="code" checked>code</label>'
        '<label><input type="radio" name="view" value="file">file</label></fieldset>'
    )
    return (
        '<form class="toolbar" id="filters" role="search" aria-label="Filter the problems">'
        f"{view}{_options('code', 'Code', code_choices)}{_options('sev', 'Severity', severity_choices)}"
        f"{_options('file', 'File', file_choices)}{_options('seen', 'Seen by', seen_choices)}"
        '<label>Search<input type="search" name="q" placeholder="message, file, route"></label>'
        '<button type="reset">Clear</button></form>'
    )


def _pager(where: str) -> str:
    return (
        f'<nav class="pager {where}" aria-label="Pages">'
        '<button type="button" data-page="prev">‹ Previous</button><span class="page-of"></span>'
        '<button type="button" data-page="next">Next ›</button></nav>'
    )


def _problems(report: Report, sources: SourceFiles) -> str:
    return (
        '<section class="panel" id="problems"><h2>Problems</h2>'
        '<p class="note">A problem is one thing to fix: a static finding together with the runtime '
        "evidence of the same code in the same function (for FAA304, the exceptions that escaped the app), "
        "or what the guard saw where no static finding points.</p>"
        f"{_filters(report, sources)}"
        f'<p class="status" id="problem-status" aria-live="polite">{len(report.problems)} problems; '
        f"the list is drawn by the page's script, {PAGE_SIZE} to a page.</p>"
        f'{_pager("top")}<div id="problem-list"></div>{_pager("bottom")}'
        '<noscript><p class="note">Scripts are off: the problem list needs the page\'s own script. '
        "<code>--format text</code> lists every finding.</p></noscript></section>"
    )


def _rules(report: Report) -> str:
    """Each reported code's fix and why, once; the cards' codes link here."""
    items = []
    for code in report.codes():
        rule = CATALOGUE.get(code)
        if rule is None:
            items.append(f'<details class="rule" id="{_anchor(code)}"><summary><span class="code">{_e(code)}</span>'
                         "<span>Unknown code</span></summary></details>")
            continue
        why = rule.doc.why.split("\n\n")[0]
        items.append(
            f'<details class="rule" id="{_anchor(code)}"><summary><span class="code">{_e(code)}</span>'
            f"<span>{_e(rule.title)}</span></summary>"
            f'<p class="fix"><strong>Fix:</strong> {_prose(rule.fix)}</p><p class="why">{_prose(why)}</p></details>'
        )
    return f'<section class="panel" id="rules"><h2>Rules</h2>{"".join(items)}</section>'


def _cards(report: Report, sources: SourceFiles) -> str:
    files = {sources.display(f.diagnostic.filename) for f in report.findings}
    cards = [
        ("", len(report.problems), "problems"),
        ("", len(report.findings), f"findings ({len(report.static):,} static, {len(report.runtime):,} runtime)"),
        ("ok", len(report.confirmed_problems), "static confirmed at runtime"),
        ("", len(report.codes()), "distinct codes"),
        ("", len(files), "files"),
    ]
    return (
        '<div class="cards" id="counts">'
        + "".join(
            f'<div class="card {kind}"><div class="n">{n:,}</div><div class="l">{_e(label)}</div></div>'
            for kind, n, label in cards
        )
        + "</div>"
    )


def render_html(report: Report, sources: SourceFiles, *, generated: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(generated if generated is not None else time.time()))
    inputs = ", ".join(f"<code>{_e(name)}</code>" for name in report.inputs) or "none"
    script = _asset("page.js")
    if report.findings:
        main = f"{_summary(report)}{_stalls(report)}{_problems(report, sources)}{_rules(report)}"
        scripts = (
            f'<script type="application/json" id="faa-data">{script_json(page_data(report, sources))}</script>'
            f"<script>{script}</script>"
        )
    else:
        main = '<section class="panel empty">No findings: nothing to fix.</section>'
        scripts = ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(script)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        "<title>FastAPI anti-patterns report</title>"
        f"<style>{_asset('page.css')}</style></head>\n"
        '<body><div class="wrap"><header><h1>FastAPI anti-patterns report</h1>'
        f'<p class="meta">Generated {_e(stamp)} from {inputs}: {len(report.findings):,} findings in '
        f"{len(report.problems):,} problems</p>{_cards(report, sources)}</header>\n"
        f"<main>{main}</main>\n"
        f"<footer>flake8-fastapi-antipatterns {_e(__version__)} · full rule pages: "
        "<code>python -m flake8_fastapi_antipatterns explain CODE</code></footer>"
        f"</div>{scripts}</body></html>\n"
    )
