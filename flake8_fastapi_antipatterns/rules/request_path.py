"""FAA103: a route handler waits for LLM/agent work and returns its result.

An LLM call is one of: a request on an OpenAI/Anthropic client (sync or
async), LangChain/LangGraph ``invoke``/``ainvoke``/``batch``/``abatch``,
LiteLLM, a name from ``--faa-llm-calls``, or a project function (this module,
a nested ``def`` or another project module) that makes one, followed
transitively.  An imported or undefined function, or a project function the
handler calls whose body shows no LLM call we recognise, counts when its own
name says so: a model word with an action word (``call_llm``, ``ask_gpt``,
``generate_llm_response``) or an agent word with a run-like action
(``run_agent``, ``invoke_agent``); ``get_agent``/``list_agents`` do not, nor does a project
function so named that schedules work (``create_task``, ``add_task``...), itself or through helpers.

The handler is reported at the call when the call's result reaches a
``return`` (directly, or through variables, containers and attribute
access).  It is quiet when the route answers 202 (``status_code=202`` on the
decorator or the response), streams (``StreamingResponse``/
``EventSourceResponse``, as ``response_class`` or returned), or when the call
runs a project helper that itself returns a streaming response in some branch
(``return await run_flow(request, stream=request.stream)``: the client chose
between a stream and the whole answer), or when the call is handed to a scheduler (``add_task``, ``.delay``, ``.apply_async``,
``.enqueue``, ``create_task``...).  Websocket handlers are not requests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from flake8_fastapi_antipatterns.analysis.app_model import Route
from flake8_fastapi_antipatterns.analysis.blocking import (
    HANDOFF_METHODS,
    STREAMING_RESPONSES,
    classify_path,
    llm_like_name,
    matches_configured,
)
from flake8_fastapi_antipatterns.analysis.calls import (
    CallResolver,
    Where,
    body_walk,
    call_text,
    method_name,
    ordered_calls,
    short,
)
from flake8_fastapi_antipatterns.analysis.names import FunctionNode
from flake8_fastapi_antipatterns.analysis.short_answers import asks_short_answer, small_value_name
from flake8_fastapi_antipatterns.rules import Checker, register

ACCEPTED_NAMES = frozenset(
    {"fastapi.status.HTTP_202_ACCEPTED", "starlette.status.HTTP_202_ACCEPTED", "http.HTTPStatus.ACCEPTED"}
)
HANDOFF_FUNCTIONS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
_MAX_TAINT_ROUNDS = 20
# Methods that put their argument into the container they are called on (``results.append(x)``).
CONTAINER_FILLERS = frozenset({"append", "appendleft", "extend", "insert", "update", "setdefault"})


def _schedules_work(resolver: CallResolver, call: ast.Call) -> bool:
    """``asyncio.create_task(...)``, ``background_tasks.add_task(...)``: a call that schedules work elsewhere."""
    return method_name(call) in HANDOFF_METHODS or resolver.names.qualify(call.func) in HANDOFF_FUNCTIONS


def _handed_off(func: FunctionNode, resolver: CallResolver) -> set[int]:
    """Ids of every node inside the arguments of a call that schedules work elsewhere."""
    inside: set[int] = set()
    for node in body_walk(func):
        if isinstance(node, ast.Call) and _schedules_work(resolver, node):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                inside.update(id(n) for n in ast.walk(argument))
    return inside


def _scheduler(resolver: CallResolver, call: ast.Call, where: Where) -> str | None:
    """The scheduling call's name, as ``reach`` asks it (``_schedules_work``)."""
    return short(call.func) if _schedules_work(resolver, call) else None


def calls_not_handed_off(func: FunctionNode, resolver: CallResolver) -> Iterator[ast.Call]:
    handed = _handed_off(func, resolver)
    return (call for call in ordered_calls(func) if id(call) not in handed)


def long_work_calls(func: FunctionNode, resolver: CallResolver) -> Iterator[ast.Call]:
    """The calls the request waits for that may be long model work: not handed off, and not asking
    for a short answer (a few capped tokens, a structured verdict; ``analysis/short_answers.py``)."""
    return (call for call in calls_not_handed_off(func, resolver) if not asks_short_answer(call))


def long_work_calls_of(resolver: CallResolver, func: FunctionNode) -> Iterator[ast.Call]:
    return long_work_calls(func, resolver)


def _target_names(target: ast.expr) -> set[str]:
    """Names a store to ``target`` changes (``x``, ``x[k]``, ``x.attr``, tuples of them)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        return _target_names(target.value)
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(e) for e in target.elts)) if target.elts else set()
    return set()


def _assignments(func: FunctionNode) -> list[tuple[set[str], ast.expr]]:
    """(names changed, expression whose value flows into them) for every store in the body."""
    flows: list[tuple[set[str], ast.expr]] = []
    for node in body_walk(func):
        if isinstance(node, ast.Assign):
            names: set[str] = set()
            for target in node.targets:
                names |= _target_names(target)
            flows.append((names, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            flows.append((_target_names(node.target), node.value))
        elif isinstance(node, ast.NamedExpr):
            flows.append(({node.target.id}, node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            flows.append((_target_names(node.target), node.iter))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    flows.append((_target_names(item.optional_vars), item.context_expr))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CONTAINER_FILLERS
            and isinstance(node.func.value, ast.Name)
        ):
            # results.append(x) / data.update(x): the container now holds x.
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                flows.append(({node.func.value.id}, argument))
    return flows


def returned_calls(func: FunctionNode) -> frozenset[int]:
    """Ids of the calls whose value reaches a ``return`` of ``func`` (flow-insensitive), every call at
    once: the names the returned values read, then the names the stores into those read, and so on;
    a call inside a returned value or inside a store into one of those names is returned."""
    flows = [(names, value, _loaded_names(value)) for names, value in _assignments(func)]
    returned_values = [n.value for n in body_walk(func) if isinstance(n, ast.Return) and n.value is not None]
    needed: set[str] = set()
    for value in returned_values:
        needed |= _loaded_names(value)
    for _ in range(_MAX_TAINT_ROUNDS):
        before = len(needed)
        for names, _value, loaded in flows:
            if names & needed:
                needed |= loaded
        if len(needed) == before:
            break
    sources = [*returned_values, *(value for names, value, _loaded in flows if names & needed)]
    return frozenset(id(node) for source in sources for node in ast.walk(source) if isinstance(node, ast.Call))


def _loaded_names(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@register
class RequestPathChecker(Checker):
    codes = ("FAA103",)

    def run(self) -> None:
        self.program = self.ctx.program
        resolver = self.program.main
        for route in self.ctx.model.routes:
            if route.is_websocket or self._quiet(route, resolver):
                continue
            self._check_handler(resolver, route.func)

    def _check_handler(self, resolver: CallResolver, handler: FunctionNode) -> None:
        where = resolver.where(handler)
        reported: set[int] = set()
        # Only a call whose result the handler returns is asked what it reaches: the search through
        # helpers is the costly part, and most calls of a handler return nothing it answers with.
        returned = returned_calls(handler)
        for call in long_work_calls(handler, resolver):
            if call.lineno in reported or id(call) not in returned:
                continue
            found = self._llm_chain(resolver, call, where)
            if found is None:
                continue
            target = self.program.what_runs(resolver, call, where)[0]
            if target is not None and self._returns_stream(*target):
                # ``return await run_flow(request, stream=request.stream)``: the helper answers with a
                # stream when the client asks for one; a client that asks for the whole answer chose to wait.
                continue
            chain, place = found
            reported.add(call.lineno)
            text = (
                f"route handler `{handler.name}` waits for `{call_text(call)}` and returns its result: "
                + " -> ".join([handler.name, *chain])
                + place
            )
            self.ctx.report("FAA103", call, text, call=chain[-1], function=handler.name, chain=[handler.name, *chain])

    # -- what counts as LLM work --------------------------------------------------
    def _llm_chain(self, resolver: CallResolver, call: ast.Call, where: Where) -> tuple[list[str], str] | None:
        """How the call reaches LLM work: ``["AsyncOpenAI.chat.completions.create"]`` or via helpers,
        and where the LLM call at the end of helpers is (``Reach.place``; empty for a direct call)."""
        what = self._direct(resolver, call, where)
        if what is not None:
            return [what], ""
        target = self.program.what_runs(resolver, call, where)[0]
        if target is None or small_value_name(target[1].name):
            return None  # a helper named for a title or a verdict makes a side call, not long work
        reach = self.program.reach(
            "llm",
            target[0],
            target[1],
            resolver.bind(call, where, target[1]),
            self._direct,
            lambda _resolver, func: not small_value_name(func.name),
            long_work_calls_of,
        )
        if reach is not None:
            return [*reach.chain, reach.what], reach.place
        if llm_like_name(target[1].name) and not self._schedules(resolver, call, where, target):
            # Its body shows no SDK we know (raw HTTP to a model API, say): its name still says what it does.
            return [f"{target[1].name} (an LLM/agent call, judging by its name)"], ""
        return None

    def _schedules(
        self, resolver: CallResolver, call: ast.Call, where: Where, target: tuple[CallResolver, FunctionNode]
    ) -> bool:
        """Whether the helper a route awaits (named for agent work, with no model call in sight) hands
        work to a scheduler, itself or through the project functions it calls (``run_agents`` creating
        a run row and ``asyncio.create_task(...)``): what it is named for then runs after it returns.
        Not when it also awaits a library call itself (``await client.post(...)`` to a model gateway
        beside a scheduled metric): that is the work the route waits for."""
        helper_resolver, helper = target
        helper_where = helper_resolver.where(helper)
        for node in body_walk(helper):
            if isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
                if self.program.what_runs(helper_resolver, node.value, helper_where)[0] is None:
                    return False
        found = self.program.reach(
            "schedules",
            helper_resolver,
            helper,
            resolver.bind(call, where, helper),
            _scheduler,
            lambda _resolver, _func: True,
            lambda _resolver, func: ordered_calls(func),
        )
        return found is not None

    def _direct(self, resolver: CallResolver, call: ast.Call, where: Where) -> str | None:
        target, path = self.program.what_runs(resolver, call, where)
        if target is not None:
            return None  # a project function: its body is read instead of its name
        verdict = classify_path(path)
        if verdict is not None and verdict.llm:
            return verdict.what
        configured = matches_configured(path, method_name(call), self.ctx.settings.llm_calls)
        if configured is not None:
            return configured
        if verdict is None and self._named_like_llm(resolver, call, where):
            return f"{short(call.func)} (an LLM/agent call, judging by its name)"
        return None

    def _named_like_llm(self, resolver: CallResolver, call: ast.Call, where: Where) -> bool:
        """An imported or undefined function whose own name says LLM/agent (no body to read)."""
        callee = call.func
        names = resolver.names
        if isinstance(callee, ast.Name):
            for func in where.funcs:
                scope = names.scope(func)
                if callee.id in scope.values or callee.id in scope.params or callee.id in scope.unknown:
                    return False
            defined = (
                callee.id in names.bindings
                or callee.id in names.classes
                or callee.id in names.functions
                or callee.id in names.annotations
            )
            imported = callee.id in names.imports
            if defined and not imported:
                return False
            if not imported and names.qualify(callee) is not None:
                return False  # a builtin
            return llm_like_name(callee.id) and not small_value_name(callee.id)
        if isinstance(callee, ast.Attribute):
            # module.func where module is an import: ``agents.run_agent(...)``.
            return (
                names.qualify(callee, names.scope(where.funcs[0])) is not None
                and llm_like_name(callee.attr)
                and not small_value_name(callee.attr)
            )
        return False

    # -- routes that are already fine ----------------------------------------------
    def _quiet(self, route: Route, resolver: CallResolver) -> bool:
        names = resolver.names
        if self._is_202(route.keyword("status_code"), resolver):
            return True
        response_class = route.keyword("response_class")
        if response_class is not None and self._is_streaming(names.value_path(response_class)):
            return True
        if self._returns_stream(resolver, route.func):
            return True
        where = resolver.where(route.func)
        for node in body_walk(route.func):
            if isinstance(node, ast.Return) and isinstance(node.value, (ast.Call, ast.Name)):
                value = self._returned_call(node.value, resolver, where)
                if value is not None and any(k.arg == "status_code" and self._is_202(k.value, resolver) for k in value.keywords):
                    return True
            elif (
                isinstance(node, ast.Assign)
                and self._is_202(node.value, resolver)
                and any(isinstance(t, ast.Attribute) and t.attr == "status_code" for t in node.targets)
            ):
                return True  # response.status_code = 202
        return False

    def _returns_stream(self, resolver: CallResolver, func: FunctionNode) -> bool:
        """Whether some ``return`` of ``func`` answers with a streaming response (``StreamingResponse``,
        ``EventSourceResponse``), built there or bound to a name first."""
        where = resolver.where(func)
        for node in body_walk(func):
            if isinstance(node, ast.Return) and isinstance(node.value, (ast.Call, ast.Name)):
                value = self._returned_call(node.value, resolver, where)
                if value is not None and self._is_streaming(resolver.path(value.func, where)):
                    return True
        return False

    @staticmethod
    def _returned_call(value: ast.expr, resolver: CallResolver, where: Where) -> ast.Call | None:
        if isinstance(value, ast.Name):
            bound = resolver.names.scope(where.funcs[0]).values.get(value.id)
            return bound if isinstance(bound, ast.Call) else None
        return value if isinstance(value, ast.Call) else None

    @staticmethod
    def _is_streaming(path: str | None) -> bool:
        return path is not None and path.removesuffix("()").split(".")[-1].endswith(STREAMING_RESPONSES)

    @staticmethod
    def _is_202(value: ast.expr | None, resolver: CallResolver) -> bool:
        if value is None:
            return False
        if isinstance(value, ast.Constant):
            return value.value == 202 and not isinstance(value.value, bool)
        return resolver.names.qualify(value) in ACCEPTED_NAMES
