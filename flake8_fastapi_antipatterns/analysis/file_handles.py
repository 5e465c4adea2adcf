"""Files a coroutine opens while their reading and writing happen elsewhere.

``with open(path, "rb") as f: data = await asyncio.to_thread(f.read, limit)``: the
coroutine opens the file (one system call) and hands the file work to a worker thread,
which is what FAA102 asks for. ``with open(log_path, "a") as log: Popen(cmd, stdout=log)``:
the child process writes the file. ``fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)`` followed
by ``fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)``: a lock file, opened to be locked without
waiting, never read or written. The ``open`` is not the blocking work there and is not
reported.

The handle must be bound by name (``with ... as f`` or ``f = open(...)``) and every use
of it must be one of those: a bound method handed to a thread, an argument of a function
run on a thread (``await asyncio.to_thread(upload, f)``, ``await sync_to_async(create)(file=f)``),
a standard stream of a child process, ``f.close()`` or ``os.close(fd)``, a lock taken or released
without waiting (``fcntl.flock(fd, mode | fcntl.LOCK_NB)``, and then the descriptor may be
returned to the caller that releases it), or an argument of a project function
whose parameter is itself only used in those ways (``await transcribe(f)``, followed two
calls deep). A handle read or written on the loop (``f.read()``, ``json.load(f)``) or handed
to any other function keeps the ``open`` reported.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.blocking import THREAD_HANDOFF_METHODS, THREAD_HANDOFFS, THREAD_WRAPPERS
from flake8_fastapi_antipatterns.analysis.calls import body_walk, handed_to_threads, method_name
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names
from flake8_fastapi_antipatterns.analysis.nodes import last_name, spells_any

# What starts a child process that may be handed open files for its standard streams.
PROCESS_SPAWNS = frozenset({"subprocess.Popen", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"})
# Advisory locks on a descriptor: they wait for another holder unless asked not to (``LOCK_NB``).
LOCK_CALLS = frozenset({"fcntl.flock", "fcntl.lockf"})
_NOT_WAITING = frozenset({"LOCK_NB", "LOCK_UN"})
STREAM_KEYWORDS = frozenset({"stdin", "stdout", "stderr"})
MAX_PASSES = 2
"""How many project functions deep a handle passed on is followed."""


def opened_for_elsewhere(func: FunctionNode, names: Names) -> frozenset[int]:
    """Ids of the ``open`` calls of ``func`` whose file is only read or written off the loop."""
    handles = _handles(func)
    if not handles:
        return frozenset()
    elsewhere = _only_elsewhere(func, names, set(handles), MAX_PASSES)
    return frozenset(id(call) for name, calls in handles.items() if name in elsewhere for call in calls)


def _only_elsewhere(func: FunctionNode, names: Names, handles: set[str], passes: int) -> set[str]:
    """Of ``handles`` (names in ``func``), those used at least once, and only to give their file
    work to a thread or a child process, or to close them."""
    uses: dict[str, int] = {}
    for node in body_walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in handles:
            uses[node.id] = uses.get(node.id, 0) + 1
    elsewhere = _uses_elsewhere(func, names, handles, passes)
    return {name for name, count in uses.items() if count == elsewhere.get(name, 0)}


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


def _uses_elsewhere(func: FunctionNode, names: Names, handles: set[str], passes: int) -> dict[str, int]:
    """How many uses of each handle give its file work to a thread or a child process, or close it."""
    counted: dict[str, int] = {}

    def count(expr: ast.expr) -> None:
        if isinstance(expr, ast.Name) and expr.id in handles:
            counted[expr.id] = counted.get(expr.id, 0) + 1

    for handed in handed_to_threads(func, names):
        count(handed.value)
    locked: set[str] = set()
    returned: list[str] = []
    for node in body_walk(func):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id in handles:
            returned.append(node.value.id)
            continue
        if not isinstance(node, ast.Call):
            continue
        qualified = names.qualify(node.func)
        if qualified in LOCK_CALLS and node.args and _without_waiting(node):
            count(node.args[0])
            if isinstance(node.args[0], ast.Name):
                locked.add(node.args[0].id)
        elif qualified == "os.close" and node.args:
            count(node.args[0])
        elif qualified in PROCESS_SPAWNS:
            for keyword in node.keywords:
                if keyword.arg in STREAM_KEYWORDS:
                    count(keyword.value)
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "close" and not node.args:
            count(node.func.value)
        else:
            threaded = _thread_arguments(node, names)
            for argument in threaded:
                count(argument)
            if not threaded and passes > 0:
                for name in _passed_on(node, names, handles, passes - 1):
                    counted[name] = counted.get(name, 0) + 1
    for name in returned:
        if name in locked:
            counted[name] = counted.get(name, 0) + 1  # a lock's descriptor handed to whoever releases it
    return counted


def _without_waiting(call: ast.Call) -> bool:
    """``fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)`` or a release: the call does not wait for another holder."""
    return len(call.args) > 1 and spells_any(call.args[1], _NOT_WAITING)


def _thread_arguments(call: ast.Call, names: Names) -> list[ast.expr]:
    """The arguments a call hands to the function it runs on a worker thread."""
    if isinstance(call.func, ast.Call) and names.qualify(call.func.func) in THREAD_WRAPPERS:
        # ``sync_to_async(f.read)()`` runs the handle's own method there too.
        bound = [argument.value for argument in call.func.args if isinstance(argument, ast.Attribute)]
        return [*bound, *call.args, *(keyword.value for keyword in call.keywords)]
    if names.qualify(call.func) in THREAD_HANDOFFS:
        return [*call.args[1:], *(keyword.value for keyword in call.keywords)]
    if method_name(call) in THREAD_HANDOFF_METHODS:
        return list(call.args[2:])
    return []


def _passed_on(call: ast.Call, names: Names, handles: set[str], passes: int) -> list[str]:
    """The handles given to a project function (by a plain name or a module attribute) whose
    matching parameter only gives its file work elsewhere."""
    given = [
        (index, None, argument.id)
        for index, argument in enumerate(call.args)
        if isinstance(argument, ast.Name) and argument.id in handles
    ] + [
        (-1, keyword.arg, keyword.value.id)
        for keyword in call.keywords
        if keyword.arg is not None and isinstance(keyword.value, ast.Name) and keyword.value.id in handles
    ]
    if not given or isinstance(call.func, ast.Attribute) and not isinstance(call.func.value, ast.Name):
        return []
    if any(isinstance(argument, ast.Starred) for argument in call.args):
        return []
    found = names.resolve_function(call.func)
    if found is None:
        return []
    callee_names, callee = found
    positional = [*callee.args.posonlyargs, *callee.args.args]
    if positional and positional[0].arg in ("self", "cls"):
        return []  # a method: which argument lands where depends on how it is bound
    keywords = {a.arg for a in [*callee.args.args, *callee.args.kwonlyargs]}
    parameters: dict[str, str] = {}
    for index, keyword, handle in given:
        if keyword is None and index < len(positional):
            parameters[positional[index].arg] = handle
        elif keyword is not None and keyword in keywords:
            parameters[keyword] = handle
    if not parameters or _rebound(callee, set(parameters)):
        return []
    kept = _only_elsewhere(callee, callee_names, set(parameters), passes)
    return [handle for parameter, handle in parameters.items() if parameter in kept]


def _rebound(func: FunctionNode, parameters: set[str]) -> bool:
    return any(
        isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in parameters
        for node in body_walk(func)
    )


__all__ = ["opened_for_elsewhere"]
