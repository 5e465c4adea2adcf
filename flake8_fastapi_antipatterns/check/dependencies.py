"""The libraries ``faa check`` needs beyond the standard library (the ``check`` extra)."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

INSTALL_HINT = "pip install 'flake8-fastapi-antipatterns[check]'"


class MissingDependency(RuntimeError):
    """A library of the ``check`` extra is not installed; the message says how to install it."""


def require(module: str, purpose: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"faa check needs {module} {purpose}; install it with: {INSTALL_HINT}") from None


def toml_module() -> ModuleType:
    """``tomllib`` (3.11+), else ``tomli``."""
    if sys.version_info >= (3, 11):
        return importlib.import_module("tomllib")
    return require("tomli", "to read pyproject.toml on Python 3.10")
