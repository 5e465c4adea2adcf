"""FAA402 print for logging, FAA403 single-worker uvicorn (opt-in), FAA404 BaseHTTPMiddleware."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator

from flake8_fastapi_antipatterns.analysis.app_model import middleware_registration
from flake8_fastapi_antipatterns.analysis.deployment_files import app_spec
from flake8_fastapi_antipatterns.analysis.development import development_only
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import is_main_guard, last_name, names_class_again
from flake8_fastapi_antipatterns.rules import Checker, register

BASE_HTTP_MIDDLEWARE = frozenset({"starlette.middleware.base.BaseHTTPMiddleware", "fastapi.middleware.base.BaseHTTPMiddleware"})
UVICORN_RUN = frozenset({"uvicorn.run", "uvicorn.main.run"})
PYTEST_FIXTURES = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
# What the qualified names above end in: a cheap test before qualifying every call.
_PRINT = frozenset({"print"})
# Libraries for command-line programs, whose output is meant for a terminal.
_CLI_LIBRARIES = ("click", "typer")
_RUN = frozenset({"run"})


def _imports_gunicorn(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "gunicorn"
    return any(alias.name.split(".")[0] == "gunicorn" for alias in node.names)


def _under_main_guard(tree: ast.Module) -> set[int]:
    """Ids of the nodes a top-level ``__main__`` guard holds (its test and body; its ``else`` runs on import)."""
    guarded: set[int] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test):
            guarded.update(id(n) for n in ast.walk(stmt.test))
            guarded.update(id(n) for part in stmt.body for n in ast.walk(part))
    return guarded


def _run_only_as_main(tree: ast.Module, guarded: set[int]) -> set[int]:
    """Ids of the nodes of a ``__main__.py`` module's functions that only its ``__main__`` guard names
    (``if __name__ == "__main__": main()``, ``main`` named nowhere else in the module): they run when
    the package is run with ``python -m``, which the caller checks is not how the project is deployed."""
    functions = {stmt.name: stmt for stmt in tree.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))}
    named_in_guard: set[str] = set()
    named_elsewhere: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in functions:
            (named_in_guard if id(node) in guarded else named_elsewhere).add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in functions:
            named_elsewhere.add(node.value)  # ``__all__ = ["main"]``: others may call it
    for func in functions.values():
        if func.decorator_list:
            named_elsewhere.add(func.name)  # registered by its decorator (a route, a command)
    found: set[int] = set()
    for name in named_in_guard - named_elsewhere:
        found.update(id(n) for n in ast.walk(functions[name]))
    return found


_CLI_OPTIONS = frozenset({"Option", "option"})
"""A command-line option's declaration, whose first argument is its default (typer)."""


_MAX_CALLER_FILES = 48


def _off_by_default(func: FunctionNode, names: Names) -> dict[str, int | None]:
    """The parameters of ``func`` whose default is an off constant (``False``, ``None``, ``0``), with
    their position (None for keyword-only ones)."""
    positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    return {
        name: positional.index(name) if name in positional else None
        for name, default in names.scope(func).defaults.items()
        if isinstance(default, ast.Constant) and not default.value
    }


def _passed(call: ast.Call, parameter: str, index: int | None) -> list[ast.expr]:
    """What ``call`` passes for ``parameter``: by keyword, or positionally at ``index``."""
    passed = [k.value for k in call.keywords if k.arg == parameter]
    if index is not None and index < len(call.args):
        passed.append(call.args[index])
    return passed


def _is_method(func: FunctionNode) -> bool:
    positional = [*func.args.posonlyargs, *func.args.args]
    return bool(positional) and positional[0].arg in ("self", "cls")


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _stream_of(call: ast.Call, names: Names) -> str | None:
    """Where a ``print`` writes: ``stdout`` (no ``file=``, ``file=sys.stdout`` or ``file=None``),
    ``stderr`` (``file=sys.stderr``), or None for a file or buffer the code opened."""
    target = _keyword(call, "file")
    if target is None or (isinstance(target, ast.Constant) and target.value is None):
        return "stdout"
    if any(k.arg is None for k in call.keywords):
        return "stdout"  # ``**kwargs`` may name any stream: judged as the default
    dotted = names.qualify(target)
    if dotted in ("sys.stdout", "sys.__stdout__"):
        return "stdout"
    if dotted in ("sys.stderr", "sys.__stderr__"):
        return "stderr"
    return None


@register
class DeploymentChecker(Checker):
    codes = ("FAA402", "FAA403", "FAA404")

    def run(self) -> None:
        self._guarded: set[int] | None = None
        names = self.ctx.names
        # A module that imports no web framework is judged when the serving path is in use: its prints
        # are reported where a request reaches them (a model method, a search helper), not elsewhere.
        if self.ctx.imports_web_framework or (_PRINT & names.nodes.identifiers and self.ctx.serving.active):
            prints = [
                c
                for c in names.nodes.of(ast.Call)
                if names.may_name(c.func, _PRINT) and names.qualify(c.func) == "builtins.print"
            ]
            guarded = _under_main_guard(self.ctx.tree) if prints else set()
            # A command-line module (the app's ``manage.py`` or server launcher) prints to talk to its
            # user: only what its route handlers print is the service's output.
            command_line = bool(prints) and names.imports_library(_CLI_LIBRARIES)
            web_module = self.ctx.imports_web_framework
            for call in prints:
                if command_line and not self._in_route_handler(call):
                    continue
                if not web_module and not self._served(call):
                    continue  # outside the app's modules, only a print a route is found to reach
                stream = _stream_of(call, names)
                if stream is None:
                    continue  # ``print(..., file=handle)`` writes a file, not log output
                if self._asked_for(call):
                    continue  # ``if verbose: print(...)``, and no caller turns ``verbose`` on
                if id(call) not in guarded and not self._in_test_code(call):
                    where = self._function_of(call)
                    self.ctx.report("FAA402", call, f"`print()`{where} writes unstructured text to {stream}, with no level and no request context")
        self._check_deployed_command()
        # A test module's middleware wraps the apps it builds as fixtures (often to test that very
        # class): FAA404 is about the deployed app's stack.
        middleware_judged = not self.ctx.in_test_module
        for node in names.nodes.each(ast.Call, ast.ClassDef):
            if isinstance(node, ast.Call) and names.may_name(node.func, _RUN) and names.qualify(node.func) in UVICORN_RUN:
                self._check_uvicorn(node)
            elif not middleware_judged:
                continue
            elif isinstance(node, ast.Call) and self.ctx.imports_web_framework and middleware_registration(node):
                self._report_function_middleware(node)
            elif isinstance(node, ast.ClassDef):
                for base in node.bases:
                    if names.qualify(base) in BASE_HTTP_MIDDLEWARE and not self._never_used(node):
                        self.ctx.report(
                            "FAA404",
                            node,
                            f"`class {node.name}` derives from `BaseHTTPMiddleware`, which runs the rest of the app in a "
                            "new task with a wrapped copy of the request on every call, passes the body through a memory "
                            "stream, and does not see contextvars the app sets below it",
                        )

    def _never_used(self, cls: ast.ClassDef) -> bool:
        """The project never names the class outside its ``class`` statement: no app adds it to its
        stack, so it costs nothing. Only asked of a file on disk in a project read whole that builds
        an app: a library's middleware is there for someone else's app to add."""
        resolver = self.ctx.names.resolver
        if resolver is None or not self.ctx.serving.active:
            return False
        if not resolver.index.mentioned_only_in(resolver.filename, cls.name):
            return False
        nodes = self.ctx.names.nodes.each(ast.Name, ast.Attribute, ast.Constant, ast.ClassDef)
        return not names_class_again(nodes, cls, references=True)

    def _report_function_middleware(self, registration: ast.Call) -> None:
        """``@app.middleware("http")`` on a function, or ``app.middleware("http")(func)``: Starlette wraps
        the function in ``BaseHTTPMiddleware``, with the same costs as a subclass.

        Left alone: a registration only a debug or development switch makes (``if settings.DEBUG:``),
        and a function looked up at run time (``getattr(import_module(path), name)`` from the
        operator's configuration), which the project offers as a hook and does not write."""
        around = next(self._functions_around(registration), None)
        if around is not None and id(registration) in development_only(around):
            return
        func = self._registered_function(registration)
        if func is None:
            return
        what = f"`{ast.unparse(func) if isinstance(func, ast.expr) else func.name}`"
        owner = ast.unparse(registration.func)
        self.ctx.report(
            "FAA404",
            registration,
            f'`{owner}("http")` wraps {what} in `BaseHTTPMiddleware`, which runs the rest of the app in a new task '
            "with a wrapped copy of the request on every call, passes the body through a memory stream, and does "
            "not see contextvars the app sets below it",
        )

    def _registered_function(self, registration: ast.Call) -> FunctionNode | ast.expr | None:
        """The function a middleware registration wraps: the decorated ``def``, or the argument of the
        call applied to the registration when it names a function written or imported (not a value
        computed at run time)."""
        names = self.ctx.names
        for definition in names.nodes.each(ast.FunctionDef, ast.AsyncFunctionDef):
            if any(d is registration for d in definition.decorator_list):
                return definition
        for call in names.nodes.of(ast.Call):
            if call.func is registration and call.args:
                target = call.args[0]
                if names.resolve_function(target) is not None or "." in (names.qualify(target) or ""):
                    return target
                return None
        return None

    def _functions_around(self, call: ast.Call) -> Iterator[FunctionNode]:
        """The functions ``call`` is written in, innermost first."""
        nodes = self.ctx.names.nodes
        func = nodes.call_written_in(call)
        while func is not None:
            yield func
            func = nodes.enclosing_def(func)

    def _asked_for(self, call: ast.Call) -> bool:
        """Whether ``call`` runs only under ``if <flag>:``, ``flag`` a parameter of its function that
        is off by default (``verbose: bool = False``) and that no call of the function in the project
        passes anything but an off value: output the caller must ask for, and none does."""
        func = self.ctx.names.nodes.call_written_in(call)
        if func is None or self.ctx.model.route_for(func) is not None:
            return False  # a route's parameter is the client's to turn on
        flags = _off_by_default(func, self.ctx.names)
        reassigned = {
            n.id for n in walk_shallow(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        flags = {name: position for name, position in flags.items() if name not in reassigned}
        if not flags:
            return False
        for node in walk_shallow(func):
            if (
                isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id in flags
                and any(inner is call for statement in node.body for inner in ast.walk(statement))
            ):
                return not self._turned_on(func, node.test.id, flags[node.test.id])
        return False

    def _turned_on(self, func: FunctionNode, flag: str, position: int | None) -> bool:
        """Whether some call of ``func`` (by its name, in any project module) may pass ``flag`` on."""
        resolver = self.ctx.names.resolver
        modules: list[Names] = [self.ctx.names]
        if resolver is not None:
            found = resolver.index.modules_mentioning(resolver.filename, func.name, _MAX_CALLER_FILES)
            if found is None:
                return True
            here = resolver.index.real_path(resolver.filename)
            modules.extend(m.names for m in found if resolver.index.real_path(str(m.path)) != here)
        for names in modules:
            called = {id(c.func) for c in names.nodes.of(ast.Call)}
            for imported in names.nodes.of(ast.ImportFrom):
                if any(alias.name == func.name and alias.asname for alias in imported.names):
                    return True  # called under another name
            for node in names.nodes.of(ast.Name, ast.Attribute):
                spelled = node.id if isinstance(node, ast.Name) else node.attr
                if spelled == func.name and isinstance(node.ctx, ast.Load) and id(node) not in called:
                    return True  # handed on (``add_task(embed, doc, verbose=True)``, ``partial``, ``Depends``)
            for candidate in names.nodes.of(ast.Call):
                if last_name(candidate.func) != func.name:
                    continue
                if any(k.arg is None for k in candidate.keywords) or any(isinstance(a, ast.Starred) for a in candidate.args):
                    return True
                index = position
                if index is not None and isinstance(candidate.func, ast.Attribute) and _is_method(func):
                    index -= 1  # a method called on an object does not spell ``self``
                if any(not (isinstance(v, ast.Constant) and not v.value) for v in _passed(candidate, flag, index)):
                    return True
        return False

    def _served(self, call: ast.Call) -> bool:
        reach = self.ctx.serving.reach_at(call.lineno)
        return reach is not None and reach.stage == "serving"

    def _in_route_handler(self, call: ast.Call) -> bool:
        return any(self.ctx.model.route_for(func) is not None for func in self._functions_around(call))

    def _in_test_code(self, call: ast.Call) -> bool:
        """Inside a pytest test function or fixture: test output, which pytest captures, not the app's logging.

        A route handler is application code whatever its name (``@app.get("/test") def test_page``).
        """
        return any(
            self.ctx.model.route_for(func) is None
            and (func.name.startswith("test") or any(self._is_fixture(d) for d in func.decorator_list))
            for func in self._functions_around(call)
        )

    def _is_fixture(self, decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return self.ctx.names.qualify(target) in PYTEST_FIXTURES

    def _function_of(self, node: ast.Call) -> str:
        """`` in `name` `` for the outermost function holding the call whose lines span it (a call in a
        decorator sits above its ``def`` line), or nothing at module level."""
        around = list(self._functions_around(node))
        for func in reversed(around):
            if func.lineno <= node.lineno <= (func.end_lineno or 0):
                return f" in `{func.name}`"
        return ""

    def _check_deployed_command(self) -> None:
        """The command the deployment files start the server with, judged at the app it serves:
        one worker and no orchestrator in sight (a Dockerfile ``CMD uvicorn app.main:app``)."""
        if not self.ctx.model.apps:
            return
        facts = self.ctx.deployment
        if not facts.commands or facts.scaled() is not None:
            return
        for command in facts.single_worker_commands():
            spec = app_spec(command.text)
            if spec is None:
                continue
            module, variable = spec
            if not self._is_module(module):
                continue
            for site in self.ctx.model.apps:
                if site.name == variable:
                    self.ctx.report(
                        "FAA403",
                        site.call,
                        f"the deployed command `{command.text}` ({command.place}) serves `{variable}` from one "
                        "process, and no orchestrator or gunicorn configuration is in sight",
                        command=command.text,
                        declared_at=command.place,
                    )
                    return

    def _is_module(self, dotted: str) -> bool:
        """Whether this file is the module ``dotted`` names (``app.main`` -> ``.../app/main.py``)."""
        path = os.path.normpath(os.path.abspath(self.ctx.filename))
        stem = os.path.join(*dotted.split("."))
        return path.endswith(os.sep + stem + ".py") or path.endswith(os.sep + os.path.join(stem, "__init__.py"))

    def _reloads(self, call: ast.Call) -> bool:
        """``reload=True``, or a parameter that defaults to it (a ``dev`` command's ``reload: bool = True``)."""
        reload = _keyword(call, "reload")
        if isinstance(reload, ast.Constant):
            return reload.value is True
        if not isinstance(reload, ast.Name):
            return False
        for func in self._functions_around(call):
            scope = self.ctx.names.scope(func)
            if reload.id in scope.values:
                return False
            default = scope.defaults.get(reload.id)
            if isinstance(default, ast.Call) and last_name(default.func) in _CLI_OPTIONS:
                # ``reload: bool = typer.Option(True, ...)`` (or ``default=True``)
                default = default.args[0] if default.args else next((k.value for k in default.keywords if k.arg == "default"), None)
            if reload.id in scope.params:
                return (
                    isinstance(default, ast.Constant) and default.value is True
                    and not self._passed_otherwise(func, reload.id)
                )
        return False

    def _passed_otherwise(self, func: FunctionNode, parameter: str) -> bool:
        """Whether a call of ``func`` in this module passes ``parameter`` something other than ``True``
        (``run(reload=False)`` from a ``serve`` command): then the function also deploys."""
        arguments = func.args
        positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
        for call in self.ctx.names.nodes.of(ast.Call):
            if not (isinstance(call.func, ast.Name) and call.func.id == func.name):
                continue
            passed = _passed(call, parameter, positional.index(parameter) if parameter in positional else None)
            if any(k.arg is None for k in call.keywords) or any(not (isinstance(v, ast.Constant) and v.value is True) for v in passed):
                return True
        return False

    def _module_runs_more_processes(self, call: ast.Call) -> bool:
        """Whether the module serves with more than one process another way: it runs gunicorn (its
        workers are the scaled path, this call a single-process mode beside it), or hands the function
        around this call to a process it starts (``multiprocessing.Process(target=_run_worker)``: one of
        a pool the module manages itself)."""
        names = self.ctx.names
        if any(dotted.split(".")[0] == "gunicorn" for dotted in names.imports.values()):
            return True
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) and _imports_gunicorn(n) for n in names.nodes.each(ast.Import, ast.ImportFrom)):
            return True  # ``import gunicorn.app.base`` inside a function or an ``if``
        around = {func.name for func in self._functions_around(call)}
        started = [
            other
            for other in names.nodes.of(ast.Call)
            if last_name(other.func) == "Process"
            and isinstance(target := _keyword(other, "target"), ast.Name)
            and target.id in around
        ]
        if not started:
            return False
        # One of a pool: the process is started in a loop (``for port in ports: Process(...)``); a single
        # ``Process(target=main)`` that the module starts and joins still serves from one process.
        in_loops = {
            id(inner)
            for loop in names.nodes.each(ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
            for inner in ast.walk(loop)
        }
        return any(id(other) in in_loops for other in started)

    def _main_guarded(self) -> set[int]:
        """The guard's nodes, and in a ``__main__.py`` the functions only the guard calls, unless the
        packaging names one as a console script (``svc = "pkg.__main__:main"``)."""
        if self._guarded is None:
            guarded = _under_main_guard(self.ctx.tree)
            if guarded and os.path.basename(self.ctx.filename) == "__main__.py":
                only = _run_only_as_main(self.ctx.tree, guarded)
                if only and not self._entry_point_in_packaging():
                    guarded = guarded | only
            self._guarded = guarded
        return self._guarded

    def _entry_point_in_packaging(self) -> bool:
        """Whether the project's packaging files name a ``__main__`` function as an entry point."""
        resolver = self.ctx.names.resolver
        if resolver is None:
            return True  # nothing to read: assume it may be one
        try:
            root = resolver.index.project_root(resolver.filename)
        except (OSError, ValueError):
            return True
        for name in ("pyproject.toml", "setup.cfg", "setup.py"):
            try:
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as handle:
                    if "__main__:" in handle.read():
                        return True
            except OSError:
                continue
        return False

    def _check_uvicorn(self, call: ast.Call) -> None:
        if any(keyword.arg is None for keyword in call.keywords):
            return  # **options: the worker count may be in there
        if self.ctx.deployment.scaled() is not None:
            return  # the deployment files run the app scaled (an orchestrator, gunicorn, --workers)
        if self._reloads(call):
            return  # an auto-reloading development launcher: not how the app is deployed
        if id(call) in self._main_guarded():
            return  # ``python main.py`` on a developer's machine; the image runs its own command
        if self._module_runs_more_processes(call):
            return  # a mode beside gunicorn's workers, or one process of a pool the module starts
        workers = _keyword(call, "workers")
        if workers is None:
            self.ctx.report("FAA403", call, "`uvicorn.run()` without `workers=` serves every request from one process")
        elif isinstance(workers, ast.Constant) and workers.value == 1:
            self.ctx.report("FAA403", call, "`uvicorn.run(..., workers=1)` serves every request from one process")
