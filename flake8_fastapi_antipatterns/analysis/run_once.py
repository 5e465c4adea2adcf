"""Code that runs once per process however often its function is called: lazy initialisation.

``if _client is None: _client = make_client()``, ``if self._key is None: self._key =
load_key()``, the early return ``if _cache is not None: return _cache`` followed by the
code that fills ``_cache``, a function that refuses a second run (``assert self._task is None,
"already started"`` or ``if self._task is not None: raise RuntimeError(...)``, followed by the
code that sets ``self._task``: a service's ``start``), or a flag the work switches off (``if
self.pull_if_missing: pull(); self.pull_if_missing = False``).  The first call pays for the work and every later call skips it,
so a blocking call there is start-up cost, not per-request cost.  The value that guards it
must be one that outlives the call: a module global (declared ``global``), an attribute of
``self``/``cls`` or of an imported module or object (``if state.config is None:
state.config = load()``), an attribute of what a decorated function (a registered route handler)
reads from outside itself (its app, closed over), or a local read from one of them (``svc = self._svc; if svc is None: ...;
self._svc = svc``).  A cache keyed by request data (``if key not in cache``) is not run-once
and is not recognised here.
"""

from __future__ import annotations

import ast
import weakref
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from flake8_fastapi_antipatterns.analysis.app_model import ROUTE_DECORATORS
from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.nodes import (
    decided_by,
    ends_the_call,
    lines_only_in,
    parameter_defaults,
    parameter_names,
)

Slot = tuple[str, str]
"""What keeps the value between calls: ("global", name) or ("attr", "receiver.attribute")."""


def run_once_nodes(
    func: FunctionNode, *, attributes: bool = True, shared: AbstractSet[str] = frozenset()
) -> frozenset[int]:
    """Ids of every node of ``func``'s body that only the first call runs.

    ``attributes=False`` counts only module globals: an object may live for one request
    (a service built by ``Depends``), and then ``self._user`` caches per request, not once.
    ``shared`` names what the module imports: an attribute of an imported module or object
    (``state.config``, ``Client._instance``) lives as long as the process, as a global does.
    """
    known = _CACHE.get(func)
    if known is None:
        known = _CACHE[func] = {}
    # The answer depends on the imported names asked with too: the rule and the serving path may ask
    # about one function with different ones, and neither may get the other's answer.
    key = (attributes, frozenset(shared))
    found = known.get(key)
    if found is None:
        found = known[key] = frozenset(_find(func, attributes, shared))
    return found


def run_once_lines(func: FunctionNode) -> frozenset[int]:
    """The lines of ``func`` that only its first call runs (``run_once_nodes`` with module globals and
    attributes of ``self``): a call written there is made once per process, however often ``func`` is
    called. A line that also holds code every call runs is left out."""
    known = _LINES.get(func)
    if known is not None:
        return known
    found = lines_only_in(func.body, run_once_nodes(func))
    _LINES[func] = found
    return found


# Keyed weakly by the function node, and the answers hold ids and lines only: an entry lives exactly
# as long as the tree it describes (a strong key would keep every linted file's functions alive,
# and every full garbage collection of the run would walk them again).
_CACHE: weakref.WeakKeyDictionary[FunctionNode, dict[tuple[bool, frozenset[str]], frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)
_LINES: weakref.WeakKeyDictionary[FunctionNode, frozenset[int]] = weakref.WeakKeyDictionary()


def _find(func: FunctionNode, attributes: bool, shared: AbstractSet[str]) -> Iterator[int]:
    bodies = list(statement_lists(func))
    # Early returns while an expiry is ahead (``_fresh_until_expiry``), worked out once per statement.
    expiring = {
        id(stmt) for body in bodies for stmt in body if isinstance(stmt, ast.If) and _fresh_until_expiry(stmt, func)
    }
    guards = [
        (body, index, stmt)
        for body in bodies
        for index, stmt in enumerate(body)
        if isinstance(stmt, (ast.If, ast.Assert))
        and (id(stmt) in expiring or _may_guard(stmt.test) or _fresh_value_return(stmt))
    ]
    if not guards:
        return  # most functions: nothing to work out
    statements = [stmt for body in bodies for stmt in body]
    tested = _tested_receivers([stmt.test for _, _, stmt in guards], statements)
    receivers = (_receivers(func) if attributes else set()) | _shared_receivers(shared & tested, statements)
    if any(_registers(decorator) for decorator in func.decorator_list):
        receivers |= _captured(func, tested, statements)
    globals_ = {name for stmt in statements if isinstance(stmt, ast.Global) for name in stmt.names}
    aliases = _aliases(statements, receivers, globals_)
    passed: set[str] | None = None  # ``_from_the_caller``, worked out for the first fresh-value return
    parents: dict[int, tuple[ast.stmt, list[ast.stmt], int]] | None = None  # ``_parents``, for the first early return
    for body, index, stmt in guards:
        if id(stmt) in expiring:
            # ``if expiry > now + timedelta(seconds=60): return payload``, then the refresh: it runs
            # once per lifetime of what is kept (a token, a cached list), not once per call.
            yield from node_ids(body[index + 1 :])
            continue
        if isinstance(stmt, ast.Assert):
            # ``assert self._task is None, "already started"`` and then ``self._task = ...``: a second
            # call fails at the assert, so what follows runs once (per start, when a stop clears it).
            slot = _unset_test(stmt.test, receivers, globals_, aliases)
            rest = body[index + 1 :]
            if slot is not None and _assigns(rest, slot, receivers, globals_):
                yield from node_ids(rest)
            continue
        slot = _unset_test(stmt.test, receivers, globals_, aliases)
        if slot is not None and _assigns(stmt.body, slot, receivers, globals_):
            yield from node_ids(stmt.body)
            continue
        flag = _named_slot(stmt.test, receivers, globals_, aliases)
        if flag is not None and _switches_off(stmt.body, flag, receivers, globals_):
            # ``if self.pull_if_missing: ...; self.pull_if_missing = False``: a flag the first run
            # turns off, so later calls skip the branch.
            yield from node_ids(stmt.body)
            continue
        if not (ends_the_call(stmt.body) and not stmt.orelse):
            continue
        test = stmt.test
        if isinstance(test, ast.BoolOp) and _fresh_value_return(stmt):
            if passed is None:
                passed = _from_the_caller(func)
            test = _kept_value_test(test, passed)
        slot = _set_test(test, receivers, globals_, aliases)
        if slot is not None:
            if parents is None:
                parents = _parents(func)
            rest = _continuation(func, body, index, parents)
            if _assigns(rest, slot, receivers, globals_):
                yield from node_ids(rest)


def _parents(func: FunctionNode) -> dict[int, tuple[ast.stmt, list[ast.stmt], int]]:
    """id of each nested statement list of ``func`` -> the statement holding it, the list that statement
    is in, and its place there."""
    found: dict[int, tuple[ast.stmt, list[ast.stmt], int]] = {}
    for body in statement_lists(func):
        for position, stmt in enumerate(body):
            for inner in _nested_lists(stmt):
                found[id(inner)] = (stmt, body, position)
    return found


def _continuation(
    func: FunctionNode, body: list[ast.stmt], index: int, parents: dict[int, tuple[ast.stmt, list[ast.stmt], int]]
) -> list[ast.stmt]:
    """What runs after the early return ``body[index]`` when it is not taken: the rest of its block, and
    past each enclosing ``with`` (a lock held while the kept value is read) or ``if`` that the
    function's defaults take (``if path is None and use_cache:``: the value is kept for the callers that
    leave those parameters alone, as the function's own callers do), the rest of the enclosing block."""
    rest = list(body[index + 1 :])
    current = body
    while id(current) in parents:
        holder, outer, position = parents[id(current)]
        through_lock = isinstance(holder, (ast.With, ast.AsyncWith))
        taken_by_default = isinstance(holder, ast.If) and current is holder.body and _holds_by_default(holder.test, func)
        if not (through_lock or taken_by_default):
            break
        rest.extend(outer[position + 1 :])
        current = outer
    return rest


def _holds_by_default(test: ast.expr, func: FunctionNode) -> bool:
    """Whether ``test`` reads only parameters that have constant defaults and holds for those defaults."""
    defaults = {name: value for name, value in parameter_defaults(func).items() if isinstance(value, ast.Constant)}
    return decided_by(test, defaults) is True


def _fresh_until_expiry(stmt: ast.stmt, func: FunctionNode) -> bool:
    """``if expiry is None or expiry > datetime.now(timezone.utc) + margin: return payload``: an early
    return of a value taken while its expiry is ahead of the clock (``now < self.expires_at`` too). Every
    comparison of an expiry with the clock in the test must say "not expired yet"; one that says
    "expired" (``if expires_at < now: return``) makes what follows the fresh case, run every time."""
    if not isinstance(stmt, ast.If) or stmt.orelse or not stmt.body or not isinstance(stmt.body[-1], ast.Return):
        return False
    returned = stmt.body[-1].value
    if returned is None:
        return False
    # The value returned is what the expiry belongs to (``return payload`` after reading
    # ``payload["expires_at"]``, ``return self._token`` after ``self._token_expiry``): a kept value handed
    # back while fresh. A literal answer (``return {"plan": "trial"}`` while a trial lasts) is a branch.
    holder = _root_name(returned)
    if holder is None:
        return False
    negated = {
        id(inner)
        for node in ast.walk(stmt.test)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        for inner in ast.walk(node.operand)
    }
    fresh = False
    for node in ast.walk(stmt.test):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            continue
        if id(node) in negated:
            return False  # ``if not expiry > now: return``: the direction is reversed; not read
        left, right, op = node.left, node.comparators[0], node.ops[0]
        if isinstance(op, (ast.Lt, ast.LtE)):
            left, right = right, left  # read ``now < expiry`` as ``expiry > now``
        elif not isinstance(op, (ast.Gt, ast.GtE)):
            continue
        if _names_expiry(left) and _reads_clock(right):
            fresh = fresh or _belongs_to(left, holder, func)
        elif _names_expiry(right) and _reads_clock(left):
            return False
    return fresh


def _root_name(node: ast.expr) -> str | None:
    """``payload`` for ``payload``; ``self._token`` for ``self._token`` (a name or one attribute of one)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _belongs_to(expiry: ast.expr, holder: str, func: FunctionNode) -> bool:
    """Whether the expiry compared is read from the value returned (``payload["expires_at"]``, a local
    assigned from it), or kept beside it on ``self`` (``self._token_expires_at`` beside ``self._token``)."""
    base = holder.split(".", 1)[0]
    reads = {_root_name(n) for n in ast.walk(expiry) if isinstance(n, (ast.Name, ast.Attribute))}
    if holder in reads or (base != "self" and base in reads):
        return True
    if base == "self" and any(r is not None and r.startswith("self.") for r in reads):
        return True
    # A local assigned from the holder (``expiry = _parse_expiry(payload.get("expires_at"))``).
    local = {r for r in reads if r is not None and "." not in r}
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in local for t in node.targets)
            and any(isinstance(n, ast.Name) and n.id == base for n in ast.walk(node.value))
        ):
            return True
    return False


def _names_expiry(node: ast.expr) -> bool:
    for inner in ast.walk(node):
        name = inner.id if isinstance(inner, ast.Name) else inner.attr if isinstance(inner, ast.Attribute) else None
        if name is not None and ("expir" in name.lower() or name.lower() in ("exp", "expires", "valid_until")):
            return True
    return False


_CLOCK_READS = frozenset({"now", "utcnow", "time", "monotonic", "today"})


def _reads_clock(node: ast.expr) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in _CLOCK_READS:
                return True
        elif isinstance(inner, ast.Name) and inner.id == "now":
            return True
    return False


def _fresh_value_return(stmt: ast.stmt) -> bool:
    """``if self._specs and now < self._expires_at: return self._specs``: an early return whose test is a
    lazy-initialisation test and further conditions (``_kept_value_test``)."""
    if not isinstance(stmt, ast.If) or stmt.orelse or not ends_the_call(stmt.body):
        return False
    test = stmt.test
    return isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and len(test.values) > 1 and _may_guard(test.values[0])


def _kept_value_test(test: ast.BoolOp, passed: set[str]) -> ast.expr:
    """``if self._specs and now < self._expires_at: return self._specs``: a kept value returned while it
    is fresh. Its first condition is the early return's test; the others (an expiry, a version) only
    make the work after it run again now and then, never per request, as long as they read nothing
    the caller passes (``passed``: ``self._user == user_id`` keys the value by request data)."""
    for extra in test.values[1:]:
        if any(isinstance(n, ast.Name) and n.id in passed for n in ast.walk(extra)):
            return test
    return test.values[0]


def _from_the_caller(func: FunctionNode) -> set[str]:
    """The names whose value the caller chose: the parameters (``*args`` and ``**kwargs`` too, not
    ``self``/``cls``) and the locals assigned from them (``key = f"{owner}/{repo}"``)."""
    passed = parameter_names(func) - {"self", "cls"}
    flows: list[tuple[set[str], ast.expr]] = []
    for node in ast.walk(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            flows.append((named, node.value))
    changed = True
    while changed:
        changed = False
        for named, value in flows:
            if not named <= passed and any(isinstance(n, ast.Name) and n.id in passed for n in ast.walk(value)):
                passed |= named
                changed = True
    return passed


def _may_guard(test: ast.expr) -> bool:
    """The shapes a lazy-initialisation test takes: ``x``, ``not x``, ``x is None``, ``x is not None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        test = test.left
    return isinstance(test, (ast.Name, ast.Attribute))


def _receivers(func: FunctionNode) -> set[str]:
    positional = [*func.args.posonlyargs, *func.args.args]
    return {positional[0].arg} if positional and positional[0].arg in ("self", "cls") else set()


def _tested_receivers(tests: list[ast.expr], statements: list[ast.stmt]) -> set[str]:
    """The names a guard's slot can hang from: ``x`` in a test's ``x.attr``, or in a local's ``v = x.attr``.

    Only these can make a slot a guard tests and a body assigns (``_slot``), so only these need the
    walk over the whole function that tells an import from a local of the same name.
    """
    found = {
        node.value.id
        for test in tests
        for node in ast.walk(test)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }
    for stmt in statements:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Attribute) and isinstance(stmt.value.value, ast.Name):
            found.add(stmt.value.value.id)
        elif isinstance(stmt, ast.Assign) and (read := _getattr_read(stmt.value)) is not None:
            found.add(read[0])
    return found


def _getattr_read(node: ast.expr) -> tuple[str, str] | None:
    """``("self", "_registry")`` for ``getattr(self, "_registry", None)``: an attribute read by its written name."""
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
        and 2 <= len(node.args) <= 3 and not node.keywords
    ):
        return None
    holder, name = node.args[0], node.args[1]
    if isinstance(holder, ast.Name) and isinstance(name, ast.Constant) and isinstance(name.value, str):
        return holder.id, name.value
    return None


def _registers(decorator: ast.expr) -> bool:
    """``@app.get("/x")``, ``@app.exception_handler(E)``, ``@app.middleware("http")``: a decorator that
    hands the function to the app, which keeps it for as long as it serves (a decorator of another
    kind, ``@traced`` on a helper nested in a route handler, keeps nothing)."""
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in _REGISTERING_DECORATORS
    )


_REGISTERING_DECORATORS = ROUTE_DECORATORS | {"exception_handler", "middleware", "on_event"}


def _captured(func: FunctionNode, tested: set[str], statements: list[ast.stmt]) -> set[str]:
    """The names a registered function reads from outside itself: a route handler registered inside
    ``create_app()`` closing over its ``app``. The registration keeps the function, and with it what it
    closes over, for as long as the app serves: ``if not app.monitoring_enabled: ...; app.monitoring_enabled
    = True`` runs once per process. A parameter or a local of the function is no such name."""
    if not tested:
        return set()
    return _shared_receivers(tested - parameter_names(func), statements)


def _shared_receivers(shared: AbstractSet[str], statements: list[ast.stmt]) -> set[str]:
    """The imported names a function does not rebind (a local of the same name is not the import)."""
    if not shared:
        return set()
    local = {
        node.id
        for stmt in statements
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    return set(shared - local)


def _slot(node: ast.expr, receivers: set[str], globals_: set[str]) -> Slot | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in receivers:
        return ("attr", f"{node.value.id}.{node.attr}")
    read = _getattr_read(node)
    if read is not None and read[0] in receivers:
        return ("attr", f"{read[0]}.{read[1]}")  # ``getattr(self, "_registry", None)``
    if isinstance(node, ast.Name) and node.id in globals_:
        return ("global", node.id)
    return None


def _aliases(statements: list[ast.stmt], receivers: set[str], globals_: set[str]) -> dict[str, Slot]:
    """Locals read straight from a slot (``svc = self._svc``), in any block of the function."""
    assigned: dict[str, list[ast.expr]] = {}
    for stmt in statements:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            assigned.setdefault(stmt.targets[0].id, []).append(stmt.value)
    aliases: dict[str, Slot] = {}
    for name, values in assigned.items():
        # The alias may be reassigned with the new value (``svc = Svc()``); one slot read is enough.
        read = {slot for slot in (_slot(v, receivers, globals_) for v in values) if slot is not None}
        if len(read) == 1 and name not in globals_:
            aliases[name] = read.pop()
    return aliases


def _named_slot(node: ast.expr, receivers: set[str], globals_: set[str], aliases: dict[str, Slot]) -> Slot | None:
    if isinstance(node, ast.Name) and node.id in aliases:
        return aliases[node.id]
    return _slot(node, receivers, globals_)


def _unset_test(test: ast.expr, receivers: set[str], globals_: set[str], aliases: dict[str, Slot]) -> Slot | None:
    """The slot an ``if`` checks is still empty: ``x is None``, ``not x``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _named_slot(test.operand, receivers, globals_, aliases)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return _named_slot(test.left, receivers, globals_, aliases)
    return None


def _set_test(test: ast.expr, receivers: set[str], globals_: set[str], aliases: dict[str, Slot]) -> Slot | None:
    """The slot an ``if`` checks is already filled: ``x is not None``, ``x``."""
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.IsNot, ast.NotEq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return _named_slot(test.left, receivers, globals_, aliases)
    return _named_slot(test, receivers, globals_, aliases)


def _assigns(body: list[ast.stmt], slot: Slot, receivers: set[str], globals_: set[str]) -> bool:
    for stmt in body:
        for node in ast.walk(stmt):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            if any(_slot(t, receivers, globals_) == slot for t in targets):
                return True
    return False


def _switches_off(body: list[ast.stmt], slot: Slot, receivers: set[str], globals_: set[str]) -> bool:
    """Whether ``body`` sets the flag ``slot`` to a false constant (``False``, ``None``, ``0``) at its
    own level: the first run of the branch turns it off, whatever the branch did before."""
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Constant) and not stmt.value.value:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(_slot(t, receivers, globals_) == slot for t in targets):
                return True
    return False


def statement_lists(func: FunctionNode | ast.Module) -> Iterator[list[ast.stmt]]:
    """The statement lists of ``func`` (or of a module's top level) (its body and nested blocks, not nested defs or classes)."""
    stack: list[list[ast.stmt]] = [func.body]
    while stack:
        body = stack.pop()
        yield body
        for stmt in body:
            stack.extend(_nested_lists(stmt))


def _nested_lists(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists ``stmt`` holds (its body, ``else``, ``finally`` and handlers); none for a
    nested definition, whose statements run elsewhere."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for field in ("body", "orelse", "finalbody"):
        inner = getattr(stmt, field, None)
        if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
            yield inner
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body


def node_ids(body: list[ast.stmt]) -> Iterator[int]:
    for stmt in body:
        for node in ast.walk(stmt):
            yield id(node)


__all__ = ["node_ids", "run_once_lines", "run_once_nodes", "statement_lists"]
