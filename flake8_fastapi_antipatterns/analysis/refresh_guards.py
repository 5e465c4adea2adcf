"""A kept value refreshed only after something marks it dirty: the refresh runs once per change.

::

    def _ensure_profile(self) -> None:
        if not self._profiles_dirty and self._cached_mode == self.mode:
            return
        self._refresh()                    # reads the profile file again

    def _refresh(self) -> None:
        self._profile = Path(self.profile_path).read_text()
        self._cached_mode = self.mode
        self._profiles_dirty = False

The code after the early return runs when a setter marked the value dirty (a configuration change),
not once per call, so a read there is not per-request work. Only for a flag named as one (dirty,
stale, invalidated, outdated) that the code after the return, or a method of the same class it
calls, sets back to a false constant; and only for a refresh that reads: a write-back (``if not
self._dirty: return`` then writing the items to disk, on every change a request makes) writes
there, and stays reported, as does anything whose flag is never cleared.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from flake8_fastapi_antipatterns.analysis.fixed_paths import read_only_open
from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import ends_the_call, last_name
from flake8_fastapi_antipatterns.analysis.run_once import node_ids, statement_lists

# Words that name a flag marking a kept value as needing work again (``self._addon_params_dirty``).
INVALIDATION_WORDS = frozenset({"dirty", "stale", "invalidated", "outdated"})
# Calls that write or send: a flush of changed data, not a refresh of a kept value.
WRITING_CALLS = frozenset({
    "write", "writelines", "write_text", "write_bytes", "dump", "dumps_to", "save", "flush", "commit", "persist",
    "sync", "upload", "put", "post", "patch", "delete", "unlink", "remove", "rename", "replace", "mkdir",
    "makedirs", "rmtree", "move", "copy", "copyfile", "insert", "execute", "send",
})  # fmt: skip


def refresh_nodes(func: FunctionNode, methods: Mapping[str, FunctionNode]) -> frozenset[int]:
    """Ids of the nodes of ``func`` (a method; ``methods``: its class's methods by name) that run only
    after the kept value was marked dirty, and only read to refresh it."""
    if not methods:
        return frozenset()
    return frozenset(_find(func, methods))


def _find(func: FunctionNode, methods: Mapping[str, FunctionNode]) -> Iterator[int]:
    for body in statement_lists(func):
        for index, stmt in enumerate(body):
            if not (isinstance(stmt, ast.If) and not stmt.orelse and ends_the_call(stmt.body)):
                continue
            flag = _flag_off(stmt.test)
            if flag is None:
                continue
            rest = body[index + 1 :]
            called = [methods[name] for name in _self_calls(rest) if name in methods]
            bodies = [rest, *(method.body for method in called)]
            if any(_clears(statements, flag) for statements in bodies) and not any(_writes(s) for s in bodies):
                yield from node_ids(rest)


def _flag_off(test: ast.expr) -> str | None:
    """``not self._dirty``, alone or first among conditions that read only the object's attributes
    and constants: the attribute name of the flag."""
    extra: list[ast.expr] = []
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        extra = test.values[1:]
        test = test.values[0]
    if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
        return None
    operand = test.operand
    if not (isinstance(operand, ast.Attribute) and isinstance(operand.value, ast.Name) and operand.value.id == "self"):
        return None
    if not set(operand.attr.lower().strip("_").split("_")) & INVALIDATION_WORDS:
        return None
    for condition in extra:
        for node in ast.walk(condition):
            if isinstance(node, ast.Name) and node.id != "self":
                return None  # keyed by what the caller passes, or by a local: not only the kept value's state
            if isinstance(node, ast.Call):
                return None
    return operand.attr


def _self_calls(statements: list[ast.stmt]) -> list[str]:
    """The names of ``self.m(...)`` calls made by ``statements`` themselves."""
    return [
        node.func.attr
        for statement in statements
        for node in ast.walk(statement)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    ]


def _clears(statements: list[ast.stmt], flag: str) -> bool:
    """Whether ``statements`` set ``self.<flag>`` to a false constant (``False``, ``None``, ``0``)."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) and not node.value.value:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(
                    isinstance(t, ast.Attribute) and t.attr == flag and isinstance(t.value, ast.Name) and t.value.id == "self"
                    for t in targets
                ):
                    return True
    return False


def _writes(statements: list[ast.stmt]) -> bool:
    """Whether ``statements`` write or send: a writing call, or ``open`` in a writing mode."""
    for statement in statements:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            name = last_name(node.func)
            if name in WRITING_CALLS:
                return True
            if name == "open" and not read_only_open(node, "open"):
                return True
    return False


__all__ = ["refresh_nodes"]
