"""FAA201-FAA205: message contents, cross-module shutdown, the catalogue's examples, opt-in FAA205 in flake8."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.options import Settings

CODES = ("FAA201", "FAA202", "FAA203", "FAA204", "FAA205")


def findings(source: str, code: str, filename: str = "app.py", settings: Settings | None = None) -> list[Diagnostic]:
    found = analyse_source(textwrap.dedent(source), filename, settings, strict=True)
    return [d for d in found if d.code == code]


def test_faa201_names_the_call_and_the_pool_settings() -> None:
    (finding,) = findings(
        """
        from sqlalchemy.ext.asyncio import create_async_engine as make

        def build(url):
            return make(url, echo=True)
        """,
        "FAA201",
    )
    assert finding.line == 5
    assert "`make()` (`sqlalchemy.ext.asyncio.create_async_engine`) in `build`" in finding.message
    for setting in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping"):
        assert setting in finding.message
    assert finding.message.endswith(CATALOGUE["FAA201"].fix)


@pytest.mark.parametrize(
    ("creation", "close"),
    [
        ("engine = create_async_engine(URL, pool_size=5)", "await engine.dispose()"),
        ("engine = create_engine(URL, pool_size=5)", "engine.dispose()"),
        ("client = httpx.AsyncClient()", "await client.aclose()"),
        ("cache = Redis.from_url(URL)", "await cache.aclose()"),
        ("cache = redis.Redis()", "cache.close()"),
        ("session = aiohttp.ClientSession()", "await session.close()"),
    ],
)
def test_faa202_names_the_variable_and_the_close_call(creation: str, close: str) -> None:
    source = f"""
import aiohttp
import httpx
import redis
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

URL = "postgresql://db/app"
{creation}
app = FastAPI()
"""
    (finding,) = findings(source, "FAA202")
    variable = creation.split(" = ")[0]
    assert finding.line == 11
    assert f"`{variable} = " in finding.message
    assert f"nothing calls `{close}`" in finding.message
    assert finding.details == {"variable": variable, "close": close}
    assert finding.message.endswith(CATALOGUE["FAA202"].fix)


def test_faa202_follows_the_lifespan_of_another_module(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (package / "__init__.py").write_text("")
    db = package / "db.py"
    db.write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("postgresql+asyncpg://db/app", pool_size=5)\n'
    )
    main = package / "main.py"
    lifespan = textwrap.dedent(
        """\
        from contextlib import asynccontextmanager

        from fastapi import FastAPI

        from app.db import engine


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            yield
            {teardown}


        app = FastAPI(lifespan=lifespan)
        """
    )
    main.write_text(lifespan.format(teardown="await engine.dispose()"))
    assert findings(db.read_text(), "FAA202", str(db)) == []
    # The same app without the dispose: now db.py's engine is an app resource nobody closes.
    main.write_text(lifespan.format(teardown="pass"))
    (finding,) = findings(db.read_text(), "FAA202", str(db))
    assert finding.line == 3
    assert "`await engine.dispose()`" in finding.message
    # A test that disposes the engine says nothing about the app's shutdown.
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text("from app.db import engine\n\n\ndef teardown():\n    engine.dispose()\n")
    assert len(findings(db.read_text(), "FAA202", str(db))) == 1


def test_faa203_names_the_handler() -> None:
    (finding,) = findings(
        """
        from fastapi import FastAPI

        app = FastAPI()

        @app.on_event("startup")
        async def connect():
            pass
        """,
        "FAA203",
    )
    assert finding.line == 6
    assert "`@app.on_event('startup')` registers `connect`" in finding.message
    assert "lifespan" in finding.message


def test_faa204_messages_say_what_is_wrong() -> None:
    found = findings(
        """
        import httpx
        import requests
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/a")
        async def handler():
            async with httpx.AsyncClient(timeout=None) as client:
                return (await client.get("https://x")).json()

        def fetch(url):
            return requests.get(url)

        @app.get("/b")
        def proxy():
            return fetch("https://y")
        """,
        "FAA204",
    )
    per_request, no_timeout = found
    assert per_request.line == 10
    assert "`httpx.AsyncClient()` is created per request in route handler `handler`" in per_request.message
    assert "no connection reuse" in per_request.message
    assert "app.state" in per_request.message
    assert "`timeout=None`" in per_request.message
    assert no_timeout.line == 14
    assert "`requests.get()` in `fetch` has no `timeout=`" in no_timeout.message
    assert "reached from GET /b (" in no_timeout.message


def test_faa205_names_call_and_handler_and_reads_breaker_names() -> None:
    source = """
        import httpx
        from fastapi import FastAPI
        from ops.resilience import guarded

        app = FastAPI()

        @app.get("/a")
        async def handler(client: httpx.AsyncClient):
            return await guarded(client.get("https://x"))
        """
    (finding,) = findings(source, "FAA205")
    assert "`client.get()` in route handler `handler`" in finding.message
    assert findings(source, "FAA205", settings=Settings(breaker_names=("ops.resilience.guarded",))) == []


@pytest.mark.parametrize("code", CODES)
def test_catalogue_examples(code: str) -> None:
    doc = CATALOGUE[code].doc
    assert findings(doc.example, code), f"{code}: the catalogue's example is not reported"
    assert not findings(doc.instead, code), f"{code}: the catalogue's 'use instead' is reported"


ODD_SHAPES = [
    "from sqlalchemy import create_engine\ncreate_engine()\ncreate_engine(*a)\ncreate_engine(url=None, **k)\n",
    "import httpx\nfrom fastapi import FastAPI\napp = FastAPI()\nx.y = httpx.AsyncClient()\n"
    "(a, b) = httpx.Client(), 1\n",
    "from fastapi import FastAPI\nFastAPI(on_startup=x, **k).on_event()\nFastAPI().add_event_handler()\n",
    "import requests\nrequests.get(*a, **k)\nrequests.Session().request(*a)\n(lambda: requests.get())()\n",
    (
        "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\n"
        "async def f(c=__import__('httpx').AsyncClient()):\n    async with (await c)() as d: d.get()\n"
    ),
    (
        "import httpx\nfrom fastapi import FastAPI, Depends\napp = FastAPI()\ndef f(): return f()\n@app.get('/')\n"
        "async def g(x=Depends(), y=Depends(dependency=f)): f(); httpx.AsyncClient()\n"
    ),
]


@pytest.mark.parametrize("source", ODD_SHAPES)
def test_odd_shapes_do_not_crash(source: str) -> None:
    analyse_source(source, "odd.py", strict=True)


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_faa205_is_opt_in_under_flake8(tmp_path: Path) -> None:
    (tmp_path / "routes.py").write_text(
        textwrap.dedent(
            """\
            import httpx
            from fastapi import FastAPI

            app = FastAPI()


            @app.get("/a")
            async def handler(client: httpx.AsyncClient):
                return (await client.get("https://x")).json()
            """
        )
    )
    plain = flake8(tmp_path, "--isolated", "routes.py")
    assert "FAA205" not in plain.stdout, plain.stdout
    selected = flake8(tmp_path, "--isolated", "--extend-select", "FAA205", "routes.py")
    assert "routes.py:9:19: FAA205 " in selected.stdout, selected.stdout + selected.stderr
    by_select = flake8(tmp_path, "--isolated", "--select", "FAA205", "routes.py")
    assert "routes.py:9:19: FAA205 " in by_select.stdout, by_select.stdout + by_select.stderr
