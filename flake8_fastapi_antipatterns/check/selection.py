"""Which codes a run reports: ``select``/``ignore`` prefixes with flake8's precedence.

A code is on when a selected prefix matches it and no ignored one does; when both match, the longer
prefix wins (``--select FAA --ignore FAA1`` drops FAA1xx, ``--select FAA101 --ignore FAA1`` keeps
FAA101). With no ``select``, the default-on codes are selected implicitly and any ignore beats them;
the opt-in codes need an explicit selection (``--select FAA``, ``--extend-select FAA205``), as under
flake8, where they sit on the default ignore list. ``per-file-ignores`` always win for their files.

FAA000 (a file that does not parse) is not a rule: it is reported whatever is selected, and only an
ignore naming it (``FAA000``, or ``FAA0``/``FAA00``) turns it off, so that ``--ignore FAA`` never
hides a file the rules could not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flake8_fastapi_antipatterns.catalogue import opt_in_codes
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE

# flake8's shape of a code or code prefix (one to three letters, up to three digits).
CODE_PREFIX = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$", re.ASCII)
_PARSE_ERROR_PREFIX_LENGTH = len("FAA0")


def code_prefixes(values: Iterable[str], where: str) -> tuple[str, ...]:
    """Validated code prefixes; ``where`` names the setting in the error message."""
    found: list[str] = []
    for value in values:
        code = value.strip()
        if not code:
            continue
        if not CODE_PREFIX.match(code):
            raise ValueError(f"{where}: {code!r} is not a code or code prefix; write e.g. FAA101 or FAA1")
        found.append(code)
    return tuple(found)


def _longest(prefixes: Iterable[str], code: str) -> int:
    """The length of the longest prefix matching ``code``; -1 when none does."""
    return max((len(prefix) for prefix in prefixes if code.startswith(prefix)), default=-1)


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] | None = None
    """None: the default-on codes."""
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()

    def reports(self, code: str, file_ignores: tuple[str, ...] = ()) -> bool:
        """Whether ``code`` is reported, in a file whose per-file-ignores are ``file_ignores``."""
        ignored = (*self.ignore, *self.extend_ignore)
        if code == PARSE_ERROR_CODE:
            naming = [p for p in (*ignored, *file_ignores) if len(p) >= _PARSE_ERROR_PREFIX_LENGTH]
            return _longest(naming, code) < 0
        if _longest(file_ignores, code) >= 0:
            return False
        selected = _longest((*(self.select or ()), *self.extend_select), code)
        implicit = selected < 0
        if implicit and (self.select is not None or code in _OPT_IN):
            return False
        ignored_by = _longest(ignored, code)
        if ignored_by < 0:
            return True
        # An explicit ignore beats the implicit default selection; between two explicit
        # prefixes the longer (more specific) one decides, a tie ignoring.
        return not implicit and selected > ignored_by


_OPT_IN = frozenset(opt_in_codes())
