"""Known findings of an existing project, so that a run reports only new ones.

A finding is recognised across edits by its code, its file and the code around it, never by its
line number (any line inserted above it would move it):

- ``source``: the finding's own line, stripped and with runs of whitespace collapsed, so that
  re-indenting it (wrapping it in a block, a formatter's reflow of indentation) changes nothing;
- ``context``: a short hash of that line together with its nearest non-blank neighbours above and
  below (normalised the same way).

Matching is a multiset match in two passes. First each finding takes a baseline entry with the same
code, file and ``context``; then each finding left takes a remaining entry with the same code, file
and ``source``. The first pass tells apart identical lines in different places (a new copy of a
known line elsewhere in the file is the one reported); the second keeps a finding known when only
its neighbours changed (a line inserted right above it). Every finding is one entry, so two
identical findings are two entries and a third copy is reported. A finding resurfaces when its own
line changes, when its file is renamed, or when there are more of it than the baseline lists.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

BASELINE_KIND = "flake8-fastapi-antipatterns baseline"
"""The value of the ``baseline`` field that marks a file as ours."""
BASELINE_VERSION = 1
CONTEXT_HASH_LENGTH = 16
"""Hex digits kept of the context hash: 64 bits, so that two contexts never collide in practice."""


class BaselineError(ValueError):
    """A baseline file that cannot be read or is not one of ours."""


@dataclass(frozen=True, order=True)
class FindingKey:
    """How a finding is recognised across edits (sorted by file first, for the file's order)."""

    file: str
    code: str
    source: str
    context: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "file": self.file, "source": self.source, "context": self.context}


def _normalise(line: str) -> str:
    return " ".join(line.split())


def _nearest_non_blank(lines: list[str], start: int, step: int) -> str:
    index = start
    while 0 <= index < len(lines):
        text = _normalise(lines[index])
        if text:
            return text
        index += step
    return ""


def _context_hash(above: str, source: str, below: str) -> str:
    digest = hashlib.sha256("\n".join((above, source, below)).encode("utf-8")).hexdigest()
    return digest[:CONTEXT_HASH_LENGTH]


def finding_key(report: CheckReport, finding: Diagnostic) -> FindingKey:
    """The finding's key; a finding with no line in its file (line 0) has an empty source."""
    lines = report.source_lines(finding.filename)
    index = finding.line - 1
    if 0 <= index < len(lines):
        source = _normalise(lines[index])
        above = _nearest_non_blank(lines, index - 1, -1)
        below = _nearest_non_blank(lines, index + 1, 1)
    else:
        source = above = below = ""
    return FindingKey(finding.filename, finding.code, source, _context_hash(above, source, below))


def stable_fingerprints(report: CheckReport) -> list[str]:
    """One fingerprint per finding of ``report`` (in its order): stable across unrelated edits, unique.

    The finding's key, plus its rank among findings with the same key, so that identical findings
    get distinct fingerprints (code-quality services drop repeated ones).
    """
    seen: dict[FindingKey, int] = defaultdict(int)
    fingerprints = []
    for finding in report.findings:
        key = finding_key(report, finding)
        rank = seen[key]
        seen[key] += 1
        text = "\0".join((key.code, key.file, key.source, key.context, str(rank)))
        fingerprints.append(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return fingerprints


@dataclass(frozen=True)
class Baseline:
    """The findings a project accepted when it adopted the check (one entry per finding)."""

    entries: tuple[FindingKey, ...] = ()

    def new_findings(self, report: CheckReport) -> list[Diagnostic]:
        """The findings of ``report`` that the baseline does not list, in the report's order."""
        by_context: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        by_source: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for index, entry in enumerate(self.entries):
            by_context[(entry.code, entry.file, entry.context)].append(index)
            by_source[(entry.code, entry.file, entry.source)].append(index)
        used = [False] * len(self.entries)

        def take(candidates: list[int]) -> bool:
            # Entries under one key are interchangeable, so any unused one will do; earlier findings
            # take them first, and a surplus copy is reported at its last occurrences.
            while candidates:
                index = candidates.pop()
                if not used[index]:
                    used[index] = True
                    return True
            return False

        keys = [finding_key(report, finding) for finding in report.findings]
        unmatched = [
            position for position, key in enumerate(keys) if not take(by_context[(key.code, key.file, key.context)])
        ]
        return [
            report.findings[position]
            for position in unmatched
            if not take(by_source[(keys[position].code, keys[position].file, keys[position].source)])
        ]


def _entry(raw: Any, path: Path, number: int) -> FindingKey:
    fields = ("code", "file", "source", "context")
    if not isinstance(raw, dict) or not all(isinstance(raw.get(name), str) for name in fields):
        raise BaselineError(
            f"{path}: entry {number} is not a finding record (it needs the text fields {', '.join(fields)}); "
            "rewrite the file with --write-baseline"
        )
    return FindingKey(file=raw["file"], code=raw["code"], source=raw["source"], context=raw["context"])


def load_baseline(path: Path) -> Baseline:
    """Read a baseline written by :func:`write_baseline`; raise :class:`BaselineError` for any other file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file; create it with --write-baseline") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "restore it from version control or rewrite it with --write-baseline"
        ) from None
    if not isinstance(data, dict) or data.get("baseline") != BASELINE_KIND:
        raise BaselineError(
            f'{path}: not a flake8-fastapi-antipatterns baseline (no "baseline": {json.dumps(BASELINE_KIND)} '
            "field); pass the file --write-baseline wrote"
        )
    version = data.get("version")
    if version != BASELINE_VERSION:
        if isinstance(version, int) and version > BASELINE_VERSION:
            raise BaselineError(f"{path}: baseline version {version} is newer than this release reads; upgrade")
        raise BaselineError(f"{path}: unknown baseline version {version!r}; rewrite it with --write-baseline")
    raw_entries = data.get("findings")
    if not isinstance(raw_entries, list):
        raise BaselineError(f'{path}: the "findings" field must be a list; rewrite it with --write-baseline')
    return Baseline(tuple(_entry(raw, Path(path), number) for number, raw in enumerate(raw_entries, start=1)))


def render_baseline(report: CheckReport) -> str:
    """The file's text: one entry per line, sorted, so that a changed baseline reads well in a diff."""
    entries = sorted(finding_key(report, finding) for finding in report.findings)
    lines = [json.dumps(entry.to_json(), ensure_ascii=False) for entry in entries]
    findings = "[\n" + ",\n".join(f"    {line}" for line in lines) + "\n  ]" if lines else "[]"
    return (
        "{\n"
        f'  "baseline": {json.dumps(BASELINE_KIND)},\n'
        f'  "version": {BASELINE_VERSION},\n'
        f'  "findings": {findings}\n'
        "}\n"
    )


def write_baseline(path: Path, report: CheckReport) -> int:
    """Write every finding of ``report``; return how many entries were written.

    The file is replaced in one step (a half-written baseline would hide nothing and fail to load).
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(render_baseline(report), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise BaselineError(f"{path}: cannot write the baseline ({exc})") from None
    return len(report.findings)
