"""The checker interface every rule family implements, and the per-file context."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import ClassVar

from flake8_fastapi_antipatterns.analysis.app_model import AppModel, model_of
from flake8_fastapi_antipatterns.analysis.calls import Program
from flake8_fastapi_antipatterns.analysis.deployment_files import DeploymentFacts, deployment_facts
from flake8_fastapi_antipatterns.analysis.names import Names
from flake8_fastapi_antipatterns.analysis.nodes import ModuleNodes
from flake8_fastapi_antipatterns.analysis.project import resolver_for
from flake8_fastapi_antipatterns.analysis.serving import FileServing
from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.options import Settings

WEB_FRAMEWORKS = ("fastapi", "starlette")
# The line-level codes reported only where a running app reaches them (``faa-scope``).
SERVING_CODES = frozenset({"FAA101", "FAA102", "FAA103", "FAA204", "FAA205", "FAA303", "FAA402"})
# Of those, the ones whose module-level finding is output made once, at import (FAA204's
# module-level requests are told from client constructions by the rule itself).
IMPORT_TIME_CODES = frozenset({"FAA402"})
# Of those, the ones left alone where only routes an administrator must call reach the code (rare
# calls, by the people who run the service; see ``analysis/audience.py``). FAA102 is, for local file
# work only: the rule says so per finding (``operator_quiet``).
OPERATOR_QUIET_CODES = frozenset({"FAA204", "FAA205", "FAA303"})


def is_test_module(filename: str) -> bool:
    """Whether ``filename`` is a pytest module by pytest's default patterns, or a ``conftest.py``."""
    name = os.path.basename(filename)
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


def _same_source(read: ast.Module, linted: ast.Module) -> bool:
    """A cheap check that the index's tree is of the source flake8 parsed: same top-level statements,
    at the same lines (the file on disk could have changed between the two reads)."""
    if len(read.body) != len(linted.body):
        return False
    return all(
        type(a) is type(b) and a.lineno == b.lineno and a.end_lineno == b.end_lineno
        for a, b in zip(read.body, linted.body)
    )


@dataclass
class Context:
    """Everything a checker may read about the file under analysis."""

    tree: ast.Module
    filename: str
    settings: Settings
    names: Names
    model: AppModel
    findings: list[Diagnostic] = field(default_factory=list)
    _serving: FileServing | None = None
    _program: Program | None = None

    @classmethod
    def build(cls, tree: ast.Module, filename: str, settings: Settings) -> Context:
        resolver = resolver_for(filename, tree)
        read = resolver.index.module_read(resolver.filename) if resolver is not None else None
        if read is not None and _same_source(read.names.tree, tree):
            # The index parsed this file for another file's analysis: its tree is this one, and what
            # was worked out on it (the node index, symbols, the app model) need not be again.
            return cls(tree=read.names.tree, filename=filename, settings=settings, names=read.names, model=model_of(read))
        names = Names(tree, resolver=resolver, nodes=ModuleNodes(tree))
        return cls(tree=tree, filename=filename, settings=settings, names=names, model=AppModel(names))

    @property
    def in_test_module(self) -> bool:
        """A module pytest collects by default (``test_*.py``, ``*_test.py``) or a ``conftest.py``."""
        return is_test_module(self.filename)

    @property
    def imports_web_framework(self) -> bool:
        return self.names.imports_library(WEB_FRAMEWORKS)

    @property
    def deployment(self) -> DeploymentFacts:
        """What the project's deployment files say (Dockerfile, compose, Kubernetes, Procfile, gunicorn
        configuration); nothing for a file that is not on disk."""
        resolver = self.names.resolver
        if resolver is None:
            return DeploymentFacts()
        try:
            return deployment_facts(resolver.index.project_root(resolver.filename))
        except (OSError, ValueError):
            return DeploymentFacts()

    @property
    def serving(self) -> FileServing:
        """The serving-path answers for this file's functions (the stage the line-level codes ask)."""
        if self._serving is None:
            scope = "serving" if self.settings.serving_scope else "all"
            self._serving = FileServing(self.names, self.filename, scope)
        return self._serving

    @property
    def program(self) -> Program:
        """The call graph's answers for this file (what a call runs, what a function reaches), shared
        by every rule: the rules ask the same calls what they run, and each answer is a symbol search."""
        if self._program is None:
            self._program = Program(self)
        return self._program

    def report(self, code: str, node: ast.AST, message: str, **details: object) -> None:
        """Record a finding at ``node``; the rule's one-line fix is appended to ``message``.

        A line-level code is kept only where the serving path reaches (see ``analysis/serving.py``),
        and its message then says from where.
        """
        if code in SERVING_CODES:
            line = getattr(node, "lineno", 1)
            reach = self.serving.reach_at(line)
            if reach is not None and self.serving.at_module_level(line):
                # A print at import runs once; other module-level findings are configuration
                # (a client built with ``timeout=None``) the app serves with.
                if code in IMPORT_TIME_CODES:
                    return
                reach = None
            if reach is not None and not reach.reported:
                return
            quiet = details.pop("operator_quiet", code in OPERATOR_QUIET_CODES)
            if reach is not None and reach.operator_only and quiet and self.settings.quiet_operator_routes:
                return
            if reach is not None and reach.stage == "serving":
                message += reach.suffix()
                details["reached_from"] = [entry.shown() for entry in reach.entries]
        self.report_anywhere(code, node, message, **details)

    def report_anywhere(self, code: str, node: ast.AST, message: str, **details: object) -> None:
        """Record a finding about the app wherever it is written (``FastAPI(debug=True)`` is
        configuration, not code a request runs); the rule's one-line fix is appended."""
        rule = get_rule(code)
        # A rule may say what fits this call better than the code's general fix (``remedy``).
        remedy = details.pop("remedy", None)
        fix = remedy if isinstance(remedy, str) and remedy else rule.fix
        self.findings.append(
            Diagnostic(
                code=code,
                message=f"{message}; {fix}",
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
