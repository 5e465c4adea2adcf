"""What one ``faa check`` run found: the record the output formats and the baseline read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flake8_fastapi_antipatterns.diagnostics import Diagnostic

PARSE_ERROR_CODE = "FAA000"
"""Not a rule: a file the running Python cannot parse, reported so that it is never skipped silently."""


@dataclass
class CheckReport:
    """Findings of one run, named relative to ``root``.

    ``findings`` are sorted by file, line, column and code; each ``filename`` is a POSIX path
    relative to ``root`` (the project directory the run was started in).
    """

    root: Path
    findings: list[Diagnostic]
    files_checked: int = 0
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def source_lines(self, filename: str) -> list[str]:
        """The lines of one reported file (without line ends); empty if it cannot be read."""
        if filename not in self._lines:
            try:
                text = (self.root / filename).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[filename] = text.splitlines()
        return self._lines[filename]
