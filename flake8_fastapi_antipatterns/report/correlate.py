"""Which static findings the runtime guard confirmed.

A static finding is confirmed when a runtime finding has the same code, the
same file, and a line inside the function that encloses the static finding
(the guard reports the line that was running, the linter the line that is
wrong: both sit in the same function).  Without the source file, or for a
finding outside any function, the lines must be equal.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import PurePath

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report.model import Finding
from flake8_fastapi_antipatterns.report.sources import SourceFiles


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
    resolved = [os.path.realpath(name if os.path.isabs(name) else os.path.join(sources.root, name)) for name in (a, b)]
    if resolved[0] == resolved[1]:
        return True
    for relative, other in ((a, b), (b, a)):
        if not os.path.isabs(relative):
            tail = tuple(p for p in _parts(relative) if p not in (".", ""))
            if tail and ".." not in tail and _parts(other)[-len(tail) :] == tail:
                return True
    return False


def confirms(static: Diagnostic, runtime: Diagnostic, sources: SourceFiles) -> bool:
    if static.code != runtime.code or not same_file(static.filename, runtime.filename, sources):
        return False
    span = sources.enclosing_function(static.filename, static.line) if static.line >= 1 else None
    if span is not None:
        return runtime.line in span
    return static.line == runtime.line


def correlate(static: Sequence[Diagnostic], runtime: Sequence[Diagnostic], sources: SourceFiles) -> list[Finding]:
    """Static findings then runtime ones, each ``confirmed`` when a finding of the other source matches it."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for index, finding in enumerate(runtime):
        by_code[finding.code].append(index)
    matches_of_runtime: list[list[Diagnostic]] = [[] for _ in runtime]
    static_findings = []
    for finding in static:
        matched = [i for i in by_code.get(finding.code, ()) if confirms(finding, runtime[i], sources)]
        for i in matched:
            matches_of_runtime[i].append(finding)
        static_findings.append(Finding(finding, bool(matched), tuple(runtime[i] for i in matched)))
    return static_findings + [Finding(d, bool(m), tuple(m)) for d, m in zip(runtime, matches_of_runtime)]
