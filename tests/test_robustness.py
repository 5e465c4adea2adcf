"""No input crashes the plugin: random valid Python, odd-but-valid shapes, and the plugin entry."""

from __future__ import annotations

import ast
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.plugin import Plugin

# Fragments that exercise what rules look at: routes, Depends, middleware, engines,
# in shapes real code rarely has (starred args, attribute targets, nested defs).
ODD_SHAPES = [
    "from fastapi import FastAPI\napp = FastAPI(*args, **kw)\n@app.get(*p)\nasync def f(*a, **k): ...\n",
    "import fastapi\n@fastapi.FastAPI().get('/x')\nasync def f(): return await (yield)\n",
    "from fastapi import Depends\nasync def f(db=Depends()): db.query()\n",
    "from fastapi import Depends\nasync def f(db=Depends(lambda: 1)): db.query()\n",
    "x = x = x\nasync def f():\n    x.y.z()\n",
    "a = b\nb = a\nasync def f():\n    a()\n    b.c()\n",
    "def f(): return f()\nasync def g(): f()\n",
    "def f(): g()\ndef g(): f()\nasync def h(): f()\n",
    "from sqlalchemy import create_engine\nengine = create_engine()\nengine = create_engine(**{})\n",
    "from fastapi import FastAPI\napp = FastAPI()\napp.add_middleware()\napp.include_router()\n",
    "from fastapi import FastAPI\nFastAPI().add_middleware(*m)\n",
    "async def f():\n    async with a as (b, c):\n        b.query()\n",
    "class A:\n    async def f(self):\n        self.db.query()\n",
    "from typing import Annotated\nasync def f(x: Annotated[()] = 1, y: 'not valid python' = 2): x.q()\n",
    "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\nasync def f() -> 'Annotated[':\n    return {}\n",
    "print(*[]) ; import uvicorn ; uvicorn.run()\n",
    "from starlette.middleware.base import BaseHTTPMiddleware as B\nclass M(B, metaclass=type): pass\n",
]


@pytest.mark.parametrize("source", ODD_SHAPES)
def test_odd_shapes_do_not_crash(source: str) -> None:
    analyse_source(source, "odd.py", strict=True)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_random_valid_python_never_crashes(source: str) -> None:
    check_random(source)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_random_syntax_trees_never_crash(source: str) -> None:
    check_random(source)


def check_random(source: str) -> None:
    with warnings.catch_warnings():
        # Random programs call literals and the like; the compiler's warnings are noise here.
        warnings.simplefilter("ignore", SyntaxWarning)
        try:
            compile(source, "<random>", "exec")
        except (SyntaxError, ValueError):
            return
        analyse_source(source, "random.py", strict=True)


def test_plugin_run_yields_flake8_tuples() -> None:
    tree = ast.parse("import time\nasync def f():\n    time.sleep(1)\n")
    results = list(Plugin(tree, "x.py").run())
    assert results and all(isinstance(r[0], int) and r[2].startswith("FAA") and r[3] is Plugin for r in results)
