"""The checker interface every rule family implements, and the per-file context."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import ClassVar

from flake8_fastapi_antipatterns.analysis.app_model import AppModel
from flake8_fastapi_antipatterns.analysis.names import Names
from flake8_fastapi_antipatterns.analysis.project import resolver_for
from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.options import Settings

WEB_FRAMEWORKS = ("fastapi", "starlette")


def is_test_module(filename: str) -> bool:
    """Whether ``filename`` is a pytest module by pytest's default patterns, or a ``conftest.py``."""
    name = os.path.basename(filename)
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


@dataclass
class Context:
    """Everything a checker may read about the file under analysis."""

    tree: ast.Module
    filename: str
    settings: Settings
    names: Names
    model: AppModel
    findings: list[Diagnostic] = field(default_factory=list)

    @classmethod
    def build(cls, tree: ast.Module, filename: str, settings: Settings) -> Context:
        names = Names(tree, resolver=resolver_for(filename, tree))
        return cls(tree=tree, filename=filename, settings=settings, names=names, model=AppModel(names))

    @property
    def in_test_module(self) -> bool:
        """A module pytest collects by default (``test_*.py``, ``*_test.py``) or a ``conftest.py``."""
        return is_test_module(self.filename)

    @property
    def imports_web_framework(self) -> bool:
        return self.names.imports_library(WEB_FRAMEWORKS)

    def report(self, code: str, node: ast.AST, message: str, **details: object) -> None:
        """Record a finding at ``node``; the rule's one-line fix is appended to ``message``."""
        rule = get_rule(code)
        self.findings.append(
            Diagnostic(
                code=code,
                message=f"{message}; {rule.fix}",
                filename=self.filename,
                line=getattr(node, "lineno", 1),
                col=getattr(node, "col_offset", 0),
                source="static",
                details=dict(details),
            )
        )


class Checker:
    """One rule family.  Subclasses set ``codes`` and implement ``run``.

    A checker reads ``self.ctx`` and calls ``self.ctx.report``; it never
    raises on odd input (the engine isolates it anyway, but a crash there
    loses that family's findings for the file).
    """

    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self) -> None:
        raise NotImplementedError
