"""Run every rule family over one parsed module (no flake8 needed)."""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass

from flake8_fastapi_antipatterns import result_cache
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.gc_pacing import paced_collections
from flake8_fastapi_antipatterns.options import Settings
from flake8_fastapi_antipatterns.rules import Context, all_checkers

log = logging.getLogger("flake8_fastapi_antipatterns")


def analyse_tree(
    tree: ast.Module, filename: str, settings: Settings | None = None, *, strict: bool = False
) -> list[Diagnostic]:
    """All findings for one module, sorted by position.

    A rule family that fails on this file is logged and skipped: the others
    still report, and the user's flake8 run never crashes because of us.
    ``strict=True`` re-raises instead (the robustness tests use it to see bugs).
    """
    with paced_collections():
        return _analyse(tree, filename, settings, strict=strict).findings


def analyse_linted_file(tree: ast.Module, filename: str, settings: Settings, source: bytes | None) -> list[Diagnostic]:
    """``analyse_tree`` for a file linted from disk, through the findings kept between runs
    (``result_cache``): an unchanged project is not worked out again. ``source`` is the text ``tree``
    was parsed from (None when unknown: nothing is kept)."""
    entry = result_cache.entry_for(filename, settings, source) if source is not None else None
    if entry is not None:
        kept = result_cache.load(entry, filename)
        if kept is not None:
            return kept
    with paced_collections():
        outcome = _analyse(tree, filename, settings, strict=False)
    # A run in which a rule family failed is not kept: the next run tries (and logs) again.
    if entry is not None and outcome.complete:
        result_cache.store(entry, outcome.findings)
    return outcome.findings


@dataclass
class _Outcome:
    findings: list[Diagnostic]
    complete: bool
    """No rule family failed on the file."""


def _analyse(tree: ast.Module, filename: str, settings: Settings | None, *, strict: bool) -> _Outcome:
    try:
        ctx = Context.build(tree, filename, settings or Settings())
    except Exception:
        if strict:
            raise
        log.warning("flake8-fastapi-antipatterns could not index %s; skipped", filename, exc_info=True)
        return _Outcome([], complete=False)
    complete = True
    for checker in all_checkers():
        try:
            checker(ctx).run()
        except Exception:
            if strict:
                raise
            complete = False
            log.warning("flake8-fastapi-antipatterns: %s failed on %s; its findings are skipped", checker.__name__, filename, exc_info=True)
    return _Outcome(sorted(ctx.findings, key=lambda d: (d.line, d.col, d.code)), complete)


def analyse_source(
    source: str, filename: str = "<source>", settings: Settings | None = None, *, strict: bool = False
) -> list[Diagnostic]:
    """Parse and analyse ``source``; a file that does not parse yields no findings."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return []
    return analyse_tree(tree, filename, settings, strict=strict)
