"""Findings in: flake8's default text output and the runtime guard's JSON lines.

Every problem is an ``InputError`` whose message names the input and, where
there is one, the line: the CLI prints it and exits 2 (never a traceback).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import IO, Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic

STDIN = "-"

# ``path:line:col: CODE message`` (flake8's ``default`` format).  The path is matched
# lazily so that ``C:\app\main.py:3:1: ...`` keeps its drive letter.
_FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<message>.*)$")
_CARET = re.compile(r"^\s*\^\s*$")  # --show-source puts the source line and a caret under a finding
_COUNT = re.compile(r"^\d+$")  # --count
_STATISTICS = re.compile(r"^\d+\s+[A-Z]+[0-9]+ ")  # --statistics


class InputError(Exception):
    """Bad input; the message says which input and which line."""


@dataclass(frozen=True)
class Input:
    """One input text and the name to use for it in messages."""

    name: str
    text: str


def read_input(name: str, stdin: IO[str] | None = None) -> Input:
    """The text of ``name`` (``-`` for standard input), decoded as UTF-8."""
    if name == STDIN:
        stream = stdin if stdin is not None else sys.stdin
        try:
            return Input("<stdin>", stream.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"<stdin>: cannot read ({exc})") from None
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        return Input(name, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{name}:{line}: not UTF-8 text") from None


def parse_flake8(source: Input, *, prefix: str = "FAA") -> list[Diagnostic]:
    """The ``prefix`` findings of a flake8 run's default output; other plugins' codes are skipped."""
    lines = source.text.splitlines()
    found: list[Diagnostic] = []
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        match = _FINDING.match(line)
        if match is None:
            if _ignorable(line, lines[index + 1] if index + 1 < len(lines) else ""):
                continue
            shown = line if len(line) <= 80 else line[:77] + "..."
            raise InputError(
                f"{source.name}:{index + 1}: not a flake8 finding (expected `path:line:col: CODE message`): {shown!r}"
            )
        if not match["code"].startswith(prefix):
            continue
        found.append(
            Diagnostic(
                code=match["code"],
                message=match["message"],
                filename=match["path"],
                line=int(match["line"]),
                col=max(int(match["col"]) - 1, 0),
                source="static",
            )
        )
    return found


def _ignorable(line: str, following: str) -> bool:
    return (
        not line.strip()
        or bool(_CARET.match(line) or _CARET.match(following))
        or bool(_COUNT.match(line.strip()) or _STATISTICS.match(line))
    )


def parse_json_lines(source: Input) -> list[Diagnostic]:
    """Runtime findings, one JSON object per line (``JsonLinesSink`` output); blank lines are skipped.

    A record without ``source`` counts as runtime (that is what this input is for), and the
    time the sink stamped on it is kept in ``details["time"]`` for the stall timeline.
    """
    found: list[Diagnostic] = []
    for number, raw in enumerate(source.text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            found.append(_record(json.loads(raw)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{source.name}:{number}: not JSON ({exc.msg} at column {exc.colno})") from None
        except (ValueError, TypeError) as exc:
            raise InputError(f"{source.name}:{number}: {exc}") from None
    return found


def _record(data: Any) -> Diagnostic:
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object with code, message, filename and line, not {type(data).__name__}")
    missing = [key for key in ("code", "message") if key not in data]
    if missing:
        raise ValueError(f"the finding lacks {' and '.join(f'`{key}`' for key in missing)}")
    for key in ("line", "col"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"`{key}` must be an integer, not {json.dumps(value)[:40]}")
    data = dict(data)
    data.setdefault("source", "runtime")
    details = data.get("details")
    if details is not None and not isinstance(details, dict):
        raise ValueError("`details` must be a JSON object")
    stamped = data.get("time")
    if isinstance(stamped, (int, float)) and not isinstance(stamped, bool):
        data["details"] = {"time": stamped, **(details or {})}
    return Diagnostic.from_dict(data)
