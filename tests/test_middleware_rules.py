"""FAA404 on function middleware: what the message names, and the modules it leaves alone."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.engine import analyse_source, analyse_tree

FUNCTION_MIDDLEWARE = textwrap.dedent(
    """\
    from fastapi import FastAPI

    app = FastAPI()


    @app.middleware("http")
    async def add_timing(request, call_next):
        return await call_next(request)
    """
)


def faa404(filename: str) -> list[str]:
    return [d.message for d in analyse_source(FUNCTION_MIDDLEWARE, filename, strict=True) if d.code == "FAA404"]


def test_function_middleware_names_the_function_and_the_fix() -> None:
    (message,) = faa404("app/main.py")
    assert '`app.middleware("http")` wraps `add_timing` in `BaseHTTPMiddleware`' in message
    assert message.endswith('instead of subclassing BaseHTTPMiddleware or registering a function with `@app.middleware("http")`')


@pytest.mark.parametrize("name", ["tests/test_app.py", "tests/app_test.py", "tests/conftest.py"])
def test_apps_built_in_pytest_modules_are_fixtures(name: str) -> None:
    assert faa404(name) == []


UNUSED_SUBCLASS = textwrap.dedent(
    """\
    from starlette.middleware.base import BaseHTTPMiddleware


    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            return await call_next(request)
    """
)


def faa404_on_disk(root: Path, with_app: bool) -> list[str]:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    middleware = root / "pkg" / "middleware.py"
    middleware.write_text(UNUSED_SUBCLASS)
    if with_app:
        (root / "pkg" / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    tree = ast.parse(UNUSED_SUBCLASS)
    return [d.message for d in analyse_tree(tree, str(middleware), strict=True) if d.code == "FAA404"]


def test_a_subclass_no_app_adds_is_left_alone_in_an_app(tmp_path: Path) -> None:
    assert faa404_on_disk(tmp_path, with_app=True) == []


def test_a_library_without_an_app_keeps_its_subclass_reported(tmp_path: Path) -> None:
    assert len(faa404_on_disk(tmp_path, with_app=False)) == 1
