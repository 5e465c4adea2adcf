"""Following a request body through a handler and the project helpers it is handed to.

FAA302 asks one question of a body that has no schema: does the code treat it
as data it relies on, or does something else check it?  Two readings answer
"something else checks it", and both need every use of the body understood:

- *handed on whole*: the body (or a copy of it, or its serialized text)
  reaches an outbound call's body keyword (``json=``, ``data=``, ``content=``:
  a pass-through proxy, the service behind it validates) or a validator
  (a model built from it, ``TypeAdapter.validate_python``), possibly after
  the code read or rewrote a few keys (the ``model`` a proxy routes on).
  A project helper the body is passed to is followed, by the class-aware
  call graph, and may return it (whole, or as one item of a tuple);
- *checked field by field*: the body is only read by fixed keys, and each
  value read is type-checked (``isinstance``), compared with a known value
  (a CSRF double-submit, an allow-list), or validated before it is used,
  there or in the helper it is passed to.

Anything the walk does not understand (the body iterated, stored on an
object, logged, merged into another dict, a helper it cannot see) keeps the
finding: the rule stays reported unless the code shows the check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flake8_fastapi_antipatterns.analysis.calls import CallResolver, Program, body_walk
from flake8_fastapi_antipatterns.analysis.classes import class_index, is_abstract, is_interface, module_overrides
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names

MAX_KEYS = 3
"""How many keys a pass-through may read or rewrite: a proxy routes on one or two (``model``,
``stream``); code that touches more is consuming the body and owes it a schema."""
_MAX_DEPTH = 6
FORWARDING_KEYWORDS = frozenset({"json", "content", "data", "body"})
"""Keywords of an outbound call that send a value on as the request's body."""
# Calls that only re-shape the raw body on its way to a validator.
PARSERS = frozenset(
    {"json.loads", "orjson.loads", "ujson.loads", "yaml.safe_load", "yaml.load", "yaml.full_load", "tomllib.loads"}
)
# Name words that say a call checks what it is given (a schema, a webhook signature).
VALIDATING_WORDS = frozenset({"validate", "validator", "valid", "verify", "signature", "hmac"})
VALIDATING_METHODS = frozenset({"construct_event", "parse_obj", "parse_raw", "deserialize"})
NOT_MODELS = ("fastapi.", "starlette.", "builtins.")
_KEY_READS = frozenset({"get", "pop"})
_COPIES = frozenset({"copy", "decode"})
_COPY_FUNCTIONS = frozenset({"builtins.dict", "copy.copy", "copy.deepcopy"})
_HARMLESS_BUILTINS = frozenset({"builtins.isinstance", "builtins.len", "builtins.bool"})
_CHECKING_COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


@dataclass
class Flow:
    """Where a value goes inside one function and the helpers it is handed to."""

    understood: bool = True
    """Every use of the value is one of those read here."""
    sinks: set[str] = field(default_factory=set)
    """``forward`` (an outbound call's body) and/or ``validator`` (a schema or signature check)."""
    keys: set[str] = field(default_factory=set)
    """Keys read or rewritten on the way."""
    returned: set[int | None] = field(default_factory=set)
    """Where the function returns the value: whole (None) or as that item of a returned tuple."""
    fields: list[tuple[CallResolver, FunctionNode, ast.expr]] = field(default_factory=list)
    """The values read by key (``body.get("x")``), with the function they are read in."""
    whole_uses: bool = False
    """The value was used as a whole (forwarded, validated, copied, handed to a helper),
    not only read by key: then it is not a body checked field by field."""

    def merge(self, other: Flow) -> None:
        self.understood = self.understood and other.understood
        self.sinks |= other.sinks
        self.keys |= other.keys
        self.fields.extend(other.fields)
        self.whole_uses = self.whole_uses or other.whole_uses or bool(other.sinks)

    @property
    def handed_on(self) -> bool:
        """Reaches an outbound call or a check whole, after touching only a few keys."""
        return self.understood and bool(self.sinks) and len(self.keys) <= MAX_KEYS


class _Function:
    """A function body with each node's parent, built once per function followed."""

    def __init__(self, resolver: CallResolver, func: FunctionNode) -> None:
        self.resolver = resolver
        self.func = func
        self.nodes = body_walk(func)
        self.parents: dict[int, ast.AST] = {}
        for node in self.nodes:
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        for statement in func.body:
            self.parents[id(statement)] = func

    def loads(self, name: str) -> list[ast.Name]:
        return [n for n in self.nodes if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))


def _constant_key(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _single_name(targets: Sequence[ast.expr]) -> str | None:
    return targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else None


class BodyFlow:
    """Follows a body value through a function and the project helpers it reaches."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._functions: dict[int, _Function] = {}
        self._params: dict[tuple[int, str], Flow] = {}

    def function(self, resolver: CallResolver, func: FunctionNode) -> _Function:
        found = self._functions.get(id(func))
        if found is None:
            found = self._functions[id(func)] = _Function(resolver, func)
        return found

    def called(self, where: _Function, call: ast.Call) -> list[tuple[CallResolver, FunctionNode]] | None:
        """The project functions a call may run: the function, or for an interface's abstract
        method the implementations its module defines (None: not a project function)."""
        resolved = where.resolver.function_called(call, where.resolver.where(where.func))
        if resolved is None:
            return None
        resolver, target = resolved
        owner = class_index(resolver.names).class_of(target)
        if owner is None or not is_interface(owner) or not is_abstract(target, resolver.names):
            return [resolved]
        overrides = module_overrides(owner, target.name)
        for _, method in overrides:
            # Called through the interface: the receiver is bound like the abstract method's.
            known = self.program.methods.get(id(target))
            if known is not None:
                self.program.methods[id(method)] = (method, known[1], known[2])
        return [(resolver, method) for _, method in overrides] or [resolved]

    # -- entry points ----------------------------------------------------------
    def of_name(self, resolver: CallResolver, func: FunctionNode, name: str, depth: int = 0) -> Flow:
        """Where the value a local name (a parameter) holds goes."""
        key = (id(func), name)
        known = self._params.get(key)
        if known is not None:
            return known
        self._params[key] = Flow(understood=False)  # a helper reached again through itself: not followed
        flow = Flow()
        self._follow(self.function(resolver, func), [name], [], flow, depth)
        self._params[key] = flow
        return flow

    def of_expression(self, resolver: CallResolver, func: FunctionNode, expr: ast.expr) -> Flow:
        """Where the value of an expression in ``func`` (``await request.json()``) goes."""
        flow = Flow()
        self._follow(self.function(resolver, func), [], [expr], flow, 0)
        return flow

    def checked_by_field(self, flow: Flow) -> bool:
        """Read only by fixed keys, and each key's value checked before use: where a function reads one
        key twice (``validate(body.get("x"))``, then ``run(body.get("x"))``), one checked read checks
        the value both hand on, since the body is not written to (a write is not understood)."""
        if not flow.understood or flow.whole_uses or not flow.fields:
            return False
        checked: dict[tuple[int, str | None], bool] = {}
        for resolver, func, read in flow.fields:
            key = (id(func), _read_key(read))
            if not checked.get(key):
                checked[key] = self._field_checked(resolver, func, read, 0)
        return all(checked.values())

    # -- following the whole value ---------------------------------------------
    def _follow(self, where: _Function, names: list[str], starts: list[ast.expr], flow: Flow, depth: int) -> None:
        aliases: set[str] = set()
        pending: list[ast.expr] = list(starts)
        queue = list(names)
        while queue or pending:
            while queue:
                name = queue.pop()
                if name not in aliases:
                    aliases.add(name)
                    pending.extend(where.loads(name))
            if pending:
                found = self._use(where, pending.pop(), flow, depth)
                queue.extend(found)
            if not flow.understood:
                return

    def _climb(self, where: _Function, node: ast.expr, flow: Flow) -> ast.expr:
        """The outermost expression that still is the value: a copy, its parsed or serialized form, ``x or None``."""
        names = where.resolver.names
        current: ast.expr = node
        for _ in range(4 * _MAX_DEPTH):
            parent = where.parent(current)
            if isinstance(parent, ast.Dict) and any(v is current for v in parent.values):
                index = next(i for i, v in enumerate(parent.values) if v is current)
                if parent.keys[index] is None:
                    # ``{**payload, "model": name}``: a copy, with the keys it sets.
                    flow.keys |= {k for k in (_constant_key(key) for key in parent.keys) if k is not None}
                flow.whole_uses = True  # a copy, or the value carried inside a new one: ``{"data": raw}``
                current = parent
            elif isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.IfExp) and parent.test is not current):
                current = parent
            elif (
                isinstance(parent, ast.Attribute)
                and parent.value is current
                and parent.attr in _COPIES
                and isinstance(grand := where.parent(parent), ast.Call)
                and grand.func is parent
            ):
                flow.whole_uses = True
                current = grand
            elif isinstance(parent, ast.Call) and len(parent.args) == 1 and parent.args[0] is current:
                qualified = names.qualify(parent.func)
                if qualified in PARSERS:
                    current = parent  # the same data, parsed: still read by key below
                elif _copies(names, parent):
                    flow.whole_uses = True
                    current = parent
                else:
                    return current
            else:
                return current
        return current

    def _use(self, where: _Function, occurrence: ast.expr, flow: Flow, depth: int) -> list[str]:
        """Reads one use of the value; returns the names it is now also held in."""
        node = self._climb(where, occurrence, flow)
        parent = where.parent(node)
        if isinstance(parent, ast.Subscript) and parent.value is node:
            key = _constant_key(parent.slice)
            if key is None:
                # Setting a key the code chose is a write, not a read of what the client sent.
                flow.understood = flow.understood and not isinstance(parent.ctx, ast.Load)
            else:
                flow.keys.add(key)
                if isinstance(parent.ctx, ast.Load):
                    flow.fields.append((where.resolver, where.func, parent))
            return []
        if isinstance(parent, ast.Attribute) and parent.value is node:
            call = where.parent(parent)
            key = _constant_key(call.args[0]) if isinstance(call, ast.Call) and call.args else None
            if isinstance(call, ast.Call) and call.func is parent and parent.attr in _KEY_READS and key is not None:
                flow.keys.add(key)
                flow.fields.append((where.resolver, where.func, call))
            else:
                flow.understood = False
            return []
        if isinstance(parent, ast.Compare):
            if parent.left is not node and isinstance(parent.ops[0], (ast.In, ast.NotIn)):
                key = _constant_key(parent.left)
                if key is None:
                    flow.understood = False
                else:
                    flow.keys.add(key)
            elif not all(isinstance(op, (ast.Is, ast.IsNot)) for op in parent.ops):
                flow.understood = False
            return []
        if (
            isinstance(parent, (ast.If, ast.While, ast.Assert))
            or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not))
            or (isinstance(parent, ast.IfExp) and parent.test is node)
        ):
            return []  # a truth test: is there a body at all (``json.loads(raw) if raw else {}``)
        if isinstance(parent, ast.keyword):
            call = where.parent(parent)
            if isinstance(call, ast.Call):
                return self._argument(where, call, node, parent.arg, flow, depth)
        if isinstance(parent, ast.Call) and parent.func is not node:
            return self._argument(where, parent, node, None, flow, depth)
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            name = _single_name(targets)
            if name is not None:
                return [name]
            if len(targets) == 1 and isinstance(targets[0], ast.Subscript) and isinstance(targets[0].value, ast.Name):
                flow.whole_uses = True
                return [targets[0].value.id]  # stored into a local container: ``tweaks[key] = raw``
            flow.understood = False
            return []
        if isinstance(parent, ast.Return):
            flow.returned.add(None)
            return []
        if isinstance(parent, ast.Tuple) and isinstance(where.parent(parent), ast.Return):
            flow.returned.add(next(i for i, item in enumerate(parent.elts) if item is node))
            return []
        if isinstance(parent, ast.Expr):
            return []
        flow.understood = False
        return []

    def _argument(
        self, where: _Function, call: ast.Call, value: ast.expr, keyword: str | None, flow: Flow, depth: int
    ) -> list[str]:
        """The value passed to a call: forwarded, checked, handed to a helper, or else not understood."""
        names = where.resolver.names
        if names.qualify(call.func) in _HARMLESS_BUILTINS or _keys_compared(names, call, where.parent(call)):
            return []
        flow.whole_uses = True
        resolved = self.called(where, call)
        if resolved is None and forwards(names, call, keyword):
            flow.sinks.add("forward")
            return []
        if is_validator(names, call) or self._result_validated(where, call):
            flow.sinks.add("validator")
            return []
        if resolved is None or depth >= _MAX_DEPTH:
            flow.understood = False
            return []
        returned: set[int | None] = set()
        for resolver, target in resolved:
            param = self._parameter(call, value, keyword, target)
            if param is None:
                flow.understood = False
                return []
            inner = self.of_name(resolver, target, param, depth + 1)
            flow.merge(inner)
            returned |= inner.returned
        return self._returned_into(where, call, returned, flow)

    def _returned_into(self, where: _Function, call: ast.Call, returned: set[int | None], flow: Flow) -> list[str]:
        """The names a helper's result holding the value is assigned to (``_, payload, _ = helper(body)``)."""
        if not returned:
            return []
        node: ast.AST = call
        parent = where.parent(call)
        if isinstance(parent, ast.Await):
            node, parent = parent, where.parent(parent)
        if not (isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1):
            flow.understood = False
            return []
        target = parent.targets[0]
        if isinstance(target, ast.Name) and None in returned:
            return [target.id]
        if isinstance(target, ast.Tuple) and None not in returned:
            found = [target.elts[i] for i in returned if isinstance(i, int) and i < len(target.elts)]
            if all(isinstance(item, ast.Name) for item in found) and len(found) == len(returned):
                return [item.id for item in found if isinstance(item, ast.Name)]
        flow.understood = False
        return []

    def _result_validated(self, where: _Function, call: ast.Call) -> bool:
        """``schema = preprocess(payload); is_valid_schema(schema)``: a value derived from it is checked."""
        parent = where.parent(call)
        if isinstance(parent, ast.Await):
            parent = where.parent(parent)
        if not (isinstance(parent, ast.Assign) and _single_name(parent.targets)):
            return False
        name = _single_name(parent.targets)
        return name is not None and name_validated(where.resolver.names, name, where.nodes)

    def _parameter(self, call: ast.Call, value: ast.expr, keyword: str | None, target: FunctionNode) -> str | None:
        """The parameter of ``target`` that ``value`` is passed to."""
        args = target.args
        if keyword is not None:
            named = {a.arg for a in (*args.args, *args.kwonlyargs)}
            return keyword if keyword in named else None
        if value not in call.args:
            return None
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        method = self.program.methods.get(id(target))
        if method is not None and method[1] == "class attribute" and method[2] != "class":
            method = None  # a staticmethod, or a plain function read off the class: no receiver
        skip = 1 if method is not None and method[2] != "static" and positional else 0
        index = next(i for i, arg in enumerate(call.args) if arg is value)
        if any(isinstance(arg, ast.Starred) for arg in call.args[:index]):
            return None
        index += skip
        return positional[index] if index < len(positional) else None

    # -- following one value read by key ----------------------------------------
    def _field_checked(self, resolver: CallResolver, func: FunctionNode, read: ast.expr, depth: int) -> bool:
        where = self.function(resolver, func)
        parent = where.parent(read)
        while (isinstance(parent, ast.IfExp) and parent.test is not read) or isinstance(parent, ast.BoolOp):
            # ``body.get("token") if isinstance(body, dict) else None``, ``body.get("id") or new_id()``:
            # the name then holds the value read or one the code made; checking it checks the read.
            read, parent = parent, where.parent(parent)
        if isinstance(parent, ast.Call) and self._checks(where, parent, read):
            return True
        if not isinstance(parent, (ast.Assign, ast.AnnAssign)) or parent.value is not read:
            return False
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        name = _single_name(targets)
        return name is not None and self._name_checked(where, name, depth)

    def _name_checked(self, where: _Function, name: str, depth: int) -> bool:
        """The value read is type-checked, pinned to a known value, or validated somewhere it is used."""
        for use in where.loads(name):
            parent = where.parent(use)
            if isinstance(parent, ast.keyword):
                parent = where.parent(parent)
            if isinstance(parent, ast.Call) and parent.func is not use:
                if self._checks(where, parent, use) or self._checked_in_helper(where, parent, use, depth):
                    return True
            elif isinstance(parent, ast.Compare) and self._pins(parent, use):
                return True
        return False

    def _checks(self, where: _Function, call: ast.Call, value: ast.expr) -> bool:
        names = where.resolver.names
        if names.qualify(call.func) == "builtins.isinstance":
            return bool(call.args) and call.args[0] is value
        return is_validator(names, call)

    @staticmethod
    def _pins(compare: ast.Compare, value: ast.expr) -> bool:
        """``csrf_cookie != csrf_field``, ``role not in ALLOWED``: compared with a known value."""
        if len(compare.ops) != 1 or not isinstance(compare.ops[0], _CHECKING_COMPARISONS):
            return False
        other = compare.comparators[0] if compare.left is value else compare.left
        return not (isinstance(other, ast.Constant) and other.value is None)

    def _checked_in_helper(self, where: _Function, call: ast.Call, value: ast.expr, depth: int) -> bool:
        if depth >= _MAX_DEPTH:
            return False
        resolved = self.called(where, call)
        if not resolved:
            return False
        keyword = next((k.arg for k in call.keywords if k.value is value), None)
        for resolver, target in resolved:
            param = self._parameter(call, value, keyword, target)
            if param is None or not self._name_checked(self.function(resolver, target), param, depth + 1):
                return False
        return True


def _keys_compared(names: Names, call: ast.Call, parent: ast.AST | None) -> bool:
    """``set(body) - {"name", "id"}``, ``set(body) <= ALLOWED``: the body's keys held against a set the
    code wrote, a check of which keys came (the values are read by key, and judged, elsewhere)."""
    if names.qualify(call.func) not in ("builtins.set", "builtins.frozenset") or len(call.args) != 1:
        return False
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Sub) and parent.left is call:
        other: ast.expr = parent.right
    elif isinstance(parent, ast.Compare) and len(parent.ops) == 1 and call in (parent.left, parent.comparators[0]):
        other = parent.comparators[0] if parent.left is call else parent.left
    else:
        return False
    return isinstance(other, (ast.Set, ast.Name, ast.Attribute))


def _read_key(read: ast.expr) -> str | None:
    """The key a field read names: ``body.get("x")``, ``body["x"]``."""
    if isinstance(read, ast.Call):
        return _constant_key(read.args[0]) if read.args else None
    return _constant_key(read.slice) if isinstance(read, ast.Subscript) else None


def _copies(names: Names, call: ast.Call) -> bool:
    """``dict(x)``, ``copy.deepcopy(x)``, ``json.dumps(x)``: the same value, copied or serialized."""
    callee = call.func
    if isinstance(callee, ast.Attribute) and callee.attr == "dumps":
        return True
    qualified = names.qualify(callee)
    return qualified is not None and (qualified in _COPY_FUNCTIONS or qualified.endswith(".dumps"))


def forwards(names: Names, call: ast.Call, keyword: str | None) -> bool:
    """A value passed as ``keyword`` is sent on as an outgoing request's body (``client.post(url, json=x)``).

    Responses built with ``content=`` send it back to the client instead: not a forward.
    """
    if keyword not in FORWARDING_KEYWORDS:
        return False
    qualified = names.qualify(call.func)
    return qualified is None or not qualified.startswith(NOT_MODELS)


def is_validator(names: Names, call: ast.Call) -> bool:
    """Whether a call checks what it is given: a schema, a model built from it, a signature check."""
    callee = call.func
    short = callee.attr if isinstance(callee, ast.Attribute) else callee.id if isinstance(callee, ast.Name) else ""
    lowered = short.lower()
    if lowered.startswith("model_validate") or lowered in VALIDATING_METHODS:
        return True
    if set(lowered.split("_")) & VALIDATING_WORDS:
        return True
    qualified = names.qualify(callee)
    if qualified is not None and qualified.split(".")[0] in ("hmac", "hashlib"):
        return True
    # Constructing a model from the data validates it: ``Item(**data)``, ``Valves(**form)``
    # with ``Valves`` a model class the code looked up (a CamelCase name).
    if isinstance(callee, ast.Name) and (
        callee.id in names.classes or (_camel_case(callee.id) and callee.id not in names.imports)
    ):
        return True
    return qualified is not None and not qualified.startswith(NOT_MODELS) and qualified.rsplit(".", 1)[-1][:1].isupper()


def _camel_case(name: str) -> bool:
    return name[:1].isupper() and not name.isupper() and "_" not in name


def name_validated(names: Names, name: str, nodes: Iterable[ast.AST], depth: int = 0) -> bool:
    """The variable goes into a check, or is turned into a value that does.

    ``raw = await request.body(); data = yaml.safe_load(raw); Item.model_validate(data)``;
    ``schema = preprocess(payload); is_valid_schema(schema)``.
    """
    nodes = list(nodes)
    for node in nodes:
        if isinstance(node, ast.Call) and is_validator(names, node):
            for value in [*node.args, *(k.value for k in node.keywords)]:
                inner = value.value if isinstance(value, ast.Starred) else value
                if isinstance(inner, ast.Name) and inner.id == name:
                    return True
        elif (
            depth < _MAX_DEPTH
            and isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id != name
            and isinstance(node.value, ast.Call)
            and any(isinstance(a, ast.Name) and a.id == name for a in node.value.args)
            and name_validated(names, node.targets[0].id, nodes, depth + 1)
        ):
            return True
    return False
