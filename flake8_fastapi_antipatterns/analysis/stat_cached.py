"""File work a cache keyed by the file's modification time saves: a request pays for a ``stat``.

::

    stat = path.stat()
    sig = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is None or cached[0] != sig:
        _CACHE[key] = (sig, json.loads(path.read_text()))

The file is read again only when it changed on disk (an edit, a deploy), so the read is not
per-request work: each request pays for the ``stat`` alone, microseconds. Recognised when the
``if`` compares a value taken from the stat result with a value read from a container the
function does not make (a module global, ``self._cache``) and its body stores into that container.

A read of the same path in the handler of a failed stat (``except OSError:``) is not per-request
work either: the stat failed because the file is missing or unreadable, so the read fails at once.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import last_name, once_per_function, parameter_names
from flake8_fastapi_antipatterns.analysis.run_once import node_ids, statement_lists

# Calls that read a file's metadata only: ``path.stat()``, ``os.stat(path)``, ``os.path.getmtime(path)``.
STAT_CALLS = frozenset({"stat", "lstat", "getmtime", "getsize", "getctime"})
# Handlers that a failed stat lands in.
_STAT_ERRORS = frozenset({"OSError", "FileNotFoundError", "IOError", "PermissionError", "Exception"})


def _stat_path(node: ast.AST) -> ast.expr | None:
    """The path a stat call reads: ``p`` in ``p.stat()`` or ``os.stat(p)``; None for other nodes."""
    if not isinstance(node, ast.Call) or last_name(node.func) not in STAT_CALLS:
        return None
    if node.args:
        return node.args[0]
    if isinstance(node.func, ast.Attribute):
        return node.func.value
    return None


@once_per_function
def stat_cached_nodes(func: FunctionNode) -> set[int]:
    """Ids of the nodes of ``func`` that run only when a file changed on disk or its stat failed."""
    stats = [node for node in ast.walk(func) if _stat_path(node) is not None]
    if not stats:
        return set()  # most functions: nothing to work out
    bodies = list(statement_lists(func))
    statements = [stmt for body in bodies for stmt in body]
    # What the function binds, its parameters included (a cache a caller passes may be one per request).
    local = parameter_names(func) | {
        node.id
        for stmt in statements
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    found: set[int] = set()
    _changed_branches(statements, local, found)
    _failed_stat_handlers(statements, found)
    return found


def _changed_branches(statements: list[ast.stmt], local: set[str], found: set[int]) -> None:
    """``if cached is None or cached[0] != sig: CACHE[key] = ...`` (see the module docstring)."""
    stamped: set[str] = set()  # locals holding (part of) a stat result
    cached: dict[str, str] = {}  # locals read from a kept container -> that container
    for stmt in sorted(statements, key=lambda s: (s.lineno, s.col_offset)):
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            continue
        value = stmt.value
        if any(_stat_path(n) is not None or (isinstance(n, ast.Name) and n.id in stamped) for n in ast.walk(value)):
            stamped.update(names)
        container = _kept_read(value, local)
        if container is not None:
            cached.update(dict.fromkeys(names, container))
    if not stamped or not cached:
        return
    for stmt in statements:
        if not isinstance(stmt, ast.If):
            continue
        tested = {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}
        containers = {cached[name] for name in tested if name in cached}
        if tested & stamped and containers and _stores_into(stmt.body, containers):
            found.update(node_ids(stmt.body))


def _container(node: ast.expr, local: set[str]) -> str | None:
    """A container that outlives the call: a name the function does not bind, or ``self.x``."""
    if isinstance(node, ast.Name) and node.id not in local:
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return f"{node.value.id}.{node.attr}"
    return None


def _kept_read(value: ast.expr, local: set[str]) -> str | None:
    """The kept container ``value`` reads an entry of: ``CACHE.get(key)``, ``self._cache[key]``."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get":
        return _container(value.func.value, local)
    if isinstance(value, ast.Subscript):
        return _container(value.value, local)
    return None


def _stores_into(body: list[ast.stmt], containers: set[str]) -> bool:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and _container(target.value, set()) in containers:
                        return True
    return False


def _failed_stat_handlers(statements: list[ast.stmt], found: set[int]) -> None:
    """Calls on the same path in the handler of a stat that failed: the file is not there to read."""
    for stmt in statements:
        if not isinstance(stmt, ast.Try) or not stmt.handlers:
            continue
        paths = {
            ast.dump(path)
            for inner in stmt.body
            for node in ast.walk(inner)
            if (path := _stat_path(node)) is not None
        }
        if not paths:
            continue
        for handler in stmt.handlers:
            if not _catches_stat_error(handler.type):
                continue
            for inner in handler.body:
                for node in ast.walk(inner):
                    if isinstance(node, ast.Call) and _on_path(node, paths):
                        found.update(id(n) for n in ast.walk(node))


def _catches_stat_error(kind: ast.expr | None) -> bool:
    if kind is None:
        return True
    kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(last_name(k) in _STAT_ERRORS for k in kinds)


def _on_path(call: ast.Call, paths: set[str]) -> bool:
    """``p.read_text()`` or ``open(p)`` with ``p`` a path whose stat failed."""
    if isinstance(call.func, ast.Attribute) and ast.dump(call.func.value) in paths:
        return True
    return bool(call.args) and ast.dump(call.args[0]) in paths


__all__ = ["stat_cached_nodes"]
