"""Child processes started and left to run: ``subprocess.Popen`` without pipes or waiting.

``Popen(cmd, stdout=log_file)`` returns as soon as the child has started (a fork and an
exec, about a millisecond); the blocking part of running a program is waiting for it
(``wait``, ``communicate``, leaving a ``with Popen(...)`` block, which waits) and reading
its pipes. A ``Popen`` given no pipe and not used as a context manager only starts the
process, so FAA102 reports the waiting where it happens instead. A ``Popen`` with
``stdout=PIPE`` (or ``stdin``/``stderr``) is still reported: its pipes are read or
written somewhere, and nothing tells that it is off the loop.
"""

from __future__ import annotations

import ast
import weakref

from flake8_fastapi_antipatterns.analysis.calls import body_walk
from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import last_name

SPAWN = "subprocess.Popen"
STREAM_KEYWORDS = frozenset({"stdin", "stdout", "stderr"})


def only_starts(call: ast.Call, func: FunctionNode) -> bool:
    """Whether a ``Popen(...)`` call of ``func`` starts a process without pipes and outside a ``with``."""
    if len(call.args) > 1 or any(k.arg is None for k in call.keywords):
        return False  # streams passed by position or through ``**kwargs``: not known
    if any(k.arg in STREAM_KEYWORDS and last_name(k.value) == "PIPE" for k in call.keywords):
        return False
    return id(call) not in _managed(func)


def _managed(func: FunctionNode) -> frozenset[int]:
    """Ids of the calls a ``with`` statement of ``func`` enters (its exit waits for a process)."""
    cached = _CACHE.get(func)
    if cached is not None:
        return cached
    found = frozenset(
        id(item.context_expr)
        for node in body_walk(func)
        if isinstance(node, (ast.With, ast.AsyncWith))
        for item in node.items
    )
    _CACHE[func] = found
    return found


# Weakly keyed: the answer must not keep a linted file's tree alive.
_CACHE: weakref.WeakKeyDictionary[FunctionNode, frozenset[int]] = weakref.WeakKeyDictionary()

__all__ = ["SPAWN", "only_starts"]
