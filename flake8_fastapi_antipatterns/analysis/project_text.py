"""The text of a project's Python files, read once and searched without parsing.

The files stage (``analysis/project.py``) asks the project's text three kinds of question: which
files spell a word (the serving path's callers of a function, the modules that may raise a
project exception), which names the project ``def``s or ``class``es, and which files mount an
app. The files are kept as one buffer, each file's text followed by a newline: a word is then
found with one search over the whole project instead of one per file, and bytes cost the
garbage collector nothing to walk. A separator that is a line end and no identifier character
keeps every answer what it would be file by file: no word, ``def`` line or marker spans it.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

# ``def name``/``class name`` first on its line (after ``async`` for a def). Names up to what ends
# them (``(``, ``:``, ``[``, a space): non-ASCII identifiers stay whole. The keyword is searched for
# and what precedes it on its line checked after: a pattern anchored at each line start is tried at
# every line of the project, one led by a word only where the word is.
_DEFINITION = re.compile(rb"(def|class)[ \t]+([^\s(:\[]+)")
_BEFORE_DEF = re.compile(rb"[ \t]*(?:async[ \t]+)?")
_BEFORE_CLASS = re.compile(rb"[ \t]*")
_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# ``from x import (a,\n b)`` up to its closing parenthesis, or one ``import``/``from`` line.
_IMPORT_STATEMENT = re.compile(rb"^[ \t]*(?:from[ \t][^\n(#]*\([^)]*\)|(?:from|import)[ \t][^\n#]*)", re.MULTILINE)
_IDENTIFIER_CLASS = rb"[A-Za-z0-9_]"
_SEPARATOR = b"\n"
_IDENTIFIER_RUN = re.compile(_IDENTIFIER_CLASS + rb"+")
# A ``class`` statement's name and the text of its parentheses up to the first ``)``.
_CLASS_BASES = re.compile(rb"class[ \t]+[^\s(:\[]+[ \t]*\(([^)]*)")


@dataclass(frozen=True)
class DefinedNames:
    """The names a project's files ``def`` and ``class``, read from their text: a call whose name is
    not among them cannot run a project function, and needs no symbol look-up to say so."""

    functions: frozenset[str]
    classes: frozenset[str]


class ProjectTexts:
    """Every Python file of one project, by real path, in the order they were read."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.paths = list(files)
        self._starts: list[int] = []
        self._ends: list[int] = []
        offset = 0
        for text in files.values():
            self._starts.append(offset)
            self._ends.append(offset + len(text))
            offset += len(text) + len(_SEPARATOR)
        self._text = _SEPARATOR.join(files.values())
        self._position = {path: number for number, path in enumerate(self.paths)}
        self._bases: dict[bytes, set[int]] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def __contains__(self, path: object) -> bool:
        return path in self._position  # without copying the file's text out, as ``get`` does

    def fingerprint(self) -> str:
        """A hash of every file's path and bytes: equal exactly when the project's Python text is."""
        digest = hashlib.sha256()
        for path, start, end in zip(self.paths, self._starts, self._ends):
            digest.update(f"{path}\0{end - start}\0".encode("utf-8", "surrogateescape"))
        digest.update(self._text)
        return digest.hexdigest()

    def get(self, path: str) -> bytes | None:
        number = self._position.get(path)
        return None if number is None else self._text[self._starts[number] : self._ends[number]]

    def items(self) -> Iterator[tuple[str, bytes]]:
        for number, path in enumerate(self.paths):
            yield path, self._text[self._starts[number] : self._ends[number]]

    def mentioning(self, word: str) -> list[str]:
        """The files that hold ``word`` as a whole word (no ASCII letter, digit or ``_`` on either side), sorted."""
        encoded = word.encode()
        if not encoded:
            return []
        # The regular expression skips the word inside longer names (``handle`` in ``handler``)
        # without a step of Python each; the separator is no identifier character, so a file's
        # first and last word count as whole.
        # The literal leads the pattern, so the engine finds its candidates with a fast scan; what
        # precedes it is checked after, by a look-behind over the word itself.
        literal = re.escape(encoded)
        return self._files_matching(re.compile(literal + rb"(?<!" + _IDENTIFIER_CLASS + literal + rb")(?!" + _IDENTIFIER_CLASS + rb")"))

    def _files_matching(self, pattern: re.Pattern[bytes]) -> list[str]:
        """The files in whose text ``pattern`` matches, sorted: one search over the buffer, resumed
        at the end of each file that matched (one match is enough)."""
        text, starts, ends = self._text, self._starts, self._ends
        found: list[str] = []
        match = pattern.search(text)
        while match is not None:
            number = bisect.bisect_right(starts, match.start()) - 1
            found.append(self.paths[number])
            match = pattern.search(text, ends[number])
        return sorted(found)

    def deriving(self, word: str) -> list[str]:
        """The files that may derive a class from ``word``: a ``class`` statement naming it among its
        bases (``class PostgresDb(BaseDb):``, the list over several lines too), or an import of it
        under another name (``import BaseDb as Base``), sorted. A superset of the files whose parse
        holds such a class, far fewer than those that merely mention the name."""
        raw = word.encode()
        if not raw:
            return []
        if _IDENTIFIER_RUN.fullmatch(raw):
            # The bases of every ``class`` statement are read once (a pattern that scans each base list
            # again for each word asked cost a tenth of the analysis on a large project); the renaming
            # import is a search led by the word itself.
            literal = re.escape(raw)
            renamed = re.compile(literal + rb"(?<!" + _IDENTIFIER_CLASS + literal + rb")[ \t]+as[ \t]")
            numbers = set(self._base_words().get(raw, ())) | {self._position[path] for path in self._files_matching(renamed)}
            return sorted(self.paths[number] for number in numbers)
        encoded = re.escape(raw)
        pattern = re.compile(
            rb"class[ \t]+[^\s(:\[]+[ \t]*\((?:[^)]*?[^)A-Za-z0-9_])?" + encoded + rb"(?!" + _IDENTIFIER_CLASS + rb")"
            + rb"|" + encoded + rb"(?<!" + _IDENTIFIER_CLASS + encoded + rb")[ \t]+as[ \t]"
        )  # fmt: skip
        return self._files_matching(pattern)

    def _base_words(self) -> dict[bytes, set[int]]:
        """Each identifier written between the parentheses of a ``class`` statement (up to the first
        ``)``, as ``deriving``'s pattern reads them) -> the numbers of the files it is written in."""
        if self._bases is None:
            index: dict[bytes, set[int]] = {}
            text = self._text
            # File by file: a statement left open at the end of one file (``class H(``) must not read
            # the next file's bases as its own, nor hide the class statements written there.
            for number, (start, end) in enumerate(zip(self._starts, self._ends)):
                if text.find(b"class", start, end) < 0:
                    continue
                for match in _CLASS_BASES.finditer(text, start, end):
                    for base in _IDENTIFIER_RUN.findall(match.group(1)):
                        index.setdefault(base, set()).add(number)
            self._bases = index
        return self._bases

    def defined_names(self) -> DefinedNames:
        # One pass over the buffer: a ``def`` line ends at its newline, so none spans two files.
        text = self._text
        functions: set[bytes] = set()
        classes: set[bytes] = set()
        for match in _DEFINITION.finditer(text):
            keyword, name = match.groups()
            start = match.start()
            line = text.rfind(b"\n", 0, start) + 1
            before = _BEFORE_DEF if keyword == b"def" else _BEFORE_CLASS
            if before.fullmatch(text, line, start):
                (functions if keyword == b"def" else classes).add(name)
        return DefinedNames(
            frozenset(n.decode("utf-8", "replace") for n in functions),
            frozenset(n.decode("utf-8", "replace") for n in classes),
        )

    def containing(self, markers: tuple[bytes, ...]) -> list[str]:
        """The files whose text holds any of ``markers``, in reading order."""
        numbers: set[int] = set()
        for marker in markers:
            at = self._text.find(marker)
            while at >= 0:
                number = bisect.bisect_right(self._starts, at) - 1
                numbers.add(number)
                at = self._text.find(marker, self._ends[number])
        return [self.paths[number] for number in sorted(numbers)]


def imported_words(text: bytes) -> frozenset[str]:
    """The words of a module's import statements (``from .admin import app as a`` -> from, admin, ...),
    a parenthesised name list included; read from the text, without parsing it."""
    return frozenset(
        word.decode("ascii") for statement in _IMPORT_STATEMENT.findall(text) for word in _WORD.findall(statement)
    )


__all__ = ["DefinedNames", "ProjectTexts", "imported_words"]
