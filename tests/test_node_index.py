"""The shared node index must answer exactly what the per-rule walks it replaced answered.

``ModuleNodes`` (one breadth-first walk per module) and the scopes read off it
replaced ``ast.walk`` loops, ``walk_shallow`` per function and a DFS per rule.
Each test here recomputes an answer the old way and compares, over every
fixture and example module plus a module written to hit the corner cases
(walrus in defaults and decorators, lambdas, classes in functions, methods,
names bound twice).
"""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.analysis.names import Names, _bindings_by_function, build_scope, walk_shallow
from flake8_fastapi_antipatterns.analysis.nodes import ModuleNodes

ROOT = Path(__file__).resolve().parent.parent
CORNERS = textwrap.dedent(
    """\
    import os
    from fastapi import FastAPI, Depends

    app = FastAPI()

    def deco(f=(made := [i for i in range(3)])):
        return f

    @deco
    @app.get("/x")
    async def handler(a=lambda q=(w := 1): q + w, *, b=Depends(lambda: None)):
        x = 1
        x = os.getenv("X")
        with open("f") as x:
            pass
        for y in range(2):
            z = (v := y)
        class Inner:
            attr = print("class body")

            @staticmethod
            def method(p=(k := 2)) -> int:
                n: int = k
                return n
        def nested(t=x):
            global made
            made = t
            return lambda: t
        try:
            pass
        except Exception as e:
            e = None
        return Inner, nested

    class Service:
        client = None

        async def call(self, url: str = "u") -> None:
            async with self.client as c:
                await c.get(url)
    """
)
PEP695 = "type Alias = list[int]\n\ndef generic[T](x: T) -> T:\n    return x\n"


def _modules() -> list[tuple[str, ast.Module]]:
    sources = [("corners", CORNERS)]
    if sys.version_info >= (3, 12):
        sources.append(("pep695", PEP695))
    for path in sorted([*(ROOT / "tests" / "fixtures").glob("*.py"), *(ROOT / "examples").rglob("*.py")]):
        sources.append((path.name, path.read_text(encoding="utf-8")))
    return [(name, ast.parse(source)) for name, source in sources]


MODULES = _modules()
KINDS = (
    ast.Call, ast.Assign, ast.AnnAssign, ast.Attribute, ast.Name, ast.With, ast.AsyncWith, ast.For,
    ast.comprehension, ast.NamedExpr, ast.ExceptHandler, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
    ast.ClassDef, ast.Return, ast.Import, ast.ImportFrom,
)


def _running_reference(tree: ast.Module) -> dict[int, ast.AST | None]:
    """The attribution the CORS rule used to compute: the first owner whose walk_shallow yields a node."""
    seen: dict[int, ast.AST | None] = {}
    owners: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    owners.extend((n, n) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    for owner, func in owners:
        for node in walk_shallow(owner):
            seen.setdefault(id(node), func)
    return seen


def _lexical_reference(tree: ast.Module) -> dict[int, ast.AST | None]:
    """The innermost def around each node, as the outbound and resource rules used to walk it."""
    found: dict[int, ast.AST | None] = {}
    stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while stack:
        node, func = stack.pop()
        for child in ast.iter_child_nodes(node):
            found[id(child)] = func
            stack.append((child, child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func))
    return found


@pytest.mark.parametrize("name,tree", MODULES, ids=[name for name, _ in MODULES])
def test_buckets_keep_walk_order(name: str, tree: ast.Module) -> None:
    nodes = ModuleNodes(tree)
    for kind in KINDS:
        assert nodes.of(kind) == [n for n in ast.walk(tree) if type(n) is kind], kind.__name__
    merged = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert nodes.of(ast.Import, ast.ImportFrom) == merged


@pytest.mark.parametrize("name,tree", MODULES, ids=[name for name, _ in MODULES])
def test_function_attributions_match_the_walks_they_replace(name: str, tree: ast.Module) -> None:
    nodes = ModuleNodes(tree)
    running, lexical = _running_reference(tree), _lexical_reference(tree)
    wanted = [n for n in ast.walk(tree) if isinstance(n, KINDS)]
    assert {id(n): f for n, f, _ in nodes.run_in(*KINDS)} == {id(n): running[id(n)] for n in wanted if id(n) in running}
    assert {id(n): f for n, f in nodes.written_in(*KINDS)} == {id(n): lexical[id(n)] for n in wanted}


@pytest.mark.parametrize("name,tree", MODULES, ids=[name for name, _ in MODULES])
def test_scopes_read_off_the_index_equal_walked_scopes(name: str, tree: ast.Module) -> None:
    names = Names(tree)
    assert names.nodes is not None  # build the index: scopes are then read off it
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert names.scope(func) == build_scope(func), f"{name}: {func.name}"


def test_corner_module_takes_both_scope_paths() -> None:
    # ``handler`` binds ``x`` three times (the walk's order decides which wins), ``method``
    # binds each name once: both are read off the index and equal the walked scopes.
    tree = ast.parse(CORNERS)
    names = Names(tree)
    by_name = {f.name: f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    bindings = _bindings_by_function(names.nodes)
    for name in ("handler", "method"):
        func = by_name[name]
        assert build_scope(func, bindings.get(id(func), [])) == build_scope(func), name
    assert build_scope(by_name["handler"], bindings[id(by_name["handler"])]).values["x"] is not None  # type: ignore[union-attr]


REBOUND = textwrap.dedent(
    """\
    async def rebound(flag):
        a = first()
        if flag:
            a = nested_in_if()
        with opener() as a:
            a = inside_with()
        b = (b := inner_walrus())
        c = one() if (c := test()) else two()
        for item in items:
            d = loop_body()
        else:
            d = loop_else()
        try:
            e = tried()
        except Exception:
            e = handled()
        finally:
            e = final()
        response = client.get("/a")
        response = client.get("/b")
    """
)


def test_rebound_names_take_the_binding_the_walk_would() -> None:
    tree = ast.parse(REBOUND)
    func = tree.body[0]
    assert isinstance(func, ast.AsyncFunctionDef)
    bindings = _bindings_by_function(Names(tree).nodes)[id(func)]
    walked = build_scope(func)
    assert walked is not None
    # Shuffled: the answer must not depend on the order the index hands the nodes over.
    for order in (bindings, bindings[::-1], sorted(bindings, key=lambda n: getattr(n, "col_offset", 0))):
        assert build_scope(func, list(order)) == walked
    assert ast.unparse(walked.values["response"]) == "client.get('/a')"


def test_bindings_without_positions_fall_back_to_the_walk() -> None:
    tree = ast.parse(REBOUND)
    func = tree.body[0]
    assert isinstance(func, ast.AsyncFunctionDef)
    bindings = _bindings_by_function(Names(tree).nodes)[id(func)]
    for node in bindings:
        if isinstance(node, ast.Assign):
            del node.end_lineno
    assert build_scope(func, bindings) is None
