"""The flake8 entry point (``FAA = flake8_fastapi_antipatterns.plugin:Plugin``)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from typing import Any

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import opt_in_codes
from flake8_fastapi_antipatterns.engine import analyse_linted_file
from flake8_fastapi_antipatterns.options import OPTION_SPECS, Settings, settings_from


class Plugin:
    name = "flake8-fastapi-antipatterns"
    version = __version__

    settings: Settings = Settings()

    def __init__(self, tree: ast.Module, filename: str = "<unknown>", lines: list[str] | None = None) -> None:
        self._tree = tree
        self._filename = filename
        self._lines = lines

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        for spec in OPTION_SPECS:
            option_manager.add_option(
                spec.flag,
                default="",
                parse_from_config=True,
                comma_separated_list=True,
                help=spec.help,
            )
        # Opt-in codes stay silent under plain ``flake8``; ``--extend-select`` shows them.
        option_manager.extend_default_ignore(opt_in_codes())

    @classmethod
    def parse_options(cls, options: Any) -> None:
        try:
            cls.settings = settings_from({spec.field: getattr(options, spec.flag[2:].replace("-", "_"), None) for spec in OPTION_SPECS})
        except ValueError as error:
            # A usage error, told the way flake8 tells its own (``flake8: error: ...``, status 2), not a traceback.
            print(f"flake8: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        source = _source_bytes(self._lines)
        for diagnostic in analyse_linted_file(self._tree, self._filename, self.settings, source):
            yield diagnostic.line, diagnostic.col, f"{diagnostic.code} {diagnostic.message}", type(self)


def _source_bytes(lines: list[str] | None) -> bytes | None:
    """The text flake8 parsed, as the file's bytes would read (None when it cannot be told)."""
    if lines is None:
        return None
    try:
        return "".join(lines).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable bytes: not the file's text
        return None
