"""FAA101/FAA102: blocking calls that run on the event loop.

Every ``async def`` is checked (routes, dependencies, lifespans, background
coroutines): the calls its body makes directly, and the calls made by the
sync functions it calls, followed transitively through this module, nested
``def``s and the project's other modules.  A finding is reported at the
call in the coroutine; a helper's finding carries the call chain
(``get_user -> load_user -> Session.query``).  A helper's untyped
parameters take what the caller passes (``load_user(db, 1)`` with ``db`` a
Session).

What is not run on the loop is not reported: a plain ``def`` route
(FastAPI runs it in a threadpool), a function or bound method *passed* to
``run_in_threadpool``/``asyncio.to_thread``/``run_in_executor`` rather than
called, an ``open`` whose file only such a thread or a child process reads
or writes (``analysis/file_handles.py``), lambdas and nested ``def``s that
are not called, awaited calls, sync generator helpers (their body runs where
they are iterated, often a threadpool), ``lru_cache``/``cache`` helpers
(their body runs once).  Neither is what a request does not pay for each
time: lazy initialisation (``analysis/run_once.py``; its guard may ask a predicate method of the
object, ``analysis/predicate_guards.py``), a file at a fixed path
written only while it is missing (``analysis/created_once.py``), code behind
a debug or development switch (``analysis/development.py``), a file read again only
when its modification time changed (``analysis/stat_cached.py``), local file work in
the rounds of a loop that waits half a minute or more each time (``analysis/periodic.py``), the
removal of a temporary directory just made and still empty (``analysis/fresh_dirs.py``), local file work
behind a tracing or profiling switch (FAA102 only: a trace file written while
the switch is on, ``diagnostics_only`` there), a ``Popen``
that only starts a process (``analysis/processes.py``) and, for FAA101, the
cleanup of a thread-local ``scoped_session`` guarded by ``registry.has()``
(``analysis/thread_sessions.py``).  Methods of project
classes are followed (``analysis/classes.py``: ``self.repo.get()``,
``Repo(db).list()``, class-based views); what cannot be resolved
(``request.app.state.redis``, an attribute a library base class sets) is not
reported.

The call-following machinery lives in ``analysis/calls.py``.
"""

from __future__ import annotations

import ast
import weakref

from flake8_fastapi_antipatterns.analysis.blocking import Family, classify_path, local_file_work, matches_configured
from flake8_fastapi_antipatterns.analysis.calls import (
    CACHE_DECORATORS,
    CallResolver,
    Where,
    body_walk,
    call_text,
    calls_on_loop,
    calls_with_operations,
    handed_on,
    method_name,
    ordered_calls,
    short,
    site_id,
)
from flake8_fastapi_antipatterns.analysis.classes import class_index
from flake8_fastapi_antipatterns.analysis.created_once import created_once_nodes
from flake8_fastapi_antipatterns.analysis.development import development_only, diagnostics_only
from flake8_fastapi_antipatterns.analysis.file_handles import opened_for_elsewhere
from flake8_fastapi_antipatterns.analysis.fixed_paths import FixedPaths, kernel_file, opened_path, read_only_open
from flake8_fastapi_antipatterns.analysis.fresh_dirs import REMOVALS, fresh_directory_calls
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names
from flake8_fastapi_antipatterns.analysis.nodes import bound_arguments
from flake8_fastapi_antipatterns.analysis.periodic import outside_loops, periodic_nodes
from flake8_fastapi_antipatterns.analysis.predicate_guards import predicate_guarded_nodes
from flake8_fastapi_antipatterns.analysis.processes import SPAWN, only_starts
from flake8_fastapi_antipatterns.analysis.refresh_guards import refresh_nodes
from flake8_fastapi_antipatterns.analysis.run_once import run_once_nodes
from flake8_fastapi_antipatterns.analysis.stat_cached import stat_cached_nodes
from flake8_fastapi_antipatterns.analysis.thread_sessions import thread_guarded_calls
from flake8_fastapi_antipatterns.rules import Checker, register


def _decorator_name(decorator: ast.expr, names: Names) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return names.qualify(target)


FAMILIES: tuple[Family, ...] = ("db", "io")
FAMILY_CODES: dict[Family, str] = {"db": "FAA101", "io": "FAA102"}
FAMILY_WORDS: dict[Family, str] = {"db": "database call", "io": "call"}


# ``_not_per_request`` answers by function (weakly: they hold only ids of its nodes), kept across
# the files of a run: a helper many coroutines reach is asked again by each file that reaches it.
_NOT_PER_REQUEST: weakref.WeakKeyDictionary[ast.AST, dict[Family, frozenset[int]]] = weakref.WeakKeyDictionary()


def _not_per_request(names: Names, func: FunctionNode, family: Family) -> frozenset[int]:
    """``_calls_not_per_request``, worked out once per function and family."""
    known = _NOT_PER_REQUEST.get(func)
    if known is None:
        known = _NOT_PER_REQUEST[func] = {}
    answer = known.get(family)
    if answer is None:
        answer = known[family] = _calls_not_per_request(names, func, family)
    return answer


def _calls_not_per_request(names: Names, func: FunctionNode, family: Family) -> frozenset[int]:
    """Calls of a function that a production request does not pay for each time.

    Lazy initialisation (``analysis/run_once.py``, and for other calls than the database's its guard
    asked of a predicate method, ``analysis/predicate_guards.py``): only the first call makes them. For database
    calls only module globals and attributes of what the module imports count: ``self._user`` on
    a service built per request caches for that request only. For other calls, a file at a fixed path written only while it is missing
    (``analysis/created_once.py``) is written once per installation, and a file read again only when
    its modification time changed (``analysis/stat_cached.py``) costs a request a ``stat``, and a file opened
    only for a thread, a child process or a lock to use (``analysis/file_handles.py``) is not read or
    written on the loop. And code behind a debug or
    development switch (``analysis/development.py``) does not run in production at all. For database
    calls, a call on a thread-local ``scoped_session`` guarded by its ``registry.has()``
    (``analysis/thread_sessions.py``) only follows this thread's own use of the session, which is
    where the blocking work is reported."""
    once = run_once_nodes(func, attributes=family == "io", shared=names.imports.keys())
    development = development_only(func)
    skipped = once | development if development else once
    if family != "io":
        guarded = thread_guarded_calls(func, names)
        return skipped | guarded if guarded else skipped
    fixed = FixedPaths(names)
    created = created_once_nodes(func, lambda path: fixed.fixed(path, (func,)), names.spelled)
    if created:
        skipped = skipped | created
    methods = _sibling_methods(names, func)
    predicated = predicate_guarded_nodes(func, methods)
    if predicated:
        skipped = skipped | predicated
    refreshed = refresh_nodes(func, methods)
    if refreshed:
        skipped = skipped | refreshed
    stat_cached = stat_cached_nodes(func)
    if stat_cached:
        skipped = skipped | stat_cached
    # A file a helper opens only for a thread, a child process or a lock to use (``file_handles``).
    elsewhere = opened_for_elsewhere(func, names)
    return skipped | elsewhere if elsewhere else skipped


def _sibling_methods(names: Names, func: FunctionNode) -> dict[str, FunctionNode]:
    """The methods of the class ``func`` is a method of, by name (none for a plain function)."""
    owner = class_index(names).class_of(func)
    if owner is None:
        return {}
    return {stmt.name: stmt for stmt in owner.node.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))}


_MAX_CALLBACK_SCOPES = 16
"""How many different sets of functions handed to a coroutine are checked (``_given_callbacks``)."""


def _calls_a_parameter(call: ast.Call, parameters: frozenset[str]) -> bool:
    """``get_team(resource_id)`` for a parameter ``get_team``, or a call handing such a parameter on."""
    if not parameters:
        return False
    if isinstance(call.func, ast.Name) and call.func.id in parameters:
        return True
    return any(isinstance(a, ast.Name) and a.id in parameters for a in (*call.args, *(k.value for k in call.keywords)))


def _called_parameters(func: FunctionNode) -> frozenset[str]:
    """The parameters a function's body calls (``get_team(resource_id)``), not rebound in it."""
    arguments = func.args
    params = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    called = {c.func.id for c in ordered_calls(func) if isinstance(c.func, ast.Name) and c.func.id in params}
    if called:
        called -= {n.id for n in body_walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return frozenset(called)


def _polls(call: ast.Call, what: str) -> bool:
    """A wait for a process given ``timeout=0``: it returns (or raises) at once instead of waiting."""
    if not what.endswith(("wait", "wait_procs")):
        return False
    timeout = next((k.value for k in call.keywords if k.arg == "timeout"), None)
    return isinstance(timeout, ast.Constant) and not isinstance(timeout.value, bool) and timeout.value == 0


@register
class EventLoopChecker(Checker):
    codes = ("FAA101", "FAA102")

    def run(self) -> None:
        self.program = self.ctx.program
        resolver = self.program.main
        for node in self.ctx.names.nodes.of(ast.AsyncFunctionDef):
            self._check_coroutine(resolver, node)

    # -- one coroutine ----------------------------------------------------------
    def _check_coroutine(self, resolver: CallResolver, coroutine: ast.AsyncFunctionDef) -> None:
        where = resolver.where(coroutine)
        # Each scope with what to say of it: the functions a caller hands in are named by that call.
        # Worked out only once a call of a parameter is met: most coroutines call none.
        plain: list[tuple[Where, str]] = [(where, "")]
        wheres: list[tuple[Where, str]] | None = None
        callbacks = _called_parameters(coroutine)
        reported: set[tuple[int, str]] = set()
        # Which calls a request does not pay for is worked out only once a call would be reported:
        # most coroutines have none, and each answer is a walk of the whole function.
        skipped: dict[Family, frozenset[int]] = {}
        awaited_inline = lambda call: resolver.runs_factory(call, where)  # noqa: E731
        for call in calls_on_loop(coroutine, resolver.names, resolver.operations(coroutine), awaited_inline):
            site = site_id(call)
            for family in FAMILIES:
                code = FAMILY_CODES[family]
                if (call.lineno, code) in reported:
                    continue
                scopes = plain
                if _calls_a_parameter(call, callbacks):
                    if wheres is None:
                        wheres = plain + self._given_callbacks(resolver, coroutine, callbacks)
                    scopes = wheres
                message = None
                for given, handed in scopes:
                    message = self._finding(resolver, call, given, coroutine, family)
                    if message is not None:
                        message = (message[0] + handed, message[1])
                        break
                if message is None:
                    continue
                if family not in skipped:
                    skipped[family] = _not_per_request(resolver.names, coroutine, family)
                if site in skipped[family]:
                    continue
                if family == "io":
                    if local_file_work(str(message[1]["call"])) and site in periodic_nodes(coroutine):
                        continue  # a periodic round's few file reads, once every half minute or more
                    if local_file_work(str(message[1]["call"])) and self._started_once(call, coroutine):
                        continue  # a task started at start-up, before or after its loop: once per process
                    if message[1]["call"] in REMOVALS and site in fresh_directory_calls(coroutine):
                        continue  # removing a temporary directory just made and still empty: one rmdir
                    if site in diagnostics_only(coroutine) and not self._beyond_files(resolver, call, where):
                        continue  # a trace file written only while tracing or profiling is switched on
                reported.add((call.lineno, code))
                self.ctx.report(code, call, message[0], **message[1])
                break  # one call, one code: the database call (FAA101) is looked for first

    def _given_callbacks(
        self, resolver: CallResolver, coroutine: ast.AsyncFunctionDef, called: frozenset[str]
    ) -> list[tuple[Where, str]]:
        """The scopes the coroutine runs in as the calls of this module make it, for a coroutine that calls
        a parameter: ``await _collect_teams(request, Pool.get_team_name)`` with ``get_team(resource_id)``
        in its body runs ``Pool.get_team_name``. One scope per distinct set of functions handed in (a few)."""
        found: list[tuple[Where, str]] = []
        nodes = resolver.names.nodes
        serving = self.ctx.serving
        for call in nodes.of(ast.Call):
            if not (isinstance(call.func, ast.Name) and call.func.id == coroutine.name):
                continue
            caller = nodes.call_written_in(call)
            if caller is None:
                continue  # at import: no request hands anything in there
            caller_where = resolver.where(caller)
            target = resolver.function_called(call, caller_where)
            if target is None or target[1] is not coroutine:
                continue
            bound = resolver.bind(call, caller_where, coroutine, callee=target[0])
            handed = tuple((name, path) for name, path in bound if name in called and self.program.function(path) is not None)
            if not handed or any(handed == given.arguments for given, _ in found):
                continue
            reach = serving.reach_at(call.lineno) if serving.active else None
            if reach is not None and reach.stage not in ("serving", "unknown"):
                continue  # a command-line program or start-up code hands it in, not a request
            parameters = {name for name, _ in handed}
            shown = ", ".join(f"`{short(argument)}`" for name, argument in bound_arguments(call, coroutine) if name in parameters)
            found.append((resolver.where(coroutine, handed), f" (with {shown or 'the function'} handed in at line {call.lineno})"))
            if len(found) >= _MAX_CALLBACK_SCOPES:
                break
        return found

    def _finding(
        self, resolver: CallResolver, call: ast.Call, where: Where, coroutine: ast.AsyncFunctionDef, family: Family
    ) -> tuple[str, dict[str, object]] | None:
        kind = FAMILY_WORDS[family]
        what = self._direct(resolver, call, where, family)
        if what is not None:
            text = f"`{call_text(call)}` is a blocking {kind} ({what}) inside `async def {coroutine.name}`"
            details = {"call": what, "function": coroutine.name, "chain": [coroutine.name, what]}
            return text, {**details, "remedy": self._remedy(family, what, coroutine),
                          "operator_quiet": self._occasional_file_work(what, call, coroutine)}
        target = self.program.what_runs(resolver, call, where)[0]
        if target is None or not self._runs_inline(target[0], target[1]) or handed_on(target[1], call, coroutine):
            return None
        reach = self.program.reach(
            family,
            target[0],
            target[1],
            resolver.bind(call, where, target[1], callee=target[0]),
            lambda r, c, w: self._direct(r, c, w, family),
            self._runs_inline,
            lambda callee, func: self._per_request_calls(callee, func, family),
        )
        if reach is None:
            return None
        chain = [coroutine.name, *reach.chain, reach.what]
        text = f"`{call_text(call)}` inside `async def {coroutine.name}` makes a blocking {kind}: " + " -> ".join(chain) + reach.place
        return text, {"call": reach.what, "function": coroutine.name, "chain": chain,
                      "remedy": self._remedy(family, reach.what, coroutine),
                      "operator_quiet": self._occasional_file_work(reach.what, call, coroutine)}

    def _per_request_calls(self, resolver: CallResolver, func: FunctionNode, family: Family) -> list[ast.Call]:
        """The calls of a helper that a production request pays for (``_not_per_request``), and for
        FAA102 not the local file work behind a tracing or profiling switch (``_beyond_files``)."""
        skipped = _not_per_request(resolver.names, func, family)
        calls = calls_with_operations(func, resolver.operations(func), skipped)
        diagnostics = diagnostics_only(func) if family == "io" else frozenset()
        if not diagnostics or not any(site_id(c) in diagnostics for c in calls):
            return calls
        where = resolver.where(func)
        return [c for c in calls if site_id(c) not in diagnostics or self._beyond_files(resolver, c, where)]

    def _beyond_files(self, resolver: CallResolver, call: ast.Call, where: Where) -> bool:
        """Whether ``call`` blocks on more than the local file system: the network, a subprocess, the
        clock, directly or through the project functions it calls. A tracing switch production may
        turn on leaves a trace file's writes unreported, not an exporter that posts every request."""

        def remote(r: CallResolver, c: ast.Call, w: Where) -> str | None:
            what = self._direct(r, c, w, "io")
            return what if what is not None and not local_file_work(what) else None

        if remote(resolver, call, where) is not None:
            return True
        target = self.program.what_runs(resolver, call, where)[0]
        if target is None or not self._runs_inline(target[0], target[1]) or handed_on(target[1], call, where.funcs[0] if where.funcs else None):
            return False
        reach = self.program.reach(
            "io-beyond-files",
            target[0],
            target[1],
            resolver.bind(call, where, target[1], callee=target[0]),
            remote,
            self._runs_inline,
            lambda callee, func: [
                c for c in ordered_calls(func) if id(c) not in _not_per_request(callee.names, func, "io")
            ],
        )
        return reach is not None

    def _direct(self, resolver: CallResolver, call: ast.Call, where: Where, family: Family) -> str | None:
        target, path = self.program.what_runs(resolver, call, where)
        if target is not None:
            return None  # a project function: its body is read instead
        verdict = classify_path(path)
        if verdict is not None:
            if verdict.blocking != family:
                return None
            if family == "io" and self._fixed_read(resolver, call, where, verdict.what):
                return None
            if family == "io" and kernel_file(opened_path(call, verdict.what)):
                return None  # ``/proc/{pid}/stat``: the kernel answers from memory, no disk is touched
            if verdict.what == SPAWN and where.funcs and only_starts(call, where.funcs[0]):
                return None  # the process is only started; waiting for it is reported where it waits
            if _polls(call, verdict.what):
                return None  # ``process.wait(timeout=0)``: a poll, it answers at once
            return verdict.what
        settings = self.ctx.settings
        configured = settings.db_modules if family == "db" else settings.blocking_calls
        return matches_configured(path, method_name(call), configured)

    def _started_once(self, call: ast.Call, coroutine: ast.AsyncFunctionDef) -> bool:
        """Whether ``call`` runs once per process: the coroutine is only started as background work at
        start-up, and no loop of it holds the call."""
        if site_id(call) not in outside_loops(coroutine):
            return False
        reach = self.ctx.serving.reach_at(call.lineno)
        return reach is not None and reach.per_round_only

    def _occasional_file_work(self, what: str, call: ast.Call, coroutine: ast.AsyncFunctionDef) -> bool:
        """Local file work done once per call of the coroutine: what an administrators' route may do
        unreported. A ``while`` loop around it (a follower polling a log) repeats it for as long as it runs."""
        if not local_file_work(what):
            return False
        polled: set[int] = set()
        for loop in ast.walk(coroutine):
            if isinstance(loop, ast.While):
                polled.update(id(node) for node in ast.walk(loop))
        return site_id(call) not in polled

    def _remedy(self, family: Family, what: str, coroutine: ast.AsyncFunctionDef) -> str | None:
        """What to write instead, for this kind of call (None: the code's general fix)."""
        if family == "db":
            role = self._role(coroutine)
            plain = f"or declare the {role} `{coroutine.name}` with plain `def` (FastAPI runs it in a threadpool)" if role else (
                "or offload the call with `await run_in_threadpool(func, ...)`"
            )
            return f"use an async driver (create_async_engine + AsyncSession, redis.asyncio, motor) {plain}"
        last = what.rsplit(".", 1)[-1]
        if what in ("time.sleep",):
            return "use `await asyncio.sleep(...)`"
        if what.startswith(("SentenceTransformer", "CrossEncoder", "sentence_transformers.", "huggingface_hub.")):
            return ("loading a model and running it are seconds of CPU or download work: load it once in the "
                    "lifespan and run it with `await asyncio.to_thread(...)`")
        if what.startswith("genai.Client"):
            return "use the SDK's async client, `client.aio`, and await the same call (`await client.aio.models.generate_content(...)`)"
        if what.startswith("ElevenLabs."):
            return ("use the SDK's async client, `AsyncElevenLabs`, and await the same call (its streams are "
                    "iterated with `async for`), or offload the call with `await asyncio.to_thread(...)`")
        if what.startswith("psutil."):
            return "wait for the process with `await asyncio.to_thread(...)`, or poll it between `await asyncio.sleep(...)` calls"
        if what.startswith(("subprocess.", "os.system", "os.popen")):
            return "use `await asyncio.create_subprocess_exec(...)`, or offload the call with `await asyncio.to_thread(...)`"
        if last in ("open", "read_text", "read_bytes", "write_text", "write_bytes") or what in ("open", "builtins.open", "io.open", "os.fdopen"):
            return "use `anyio.Path` (or aiofiles), or offload the file work with `await asyncio.to_thread(...)`"
        if what.startswith(("requests", "httpx", "urllib")):
            return "use a shared `httpx.AsyncClient` (created in the lifespan) and `await` it"
        if what.startswith(("PasswordHash.", "bcrypt.")):
            return "hashing is CPU work made slow on purpose: run it with `await asyncio.to_thread(...)` (or make the route a plain `def`)"
        if what.startswith("Llama."):
            return ("llama.cpp inference is seconds of CPU work: run it with `await asyncio.to_thread(...)` "
                    "(or behind a model server the coroutine awaits)")
        if what == "ThreadPoolExecutor.shutdown":
            return "shut the executor down off the loop, `await asyncio.to_thread(executor.shutdown)`, or with `wait=False`"
        if what.startswith(("Future.", "ThreadPoolExecutor.", "concurrent.futures.")):
            return ("await the work instead of waiting for it: `await asyncio.wrap_future(future)` for work handed to a "
                    "thread, or `await` the coroutine itself instead of running it on another event loop")
        if what.startswith("shutil."):
            return "offload the file work with `await asyncio.to_thread(...)`"
        if what.startswith(("ZipFile.", "TarFile.")):
            return ("archiving and extracting are file and compression work: build or unpack the archive in a "
                    "function run with `await asyncio.to_thread(...)`")
        return None

    def _role(self, coroutine: ast.AsyncFunctionDef) -> str | None:
        """"route handler" or "dependency" when the coroutine is one (its `def` can then go sync)."""
        if self.ctx.model.route_for(coroutine) is not None:
            return "route handler"
        if coroutine.name in self._dependencies():
            return "dependency"
        return None

    def _dependencies(self) -> set[str]:
        found: set[str] | None = getattr(self, "_dependency_names", None)
        if found is None:
            found = set()
            for call in self.ctx.names.nodes.of(ast.Call):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ("Depends", "Security"):
                    if call.args and isinstance(call.args[0], ast.Name):
                        found.add(call.args[0].id)
            self._dependency_names = found
        return found

    def _fixed_read(self, resolver: CallResolver, call: ast.Call, where: Where, what: str) -> bool:
        """A read of a small file at a fixed path (``faa-fixed-file-reads`` reports those too)."""
        if self.ctx.settings.fixed_file_reads or not read_only_open(call, what):
            return False
        path = opened_path(call, what)
        return path is not None and FixedPaths(resolver.names).fixed(path, where.funcs)

    def _runs_inline(self, resolver: CallResolver, func: FunctionNode) -> bool:
        """A sync helper whose body runs right where it is called (a generator's, where it is iterated:
        ``calls.handed_on`` leaves out one that is only called)."""
        if not isinstance(func, ast.FunctionDef):
            return False
        names = resolver.names
        return not any(_decorator_name(d, names) in CACHE_DECORATORS for d in func.decorator_list)
