"""The user's source files as a report sees them: excerpts around a line, and function line ranges.

Only Python files are read (a findings file naming ``/etc/shadow`` must not put it in a report),
each at most once, and a file that is missing, too big or unparsable just yields nothing.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

_PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")
_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class FunctionSpan:
    """The lines of one ``def``/``async def``, decorators included (where a runtime frame may point)."""

    name: str
    start: int
    end: int

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.start <= line <= self.end


@dataclass(frozen=True)
class ExcerptLine:
    number: int
    text: str
    hit: bool


class SourceFiles:
    """Reads (and caches) the files findings point at; relative names are taken from ``root``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else Path.cwd()
        self._lines: dict[str, list[str] | None] = {}
        self._spans: dict[str, list[FunctionSpan] | None] = {}
        # A big report names a few files thousands of times, in two spellings (flake8's relative
        # names, the guard's absolute ones): each name is resolved once, each file read once.
        self._shown: dict[str, str] = {}
        self._enclosing: dict[tuple[str, int], FunctionSpan | None] = {}

    def display(self, filename: str) -> str:
        """``filename`` relative to the root when it lies under it (so ``./app.py`` and ``/srv/x/app.py`` meet)."""
        if filename not in self._shown:
            self._shown[filename] = self._display(filename)
        return self._shown[filename]

    def _display(self, filename: str) -> str:
        if not filename or filename.startswith("<"):
            return filename
        root = os.path.realpath(self.root)
        full = os.path.realpath(filename if os.path.isabs(filename) else os.path.join(root, filename))
        if full == root or full.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.relpath(full, root)
        return os.path.normpath(filename)

    def path(self, filename: str) -> Path | None:
        """The readable Python file ``filename`` names, if there is one."""
        if not filename or not filename.endswith(_PYTHON_SUFFIXES):
            return None
        path = Path(filename)
        if not path.is_absolute():
            path = self.root / path
        try:
            if path.is_file() and path.stat().st_size <= _MAX_BYTES:
                return path
        except OSError:
            pass
        return None

    def lines(self, filename: str) -> list[str] | None:
        filename = self.display(filename)
        if filename not in self._lines:
            path = self.path(filename)
            text: str | None = None
            if path is not None:
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = None
            self._lines[filename] = text.splitlines() if text is not None else None
        return self._lines[filename]

    def functions(self, filename: str) -> list[FunctionSpan] | None:
        """Every function of the file (nested ones too), or None when the file cannot be parsed."""
        filename = self.display(filename)
        if filename not in self._spans:
            lines = self.lines(filename)
            spans: list[FunctionSpan] | None = None
            if lines is not None:
                try:
                    tree = ast.parse("\n".join(lines) + "\n", filename=filename)
                except (SyntaxError, ValueError):
                    tree = None
                if tree is not None:
                    spans = [
                        _span(node)
                        for node in ast.walk(tree)
                        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    ]
            self._spans[filename] = spans
        return self._spans[filename]

    def enclosing_function(self, filename: str, line: int) -> FunctionSpan | None:
        """The innermost function containing ``line``."""
        key = (self.display(filename), line)
        if key not in self._enclosing:
            inside = [span for span in self.functions(filename) or () if line in span]
            self._enclosing[key] = min(inside, key=lambda span: span.end - span.start, default=None)
        return self._enclosing[key]

    def excerpt(self, filename: str, line: int, context: int = 2) -> list[ExcerptLine]:
        """``line`` with ``context`` lines either side; empty when the file or the line is not there."""
        lines = self.lines(filename)
        if lines is None or not 1 <= line <= len(lines):
            return []
        first, last = max(1, line - context), min(len(lines), line + context)
        return [ExcerptLine(n, lines[n - 1], n == line) for n in range(first, last + 1)]


def _span(node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionSpan:
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return FunctionSpan(node.name, start, node.end_lineno or node.lineno)
