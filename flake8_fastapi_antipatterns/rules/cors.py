"""FAA301: ``CORSMiddleware`` that lets every origin in.

Three ways to configure the middleware are recognised, each reported at its
own call: ``app.add_middleware(CORSMiddleware, ...)``,
``Middleware(CORSMiddleware, ...)`` (wherever the list it goes into ends up)
and wrapping an app directly, ``CORSMiddleware(app, ...)``.  Origins are
followed through local and module-level names; an origin list computed at run
time stays silent, except for the default a project settings class writes for it
(``settings.cors_origins`` of a ``BaseSettings`` whose ``cors_origins = ["*"]``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flake8_fastapi_antipatterns.analysis.calls import MODULE_LEVEL, shown_path
from flake8_fastapi_antipatterns.analysis.classes import (
    ProjectClass,
    class_index,
    declarations,
    derives_from,
    find_method,
)
from flake8_fastapi_antipatterns.analysis.default_values import ENVIRONMENT_READS
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope
from flake8_fastapi_antipatterns.analysis.origin_overrides import METHOD, AnyOrigin, accepts_any_origin
from flake8_fastapi_antipatterns.rules import Checker, register

CORS_CLASSES = frozenset(
    {
        "fastapi.middleware.cors.CORSMiddleware",
        "starlette.middleware.cors.CORSMiddleware",
    }
)
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
# CORSMiddleware.__init__(app, allow_origins, allow_methods, allow_headers,
# allow_credentials, allow_origin_regex, ...): positional arguments after ``app``.
_SITE_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in CORS_CLASSES | MIDDLEWARE_WRAPPERS)
# What a module must spell (or import, or reach through a project module) to configure CORS at all.
_SPELLINGS = _SITE_NAMES | {"add_middleware"}
POSITIONAL = ("allow_origins", "allow_methods", "allow_headers", "allow_credentials", "allow_origin_regex")
# Origins no legitimate allow-list would accept: if the regex admits these it
# admits any attacker's site.
PROBE_ORIGINS = ("https://evil.invalid", "http://evil.invalid")
CONTAINER_CALLS = frozenset({"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset"})
_MAX_DEPTH = 8
FIELD_CALLS = frozenset({"pydantic.Field", "pydantic.fields.Field", "dataclasses.field"})


@dataclass
class CorsSite:
    """One place the middleware is configured."""

    call: ast.Call
    how: str
    """How the source spells it, for the message: ``app.add_middleware(CORSMiddleware, ...)``."""
    arguments: dict[str, ast.expr]
    """Constructor arguments we could map to their parameter names."""
    func: FunctionNode | None
    scope: Scope | None
    subclass: ProjectClass | None = None
    """The project subclass of ``CORSMiddleware`` configured here."""


@dataclass(frozen=True)
class Wildcard:
    """How ``allow_origins`` admits every origin, as the message says it."""

    text: str
    setting: str | None = None
    """The settings attribute whose default it is (``SecuritySettings.cors_origins``), when it is one."""

    def within(self) -> Wildcard:
        """Said of one item of ``allow_origins`` rather than of the whole value."""
        return Wildcard(self.text.replace('`allow_origins="*"`', '`"*"` in `allow_origins`'), self.setting)

    def when(self, condition: str) -> Wildcard:
        return Wildcard(f"{self.text}, {condition}", self.setting)


@dataclass
class Finding:
    what: str
    """What lets every origin in, e.g. ``"*" in `allow_origins` ``."""
    credentials: bool
    reflects: bool
    """True when Starlette echoes the caller's Origin back (regex match, or ``*`` with credentials)."""
    remedy: str | None = None
    """What to write instead, where the rule's general fix does not fit."""


def _calls_with_function(names: Names) -> Iterator[tuple[ast.Call, FunctionNode | None]]:
    """Every call with the function whose body it runs in (None at module level)."""
    for node, runs_in, _ in names.nodes.run_in(ast.Call):
        if isinstance(node, ast.Call):
            yield node, runs_in


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # unparse is not total over odd trees
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


@register
class CorsChecker(Checker):
    codes = ("FAA301",)

    def run(self) -> None:
        if not self.ctx.imports_web_framework or not self.ctx.names.may_spell(_SPELLINGS):
            return
        for node, func in _calls_with_function(self.ctx.names):
            site = self._site(node, func)
            if site is not None:
                self._check(site)

    # -- finding the configuration ----------------------------------------
    def _is_cors_class(self, expr: ast.expr, scope: Scope | None) -> bool:
        return self.ctx.names.value_path(expr, scope) in CORS_CLASSES

    def _site(self, call: ast.Call, func: FunctionNode | None) -> CorsSite | None:
        callee = call.func
        if isinstance(callee, ast.Attribute) and callee.attr == "__init__":
            return self._subclass_init(call, func)
        if isinstance(callee, ast.Attribute) and callee.attr != "add_middleware" and callee.attr not in _SITE_NAMES:
            return None  # settled by the attribute's name, before the function's scope is built
        scope = self.ctx.names.scope(func) if func is not None else None
        if isinstance(callee, ast.Attribute) and callee.attr == "add_middleware":
            return self._registration(call, "middleware_class", func, scope)
        if not self.ctx.names.may_evaluate_to(callee, _SITE_NAMES, scope):
            return None  # most calls of a module: settled without following any name
        qualified = self.ctx.names.value_path(callee, scope)
        if qualified in MIDDLEWARE_WRAPPERS:
            return self._registration(call, "cls", func, scope)
        if qualified in CORS_CLASSES:
            # CORSMiddleware(app, ...) wraps an ASGI app by hand.
            return self._make_site(call, call.args[1:], f"{_short(callee)}(app, ...)", func, scope)
        return None

    def _subclass_init(self, call: ast.Call, func: FunctionNode | None) -> CorsSite | None:
        """``super().__init__(app, allow_origins=..., ...)`` in the ``__init__`` of a project subclass of
        ``CORSMiddleware``: the subclass configures the middleware itself (``add_middleware(MyCORS)``)."""
        callee = call.func
        if (
            func is None
            or func.name != "__init__"
            or not isinstance(callee, ast.Attribute)
            or not isinstance(callee.value, ast.Call)
            or not isinstance(callee.value.func, ast.Name)
            or callee.value.func.id != "super"
        ):
            return None
        owner = class_index(self.ctx.names).class_of(func)
        if owner is None or not derives_from(self.ctx.names, ast.Name(id=owner.name, ctx=ast.Load()), CORS_CLASSES):
            return None
        site = self._make_site(call, call.args[1:], f"{owner.name}: super().__init__(app, ...)", func, self.ctx.names.scope(func))
        site.subclass = owner
        return site

    def _registration(
        self, call: ast.Call, class_keyword: str, func: FunctionNode | None, scope: Scope | None
    ) -> CorsSite | None:
        """``add_middleware(cls, ...)`` / ``Middleware(cls, ...)``, the class given either way."""
        if call.args and not isinstance(call.args[0], ast.Starred):
            middleware, positional = call.args[0], call.args[1:]
        else:
            keyword = next((k for k in call.keywords if k.arg == class_keyword), None)
            if keyword is None or call.args:
                return None
            middleware, positional = keyword.value, []
        subclass: ProjectClass | None = None
        if not self._is_cors_class(middleware, scope):
            # A project subclass that keeps the constructor: the registration's arguments configure it.
            found = self.ctx.names.project_class(middleware)
            subclass = ProjectClass(*found) if found is not None else None
            if subclass is None or find_method(subclass, "__init__") or not derives_from(self.ctx.names, middleware, CORS_CLASSES):
                return None
        how = f"{_short(call.func)}({_short(middleware)}, ...)"
        site = self._make_site(call, positional, how, func, scope)
        site.subclass = subclass
        return site

    def _make_site(
        self, call: ast.Call, positional: list[ast.expr], how: str, func: FunctionNode | None, scope: Scope | None
    ) -> CorsSite:
        arguments: dict[str, ast.expr] = {}
        for name, value in zip(POSITIONAL, positional):
            if isinstance(value, ast.Starred):
                break  # later positions are unknown
            arguments[name] = value
        for keyword in call.keywords:
            if keyword.arg is not None:
                arguments[keyword.arg] = keyword.value
            else:
                arguments.update(self._mapping_arguments(keyword.value, scope))
        return CorsSite(call=call, how=how, arguments=arguments, func=func, scope=scope)

    def _mapping_arguments(self, expr: ast.expr, scope: Scope | None) -> dict[str, ast.expr]:
        """The string-keyed entries of a ``**config`` whose dict literal we can see."""
        value, _ = self._resolve(expr, scope)
        found: dict[str, ast.expr] = {}
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found[key.value] = item
        elif isinstance(value, ast.Call) and self.ctx.names.qualify(value.func) == "builtins.dict" and not value.args:
            found.update({k.arg: k.value for k in value.keywords if k.arg is not None})
        return found

    # -- following values ---------------------------------------------------
    def _resolve(
        self, expr: ast.expr, scope: Scope | None, depth: int = 0, names: Names | None = None
    ) -> tuple[ast.expr | None, Scope | None]:
        """Follow a name to the expression bound to it; None when it cannot be seen."""
        return self._resolve_in(expr, scope, depth, names or self.ctx.names)[:2]

    def _resolve_in(
        self, expr: ast.expr, scope: Scope | None, depth: int, names: Names
    ) -> tuple[ast.expr | None, Scope | None, Names]:
        """``_resolve``, with the module the expression ends up in (a name imported from a project
        module, ``from .config import CORS_ORIGINS``, is read where it is bound)."""
        while isinstance(expr, ast.Name) and depth < _MAX_DEPTH:
            depth += 1
            name = expr.id
            if scope is not None and (name in scope.params or name in scope.unknown):
                return None, None, names
            if scope is not None and name in scope.values:
                expr = scope.values[name]
            elif name in names.bindings and name not in names.imports:
                expr, scope = names.bindings[name], None
            elif name in names.imports:
                symbol = names.project_symbol(expr)
                if symbol is None or not isinstance(symbol.node, ast.expr):
                    return None, None, names
                expr, scope, names = symbol.node, None, symbol.module.names
            else:
                return None, None, names
        if isinstance(expr, ast.Name):
            return None, None, names
        return expr, scope, names

    def _constant(self, expr: ast.expr | None, scope: Scope | None) -> object:
        if expr is None:
            return None
        value, _ = self._resolve(expr, scope)
        return value.value if isinstance(value, ast.Constant) else None

    def _origins_wildcard(
        self, expr: ast.expr, scope: Scope | None, depth: int = 0, names: Names | None = None, func: FunctionNode | None = None
    ) -> Wildcard | None:
        """How ``allow_origins`` admits every origin, or None. ``func`` is the function ``scope`` is of."""
        if depth > _MAX_DEPTH:
            return None
        value, scope, names = self._resolve_in(expr, scope, depth, names or self.ctx.names)
        if scope is None:
            func = None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            # Starlette tests ``"*" in allow_origins``: on a string that is a substring test.
            if value.value == "*":
                return Wildcard('`allow_origins="*"`')
            if "*" in value.value:
                return Wildcard(
                    f"`allow_origins` is the string {value.value!r}, and Starlette reads any `*` in it as a wildcard"
                )
            return None
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            for element in value.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                if isinstance(element, ast.Starred):
                    found = self._origins_wildcard(inner, scope, depth + 1, names, func)
                    if found:
                        return found
                    continue
                item, _, _ = self._resolve_in(inner, scope, depth + 1, names)
                if isinstance(item, ast.Constant) and item.value == "*":
                    return Wildcard('`"*"` in `allow_origins`')
                if isinstance(item, (ast.BoolOp, ast.Call)):  # ``[os.getenv("ORIGIN") or "*"]``
                    found = self._origins_wildcard(inner, scope, depth + 1, names, func)
                    if found:
                        return found.within()
            return None
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            return self._origins_wildcard(value.left, scope, depth + 1, names, func) or self._origins_wildcard(
                value.right, scope, depth + 1, names, func
            )
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            # ``os.getenv("CORS_ORIGINS") or "*"``: the fallback is what a deployment that sets nothing gets.
            for operand in value.values:
                found = self._origins_wildcard(operand, scope, depth + 1, names, func)
                if found:
                    return found.when("the default when the setting is not given")
            return None
        if isinstance(value, ast.Attribute):
            return self._setting_default(value, scope, depth, names, func)
        if not isinstance(value, ast.Call):
            return None
        callee = names.qualify(value.func, scope)
        if callee in CONTAINER_CALLS and len(value.args) == 1 and not value.keywords:
            return self._origins_wildcard(value.args[0], scope, depth + 1, names, func)
        if callee in ENVIRONMENT_READS or (
            isinstance(value.func, ast.Attribute) and value.func.attr == "get" and names.qualify(value.func.value, scope) == "os.environ"
        ):
            default = value.args[1] if len(value.args) > 1 else next((k.value for k in value.keywords if k.arg == "default"), None)
            found = self._origins_wildcard(default, scope, depth + 1, names, func) if default is not None else None
            return found.when("the default when the environment does not set it") if found else None
        if isinstance(value.func, ast.Attribute) and value.func.attr == "split":
            # ``"*".split(",")`` is ``["*"]``: a wildcard string stays one once split.
            found = self._origins_wildcard(value.func.value, scope, depth + 1, names, func)
            return found.within() if found else None
        return None

    def _setting_default(
        self, value: ast.Attribute, scope: Scope | None, depth: int, names: Names, func: FunctionNode | None
    ) -> Wildcard | None:
        """``settings.cors_origins``: the default the project's settings class writes for the attribute
        (``cors_origins: list[str] = ["*"]``, ``Field(default="*")``), which is what a deployment that
        sets nothing gets. Only an object the call graph knows the project class of is read, and not
        one built with the attribute given (``Settings(cors_origins=[...])``)."""
        made, _, _ = self._resolve_in(value.value, scope, depth, names)
        if isinstance(made, ast.Call) and any(k.arg in (value.attr, None) for k in made.keywords):
            return None  # ``AppSettings(cors_origins=[...])``: the object is given the value
        resolver = self.ctx.program.resolver(names)
        where = resolver.where(func) if func is not None else MODULE_LEVEL
        instance = self.ctx.program.instance(resolver.declared_path(value.value, where))
        if instance is None or instance.is_class or instance.argument(value.attr) is not None:
            return None
        for declaration in declarations(instance.cls, value.attr):
            if declaration.method is not None or declaration.is_property:
                return None  # set in ``__init__`` or computed: not a default written in the class
            written = declaration.value
            if written is None:
                continue  # annotated only here; a base may write the default
            default = _field_default(written, declaration.owner.names)
            if default is None:
                return None  # ``Field(default_factory=load_origins)``: not written out
            found = self._origins_wildcard(default, None, depth + 1, declaration.owner.names)
            if not found:
                return None
            owner = declaration.owner
            module = owner.names.resolver
            place = f"{shown_path(module.filename)}:{written.lineno}" if module is not None else f"line {written.lineno}"
            setting = f"{owner.name}.{value.attr}"
            return Wildcard(f"{found.text}, the default of `{setting}` ({place}) when the setting is not given", setting)
        return None

    def _regex_text(self, expr: ast.expr, scope: Scope | None) -> str | None:
        value, scope = self._resolve(expr, scope)
        if (
            isinstance(value, ast.Call)
            and self.ctx.names.qualify(value.func, scope) == "re.compile"
            and len(value.args) == 1
            and not value.keywords
        ):
            value, scope = self._resolve(value.args[0], scope)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
        return None

    # -- judging ------------------------------------------------------------
    def _judge(self, site: CorsSite) -> Finding | None:
        credentials = self._constant(site.arguments.get("allow_credentials"), site.scope) is True
        origins = site.arguments.get("allow_origins")
        if origins is not None:
            found = self._origins_wildcard(origins, site.scope, func=site.func)
            if found:
                remedy = (
                    f"make the default of `{found.setting}` an explicit list of trusted origins (or an empty one), "
                    "and give each deployment its own through the setting"
                    if found.setting
                    else None
                )
                return Finding(found.text, credentials, reflects=credentials, remedy=remedy)
        regex = site.arguments.get("allow_origin_regex")
        if regex is not None:
            text = self._regex_text(regex, site.scope)
            if text is not None and _matches_any_origin(text):
                return Finding(f"`allow_origin_regex={text!r}` matches any site", credentials, reflects=True)
        if site.subclass is not None:
            override = _override_accepting_any(site.subclass)
            if override is not None:
                cls, any_origin = override
                when = f" when `{_short(any_origin.guard)}`" if any_origin.guard is not None else ""
                what = f"`{cls}.{METHOD}` returns True for any origin{when} (line {any_origin.answer.lineno})"
                remedy = (
                    f"make `{METHOD}` answer True only for an origin it compared with a list of trusted ones, "
                    "and refuse every origin when none is configured"
                )
                return Finding(what, credentials, reflects=True, remedy=remedy)
        return None

    def _check(self, site: CorsSite) -> None:
        finding = self._judge(site)
        if finding is None:
            return
        where = f" in `{site.func.name}`" if site.func is not None else ""
        if finding.credentials:
            impact = (
                "with `allow_credentials=True` Starlette echoes the caller's Origin and allows credentials, "
                "so any website can send the user's cookies and read the answers"
            )
        elif finding.reflects:
            impact = "Starlette echoes the caller's Origin, so any website can read the responses"
        else:
            impact = "any website can read the responses"
        self.ctx.report(
            "FAA301",
            site.call,
            f"`{site.how}`{where} allows every origin ({finding.what}): {impact}",
            credentials=finding.credentials,
            **({"remedy": finding.remedy} if finding.remedy else {}),
        )


def _field_default(value: ast.expr, names: Names) -> ast.expr | None:
    """The default a class-body value gives: itself, or what ``Field(...)`` is told (``Field("*")``,
    ``default="*"``, ``default_factory=lambda: ["*"]``)."""
    if not isinstance(value, ast.Call):
        return value
    if names.qualify(value.func) not in FIELD_CALLS:
        return None
    if value.args and not isinstance(value.args[0], ast.Starred):
        return value.args[0]
    for keyword in value.keywords:
        if keyword.arg == "default":
            return keyword.value
        if keyword.arg == "default_factory" and isinstance(keyword.value, ast.Lambda):
            return keyword.value.body
    return None


def _override_accepting_any(cls: ProjectClass) -> tuple[str, AnyOrigin] | None:
    """The class (or a project base) whose ``is_allowed_origin``, the one an instance runs, admits any origin, and where."""
    found = find_method(cls, METHOD)
    if found is None:
        return None
    owner, method = found
    any_origin = accepts_any_origin(method)
    return (owner.name, any_origin) if any_origin is not None else None


def _matches_any_origin(pattern: str) -> bool:
    """True when the regex admits a made-up attacker origin (Starlette uses fullmatch)."""
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return any(compiled.fullmatch(origin) for origin in PROBE_ORIGINS)
