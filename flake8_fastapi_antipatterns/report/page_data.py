"""The HTML report's data block: one compact record per problem, for the page's script to list.

Short keys keep a 2,000-problem page small: ``c`` code, ``f`` file (an index into ``files``),
``l`` line, ``s`` severity, ``k`` kind (``both``, ``static``, ``runtime``), ``m`` message, ``n``
findings in the problem, ``seen`` times the guard saw it, ``d`` details, ``r`` runtime evidence,
``x`` code excerpt (first line number, the lines, the finding's line, lines seen at runtime).
"""

from __future__ import annotations

import json
from typing import Any

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report.model import SHOWN_DETAILS, Finding, Problem, Report
from flake8_fastapi_antipatterns.report.sources import SourceFiles

PAGE_SIZE = 20
"""Cards on one page of the list: a page stays a few screens tall at any report size."""

_EVIDENCE_EXCERPTS = 5  # evidence items that carry their own excerpt (elsewhere than the card's)


def message(diagnostic: Diagnostic) -> str:
    """The message without the rule's fix at its end (the page shows the fix once per code)."""
    rule = CATALOGUE.get(diagnostic.code)
    text = diagnostic.message
    if rule is not None and text.endswith("; " + rule.fix):
        text = text[: -len(rule.fix) - 2]
    return text


def _detail_pairs(diagnostic: Diagnostic) -> list[list[str]]:
    pairs = []
    for key in SHOWN_DETAILS:
        if key in ("count", "exception") or key not in diagnostic.details:
            continue
        value = diagnostic.details[key]
        if key == "stall_seconds" and isinstance(value, (int, float)):
            shown = f"{value:.2f} s"
        elif isinstance(value, list):
            shown = " → ".join(str(v) for v in value)
        else:
            shown = str(value)
        pairs.append([key.replace("_", " "), shown])
    return pairs


class _Files:
    """File names as the report shows them, each stored once."""

    def __init__(self, sources: SourceFiles) -> None:
        self.sources = sources
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def index(self, filename: str) -> int:
        shown = self.sources.display(filename)
        if shown not in self._index:
            self._index[shown] = len(self.names)
            self.names.append(shown)
        return self._index[shown]


def _excerpt(diagnostic: Diagnostic, sources: SourceFiles, seen: list[int]) -> list[Any] | None:
    lines = sources.excerpt(diagnostic.filename, diagnostic.line)
    if not lines:
        return None
    first = lines[0].number
    in_range = [line for line in seen if first <= line <= lines[-1].number and line != diagnostic.line]
    return [first, [line.text for line in lines], diagnostic.line, sorted(set(in_range))]


def _evidence(
    finding: Finding, lead: Diagnostic, files: _Files, sources: SourceFiles, with_excerpt: bool
) -> dict[str, Any]:
    d = finding.diagnostic
    record: dict[str, Any] = {"f": files.index(d.filename), "l": d.line, "m": message(d), "n": finding.count}
    elsewhere = sources.display(d.filename) != sources.display(lead.filename) or abs(d.line - lead.line) > 2
    if with_excerpt and elsewhere:
        excerpt = _excerpt(d, sources, [])
        if excerpt is not None:
            record["x"] = excerpt
    return record


def problem_record(problem: Problem, files: _Files, sources: SourceFiles) -> dict[str, Any]:
    lead = problem.lead.diagnostic
    kind = "both" if problem.both else ("static" if problem.static is not None else "runtime")
    record: dict[str, Any] = {
        "c": lead.code,
        "f": files.index(lead.filename),
        "l": lead.line,
        "s": problem.severity,
        "k": kind,
        "m": message(lead),
        "n": len(problem.findings),
    }
    seen = sum(f.count for f in problem.runtime)
    if seen:
        record["seen"] = seen
    details = _detail_pairs(lead)
    if details:
        record["d"] = details
    evidence = problem.runtime if problem.static is not None else problem.runtime[1:]
    if evidence:
        record["r"] = [
            _evidence(f, lead, files, sources, index < _EVIDENCE_EXCERPTS) for index, f in enumerate(evidence)
        ]
    same_file = [f.diagnostic.line for f in problem.runtime if files.index(f.diagnostic.filename) == record["f"]]
    excerpt = _excerpt(lead, sources, same_file)
    if excerpt is not None:
        record["x"] = excerpt
    return record


def page_data(report: Report, sources: SourceFiles) -> dict[str, Any]:
    files = _Files(sources)
    problems = [problem_record(p, files, sources) for p in report.problems]
    codes = {p.code for p in report.problems}
    rules = {code: {"t": rule.title, "fix": rule.fix} for code, rule in CATALOGUE.items() if code in codes}
    return {"pageSize": PAGE_SIZE, "files": files.names, "rules": rules, "problems": problems}


def script_json(data: dict[str, Any]) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can end it early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
