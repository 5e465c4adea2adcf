"""The output formats of ``faa check``, by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from flake8_fastapi_antipatterns.check.formats import concise
from flake8_fastapi_antipatterns.check.report import CheckReport

Writer = Callable[[CheckReport, TextIO], None]

DEFAULT_FORMAT = "concise"
FORMATS: dict[str, Writer] = {"concise": concise.write}
