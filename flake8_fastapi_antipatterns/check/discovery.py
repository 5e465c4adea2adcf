"""Which files ``faa check`` reads: the ``.py`` files under the given paths, like ruff finds them.

Skipped: what ``.gitignore`` files ignore (nested ones too, each relative to its own directory, a
deeper file overriding a higher one, plus ``.git/info/exclude``), hidden directories, virtual
environments (a directory holding ``pyvenv.cfg``), and what ``exclude`` / ``extend-exclude`` match
(gitignore-style patterns relative to the configuration's directory; ``exclude`` replaces the
default list of build and tool folders, ``extend-exclude`` adds to it). A file named on the command
line is always checked. Directory links are not followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flake8_fastapi_antipatterns.check.dependencies import require

pathspec = require("pathspec", "to match .gitignore and exclude patterns")

DEFAULT_EXCLUDE: tuple[str, ...] = (
    "build", "dist", ".tox", ".nox", "node_modules", "__pycache__", ".git", "*.egg-info", "site-packages",
    ".venv", "venv",
)
GITIGNORE = ".gitignore"
VENV_MARKER = "pyvenv.cfg"
SOURCE_SUFFIX = ".py"


@dataclass(frozen=True)
class IgnoreFile:
    """The patterns of one ignore file, and the directory they are relative to."""

    base: str
    patterns: tuple[Any, ...]

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included (``!pattern``), None: no pattern speaks of ``path``."""
        relative = os.path.relpath(path, self.base).replace(os.sep, "/")
        if relative.startswith("../"):
            return None
        if is_dir:
            relative += "/"
        decided: bool | None = None
        for pattern in self.patterns:  # the last matching pattern decides, as in git
            if pattern.include is not None and pattern.match_file(relative) is not None:
                decided = bool(pattern.include)
        return decided


def read_ignore_file(path: str, base: str) -> IgnoreFile | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return IgnoreFile(base, tuple(spec.patterns)) if spec.patterns else None


def is_ignored(stack: Sequence[IgnoreFile], path: str, is_dir: bool) -> bool:
    for ignore_file in reversed(stack):  # the deepest file that speaks decides
        verdict = ignore_file.verdict(path, is_dir)
        if verdict is not None:
            return verdict
    return False


def _git_root(directory: str) -> str | None:
    current = directory
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _inherited_ignores(start: str) -> list[IgnoreFile]:
    """The ignore files above ``start`` that apply to it: from the repository's top down."""
    top = _git_root(start)
    if top is None:
        return []
    found: list[IgnoreFile] = []
    info = read_ignore_file(os.path.join(top, ".git", "info", "exclude"), top)
    if info is not None:
        found.append(info)
    chain: list[str] = []
    current = start
    while current != top:
        current = os.path.dirname(current)
        chain.append(current)
    for directory in reversed(chain):
        ignore_file = read_ignore_file(os.path.join(directory, GITIGNORE), directory)
        if ignore_file is not None:
            found.append(ignore_file)
    return found


class Excludes:
    """``exclude`` + ``extend-exclude``: gitignore-style patterns relative to ``root``."""

    def __init__(self, root: Path, exclude: Sequence[str] | None, extend_exclude: Sequence[str]) -> None:
        self._root = os.path.abspath(root)
        patterns = [*(DEFAULT_EXCLUDE if exclude is None else exclude), *extend_exclude]
        self._spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    def match(self, path: str, is_dir: bool) -> bool:
        relative = os.path.relpath(path, self._root).replace(os.sep, "/")
        if relative.startswith("../"):
            relative = os.path.basename(path)  # outside the root: only patterns without a slash apply
        return bool(self._spec.match_file(relative + "/" if is_dir else relative))


def discover(paths: Sequence[Path], excludes: Excludes) -> list[str]:
    """The files to check, each spelled as flake8 would (the argument joined with the path below it),
    in a stable order, without duplicates."""
    seen: set[str] = set()
    found: list[str] = []
    for argument in paths:
        given = os.fspath(argument)
        candidates: Iterator[str]
        if os.path.isdir(given):
            start = os.path.abspath(given)
            candidates = _walk(given, start, _inherited_ignores(start), excludes)
        else:
            candidates = iter([given])  # named explicitly: always checked (a missing one reports FAA000)
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _walk(shown: str, absolute: str, stack: list[IgnoreFile], excludes: Excludes) -> Iterator[str]:
    own = read_ignore_file(os.path.join(absolute, GITIGNORE), absolute)
    if own is not None:
        stack = [*stack, own]
    try:
        with os.scandir(absolute) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path = os.path.join(absolute, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if (
                entry.name.startswith(".")
                or os.path.exists(os.path.join(path, VENV_MARKER))
                or excludes.match(path, True)
                or is_ignored(stack, path, True)
            ):
                continue
            yield from _walk(os.path.join(shown, entry.name), path, stack, excludes)
        elif (
            entry.name.endswith(SOURCE_SUFFIX)
            and entry.is_file()
            and not excludes.match(path, False)
            and not is_ignored(stack, path, False)
        ):
            yield os.path.join(shown, entry.name)
