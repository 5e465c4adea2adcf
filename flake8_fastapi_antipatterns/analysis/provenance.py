"""Where an exception's text comes from: the project's own exception classes.

An ``except InvalidInputError as e`` whose class the project defines catches only
what the project raises: its text is what the project wrote for it, unless some
place builds one of these exceptions (or of their subclasses in the project) out
of another exception's text (``raise StorageError(f"upload failed: {e}") from e``).
This module answers that question for the leak rule (FAA303): it finds the
places that construct a class by reading the project files that mention its name
(``ProjectIndex.files_mentioning``), and what each file constructs inside an
``except ... as e`` from ``e``'s text, once per version of the file.

Anything it cannot settle (a class it cannot find, a project too large to read
whole) is "not known to be the project's own text", so the leak is still reported.
"""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass, field

from flake8_fastapi_antipatterns.analysis.names import Names
from flake8_fastapi_antipatterns.analysis.project import ModuleInfo, ProjectIndex

# How many classes of one hierarchy (the class and its project subclasses) are looked at.
MAX_CLASSES = 32


@dataclass
class _FileFacts:
    """What one module constructs from caught exceptions, and which of its classes derive from which."""

    wrapped: set[str] = field(default_factory=set)
    """Names of the classes called, inside ``except ... as e``, with arguments that carry ``e``."""
    subclasses: dict[str, set[str]] = field(default_factory=dict)
    """base class name -> names of the classes this module derives from it."""


_FACTS: weakref.WeakKeyDictionary[ast.Module, _FileFacts] = weakref.WeakKeyDictionary()


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _facts(tree: ast.Module) -> _FileFacts:
    known = _FACTS.get(tree)
    if known is not None:
        return known
    facts = _FileFacts()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                base_name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
                if base_name is not None:
                    facts.subclasses.setdefault(base_name, set()).add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            # The caught exception, and the local names given a value built from it in the handler
            # (``message = str(e)``): an argument holding any of them carries the exception's text.
            carriers = {node.name}
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Assign) and _mentions(inner.value, carriers):
                        carriers.update(t.id for t in inner.targets if isinstance(t, ast.Name))
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Call):
                        called = _called_name(inner)
                        arguments = [*inner.args, *(k.value for k in inner.keywords)]
                        if called is not None and any(_mentions(a, carriers) for a in arguments):
                            facts.wrapped.add(called)
    _FACTS[tree] = facts
    return facts


def _own_class(names: Names, node: ast.expr) -> tuple[str, str | None] | None:
    """(class name, the file to search the project from) for a class the project defines, else None."""
    if isinstance(node, ast.Name) and node.id in names.classes and node.id not in names.imports:
        return node.id, names.resolver.filename if names.resolver is not None else None
    dotted = names.qualify(node)
    if dotted is None or names.resolver is None:
        return None
    symbol = names.resolver.symbol(dotted)
    if symbol is None or not isinstance(symbol.node, ast.ClassDef):
        return None
    return symbol.node.name, str(symbol.module.path)


def _modules(index: ProjectIndex, anchor: str, word: str) -> list[ModuleInfo] | None:
    """The project modules that may build ``word`` or derive a class from it: their text holds
    ``word(`` or names it among a class's bases (the rest are never parsed)."""
    paths = index.files_mentioning(anchor, word)
    texts = index.project_texts(anchor)
    if paths is None or texts is None:
        return None
    called = word.encode() + b"("
    derived = re.compile(rb"class\s+\w+\s*\([^)]*\b" + re.escape(word.encode()) + rb"\b")
    wanted = [path for path in paths if called in texts.get(path, b"") or derived.search(texts.get(path, b""))]
    return [info for info in (index.module(path) for path in wanted) if info is not None]


def only_own_text(names: Names, caught: ast.expr | None) -> bool:
    """Whether every class ``caught`` names (one, or a tuple) is the project's own and is never
    built from another exception's text anywhere in the project."""
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    if not elements:
        return False
    for element in elements:
        found = _own_class(names, element)
        if found is None or not _never_wraps(names, *found):
            return False
    return True


# (class name, the file it was looked up from) -> the answer, for the life of the process: every
# ``except`` of the class in every file asks the same question.
_ANSWERS: dict[tuple[str, str], bool] = {}
MAX_ANSWERS = 4096


def _never_wraps(names: Names, class_name: str, anchor: str | None) -> bool:
    if anchor is None:
        return _search(names, class_name, anchor)
    key = (class_name, anchor)
    known = _ANSWERS.get(key)
    if known is None:
        if len(_ANSWERS) >= MAX_ANSWERS:
            _ANSWERS.clear()
        known = _ANSWERS[key] = _search(names, class_name, anchor)
    return known


def _search(names: Names, class_name: str, anchor: str | None) -> bool:
    index = names.resolver.index if names.resolver is not None else None
    pending = [class_name]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if len(seen) > MAX_CLASSES:
            return False
        if index is None or anchor is None:
            trees = [names.tree]  # an in-memory module: all there is to read
        else:
            modules = _modules(index, anchor, name)
            if modules is None:
                return False
            trees = [module.names.tree for module in modules]
        for tree in trees:
            facts = _facts(tree)
            if name in facts.wrapped:
                return False
            pending.extend(facts.subclasses.get(name, ()))
    return True


__all__ = ["only_own_text"]
