"""FAA404 on function middleware: what the message names, and the modules it leaves alone."""

from __future__ import annotations

import textwrap

import pytest

from flake8_fastapi_antipatterns.engine import analyse_source

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
