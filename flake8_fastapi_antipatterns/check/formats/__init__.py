"""The output formats of ``faa check``, by name (each is described in docs/check-output.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from flake8_fastapi_antipatterns.check.formats import concise, full, github, gitlab, json_findings, junit, sarif_log
from flake8_fastapi_antipatterns.check.report import CheckReport

Writer = Callable[[CheckReport, TextIO], None]

DEFAULT_FORMAT = "concise"
FORMATS: dict[str, Writer] = {
    "concise": concise.write,
    "full": full.write,
    "json": json_findings.write,
    "sarif": sarif_log.write,
    "github": github.write,
    "gitlab": gitlab.write,
    "junit": junit.write,
}
