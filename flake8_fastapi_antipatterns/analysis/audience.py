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

Inside a function, ``in_admin_branch`` finds the code that runs only after the function turned
away everyone but administrators (``if user.role != "admin": raise ...`` before it, or
``if url_idx is not None and user.role != "admin": raise ...`` before a branch taken when
``url_idx is not None``).
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


def in_admin_branch(func: FunctionNode, call: ast.AST, parents: dict[int, ast.AST] | None = None) -> bool:
    """``call`` (any node of ``func``) runs only after the function has turned away everyone but administrators.

    ``if user.role != "admin": raise ...`` before it closes the rest of the handler;
    ``if url_idx is not None and user.role != "admin": raise ...`` closes the branches taken
    when ``url_idx is not None`` (the ``else`` of ``if url_idx is None``). ``parents``: ``func``'s
    ``parent_map``, made here when none is given and a branch has to be climbed.
    """
    line = getattr(call, "lineno", 0)
    for statement in func.body:
        if getattr(statement, "end_lineno", line) >= line:
            break
        if not (isinstance(statement, ast.If) and statement.body and isinstance(statement.body[-1], ast.Raise)):
            continue
        test = statement.test
        if _denies_non_admins(test):
            return True
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            conditions = [v for v in test.values if not _denies_non_admins(v)]
            if len(conditions) < len(test.values):
                climbed = parents if parents is not None else parent_map(func)
                if all(_branch_implies(call, c, climbed) for c in conditions):
                    return True
    return False


def _denies_non_admins(test: ast.expr) -> bool:
    """``user.role != "admin"``, ``user.role not in ("admin", ...)``, ``not user.is_superuser``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        # A flag on the user (``is_superuser``), not a setting (``not config.ENABLE_ADMIN_PAGE``).
        name = test.operand.attr if isinstance(test.operand, ast.Attribute) else None
        return bool(name and name.startswith(("is_", "has_")) and OPERATOR_WORDS.search(name))
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.NotEq):
        wanted = right if isinstance(right, ast.Constant) else left
        return (
            isinstance(wanted, ast.Constant)
            and isinstance(wanted.value, str)
            and bool(OPERATOR_WORDS.fullmatch(wanted.value))
        )
    if isinstance(op, ast.NotIn) and isinstance(right, (ast.Tuple, ast.List, ast.Set)) and right.elts:
        return all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) and OPERATOR_WORDS.fullmatch(e.value)
            for e in right.elts
        )
    return False


_NEGATED_OPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _same(a: ast.expr, b: ast.expr) -> bool:
    return ast.dump(a) == ast.dump(b)


def _negates(test: ast.expr, condition: ast.expr) -> bool:
    """``test`` is ``not condition`` written out (``x is None`` against ``x is not None``)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _same(test.operand, condition)
    if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
        return _same(condition.operand, test)
    if (
        isinstance(test, ast.Compare)
        and isinstance(condition, ast.Compare)
        and len(test.ops) == len(condition.ops) == 1
        and _NEGATED_OPS.get(type(test.ops[0])) is type(condition.ops[0])
    ):
        return _same(test.left, condition.left) and _same(test.comparators[0], condition.comparators[0])
    return False


def _branch_implies(call: ast.AST, condition: ast.expr, parents: dict[int, ast.AST]) -> bool:
    """The call runs only when ``condition`` holds: it is in the body of ``if condition`` or in
    the ``else`` of its negation."""
    node: ast.AST = call
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, ast.If):
            if any(node is s for s in parent.body) and _same(parent.test, condition):
                return True
            if any(node is s for s in parent.orelse) and _negates(parent.test, condition):
                return True
        node = parent
    return False


def parent_map(func: FunctionNode) -> dict[int, ast.AST]:
    """Each node of ``func`` by the id of its children (what ``in_admin_branch`` climbs)."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(func):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


__all__ = ["OPERATOR_WORDS", "ModuleAudience", "in_admin_branch", "module_audience", "operator_dependency", "parent_map"]
