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
_RUNNING: set[int] = set()
"""Ids of the modules being run now: an import cycle gives UNKNOWN instead of recursing."""


class _Failed(Exception):
    """A conversion the module makes would raise (``int("")``): its ``try`` handler runs."""


def default_value(names: Names, expr: ast.expr, *, depth: int = 0) -> object:
    """What ``expr``, read at module level of ``names``' module after the whole module ran, holds by
    default: a Python value, or ``UNKNOWN``."""
    try:
        return _Evaluator(names, module_defaults(names, depth), depth).value(expr)
    except (_Failed, RecursionError):
        return UNKNOWN


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
        values: dict[str, object] = {}
        evaluator = _Evaluator(names, values, depth)
        try:
            evaluator.run(names.tree.body)
        except RecursionError:
            values.clear()
    finally:
        _RUNNING.discard(key)
    _DEFAULTS[names.tree] = values
    return values


class _Evaluator:
    def __init__(self, names: Names, values: dict[str, object], depth: int) -> None:
        self.names = names
        self.values = values
        self.depth = depth
        self.trying = 0
        """How many ``try`` bodies are being run: a failure there goes to the handler."""

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
            if test is True:
                self.run(stmt.body)
            elif test is False:
                self.run(stmt.orelse)
            else:
                self._either(stmt.body, stmt.orelse)
        elif isinstance(stmt, ast.Try):
            before = dict(self.values)
            self.trying += 1
            try:
                self.run(stmt.body)
            except _Failed:
                self.trying -= 1
                self.values.clear()
                self.values.update(before)
                if not stmt.handlers:
                    raise
                self.run(stmt.handlers[0].body)
            else:
                self.trying -= 1
                self.run(stmt.orelse)
            self.run(stmt.finalbody)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.values[stmt.name] = UNKNOWN
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            # Run who knows how often: what they bind is not known.
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self.values[node.id] = UNKNOWN
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                self.values.pop((alias.asname or alias.name).split(".")[0], None)

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
            raise _Failed
        self.values.clear()
        for name in set().union(*done):
            seen = [outcome.get(name, UNKNOWN) for outcome in done]
            self.values[name] = seen[0] if all(_same(seen[0], other) for other in seen[1:]) else UNKNOWN

    def _bind(self, target: ast.expr, value: object) -> None:
        if isinstance(target, ast.Name):
            self.values[target.id] = value
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
                body, orelse = self.value(expr.body), self.value(expr.orelse)
                return body if _same(body, orelse) else UNKNOWN
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
            return self.values[expr.id]
        if expr.id not in self.names.imports:
            return UNKNOWN
        symbol = self.names.project_symbol(expr)
        if symbol is None or isinstance(symbol.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return UNKNOWN
        return module_defaults(symbol.module.names, self.depth + 1).get(symbol.name, UNKNOWN)

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
            return getattr(receiver, func.attr)() if isinstance(receiver, str) else UNKNOWN
        callee = self.names.qualify(func)
        if callee in ENVIRONMENT_READS:
            default = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "default"), None)
            return self.value(default) if default is not None else None
        convert = _CONVERSIONS.get(callee or "")
        if convert is not None and len(call.args) == 1 and not call.keywords:
            argument = self.value(call.args[0])
            if argument is UNKNOWN:
                return UNKNOWN
            try:
                return convert(argument)
            except (ValueError, TypeError) as error:
                raise _Failed from error
        return UNKNOWN


def _same(one: object, other: object) -> bool:
    if one is UNKNOWN or other is UNKNOWN:
        return False
    try:
        return type(one) is type(other) and bool(one == other)
    except Exception:
        return False
