"""``# noqa`` comments, read the way flake8 reads them, so that both front ends drop the same findings.

- ``# noqa`` alone drops every finding on its line; ``# noqa: FAA101,FAA102`` (or ``#noqa:FAA101 FAA102``:
  commas and/or spaces separate the codes; ``noqa`` in any case) drops findings whose code starts with
  one of the listed codes (case matters in the codes: ``faa101`` names nothing).
- A comment speaks for its physical line, except across a token spanning several lines (a
  triple-quoted string or f-string): a finding on any line from the start of the statement holding
  such a string to the comment after it is dropped by that comment (flake8 looks for the comment in
  the text from one newline token to the next; inside brackets every line ends in one).
- A line ``# flake8: noqa`` (or ``flake8=noqa``) on its own skips the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
WHOLE_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
CODE_SEPARATORS = re.compile(r"[,\s]")


def source_lines(data: bytes) -> list[str]:
    """The file's lines as flake8 reads them (its encoding, universal newlines, latin-1 as a last resort)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        lines = io.TextIOWrapper(io.BytesIO(data), encoding=encoding).readlines()
    except (SyntaxError, UnicodeError, LookupError):
        lines = io.TextIOWrapper(io.BytesIO(data), encoding="latin-1").readlines()
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


def skips_file(lines: list[str]) -> bool:
    return any(WHOLE_FILE.match(line) for line in lines)


@dataclass
class NoqaComments:
    lines: list[str]
    _logical: dict[int, str] | None = field(default=None, repr=False)

    def _logical_lines(self) -> dict[int, str]:
        """Each line number mapped to the text of the logical line it belongs to."""
        if self._logical is None:
            mapping: dict[int, str] = {}
            try:
                tokens = list(tokenize.generate_tokens(iter(self.lines).__next__))
            except (tokenize.TokenError, SyntaxError, StopIteration):
                tokens = []  # then each line stands alone
            first, last = len(self.lines) + 2, -1
            for token in tokens:
                if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                    continue
                first, last = min(first, token.start[0]), max(last, token.end[0])
                if token.type in (tokenize.NL, tokenize.NEWLINE):
                    text = "".join(self.lines[first - 1 : last])
                    mapping.update(dict.fromkeys(range(first, last + 1), text))
                    first, last = len(self.lines) + 2, -1
            self._logical = mapping
        return self._logical

    def suppresses(self, line: int, code: str) -> bool:
        text = self._logical_lines().get(line)
        if text is None:
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        match = INLINE.search(text)
        if match is None:
            return False
        codes = match.group("codes")
        if codes is None:
            return True
        listed = tuple(part for part in CODE_SEPARATORS.split(codes) if part)
        return code.startswith(listed)
