"""Who can call a route: anyone, or only the operator who runs the service.

A route guarded by a dependency named for administrators (``Depends(get_admin_user)``,
``Security(require_superuser)``) is an operator's tool: a settings page, a migration
wizard, a connection check.  It is called rarely, by the people who run the service,
and its error text goes to them.  The line-level rules use this to leave alone what
only matters at a public route's rate or audience (see ``Reach.operator_only``).

The guard is found where FastAPI looks for it:

- a parameter's default (``user=Depends(get_admin_user)``) or its ``Annotated`` marker
  (``user: Annotated[User, Depends(get_admin_user)]``);
- a module-level alias of such an ``Annotated`` type (``Superuser = Annotated[User,
  Depends(get_current_active_superuser)]`` then ``user: Superuser``);
- the decorator's ``dependencies=[...]``;
- the router's own ``dependencies=[...]`` (``router = APIRouter(dependencies=[Depends(get_admin_user)])``
  in the same module).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.nodes import FunctionNode, last_name

OPERATOR_WORDS = re.compile(r"admin|superuser", re.IGNORECASE)
_DEPENDENCY_MARKERS = frozenset({"Depends", "Security"})
_ROUTERS = frozenset({"APIRouter", "FastAPI"})


def operator_dependency(marker: ast.expr) -> bool:
    """``Depends(get_admin_user)`` / ``Security(require_superuser)``: a dependency named for administrators."""
    if not (isinstance(marker, ast.Call) and last_name(marker.func) in _DEPENDENCY_MARKERS):
        return False
    target = marker.args[0] if marker.args else next((k.value for k in marker.keywords if k.arg == "dependency"), None)
    name = last_name(target) if target is not None else None
    return bool(name and OPERATOR_WORDS.search(name))


def _annotated_markers(annotation: ast.expr | None) -> list[ast.expr]:
    """The metadata of ``Annotated[T, marker, ...]`` (however ``Annotated`` is spelled)."""
    if (
        isinstance(annotation, ast.Subscript)
        and last_name(annotation.value) == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        return list(annotation.slice.elts[1:])
    return []


def _listed(dependencies: ast.expr | None) -> list[ast.expr]:
    return list(dependencies.elts) if isinstance(dependencies, (ast.List, ast.Tuple)) else []


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


@dataclass(frozen=True)
class ModuleAudience:
    """What one module declares that makes its routes operator-only."""

    aliases: frozenset[str] = frozenset()
    """Module-level ``Annotated`` aliases carrying an administrators' dependency."""
    routers: frozenset[str] = frozenset()
    """Routers (and apps) built with an administrators' dependency for every route."""

    def route_is_operator_only(self, func: FunctionNode, decorator: ast.expr | None) -> bool:
        """Whether the route ``func`` (registered by ``decorator``, when known) needs an administrator."""
        markers: list[ast.expr] = [d for d in [*func.args.defaults, *func.args.kw_defaults] if d is not None]
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            annotation = arg.annotation
            if isinstance(annotation, ast.Name) and annotation.id in self.aliases:
                return True
            markers.extend(_annotated_markers(annotation))
        if isinstance(decorator, ast.Call):
            markers.extend(_listed(_keyword(decorator, "dependencies")))
            owner = decorator.func.value if isinstance(decorator.func, ast.Attribute) else None
            if owner is not None and last_name(owner) in self.routers:
                return True
        return any(operator_dependency(marker) for marker in markers)


def module_audience(tree: ast.Module) -> ModuleAudience:
    """The operator-only aliases and routers a module declares at its top level."""
    aliases: set[str] = set()
    routers: set[str] = set()
    for statement in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign):
            target, value = statement.target, statement.value
        elif type(statement).__name__ == "TypeAlias":  # ``type Superuser = Annotated[...]`` (3.12+)
            target, value = getattr(statement, "name", None), getattr(statement, "value", None)
        if not isinstance(target, ast.Name) or value is None:
            continue
        if any(operator_dependency(marker) for marker in _annotated_markers(value)):
            aliases.add(target.id)
        elif (
            isinstance(value, ast.Call)
            and last_name(value.func) in _ROUTERS
            and any(operator_dependency(m) for m in _listed(_keyword(value, "dependencies")))
        ):
            routers.add(target.id)
    return ModuleAudience(frozenset(aliases), frozenset(routers))


__all__ = ["OPERATOR_WORDS", "ModuleAudience", "module_audience", "operator_dependency"]
