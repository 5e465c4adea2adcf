"""Static findings without a flake8 run: the rules run in-process over files and directories.

Honours what flake8 users rely on: ``# noqa`` / ``# noqa: FAA102`` on the reported line,
``# flake8: noqa`` for a whole file, and opt-in codes staying silent unless selected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from flake8_fastapi_antipatterns.catalogue import opt_in_codes
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.report.inputs import InputError

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "build", "dist", "site-packages"})
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"^#\s*flake8[:=]\s*noqa\s*$", re.IGNORECASE | re.MULTILINE)


def python_files(paths: Iterable[str]) -> Iterator[str]:
    """Every ``.py`` file named or found under a named directory (hidden and build directories skipped)."""
    for name in paths:
        path = Path(name)
        if path.is_file():
            yield name
        elif path.is_dir():
            for folder, dirs, files in os.walk(name):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
                yield from (os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
        else:
            raise InputError(f"{name}: no such file or directory to lint")


def _silenced(diagnostic: Diagnostic, lines: list[str]) -> bool:
    if not 1 <= diagnostic.line <= len(lines):
        return False
    match = _NOQA.search(lines[diagnostic.line - 1])
    if match is None:
        return False
    codes = match["codes"]
    if not codes:
        return True
    return any(diagnostic.code.startswith(code.upper()) for code in re.split(r"[\s,]+", codes.strip()))


def lint_file(filename: str, extend_select: Iterable[str] = ()) -> list[Diagnostic]:
    try:
        with open(filename, encoding="utf-8", errors="replace") as handle:
            source = handle.read()
    except OSError as exc:
        raise InputError(f"{filename}: cannot read ({exc.strerror or exc})") from None
    if _FILE_NOQA.search(source):
        return []
    selected = tuple(code.strip().upper() for code in extend_select if code.strip())
    silent = {code for code in opt_in_codes() if not code.startswith(selected)}
    lines = source.splitlines()
    return [d for d in analyse_source(source, filename) if d.code not in silent and not _silenced(d, lines)]


def lint(paths: Iterable[str], extend_select: Iterable[str] = ()) -> list[Diagnostic]:
    selected = list(extend_select)
    return [d for filename in python_files(paths) for d in lint_file(filename, selected)]
