"""What a name in one module refers to, as a symbolic dotted path.

Rules never match on spelling: ``from sqlalchemy import create_engine as mk``
makes ``mk(...)`` the path ``sqlalchemy.create_engine()``.  Paths use ``()``
for "the result of calling", so values can be followed through bindings:

    engine = create_engine(url)          # engine  -> sqlalchemy.create_engine()
    SessionLocal = sessionmaker(engine)  # SessionLocal -> sqlalchemy.orm.sessionmaker()
    db = SessionLocal()                  # db -> sqlalchemy.orm.sessionmaker()()
    db.query(User)                       # callee -> sqlalchemy.orm.sessionmaker()().query

Annotations produce instances: ``db: Session = Depends(get_db)`` makes ``db``
the path ``sqlalchemy.orm.Session()``.  Anything not resolvable is ``None``:
rules stay silent on what they cannot see rather than guess.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Collection, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flake8_fastapi_antipatterns.analysis.nodes import (
    _FIELDS,
    ModuleNodes,
    child_nodes,
    mentions_name,
    node_fields,
    parameter_defaults,
)
from flake8_fastapi_antipatterns.analysis.project import MODELLED_LIBRARIES, use_names
from flake8_fastapi_antipatterns.analysis.project_text import DefinedNames

if TYPE_CHECKING:
    from flake8_fastapi_antipatterns.analysis.project import Resolver, Symbol

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_BUILTIN_NAMES = frozenset(dir(builtins))
# Following a chain of bindings stops here: a = b; b = a must not loop.
_MAX_DEPTH = 12

ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
OPTIONAL_WRAPPERS = frozenset({"typing.Optional", "typing.Union"})


_STDLIB = frozenset(sys.stdlib_module_names)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_SCOPE_TYPES = frozenset(_SCOPES)


def is_project_name(qualified: str) -> bool:
    """Whether an imported name may come from the project (relative, or neither a modelled library nor the standard library)."""
    return qualified.startswith(".") or (
        (top := qualified.split(".", 1)[0]) not in MODELLED_LIBRARIES and top not in _STDLIB
    )


def walk_shallow(node: ast.AST) -> Iterator[ast.AST]:
    """Every node inside ``node`` except the bodies of nested functions, lambdas and classes.

    Code in a nested ``def`` does not run when the outer function runs, so
    it must not be attributed to it.
    """
    stack = child_nodes(node)
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _FIELDS
    AST = ast.AST
    while stack:
        child = pop()
        yield child
        kind = type(child)
        if kind in _SCOPE_TYPES:
            # Decorators and defaults do run in the enclosing scope.
            if kind is not ast.Lambda:
                extend(child.decorator_list)  # type: ignore[attr-defined]
            if kind is not ast.ClassDef:
                extend(d for d in child.args.defaults if d is not None)  # type: ignore[attr-defined]
                extend(d for d in child.args.kw_defaults if d is not None)  # type: ignore[attr-defined]
            continue
        # ``stack.extend(child_nodes(child))``, written out: this walk runs over every function body.
        fields = fields_of.get(kind)
        for name in fields if fields is not None else node_fields(kind):
            value = getattr(child, name, None)
            if isinstance(value, AST):
                push(value)
            elif isinstance(value, list):
                extend(item for item in value if isinstance(item, AST))


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names: list[str] = []
        for element in target.elts:
            names.extend(_target_names(element))
        return names
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


@dataclass
class Scope:
    """Names bound in one function body.

    Flow-insensitive: a name bound several times keeps the binding ``walk_shallow`` yields
    last, which is the first in source order unless one binding sits inside the other; except
    that ``x = None`` never wins over another binding, and the get-or-create idiom keeps what
    is created (``_prefer_products``)."""

    values: dict[str, ast.expr] = field(default_factory=dict)
    """name -> the expression it was assigned from (``with X() as n`` binds ``X()``)."""
    annotations: dict[str, ast.expr] = field(default_factory=dict)
    """name -> its annotation (parameters and annotated assignments)."""
    params: dict[str, ast.arg] = field(default_factory=dict)
    defaults: dict[str, ast.expr] = field(default_factory=dict)
    """parameter name -> its default value (``Depends(get_db)`` lives here)."""
    unknown: set[str] = field(default_factory=set)
    """names bound in ways we do not model (for targets, tuple unpacking...)."""
    paths: dict[tuple[str, int], str | None] = field(default_factory=dict, compare=False, repr=False)
    """What locals evaluate to, once worked out (valid for ``paths_epoch`` of the project index)."""
    paths_epoch: int = field(default=-1, compare=False, repr=False)


BINDING_NODES = (
    ast.Assign, ast.AnnAssign, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr
)


def build_scope(func: FunctionNode, bindings: list[ast.AST] | None = None) -> Scope | None:
    """The names ``func`` binds.

    ``bindings`` are its binding nodes (``BINDING_NODES`` that ``walk_shallow(func)`` yields)
    when the caller already has them, in any order.  A name bound twice takes the binding that
    ``walk_shallow`` yields last; the nodes are then put in that order by their source spans
    (see ``_walk_order``), and None is returned when a node has no span to order it by (the
    caller then walks).  Without ``bindings`` the function body is walked.
    """
    if bindings is None:
        return _scope_of(func, walk_shallow(func))
    scope = _scope_of(func, bindings, single=True)
    if scope is None:
        ordered = _walk_order(bindings)
        scope = _scope_of(func, ordered) if ordered is not None else None
    return scope


def _walk_order(bindings: list[ast.AST]) -> list[ast.AST] | None:
    """``bindings`` in the order ``walk_shallow`` yields them; None when a span is missing.

    ``walk_shallow`` pops children off a stack: it yields a pre-order walk with the children
    reversed, the reverse of a left-to-right post-order.  In post-order a node comes after
    the nodes that end before it and after its own descendants, so ordering by where a node
    ends (the inner node first on a tie) and reversing gives the walk's order.  Comprehension
    clauses carry no span; they only mark their targets unknown, so their place is no matter.
    """
    keyed: list[tuple[tuple[int, int, int, int], int, ast.AST]] = []
    for index, node in enumerate(bindings):
        if isinstance(node, ast.comprehension):
            keyed.append(((0, 0, 0, 0), index, node))
            continue
        end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        line, col = getattr(node, "lineno", None), getattr(node, "col_offset", None)
        if end_line is None or end_col is None or line is None or col is None:
            return None
        keyed.append(((end_line, end_col, -line, -col), index, node))
    keyed.sort(reverse=True)
    return [node for _, _, node in keyed]


def _scope_of(func: FunctionNode, bindings: Iterable[ast.AST], *, single: bool = False) -> Scope | None:
    """The scope from ``func``'s parameters and ``bindings``, a later binding of a name winning.

    ``single=True``: None if some name is bound twice (the order of ``bindings`` is then
    unknown to be the walk's, and decides which binding wins).
    """
    scope = Scope()
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    scope.defaults.update(parameter_defaults(func))
    every: list[ast.arg | None] = [*positional, *args.kwonlyargs, args.vararg, args.kwarg]
    for param in every:
        if param is None:
            continue
        scope.params[param.arg] = param
        if param.annotation is not None:
            scope.annotations[param.arg] = param.annotation
    values = 0
    annotated: set[str] = set()
    # name -> its plain assignments, for names assigned more than once (see ``_prefer_products``).
    rebound: dict[str, list[ast.expr]] | None = None
    for node in bindings:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    name, value = target.id, node.value
                    values += 1
                    held = scope.values.get(name)
                    if held is not None and not single:
                        if rebound is None:
                            rebound = {}
                        rebound.setdefault(name, [held]).append(value)
                        if is_none(value):
                            continue  # ``x = None`` says "nothing yet", not what ``x`` holds
                    scope.values[name] = value
                else:
                    scope.unknown.update(_target_names(target))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if single and node.target.id in annotated:
                return None
            annotated.add(node.target.id)
            scope.annotations[node.target.id] = node.annotation
            if node.value is not None:
                scope.values[node.target.id] = node.value
                values += 1
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    scope.values[item.optional_vars.id] = item.context_expr
                    values += 1
                elif item.optional_vars is not None:
                    scope.unknown.update(_target_names(item.optional_vars))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            scope.unknown.update(_target_names(node.target))
        elif isinstance(node, ast.NamedExpr):
            scope.values[node.target.id] = node.value
            values += 1
    if single and values != len(scope.values):
        return None  # a name bound twice: which binding wins depends on the order
    if rebound is not None:
        _prefer_products(func, scope, rebound)
    return scope


def is_none(value: ast.expr) -> bool:
    """``None`` written out. A ``return None`` says a function may give nothing, not what it gives otherwise
    (``return None`` where no key is set, ``return ElevenLabs(api_key=key)`` after)."""
    return isinstance(value, ast.Constant) and value.value is None


_EMPTY_CONSTRUCTORS = frozenset({"dict", "list", "set", "tuple", "frozenset"})


def is_placeholder(value: ast.expr) -> bool:
    """A value that stands in for an object not made: ``None``, an empty literal or ``dict()``."""
    if is_none(value):
        return True
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.Tuple)):
        return not (value.keys if isinstance(value, ast.Dict) else value.elts)
    return (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _EMPTY_CONSTRUCTORS
        and not value.args and not value.keywords
    )


def is_lookup(value: ast.expr) -> bool:
    """A read of something kept earlier: ``cache.get(key)``, ``cache[key]``, ``getattr(obj, name)``, or nothing (``None``)."""
    if isinstance(value, ast.Subscript) or is_none(value):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute):
            return func.attr == "get"
        return isinstance(func, ast.Name) and func.id == "getattr"
    return False


def _prefer_products(func: FunctionNode, scope: Scope, rebound: dict[str, list[ast.expr]]) -> None:
    """Names that hold what their creation produces, though also bound by a look-up.

    The get-or-create idiom: ``client = clients.get(key)`` then ``if not client: client = make()``
    (or ``if client is None:``).  Whatever the look-up finds is what an earlier ``make()`` made (or
    nothing), so the name holds a ``make()`` product either way.  A ``None`` placeholder
    (``model = None`` then ``model = load()``) likewise says nothing of what the name holds; it was
    skipped when collected, and is only kept for a name bound to nothing else.  Only names bound
    exactly twice, one of them by a look-up, are looked for, by walking the function's statements.
    """
    wanted: dict[str, ast.expr] = {}
    for name, bound in rebound.items():
        if len(bound) == 2 and name not in scope.unknown:
            first, second = bound
            if is_lookup(first) != is_lookup(second):
                product = second if is_lookup(first) else first
                if scope.values.get(name) is not product:
                    wanted[name] = product
    if not wanted:
        return
    statements: list[ast.stmt] = list(func.body)
    for statement in statements:
        if isinstance(statement, ast.If) and not statement.orelse:
            missing = _missing_test(statement.test)
            made = wanted.get(missing) if missing is not None else None
            if missing is not None and made is not None and any(
                isinstance(inner, ast.Assign) and inner.value is made for inner in statement.body
            ):
                scope.values[missing] = made
                del wanted[missing]
                if not wanted:
                    return
        if isinstance(statement, _SCOPES):
            continue  # a nested def's statements bind its own names
        for field_name in _STATEMENT_FIELDS.get(type(statement), ()):
            for child in getattr(statement, field_name, ()):
                if isinstance(child, ast.stmt):
                    statements.append(child)
                elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    statements.extend(child.body)


def _missing_test(test: ast.expr) -> str | None:
    """The name that ``if not NAME:`` or ``if NAME is None:`` tests for having nothing yet."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return test.operand.id
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and is_none(test.comparators[0])
    ):
        return test.left.id
    return None


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import of the module, in ``ast.walk`` order, visiting statements only.

    Imports are statements, and statements only hang off statements, handlers and match
    cases: walking those breadth-first keeps ``ast.walk``'s order (so a later import of a
    name still wins) without building the node index.  A module read for its imports
    only (one the linted file imports) then never walks its expressions.
    """
    found: list[ast.Import | ast.ImportFrom] = []
    queue: list[ast.AST] = [tree]
    for node in queue:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        for name in _STATEMENT_FIELDS.get(type(node), ()):
            for child in getattr(node, name, ()):
                if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                    queue.append(child)
    return found


# The fields that hold statements (or the handlers and cases that hold them), in ``_fields`` order.
_STATEMENT_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f for f in kind._fields if f in ("body", "orelse", "finalbody", "handlers", "cases"))
    for kind in (
        ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.AsyncFor, ast.While, ast.If,
        ast.With, ast.AsyncWith, ast.Try, ast.ExceptHandler, ast.Match, ast.match_case,
        *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
    )
}


def _bindings_by_function(nodes: ModuleNodes) -> dict[int, list[ast.AST]]:
    """id(def) -> the binding nodes ``walk_shallow(def)`` yields, read off the shared node index.

    ``walk_shallow(f)`` covers what runs in ``f`` and also ``f``'s own decorators and
    defaults, which run in the enclosing scope: those are the nodes written in ``f``
    that some other function (or the module) runs.  Class and lambda bodies, which no
    function runs, are not reached by any function's walk.
    """
    found: dict[int, list[ast.AST]] = {}
    for node, runs_in, written_in in nodes.run_in(*BINDING_NODES):
        if runs_in is not None:
            found.setdefault(id(runs_in), []).append(node)
        if written_in is not None and written_in is not runs_in:
            found.setdefault(id(written_in), []).append(node)
    return found


class Names:
    """Name resolution for one module."""

    def __init__(self, tree: ast.Module, resolver: Resolver | None = None, nodes: ModuleNodes | None = None) -> None:
        """``nodes``: the tree's node index, when the caller builds it anyway (a linted file, which
        every rule walks): the imports are then read off it rather than walked for."""
        self.tree = tree
        self.resolver = resolver
        """Looks into other project modules; None analyses this module alone."""
        self.imports: dict[str, str] = {}
        """local name -> qualified dotted name, from every import in the module."""
        self.bindings: dict[str, ast.expr] = {}
        """module-level name -> the expression last assigned to it."""
        self.annotations: dict[str, ast.expr] = {}
        self.functions: dict[str, FunctionNode] = {}
        """module-level functions by name."""
        self.classes: dict[str, ast.ClassDef] = {}
        self._scopes: dict[int, Scope] = {}
        self._nodes: ModuleNodes | None = nodes
        self._bindings: dict[int, list[ast.AST]] | None = None
        self._defs: set[int] = set()
        self._memo_paths: dict[tuple[str, str, int], str | None] = {}
        self._memo_epoch = -1
        self._project_imports: bool | None = None
        self._project_definitions: DefinedNames | None | bool = False  # False: not read yet
        self._collect()

    @property
    def nodes(self) -> ModuleNodes:
        """The module's nodes by type, walked once and shared by every rule."""
        if self._nodes is None:
            self._nodes = ModuleNodes(self.tree)
        return self._nodes

    @property
    def spelled(self) -> frozenset[str] | None:
        """Every name and attribute the module spells (``ModuleNodes.identifiers``), when its node
        index is built already; None otherwise (a helper's module read for a few functions)."""
        return self._nodes.identifiers if self._nodes is not None else None

    # -- collection -------------------------------------------------------
    def _collect(self) -> None:
        # The index lists them in ``ast.walk`` order too (a later import of a name still wins).
        imports = _imports(self.tree) if self._nodes is None else self._nodes.of(ast.Import, ast.ImportFrom)
        for node in imports:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        # ``import a.b`` binds ``a``; ``a.b.c`` then qualifies through it.
                        top = alias.name.split(".")[0]
                        self.imports[top] = top
            elif isinstance(node, ast.ImportFrom):
                # Relative imports keep their dots so they never collide with a library path.
                dots = "." * node.level
                prefix = f"{dots}{node.module}." if node.module else dots
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.imports[alias.asname or alias.name] = f"{prefix}{alias.name}"
        for stmt in self.tree.body:
            self._collect_statement(stmt)

    def _collect_statement(self, stmt: ast.stmt, branches: dict[str, ast.expr] | None = None) -> None:
        """``branches``: inside an ``if``/``try``, what its branches bound so far to something other than
        a placeholder."""
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            self.classes[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self._bind(target.id, stmt.value, branches)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            self.annotations[stmt.target.id] = stmt.annotation
            if stmt.value is not None:
                self._bind(stmt.target.id, stmt.value, branches)
        elif isinstance(stmt, (ast.If, ast.Try)):
            # ``try: import orjson`` / ``if TYPE_CHECKING:`` blocks still bind module names.
            branches = {} if branches is None else branches
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self._collect_statement(child, branches)
            for handler in getattr(stmt, "handlers", []):
                for child in handler.body:
                    self._collect_statement(child, branches)

    def _bind(self, name: str, value: ast.expr, branches: dict[str, ast.expr] | None) -> None:
        # ``if REDIS_URL: POOL = RedisDict(...) else: POOL = {}``: the empty stand-in of the other
        # branch holds nothing a call could block on; what the name may hold that matters is the object.
        if branches is not None:
            if is_placeholder(value):
                if name in branches:
                    return
            elif isinstance(value, ast.Call):
                # Only an object made stands against a stand-in: ``origins = ["*"]`` in one branch and
                # ``origins = []`` in the other are two values, and the later one is what the module keeps.
                branches[name] = value
        self.bindings[name] = value

    def scope(self, func: FunctionNode) -> Scope:
        key = id(func)
        if key not in self._scopes:
            scope: Scope | None = None
            if self._nodes is None:
                # A module read only for a few of its functions (another file's helper): walking
                # that function is cheaper than indexing the whole module.
                self._scopes[key] = build_scope(func) or Scope()
                return self._scopes[key]
            if self._bindings is None:
                self._bindings = _bindings_by_function(self.nodes)
                self._defs = {id(d) for d in self.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef)}
            if key in self._defs:
                # Most functions bind each name once: their scope is read off the module's
                # node index without walking the body again.
                scope = build_scope(func, self._bindings.get(key, []))
            self._scopes[key] = scope if scope is not None else build_scope(func) or Scope()
        return self._scopes[key]

    # -- resolution -------------------------------------------------------
    def qualify(self, node: ast.expr, scope: Scope | None = None) -> str | None:
        """The dotted name an expression *names* (not what it evaluates to).

        ``sa.orm.Session`` -> ``sqlalchemy.orm.Session``.  Local variables are
        not names of anything importable, so they give None.
        """
        if isinstance(node, ast.Name):
            if scope is not None and (node.id in scope.values or node.id in scope.params or node.id in scope.unknown):
                return None
            if node.id in self.imports:
                return self.imports[node.id]
            if node.id in self.bindings or node.id in self.functions or node.id in self.classes:
                return None
            if node.id in _BUILTIN_NAMES:
                return f"builtins.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value, scope)
            return f"{base}.{node.attr}" if base else None
        return None

    def may_name(self, node: ast.expr, last_names: frozenset[str]) -> bool:
        """False when ``qualify(node)`` cannot end in one of ``last_names``.

        A test that costs a dict look-up, for rules that qualify every call of a module
        looking for a handful of names (``FastAPI``, ``print``, ``format_exc``).
        """
        if isinstance(node, ast.Attribute):
            return node.attr in last_names
        if isinstance(node, ast.Name):
            return (self.imports.get(node.id) or node.id).rsplit(".", 1)[-1] in last_names
        return False

    def may_spell(self, last_names: frozenset[str]) -> bool:
        """False when no expression of this module can ``value_path`` to a name ending in ``last_names``.

        A module-wide ``may_evaluate_to``: such a name must be spelled in the module (as a name
        or attribute), or imported under another name, or reached through a project module's
        name, which ``value_path`` follows there.  A rule looking for one class (CORS's
        middleware) skips the many modules that never mention it.
        """
        if not last_names.isdisjoint(self.nodes.identifiers) or self.imports_project_names:
            return True
        return any(imported.rsplit(".", 1)[-1] in last_names for imported in self.imports.values())

    @property
    def imports_project_names(self) -> bool:
        """Whether some import names a project module (``value_path`` then follows it there)."""
        if self._project_imports is None:
            self._project_imports = any(map(is_project_name, self.imports.values()))
        return self._project_imports

    def imports_library(self, tops: Container[str]) -> bool:
        """Whether some import is of one of these top-level packages (``httpx``, ``sqlalchemy``)."""
        return any(imported.split(".", 1)[0] in tops for imported in self.imports.values())

    def may_evaluate_to(self, node: ast.expr, last_names: frozenset[str], scope: Scope | None = None) -> bool:
        """False when ``value_path(node, scope)`` cannot end in one of ``last_names``.

        The cheap test ``may_name`` makes, extended to what ``value_path`` follows: a
        local, a parameter or a module-level binding may hold anything, and so may a name
        imported from a project module (it is followed there).  A library import is its
        qualified name.  An attribute is judged by its own name: a class re-bound under
        another name on a module attribute (``config.Cors``) is not followed by the rules
        that use this test, nor is an alias kept in a project module that shadows a
        standard-library module.
        """
        if isinstance(node, ast.Attribute):
            return node.attr in last_names
        if not isinstance(node, ast.Name):
            return True
        name = node.id
        if scope is not None and (
            name in scope.values or name in scope.params or name in scope.unknown or name in scope.annotations
        ):
            return True
        if name in self.bindings or name in self.annotations:
            return True
        imported = self.imports.get(name)
        if imported is None:
            return name in last_names
        last = imported.rsplit(".", 1)[-1]
        if is_project_name(imported):
            # A project module's name, which value_path follows there, unless the project
            # ``def``s or ``class``es that name: functions and classes keep their own name
            # (``get_settings()`` is no CORS middleware), and knowing so costs a set look-up
            # instead of a symbol search.
            return last in last_names or not self._project_definition(last)
        return last in last_names

    def project_defined(self) -> DefinedNames | None:
        """The names the project's files ``def`` and ``class``, read once from their text (None
        when there is no project or it cannot be read)."""
        if self._project_definitions is False:
            self._project_definitions = None
            if self.resolver is not None:
                try:
                    self._project_definitions = self.resolver.index.defined_names(self.resolver.filename)
                except (OSError, ValueError, RecursionError):
                    self._project_definitions = None
        return self._project_definitions if isinstance(self._project_definitions, DefinedNames) else None

    def _project_definition(self, name: str) -> bool:
        """Whether the project defines ``name`` with ``def`` or ``class`` (read from its text)."""
        defined = self.project_defined()
        return defined is not None and (name in defined.functions or name in defined.classes)

    def value_path(self, node: ast.expr, scope: Scope | None = None, _depth: int = 0) -> str | None:
        """A symbolic path for what ``node`` evaluates to (see the module doc)."""
        if _depth > _MAX_DEPTH:
            return None
        depth = _depth + 1
        if isinstance(node, ast.Await):
            path = self.value_path(node.value, scope, depth)
            return f"await {path}" if path else None
        if isinstance(node, ast.Call):
            callee = self.value_path(node.func, scope, depth)
            return f"{callee}()" if callee else None
        if isinstance(node, ast.Attribute):
            base = self.value_path(node.value, scope, depth)
            return self._follow(f"{base}.{node.attr}", depth) if base else None
        if isinstance(node, ast.Name):
            return self._name_path(node.id, scope, depth)
        return None

    def _follow(self, dotted: str, depth: int) -> str:
        """Replace a name bound in another project module by what it is bound to.

        ``from .db import SessionLocal`` makes ``SessionLocal`` the path
        ``sqlalchemy.orm.sessionmaker()`` when db.py assigns it so.  Functions
        and classes keep their qualified name (``resolve_function`` finds them).
        """
        if self.resolver is None or "(" in dotted or " " in dotted or depth > _MAX_DEPTH:
            return dotted
        memo = self._memo()
        key = ("follow", dotted, depth)
        if key in memo:
            return memo[key]  # type: ignore[return-value]
        result = dotted
        symbol = self.resolver.symbol(dotted)
        if symbol is not None and isinstance(symbol.node, ast.expr):
            followed = symbol.module.names.value_path(symbol.node, None, depth + 1)
            if followed is not None:
                result = followed
        memo[key] = result
        return result

    def _memo(self) -> dict[tuple[str, str, int], str | None]:
        """Answers about module-level names, valid while the project index answers the same.

        Every call of a module asks again what ``Depends`` or ``client`` is; the answer
        only changes when another file is linted (the index re-checks modules then).
        """
        epoch = self.resolver.index.epoch if self.resolver is not None else 0
        if epoch != self._memo_epoch:
            self._memo_epoch = epoch
            self._memo_paths.clear()
        return self._memo_paths

    def _name_path(self, name: str, scope: Scope | None, depth: int) -> str | None:
        if scope is not None:
            if name in scope.unknown:
                return None
            if name in scope.values:
                # A local is read many times in its function (``client.get``, ``client.post``).
                self._memo()
                if scope.paths_epoch != self._memo_epoch:
                    scope.paths.clear()
                    scope.paths_epoch = self._memo_epoch
                local_key = (name, depth)
                if local_key in scope.paths:
                    return scope.paths[local_key]
                value = scope.values[name]
                # A local bound to itself (x = x.strip()) is followed at module level.
                found = self.value_path(value, None if _refers_to(value, name) else scope, depth)
                scope.paths[local_key] = found
                return found
            if name in scope.annotations:
                return self.annotation_path(scope.annotations[name])
            if name in scope.params:
                default = scope.defaults.get(name)
                if default is not None:
                    return self.dependency_path(default, depth)
                return None
        memo = self._memo()
        key = ("name", name, depth)
        if key in memo:
            return memo[key]
        memo[key] = result = self._module_name_path(name, depth)
        return result

    def _module_name_path(self, name: str, depth: int) -> str | None:
        if name in self.imports:
            return self._follow(self.imports[name], depth)
        if name in self.bindings:
            return self.value_path(self.bindings[name], None, depth)
        if name in self.annotations:
            return self.annotation_path(self.annotations[name])
        if name in self.functions or name in self.classes:
            return f"<module>.{name}"
        if name in _BUILTIN_NAMES:
            return f"builtins.{name}"
        return None

    def annotation_path(self, annotation: ast.expr) -> str | None:
        """An instance of the annotated type: ``Session`` -> ``sqlalchemy.orm.Session()``."""
        inner = unwrap_annotation(annotation, self)
        if inner is None:
            return None
        qualified = self.qualify(inner)
        if qualified is None and isinstance(inner, ast.Name) and inner.id in self.classes:
            qualified = f"<module>.{inner.id}"
        return f"{qualified}()" if qualified else None

    def dependency_path(self, default: ast.expr, depth: int = 0) -> str | None:
        """What a ``Depends(provider)`` default injects, when the provider is in this module."""
        if not (isinstance(default, ast.Call) and self.qualify(default.func) in DEPENDS):
            return None
        provider = default.args[0] if default.args else None
        for keyword in default.keywords:
            if keyword.arg == "dependency":
                provider = keyword.value
        if provider is None:
            return None
        found = self.resolve_function(provider)
        if found is not None:
            names, func = found
            return names.returned_path(func, depth)
        return None

    def project_symbol(self, node: ast.expr) -> Symbol | None:
        """The definition in another project module that a name or attribute refers to."""
        dotted = self.qualify(node)
        if dotted is None or self.resolver is None:
            return None
        return self.resolver.symbol(dotted)

    def project_class(self, node: ast.expr) -> tuple[Names, ast.ClassDef] | None:
        """The class a name or attribute refers to when the project defines it (this module or another
        project module), with the ``Names`` of its module; None for a library's class or a builtin."""
        if isinstance(node, ast.Name) and node.id in self.classes and node.id not in self.imports:
            return self, self.classes[node.id]
        symbol = self.project_symbol(node)
        if symbol is not None and isinstance(symbol.node, ast.ClassDef):
            return symbol.module.names, symbol.node
        return None

    def resolve_function(self, node: ast.expr, scope: Scope | None = None) -> tuple[Names, FunctionNode] | None:
        """The ``def`` a name or attribute refers to, in this module or another project module.

        Returns the ``Names`` of the module that defines it, so the caller can
        keep resolving inside that function's body.
        """
        if isinstance(node, ast.Name):
            shadowed = scope is not None and (node.id in scope.values or node.id in scope.params)
            if not shadowed and node.id in self.functions and node.id not in self.imports:
                return self, self.functions[node.id]
        if self.resolver is None:
            return None
        dotted = self.qualify(node, scope)
        if dotted is None or dotted.startswith("builtins."):
            return None
        return self.resolver.function(dotted)

    def returned_path(self, func: FunctionNode, depth: int = 0) -> str | None:
        """What a function returns or (for generator dependencies) yields, if all agree."""
        scope = self.scope(func)
        paths: set[str | None] = set()
        for node in walk_shallow(func):
            if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None and not is_none(node.value):
                paths.add(self.value_path(node.value, scope, depth + 1))
        if func.returns is not None and not paths:
            return self.annotation_path(func.returns)
        return agreed_path(paths)


DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.Security"})

# ``pkg.Model.from_pretrained()``: a class's alternative constructor, by the ``from_*`` convention.
_ALTERNATIVE_CONSTRUCTOR = re.compile(r"^([^()\s]*\.[A-Z]\w*)\.from_\w+\(\)$")


def agreed_path(paths: Collection[str | None]) -> str | None:
    """What every ``return`` of a function evaluates to, when they agree; None otherwise.

    Returns that build the same class agree, whether through its constructor or its ``from_*``
    class methods (``Llama(path)`` on one branch, ``Llama.from_pretrained(repo)``
    on the other): each gives an instance of that class.
    """
    if len(paths) == 1:
        return next(iter(paths))
    if not paths or None in paths:
        return None
    built = {_ALTERNATIVE_CONSTRUCTOR.sub(r"\1()", path) for path in paths if path is not None}
    return built.pop() if len(built) == 1 else None


def _refers_to(expr: ast.expr, name: str) -> bool:
    return mentions_name(expr, name)


def same_definition(one: tuple[Names, ast.AST], other: tuple[Names, ast.AST]) -> bool:
    """Whether two definitions (a ``def`` or a ``class``, each with the ``Names`` of its module) are the
    same one. Compared by place: the linted file's tree and the project index's parse of that file
    are different objects, and which of them a question meets depends on which file asked first."""
    if one[1] is other[1]:
        return True
    first, second = one[1], other[1]
    if (getattr(first, "name", None), getattr(first, "lineno", None)) != (getattr(second, "name", None), getattr(second, "lineno", None)):
        return False
    mine, theirs = one[0].resolver, other[0].resolver
    return mine is not None and theirs is not None and mine.index.real_path(mine.filename) == mine.index.real_path(theirs.filename)


# Typed references to an actor that may live in another process (``xo.ActorRefType[SupervisorActor]``):
# a call of a method on one runs that class's method there.
REMOTE_REFERENCES = frozenset({"xoscar.ActorRefType", "xoscar.ActorRef", "xoscar.api.ActorRefType", "xoscar.api.ActorRef"})


def unwrap_annotation(annotation: ast.expr, names: Names) -> ast.expr | None:
    """``Annotated[X, ...]`` / ``Optional[X]`` / ``X | None`` / ``"X"`` -> ``X``."""
    node: ast.expr | None = annotation
    for _ in range(_MAX_DEPTH):
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            continue
        if isinstance(node, ast.Subscript):
            wrapper = names.qualify(node.value)
            inner = node.slice
            if wrapper in ANNOTATED:
                node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                continue
            if wrapper in REMOTE_REFERENCES:
                node = inner  # a reference to an actor of the project class: its methods are that class's
                continue
            if wrapper not in OPTIONAL_WRAPPERS:
                return node
        elif not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)):
            return node
        # ``Optional[X]``, ``Union[X, None]``, ``X | None``: the one type left once ``None`` is.
        members = union_members(node, names)
        node = members[0] if len(members) == 1 else None
    return None


def union_members(annotation: ast.expr, names: Names) -> list[ast.expr]:
    """The types a union annotation names, ``None`` left out: ``Union[A, B]``, ``Optional[Union[A, B]]``,
    ``A | B | None``, a string of one of them. A single type is a one-member list; anything unreadable
    is an empty one."""
    found: list[ast.expr] = []
    pending: list[ast.expr] = [annotation]
    for _ in range(4 * _MAX_DEPTH):
        if not pending:
            return found
        node = pending.pop(0)
        if isinstance(node, ast.Constant):
            if node.value is None:
                continue
            if not isinstance(node.value, str):
                return []
            try:
                pending.insert(0, ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return []
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending[:0] = [node.left, node.right]
            continue
        if isinstance(node, ast.Subscript) and names.qualify(node.value) in OPTIONAL_WRAPPERS:
            inner = node.slice
            pending[:0] = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
            continue
        found.append(node)
    return []


# Containers whose annotation says what an item is: ``Dict[str, Model]`` (the value), ``list[Model]``.
MAPPING_ANNOTATIONS = frozenset(
    {
        "typing.Dict", "builtins.dict", "typing.Mapping", "typing.MutableMapping", "collections.abc.Mapping",
        "collections.abc.MutableMapping", "typing.DefaultDict", "collections.defaultdict", "typing.OrderedDict",
        "collections.OrderedDict",
    }
)
SEQUENCE_ANNOTATIONS = frozenset(
    {"typing.List", "builtins.list", "typing.Sequence", "collections.abc.Sequence", "typing.MutableSequence",
     "collections.abc.MutableSequence"}
)


def item_annotation(annotation: ast.expr, names: Names) -> ast.expr | None:
    """What ``x[key]`` holds when ``x`` is annotated as a container: ``Dict[str, Model]`` -> ``Model``,
    ``list[Model] | None`` -> ``Model``; None for any other annotation."""
    container = unwrap_annotation(annotation, names)
    if not isinstance(container, ast.Subscript):
        return None
    kind = names.qualify(container.value)
    inner = container.slice
    if kind in MAPPING_ANNOTATIONS:
        return inner.elts[1] if isinstance(inner, ast.Tuple) and len(inner.elts) == 2 else None
    if kind in SEQUENCE_ANNOTATIONS:
        return None if isinstance(inner, ast.Tuple) else inner
    return None


def annotated_extras(annotation: ast.expr, names: Names) -> list[ast.expr]:
    """The metadata of ``Annotated[X, Depends(...), Body()]`` (empty for other annotations)."""
    if isinstance(annotation, ast.Subscript) and names.qualify(annotation.value) in ANNOTATED:
        inner = annotation.slice
        if isinstance(inner, ast.Tuple):
            return list(inner.elts[1:])
    return []


# Modules the project index parses get their names from this stage.
use_names(lambda tree, resolver: Names(tree, resolver=resolver))
