"""Service locators: a look-up by type runs the factory the project registered for that type.

With ``svcs``, ``await services.aget(JWTGenerator)`` calls the factory registered by
``registry.register_factory(JWTGenerator, make_generator)``, in the task that looks it up, the first
time each container is asked (a container is usually made per request). A sync factory that reads a
key file then blocks the event loop at the look-up; the call graph follows the look-up into the
factory as into any project function it calls.

The registrations are found by reading the project files that mention ``register_factory``; a type
is matched by the definition it names (a project class, wherever it is imported from) or, for a
library type, by its dotted name. A project too large to have been read whole, or a type or
factory that cannot be named, gives no factory: the look-up stays an unknown library call.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope

# ``svcs.Container`` and the FastAPI dependency ``svcs.fastapi.DepContainer``: every argument is a type.
_CONTAINERS = ("svcs.Container()", "svcs.fastapi.DepContainer()")
_CONTAINER_LOOKUPS = frozenset({"get", "aget", "get_abstract", "aget_abstract"})
# ``svcs.starlette.aget(request, T)``: the request (or its container) first, then the types.
_FRAMEWORK_LOOKUPS = frozenset({"svcs.starlette.get", "svcs.starlette.aget", "svcs.starlette.get_abstract",
                                "svcs.starlette.aget_abstract"})  # fmt: skip
REGISTRATION = "register_factory"
# How many files registering factories are read for one look-up.
MAX_REGISTERING_FILES = 32

TypeKey = tuple[str, str] | str
"""A type as a look-up and a registration name it: (defining file, class name), or a library's dotted name."""


def may_look_up(call: ast.Call) -> bool:
    """Whether ``call`` is spelled like a service look-up (``x.aget(...)``): the cheap test before
    its callee is resolved."""
    return isinstance(call.func, ast.Attribute) and call.func.attr in _CONTAINER_LOOKUPS and bool(call.args)


def looked_up_types(callee: str | None, call: ast.Call) -> list[ast.expr]:
    """The type arguments of a service look-up whose callee has the value path ``callee``
    (``svcs.Container().aget``), in order; empty for any other call."""
    if callee is None:
        return []
    callee = callee.removeprefix("await ")
    base, _, method = callee.rpartition(".")
    if method in _CONTAINER_LOOKUPS and base in _CONTAINERS:
        return list(call.args)
    if callee in _FRAMEWORK_LOOKUPS:
        return list(call.args[1:])
    return []


def type_key(names: Names, node: ast.expr, scope: Scope | None) -> TypeKey | None:
    """What ``node`` names as a type, the same wherever it is imported from."""
    resolver = names.resolver
    if resolver is not None:
        try:
            symbol = names.project_symbol(node)
        except (RecursionError, ValueError, OSError):
            symbol = None
        if symbol is not None:
            return (resolver.index.real_path(symbol.module.path), symbol.name)
        if isinstance(node, ast.Name) and node.id in names.classes and node.id not in names.imports:
            return (resolver.index.real_path(resolver.filename), node.id)
    return names.qualify(node, scope)


def registered_factory(names: Names, wanted: TypeKey) -> tuple[Names, FunctionNode] | None:
    """The project function registered as the factory of the type ``wanted`` (the first registration
    met, files in order), or None."""
    resolver = names.resolver
    if resolver is None:
        return None
    index = resolver.index
    files = index.files_mentioning(resolver.filename, REGISTRATION)
    if not files or len(files) > MAX_REGISTERING_FILES:
        return None
    own = index.real_path(resolver.filename)
    for file in files:
        # The asking module is read through its own names: the factory then is the very function
        # its call graph knows (and names bare), whichever file of the run parsed the module first.
        if index.real_path(file) == own:
            found = _factory_in(names, wanted)
        else:
            module = index.module(file)
            found = _factory_in(module.names, wanted) if module is not None else None
        if found is not None:
            return found
    return None


def _factory_in(names: Names, wanted: TypeKey) -> tuple[Names, FunctionNode] | None:
    nodes = names.nodes
    for call in nodes.of(ast.Call):
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == REGISTRATION):
            continue
        registered = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "svc_type"), None)
        factory = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "factory"), None)
        if registered is None or factory is None:
            continue
        written_in = nodes.call_written_in(call)
        scope = names.scope(written_in) if written_in is not None else None
        if type_key(names, registered, scope) != wanted:
            continue
        try:
            return names.resolve_function(factory, scope)
        except (RecursionError, ValueError, OSError):
            return None
    return None


__all__ = ["MAX_REGISTERING_FILES", "REGISTRATION", "TypeKey", "looked_up_types", "may_look_up", "registered_factory", "type_key"]
