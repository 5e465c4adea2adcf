"""Which findings of the two detectors are one problem.

A runtime finding backs a static one when it has the same code, the same
file, and a line inside the function that encloses the static finding (the
guard reports the line that was running, the linter the line that is wrong:
both sit in the same function).  Without the source file, or for a finding
outside any function, the lines must be equal.

FAA304 and FAA301 are keyed differently: the two halves point at different
places of one app.  The linter reports the app that registers no catch-all
handler at its ``FastAPI(...)`` line, and the guard each exception that
escaped that app at the line that raised it, in whichever module of the app it
was.  For CORS the linter points at the ``add_middleware(CORSMiddleware, ...)``
call, the guard at the app.  Such a runtime finding is evidence for the static
finding of its app: the only one of its code in the report; else the one in
its file (the nearest line); else the one whose folder holds its file most
closely.  With two apps equally close it stays a problem of its own.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report.model import Finding, Problem
from flake8_fastapi_antipatterns.report.sources import SourceFiles

APP_KEYED_CODES: frozenset[str] = frozenset({"FAA301", "FAA304"})
"""Codes whose static and runtime findings point at different places of one app (see above)."""


def _parts(filename: str) -> tuple[str, ...]:
    return PurePath(os.path.normpath(filename.replace("\\", "/"))).parts


def same_file(a: str, b: str, sources: SourceFiles) -> bool:
    """Whether two findings' file names mean one file.

    Names are compared once resolved against the report's root; failing that,
    a relative name matches an absolute one that ends with it, so a linted
    ``app/main.py`` meets the guard's ``/srv/app/app/main.py`` from a container.
    """
    if not a or not b:
        return False
    if a == b:
        return True
    resolved = [_resolved(name, sources) for name in (a, b)]
    if resolved[0] == resolved[1]:
        return True
    for relative, other in ((a, b), (b, a)):
        if not os.path.isabs(relative):
            tail = tuple(p for p in _parts(relative) if p not in (".", ""))
            if tail and ".." not in tail and _parts(other)[-len(tail) :] == tail:
                return True
    return False


def _resolved(name: str, sources: SourceFiles) -> str:
    return os.path.realpath(name if os.path.isabs(name) else os.path.join(sources.root, name))


def confirms(static: Diagnostic, runtime: Diagnostic, sources: SourceFiles) -> bool:
    """Whether ``runtime`` is evidence of ``static`` by place: same code, same file, same function."""
    if static.code != runtime.code or not same_file(static.filename, runtime.filename, sources):
        return False
    return _same_function(static, runtime, sources)


class _SameFile:
    """``same_file`` over distinct name pairs only: a big report names few files many times."""

    def __init__(self, sources: SourceFiles) -> None:
        self.sources = sources
        self._known: dict[tuple[str, str], bool] = {}

    def __call__(self, a: str, b: str) -> bool:
        key = (a, b)
        if key not in self._known:
            self._known[key] = same_file(a, b, self.sources)
        return self._known[key]


def _shared_depth(app_file: str, raise_file: str, sources: SourceFiles) -> int:
    """How many folders the app's file and the raise site's file have in common, from the top."""
    app_dir = _parts(os.path.dirname(_resolved(app_file, sources)))
    raise_dir = _parts(os.path.dirname(_resolved(raise_file, sources)))
    depth = 0
    for mine, theirs in zip(app_dir, raise_dir):
        if mine != theirs:
            break
        depth += 1
    return depth


def app_finding_for(
    seen: Diagnostic, apps: Sequence[Diagnostic], sources: SourceFiles, same: _SameFile | None = None
) -> int | None:
    """The index in ``apps`` (static findings of one app-keyed code) of the one that the runtime
    finding ``seen`` is evidence for, if one stands out."""
    if not apps:
        return None
    if len(apps) == 1:
        return 0
    same = same if same is not None else _SameFile(sources)
    in_file = [i for i, app in enumerate(apps) if same(app.filename, seen.filename)]
    if in_file:
        distances = [abs(apps[i].line - seen.line) for i in in_file]
        nearest = min(distances)
        return in_file[distances.index(nearest)] if distances.count(nearest) == 1 else None
    depths = [_shared_depth(app.filename, seen.filename, sources) for app in apps]
    deepest = max(depths)
    return depths.index(deepest) if depths.count(deepest) == 1 else None


def _same_function(static: Diagnostic, runtime: Diagnostic, sources: SourceFiles) -> bool:
    span = sources.enclosing_function(static.filename, static.line) if static.line >= 1 else None
    return runtime.line in span if span is not None else runtime.line == static.line


def evidence(static: Sequence[Diagnostic], runtime: Sequence[Diagnostic], sources: SourceFiles) -> list[list[int]]:
    """For each static finding, the indices (in ``runtime``) of the runtime findings that back it."""
    same = _SameFile(sources)
    # Runtime findings by code and by file as the report shows it: names under the root meet
    # there whatever their spelling; the others (a container's paths) are compared one by one.
    by_code_file: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, finding in enumerate(runtime):
        if finding.code not in APP_KEYED_CODES:
            by_code_file[finding.code][sources.display(finding.filename)].append(index)
    backing: list[list[int]] = []
    for finding in static:
        files = by_code_file.get(finding.code, {})
        shown = sources.display(finding.filename)
        candidates = list(files.get(shown, ()))
        for other, indices in files.items():
            if other != shown and os.path.isabs(other) and same(finding.filename, other):
                candidates.extend(indices)
        backing.append(sorted(i for i in candidates if _same_function(finding, runtime[i], sources)))
    for code in APP_KEYED_CODES:
        apps = [i for i, finding in enumerate(static) if finding.code == code]
        app_findings = [static[i] for i in apps]
        for index, finding in enumerate(runtime):
            if finding.code == code:
                chosen = app_finding_for(finding, app_findings, sources, same)
                if chosen is not None:
                    backing[apps[chosen]].append(index)
    return backing


@dataclass(frozen=True)
class Correlation:
    findings: list[Finding]
    """Static findings, then runtime ones, each ``confirmed`` when a finding of the other source matches it."""
    problems: list[Problem]
    """Every static finding with its runtime evidence, then the runtime findings no static one explains."""


def _place(finding: Diagnostic, sources: SourceFiles) -> tuple[str, str, int]:
    """Where a runtime finding happened, coarsely: its code, file and function (or line outside any)."""
    span = sources.enclosing_function(finding.filename, finding.line) if finding.line >= 1 else None
    return (finding.code, sources.display(finding.filename), span.start if span is not None else -finding.line)


def correlate(static: Sequence[Diagnostic], runtime: Sequence[Diagnostic], sources: SourceFiles) -> Correlation:
    backing = evidence(static, runtime, sources)
    backed: list[list[int]] = [[] for _ in runtime]
    for static_index, indices in enumerate(backing):
        for runtime_index in indices:
            backed[runtime_index].append(static_index)
    static_findings = [
        Finding(d, bool(indices), tuple(runtime[i] for i in indices)) for d, indices in zip(static, backing)
    ]
    runtime_findings = [Finding(d, bool(s), tuple(static[i] for i in s)) for d, s in zip(runtime, backed)]
    problems = [
        Problem(finding, tuple(runtime_findings[i] for i in indices))
        for finding, indices in zip(static_findings, backing)
    ]
    # Runtime findings alone: the same code in the same function is one problem seen at several lines.
    alone: dict[tuple[str, str, int], list[Finding]] = {}
    for finding, matches in zip(runtime_findings, backed):
        if not matches:
            alone.setdefault(_place(finding.diagnostic, sources), []).append(finding)
    problems.extend(Problem(None, tuple(group)) for group in alone.values())
    return Correlation(static_findings + runtime_findings, problems)
