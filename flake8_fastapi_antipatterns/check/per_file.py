"""``per-file-ignores``: codes turned off in the files a gitignore-style pattern matches."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flake8_fastapi_antipatterns.check.dependencies import require

pathspec = require("pathspec", "to match per-file-ignores patterns")


class PerFileIgnores:
    def __init__(self, root: Path, entries: Sequence[tuple[str, tuple[str, ...]]]) -> None:
        self._root = os.path.abspath(root)
        self._entries: list[tuple[Any, tuple[str, ...]]] = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), codes) for pattern, codes in entries
        ]

    def codes_for(self, path: str) -> tuple[str, ...]:
        """The codes ignored in ``path`` (patterns are relative to the configuration's directory)."""
        if not self._entries:
            return ()
        relative = os.path.relpath(os.path.abspath(path), self._root).replace(os.sep, "/")
        if relative.startswith("../"):
            relative = os.path.basename(path)
        found: list[str] = []
        for spec, codes in self._entries:
            if spec.match_file(relative):
                found.extend(codes)
        return tuple(found)
