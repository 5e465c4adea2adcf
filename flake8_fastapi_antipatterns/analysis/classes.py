"""Project classes: their bases inside the project, their methods, and where their attributes come from.

The "symbols and classes" stage of the analysis, read through ``Names``: the
call graph asks it which ``def`` ``repo.get_one()`` runs once it knows ``repo``
is a ``UserRepo``, and what ``self.session`` was declared or assigned as.
Bases are followed into other project modules (``class UserRepo(BaseRepo)``
with ``BaseRepo`` imported); a library base ends the search, so a method only
a library class defines stays unknown, as does anything built dynamically.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, same_definition
from flake8_fastapi_antipatterns.analysis.nodes import last_name

_MAX_BASES = 16
"""How many classes one method or attribute search looks through (deep hierarchies are rare)."""
PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})
MethodKind = Literal["instance", "class", "static"]


@dataclass(frozen=True, eq=False)
class ProjectClass:
    """A class the project defines, with the ``Names`` of its module."""

    names: Names
    node: ast.ClassDef

    @property
    def name(self) -> str:
        return self.node.name


@dataclass(frozen=True, eq=False)
class Declaration:
    """One place an attribute gets its value.

    A class-body line (``session: Session = Depends(get_db)``: ``method`` is None),
    an assignment to ``self.<name>`` in a method (``self.client = client or
    requests.Session()``), or a property (``value`` None, ``method`` the getter).
    """

    owner: ProjectClass
    annotation: ast.expr | None
    value: ast.expr | None
    method: FunctionNode | None
    is_property: bool = False


class ClassIndex:
    """The classes of one module: which class body each method is written in."""

    def __init__(self, names: Names, owners: dict[int, ast.ClassDef]) -> None:
        self.names = names
        self._owner = owners

    def class_of(self, func: FunctionNode) -> ProjectClass | None:
        """The class whose body defines ``func`` directly (None for a function outside a class)."""
        owner = self._owner.get(id(func))
        return ProjectClass(self.names, owner) if owner is not None else None


def _method_owners(names: Names) -> dict[int, ast.ClassDef]:
    owners: dict[int, ast.ClassDef] = {}
    for cls in names.nodes.each(ast.ClassDef):
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                owners[id(stmt)] = cls
    return owners


# What is kept per module holds nodes of its tree but never its ``Names``: a value that refers
# to its weak key keeps the key alive, and with it every linted module's tree and index.
_OWNERS: weakref.WeakKeyDictionary[Names, dict[int, ast.ClassDef]] = weakref.WeakKeyDictionary()


def class_index(names: Names) -> ClassIndex:
    owners = _OWNERS.get(names)
    if owners is None:
        owners = _OWNERS[names] = _method_owners(names)
    return ClassIndex(names, owners)


def method_kind(func: FunctionNode, names: Names) -> MethodKind:
    for decorator in func.decorator_list:
        dotted = names.qualify(decorator) if isinstance(decorator, (ast.Name, ast.Attribute)) else None
        if dotted in ("builtins.staticmethod", "staticmethod"):
            return "static"
        if dotted in ("builtins.classmethod", "classmethod"):
            return "class"
    return "instance"


def is_property(func: FunctionNode, names: Names) -> bool:
    for decorator in func.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id in PROPERTY_DECORATORS:
            return True
        if isinstance(decorator, (ast.Name, ast.Attribute)):
            dotted = names.qualify(decorator)
            if dotted is not None and dotted.removeprefix("builtins.") in PROPERTY_DECORATORS:
                return True
    return False


INTERFACE_BASES = frozenset(
    {"typing.Protocol", "typing_extensions.Protocol", "abc.ABC", "abc.ABCMeta"}
)


def is_interface(cls: ProjectClass) -> bool:
    """A Protocol or abstract base: it says what an attribute may be, not what the code puts there."""
    names = cls.names
    for base in (*cls.node.bases, *(k.value for k in cls.node.keywords if k.arg == "metaclass")):
        if isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, (ast.Name, ast.Attribute)) and names.qualify(base) in INTERFACE_BASES:
            return True
    return False


def bases(cls: ProjectClass) -> list[ProjectClass]:
    """The direct bases the project defines (``Base[T]`` counts as ``Base``), in order."""
    found: list[ProjectClass] = []
    for base in cls.node.bases:
        if isinstance(base, ast.Subscript):
            base = base.value
        if not isinstance(base, (ast.Name, ast.Attribute)):
            continue
        try:
            located = cls.names.project_class(base)
        except (RecursionError, ValueError, OSError):
            located = None
        if located is not None and located[1] is not cls.node:
            found.append(ProjectClass(*located))
    return found


def lineage(cls: ProjectClass) -> list[ProjectClass]:
    """The class and its project bases, nearest first (depth-first, left to right, each once)."""
    order: list[ProjectClass] = []
    seen: set[int] = set()
    stack = [cls]
    while stack and len(order) < _MAX_BASES:
        current = stack.pop()
        if id(current.node) in seen:
            continue
        seen.add(id(current.node))
        order.append(current)
        stack.extend(reversed(bases(current)))
    return order


_MAX_SUBCLASSES = 32
"""How many classes a search for the subclasses of one class looks at before it gives up."""
_MAX_SUBCLASS_FILES = 48


def subclasses(cls: ProjectClass) -> list[ProjectClass] | None:
    """The project classes deriving from ``cls``, directly or not, found by the name in their bases
    (read in the files whose text holds it); None when the project was not read whole or the search
    grew past its bounds."""
    resolver = cls.names.resolver
    if resolver is None:
        return None
    index = resolver.index
    found: list[ProjectClass] = []
    seen: set[tuple[str, int]] = set()
    pending = [cls]
    while pending:
        current = pending.pop()
        modules = index.modules_deriving(resolver.filename, current.name, _MAX_SUBCLASS_FILES)
        if modules is None:
            return None
        for module in modules:
            # ``from app.mixins import HttpFetchMixin as Fetching``: the base is spelled by its alias there.
            spelled = {current.name} | {
                alias.asname
                for imported in module.names.nodes.of(ast.ImportFrom)
                for alias in imported.names
                if alias.name == current.name and alias.asname
            }
            for node in module.names.nodes.of(ast.ClassDef):
                if not any(_base_name(base) in spelled for base in node.bases):
                    continue
                key = (index.real_path(str(module.path)), node.lineno)
                if key in seen:
                    continue
                seen.add(key)
                candidate = ProjectClass(module.names, node)
                if not any(same_class(base, current) for base in bases(candidate)):
                    continue  # a base of the same name from elsewhere
                found.append(candidate)
                pending.append(candidate)
                if len(found) > _MAX_SUBCLASSES:
                    return None
    return found


def _base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else None


def same_class(one: ProjectClass, other: ProjectClass) -> bool:
    """The same ``class`` statement, whichever parse of its file each was read from."""
    return same_definition((one.names, one.node), (other.names, other.node))


def find_method(cls: ProjectClass, name: str, *, skip_own: bool = False) -> tuple[ProjectClass, FunctionNode] | None:
    """The ``def name`` an instance of ``cls`` runs (``skip_own``: what ``super().name`` runs)."""
    for owner in lineage(cls)[1 if skip_own else 0 :]:
        for stmt in reversed(owner.node.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                return owner, stmt
    return None


def is_abstract(func: FunctionNode, names: Names) -> bool:
    """A method that only declares itself: ``@abstractmethod``, or a body of a docstring, ``pass`` or ``...``."""
    for decorator in func.decorator_list:
        if isinstance(decorator, (ast.Name, ast.Attribute)) and names.qualify(decorator) == "abc.abstractmethod":
            return True
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in func.body
    )


def is_stub(func: FunctionNode, names: Names) -> bool:
    """An abstract method (``is_abstract``), or one that only raises ``NotImplementedError`` (after
    a docstring): either way a subclass's implementation is what runs."""
    if is_abstract(func, names):
        return True
    for statement in func.body:
        if isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            continue
        raised = statement.exc if isinstance(statement, ast.Raise) else None
        if raised is not None and last_name(raised.func if isinstance(raised, ast.Call) else raised) == "NotImplementedError":
            continue
        return False
    return True


def module_overrides(cls: ProjectClass, name: str) -> list[tuple[ProjectClass, FunctionNode]]:
    """The ``def name`` of each class of ``cls``'s own module that derives from it.

    What an interface's method runs is one of its implementations; those written
    next to the interface are the ones a caller can be sure of.
    """
    found: list[tuple[ProjectClass, FunctionNode]] = []
    for node in cls.names.nodes.each(ast.ClassDef):
        if node is cls.node:
            continue
        candidate = ProjectClass(cls.names, node)
        if not any(base.node is cls.node for base in lineage(candidate)[1:]):
            continue
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                found.append((candidate, stmt))
    return found


def declarations(cls: ProjectClass, name: str) -> list[Declaration]:
    """Where ``instance.<name>`` gets its value, nearest class first: the class body
    (annotations and values), properties, then ``self.<name> = ...`` in ``__init__`` and the
    other methods.  Empty when the project does not say (a library base may define it)."""
    found: list[Declaration] = []
    for owner in lineage(cls):
        found.extend(_own_declarations(owner, name))
    return found


_Declared = tuple[ast.expr | None, ast.expr | None, FunctionNode | None, bool]
"""A ``Declaration`` without its owner: (annotation, value, method, is_property)."""
# Keyed weakly by the class node, with parts of its body only (the owner, which holds the
# module's ``Names``, is added back on the way out): an entry lives as long as the tree.
_DECLARED: weakref.WeakKeyDictionary[ast.ClassDef, dict[str, list[_Declared]]] = weakref.WeakKeyDictionary()


def _own_declarations(owner: ProjectClass, name: str) -> list[Declaration]:
    """What one class body declares about attribute ``name`` (the class is read once)."""
    known = _DECLARED.get(owner.node)
    if known is None:
        known = _DECLARED[owner.node] = {
            attribute: [(d.annotation, d.value, d.method, d.is_property) for d in found]
            for attribute, found in _declared_by(owner).items()
        }
    return [Declaration(owner, annotation, value, method, is_property) for annotation, value, method, is_property in known.get(name, ())]


def _declared_by(owner: ProjectClass) -> dict[str, list[Declaration]]:
    body: dict[str, list[Declaration]] = {}
    assigned: dict[str, list[Declaration]] = {}
    for stmt in owner.node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            body.setdefault(stmt.target.id, []).append(Declaration(owner, stmt.annotation, stmt.value, None))
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    body.setdefault(target.id, []).append(Declaration(owner, None, stmt.value, None))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if is_property(stmt, owner.names):
                body.setdefault(stmt.name, []).append(Declaration(owner, stmt.returns, None, stmt, is_property=True))
            elif stmt.args.args:
                for attribute, declaration in _self_assignments(owner, stmt):
                    assigned.setdefault(attribute, []).append(declaration)
    for attribute, declarations_ in assigned.items():
        # ``__init__`` says what an attribute starts as; other methods may reassign it.
        declarations_.sort(key=lambda d: d.method is None or d.method.name != "__init__")
        body.setdefault(attribute, []).extend(declarations_)
    return body


def _self_assignments(owner: ProjectClass, method: FunctionNode) -> Iterator[tuple[str, Declaration]]:
    receiver = method.args.args[0].arg
    for node in ast.walk(method):
        if isinstance(node, ast.Assign):
            targets, annotation, value = node.targets, None, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, annotation, value = [node.target], node.annotation, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == receiver:
                yield target.attr, Declaration(owner, annotation, value, method)


BASE_DEPTH = 4
"""How many project classes up ``derives_from`` follows a class's bases."""


def derives_from(names: Names, callee: ast.expr, bases: frozenset[str]) -> bool:
    """Whether ``callee`` names a project class deriving, through project classes (first found base
    first, at most ``BASE_DEPTH`` up), from a class whose qualified name is in ``bases``."""
    found = names.project_class(callee)
    for _ in range(BASE_DEPTH):
        if found is None:
            return False
        module, cls = found
        if any(module.qualify(base) in bases for base in cls.bases):
            return True
        found = next((c for c in (module.project_class(base) for base in cls.bases) if c is not None), None)
    return False
