"""What a module-level setting holds in a deployment whose environment sets nothing.

``AIOHTTP_CLIENT_TIMEOUT = int(raw) if raw else None`` after ``raw = os.getenv("AIOHTTP_CLIENT_TIMEOUT", "")``
is ``None`` unless an operator sets the variable: a timeout built from it bounds nothing by default. A rule
that judges a value a setting supplies asks ``default_value``.

The module's top-level statements are run in order by a small evaluator over the few forms settings
are written in: constants, ``os.getenv``/``os.environ.get`` with their defaults (no default: ``None``),
``int``/``float``/``str``/``bool`` of those, ``.strip()``/``.lower()``/``.upper()``, conditional
expressions, ``and``/``or``/``not``, comparisons, and names bound earlier in the module or imported
from another project module. ``if`` takes the branch its test picks (both, when the test is not
known, and a name keeps a value only where the branches agree); ``try`` runs its handler when a
conversion in its body fails (``int("")``). Anything else is ``UNKNOWN``, and a rule stays silent on it.
"""

from __future__ import annotations

import ast
import weakref
from typing import Final

from flake8_fastapi_antipatterns.analysis.names import Names

UNKNOWN: Final = object()
"""What cannot be worked out without running the program."""

ENVIRONMENT_READS = frozenset({"os.getenv", "os.environ.get"})
_CONVERSIONS = {"builtins.int": int, "builtins.float": float, "builtins.str": str, "builtins.bool": bool}
_STRING_METHODS = frozenset({"strip", "lower", "upper", "rstrip", "lstrip"})
_MAX_MODULES = 4
"""How many imports deep a setting is followed (``env.py`` importing ``config.py``)."""

_DEFAULTS: weakref.WeakKeyDictionary[ast.Module, dict[str, object]] = weakref.WeakKeyDictionary()
_TAINTED: weakref.WeakKeyDictionary[ast.Module, set[str]] = weakref.WeakKeyDictionary()
"""The names whose default an environment variable decides, by module."""
_RUNNING: set[int] = set()
"""Ids of the modules being run now: an import cycle gives UNKNOWN instead of recursing."""


class _Failed(Exception):
    """A conversion the module makes would raise (``int("")``): the ``try`` handler for it runs."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def default_value(names: Names, expr: ast.expr, *, depth: int = 0) -> object:
    """What ``expr``, read at module level of ``names``' module after the whole module ran, holds by
    default: a Python value, or ``UNKNOWN``."""
    return setting_default(names, expr, depth=depth)[0]


def setting_default(
    names: Names, expr: ast.expr, *, before: ast.stmt | None = None, depth: int = 0
) -> tuple[object, bool]:
    """(``default_value``, whether the environment decides it: a variable read on the way). ``before``:
    a top-level statement of the module, to read the names as they are when it runs (a setting
    rebound later does not change what a timeout built there holds)."""
    try:
        if before is None:
            values, tainted = module_defaults(names, depth), _TAINTED.get(names.tree, set())
        else:
            values, tainted = _run_module(names, depth, before)
        evaluator = _Evaluator(names, dict(values), depth, set(tainted))
        return evaluator.value(expr), evaluator.read_environment
    except Exception:  # _Failed, RecursionError, or a form not expected
        return UNKNOWN, False


def module_defaults(names: Names, depth: int = 0) -> dict[str, object]:
    """The module's names with the values its top level leaves them (by default), where known."""
    known = _DEFAULTS.get(names.tree)
    if known is not None:
        return known
    key = id(names.tree)
    if key in _RUNNING or depth > _MAX_MODULES:
        return {}
    _RUNNING.add(key)
    try:
        values, tainted = _run_module(names, depth, None)
    finally:
        _RUNNING.discard(key)
    _DEFAULTS[names.tree] = values
    _TAINTED[names.tree] = tainted
    return values


def _run_module(names: Names, depth: int, before: ast.stmt | None) -> tuple[dict[str, object], set[str]]:
    values: dict[str, object] = {}
    evaluator = _Evaluator(names, values, depth, set())
    body = names.tree.body
    if before is not None and any(stmt is before for stmt in body):
        body = body[: next(i for i, stmt in enumerate(body) if stmt is before)]
    try:
        evaluator.run(body)
    except Exception:  # a form the evaluator did not expect: nothing is known of the module
        values.clear()
    return values, evaluator.tainted


class _Evaluator:
    def __init__(self, names: Names, values: dict[str, object], depth: int, tainted: set[str]) -> None:
        self.names = names
        self.values = values
        self.depth = depth
        self.trying = 0
        """How many ``try`` bodies are being run: a failure there goes to the handler."""
        self.environment: dict[str, str] = {}
        """Variables the module sets itself (``os.environ.setdefault``)."""
        self.environment_known = True
        """False once the module changed the environment in a way not followed."""
        self.star_imported = False
        self.tainted = tainted
        """Names whose value an environment variable decides."""
        self.read_environment = False
        """Set when the value worked out last read the environment (directly or through a name)."""

    # -- statements ---------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if self.trying:
                self._statement(stmt)
                continue
            try:
                self._statement(stmt)
            except _Failed:
                # Outside a ``try`` the module would not import by default (``int(os.getenv("PORT"))``
                # with nothing set): a deployment sets the variable, whatever it is.
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        self.values[node.id] = UNKNOWN

    def _statement(self, stmt: ast.stmt) -> None:
        self.read_environment = False
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value)
            for target in stmt.targets:
                self._bind(target, value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self._bind(stmt.target, self.value(stmt.value))
        elif isinstance(stmt, ast.AugAssign):
            self._bind(stmt.target, UNKNOWN)
        elif isinstance(stmt, ast.If):
            test = self._truth(stmt.test)
            decided_by_environment = self.read_environment
            if test is True:
                self.run(stmt.body)
            elif test is False:
                self.run(stmt.orelse)
            else:
                self._either(stmt.body, stmt.orelse)
            if decided_by_environment:
                # ``if TIMEOUT == "": TIMEOUT = None``: which value the names get, a variable decides.
                self.tainted.update(
                    n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                )
        elif isinstance(stmt, ast.Try):
            self._try(stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.values[stmt.name] = UNKNOWN
        elif isinstance(stmt, ast.ImportFrom) and any(alias.name == "*" for alias in stmt.names):
            # ``from defaults import *`` may rebind any name.
            for name in self.values:
                self.values[name] = UNKNOWN
            self.star_imported = True
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                self.values.pop((alias.asname or alias.name).split(".")[0], None)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._environment_call(stmt.value)
        else:
            # Loops, ``with``, ``match``, ``try``/``except*``, ``del``...: run who knows how, what they bind is not known.
            self._unknown_targets(stmt)
        for node in ast.walk(stmt):
            if isinstance(node, ast.NamedExpr):
                self.values[node.target.id] = UNKNOWN  # ``(TIMEOUT := 30)`` is not followed
            elif isinstance(node, ast.Global):
                self.values.update(dict.fromkeys(node.names, UNKNOWN))

    def _unknown_targets(self, stmt: ast.stmt) -> None:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                self.values[node.id] = UNKNOWN
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and self._environ(node.value):
                self.environment_known = False

    def _try(self, stmt: ast.Try) -> None:
        self.trying += 1
        try:
            self.run(stmt.body)
        except _Failed as failed:
            # What the body set before the failing statement stays set, as when Python runs it.
            self.trying -= 1
            handler = next((h for h in stmt.handlers if _catches(h, failed.error)), None)
            if handler is None:
                raise
            self.run(handler.body)
        else:
            self.trying -= 1
            self.run(stmt.orelse)
        self.run(stmt.finalbody)

    def _environ(self, node: ast.expr) -> bool:
        return self.names.qualify(node) == "os.environ"

    def _environment_call(self, call: ast.Call) -> None:
        """The module sets a variable itself (``os.environ.setdefault("TIMEOUT", "30")``): what a
        deployment that sets nothing gets is that value."""
        func = call.func
        if isinstance(func, ast.Attribute) and self._environ(func.value) and func.attr in ("setdefault", "update", "pop", "clear"):
            key = self.value(call.args[0]) if call.args else UNKNOWN
            value = self.value(call.args[1]) if len(call.args) > 1 else UNKNOWN
            if func.attr == "setdefault" and isinstance(key, str) and isinstance(value, str):
                self.environment.setdefault(key, value)
            else:
                self.environment_known = False
        elif self.names.qualify(func) in ("os.putenv", "os.unsetenv"):
            self.environment_known = False

    def _either(self, first: list[ast.stmt], second: list[ast.stmt]) -> None:
        """Both branches of a test not known: a name keeps a value only where they agree."""
        before = dict(self.values)
        outcomes: list[dict[str, object] | None] = []
        for branch in (first, second):
            self.values.clear()
            self.values.update(before)
            try:
                self.run(branch)
                outcomes.append(dict(self.values))
            except _Failed:
                outcomes.append(None)  # a branch that fails is not the one a working deployment takes
        done = [outcome for outcome in outcomes if outcome is not None]
        if not done:
            raise _Failed(ValueError("both branches fail"))
        self.values.clear()
        for name in set().union(*done):
            seen = [outcome.get(name, UNKNOWN) for outcome in done]
            self.values[name] = seen[0] if all(_same(seen[0], other) for other in seen[1:]) else UNKNOWN

    def _bind(self, target: ast.expr, value: object) -> None:
        if isinstance(target, ast.Name):
            self.values[target.id] = value
            if self.read_environment:
                self.tainted.add(target.id)
            else:
                self.tainted.discard(target.id)
        elif isinstance(target, ast.Subscript) and self._environ(target.value):
            key = self.value(target.slice)
            if isinstance(key, str) and isinstance(value, str):
                self.environment[key] = value
            else:
                self.environment_known = False
        else:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.values[node.id] = UNKNOWN

    # -- expressions --------------------------------------------------------------
    def value(self, expr: ast.expr) -> object:
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            return self._name(expr)
        if isinstance(expr, ast.IfExp):
            test = self._truth(expr.test)
            if test is None:
                # Either side may be the one Python evaluates: one that would fail is not known to run.
                sides: list[object] = []
                for side in (expr.body, expr.orelse):
                    try:
                        sides.append(self.value(side))
                    except _Failed:
                        sides.append(UNKNOWN)
                return sides[0] if _same(sides[0], sides[1]) else UNKNOWN
            return self.value(expr.body if test else expr.orelse)
        if isinstance(expr, ast.BoolOp):
            return self._bool_op(expr)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            truth = self._truth(expr.operand)
            return UNKNOWN if truth is None else not truth
        if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
            return self._compare(expr)
        if isinstance(expr, ast.Call):
            return self._call(expr)
        return UNKNOWN

    def _name(self, expr: ast.Name) -> object:
        if expr.id in self.values:
            if expr.id in self.tainted:
                self.read_environment = True
            return self.values[expr.id]
        if expr.id not in self.names.imports or self.star_imported:
            return UNKNOWN
        symbol = self.names.project_symbol(expr)
        if symbol is None or isinstance(symbol.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return UNKNOWN
        found = module_defaults(symbol.module.names, self.depth + 1).get(symbol.name, UNKNOWN)
        if symbol.name in _TAINTED.get(symbol.module.names.tree, ()):
            self.read_environment = True
        return found

    def _truth(self, expr: ast.expr) -> bool | None:
        value = self.value(expr)
        if value is UNKNOWN:
            return None
        try:
            return bool(value)
        except Exception:  # an odd constant's __bool__
            return None

    def _bool_op(self, expr: ast.BoolOp) -> object:
        result: object = UNKNOWN
        for operand in expr.values:
            result = self.value(operand)
            if result is UNKNOWN:
                return UNKNOWN
            if bool(result) == isinstance(expr.op, ast.Or):
                return result  # ``a or b`` stops at the first true value, ``a and b`` at the first false one
        return result

    def _compare(self, expr: ast.Compare) -> object:
        left, right = self.value(expr.left), self.value(expr.comparators[0])
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        op = expr.ops[0]
        try:
            if isinstance(op, ast.Eq):
                return left == right
            if isinstance(op, ast.NotEq):
                return left != right
            if isinstance(op, ast.Is):
                return left is right
            if isinstance(op, ast.IsNot):
                return left is not right
            if isinstance(op, ast.In):
                return left in right  # type: ignore[operator]
            if isinstance(op, ast.NotIn):
                return left not in right  # type: ignore[operator]
        except TypeError:
            return UNKNOWN
        return UNKNOWN

    def _call(self, call: ast.Call) -> object:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _STRING_METHODS and not call.args and not call.keywords:
            receiver = self.value(func.value)
            return getattr(receiver, func.attr)() if type(receiver) is str else UNKNOWN
        callee = self.names.qualify(func)
        if callee in ENVIRONMENT_READS:
            self.read_environment = True
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return UNKNOWN
            if not self.environment_known:
                return UNKNOWN
            key = self.value(call.args[0]) if call.args else UNKNOWN
            if isinstance(key, str) and key in self.environment:
                return self.environment[key]
            default = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "default"), None)
            return self.value(default) if default is not None else None
        convert = _CONVERSIONS.get(callee or "")
        if convert is not None and len(call.args) == 1 and not call.keywords:
            argument = self.value(call.args[0])
            if argument is UNKNOWN:
                return UNKNOWN
            try:
                return convert(argument)
            except Exception as error:  # ValueError, TypeError, OverflowError: the handler for it runs
                raise _Failed(error) from error
        return UNKNOWN


def _catches(handler: ast.ExceptHandler, error: BaseException) -> bool:
    """Whether an ``except`` names the class of ``error`` or a base of it (a bare one catches all)."""
    if handler.type is None:
        return True
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    bases = {cls.__name__ for cls in type(error).__mro__}
    return any((n.attr if isinstance(n, ast.Attribute) else n.id if isinstance(n, ast.Name) else None) in bases for n in caught)


def _same(one: object, other: object) -> bool:
    if one is UNKNOWN or other is UNKNOWN:
        return False
    try:
        return type(one) is type(other) and bool(one == other)
    except Exception:
        return False
