"""Helpers two rules or stages share, and the parameter that keeps each caller's answer its own.

Each parameter stands for a real difference between the look-ups the helper replaced; these
tests pin the cases where the two settings answer differently, so that a later clean-up cannot
fold them into one without a test saying which findings move.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from flake8_fastapi_antipatterns.analysis.app_model import middleware_registration
from flake8_fastapi_antipatterns.analysis.names import Names
from flake8_fastapi_antipatterns.analysis.nodes import names_class_again
from flake8_fastapi_antipatterns.analysis.serving import module_facts
from flake8_fastapi_antipatterns.rules.outbound import _resolve


def _expr(source: str) -> ast.expr:
    statement = ast.parse(source).body[0]
    assert isinstance(statement, ast.Expr)
    return statement.value


@pytest.mark.parametrize(
    "use",
    [
        "def make() -> Foo: ...",  # an annotation the serving path's sites do not hold
        "Foo = None",  # a store
        "def f(x):\n    match x:\n        case Foo():\n            pass",  # a class pattern
    ],
)
def test_a_use_that_makes_no_instance_names_the_class_only_with_references(use: str) -> None:
    tree = ast.parse(f"class Foo:\n    def m(self): ...\n{use}\n")
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    assert not module_facts(tree, "/probe.py").sites.get("Foo")
    assert names_class_again(ast.walk(tree), cls, references=True)
    assert not names_class_again(ast.walk(tree), cls, references=False)


@pytest.mark.parametrize(
    "source",
    ['x = "app.Foo"', "class Foo: ...  # defined twice"],
)
def test_a_string_or_a_second_class_statement_names_the_class_either_way(source: str) -> None:
    tree = ast.parse(f"class Foo:\n    pass\n{source}\n")
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    assert names_class_again(ast.walk(tree), cls, references=False)


def test_a_lone_class_statement_does_not_name_its_class_in_any_parse_of_the_module() -> None:
    source = "class Foo:\n    def m(self): ...\n"
    tree = ast.parse(source)
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    assert not names_class_again(ast.walk(tree), cls, references=True)
    # The serving path asks with the nodes of the module the index parsed, not the linted tree.
    assert not names_class_again(ast.walk(ast.parse(source)), cls, references=True)


@pytest.mark.parametrize(
    ("source", "on_app", "anywhere"),
    [
        ('app.middleware("http")', True, True),
        ('self.app.middleware("http")', True, True),
        ('app.middleware(middleware_type="http")', True, True),  # the type named by its keyword
        ('app.middleware(middleware_type="websocket")', True, False),
        ('app.middleware("http", middleware_type="http")', True, False),  # not a call Starlette accepts
        ('limiter.middleware("http")', False, True),  # another object: only the literal tells
        ('app.middleware("websocket")', True, False),
        ('app.add_middleware("http")', False, False),
    ],
)
def test_middleware_registration_with_and_without_the_app(source: str, on_app: bool, anywhere: bool) -> None:
    call = _expr(source)
    assert middleware_registration(call, "app") is on_app
    assert middleware_registration(call) is anywhere


def test_a_client_look_up_takes_a_parameter_for_the_module_binding_of_its_name() -> None:
    source = textwrap.dedent(
        """\
        import httpx
        client = httpx.AsyncClient(timeout=1)
        async def fetch(client):
            await client.get("https://example.com")
        """
    )
    tree = ast.parse(source)
    names = Names(tree)
    func = tree.body[2]
    assert isinstance(func, ast.AsyncFunctionDef)
    scope = names.scope(func)
    assert isinstance(_resolve(names, ast.Name("client"), scope), ast.Name)
    assert isinstance(_resolve(names, ast.Name("client"), scope, steps=1, params_hide=False), ast.Call)


def test_one_step_stops_at_a_name_bound_to_a_name() -> None:
    source = textwrap.dedent(
        """\
        import httpx
        def build(app):
            transport = httpx.ASGITransport(app=app)
            chosen = transport
            return httpx.AsyncClient(transport=chosen)
        """
    )
    tree = ast.parse(source)
    names = Names(tree)
    func = tree.body[1]
    assert isinstance(func, ast.FunctionDef)
    scope = names.scope(func)
    assert isinstance(_resolve(names, ast.Name("chosen"), scope, steps=1), ast.Name)
    assert isinstance(_resolve(names, ast.Name("chosen"), scope), ast.Call)


def test_a_written_none_return_leaves_what_the_function_returns_otherwise() -> None:
    # Both readers of a function's returns (the module's names and the call graph) skip ``return None``:
    # a helper that gives nothing when it cannot build its client gives that client otherwise.
    source = textwrap.dedent(
        """\
        import requests
        from fastapi import Depends
        def get_session(key: str = ""):
            if not key:
                return None
            return requests.Session()
        def nothing():
            return None
        async def route(session=Depends(get_session), empty=Depends(nothing)):
            session.get("https://example.com")
        """
    )
    tree = ast.parse(source)
    names = Names(tree)
    route = tree.body[4]
    assert isinstance(route, ast.AsyncFunctionDef)
    scope = names.scope(route)
    assert names.value_path(ast.Name("session", ast.Load()), scope) == "requests.Session()"
    assert names.value_path(ast.Name("empty", ast.Load()), scope) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # The empty stand-in of the other branch (or handler) says nothing of what the name holds.
        ("if flag:\n    POOL = requests.Session()\nelse:\n    POOL = {}\n", "requests.Session()"),
        ("if flag:\n    POOL = None\nelse:\n    POOL = requests.Session()\n", "requests.Session()"),
        ("try:\n    POOL = requests.Session()\nexcept ImportError:\n    POOL = dict()\n", "requests.Session()"),
        # Outside a branch the later binding wins, as Python runs it; two objects: the later one.
        ("POOL = requests.Session()\nPOOL = dict()\n", "builtins.dict()"),
        ("if flag:\n    POOL = requests.Session()\nelse:\n    POOL = httpx.Client()\n", "httpx.Client()"),
        # A filled literal is a value of its own, not a stand-in.
        ("if flag:\n    POOL = requests.Session()\nelse:\n    POOL = {'a': 1}\n", None),
    ],
)
def test_a_module_global_is_not_its_empty_stand_in(source: str, expected: str | None) -> None:
    names = Names(ast.parse("import httpx\nimport requests\n" + source))
    assert names.value_path(ast.Name("POOL", ast.Load())) == expected


def test_a_literal_value_is_not_taken_for_an_object_over_its_empty_other_branch() -> None:
    # ``origins = ["*"]`` only when asked, ``[]`` otherwise: what the module keeps by default is ``[]``.
    names = Names(ast.parse("import os\nif os.getenv('ALL') == '1':\n    origins = ['*']\nelse:\n    origins = []\n"))
    kept = names.bindings["origins"]
    assert isinstance(kept, ast.List) and not kept.elts
