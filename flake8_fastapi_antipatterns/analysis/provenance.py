"""Where an exception's text comes from: the project's own exception classes.

An ``except InvalidInputError as e`` whose class the project defines catches only
what the project raises: its text is what the project wrote for it, unless some
place builds one of these exceptions (or of their subclasses in the project) out
of another exception's text (``raise StorageError(f"upload failed: {e}") from e``) that is itself
one to hide: an ``except`` of classes whose text describes their input or is the project's own
(followed the same way), around a ``try`` that only parses a value or only renders a template in a
Jinja sandbox, hands on nothing else.
This module answers that question for the leak rule (FAA303): it finds the
places that construct a class by reading the project files that mention its name
(``ProjectIndex.files_mentioning``), and what each file constructs inside an
``except ... as e`` from ``e``'s text, once per version of the file.

Anything it cannot settle (a class it cannot find, a project too large to read
whole) is "not known to be the project's own text", so the leak is still reported.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flake8_fastapi_antipatterns.analysis.app_model import ROUTE_DECORATORS
from flake8_fastapi_antipatterns.analysis.classes import ProjectClass, class_index, derives_from, is_stub, lineage
from flake8_fastapi_antipatterns.analysis.exception_text import HTTP_EXCEPTIONS, carried
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, same_definition, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import last_name, parameters
from flake8_fastapi_antipatterns.analysis.project import ModuleInfo, ProjectIndex
from flake8_fastapi_antipatterns.analysis.serving import module_facts

# How many classes of one hierarchy (the class and its project subclasses) are looked at.
MAX_CLASSES = 32

# Library exceptions whose text describes only the data that was checked, never the server: a
# validation error lists the fields that failed, a decode error the position of the fault
# ("Expecting value: line 1 column 1 (char 0)"), a template syntax error the line of the template.
# A project exception built from their text still carries only what the client sent.
DESCRIBES_INPUT = frozenset(
    {
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
        "pydantic.error_wrappers.ValidationError",
        "json.JSONDecodeError",
        "json.decoder.JSONDecodeError",
        "orjson.JSONDecodeError",
        "simplejson.JSONDecodeError",
        "simplejson.errors.JSONDecodeError",
        "jsonschema.ValidationError",
        "jsonschema.exceptions.ValidationError",
        "jsonschema.SchemaError",
        "jsonschema.exceptions.SchemaError",
        "referencing.exceptions.Unresolvable",
        "jinja2.TemplateSyntaxError",
        "jinja2.exceptions.TemplateSyntaxError",
        # A token that failed its checks: "Signature has expired", "Invalid audience", "Not enough segments".
        "jwt.InvalidTokenError",
        "jwt.exceptions.InvalidTokenError",
        "jwt.DecodeError",
        "jwt.exceptions.DecodeError",
        "jwt.ExpiredSignatureError",
        "jwt.exceptions.ExpiredSignatureError",
        "jose.JWTError",
        "jose.exceptions.JWTError",
    }
)
# Parsers whose every error describes only the value they were handed (the position of a decode
# fault, the padding of base64, the shape of a UUID): a ``try`` calling them raises nothing about
# the server through them.
INPUT_PARSERS = frozenset(
    {"json.loads", "orjson.loads", "ujson.loads", "simplejson.loads", "base64.b64decode", "base64.urlsafe_b64decode",
     "base64.b32decode", "base64.b16decode", "binascii.unhexlify", "binascii.a2b_base64", "uuid.UUID",
     "datetime.datetime.strptime", "datetime.datetime.fromisoformat", "datetime.date.fromisoformat",
     "datetime.time.fromisoformat",
     # A schema check: its errors say which part of the value (or of the schema) fails, and the
     # format checker handed to it is only built.
     "jsonschema.validate", "jsonschema.FormatChecker"}
)  # fmt: skip
# Encoders whose errors name only the type or the shape of the value they were handed ("Object of type
# datetime is not JSON serializable", "Circular reference detected") -- unless handed a hook of the
# project's (``cls=``, ``default=``), which may raise anything.
VALUE_ENCODERS = frozenset({"json.dumps", "orjson.dumps", "ujson.dumps", "simplejson.dumps"})
_ENCODER_HOOKS = frozenset({"cls", "default"})
# Functions of path strings that touch no file (``realpath`` only when not ``strict``, which makes it
# raise the operating system's error): at most a ``ValueError`` about the string ("embedded null byte").
PATH_STRINGS = frozenset(
    {"os.path.realpath", "os.path.normpath", "os.path.join", "os.path.basename", "os.path.dirname", "os.path.splitext"}
)
# Calls that run the function they are handed and raise what it raises: ``await asyncio.to_thread(parse, data)``.
# The position of that function among their arguments.
THREAD_RUNNERS = {"to_thread": 0, "run_in_threadpool": 0, "run_sync": 0, "run_in_executor": 1}


@dataclass(frozen=True)
class _WrapSite:
    """An ``except ... as e`` that builds something from ``e``'s text."""

    handler: ast.ExceptHandler
    body: list[ast.stmt]
    """The body of its ``try``."""
    func: FunctionNode | None
    """The function running it."""


@dataclass
class _FileFacts:
    """What one module constructs from caught exceptions, and which of its classes derive from which."""

    wrapped: dict[str, list[_WrapSite]] = field(default_factory=dict)
    """Name of a class called, inside ``except ... as e``, with arguments that carry ``e`` -> where."""
    subclasses: dict[str, set[str]] = field(default_factory=dict)
    """base class name -> names of the classes this module derives from it."""


_FACTS: weakref.WeakKeyDictionary[ast.Module, _FileFacts] = weakref.WeakKeyDictionary()
# How many searches were cut short so far (``_never_wraps``): an answer worked out while one was is not kept.
_CUTS = [0]
_TRY_NODES: tuple[type[ast.AST], ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


def answer_cut_short() -> None:
    """Say that a question asked while answers were being worked out gave up (the call graph met a
    recursion limit): what is being worked out now is not kept, as for a class met again."""
    _CUTS[0] += 1


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _describes_input(names: Names, caught: ast.expr | None) -> bool:
    """Whether every class an ``except`` names is one whose text describes only the checked data."""
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return bool(elements) and all(names.qualify(e) in DESCRIBES_INPUT for e in elements)


def _facts(names: Names) -> _FileFacts:
    tree = names.tree
    known = _FACTS.get(tree)
    if known is not None:
        return known
    facts = _FileFacts()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                base_name = last_name(base)
                if base_name is not None:
                    facts.subclasses.setdefault(base_name, set()).add(node.name)
    for node, runs_in, _ in names.nodes.run_in(*_TRY_NODES):
        for handler in getattr(node, "handlers", ()):
            if not handler.name or _describes_input(names, handler.type):
                continue
            site = _WrapSite(handler, getattr(node, "body", []), runs_in)
            for called in _wrapped_in(names, handler):
                facts.wrapped.setdefault(called, []).append(site)
    _FACTS[tree] = facts
    return facts


# The handler of a wrap site -> whether what it caught is fit for the client (``_caught_harmless``).
_HARMLESS: weakref.WeakKeyDictionary[ast.ExceptHandler, bool] = weakref.WeakKeyDictionary()


def _site_wraps(names: Names, site: _WrapSite, resolve: Resolve) -> bool:
    """Whether what the site builds carries text worth hiding. It carries only the text of what it
    caught: no leak when that is not one either (``InvalidJSON(detail=str(e))`` in an ``except``
    around ``json.loads(value)`` alone). Worked out only for a class asked about."""
    known = _HARMLESS.get(site.handler)
    if known is None:
        cuts = _CUTS[0]
        known = _caught_harmless(names, site.handler, site.body, site.func, resolve)
        if _CUTS[0] == cuts:  # not cut short by a class met again (``_never_wraps``): the same for every asker
            _HARMLESS[site.handler] = known
    return not known


def _carriers(names: Names, handler: ast.ExceptHandler) -> set[str]:
    """The caught exception's name, and the local names given a value built from it in the handler
    (``message = str(e)``, ``msg = f"could not reach the provider: {e}"``): a value holding any of
    them carries the exception's text."""
    assert handler.name is not None
    carriers = {handler.name}
    for statement in handler.body:
        for inner in ast.walk(statement):
            if isinstance(inner, ast.Assign) and _carries(names, inner.value, carriers):
                carriers.update(t.id for t in inner.targets if isinstance(t, ast.Name))
    return carriers


def _wrapped_in(names: Names, handler: ast.ExceptHandler) -> set[str]:
    """The names of what ``handler`` calls with arguments that carry the text of what it caught."""
    carriers = _carriers(names, handler)
    found: set[str] = set()
    for statement in handler.body:
        for inner in ast.walk(statement):
            if isinstance(inner, ast.Call):
                called = last_name(inner.func)
                arguments = [*inner.args, *(k.value for k in inner.keywords)]
                if called is not None and any(_carries(names, a, carriers) for a in arguments):
                    found.add(called)
    return found


def _caught_harmless(
    names: Names, handler: ast.ExceptHandler, body: list[ast.stmt], func: FunctionNode | None, resolve: Resolve
) -> bool:
    """Whether what ``handler`` caught has text fit for the client by provenance: every class it names
    describes its input or is one of the project's own that carries only text the project wrote; it
    names classes (not ``Exception``) around a ``try`` that only parses a value (``only_input_parsing``);
    or, whatever it names, the ``try`` only runs the project's own checks (``only_project_checks``:
    ``except Exception as e: raise ParamValidationError(f"invalid {k}: {e}")`` around ``v.resolve()``,
    whose every error is a message the project wrote or a schema validator's about the value)."""
    caught = handler.type
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    if not elements:
        return False
    if all(names.qualify(e) in DESCRIBES_INPUT or only_own_text(names, e, resolve) for e in elements):
        return True
    if only_sandboxed_rendering(names, body, func):
        return True
    broad = any(names.qualify(e) in ("builtins.Exception", "builtins.BaseException") for e in elements)
    if broad:
        return only_project_checks(names, body, func, resolve)
    return only_input_parsing(names, body, func) or _own_raise_wrapped(names, handler, body, func, resolve)


# Handlers whose ``_own_raise_wrapped`` question is being worked out: one met again (a helper whose
# ``try`` reaches back to a function asking about it) is taken to wrap foreign text.
_WRAPPING: set[int] = set()


def _own_raise_wrapped(
    names: Names, handler: ast.ExceptHandler, body: list[ast.stmt], func: FunctionNode | None, resolve: Resolve
) -> bool:
    """``except ValueError as exc: raise PreprocessingValidationError(str(exc))`` around a ``try`` whose
    calls raise that builtin only with messages the project wrote (``raised_by_the_project``): the
    wrapped text is the project's own, so the class built from it carries nothing else."""
    if id(handler) in _WRAPPING:
        _CUTS[0] += 1
        return False
    _WRAPPING.add(id(handler))
    try:
        return raised_by_the_project(names, handler.type, body, func, resolve, deep=False)
    finally:
        _WRAPPING.discard(id(handler))


# Jinja's environments for untrusted templates: what rendering raises there (an undefined name, an unsafe
# attribute, a bad expression) is about the template.
SANDBOXES = frozenset({"jinja2.sandbox.SandboxedEnvironment", "jinja2.sandbox.ImmutableSandboxedEnvironment"})
_TEMPLATE_METHODS = frozenset({"from_string", "render", "render_async"})


def only_sandboxed_rendering(names: Names, body: list[ast.stmt], func: FunctionNode | None) -> bool:
    """Whether a ``try`` only builds a template in a sandboxed environment and renders it
    (``template = environment.from_string(text)``, ``template.render(context)``)."""
    scope = names.scope(func) if func is not None else None
    calls = _calls(body)

    def sandboxed(receiver: ast.expr, depth: int = 0) -> bool:
        if isinstance(receiver, ast.Name) and depth < 2:
            local = scope.values.get(receiver.id) if scope is not None else None
            bound = local if local is not None else names.bindings.get(receiver.id)
            if isinstance(bound, ast.Call):
                return sandboxed(bound, depth + 1)
            return False
        if not isinstance(receiver, ast.Call):
            return False
        if isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "from_string":
            return sandboxed(receiver.func.value, depth)
        return _is_sandbox(names, receiver.func)

    return bool(calls) and all(
        isinstance(call.func, ast.Attribute) and call.func.attr in _TEMPLATE_METHODS and sandboxed(call.func.value)
        for call in calls
    )


def _is_sandbox(names: Names, callee: ast.expr) -> bool:
    """A sandboxed environment class of Jinja's, or a project class deriving from one."""
    if names.qualify(callee) in SANDBOXES:
        return True
    return derives_from(names, callee, SANDBOXES)


def _carries(names: Names, value: ast.expr, carriers: set[str]) -> bool:
    """Whether ``value`` may hold the text of one of ``carriers``. A call of a project function that
    is handed a carrier but returns none of that parameter's text (``exception_text.carried``) holds
    only what the function wrote: ``_transcript_error_message(error, video_id)`` that picks a message
    by ``type(error).__name__``."""
    if not _mentions(value, carriers):
        return False
    if not isinstance(value, ast.Call):
        return True
    found = names.resolve_function(value.func)
    if found is None:
        return True
    params = parameters(found[1])
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    receiving: set[str] = set()
    for position, argument in enumerate(value.args):
        if isinstance(argument, ast.Starred) or position >= len(params):
            if _mentions(argument, carriers):
                return True  # lands in ``*args`` or we cannot tell where
            continue
        if _mentions(argument, carriers):
            receiving.add(params[position])
    for keyword in value.keywords:
        if _mentions(keyword.value, carriers):
            if keyword.arg is None or keyword.arg not in params:
                return True
            receiving.add(keyword.arg)
    if _mentions(value.func, carriers):
        return True  # ``error.describe()``: a method of the exception itself
    if receiving & carried(found[0], found[1]).returned:
        return True
    # A function that hands the exception itself back (``return error`` when details may be shown, or
    # ``return Wrapped(error)``) passes on its text with it.
    returns = [n.value for n in walk_shallow(found[1]) if isinstance(n, ast.Return) and n.value is not None]
    return any(_mentions(value, receiving) for value in returns)


def _own_class(names: Names, node: ast.expr) -> tuple[str, str | None] | None:
    """(class name, the file to search the project from) for a class the project defines, else None."""
    found = names.project_class(node)
    if found is None:
        return None
    module, cls = found
    resolver = module.resolver
    return cls.name, resolver.filename if resolver is not None else None


def _modules(index: ProjectIndex, anchor: str, word: str) -> list[ModuleInfo] | None:
    """The project modules that may build ``word`` or derive a class from it: their text holds
    ``word(`` or names it among a class's bases (the rest are never parsed)."""
    paths = index.files_mentioning(anchor, word)
    texts = index.project_texts(anchor)
    if paths is None or texts is None:
        return None
    called = word.encode() + b"("
    derived = set(index.files_deriving(anchor, word) or ())
    wanted = [path for path in paths if path in derived or called in (texts.get(path) or b"")]
    return [info for info in (index.module(path) for path in wanted) if info is not None]


def only_own_text(names: Names, caught: ast.expr | None, resolve: Resolve) -> bool:
    """Whether every class ``caught`` names (one, or a tuple) is the project's own and is never
    built from another exception's text anywhere in the project (``resolve``: the function a call
    runs, to follow what a site that builds one calls)."""
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    if not elements:
        return False
    for element in elements:
        found = _own_class(names, element)
        if found is None or not _never_wraps(names, *found, resolve):
            return False
    return True


# (class name, the file it was looked up from) -> the answer, for the life of the process: every
# ``except`` of the class in every file asks the same question.
_ANSWERS: dict[tuple[str, str], bool] = {}
MAX_ANSWERS = 4096


# The classes being searched for now: a class met again while its own search runs (one built from
# the text of another that is built from its text) is taken to wrap, and the answers found meanwhile
# are not kept.
_SEARCHING: set[tuple[str, str | None]] = set()


def _never_wraps(names: Names, class_name: str, anchor: str | None, resolve: Resolve) -> bool:
    key = (class_name, anchor)
    known = _ANSWERS.get((class_name, anchor)) if anchor is not None else None
    if known is not None:
        return known
    if key in _SEARCHING:
        _CUTS[0] += 1
        return False
    cuts = _CUTS[0]
    _SEARCHING.add(key)
    try:
        known = _search(names, class_name, anchor, resolve)
    finally:
        _SEARCHING.discard(key)
    # An answer cut short depends on which class was asked first: kept only when whole.
    if anchor is not None and _CUTS[0] == cuts:
        if len(_ANSWERS) >= MAX_ANSWERS:
            _ANSWERS.clear()
        _ANSWERS[(class_name, anchor)] = known
    return known


def _search(names: Names, class_name: str, anchor: str | None, resolve: Resolve) -> bool:
    for found in _family_sites(names, class_name, anchor):
        if found is None or _site_wraps(found[0], found[2], resolve):
            return False
    return True


def _family_sites(names: Names, class_name: str, anchor: str | None) -> Iterator[tuple[Names, str, _WrapSite] | None]:
    """The places that build ``class_name`` or a project subclass of it inside an ``except ... as e``
    from ``e``'s text, each with its module and file, found class by class; a None among them says the
    hierarchy or the project was too large to search whole (nothing follows it)."""
    index = names.resolver.index if names.resolver is not None else None
    pending = [class_name]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if len(seen) > MAX_CLASSES:
            yield None
            return
        if index is None or anchor is None:
            modules = [(names, "")]  # an in-memory module: all there is to read
        else:
            found = _modules(index, anchor, name)
            if found is None:
                yield None
                return
            modules = [(module.names, str(module.path)) for module in found]
        for module_names, path in modules:
            facts = _facts(module_names)
            for site in facts.wrapped.get(name, ()):
                yield module_names, path, site
            pending.extend(facts.subclasses.get(name, ()))


# -- the places that wrap, and whether a ``try`` can reach them ------------------------------------

# How many function names the callers of a wrapping place may come to before the question is left
# open (a wrapping helper every module calls reaches everything anyway).
MAX_CALLERS = 64
MAX_CALLER_DEPTH = 6
MAX_CALLER_FILES = 48


def wraps_out_of_reach(
    names: Names, caught: ast.expr, tried: list[ast.stmt], func: FunctionNode | None, resolve: Resolve
) -> bool:
    """Whether every place that builds the project's class ``caught`` (or a subclass) from another
    exception's text is out of the ``try``'s reach: ``tried`` holds none of them and names no function
    that runs one, by name, any number of calls deep (``summarize`` raising ``CompactionError(str(exc))``
    when the ``try`` only looks a session up). Names stand for every function so named, so a match
    by name is taken as a call; a place outside any function, or run by the language (``__call__``),
    leaves the question open. A local the ``try`` uses counts with what it was bound to (``runner =
    plan_with_upstream`` before the ``try``, ``await run_later(runner)`` in it)."""
    found = _own_class(names, caught)
    index = names.resolver.index if names.resolver is not None else None
    if found is None or index is None or found[1] is None:
        return False
    sites = _wrapping_sites(names, found[0], found[1], resolve)
    if sites is None:
        return False
    here = index.real_path(names.resolver.filename) if names.resolver is not None else None
    first, last = tried[0].lineno, max(statement.end_lineno or statement.lineno for statement in tried)
    words: set[str] = set()
    for path, site in sites:
        if site.func is None or (index.real_path(path) == here and first <= site.handler.lineno <= last):
            return False  # at module level, or in the ``try`` itself
        if site.func.name.startswith("__"):
            return False
        words.add(site.func.name)
    callers = _callers_by_name(index, found[1], words)
    if callers is None:
        return False
    nodes = _nodes(tried)
    scope = names.scope(func) if func is not None else None
    if scope is not None:
        for name in {n.id for n in nodes if isinstance(n, ast.Name)}:
            bound = scope.values.get(name)
            if bound is not None:
                nodes.extend(ast.walk(bound))
    named = {n.id for n in nodes if isinstance(n, ast.Name)} | {n.attr for n in nodes if isinstance(n, ast.Attribute)}
    return not (named & callers)


def _is_route(func: FunctionNode) -> bool:
    """A route handler (``@router.post("/chat")``): only the app calls it."""
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
        for d in func.decorator_list
    )


def _wrapping_sites(names: Names, class_name: str, anchor: str, resolve: Resolve) -> list[tuple[str, _WrapSite]] | None:
    """The places that build ``class_name`` or a project subclass of it from text worth hiding, with
    their files; None when the hierarchy or the project is too large to search whole."""
    found: list[tuple[str, _WrapSite]] = []
    for item in _family_sites(names, class_name, anchor):
        if item is None:
            return None
        if _site_wraps(item[0], item[2], resolve):
            found.append((item[1], item[2]))
    return found


def _callers_by_name(index: ProjectIndex, anchor: str, words: set[str]) -> set[str] | None:
    """``words`` and the names of every project function that uses one of them, again and again:
    what may run a function so named. A use in ``__init__`` counts as the class's name (building one
    runs it); a use at module level runs at import, not under anyone's call. None when it grows past
    ``MAX_CALLERS`` names, a name is used in too many files, or a dunder other than ``__init__`` uses one."""
    closure = set(words)
    frontier = sorted(words)
    entries: set[str] = set()  # route handlers: the app calls them, a use of the name elsewhere is another function
    for _ in range(MAX_CALLER_DEPTH):
        if not frontier:
            return closure
        added: set[str] = set()
        for word in frontier:
            modules = index.modules_mentioning(anchor, word, MAX_CALLER_FILES)
            if modules is None:
                return None
            for module in modules:
                facts = module_facts(module.names.tree, str(module.path))
                for site in facts.sites.get(word, ()):
                    if site.owner is None:
                        continue
                    caller = site.owner[2]
                    definition = facts.definitions.get(site.owner)
                    if definition is None:
                        return None
                    if caller == "__init__":
                        if definition.cls is None:
                            return None
                        caller = definition.cls.name
                    elif caller.startswith("__"):
                        return None
                    elif _is_route(definition.node):
                        entries.add(caller)
                        continue
                    if caller not in closure:
                        added.add(caller)
        closure |= added
        if len(closure) > MAX_CALLERS:
            return None
        frontier = sorted(added - entries)
    return None if frontier else closure


# -- builtin exceptions the project raises itself ------------------------------------------------

# Builtin classes a project raises with its own messages (``raise ValueError("name too long")``).
# ``Exception`` and the OS errors are not among them: their text is a library's or the system's.
OWN_BUILTINS = frozenset(
    {"ValueError", "TypeError", "KeyError", "LookupError", "IndexError", "RuntimeError", "PermissionError",
     "NotImplementedError", "AssertionError"}
)  # fmt: skip
# Libraries whose errors, raised inside the ``try``, would make the text theirs.
TEXT_SOURCES = (
    "json", "orjson", "ujson", "requests", "httpx", "aiohttp", "urllib", "urllib3", "sqlalchemy", "sqlmodel",
    "psycopg", "psycopg2", "asyncpg", "pymongo", "redis", "boto3", "botocore", "openai", "anthropic", "litellm",
    "subprocess", "os", "shutil", "pathlib", "zipfile", "tarfile", "yaml", "tomllib", "base64", "jwt", "jose",
)  # fmt: skip
MAX_HELPER_DEPTH = 2

Resolve = Callable[[Names, ast.Call, FunctionNode | None], "tuple[Names, FunctionNode] | None"]
"""The project function a call in a body runs (``names``: the body's module, the function holding it)."""
LibraryCall = Callable[[Names, ast.Call, FunctionNode | None], "str | None"]
"""The top-level package of the library a call runs (a method of an object the call graph knows a
library made: ``client.get(url)`` on an ``httpx.AsyncClient``), or None."""


def _by_name(names: Names, call: ast.Call, func: FunctionNode | None) -> tuple[Names, FunctionNode] | None:
    return names.resolve_function(call.func, names.scope(func) if func is not None else None)


def raised_by_the_project(
    names: Names,
    caught: ast.expr | None,
    body: list[ast.stmt],
    func: FunctionNode | None,
    resolve: Resolve = _by_name,
    *,
    deep: bool = True,
) -> bool:
    """Whether a narrow builtin class (``except ValueError as e``) catches what the project raised
    with its own text: a project function the ``try`` calls raises it with a literal or f-string
    message, nothing raises it with another exception's text, and the ``try`` makes no call into
    a library whose errors would carry that library's text (``json.loads``, ``response.json()``).

    ``resolve`` finds the function a call runs; the default knows functions by name, the leak rule
    passes the call graph's, which also knows methods (``service.create(...)`` on a project class).

    ``deep``: also look further than ``_raises_own`` reads (two calls) for a place that rewraps another
    exception's text into the class (``_rewraps``, six calls deep), as the leak rule does for the
    ``except`` it judges; a wrap site judged on the way (``_own_raise_wrapped``) reads two calls only."""
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    classes = {e.id for e in elements if isinstance(e, ast.Name) and e.id not in names.imports and e.id not in names.classes}
    if not elements or len(classes) != len(elements) or not classes <= OWN_BUILTINS:
        return False
    scope = names.scope(func) if func is not None else None
    # ``raise ValueError("one decision is required per skill")`` in the ``try`` itself counts when nothing
    # else there is a library call that may raise the class with its own text.
    raises = [node for node in _nodes(body) if isinstance(node, ast.Raise)]
    raised_here = any(_raised_class(node) in classes and _literal_message(node, func) for node in raises)
    message_parts = {id(inner) for node in raises for inner in ast.walk(node)}
    evidence = False
    for call in _running(_calls(body)):
        if isinstance(call.func, ast.Attribute) and call.func.attr == "json":
            return False  # ``response.json()``: the text of a decode error of someone else's data
        qualified = names.qualify(call.func, scope)
        if describes_value(qualified, call):
            continue
        if qualified is not None and qualified.split(".")[0] in TEXT_SOURCES:
            return False
        found = resolve(names, call, func)
        if found is None:
            raised_here = raised_here and (id(call) in message_parts or _quiet(names, call))
            continue
        for runs_names, runs in (found, *project_overrides(*found)):
            verdict = _raises_own(runs_names, runs, classes, 0, resolve)
            if verdict is False:
                return False
            evidence = evidence or verdict is True
    if not (evidence or raised_here):
        return False
    if not deep:
        return True
    # ``_raises_own`` reads two calls deep; a rewrap of the class further down (``raise
    # RuntimeError(f"Failed to load the registry from {path}: {e}")`` in a loader the build calls)
    # puts another exception's text into it all the same.
    return not _rewraps(names, _calls(body), func, resolve, 0, set(), classes)


def project_overrides(names: Names, func: FunctionNode) -> list[tuple[Names, FunctionNode]]:
    """The methods of the same name in the project's subclasses of the class defining ``func``, in any
    module: ``service.open_export(id)`` on a dependency declared as the abstract ``ConversationService``
    runs one of them. Found like the subclasses of an exception class (``_modules``), at most
    ``MAX_CLASSES`` classes looked at; none for a function outside a class or a project not read whole."""
    owner = class_index(names).class_of(func)
    if owner is None or names.resolver is None:
        return []
    index, anchor = names.resolver.index, names.resolver.filename
    found: list[tuple[Names, FunctionNode]] = []
    pending = [owner.name]
    seen: set[str] = set()
    while pending and len(seen) < MAX_CLASSES:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for module in _modules(index, anchor, name) or ():
            derived = _facts(module.names).subclasses.get(name, set())
            if not derived:
                continue
            pending.extend(derived)
            for node in module.names.nodes.each(ast.ClassDef):
                if node.name not in derived:
                    continue
                # A class of the same name elsewhere is not this one: the subclass must reach it. Compared
                # by place, as the linted file's tree and the index's parse of it are different objects.
                if not any(
                    same_definition((base.names, base.node), (owner.names, owner.node))
                    for base in lineage(ProjectClass(module.names, node))[1:]
                ):
                    continue
                found.extend(
                    (module.names, statement)
                    for statement in node.body
                    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == func.name
                )
    return found


def describes_value(qualified: str | None, call: ast.Call) -> bool:
    """A library call whose every error describes only the value it was handed: a parser
    (``INPUT_PARSERS``), an encoder given no hook of the project's (``VALUE_ENCODERS``), a function of
    path strings (``PATH_STRINGS``)."""
    if qualified in INPUT_PARSERS:
        return True
    if qualified == "zipfile.ZipFile" and call.args and _is_bytes_buffer(call.args[0]):
        # Reading an archive from bytes in memory (``ZipFile(io.BytesIO(contents))``): no file is opened,
        # and what it raises ("File is not a zip file") describes those bytes.
        return True
    keywords = {k.arg for k in call.keywords}
    if qualified in VALUE_ENCODERS:
        return not keywords & _ENCODER_HOOKS and None not in keywords
    if qualified in PATH_STRINGS:
        return "strict" not in keywords and None not in keywords
    return False


def _is_bytes_buffer(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and last_name(node.func) == "BytesIO"


def only_input_parsing(names: Names, body: list[ast.stmt], func: FunctionNode | None) -> bool:
    """Whether a ``try`` only parses, encodes or normalises the values it is handed (``describes_value``)
    and otherwise calls builtins and string or container methods (``_quiet``), raising nothing but
    messages it wrote: whatever it raises describes those values, not the server."""
    scope = names.scope(func) if func is not None else None
    nodes = [node for statement in body for node in _walk_here(statement)]
    if any(isinstance(node, ast.ExceptHandler) for node in nodes):
        return False  # what a nested ``except`` raises may carry what it caught
    raises = [node for node in nodes if isinstance(node, ast.Raise)]
    if not all(_literal_message(node, func) for node in raises):
        return False
    message_parts = {id(inner) for node in raises for inner in ast.walk(node)}
    parsed = False
    for call in _calls(body):
        if id(call) in message_parts:
            continue
        if describes_value(names.qualify(call.func, scope), call):
            parsed = True
        elif not _quiet(names, call):
            return False
    return parsed


def _quiet(names: Names, call: ast.Call) -> bool:
    """A builtin, a string, container or pattern method, or a library read that raises nothing
    (``_QUIET_BUILTINS``, ``_QUIET_METHODS``, ``QUIET_CALLS``)."""
    callee = call.func
    if isinstance(callee, ast.Name) and callee.id in _QUIET_BUILTINS and callee.id not in names.imports:
        return True
    if isinstance(callee, ast.Attribute) and callee.attr in _QUIET_METHODS:
        return True
    return names.qualify(callee) in QUIET_CALLS


def _literal_message(node: ast.Raise, func: FunctionNode | None = None) -> bool:
    """``raise ValueError("...")`` or with an f-string of names: text the project wrote, no caught exception.
    Also the message written into a local first (``msg = f"Vertex {vertex_id} not found"; raise
    ValueError(msg)``, the shape linters ask for) when every value ``func`` gives that name is such a
    text and none reads what an ``except`` of ``func`` caught."""
    exc = node.exc
    if not isinstance(exc, ast.Call) or exc.keywords:
        return False
    return all(
        isinstance(a, (ast.Constant, ast.JoinedStr)) or (isinstance(a, ast.Name) and func is not None and a.id in _written_messages(func))
        for a in exc.args
    )


_MESSAGES: weakref.WeakKeyDictionary[ast.AST, frozenset[str]] = weakref.WeakKeyDictionary()


def _written_messages(func: FunctionNode) -> frozenset[str]:
    """The local names of ``func`` that only ever hold a string it writes out (a literal, or an f-string
    that reads no caught exception)."""
    known = _MESSAGES.get(func)
    if known is not None:
        return known
    caught = {n.name for n in ast.walk(func) if isinstance(n, ast.ExceptHandler) and n.name}
    written: set[str] = set()
    other: set[str] = set()
    for node in walk_shallow(func):
        if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.With, ast.AsyncFor, ast.AsyncWith)):
            other.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        elif isinstance(node, ast.Assign):
            targets = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            text = isinstance(node.value, ast.JoinedStr) or (
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            )
            if text and all(isinstance(t, ast.Name) for t in node.targets) and not _mentions(node.value, caught):
                written.update(targets)
            else:
                other.update(targets)
    known = _MESSAGES[func] = frozenset(written - other - set(parameters(func)))
    return known


def _nodes(body: list[ast.stmt]) -> list[ast.AST]:
    """The nodes of a body outside nested definitions and ``except`` handlers (a raise in a handler may
    carry what it caught)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ExceptHandler)):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _running(calls: list[ast.Call]) -> list[ast.Call]:
    """``calls``, and for a thread runner among them (``asyncio.to_thread(parse, data)``) a call of the
    function it runs, whose errors it raises."""
    found = list(calls)
    for call in calls:
        position = THREAD_RUNNERS.get(last_name(call.func) or "")
        if position is not None and len(call.args) > position and isinstance(call.args[position], (ast.Name, ast.Attribute)):
            found.append(ast.Call(func=call.args[position], args=[], keywords=[]))
    return found


def _walk_here(node: ast.AST) -> list[ast.AST]:
    """``node`` and what it holds, nested definitions left out (they run elsewhere)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [node]
    while stack:
        inner = stack.pop()
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        found.append(inner)
        stack.extend(ast.iter_child_nodes(inner))
    return found


def _calls(body: list[ast.stmt]) -> list[ast.Call]:
    found: list[ast.Call] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


# A class named in a docstring's list of what the function raises: an entry of a Google-style
# ``Raises:`` section (``    ValueError: if the job does not exist``) or a ``:raises ValueError:`` field.
_RAISES_SECTION = re.compile(r"^Raises\s*:\s*\n((?:[ \t]+\S.*\n?|[ \t]*\n)+)", re.MULTILINE)
_RAISES_FIELD = re.compile(r":raises?\s+([\w.]+)\s*:")
_SECTION_ENTRY = re.compile(r"^[ \t]+([A-Za-z_][\w.]*)\s*:", re.MULTILINE)


def documented_raises(func: FunctionNode) -> set[str]:
    """The classes ``func``'s docstring says it raises (the last part of each dotted name)."""
    doc = ast.get_docstring(func)
    if not doc or "aise" not in doc:
        return set()
    found = set(_RAISES_FIELD.findall(doc))
    for section in _RAISES_SECTION.findall(doc):
        found.update(_SECTION_ENTRY.findall(section))
    return {name.rsplit(".", 1)[-1] for name in found}


def _raises_own(names: Names, func: FunctionNode, classes: set[str], depth: int, resolve: Resolve) -> bool | None:
    """True when ``func`` (or a project function it calls) raises one of ``classes`` with text of its
    own, or documents that it raises one (``Raises: ValueError: if the job does not exist``: the
    condition it raises it for, part of what it promises its callers); False when it raises one with
    another exception's text (unless that text is no leak either: ``_caught_harmless``); None when it
    raises none."""
    if _handler_rewraps(names, func, classes, resolve):
        return False
    found: bool | None = True if documented_raises(func) & classes else None
    for node in ast.walk(func):
        if isinstance(node, ast.Raise) and _raised_class(node) in classes:
            found = True
        elif isinstance(node, ast.Call) and depth < MAX_HELPER_DEPTH:
            runs = _running([node])
            helper = resolve(names, runs[-1], func)
            if helper is not None and helper[1] is not func:
                for runs_names, method in (helper, *project_overrides(*helper)):
                    inner_verdict = _raises_own(runs_names, method, classes, depth + 1, resolve)
                    if inner_verdict is False:
                        return False
                    found = found or inner_verdict
    return found


# How many project calls deep ``_rewraps`` follows a ``try`` (for ``may_rewrap`` and ``raised_by_the_project``).
MAX_REWRAP_DEPTH = 6
# Libraries whose errors carry what they met outside the process (an address, a path, a command, a
# provider's answer): a call of one in the ``try`` itself hands the text of such an error on.
OUTSIDE_TEXT = frozenset(
    {"requests", "httpx", "aiohttp", "urllib", "urllib3", "boto3", "botocore", "openai", "anthropic", "litellm",
     "subprocess", "os", "shutil", "pathlib", "zipfile", "tarfile", "socket", "smtplib", "paramiko"}
)  # fmt: skip


def may_rewrap(
    names: Names, body: list[ast.stmt], func: FunctionNode | None, resolve: Resolve, library: LibraryCall
) -> bool:
    """Whether a ``try`` is seen to raise text the project did not write, past a policy that chose
    by class what to show (``exception_text.decides_by_class``): it calls a library whose errors
    carry what the library met outside the process (``OUTSIDE_TEXT``: ``httpx``, ``subprocess``,
    ``os``), or a project function it reaches (by calls, by functions handed to a call such as
    ``run_with_retry(attempt)``, and the functions those define, up to ``MAX_REWRAP_DEPTH`` calls deep)
    has an ``except`` that raises what it caught inside something new (``raise RuntimeError(msg, e)
    from e``). What cannot be resolved is not evidence either way and is left out, as elsewhere in
    the call graph. ``library``: the library a call runs, where the call graph knows it."""
    scope = names.scope(func) if func is not None else None
    calls = _calls(body)
    for call in calls:
        if _quiet(names, call) or describes_value(names.qualify(call.func, scope), call):
            continue  # ``os.getenv(...)``, ``os.path.join(...)``: nothing met outside
        if library(names, call, func) in OUTSIDE_TEXT:
            return True
    return _rewraps(names, calls, func, resolve, 0, set(), None)


def _rewraps(
    names: Names, calls: list[ast.Call], func: FunctionNode | None, resolve: Resolve, depth: int, seen: set[int],
    classes: set[str] | None,
) -> bool:
    """Whether a project function ``calls`` reach raises what it caught inside a new exception (of
    ``classes`` only, when given)."""
    for call in calls:
        called = resolve(names, call, func)
        if called is None:
            continue
        # A function handed to a project function (``run_with_lock_retry(_attempt)``, ``operation=...``)
        # runs under it, as a thread runner's does: judged as if called. A class handed on is not built
        # there (``isinstance(tool, SchedulerTools)`` is no project call, and a look-up by class is not
        # a construction).
        handed = [
            resolve(names, ast.Call(func=a, args=[], keywords=[]), func)
            for a in [*call.args, *(k.value for k in call.keywords)]
            if isinstance(a, (ast.Name, ast.Attribute))
        ]
        # Only what the call names: another class's override of the method is not what runs here
        # (``super().__init__()`` runs the base's), and following every override of a base method
        # reaches most of a large project.
        for runs_names, helper in (called, *(h for h in handed if h is not None and h[1].name != "__init__")):
            if id(helper) in seen:
                continue
            seen.add(id(helper))
            if _handler_rewraps(runs_names, helper, classes, resolve):
                return True
            # The functions it defines too: one it returns (``return _operation``) runs for it.
            inner = [n for n in ast.walk(helper) if isinstance(n, ast.Call)]
            if depth + 1 < MAX_REWRAP_DEPTH and _rewraps(runs_names, inner, helper, resolve, depth + 1, seen, classes):
                return True
    return False


def _handler_rewraps(names: Names, func: FunctionNode, classes: set[str] | None, resolve: Resolve) -> bool:
    """Whether an ``except ... as e`` in ``func`` (or a function it defines) raises something (of
    ``classes``, when given) that carries ``e``'s text, the cause of a ``raise ... from e`` aside (that
    only chains it). Not when what it caught is fit for the client by provenance (``_site_wraps``:
    ``raise ValueError(f"not a valid ZIP: {exc}")`` around ``ZipFile(BytesIO(upload))``), nor an
    ``HTTPException`` raised so: that is sent as it is, and judged where it is raised."""
    for node in ast.walk(func):
        if not isinstance(node, _TRY_NODES):
            continue
        for handler in getattr(node, "handlers", ()):
            if not handler.name or _describes_input(names, handler.type):
                continue
            carriers = _carriers(names, handler)
            for inner in ast.walk(handler):
                if not (isinstance(inner, ast.Raise) and inner.exc is not None and _mentions(inner.exc, carriers)):
                    continue
                raised = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
                if classes is not None and _raised_class(inner) not in classes:
                    continue
                if names.qualify(raised) in HTTP_EXCEPTIONS:
                    continue
                if _site_wraps(names, _WrapSite(handler, getattr(node, "body", []), func), resolve):
                    return True
                break  # the handler's text is harmless: its other raises carry the same
    return False


# Calls that raise nothing but on a bug, or an error about the value they were given (``int("x")``).
_QUIET_BUILTINS = frozenset(
    {"len", "isinstance", "issubclass", "str", "int", "float", "bool", "any", "all", "min", "max", "sorted", "set",
     "list", "tuple", "dict", "frozenset", "repr", "abs", "round", "getattr", "hasattr", "enumerate", "zip", "range"}
)
# Methods of strings, bytes, containers and compiled patterns: pure work on the value.
_QUIET_METHODS = frozenset(
    {"encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "startswith", "endswith",
     "split", "rsplit", "splitlines", "join", "replace", "format", "isdigit", "isalnum", "isalpha", "isspace",
     "match", "fullmatch", "search", "findall", "get", "keys", "values", "items", "count", "index", "find"}
)
# Reads of the process's environment and clocks, and buffers in memory: they raise nothing a client
# could be shown.
QUIET_CALLS = frozenset(
    {"os.getenv", "os.environ.get", "os.getpid", "time.time", "time.monotonic", "time.perf_counter",
     "datetime.datetime.now", "datetime.datetime.utcnow", "uuid.uuid4", "io.BytesIO", "io.StringIO"}
)  # fmt: skip
MAX_CLOSED_DEPTH = 3


def only_project_checks(names: Names, body: list[ast.stmt], func: FunctionNode | None, resolve: Resolve = _by_name) -> bool:
    """Whether a ``try`` only calls project functions that check a value and raise the project's own
    messages (``validate_password(form.password)``): every call of the body runs a project function,
    and those functions call nothing but other such functions, builtins and string or pattern methods
    (what builds a ``raise``'s message aside), and never raise another exception's text. Even a broad
    ``except Exception`` then catches only what the project wrote for the client."""
    calls = _calls(body)
    return bool(calls) and all(
        (found := resolve(names, call, func)) is not None and _closed(found[0], found[1], 0, resolve) for call in calls
    )


def _closed(names: Names, func: FunctionNode, depth: int, resolve: Resolve) -> bool:
    if is_stub(func, names):
        return False
    message_parts = {id(n) for raise_ in ast.walk(func) if isinstance(raise_, ast.Raise) for n in ast.walk(raise_)}
    scope = names.scope(func)
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler) and not _passes_on_unchanged(node, func):
            return False  # it catches something: what it raises may carry that text
        if not isinstance(node, ast.Call) or id(node) in message_parts:
            continue
        callee = node.func
        if describes_value(names.qualify(callee, scope), node):
            continue
        if _quiet(names, node):
            continue
        helper = resolve(names, node, func)
        if helper is None or helper[1] is func or depth >= MAX_CLOSED_DEPTH:
            return False
        if not _closed(helper[0], helper[1], depth + 1, resolve):
            return False
    return True


def _passes_on_unchanged(handler: ast.ExceptHandler, func: FunctionNode | None = None) -> bool:
    """``except Exception: if not raises: return None; raise``: the handler never reads what it caught
    and raises only that (a bare ``raise``) or a message of its own. What reaches the caller is then
    what the ``try`` raised, and the calls there are judged like any other. ``raise Own("...") from e``
    only chains what it caught as the cause: the text of what it raises is still its own."""
    causes = {id(node.cause) for node in ast.walk(handler) if isinstance(node, ast.Raise) and node.cause is not None}
    if handler.name and any(
        isinstance(n, ast.Name) and n.id == handler.name and id(n) not in causes for n in ast.walk(handler)
    ):
        return False
    return all(node.exc is None or _literal_message(node, func) for node in ast.walk(handler) if isinstance(node, ast.Raise))


def _raised_class(node: ast.Raise) -> str | None:
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return exc.id if isinstance(exc, ast.Name) else None


__all__ = ["answer_cut_short", "DESCRIBES_INPUT", "INPUT_PARSERS", "OWN_BUILTINS", "PATH_STRINGS", "SANDBOXES", "VALUE_ENCODERS", "describes_value", "documented_raises", "may_rewrap", "only_input_parsing", "only_own_text", "only_project_checks", "only_sandboxed_rendering", "project_overrides", "raised_by_the_project"]
