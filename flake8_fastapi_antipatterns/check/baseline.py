"""Known findings of an existing project, so that a run reports only new ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic


class BaselineError(ValueError):
    """A baseline file that cannot be read or is not one of ours."""


@dataclass
class Baseline:
    def new_findings(self, report: CheckReport) -> list[Diagnostic]:
        """The findings of ``report`` that the baseline does not list."""
        raise NotImplementedError


def load_baseline(path: Path) -> Baseline:
    raise NotImplementedError


def write_baseline(path: Path, report: CheckReport) -> int:
    """Write every finding of ``report``; return how many entries were written."""
    raise NotImplementedError
