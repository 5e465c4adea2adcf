"""Files a coroutine opens while their reading and writing happen elsewhere.

``with open(path, "rb") as f: data = await asyncio.to_thread(f.read, limit)``: the
coroutine opens the file (one system call) and hands the file work to a worker thread,
which is what FAA102 asks for. ``with open(log_path, "a") as log: Popen(cmd, stdout=log)``:
the child process writes the file. The ``open`` is not the blocking work there and is not
reported.

The handle must be bound by name (``with ... as f`` or ``f = open(...)``) and every use
of it must be one of those: a bound method handed to a thread, a standard stream of a
child process, or ``f.close()``. A handle read or written on the loop (``f.read()``,
``json.load(f)``) or handed to any other function keeps the ``open`` reported.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.calls import body_walk, handed_to_threads
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names
from flake8_fastapi_antipatterns.analysis.nodes import last_name

# What starts a child process that may be handed open files for its standard streams.
PROCESS_SPAWNS = frozenset({"subprocess.Popen", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"})
STREAM_KEYWORDS = frozenset({"stdin", "stdout", "stderr"})


def opened_for_elsewhere(func: FunctionNode, names: Names) -> frozenset[int]:
    """Ids of the ``open`` calls of ``func`` whose file is only read or written off the loop."""
    handles = _handles(func)
    if not handles:
        return frozenset()
    uses: dict[str, int] = {}
    for node in body_walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in handles:
            uses[node.id] = uses.get(node.id, 0) + 1
    elsewhere = _uses_elsewhere(func, names, set(handles))
    return frozenset(
        id(call)
        for name, calls in handles.items()
        if uses.get(name, 0) and uses[name] == elsewhere.get(name, 0)
        for call in calls
    )


def _handles(func: FunctionNode) -> dict[str, list[ast.Call]]:
    """Names bound to what an ``open`` call returned, with those calls (names bound otherwise too are left out)."""
    opened: dict[str, list[ast.Call]] = {}
    other: set[str] = set()
    for node in body_walk(func):
        bound: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, (ast.With, ast.AsyncWith)):
            bound = [(item.optional_vars, item.context_expr) for item in node.items if item.optional_vars is not None]
        elif isinstance(node, ast.Assign):
            bound = [(target, node.value) for target in node.targets]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bound = [(node.target, node.iter)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            bound = [(node.target, node.value)] if node.value is not None else []
        for target, value in bound:
            if isinstance(target, ast.Name) and isinstance(value, ast.Call) and last_name(value.func) == "open":
                opened.setdefault(target.id, []).append(value)
            else:
                other.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return {name: calls for name, calls in opened.items() if name not in other}


def _uses_elsewhere(func: FunctionNode, names: Names, handles: set[str]) -> dict[str, int]:
    """How many uses of each handle give its file work to a thread or a child process, or close it."""
    counted: dict[str, int] = {}

    def count(expr: ast.expr) -> None:
        if isinstance(expr, ast.Name) and expr.id in handles:
            counted[expr.id] = counted.get(expr.id, 0) + 1

    for handed in handed_to_threads(func, names):
        count(handed.value)
    for node in body_walk(func):
        if not isinstance(node, ast.Call):
            continue
        if names.qualify(node.func) in PROCESS_SPAWNS:
            for keyword in node.keywords:
                if keyword.arg in STREAM_KEYWORDS:
                    count(keyword.value)
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "close" and not node.args:
            count(node.func.value)
    return counted


__all__ = ["opened_for_elsewhere"]
