"""The rule registry: every module in this package registers its checkers.

A new rule family is one module here (decorate its checker with
``@register``) plus one fixture file in ``tests/fixtures/``; nothing else
needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from flake8_fastapi_antipatterns.rules.base import Checker, Context

REGISTRY: list[type[Checker]] = []
_loaded = False

C = TypeVar("C", bound=type[Checker])


def register(checker: C) -> C:
    if not checker.codes:
        raise ValueError(f"{checker.__name__} declares no codes")
    REGISTRY.append(checker)
    return checker


def all_checkers() -> list[type[Checker]]:
    """Every registered checker, importing the rule modules on first use."""
    global _loaded
    if not _loaded:
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if module.name != "base":
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return list(REGISTRY)


__all__ = ["Checker", "Context", "REGISTRY", "all_checkers", "register"]
