"""The rounds of a periodic loop: ``while`` bodies that wait half a minute or more each time round.

::

    while not stopping.is_set():
        await asyncio.sleep(60)
        prune_stale_files()

A sweeper, a heartbeat, a retention pass: what such a round does runs once a minute whatever the
request rate. FAA102 leaves its *local file work* alone (a few small files read or removed once a
minute cost the loop microseconds); a round that calls the network or a subprocess is still reported.

The wait is an awaited call whose name says it sleeps or waits (``asyncio.sleep``,
``asyncio.wait_for(event.wait(), timeout=...)``, a project's ``_wait_or_shutdown(interval)``), and
its interval must be known to be long: a number, or a local set from one (``interval =
float(getattr(settings, "sweep_interval_s", 60))`` takes the default's 60), never a value the
function cannot see.

Code of such a task before or after its loops (``outside_loops``) runs once per process: for a
coroutine the app only starts as background work at start-up, FAA102 leaves that code's local file
work alone too (a snapshot read before a daily refresh loop).
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import last_name, once_per_function
from flake8_fastapi_antipatterns.analysis.run_once import statement_lists

MIN_ROUND_SECONDS = 30.0
_INTERVAL_KEYWORDS = ("timeout", "delay", "seconds", "interval")
_NUMBER_WRAPPERS = frozenset({"float", "int"})


@once_per_function
def periodic_nodes(func: FunctionNode) -> set[int]:
    """Ids of the nodes of ``func``'s ``while`` loops that wait ``MIN_ROUND_SECONDS`` or more a round."""
    statements = [stmt for body in statement_lists(func) for stmt in body]
    loops = [stmt for stmt in statements if isinstance(stmt, ast.While)]
    if not loops:
        return set()
    assigned: dict[str, list[ast.expr]] = {}
    changed: set[str] = set()  # ``interval *= 2``: a value not followed here
    for stmt in statements:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            assigned.setdefault(stmt.target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            changed.add(stmt.target.id)
    for name in changed:
        assigned.pop(name, None)
    found: set[int] = set()
    for loop in loops:
        if any(_long_wait(stmt, assigned) for stmt in loop.body):
            for stmt in loop.body:
                found.update(id(node) for node in ast.walk(stmt))
    return found


def _long_wait(stmt: ast.stmt, assigned: dict[str, list[ast.expr]]) -> bool:
    """``await asyncio.sleep(60)`` (a statement of the loop's own body, run every round)."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Await):
        return False
    call = stmt.value.value
    if not isinstance(call, ast.Call):
        return False
    name = last_name(call.func) or ""
    if "sleep" not in name and "wait" not in name:
        return False
    intervals = [k.value for k in call.keywords if k.arg in _INTERVAL_KEYWORDS]
    if "sleep" in name or not intervals:
        intervals += [a for a in call.args if not isinstance(a, ast.Call)][:1]
    return any((seconds := _seconds(i, assigned, 0)) is not None and seconds >= MIN_ROUND_SECONDS for i in intervals)


def _seconds(expr: ast.expr, assigned: dict[str, list[ast.expr]], depth: int) -> float | None:
    """The number of seconds ``expr`` is known to be (every value a local is given), else None."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool):
        return float(expr.value)
    if isinstance(expr, ast.Name):
        values = assigned.get(expr.id)
        if not values:
            return None
        found = [_seconds(v, assigned, depth + 1) for v in values]
        known = [f for f in found if f is not None]
        return min(known) if len(known) == len(found) else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        left, right = _seconds(expr.left, assigned, depth + 1), _seconds(expr.right, assigned, depth + 1)
        return left * right if left is not None and right is not None else None
    if isinstance(expr, ast.Call):
        name = last_name(expr.func)
        if name in _NUMBER_WRAPPERS and len(expr.args) == 1:
            return _seconds(expr.args[0], assigned, depth + 1)
        if name == "getattr" and len(expr.args) == 3:
            return _seconds(expr.args[2], assigned, depth + 1)  # a setting with its default
    return None


@once_per_function
def outside_loops(func: FunctionNode) -> set[int]:
    """Ids of the nodes of ``func`` (nested definitions aside) that no ``for`` or ``while`` loop of it
    holds: what one call of ``func`` runs once."""
    looped: set[int] = set()
    for body in statement_lists(func):
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                looped.update(id(node) for node in ast.walk(stmt))
    return {id(node) for node in ast.walk(func) if id(node) not in looped}


__all__ = ["MIN_ROUND_SECONDS", "outside_loops", "periodic_nodes"]
