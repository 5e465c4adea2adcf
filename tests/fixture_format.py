"""Reading the expected findings written beside the code in fixture files.

A fixture is ordinary Python.  Conventions, all comments:

- ``# error: FAA101`` (or ``# error: FAA101, FAA102``) at the end of a line:
  that line must get exactly those codes.
- ``# checks: FAA101 FAA102`` anywhere: the codes this fixture is about.
  Without it, the codes named in the file name (``FAA101_aliases.py``).
  Findings of other codes are ignored, so a fixture is free to contain
  a ``print`` without caring about FAA402.
- ``# flake8-options: --faa-health-paths=/status,/ok``: option values for
  this fixture, spelled as on flake8's command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flake8_fastapi_antipatterns.options import OPTION_SPECS, Settings, settings_from

CODE = re.compile(r"FAA\d{3}")
ERROR_COMMENT = re.compile(r"#\s*error:\s*(FAA\d{3}(?:\s*,\s*FAA\d{3})*)")
CHECKS_COMMENT = re.compile(r"#\s*checks:\s*(.+)$")
OPTIONS_COMMENT = re.compile(r"#\s*flake8-options:\s*(.+)$")


@dataclass
class Fixture:
    path: Path
    source: str
    checks: frozenset[str]
    expected: set[tuple[int, str]]
    settings: Settings


def load_fixture(path: Path) -> Fixture:
    source = path.read_text(encoding="utf-8")
    expected: set[tuple[int, str]] = set()
    checks: set[str] = set()
    option_values: dict[str, str] = {}
    flags = {spec.flag: spec.field for spec in OPTION_SPECS}
    for number, line in enumerate(source.splitlines(), 1):
        match = ERROR_COMMENT.search(line)
        if match:
            expected.update((number, code) for code in CODE.findall(match.group(1)))
        match = CHECKS_COMMENT.search(line)
        if match:
            checks.update(CODE.findall(match.group(1)))
        match = OPTIONS_COMMENT.search(line)
        if match:
            for item in match.group(1).split():
                flag, _, value = item.partition("=")
                if flag not in flags:
                    raise ValueError(f"{path.name}:{number}: unknown option {flag}")
                option_values[flags[flag]] = value
    if not checks:
        checks.update(CODE.findall(path.stem))
    if not checks:
        raise ValueError(f"{path.name}: name the codes it checks (file name or '# checks:')")
    unchecked = {code for _, code in expected} - checks
    if unchecked:
        raise ValueError(f"{path.name}: expects {sorted(unchecked)} but does not check them")
    return Fixture(path, source, frozenset(checks), expected, settings_from(option_values))
