"""Following calls through a program: which function a call reaches, and what it does.

The machinery the call-following rules share (FAA101/FAA102 in
``rules/event_loop.py``, FAA103 in ``rules/request_path.py``, FAA204/FAA205 in
``rules/outbound.py``): ``Program`` holds one ``CallResolver`` per module
(this one and the project modules calls lead into), and a ``CallResolver``
answers "what does this call reach" inside a given function scope, binding a
helper's untyped parameters to what the caller passed.
"""

from __future__ import annotations

import ast
import os
import weakref
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from flake8_fastapi_antipatterns.analysis.blocking import (
    ASYNC_CLASS_ARGUMENT,
    ASYNC_SESSIONMAKER,
    LANGCHAIN_SEQUENCE,
    PARTIAL,
    RQ_ENQUEUE,
    RQ_JOB_DECORATORS,
    THREAD_HANDOFF_METHODS,
    THREAD_HANDOFFS,
    is_langchain,
    kind_of,
)
from flake8_fastapi_antipatterns.analysis.classes import (
    Declaration,
    MethodKind,
    ProjectClass,
    class_index,
    declarations,
    find_method,
    is_interface,
    is_stub,
    method_kind,
    subclasses,
)
from flake8_fastapi_antipatterns.analysis.literal_branches import (
    constant_defaults,
    constant_parameters,
    constant_path,
    guarded_parameters,
    handed_arguments,
    is_constant_path,
    literal_path,
    omitted_constants,
    skipped_calls,
)
from flake8_fastapi_antipatterns.analysis.names import (
    DEPENDS,
    REMOTE_REFERENCES,
    FunctionNode,
    Names,
    Scope,
    agreed_path,
    is_none,
    item_annotation,
    union_members,
    unwrap_annotation,
    walk_shallow,
)
from flake8_fastapi_antipatterns.analysis.nodes import ModuleNodes, bound_arguments, mentions_name
from flake8_fastapi_antipatterns.analysis.service_locators import (
    TypeKey,
    looked_up_types,
    may_look_up,
    registered_factory,
    type_key,
)

if TYPE_CHECKING:
    from flake8_fastapi_antipatterns.options import Settings
    from flake8_fastapi_antipatterns.rules.base import Context

_MAX_DEPTH = 12
# How many implementations of an abstract method a search follows (``BaseDb.get_session`` has one
# per database the project supports).
_MAX_IMPLEMENTATIONS = 16
# ``Type[X]``, ``type[X]``: an annotation of the class itself, not of an instance.
CLASS_WRAPPERS = frozenset({"typing.Type", "type", "builtins.type", "typing_extensions.Type"})
# ``cast(T, value)`` hands back ``value`` declared as a ``T``: what the code says the object is.
TYPE_CASTS = frozenset({"typing.cast", "typing_extensions.cast"})
CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache"})
SYNC_SESSION_CLASSES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlmodel.Session"})

Funcs = tuple[FunctionNode, ...]
"""A function followed by the functions enclosing it (innermost first): the scopes its names resolve in."""


def short(node: ast.AST, limit: int = 60) -> str:
    """Source text of a node for a message, shortened."""
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # unparse is not total over odd trees
        return "..."
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_text(call: ast.Call) -> str:
    if isinstance(call, ImplicitCall):
        operation = call.operation
        if isinstance(operation, ast.Subscript) and isinstance(operation.ctx, ast.Store):
            return f"{short(operation)} = ..."
        if isinstance(operation, ast.Subscript) and isinstance(operation.ctx, ast.Del):
            return f"del {short(operation)}"
        return short(operation)
    return f"{short(call.func)}()"


def _plain_local(name: str, scope: Scope) -> bool:
    """A local variable, or a parameter with neither annotation nor default."""
    if name in scope.values or name in scope.unknown:
        return True
    return name in scope.params and name not in scope.annotations and name not in scope.defaults


class ImplicitCall(ast.Call):
    """A method an operation runs with no call written: ``pool[key]`` runs ``pool.__getitem__(key)``,
    ``pool[key] = v`` ``__setitem__``, ``del pool[key]`` ``__delitem__``, ``key in pool``
    ``__contains__``, ``len(pool)`` ``__len__``. A project class that keeps its items in Redis or a
    database (a ``RedisDict``) does its I/O there, out of sight of a search that reads only calls.

    Made once per function body (``implicit_calls``), so its identity is stable for the memos; where
    another analysis names the nodes it skips (a run-once branch), it names ``operation``: ask
    ``site_id``.
    """

    operation: ast.expr


_ITEM_METHODS: dict[type[ast.expr_context], str] = {ast.Load: "__getitem__", ast.Store: "__setitem__", ast.Del: "__delitem__"}
_IMPLICIT_METHODS = (*_ITEM_METHODS.values(), "__contains__", "__len__")


def site_id(call: ast.Call) -> int:
    """The id of the node an analysis of the tree knows a call by: the operation of an implicit one."""
    return id(call.operation) if isinstance(call, ImplicitCall) else id(call)


def _implicit(operation: ast.expr, receiver: ast.expr, method: str, args: list[ast.expr]) -> ImplicitCall:
    func = ast.copy_location(ast.Attribute(value=receiver, attr=method, ctx=ast.Load()), operation)
    call = ImplicitCall(func=func, args=args, keywords=[])
    call.operation = operation
    return ast.copy_location(call, operation)


def method_name(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


@dataclass
class _Body:
    """What the rules ask about one function body, computed once and shared by every rule."""

    nodes: list[ast.AST]
    calls: list[ast.Call] | None = None
    generator: bool | None = None
    iterated: frozenset[int] | None = None
    awaited: frozenset[int] | None = None


# Keyed weakly by the function node: an entry lives as long as the tree it belongs to.
_BODIES: weakref.WeakKeyDictionary[ast.AST, _Body] = weakref.WeakKeyDictionary()


def _body(func: FunctionNode) -> _Body:
    found = _BODIES.get(func)
    if found is None:
        # A stand-in module holding just the body: walk_shallow then yields its statements and stops at nested defs.
        found = _BODIES[func] = _Body(list(walk_shallow(ast.Module(body=list(func.body), type_ignores=[]))))
    return found


def body_walk(func: FunctionNode) -> list[ast.AST]:
    """The nodes of a function's body that run when it runs (a shared list: do not modify).

    Unlike ``walk_shallow(func)`` this leaves out the function's own
    decorators, defaults and annotations, which ran when it was defined.
    """
    return _body(func).nodes


def _local_defs(func: FunctionNode) -> dict[str, FunctionNode]:
    return {n.name: n for n in body_walk(func) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _refers_to(expr: ast.expr, name: str) -> bool:
    return mentions_name(expr, name)


def is_generator(func: FunctionNode) -> bool:
    body = _body(func)
    if body.generator is None:
        body.generator = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in body.nodes)
    return body.generator


def iterated_calls(func: FunctionNode) -> frozenset[int]:
    """Ids of the calls ``func`` iterates where it makes them (``for x in gen()``, ``async for``, a
    comprehension's ``in``, ``list(gen())``): a generator called there runs its body in ``func``. A
    generator called anywhere else only comes into being; its body runs where it is consumed."""
    body = _body(func)
    if body.iterated is None:
        found: set[int] = set()
        for node in body.nodes:
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.iter, ast.Call):
                found.add(id(node.iter))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _CONSUMERS
                and node.args
                and isinstance(node.args[0], ast.Call)
            ):
                found.add(id(node.args[0]))
        body.iterated = frozenset(found)
    return body.iterated


def handed_on(func: FunctionNode, call: ast.Call, caller: FunctionNode | None) -> bool:
    """A generator function called where its caller does not iterate it (``rows = fetch(db)`` handed
    to a ``StreamingResponse``): its body runs where it is consumed, not at this call."""
    return is_generator(func) and (caller is None or id(call) not in iterated_calls(caller))


def awaited_calls(func: FunctionNode) -> frozenset[int]:
    """Ids of the calls ``func`` awaits where it makes them (``await db.get(...)``)."""
    body = _body(func)
    if body.awaited is None:
        body.awaited = frozenset(id(n.value) for n in body.nodes if isinstance(n, ast.Await) and isinstance(n.value, ast.Call))
    return body.awaited


# Builtins that run a generator they are handed to its end.
_CONSUMERS = frozenset({"list", "tuple", "set", "dict", "sorted", "sum", "any", "all", "max", "min"})


@dataclass(frozen=True)
class Where:
    """Where an expression is evaluated: a function (with its enclosing ones) and what its parameters hold.

    ``arguments`` are the paths of the arguments a caller passed to ``funcs[0]``
    (``load_user(db, 1)`` with ``db`` a Session binds ``db`` in ``load_user``),
    used for parameters that say nothing about themselves.
    """

    funcs: Funcs
    arguments: tuple[tuple[str, str], ...] = ()

    def argument(self, name: str) -> str | None:
        for param, path in self.arguments:
            if param == name:
                return path
        return None

    def outer(self, index: int) -> Where:
        """The scopes from ``funcs[index]`` outwards (arguments belong to ``funcs[0]`` only)."""
        return Where(self.funcs[index:], self.arguments if index == 0 else ())


MODULE_LEVEL = Where(())


@dataclass(frozen=True, eq=False)
class Instance:
    """An object of a project class, as value paths name it (``<obj:3>``).

    A path that reaches one goes no further as text: ``repo.session`` is
    replaced by what the class says ``session`` is, and ``repo.get_one()``
    runs the class's ``def get_one``.
    """

    cls: ProjectClass
    arguments: tuple[tuple[str, str], ...] = ()
    """What the constructor's parameters hold (``Repo(db)`` binds ``session``); for a class with
    no ``__init__`` of its own, keyword arguments by name (dataclasses, pydantic models)."""
    is_class: bool = False
    """The class object itself (``cls`` in a classmethod): calling it makes an instance."""

    def argument(self, name: str) -> str | None:
        for param, path in self.arguments:
            if param == name:
                return path
        return None


INSTANCE_PREFIX = "<obj:"
FUNCTION_PREFIX = "<fn:"

Direct = Callable[["CallResolver", ast.Call, Where], "str | None"]
"""Names the call when it is what is being looked for (a blocking call, an LLM call), else None."""

T = TypeVar("T")

# Reach answers about other modules' functions, kept across the files of a run (see
# ``Program._reach_memo``): by the function's node, weakly, so an index that re-reads or drops the
# module drops them too; then by (question, arguments, settings).
_SHARED_REACH: weakref.WeakKeyDictionary[ast.AST, dict[tuple[str, tuple[tuple[str, str], ...], Settings], tuple[Reach | None]]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class _Memo(Generic[T]):
    """A cached answer about a function, with how far the search that produced it could look."""

    func: FunctionNode
    """Kept so the node (whose id is the key) stays alive as long as the cache."""
    value: T
    complete: bool
    """Nothing cut the search short; otherwise it is valid for callers with at most ``budget`` depth left."""
    budget: int


@dataclass(frozen=True)
class _ReachMemo(_Memo["Reach | None"]):
    """A reach answer; ``exact``: no cycle or depth cut anywhere below it (``complete`` also holds
    once something was found); ``local``: the search went through the linted module's functions."""

    exact: bool = False
    local: bool = False


@dataclass(frozen=True)
class _Question:
    key: str
    direct: Direct
    follow: Callable[[CallResolver, FunctionNode], bool]
    calls: Callable[[CallResolver, FunctionNode], Iterable[ast.Call]]


class CallResolver:
    """Value paths and callees inside the functions of one module.

    Extends ``Names.value_path`` with what these rules need: nested scopes
    (closures), nested ``def``s, arguments passed by the caller, module-level
    ``Annotated`` aliases (``SessionDep``), ``Path / "x"``, LCEL
    ``prompt | llm``, results of project functions, and
    ``sessionmaker(class_=AsyncSession)``.
    """

    def __init__(self, program: Program, names: Names) -> None:
        # A weak reference: the program holds its resolvers, and a reference cycle would keep
        # each linted file's whole analysis (tree included) alive until the cyclic GC runs.
        self.program: Program = cast("Program", weakref.proxy(program))
        self.names = names
        self._enclosing: dict[int, Funcs] | None = None
        self._local_defs: dict[int, dict[str, FunctionNode]] = {}
        self._returned: dict[int, _Memo[str | None]] = {}
        self._returning: set[int] = set()
        self._defined: tuple[frozenset[str], frozenset[str]] | None | bool = False
        self._bound: dict[tuple[int, Where, int, int | None], tuple[tuple[str, str], ...]] = {}
        self._operations: dict[int, list[ImplicitCall]] = {}
        self._handed: dict[int, frozenset[str]] = {}

    # -- scopes -------------------------------------------------------------
    def funcs(self, func: FunctionNode) -> Funcs:
        if self._enclosing is None:
            self._enclosing = {}
        key = id(func)
        if key not in self._enclosing:
            # The defs around it, innermost first, read off the module's shared node index.
            enclosing: list[FunctionNode] = []
            # A module-level def (what another module's helper usually is) has nothing around it:
            # no need to index that module for it.
            if self.names.functions.get(func.name) is not func:
                nodes = self.names.nodes
                outer = nodes.enclosing_def(func)
                while outer is not None:
                    enclosing.append(outer)
                    outer = nodes.enclosing_def(outer)
            self._enclosing[key] = tuple(enclosing)
        return (func, *self._enclosing[key])

    def where(self, func: FunctionNode, arguments: tuple[tuple[str, str], ...] = ()) -> Where:
        return Where(self.funcs(func), arguments)

    def local_defs(self, func: FunctionNode) -> dict[str, FunctionNode]:
        key = id(func)
        if key not in self._local_defs:
            self._local_defs[key] = _local_defs(func)
        return self._local_defs[key]

    def operations(self, func: FunctionNode) -> list[ImplicitCall]:
        """The implicit calls of ``func`` (``implicit_calls``) that may run a method the project defines
        (``RedisDict.__setitem__``). Left out as well: operations on a local variable or on a parameter
        that says nothing of its type, the most common by far (``row[0]``, ``data["id"]``), where
        following the value would cost every function a search for what is nearly always a dict."""
        key = id(func)
        known = self._operations.get(key)
        if known is not None:
            return known
        found: list[ImplicitCall] = []
        self._operations[key] = found
        entries = operations_of(func, self.names.nodes)
        if not entries or not any(self.may_define(method, cls=False) for method in _IMPLICIT_METHODS):
            return found
        scope = self.names.scope(func)
        receiver_of = self.receiver(func)
        own = receiver_of[1] if receiver_of is not None else None  # ``self[key]`` in the class's own methods

        def followed(receiver: ast.expr, method: str) -> bool:
            plain = isinstance(receiver, ast.Name) and receiver.id != own and _plain_local(receiver.id, scope)
            return not plain and self.may_define(method, cls=False)

        for entry in entries:
            operation = entry.node
            if isinstance(operation, ast.Subscript):
                # Asked before the call is made: most operations are look-ups on locals.
                if followed(operation.value, _ITEM_METHODS[type(operation.ctx)]):
                    found.extend(implicit_calls(entry))
                continue
            found.extend(
                call for call in implicit_calls(entry)
                if followed(call.func.value, call.func.attr)  # type: ignore[attr-defined]
            )
        found.sort(key=_position)
        return found

    def may_define(self, name: str, *, cls: bool) -> bool:
        """False when no file of the project defines a function (``cls``: a class) of that name.

        A cheap answer read from the project's text, asked before any symbol look-up: most
        calls (``logger.info``, ``session.execute``) name nothing the project defines.
        """
        if self._defined is False:
            self._defined = None
            defined = self.names.project_defined()
            if defined is not None:
                # This module's own defs too: the text on disk may be older than the tree linted.
                nodes = self.names.nodes
                functions = {n.name for n in nodes.of(ast.FunctionDef, ast.AsyncFunctionDef)}
                classes = {n.name for n in nodes.of(ast.ClassDef)}
                self._defined = (defined.functions | functions, defined.classes | classes)
        if not isinstance(self._defined, tuple):
            return True
        return name in self._defined[1 if cls else 0]

    def _defined_name(self, node: ast.expr) -> str | None:
        """The name a callee would be defined under: the attribute, or what an import renames."""
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Name):
            imported = self.names.imports.get(node.id)
            return imported.rsplit(".", 1)[-1] if imported else node.id
        return None

    # -- callees ------------------------------------------------------------
    def function_called(self, call: ast.Call, where: Where) -> tuple[CallResolver, FunctionNode] | None:
        """The project function a call runs (nested def, this module, or another project module)."""
        found = self.function_named(call.func, where)
        if found is None and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and where.funcs:
            found = self._union_member_method(call, call.func, where)
        return found

    def _union_member_method(self, call: ast.Call, callee: ast.Attribute, where: Where) -> tuple[CallResolver, FunctionNode] | None:
        """``db.get_runs()`` on ``db: Union[BaseDb, AsyncBaseDb]`` (declared, or returned so by the function
        that made it): the one member class whose method is called as written, awaited for an ``async
        def``, not awaited for a plain ``def`` (a coroutine nobody awaits runs nothing, so an un-awaited
        call is the synchronous member's). None when no member, or more than one, fits."""
        receiver = callee.value
        if not isinstance(receiver, ast.Name) or not self.may_define(callee.attr, cls=False):
            return None
        declared = self._declared_union(receiver, where)
        if declared is None:
            return None
        owner, members = declared
        awaited = id(call) in awaited_calls(where.funcs[0])
        fitting: list[tuple[ProjectClass, FunctionNode]] = []
        for member in members:
            cls = owner.project_class_named(member, MODULE_LEVEL)
            method = find_method(cls, callee.attr) if cls is not None else None
            if cls is not None and method is not None and isinstance(method[1], ast.AsyncFunctionDef) == awaited:
                fitting.append((cls, method[1]))
        if len(fitting) != 1:
            return None
        return self._method(fitting[0][0], callee.attr, "method")

    def _declared_union(self, name: ast.Name, where: Where) -> tuple[CallResolver, list[ast.expr]] | None:
        """The members of the union a local name or parameter is declared as, with the resolver that reads
        them: its own annotation, or the return annotation of the project function whose (awaited) result
        it holds (``db = await get_db(...)`` with ``-> Union[BaseDb, AsyncBaseDb]``)."""
        scope = self.names.scope(where.funcs[0])
        annotation = scope.annotations.get(name.id)
        owner: CallResolver = self
        if annotation is None:
            value = scope.values.get(name.id)
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, ast.Call) or _refers_to(value, name.id):
                return None
            made_by = self.function_called(value, where)
            if made_by is None or made_by[1].returns is None:
                return None
            owner, annotation = made_by[0], made_by[1].returns
        members = union_members(annotation, owner.names)
        return (owner, members) if len(members) > 1 else None

    def function_named(self, callee: ast.expr, where: Where) -> tuple[CallResolver, FunctionNode] | None:
        if isinstance(callee, ast.Name):
            name = callee.id
            for func in where.funcs:
                local = self.local_defs(func).get(name)
                if local is not None:
                    return self, local
                scope = self.names.scope(func)
                if name in scope.values or name in scope.params or name in scope.unknown:
                    if func is where.funcs[0] and name in scope.params and name not in scope.values:
                        # ``get_team(resource_id)`` where the caller passed ``Pool.get_team_name``.
                        return self.program.function(where.argument(name))
                    return None
            if name in self.names.bindings:
                return None
        elif not isinstance(callee, ast.Attribute):
            return None
        defined = self._defined_name(callee)
        if defined is not None and self.may_define(defined, cls=False):
            try:
                found = self.names.resolve_function(callee, self.names.scope(where.funcs[0]) if where.funcs else None)
            except (RecursionError, ValueError, OSError):
                return None
            if found is not None:
                names, func = found
                return self.program.resolver(names), func
        elif defined is None or not self.may_define(defined, cls=True):
            return None  # neither a project function, nor a method, nor a class
        cls = self.project_class_named(callee, where)
        if cls is not None:
            return self._method(cls, "__init__", "constructor")
        if isinstance(callee, ast.Attribute):
            return self._method_called(callee, where)
        return None

    # -- classes ------------------------------------------------------------
    def project_class_named(self, node: ast.expr, where: Where) -> ProjectClass | None:
        """The project class a name or attribute refers to (not a local variable of that name)."""
        if isinstance(node, ast.Name):
            for func in where.funcs:
                scope = self.names.scope(func)
                if node.id in scope.values or node.id in scope.params or node.id in scope.unknown:
                    return None
                if node.id in self.local_defs(func):
                    return None
        elif not isinstance(node, ast.Attribute):
            return None
        name = self._defined_name(node)
        if name is None or not self.may_define(name, cls=True):
            return None
        try:
            found = self.names.project_class(node)
        except (RecursionError, ValueError, OSError):
            return None
        return ProjectClass(*found) if found is not None else None

    def _method(self, cls: ProjectClass, name: str, how: str, *, skip_own: bool = False) -> tuple[CallResolver, FunctionNode] | None:
        found = find_method(cls, name, skip_own=skip_own)
        if found is None:
            return None
        owner, func = found
        self.program.methods[id(func)] = (func, how, method_kind(func, owner.names))
        return self.program.resolver(owner.names), func

    def _method_called(self, callee: ast.Attribute, where: Where) -> tuple[CallResolver, FunctionNode] | None:
        """``self.m()``, ``repo.m()``, ``cls.m()``, ``super().m()``: the method of a project class."""
        receiver = callee.value
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
            own = self.enclosing_class(where)
            return self._method(own, callee.attr, "super", skip_own=True) if own is not None else None
        owner = self.project_class_named(receiver, where)
        if owner is not None:
            # ``User.get_by_email(db, email)``: a classmethod or staticmethod called on the class.
            return self._method(owner, callee.attr, "class attribute")
        instance = self.program.instance(self.path(receiver, where))
        if instance is None:
            return None
        return self._method(instance.cls, callee.attr, "method")

    def enclosing_class(self, where: Where) -> ProjectClass | None:
        """The class whose method the innermost function is (or is written in)."""
        index = class_index(self.names)
        for func in where.funcs:
            cls = index.class_of(func)
            if cls is not None:
                return cls
        return None

    def receiver(self, func: FunctionNode) -> tuple[ProjectClass, str, MethodKind] | None:
        """(class, name of ``self``/``cls``, kind) when ``func`` is a method that has a receiver."""
        cls = class_index(self.names).class_of(func)
        if cls is None:
            return None
        kind = method_kind(func, self.names)
        positional = [*func.args.posonlyargs, *func.args.args]
        if kind == "static" or not positional:
            return None
        return cls, positional[0].arg, kind

    def instance_path(self, cls: ProjectClass, call: ast.Call | None, where: Where) -> str:
        """The path of a new instance of ``cls`` (``Repo(db)``), its constructor's arguments bound."""
        arguments: tuple[tuple[str, str], ...] = ()
        if call is not None:
            init = find_method(cls, "__init__")
            if init is not None:
                arguments = self.bind(call, where, init[1], skip=1)
            else:
                arguments = tuple(
                    sorted(
                        (k.arg, path)
                        for k in call.keywords
                        if k.arg is not None and (path := self.path(k.value, where)) is not None
                    )
                )
        return self.program.instance_token(Instance(cls, arguments))

    def attribute_path(self, instance: Instance, name: str, depth: int) -> str | None:
        """What ``obj.<name>`` holds for an object of a project class, when the class says."""
        key = (self.program.instance_token(instance), name)
        memo = self.program.attributes
        if key in memo:
            return memo[key]
        memo[key] = None  # an attribute defined through itself stays unknown
        given = instance.argument(name) if find_method(instance.cls, "__init__") is None else None
        found: list[str | None] = [given]
        for declaration in declarations(instance.cls, name):
            found.append(self._declared_path(instance, declaration, depth))
        known = [path for path in found if path is not None]
        # A concrete class assigned in ``__init__`` says more than a Protocol the attribute is annotated with.
        concrete = [p for p in known if not self._is_interface(p)]
        result = next((p for p in concrete if _informative(p)), next((p for p in known if _informative(p)), known[0] if known else None))
        memo[key] = result
        return result

    def _is_interface(self, path: str) -> bool:
        instance = self.program.instance(path)
        return instance is not None and is_interface(instance.cls)

    def _declared_path(self, instance: Instance, declaration: Declaration, depth: int) -> str | None:
        resolver = self.program.resolver(declaration.owner.names)
        method = declaration.method
        if declaration.is_property and method is not None:
            return resolver.returned(method)
        candidates: list[str | None] = []
        if declaration.annotation is not None:
            candidates.append(resolver.annotation(declaration.annotation, depth))
        if declaration.value is not None:
            if method is None:
                value = declaration.value
                candidates.append(resolver.dependency(value, MODULE_LEVEL, depth) or resolver.path(value, MODULE_LEVEL, depth))
            else:
                receiver = resolver.receiver(method)
                bound = dict(instance.arguments if method.name == "__init__" else ())
                if receiver is not None:
                    bound[receiver[1]] = self.program.instance_token(instance)
                where = resolver.where(method, tuple(sorted(bound.items())))
                candidates.append(resolver.path(declaration.value, where, depth))
        known = [path for path in candidates if path is not None]
        return next((p for p in known if _informative(p)), known[0] if known else None)

    def bind(
        self, call: ast.Call, where: Where, target: FunctionNode, skip: int | None = None, callee: CallResolver | None = None
    ) -> tuple[tuple[str, str], ...]:
        """The paths of the arguments ``call`` passes to ``target``'s parameters, by parameter name.

        A method called on an object binds its first parameter to the object
        (``repo.get(1)``: ``self`` is ``repo``, ``1`` goes to the next one). ``callee`` is the resolver
        of ``target``'s module, when known: with it, a constant ``target`` only hands on to a helper
        that tests it is bound too (``handed_constants``).
        """
        # Worked out once per call, scope and callee: the event-loop rule asks it of the same call
        # for each family of blocking work, and again where a search through helpers meets it.
        key = (id(call), where, id(target), skip)
        known = self._bound.get(key)
        if known is None:
            cuts = self.program.cuts
            known = self._bind(call, where, target, skip, callee)
            # An argument whose value was cut short (a return followed too deep, or met again while its
            # own answer is worked out) is not kept: asked again from less deep, it has its full answer.
            if self.program.cuts == cuts:
                self._bound[key] = known
        return known

    def _bind(
        self, call: ast.Call, where: Where, target: FunctionNode, skip: int | None, callee: CallResolver | None
    ) -> tuple[tuple[str, str], ...]:
        args = target.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        by_keyword = {a.arg for a in (*args.args, *args.kwonlyargs)}
        bound: dict[str, str] = {}
        if skip is None:
            skip = 0
            method = self.program.methods.get(id(target))
            if method is not None and method[1] == "class attribute" and method[2] != "class":
                method = None  # a staticmethod, or a plain function read off the class: no receiver
            if method is not None and method[2] != "static" and positional:
                skip = 1
                receiver = self._receiver_path(call, where, method[1])
                if receiver is not None:
                    bound[positional[0]] = receiver
        positional = positional[skip:]
        # A string literal is bound only where the callee tests it against a constant table
        # (``literal_branches``): the branch it cannot take is then left out of the search.
        literal_params = guarded_parameters(target)
        constant_params = constant_parameters(target)
        if callee is not None and _settles_more(call, target, positional, constant_params):
            constant_params |= callee.handed_constants(target)
        for index, argument in enumerate(call.args):
            if isinstance(argument, ast.Starred) or index >= len(positional):
                break
            name = positional[index]
            path = self._argument_path(argument, where, name in literal_params, name in constant_params)
            if path is not None:
                bound[name] = path
        for keyword in call.keywords:
            if keyword.arg in by_keyword:
                path = self._argument_path(keyword.value, where, keyword.arg in literal_params, keyword.arg in constant_params)
                if path is not None:
                    bound[keyword.arg] = path
        omitted = omitted_constants(target, constant_params)
        if omitted and not any(isinstance(a, ast.Starred) for a in call.args) and all(k.arg is not None for k in call.keywords):
            # ``get_agent_by_id(id, agents)``: the ``db`` left out is the ``None`` its ``if db:`` is not taken for.
            passed = set(positional[: len(call.args)]) | {k.arg for k in call.keywords}
            for name, path in omitted.items():
                if name not in passed and name not in bound:
                    bound[name] = path
        return tuple(sorted(bound.items()))

    def handed_constants(self, func: FunctionNode) -> frozenset[str]:
        """The parameters of ``func`` (a function of this module) it hands on, as they are, to a project
        helper whose ``if`` tests them: ``get_default_model(provider)`` leaves ``user_id=None`` out and
        passes it to ``list_installed(provider, user_id)``, which returns at ``if not user_id:``. One
        step deep, and only where the helper tests it: binding every parameter handed on split the
        graph's answers by binding for nothing."""
        key = id(func)
        known = self._handed.get(key)
        if known is not None:
            return known
        self._handed[key] = frozenset()  # met again while worked out: nothing
        found: set[str] = set()
        where = self.where(func)
        for call, param in handed_arguments(func):
            if param in found:
                continue
            target = self.function_called(call, where)
            if target is None:
                continue
            tested = constant_parameters(target[1])
            if any(
                name in tested and isinstance(argument, ast.Name) and argument.id == param
                for name, argument in bound_arguments(call, target[1])
            ):
                found.add(param)
        known = self._handed[key] = frozenset(found)
        return known

    def _argument_path(self, argument: ast.expr, where: Where, literal: bool, constant: bool) -> str | None:
        if literal and isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return literal_path(argument.value)
        if isinstance(argument, ast.Constant) and (argument.value is None or constant and isinstance(argument.value, bool)):
            # ``record(event, None)``: the same ``None`` as leaving ``db`` out; ``load(name, use_cache=False)``
            # settles its ``if use_cache:``.
            return constant_path(argument.value)
        handed = self._handed_function(argument, where)
        if handed is not None:
            return handed
        return self.path(argument, where)

    def _handed_function(self, argument: ast.expr, where: Where) -> str | None:
        """A project function passed by name (``Pool.get_team_name``, ``load_user``) as its token, so
        that the callee's call of the parameter runs it. A class is not one: it stays the class."""
        name = argument.attr if isinstance(argument, ast.Attribute) else argument.id if isinstance(argument, ast.Name) else None
        if name is None or not self.may_define(name, cls=False):
            return None
        if isinstance(argument, ast.Name) and where.funcs:
            scope = self.names.scope(where.funcs[0])
            if name in scope.params and name not in scope.values:
                # Handed on again: the function the caller was given.
                given = where.argument(name)
                return given if self.program.function(given) is not None else None
        if self.project_class_named(argument, where) is not None:
            return None
        target = self.function_named(argument, where)
        return self.program.function_token(*target) if target is not None else None

    def _receiver_path(self, call: ast.Call, where: Where, how: str) -> str | None:
        """What a called method's ``self`` is: the object before the dot, or the new instance."""
        if how == "constructor":
            cls = self.project_class_named(call.func, where)
            return self.program.instance_token(Instance(cls)) if cls is not None else None
        if how == "super":
            own = self.enclosing_class(where)
            outer = self.receiver(where.funcs[0]) if where.funcs else None
            if outer is not None:
                given = where.argument(outer[1])
                if given is not None:
                    return given
            return self.program.instance_token(Instance(own)) if own is not None else None
        if how == "class attribute":
            cls = self.project_class_named(call.func.value, where) if isinstance(call.func, ast.Attribute) else None
            return self.program.instance_token(Instance(cls, is_class=True)) if cls is not None else None
        if isinstance(call.func, ast.Attribute):
            return self.path(call.func.value, where)
        return None

    # -- value paths ----------------------------------------------------------
    def path(self, node: ast.expr, where: Where, depth: int = 0) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        depth += 1
        if isinstance(node, ast.Await):
            if isinstance(node.value, ast.Call):
                target = self.function_called(node.value, where)
                if target is not None and isinstance(target[1], ast.AsyncFunctionDef):
                    return target[0].returned(target[1])
                looked_up = self._looked_up_instance(node.value, where, depth)
                if looked_up is not None:
                    return looked_up
            inner = self.path(node.value, where, depth)
            return f"await {inner}" if inner else None
        if isinstance(node, ast.Call):
            return self._call_path(node, where, depth)
        if isinstance(node, ast.Attribute):
            if node.attr == "delay" and self._rq_job(node.value, where):
                return RQ_ENQUEUE  # ``export_job.delay(...)``: rq puts the job on its Redis queue
            if self._is_imported_name(node, where):
                return self._imported_path(node, depth)
            base = self.path(node.value, where, depth)
            instance = self.program.instance(base)
            if instance is not None:
                return self.attribute_path(instance, node.attr, depth)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript):
            item = None if isinstance(node.slice, ast.Slice) else self._item_path(node.value, where, depth)
            if item is not None:
                return item
            base = self.path(node.value, where, depth)
            return f"{base}.[]" if base else None
        if isinstance(node, ast.BinOp):
            return self._binop_path(node, where, depth)
        if isinstance(node, ast.Name):
            return self._name_path(node, where, depth)
        if isinstance(node, (ast.BoolOp, ast.IfExp)):
            # ``client or requests.Session()``, ``a if flag else b``: what either side says.
            options = node.values if isinstance(node, ast.BoolOp) else [node.body, node.orelse]
            known = [p for p in (self.path(option, where, depth) for option in options) if p is not None]
            return next((p for p in known if _informative(p)), None)
        return None

    def _rq_job(self, node: ast.expr, where: Where) -> bool:
        """Whether ``node`` names a project function decorated with rq's ``@job``."""
        found = self.function_named(node, where)
        if found is None:
            return False
        names = found[0].names
        return any(
            names.qualify(decorator.func if isinstance(decorator, ast.Call) else decorator) in RQ_JOB_DECORATORS
            for decorator in found[1].decorator_list
        )

    def _item_path(self, container: ast.expr, where: Where, depth: int) -> str | None:
        """An item of a container whose annotation says what it holds: ``state.models[name]`` with
        ``models: Dict[str, EmbeddingsModel]`` in the module ``state`` is an ``EmbeddingsModel``. The
        annotation of a local, a parameter, a module global, or a global of an imported project module."""
        found: tuple[CallResolver, ast.expr] | None = None
        if isinstance(container, ast.Name):
            for func in where.funcs:
                scope = self.names.scope(func)
                if container.id in scope.annotations:
                    found = (self, scope.annotations[container.id])
                    break
                if container.id in scope.values or container.id in scope.params or container.id in scope.unknown:
                    return None
            else:
                if container.id not in self.names.imports:
                    annotation = self.names.annotations.get(container.id)
                    found = (self, annotation) if annotation is not None else None
                else:
                    found = self._imported_annotation(container)
        elif isinstance(container, ast.Attribute) and self._is_imported_name(container, where):
            found = self._imported_annotation(container)
        if found is None:
            return None
        resolver, annotation = found
        item = item_annotation(annotation, resolver.names)
        return resolver.annotation(item, depth + 1) if item is not None else None

    def _imported_annotation(self, node: ast.Name | ast.Attribute) -> tuple[CallResolver, ast.expr] | None:
        """The annotation of a global of another project module, imported by name (``from .state import
        models``) or read off the module (``state.models``), with the resolver of that module."""
        try:
            symbol = self.names.project_symbol(node)
        except (RecursionError, ValueError, OSError):
            return None
        if symbol is None:
            return None
        annotation = symbol.module.names.annotations.get(symbol.name)
        return (self.program.resolver(symbol.module.names), annotation) if annotation is not None else None

    def _imported_path(self, node: ast.Name | ast.Attribute, depth: int) -> str | None:
        """An imported name: what another project module binds it to, read by that module's resolver.

        ``from .db import SessionLocal`` is followed into db.py, so that
        ``sessionmaker(class_=AsyncSession)`` there is seen for what it is.
        Library names keep their qualified name.
        """
        names = self.names
        dotted = names.qualify(node)
        if dotted is not None and names.resolver is not None:
            try:
                symbol = names.resolver.symbol(dotted)
            except (RecursionError, ValueError, OSError):
                symbol = None
            if symbol is not None and isinstance(symbol.node, ast.expr):
                return self.program.resolver(symbol.module.names).path(symbol.node, MODULE_LEVEL, depth + 1)
        return names.value_path(node, None)

    def _is_imported_name(self, node: ast.expr, where: Where) -> bool:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not (isinstance(root, ast.Name) and root.id in self.names.imports):
            return False
        for func in where.funcs:
            scope = self.names.scope(func)
            if root.id in scope.values or root.id in scope.params or root.id in scope.unknown:
                return False
        return True

    def _call_path(self, node: ast.Call, where: Where, depth: int) -> str | None:
        cls = self.project_class_named(node.func, where)
        if cls is not None:
            return self.instance_path(cls, node, where)
        target = self.function_called(node, where)
        if target is not None:
            resolver, func = target
            if isinstance(func, ast.FunctionDef) and not is_generator(func):
                return resolver.returned(func)
            return None
        callee = self.path(node.func, where, depth)
        if callee is None:
            return None
        if callee in TYPE_CASTS and node.args:
            return self.annotation(node.args[0], depth + 1)  # ``cast(BaseDb, db)`` is a ``BaseDb``
        looked_up = looked_up_types(callee, node)
        if len(looked_up) == 1:
            return self.annotation(looked_up[0], depth)  # ``services.get(Repo)`` is a ``Repo``
        instance = self.program.instance(callee)
        if instance is not None:
            # ``cls(...)`` in a classmethod builds an instance; calling an instance runs ``__call__``.
            return self.program.instance_token(Instance(instance.cls)) if instance.is_class else None
        if callee in ASYNC_CLASS_ARGUMENT:
            callee = self._sessionmaker_path(node, callee, where, depth)
            if callee is None:
                return None
        return f"{callee}()"

    def _looked_up_instance(self, call: ast.Call, where: Where, depth: int) -> str | None:
        """``await services.aget(Repo)``: the instance of the one type a service look-up names."""
        looked_up = looked_up_types(self.path(call.func, where, depth), call)
        return self.annotation(looked_up[0], depth) if len(looked_up) == 1 else None

    def _sessionmaker_path(self, node: ast.Call, callee: str, where: Where, depth: int) -> str | None:
        """``sessionmaker(class_=AsyncSession)`` makes async sessions; an unknown class is unknown."""
        keyword, position = ASYNC_CLASS_ARGUMENT[callee]
        argument: ast.expr | None = None
        if len(node.args) > position and not any(isinstance(a, ast.Starred) for a in node.args[: position + 1]):
            argument = node.args[position]
        for item in node.keywords:
            if item.arg == keyword:
                argument = item.value
            elif item.arg is None:
                return None  # **kwargs may carry class_
        if argument is None:
            return callee
        named = self.path(argument, where, depth)
        if named in SYNC_SESSION_CLASSES:
            return callee
        if named is not None and named.endswith("AsyncSession"):
            return ASYNC_SESSIONMAKER
        return None

    def _binop_path(self, node: ast.BinOp, where: Where, depth: int) -> str | None:
        if isinstance(node.op, ast.Div):
            left = self.path(node.left, where, depth)
            return left if kind_of(left) == "path" else None
        if isinstance(node.op, ast.BitOr):
            sides = (self.path(node.left, where, depth), self.path(node.right, where, depth))
            if any(side is not None and is_langchain(side) for side in sides):
                return LANGCHAIN_SEQUENCE
        return None

    def _name_path(self, node: ast.Name, where: Where, depth: int) -> str | None:
        name = node.id
        for index, func in enumerate(where.funcs):
            if name in self.local_defs(func):
                return None
            scope = self.names.scope(func)
            if name in scope.unknown:
                return None
            if name in scope.values:
                value = scope.values[name]
                # ``x = x.strip()`` is evaluated in the enclosing scopes.
                found = self.path(value, where.outer(index + 1 if _refers_to(value, name) else index), depth)
                if found is None and name in scope.annotations:
                    # ``db: BaseDb = os_db`` (narrowed from a union): what the code declares it holds.
                    return self.annotation(scope.annotations[name], depth)
                return found
            if name in scope.params:
                return self._param_path(name, where.outer(index), depth)
            if name in scope.annotations:
                return self.annotation(scope.annotations[name], depth)
        names = self.names
        if name in names.imports:
            return self._imported_path(node, depth)
        if name in names.bindings:
            return self.path(names.bindings[name], MODULE_LEVEL, depth)
        if name in names.annotations:
            return self.annotation(names.annotations[name], depth)
        return names.value_path(node, None)

    def _param_path(self, name: str, where: Where, depth: int) -> str | None:
        """A parameter: its annotation, what its ``Depends`` injects, or what the caller passed.

        The first of these that the tables know wins (``db: Any`` says less
        than the Session a caller passes); otherwise the first one found.
        """
        receiver = self.receiver(where.funcs[0])
        if receiver is not None and receiver[1] == name:
            given = where.argument(name)
            if given is not None:
                return given
            return self.program.instance_token(Instance(receiver[0], is_class=receiver[2] == "class"))
        given = where.argument(name)
        if given is not None and is_constant_path(given):
            return given  # ``None`` (or ``True``/``False``) the caller settled: what it hands on is that, whatever the annotation
        scope = self.names.scope(where.funcs[0])
        annotation = scope.annotations.get(name)
        default = scope.defaults.get(name)
        found = [
            self.annotation(annotation, depth) if annotation is not None else None,
            self.dependency(default, where.outer(1), depth) if default is not None else None,
            where.argument(name),
        ]
        known = [path for path in found if path is not None]
        for path in known:
            if _informative(path):
                return path
        return known[0] if known else None

    def annotation(self, annotation: ast.expr, depth: int = 0) -> str | None:
        """An instance of the annotated type, following ``SessionDep = Annotated[Session, ...]`` aliases."""
        if depth > _MAX_DEPTH:
            return None
        names = self.names
        inner = unwrap_annotation(annotation, names)
        if isinstance(inner, ast.Subscript) and names.qualify(inner.value) in CLASS_WRAPPERS:
            return self._class_path(inner.slice)  # ``backend_class: Type[BaseOAuth2]``: the class itself
        # ``Repo[str]``: a generic project class with its parameters is an object of that class.
        named = inner.value if isinstance(inner, ast.Subscript) else inner
        if isinstance(named, (ast.Name, ast.Attribute)):
            cls = self.project_class_named(named, MODULE_LEVEL)
            if cls is not None:
                return self.program.instance_token(Instance(cls))
        if isinstance(annotation, ast.Name) and annotation.id not in names.classes:
            bound = names.bindings.get(annotation.id)
            if bound is not None and annotation.id not in names.imports:
                return self.annotation(bound, depth + 1) if isinstance(bound, ast.Subscript) else None
            dotted = names.imports.get(annotation.id)
            if dotted is not None and names.resolver is not None:
                try:
                    symbol = names.resolver.symbol(dotted)
                except (RecursionError, ValueError, OSError):
                    symbol = None
                if symbol is not None and isinstance(symbol.node, ast.Subscript):
                    return self.program.resolver(symbol.module.names).annotation(symbol.node, depth + 1)
        try:
            return names.annotation_path(annotation)
        except RecursionError:
            return None

    def _class_path(self, named: ast.expr) -> str | None:
        """The path of a class given as a value (``Type[X]``): calling it makes an ``X``."""
        if not isinstance(named, (ast.Name, ast.Attribute)):
            return None
        cls = self.project_class_named(named, MODULE_LEVEL)
        if cls is not None:
            return self.program.instance_token(Instance(cls, is_class=True))
        return self.names.qualify(named)

    def dependency(self, default: ast.expr, where: Where, depth: int = 0) -> str | None:
        """What ``Depends(provider)`` injects, read from the provider's return/yield."""
        if not isinstance(default, ast.Call) or self.names.qualify(default.func) not in DEPENDS:
            return None
        provider = default.args[0] if default.args else None
        for keyword in default.keywords:
            if keyword.arg == "dependency":
                provider = keyword.value
        if provider is None or isinstance(provider, ast.Starred):
            return None
        cls = self.project_class_named(provider, where)
        if cls is not None:
            return self.program.instance_token(Instance(cls))  # FastAPI builds it from its own Depends
        target = self.function_named(provider, where)
        if target is None:
            return None
        resolver, func = target
        return resolver.returned(func, include_yield=True)

    def _remote_reference(self, annotation: ast.expr) -> bool:
        """``xo.ActorRefType[SupervisorActor]`` (also inside ``Optional[...]``): a typed actor reference."""
        for node in ast.walk(annotation):
            if isinstance(node, ast.Subscript) and self.names.qualify(node.value) in REMOTE_REFERENCES:
                return True
        return False

    def returned(self, func: FunctionNode, include_yield: bool = False) -> str | None:
        """What a function returns (or yields, for dependency generators), when every return agrees."""
        key = id(func) * 2 + include_yield
        budget = _MAX_DEPTH - self.program.returning
        known = self._returned.get(key)
        if known is not None and (known.complete or known.budget >= budget):
            return known.value
        if key in self._returning or budget <= 0:
            self.program.cuts += 1
            return None  # recursion, or a chain of functions too long to follow
        self._returning.add(key)
        self.program.returning += 1
        cuts = self.program.cuts
        try:
            where = self.where(func)
            paths: set[str | None] = set()
            values = (ast.Return, ast.Yield) if include_yield else (ast.Return,)
            for node in body_walk(func):
                if isinstance(node, values) and node.value is not None and not is_none(node.value):
                    paths.add(self.path(node.value, where))
            result: str | None = None
            if paths:
                result = agreed_path(paths)
            if func.returns is not None and (not paths or self._remote_reference(func.returns)):
                # ``-> xo.ActorRefType[SupervisorActor]`` over the ``xo.actor_ref(...)`` it returns: the
                # declared actor class is what a method call on the reference runs.
                result = self.annotation(func.returns)
            elif func.returns is not None and not include_yield and (result is None or not _informative(result)):
                # ``-> PartitionMapper`` over ``return self._mappers[name]`` or a class looked up in a registry:
                # what the returns do not tell, the declared project class does (its subclasses' methods are
                # then followed as an interface's). A library type declared is not taken over a path.
                declared = self.annotation(func.returns)
                if declared is not None and declared.startswith(INSTANCE_PREFIX):
                    result = declared
        finally:
            self._returning.discard(key)
            self.program.returning -= 1
        # Results cut short are kept with the depth they had: a caller with no more depth left may reuse them.
        self._returned[key] = _Memo(func, result, self.program.cuts == cuts, budget)
        return result

    def declared_path(self, node: ast.expr, where: Where, depth: int = 0) -> str | None:
        """``path``, except that a project function called on the way stands for the class its return
        annotation declares: ``get_settings_service().settings`` with ``-> SettingsService`` over a
        ``return get_service(SETTINGS)`` that ``path`` reads as the base ``Service``. For a question
        about one value (a setting's default); ``path`` itself keeps what the returns give, which the
        call graph follows everywhere (taking the declared class there cost 16% more instructions on
        the largest project and found nothing more)."""
        if depth < _MAX_DEPTH:
            if isinstance(node, ast.Call):
                target = self.function_called(node, where)
                if target is not None and target[1].returns is not None:
                    declared = target[0].annotation(target[1].returns)
                    if self.program.instance(declared) is not None:
                        return declared
            elif isinstance(node, ast.Attribute):
                inner = self.program.instance(self.declared_path(node.value, where, depth + 1))
                if inner is not None and not inner.is_class:
                    found = self.attribute_path(inner, node.attr, depth)
                    if found is not None:
                        return found
            elif isinstance(node, ast.Name) and where.funcs:
                scope = self.names.scope(where.funcs[0])
                value = scope.values.get(node.id)
                if value is not None and node.id not in scope.params:
                    return self.declared_path(value, where, depth + 1)
        return self.path(node, where)

    # -- what a call is -------------------------------------------------------
    def callee_path(self, call: ast.Call, where: Where) -> str | None:
        """The path of the call itself (``...Session().query()``), or None for project functions."""
        return self.what_runs(call, where)[1]

    def what_runs(self, call: ast.Call, where: Where) -> tuple[tuple[CallResolver, FunctionNode] | None, str | None]:
        """(the project function the call runs, or None; the path of the call when it runs none).

        ``function_called`` and ``callee_path`` in one: a rule that asks both of a call (is it a
        helper to follow, else is it a blocking or LLM call) resolves the callee once.
        """
        if isinstance(call, ImplicitCall):
            # Only a project class's method can run here; a library's item look-up is no call to name.
            method = call.func
            if not isinstance(method, ast.Attribute):
                return None, None
            instance = self.program.instance(self.path(method.value, where))
            if instance is None or instance.is_class:
                return None, None  # ``cls[item]`` runs ``__class_getitem__``, not the instances' ``__getitem__``
            return self._method(instance.cls, method.attr, "method"), None
        target = self.function_called(call, where)
        if target is not None:
            return target, None
        callee = self.path(call.func, where)
        # ``await services.aget(JWTGenerator)`` runs the factory registered for the type. A look-up of
        # several types runs each one's; one call is followed into one function, so a synchronous
        # factory (it runs in the awaiting task, blocking it) is the one named, whatever the order.
        first: tuple[CallResolver, FunctionNode] | None = None
        for looked_up in looked_up_types(callee, call):
            factory = self._registered_factory(looked_up, where)
            if factory is None:
                continue
            if isinstance(factory[1], ast.FunctionDef):
                return factory, None
            first = first or factory
        if first is not None:
            return first, None
        return None, f"{callee}()" if callee else None

    def runs_factory(self, call: ast.Call, where: Where) -> bool:
        """Whether an awaited call is a service look-up that runs a project factory (``await
        services.aget(JWTGenerator)``): a sync factory runs in the awaiting task."""
        return may_look_up(call) and isinstance(self.what_runs(call, where)[0], tuple)

    def _registered_factory(self, looked_up: ast.expr, where: Where) -> tuple[CallResolver, FunctionNode] | None:
        scope = self.names.scope(where.funcs[0]) if where.funcs else None
        wanted = type_key(self.names, looked_up, scope)
        if wanted is None:
            return None
        found = self.program.registered_factory(self.names, wanted)
        return (self.program.resolver(found[0]), found[1]) if found is not None else None


K = TypeVar("K")


class _Tokens(Generic[K, T]):
    """Values a value path names by a token (``<obj:3>``, ``<fn:0>``): one token per key, in the order met."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._values: list[T] = []
        self._tokens: dict[K, str] = {}

    def token(self, key: K, value: T) -> str:
        token = self._tokens.get(key)
        if token is None:
            self._values.append(value)
            token = self._tokens[key] = f"{self.prefix}{len(self._values) - 1}>"
        return token

    def named(self, path: str | None) -> T | None:
        """The value ``path`` is the token of, or None for any other path."""
        if path is None or not path.startswith(self.prefix) or not path.endswith(">"):
            return None
        try:
            return self._values[int(path[len(self.prefix) : -1])]
        except (ValueError, IndexError):
            return None


class Program:
    """Per-file cache of resolvers and of what each function reaches."""

    def __init__(self, ctx: Context) -> None:
        # A weak reference: the context holds its program, and a reference cycle would leave each
        # linted file's whole analysis (its tree, names and memos, and the other modules' names it
        # read) to the cyclic garbage collector instead of freeing it when the file is done.
        self.ctx: Context = cast("Context", weakref.proxy(ctx))
        self._resolvers: dict[int, tuple[Names, CallResolver]] = {}
        self.returning = 0
        """How many ``CallResolver.returned`` calls are in progress (bounds following return values)."""
        self.cuts = 0
        """How many times following return values was cut short (recursion or depth)."""
        self._reach: dict[tuple[str, int, tuple[tuple[str, str], ...]], _ReachMemo] = {}
        self._instances: _Tokens[tuple[int, tuple[tuple[str, str], ...], bool], Instance] = _Tokens(INSTANCE_PREFIX)
        self._functions: _Tokens[int, tuple[CallResolver, FunctionNode]] = _Tokens(FUNCTION_PREFIX)
        self.methods: dict[int, tuple[FunctionNode, str, MethodKind]] = {}
        """Methods calls were resolved to: (the def, how it was reached, its kind), by id of the def."""
        self.attributes: dict[tuple[str, str], str | None] = {}
        """What ``<obj:N>.name`` holds, once worked out."""
        self._runs: dict[tuple[int, int, Where], tuple[tuple[CallResolver, FunctionNode] | None, str | None]] = {}
        self._factories: dict[TypeKey, tuple[Names, FunctionNode] | None] = {}
        self._implementations: dict[int, list[tuple[CallResolver, FunctionNode, ProjectClass]]] = {}

    def what_runs(
        self, resolver: CallResolver, call: ast.Call, where: Where
    ) -> tuple[tuple[CallResolver, FunctionNode] | None, str | None]:
        """``resolver.what_runs(call, where)``, worked out once per call and scope: a rule asks it of a
        call for each kind of call it looks for, then to decide whether to follow the call."""
        key = (id(resolver), id(call), where)
        known = self._runs.get(key)
        if known is None:
            known = self._runs[key] = resolver.what_runs(call, where)
        return known

    def registered_factory(self, names: Names, wanted: TypeKey) -> tuple[Names, FunctionNode] | None:
        """``service_locators.registered_factory``, read once per type for the linted file."""
        if wanted not in self._factories:
            self._factories[wanted] = registered_factory(names, wanted)
        return self._factories[wanted]

    def instance_token(self, instance: Instance) -> str:
        """The path naming ``instance``; the same class with the same arguments gets the same one."""
        return self._instances.token((id(instance.cls.node), instance.arguments, instance.is_class), instance)

    def function_token(self, resolver: CallResolver, func: FunctionNode) -> str:
        """The path naming a project function passed as a value (``<fn:0>``)."""
        return self._functions.token(id(func), (resolver, func))

    def function(self, path: str | None) -> tuple[CallResolver, FunctionNode] | None:
        """The project function a ``function_token`` path names, or None."""
        return self._functions.named(path)

    def instance(self, path: str | None) -> Instance | None:
        return self._instances.named(path)

    def resolver(self, names: Names) -> CallResolver:
        key = id(names)
        if key not in self._resolvers:
            self._resolvers[key] = (names, CallResolver(self, names))
        return self._resolvers[key][1]

    @property
    def main(self) -> CallResolver:
        return self.resolver(self.ctx.names)

    def reach(
        self,
        key: str,
        resolver: CallResolver,
        func: FunctionNode,
        arguments: tuple[tuple[str, str], ...],
        direct: Direct,
        follow: Callable[[CallResolver, FunctionNode], bool],
        calls: Callable[[CallResolver, FunctionNode], Iterable[ast.Call]],
    ) -> Reach | None:
        """The first call ``func`` makes, directly or through the project functions it calls, that ``direct`` names.

        ``arguments`` are what the caller passed; ``follow`` says which callees
        run as part of the call (sync helpers for blocking, any helper for LLM
        work); ``key`` separates the questions.
        """
        question = _Question(key, direct, follow, calls)
        return self._reach_memo(question, resolver, func, arguments, frozenset(), _MAX_DEPTH).value

    def implementations(self, resolver: CallResolver, func: FunctionNode) -> list[tuple[CallResolver, FunctionNode, ProjectClass]]:
        """For a method that only declares itself (``@abstractmethod``, a body of ``...``), the defs
        that override it in the project's subclasses of its class, each with the class defining it:
        what a call declared on the interface runs is one of them (``cast(BaseDb, db).get_session()``
        runs ``PostgresDb.get_session`` or ``SqliteDb.get_session``). Empty for any other function,
        and when the subclasses cannot all be found (unknown stays silent)."""
        key = id(func)
        known = self._implementations.get(key)
        if known is not None:
            return known
        found: list[tuple[CallResolver, FunctionNode, ProjectClass]] = []
        cls = class_index(resolver.names).class_of(func)
        below = subclasses(cls) if cls is not None and is_stub(func, resolver.names) else None
        seen = {id(func)}
        for sub in below or ():
            method = find_method(sub, func.name)
            if method is None or id(method[1]) in seen or is_stub(method[1], method[0].names):
                continue
            seen.add(id(method[1]))
            found.append((self.resolver(method[0].names), method[1], method[0]))
            if len(found) >= _MAX_IMPLEMENTATIONS:
                break
        self._implementations[key] = found
        return found

    def label(self, resolver: CallResolver, func: FunctionNode) -> str:
        """A function's name in a call chain; helpers of other modules carry their module (``crud.get_user``)."""
        if resolver is self.main:
            return func.name
        project = resolver.names.resolver
        if project is None:
            return func.name
        module = project.path.parent.name if project.path.stem == "__init__" else project.path.stem
        return f"{module}.{func.name}"

    def _reach_memo(
        self,
        question: _Question,
        resolver: CallResolver,
        func: FunctionNode,
        arguments: tuple[tuple[str, str], ...],
        visiting: frozenset[int],
        budget: int,
    ) -> _ReachMemo:
        """What ``func`` reaches (``value``), and whether the search was complete (no cycle or depth
        cut it short) or even exact (see ``_ReachMemo``)."""
        memo_key = (question.key, id(func), arguments)
        known = self._reach.get(memo_key)
        if known is not None and (known.complete or known.budget >= budget):
            return known
        # Another module's helper, searched whole for another file of this run, has the same answer
        # here: its calls and what they run do not depend on the file being linted. Only exact
        # answers are shared (nothing cut them short, so the callers' path did not shape them), and
        # only ones that never went through the linted module (whose functions a chain names bare).
        main = resolver is self.main
        shared_key = (question.key, arguments, self.ctx.settings)
        shareable = not main and not any(INSTANCE_PREFIX in value or FUNCTION_PREFIX in value for _, value in arguments)
        if shareable:
            shared = _SHARED_REACH.get(func, {}).get(shared_key)
            if shared is not None:
                memo = self._reach[memo_key] = _ReachMemo(func, shared[0], True, budget, exact=True)
                return memo
        if budget <= 0:
            return _ReachMemo(func, None, False, budget, exact=False, local=main)
        visiting = visiting | {id(func)}
        where = resolver.where(func, arguments)
        found: Reach | None = None
        complete = exact = True
        local = main
        for implementer, implementation, owner in self.implementations(resolver, func):
            # An interface's method: one of its implementations runs, with ``self`` an object of its
            # class. Each is searched: the shortest chain says most plainly what blocks.
            if id(implementation) in visiting:
                complete = exact = False
                continue
            rebound = _rebind_receiver(arguments, resolver.receiver(func), implementer.receiver(implementation), self.instance_token(Instance(owner)))
            inner = self._reach_memo(question, implementer, implementation, rebound, visiting, budget - 1)
            complete = complete and inner.complete
            exact = exact and inner.exact
            local = local or inner.local
            if inner.value is not None and (found is None or len(inner.value.chain) < len(found.chain)):
                chain = (f"{owner.name}.{implementation.name}", *inner.value.chain[1:])
                found = Reach(chain, inner.value.what, inner.value.filename, inner.value.line)
        skipped = skipped_calls(func, resolver.names, arguments) if found is None else frozenset()
        for call in question.calls(resolver, func) if found is None else ():
            if skipped and site_id(call) in skipped:
                continue  # a branch the literal its caller passed cannot take
            what = question.direct(resolver, call, where)
            if what is not None:
                module = resolver.names.resolver
                found = Reach((self.label(resolver, func),), what, module.filename if module else None, call.lineno)
                break
            target = self.what_runs(resolver, call, where)[0]  # the rules' ``direct`` asked it already
            if target is None or not question.follow(target[0], target[1]):
                continue
            if handed_on(target[1], call, func):
                continue  # a generator handed on (to a ``StreamingResponse``, a caller): its body runs there
            if id(target[1]) in visiting:
                complete = exact = False
                continue
            bound = resolver.bind(call, where, target[1], callee=target[0])
            inner = self._reach_memo(question, target[0], target[1], bound, visiting, budget - 1)
            complete = complete and inner.complete
            exact = exact and inner.exact
            local = local or inner.local
            if inner.value is not None:
                found = Reach((self.label(resolver, func), *inner.value.chain), inner.value.what, inner.value.filename, inner.value.line)
                break
        memo = _ReachMemo(func, found, complete or found is not None, budget, exact=exact, local=local)
        self._reach[memo_key] = memo
        if shareable and exact and not local:
            # The answer alone: a value holding the node would keep its weak key alive for good.
            _SHARED_REACH.setdefault(func, {})[shared_key] = (found,)
        return memo


@dataclass(frozen=True)
class Reach:
    chain: tuple[str, ...]
    """Function names from the helper the caller calls down to the one making the call."""
    what: str
    """The call found at the end: ``Session.query``."""
    filename: str | None = None
    """The file of that call (None for a module read from memory), and its line."""
    line: int = 0

    @property
    def place(self) -> str:
        """Where the call at the end is, for a message: `` (at app/crud.py:12)``, or nothing when unknown.

        Relative to the working directory (flake8 prints its paths so) when the file is below it.
        """
        if self.filename is None or not self.line:
            return ""
        return f" (at {shown_path(self.filename)}:{self.line})"


def shown_path(filename: str) -> str:
    """``filename`` as a message shows it: relative to the working directory (flake8 prints its paths
    so) when the file is below it, else as given."""
    try:
        shown = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if shown.startswith("..") else shown


def _rebind_receiver(
    arguments: tuple[tuple[str, str], ...],
    declared: tuple[ProjectClass, str, MethodKind] | None,
    implemented: tuple[ProjectClass, str, MethodKind] | None,
    instance: str,
) -> tuple[tuple[str, str], ...]:
    """The arguments a call of an interface's method passed, handed to an implementation: its
    receiver is an object of the implementing class, under the implementation's own name for it."""
    bound = dict(arguments)
    if declared is not None:
        bound.pop(declared[1], None)
    if implemented is not None and implemented[2] == "instance":
        bound[implemented[1]] = instance
    return tuple(sorted(bound.items()))


def _settles_more(call: ast.Call, target: FunctionNode, positional: list[str], tested: frozenset[str]) -> bool:
    """Whether ``call`` passes a ``None``/``True``/``False`` to, or leaves at such a default, a parameter of
    ``target`` outside ``tested``: only then can a helper ``target`` hands it to be settled by it (most
    calls pass variables and leave no such default out, and need no look at what ``target`` calls)."""
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred) or index >= len(positional):
            break
        if isinstance(argument, ast.Constant) and constant_path(argument.value) is not None and positional[index] not in tested:
            return True
    for keyword in call.keywords:
        if keyword.arg not in tested and isinstance(keyword.value, ast.Constant) and constant_path(keyword.value.value) is not None:
            return True
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return False  # what is left out is not known: nothing is bound for it (``_bind``)
    passed = set(positional[: len(call.args)]) | {k.arg for k in call.keywords}
    return any(name not in tested and name not in passed for name in constant_defaults(target))


def _informative(path: str) -> bool:
    """A path the rules can read: a known kind, a LangChain object, or a project object."""
    return kind_of(path) is not None or is_langchain(path) or path.startswith(INSTANCE_PREFIX)


def ordered_calls(func: FunctionNode) -> list[ast.Call]:
    """The calls of a function's body, inner calls of a chain first, then in source order (shared list)."""
    body = _body(func)
    if body.calls is not None:
        return body.calls
    calls = body.calls = [n for n in body.nodes if isinstance(n, ast.Call)]
    # Inner calls of a chain first (``session.query(...).all()`` -> ``query``), then source order.
    calls.sort(key=_position)
    return calls


# The operations of each module's functions that may be implicit calls, by the module's node index
# (weakly: they live as long as the module's tree), then by id of the function whose body runs them;
# and the implicit calls made of each operation, by the operation node.
_OPERATIONS: weakref.WeakKeyDictionary[ModuleNodes, dict[int, list[Operation]]] = weakref.WeakKeyDictionary()
_RECEIVERS = (ast.Name, ast.Attribute)


@dataclass
class Operation:
    """An operation that may be an implicit call, and the calls it makes once asked (``implicit_calls``)."""

    node: ast.expr
    calls: list[ImplicitCall] | None = None


def operations_of(func: FunctionNode, nodes: ModuleNodes) -> list[Operation]:
    """The item look-ups, membership tests and ``len()`` of a function's body on a name or attribute
    (``pool[k]``, ``k in self.cache``: what a call or literal returns is not an object the project
    keeps); ``nodes``: the index of the function's module. Annotations are left out (``dict[str, X]``
    is no look-up)."""
    by_function = _OPERATIONS.get(nodes)
    if by_function is None:
        by_function = _OPERATIONS[nodes] = {}
        annotations = {id(n) for assign in nodes.of(ast.AnnAssign) for n in ast.walk(assign.annotation)}
        for node, runs_in, _ in nodes.run_in(ast.Subscript, ast.Compare, ast.Call):
            if runs_in is not None and id(node) not in annotations and _operates(node, runs_in):
                by_function.setdefault(id(runs_in), []).append(Operation(node))  # type: ignore[arg-type]
    return by_function.get(id(func), [])


def _operates(node: ast.AST, func: FunctionNode) -> bool:
    if isinstance(node, ast.Subscript):
        # A subscript before the body is in the def's own annotations (``items: list[Item]``).
        first = func.body[0]
        return (
            isinstance(node.value, _RECEIVERS) and not isinstance(node.slice, ast.Slice)
            and (node.lineno, node.col_offset) >= (first.lineno, first.col_offset)
        )
    if isinstance(node, ast.Compare):
        return any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
        and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], _RECEIVERS)
    )


def implicit_calls(entry: Operation) -> list[ImplicitCall]:
    """The calls an operation of ``operations_of`` makes (a shared list; the same objects each time)."""
    if entry.calls is not None:
        return entry.calls
    operation = entry.node
    found: list[ImplicitCall] = []
    if isinstance(operation, ast.Subscript):
        found.append(_implicit(operation, operation.value, _ITEM_METHODS[type(operation.ctx)], [operation.slice]))
    elif isinstance(operation, ast.Compare):
        left = operation.left
        for op, right in zip(operation.ops, operation.comparators):
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, _RECEIVERS):
                found.append(_implicit(operation, right, "__contains__", [left]))
            left = right
    elif isinstance(operation, ast.Call):
        found.append(_implicit(operation, operation.args[0], "__len__", []))
    entry.calls = found
    return found


def _position(call: ast.Call) -> tuple[int, int, int, int]:
    return (call.lineno, call.col_offset, call.end_lineno or 0, call.end_col_offset or 0)


def calls_with_operations(func: FunctionNode, operations: list[ImplicitCall], left_out: Container[int]) -> list[ast.Call]:
    """``func``'s calls and the implicit ones of ``operations``, in the order ``ordered_calls`` keeps,
    without those whose site (``site_id``) is in ``left_out``."""
    if not operations:
        return [c for c in ordered_calls(func) if id(c) not in left_out]
    return [c for c in sorted([*ordered_calls(func), *operations], key=_position) if site_id(c) not in left_out]


def calls_on_loop(
    func: FunctionNode,
    names: Names,
    operations: list[ImplicitCall] | None = None,
    awaited_inline: Callable[[ast.Call], bool] | None = None,
) -> list[ast.Call]:
    """Calls a coroutine's body makes synchronously (with ``operations``, those of them too).

    Left out: awaited calls (but those ``awaited_inline`` says run sync code in the awaiting task, a
    service look-up running a factory), ``async with``/``async for`` targets, and the
    calls that only build the bound method handed to a thread
    (``await asyncio.to_thread(db.query(User).all)``: ``all`` runs on the
    thread; ``query`` only builds the lazy query it belongs to).
    """
    asynchronous: set[int] = set()
    for node in body_walk(func):
        if isinstance(node, ast.Await):
            if awaited_inline is None or not isinstance(node.value, ast.Call) or not awaited_inline(node.value):
                asynchronous.add(id(node.value))
        elif isinstance(node, ast.AsyncWith):
            asynchronous.update(id(item.context_expr) for item in node.items)
        elif isinstance(node, ast.AsyncFor) or (isinstance(node, ast.comprehension) and node.is_async):
            asynchronous.add(id(node.iter))
    for handed in handed_to_threads(func, names):
        asynchronous.update(id(n) for n in ast.walk(handed))
    return calls_with_operations(func, operations or [], asynchronous)


def handed_to_threads(func: FunctionNode, names: Names) -> list[ast.Attribute]:
    """The bound methods a function's body hands to a worker thread (``asyncio.to_thread(f.read, n)``)."""
    return [
        handed
        for node in body_walk(func)
        if isinstance(node, ast.Call) and _hands_to_thread(node, names)
        for handed in _handed_functions(node, names)
    ]


def _hands_to_thread(call: ast.Call, names: Names) -> bool:
    return method_name(call) in THREAD_HANDOFF_METHODS or names.qualify(call.func) in THREAD_HANDOFFS


def _handed_functions(call: ast.Call, names: Names) -> Iterator[ast.Attribute]:
    """Bound methods passed to a thread hand-off, directly or through ``functools.partial``."""
    for argument in call.args:
        if isinstance(argument, ast.Call) and names.qualify(argument.func) in PARTIAL and argument.args:
            argument = argument.args[0]
        if isinstance(argument, ast.Attribute):
            yield argument
