"""Where a module's router is put on an app: ``app.include_router(router)``.

The serving path asks this of a route's router, to learn whether the route is part of the
production app or only of a development one (``if settings.DEBUG: app.include_router(debug.router)``).
For one module this lists every use of a name (``router``, or ``m.router`` through a module
alias), each as handed to ``include_router`` or used some other way (put in a list, passed on,
returned), which hides where it ends up. The receiver of a method call (``router.get``) is not a
use: it registers on the router rather than handing it anywhere.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass

INCLUDE_CALLS = frozenset({"include_router"})


@dataclass(frozen=True)
class NameUse:
    receiver: str | None
    """``m`` for ``m.router``; "" for an attribute of anything else (``self.router``); None for a bare name."""
    line: int
    included: bool
    """Handed to ``include_router`` (as its router)."""


def name_uses(tree: ast.Module) -> dict[str, list[NameUse]]:
    """name -> its uses in the module, computed once per parsed tree."""
    known = _USES.get(tree)
    if known is None:
        known = _USES[tree] = _collect(tree)
    return known


_USES: weakref.WeakKeyDictionary[ast.Module, dict[str, list[NameUse]]] = weakref.WeakKeyDictionary()


def _collect(tree: ast.Module) -> dict[str, list[NameUse]]:
    receivers: set[int] = set()
    included: set[int] = set()
    loads: list[ast.Name | ast.Attribute] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            receivers.add(id(node.value))
            if isinstance(node.ctx, ast.Load):
                loads.append(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.append(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in INCLUDE_CALLS:
            handed = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "router"), None)
            if handed is not None:
                included.add(id(handed))
    found: dict[str, list[NameUse]] = {}
    for node in loads:
        if id(node) in receivers:
            continue
        if isinstance(node, ast.Name):
            name, receiver = node.id, None
        else:
            name = node.attr
            receiver = node.value.id if isinstance(node.value, ast.Name) else ""
        found.setdefault(name, []).append(NameUse(receiver, node.lineno, id(node) in included))
    return found


__all__ = ["INCLUDE_CALLS", "NameUse", "name_uses"]
