"""Calls handed a temporary directory the function has just made and put nothing in.

::

    work = Path(tempfile.mkdtemp(prefix="clone_"))
    if not valid(url):
        cleanup(work)          # shutil.rmtree of an empty directory: one rmdir
        return None
    subprocess.run(["git", "clone", url, str(work)])

Removing such a directory (``shutil.rmtree``) is a single ``rmdir`` of an empty folder: nothing has
been written into it yet. Recognised when the local is bound once, to ``mkdtemp(...)`` (bare or
wrapped in ``Path``/``str``), and no line between the binding and the call names it (a line in an
earlier branch that ends the function, ``cleanup(work); return``, is not on the way to the call); a
call in a loop the binding is outside of is left out (an earlier round may have filled the directory).

One use in between is allowed: the command of a ``git clone`` into the directory, when the removal
runs only in the branch where that clone failed (``if result.returncode != 0:``). A failed clone
deletes what it wrote, so the folder is still empty; after a clone that worked, or any other command,
the removal is reported.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import ends_the_call, last_name, once_per_function

_MAKERS = frozenset({"mkdtemp"})
_WRAPPERS = frozenset({"Path", "str", "PurePath", "realpath", "abspath"})
_COMMAND_RUNNERS = frozenset({"run", "call"})  # subprocess.run / subprocess.call
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
    exits = [
        block
        for n in nodes
        if isinstance(n, ast.If)
        for block in (n.body, n.orelse)
        if ends_the_call(block)
    ]

    def left_early(call: ast.Call) -> list[ast.stmt]:
        """Statements of branches that end the function and do not hold ``call``: a use there (an
        earlier ``cleanup(work); return``) is not on the way to it."""
        return [stmt for block in exits if not any(_inside(call, stmt) for stmt in block) for stmt in block]

    found: set[int] = set()
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        for argument in node.args:
            if not (isinstance(argument, ast.Name) and argument.id in fresh):
                continue
            binding = fresh[argument.id]
            made = binding.end_lineno or binding.lineno
            between = [use for use in uses.get(argument.id, ()) if made < use.lineno < node.lineno]
            if between:
                # Asked once per call, not once per use: each answer walks every early exit.
                elsewhere = left_early(node)
                between = [use for use in between if not any(_inside(use, gone) for gone in elsewhere)]
            if between and not _only_failed_clone(between, node, nodes):
                continue  # named in between: something may have put files in it
            if any(_inside(node, loop) and not _inside(binding, loop) for loop in loops):
                continue
            found.add(id(node))
    return found


def _only_failed_clone(uses: list[ast.Name], removal: ast.Call, nodes: list[ast.AST]) -> bool:
    """Whether every use of the directory before ``removal`` is in the command of one ``git clone``
    into it, and ``removal`` runs only when that clone failed (``if result.returncode != 0:``).

    A clone that fails removes what it wrote (git deletes its own junk, keeping a directory that was
    there before), so the folder is as empty as ``mkdtemp`` left it. A clone killed by a timeout does
    not, but that ends in ``TimeoutExpired``, not in the failed-status branch.
    """
    clones = {id(n): n for n in nodes if isinstance(n, ast.Assign) and _git_clone(n.value)}
    for assign in clones.values():
        inside = {id(n) for n in ast.walk(assign.value)}
        if not all(id(use) in inside for use in uses) or len(assign.targets) != 1:
            continue
        target = assign.targets[0]
        if not isinstance(target, ast.Name):
            continue
        for branch in nodes:
            if (
                isinstance(branch, ast.If)
                and branch.lineno > (assign.end_lineno or assign.lineno)
                and _failed(branch.test, target.id)
                and any(_inside(removal, stmt) for stmt in branch.body)
            ):
                return True
    return False


def _git_clone(value: ast.expr) -> bool:
    """``subprocess.run(["git", "clone", ...])`` (or ``call``): a command list that starts with git clone."""
    if not (isinstance(value, ast.Call) and last_name(value.func) in _COMMAND_RUNNERS and value.args):
        return False
    command = value.args[0]
    if not isinstance(command, (ast.List, ast.Tuple)) or len(command.elts) < 2:
        return False
    words = [e.value for e in command.elts[:2] if isinstance(e, ast.Constant)]
    return words == ["git", "clone"]


def _failed(test: ast.expr, result: str) -> bool:
    """``result.returncode != 0``, ``result.returncode`` or ``result != 0`` (the status of ``call``)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotEq):
        zero = test.comparators[0]
        if not (isinstance(zero, ast.Constant) and zero.value == 0):
            return False
        test = test.left
    if isinstance(test, ast.Attribute) and test.attr == "returncode":
        test = test.value
    return isinstance(test, ast.Name) and test.id == result


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return any(inner is node for inner in ast.walk(outer))


__all__ = ["REMOVALS", "fresh_directory_calls"]
