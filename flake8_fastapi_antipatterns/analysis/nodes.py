"""Every node of a module, walked once and grouped by type.

The rules used to call ``ast.walk(tree)`` each time they looked for calls,
functions or assignments, and the app-level rules once per app and per
included router: over FastAPI's own test-suite (files with 60 apps each)
that was most of the plugin's run time.  ``ModuleNodes`` walks a module once
(breadth-first, the order ``ast.walk`` yields, so findings come out in the
same order) and keeps the nodes by type, with the function each node sits
in; ``Names.nodes`` builds it on first use and every rule shares it.

Walking by ``node._fields`` rather than ``ast.iter_child_nodes`` gives the
same nodes in the same order at about half the cost.
"""

from __future__ import annotations

import ast
import functools
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar, overload

N = TypeVar("N", bound=ast.AST)
M = TypeVar("M", bound=ast.AST)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPE_KINDS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.arguments})
_UNCLAIMED = object()


# Fields that never hold a node the rules look for: names and other scalars, and the
# ``Load``/``Store`` contexts and operators (shared singletons that every ``Name`` and
# ``BinOp`` carries).  Leaving them out skips a third of a module's nodes.
_SKIPPED_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "kind", "type_comment", "level", "module",
     "conversion", "is_async", "tag", "rest", "lineno"}
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def node_fields(kind: type) -> tuple[str, ...]:
    """The fields of an AST class that may hold child nodes (in ``_fields`` order)."""
    fields = _FIELDS.get(kind)
    if fields is None:
        skipped = _SKIPPED_FIELDS | ({"value"} if kind is ast.Constant else set())
        if kind is getattr(ast, "TypeAlias", None):
            skipped = skipped - {"name"}  # ``type X = ...`` (3.12+): its name is a Name node
        skipped |= {"names"} if kind in (ast.Global, ast.Nonlocal) else set()
        fields = _FIELDS[kind] = tuple(f for f in getattr(kind, "_fields", ()) if f not in skipped)
    return fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``list(ast.iter_child_nodes(node))`` in the same order, without contexts and operators."""
    children: list[ast.AST] = []
    for name in node_fields(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


def mentions_name(expr: ast.AST, name: str) -> bool:
    """Whether ``name`` is read or written anywhere inside ``expr`` (``any(... ast.walk(expr))``, faster)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if node.id == name:
                return True
            continue
        stack.extend(child_nodes(node))
    return False


def lines_only_in(roots: Iterable[ast.AST], chosen: AbstractSet[int]) -> frozenset[int]:
    """The lines of the code under ``roots`` that only nodes of ``chosen`` (ids) are written on: a call
    there is made only when they run. A line that also holds another node (``if debug: f()`` on one
    line: its test) is left out."""
    if not chosen:
        return frozenset()
    inside: set[int] = set()
    outside: set[int] = set()
    for root in roots:
        for inner in ast.walk(root):
            line = getattr(inner, "lineno", None)
            if line is not None:
                (inside if id(inner) in chosen else outside).add(line)
    return frozenset(inside - outside)


def names_a_symbol(text: str) -> bool:
    """Whether a string could name a symbol to look up (``"app.loggers.Logger"``, ``"app.loggers:Logger"``,
    ``"Logger"``): no spaces, only identifier characters, dots and a colon. A sentence that mentions a
    class (``"QueuingInterface requires msg_obj references"``) looks nothing up."""
    return bool(text) and all(c.isalnum() or c in "_.:" for c in text)


def names_class_again(nodes: Iterable[ast.AST], cls: ast.ClassDef, *, references: bool) -> bool:
    """Whether one of ``nodes`` (of the module ``cls`` is in) names the class outside its ``class``
    statement: in a string (``import_string("app.Logger")``, ``globals()["Logger"]``) or in a second
    ``class`` statement of the name; with ``references``, also as a name or an attribute, read or
    written (``Logger``, ``loggers.Logger``).

    The other ``class`` statement is told apart by its line, not by identity: ``nodes`` may come
    from another parse of the module than ``cls`` (and no two ``class`` statements share a line)."""
    name = cls.name
    for node in nodes:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and name in node.value and names_a_symbol(node.value):
                return True
        elif isinstance(node, ast.ClassDef):
            if node.name == name and node.lineno != cls.lineno:
                return True
        elif references and (
            (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)
        ):
            return True
    return False


_ID = operator.attrgetter("id")
_ATTR = operator.attrgetter("attr")
_NAME = operator.attrgetter("name")


def parameter_names(func: FunctionNode) -> set[str]:
    """Every name ``func``'s caller binds: positional, keyword-only, ``*args`` and ``**kwargs``."""
    arguments = func.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return {a.arg for a in every if a is not None}


def parameter_defaults(func: FunctionNode) -> dict[str, ast.expr]:
    """Each parameter with a default, and that default: positional ones aligned from the end."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    found = {arg.arg: default for arg, default in zip(reversed(positional), reversed(args.defaults))}
    found.update((arg.arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default is not None)
    return found


def parameters(func: FunctionNode) -> list[str]:
    """The names a call may bind by position or by keyword, in order (no ``*args``/``**kwargs``)."""
    return [a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]]


def bound_arguments(call: ast.Call, helper: FunctionNode) -> list[tuple[str, ast.expr]]:
    """(parameter, argument) for each argument ``call`` hands ``helper`` by position or by name; a
    method called on an object (``service.send(error)``) binds its ``self``/``cls`` to that object."""
    params = parameters(helper)
    if params and params[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
        params = params[1:]
    return list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg is not None]


def decided_by(test: ast.expr, values: Mapping[str, ast.Constant]) -> bool | None:
    """What ``test`` evaluates to when the names in ``values`` hold those constants (a parameter left
    at its default, a literal its caller passed): True or False where that settles it (``not user_id
    or ...`` with ``user_id`` None, ``db and ...`` with ``db`` None, ``path is None and use_cache``),
    None where it reads anything else."""
    if isinstance(test, ast.BoolOp):
        results = [decided_by(value, values) for value in test.values]
        deciding = False if isinstance(test.op, ast.And) else True
        if deciding in results:
            return deciding
        return (not deciding) if all(r is not None for r in results) else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = decided_by(test.operand, values)
        return None if inner is None else not inner
    if isinstance(test, ast.Name):
        held = values.get(test.id)
        return None if held is None else bool(held.value)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id in values
        and isinstance(test.comparators[0], ast.Constant)
    ):
        left, right, op = values[test.left.id].value, test.comparators[0].value, test.ops[0]
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not isinstance(right, (bool, type(None))):
                return None  # identity of other constants is the interpreter's business
            return (left is right) == isinstance(op, ast.Is)
        if isinstance(op, ast.Eq):
            return bool(left == right)
        if isinstance(op, ast.NotEq):
            return bool(left != right)
    return None


def spells_any(expr: ast.expr, words: AbstractSet[str]) -> bool:
    """Whether ``expr`` names one of ``words`` anywhere in it, as a name or an attribute: the flags of
    ``os.O_RDWR | os.O_CREAT``, the operation of ``mode | fcntl.LOCK_NB``."""
    return any(isinstance(node, (ast.Name, ast.Attribute)) and last_name(node) in words for node in ast.walk(expr))


def ends_the_call(body: list[ast.stmt]) -> bool:
    """Whether a block always leaves the function: it ends in ``return`` or ``raise`` (``return _cache``,
    ``raise RuntimeError("already started")``), so what follows its ``if`` runs only when it is not taken."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def last_name(node: ast.expr) -> str | None:
    """The name a callee or value is spelled with last: ``get`` in ``router.get``, ``f`` in ``f``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"``: the test of the block a module runs only as a script."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _first(pair: tuple[int, ast.AST]) -> int:
    return pair[0]


class ModuleNodes:
    """The nodes of one tree by exact type, each with the function it is written in and runs in.

    Literal constants are left out (no rule looks for one on its own, and they are a
    fifth of a module's nodes).  Two attributions come with every node:

    - *lexical*: the innermost def it is written in (a def's decorators, arguments and
      body are in it; class bodies and lambdas do not count; None is module level);
    - *running*: the function whose body runs it, as ``walk_shallow`` attributes code:
      a def's decorators and defaults run where the def is, its annotations and body in
      it; class and lambda bodies are run by no function (such nodes have no running
      function and are left out of ``running``).
    """

    def __init__(self, tree: ast.AST) -> None:
        # Breadth-first like ``ast.walk``, with the two attributions in parallel lists
        # (``_UNCLAIMED`` marks class and lambda bodies).  A def's defaults sit in its
        # ``arguments`` node, whose children therefore get their claim from ``defaults_claim``.
        nodes: list[ast.AST] = [tree]
        lexical: list[FunctionNode | None] = [None]
        running: list[object] = [None]
        defaults_claim: dict[int, object] = {}
        AST = ast.AST
        Constant = ast.Constant
        fields_of = _FIELDS
        add_node, add_lexical, add_running = nodes.append, lexical.append, running.append
        by_type: dict[type, list[ast.AST]] = {}
        positions: dict[type, list[int]] = {}
        # Iterating a list that grows while it is iterated: the queue of a breadth-first walk.
        for position, node in enumerate(nodes):
            kind = type(node)
            bucket = by_type.get(kind)
            if bucket is None:
                by_type[kind] = [node]
                positions[kind] = [position]
            else:
                bucket.append(node)
                positions[kind].append(position)
            fields = fields_of.get(kind)
            if fields is None:
                fields = node_fields(kind)
            if not fields:
                continue  # a leaf (``Name``, ``Pass``...): a third of the nodes, done with here
            claim = running[position]
            inner = lexical[position]
            special = None
            if kind in _SCOPE_KINDS:
                if kind is ast.Lambda:
                    defaults_claim[id(node.args)] = claim  # type: ignore[attr-defined]
                    claim = _UNCLAIMED
                elif kind is ast.ClassDef:
                    special = {"decorator_list": claim}
                    claim = _UNCLAIMED
                elif kind is ast.arguments:
                    if id(node) in defaults_claim:
                        given = defaults_claim[id(node)]
                        special = {"defaults": given, "kw_defaults": given}
                else:  # a def
                    inner = node  # type: ignore[assignment]
                    outer = node if claim is _UNCLAIMED else claim
                    special = {"decorator_list": outer}
                    defaults_claim[id(node.args)] = outer  # type: ignore[attr-defined]
                    claim = node
            for name in fields:
                value = getattr(node, name, None)
                child_claim = claim if special is None else special.get(name, claim)
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, AST) and type(item) is not Constant:
                            add_node(item)
                            add_lexical(inner)
                            add_running(child_claim)
                elif isinstance(value, AST) and type(value) is not Constant:
                    add_node(value)
                    add_lexical(inner)
                    add_running(child_claim)
        self._tree = tree
        self._lexical = lexical
        self._running = running
        self._by_type = by_type
        self._positions = positions
        self._cache: dict[tuple[type, ...], list[ast.AST]] = {}
        self._identifiers: frozenset[str] | None = None
        self._def_lexical: dict[int, FunctionNode | None] | None = None
        self._call_lexical: dict[int, FunctionNode | None] | None = None

    @overload
    def of(self, kind: type[N], /) -> list[N]: ...
    @overload
    def of(self, kind: type[N], other: type[M], /) -> list[N | M]: ...
    @overload
    def of(self, *kinds: type[ast.AST]) -> list[ast.AST]: ...

    def of(self, *kinds: type[ast.AST]) -> list[Any]:
        """The nodes of the given types, in walk order (shared list: do not modify)."""
        if len(kinds) == 1:
            return self._by_type.get(kinds[0], [])
        cached = self._cache.get(kinds)
        if cached is None:
            # Merge the buckets back into walk order by the positions recorded during the walk.
            pairs = [
                (position, node)
                for kind in kinds
                for position, node in zip(self._positions.get(kind, ()), self._by_type.get(kind, ()))
            ]
            pairs.sort(key=_first)
            cached = self._cache[kinds] = [node for _, node in pairs]
        return cached

    @overload
    def each(self, kind: type[N], /) -> Iterator[N]: ...
    @overload
    def each(self, kind: type[N], other: type[M], /) -> Iterator[N | M]: ...
    @overload
    def each(self, *kinds: type[ast.AST]) -> Iterator[ast.AST]: ...

    def each(self, *kinds: type[ast.AST]) -> Iterator[Any]:
        """The nodes of the given types, one type after the other: for callers to whom order is no matter."""
        for kind in kinds:
            yield from self._by_type.get(kind, ())

    def written_in(self, *kinds: type[ast.AST]) -> Iterator[tuple[ast.AST, FunctionNode | None]]:
        """(node, the innermost def it is written in) for the nodes of the given types, type after type."""
        lexical = self._lexical
        for kind in kinds:
            for node, position in zip(self._by_type.get(kind, ()), self._positions.get(kind, ())):
                yield node, lexical[position]

    def run_in(self, *kinds: type[ast.AST]) -> Iterator[tuple[ast.AST, FunctionNode | None, FunctionNode | None]]:
        """(node, the function that runs it, the def it is written in), type after type.

        Nodes of class and lambda bodies, which no function runs, are left out.
        """
        lexical, running = self._lexical, self._running
        for kind in kinds:
            for node, position in zip(self._by_type.get(kind, ()), self._positions.get(kind, ())):
                claim = running[position]
                if claim is not _UNCLAIMED and node is not self._tree:
                    yield node, claim, lexical[position]  # type: ignore[misc]

    def enclosing_def(self, func: FunctionNode) -> FunctionNode | None:
        """The innermost def a def is written in (None at module level or for a def of another tree)."""
        if self._def_lexical is None:
            self._def_lexical = {id(node): func for node, func in self.written_in(ast.FunctionDef, ast.AsyncFunctionDef)}
        return self._def_lexical.get(id(func))

    def call_written_in(self, call: ast.Call) -> FunctionNode | None:
        """The innermost def a call of this tree is written in (None at module level)."""
        if self._call_lexical is None:
            self._call_lexical = {id(node): func for node, func in self.written_in(ast.Call)}
        return self._call_lexical.get(id(call))

    @property
    def identifiers(self) -> frozenset[str]:
        """Every name, attribute and def/class name the module spells."""
        if self._identifiers is None:
            # map/attrgetter run in C: this reads every Name and Attribute of the module.
            found = set(map(_ID, self.of(ast.Name)))
            found.update(map(_ATTR, self.of(ast.Attribute)))
            found.update(map(_NAME, self.each(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
            self._identifiers = frozenset(found)
        return self._identifiers


DEVELOPMENT_WORDS = ("debug", "dev_mode", "development")


def _names_development(test: ast.expr) -> bool:
    words = [n.id for n in ast.walk(test) if isinstance(n, ast.Name)]
    words += [n.attr for n in ast.walk(test) if isinstance(n, ast.Attribute)]
    return any(word in name.lower() for name in words for word in DEVELOPMENT_WORDS)


def alternative_assignments(nodes: ModuleNodes) -> set[int]:
    """Ids of the values that are a second shape of one binding: ``if debug: app = FastAPI(debug=True)
    else: app = FastAPI()`` binds ``app`` once. The shape kept is the production one: the ``else``
    when the test names a debug or development switch, the ``if`` body otherwise."""
    found: set[int] = set()
    for node in nodes.of(ast.If):
        if not node.orelse:
            continue
        body = {t.id: s.value for s in node.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        orelse = {t.id: s.value for s in node.orelse if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        dropped = body if _names_development(node.test) else orelse
        found.update(id(dropped[name]) for name in body.keys() & orelse.keys())
    return found


def once_per_function(find: Callable[[N], Iterable[int]]) -> Callable[[N], frozenset[int]]:
    """``find``'s answer about a function (ids of some of its nodes), worked out once per function
    node and kept weakly by it: the answer holds ids only, so it keeps nothing of the tree alive."""
    answers: weakref.WeakKeyDictionary[N, frozenset[int]] = weakref.WeakKeyDictionary()

    @functools.wraps(find)
    def answer(func: N) -> frozenset[int]:
        known = answers.get(func)
        if known is None:
            known = answers[func] = frozenset(find(func))
        return known

    return answer
