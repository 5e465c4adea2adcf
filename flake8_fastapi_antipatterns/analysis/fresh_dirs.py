"""Calls handed a temporary directory the function has just made and put nothing in.

::

    work = Path(tempfile.mkdtemp(prefix="clone_"))
    if not valid(url):
        cleanup(work)          # shutil.rmtree of an empty directory: one rmdir
        return None
    subprocess.run(["git", "clone", url, str(work)])

Removing such a directory (``shutil.rmtree``) is a single ``rmdir`` of an empty folder: nothing has
been written into it yet. Recognised when the local is bound once, to ``mkdtemp(...)`` (bare or
wrapped in ``Path``/``str``), and no line between the binding and the call names it; a call in a
loop the binding is outside of is left out (an earlier round may have filled the directory).
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import last_name, once_per_function

_MAKERS = frozenset({"mkdtemp"})
_WRAPPERS = frozenset({"Path", "str", "PurePath", "realpath", "abspath"})
# What removing a directory is called, as a blocking verdict names it.
REMOVALS = frozenset({"shutil.rmtree"})


def _made_dir(value: ast.expr) -> bool:
    while isinstance(value, ast.Call) and last_name(value.func) in _WRAPPERS and len(value.args) == 1:
        value = value.args[0]
    return isinstance(value, ast.Call) and last_name(value.func) in _MAKERS


@once_per_function
def fresh_directory_calls(func: FunctionNode) -> set[int]:
    """Ids of the calls of ``func`` handed a directory ``func`` just made and has not used since."""
    nodes = [n for stmt in func.body for n in ast.walk(stmt)]
    bindings: dict[str, list[ast.stmt]] = {}
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For)) else
                [item.optional_vars for item in node.items if item.optional_vars is not None]
            )
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        bindings.setdefault(name.id, []).append(node)
    fresh = {
        name: stmts[0]
        for name, stmts in bindings.items()
        if len(stmts) == 1 and isinstance(stmts[0], ast.Assign) and _made_dir(stmts[0].value)
    }
    if not fresh:
        return set()  # most functions: nothing to work out
    loops = [n for n in nodes if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
    uses: dict[str, list[ast.Name]] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in fresh and isinstance(node.ctx, ast.Load):
            uses.setdefault(node.id, []).append(node)
    found: set[int] = set()
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        for argument in node.args:
            if not (isinstance(argument, ast.Name) and argument.id in fresh):
                continue
            binding = fresh[argument.id]
            made = binding.end_lineno or binding.lineno
            if any(made < use.lineno < node.lineno for use in uses.get(argument.id, ())):
                continue  # named in between: something may have put files in it
            if any(_inside(node, loop) and not _inside(binding, loop) for loop in loops):
                continue
            found.add(id(node))
    return found


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return any(inner is node for inner in ast.walk(outer))


__all__ = ["REMOVALS", "fresh_directory_calls"]
