"""What the FAA301/FAA302/FAA303 messages say, and where they point.

The fixture files pin *which lines* are reported; these tests pin the
content: each message names what was found (the call and the function), says
why it matters, and ends with the catalogue's one-line fix.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.catalogue import get as get_rule
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_source, analyse_tree
from flake8_fastapi_antipatterns.rules.cors import _matches_any_origin


def findings(source: str, code: str) -> list[Diagnostic]:
    return [d for d in analyse_source(textwrap.dedent(source), "app.py", strict=True) if d.code == code]


def only(source: str, code: str) -> Diagnostic:
    found = findings(source, code)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


# -- FAA301 ----------------------------------------------------------------------

CORS_HEADER = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
"""


def test_cors_credentials_are_called_exploitable() -> None:
    found = only(
        CORS_HEADER + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n',
        "FAA301",
    )
    assert "`app.add_middleware(CORSMiddleware, ...)`" in found.message
    assert '`"*"` in `allow_origins`' in found.message
    assert "allow_credentials=True" in found.message
    assert "cookies" in found.message
    assert found.message.endswith(get_rule("FAA301").fix)
    assert found.line == 5
    assert found.details == {"credentials": True}


def test_cors_without_credentials_does_not_claim_credentials() -> None:
    found = only(CORS_HEADER + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n', "FAA301")
    assert "allow_credentials" not in found.message
    assert "any website can read the responses" in found.message
    assert found.details == {"credentials": False}


def test_cors_credentials_false_is_not_exploitable() -> None:
    found = only(
        CORS_HEADER + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)\n',
        "FAA301",
    )
    assert found.details == {"credentials": False}


def test_cors_names_the_function_and_the_middleware_entry() -> None:
    source = """\
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware as Cors

    def build():
        return Starlette(
            middleware=[
                Middleware(Cors, allow_origin_regex=".*", allow_credentials=True),
            ]
        )
    """
    found = only(source, "FAA301")
    assert found.line == 8
    assert "`Middleware(Cors, ...)` in `build`" in found.message
    assert "allow_origin_regex='.*'" in found.message
    assert "allow_credentials=True" in found.message


def test_cors_star_inside_a_string_is_explained() -> None:
    found = only(CORS_HEADER + 'app.add_middleware(CORSMiddleware, allow_origins="https://*.example.com")\n', "FAA301")
    assert "string 'https://*.example.com'" in found.message


def test_cors_settings_default_names_the_attribute_and_what_to_change() -> None:
    source = """\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        cors_origins: list[str] = ["*"]

    def get_settings() -> Settings:
        return Settings()

    def create_app() -> FastAPI:
        settings = get_settings()
        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)
        return app
    """
    found = only(source, "FAA301")
    assert found.line == 14
    assert "the default of `Settings.cors_origins` (line 6) when the setting is not given" in found.message
    assert "make the default of `Settings.cors_origins` an explicit list of trusted origins" in found.message
    assert not found.message.endswith(get_rule("FAA301").fix)


@pytest.mark.parametrize("pattern", [".*", ".+", "^.*$", r"https?://.*", r"https://.*", r"(https?://)?.*", r".*|x"])
def test_regex_matching_everything(pattern: str) -> None:
    assert _matches_any_origin(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"https://.*\.example\.com",
        r"https://(app|admin)\.example\.com",
        r"http://localhost(:\d+)?",
        "null",
        "*",  # not a valid regex
        "(",
    ],
)
def test_regex_scoped_to_known_sites(pattern: str) -> None:
    assert not _matches_any_origin(pattern)


# -- FAA302 ----------------------------------------------------------------------


def test_body_message_names_parameter_handler_and_model() -> None:
    source = """\
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/agents/run")
    async def run_agent(agent_id: str, request: dict):
        return request
    """
    found = only(source, "FAA302")
    assert (found.line, found.col) == (6, 35)  # the `request` parameter, not the def
    assert "route handler `run_agent`" in found.message
    assert "`request: dict`" in found.message
    assert "Pydantic model" in found.message
    assert found.details == {"parameter": "request", "handler": "run_agent"}


def test_untyped_body_says_it_has_no_type() -> None:
    source = """\
    from fastapi import Body, FastAPI

    app = FastAPI()

    @app.post("/x")
    def create(payload=Body(...)):
        return payload
    """
    found = only(source, "FAA302")
    assert "`payload=Body(...)` with no type" in found.message


def test_typed_value_mapping_is_a_typed_map_not_a_finding() -> None:
    # A declared value type checks every value, as `list[float]` checks every item; keys are data.
    source = """\
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/weights")
    def weights(values: dict[str, float], raw: dict[str, dict]):
        return values
    """
    found = only(source, "FAA302")
    assert "`raw: dict[str, dict]`" in found.message
    assert "any JSON object is accepted unchecked" in found.message


def test_raw_read_message_names_the_call() -> None:
    source = """\
    from fastapi import APIRouter, Request

    router = APIRouter()

    @router.post("/feedback")
    async def feedback(request: Request):
        data = await request.json()
        return data
    """
    found = only(source, "FAA302")
    assert found.line == 7
    assert "route handler `feedback` reads the raw body with `await request.json()`" in found.message
    assert found.message.endswith(get_rule("FAA302").fix)


def test_dependency_typed_dict_is_not_a_body() -> None:
    source = """\
    from typing import Annotated
    from fastapi import Depends, FastAPI

    app = FastAPI()

    def current_user() -> dict:
        return {}

    @app.post("/me")
    def me(user: dict = Depends(current_user), other: Annotated[dict, Depends(current_user)] = None):
        return user
    """
    assert findings(source, "FAA302") == []


def _project(tmp_path: Path, helper: str) -> list[Diagnostic]:
    """A two-module app: the route in ``app/main.py`` hands its body to ``app/upstream.py``."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "upstream.py").write_text(textwrap.dedent(helper))
    main = package / "main.py"
    main.write_text(
        textwrap.dedent(
            """\
            from fastapi import FastAPI

            from app import upstream

            app = FastAPI()

            @app.post("/v1/embeddings")
            async def embeddings(form_data: dict):
                return await upstream.relay(form_data)
            """
        )
    )
    return [d for d in analyse_tree(ast.parse(main.read_text()), str(main), strict=True) if d.code == "FAA302"]


def test_body_forwarded_by_a_helper_of_another_module_is_a_proxy(tmp_path: Path) -> None:
    helper = """\
    import json

    import httpx

    async def relay(form_data: dict):
        form_data["model"] = form_data.get("model", "").strip()
        async with httpx.AsyncClient() as client:
            return (await client.post("/embeddings", content=json.dumps(form_data))).json()
    """
    assert _project(tmp_path, helper) == []


def test_body_consumed_by_a_helper_of_another_module_is_reported(tmp_path: Path) -> None:
    helper = """\
    async def relay(form_data: dict):
        return {"items": [item.upper() for item in form_data["input"]]}
    """
    found = _project(tmp_path, helper)
    assert [(d.line, d.details["parameter"]) for d in found] == [(8, "form_data")]


# -- FAA303 ----------------------------------------------------------------------


def test_leak_message_names_sink_function_and_expression() -> None:
    source = """\
    from fastapi import FastAPI, HTTPException

    app = FastAPI()

    @app.post("/pay")
    async def pay_invoice(invoice_id: int):
        try:
            return await charge(invoice_id)
        except Exception as exc:
            raise HTTPException(
                status_code=500,
                detail=str(exc),
            )
    """
    found = only(source, "FAA303")
    assert found.line == 10  # the HTTPException call
    assert "`HTTPException(detail=...)` in `pay_invoice`" in found.message
    assert "caught exception `exc` (`str(exc)`)" in found.message
    assert found.message.endswith(get_rule("FAA303").fix)


def test_leak_through_a_local_names_the_variable() -> None:
    source = """\
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.exception_handler(Exception)
    async def on_error(request, exc):
        text = repr(exc)
        return JSONResponse(status_code=500, content={"error": text})
    """
    found = only(source, "FAA303")
    assert "`JSONResponse(content=...)` in `on_error`" in found.message
    assert "(`repr(exc)`) through `text`" in found.message


def test_returned_traceback_names_the_handler() -> None:
    source = """\
    import traceback
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/report")
    def report():
        try:
            return build()
        except Exception:
            return {"trace": traceback.format_exc()}
    """
    found = only(source, "FAA303")
    assert "route handler `report` returns a traceback (`traceback.format_exc()`)" in found.message


def test_debug_message_names_the_constructor() -> None:
    source = """\
    from starlette.applications import Starlette as App

    app = App(routes=[], debug=True)
    """
    found = only(source, "FAA303")
    assert found.line == 3
    assert "`App(debug=True)`" in found.message
    assert "traceback" in found.message


def test_logging_the_exception_is_not_a_leak() -> None:
    source = """\
    import logging
    from fastapi import FastAPI, HTTPException

    logger = logging.getLogger(__name__)
    app = FastAPI()

    @app.post("/run")
    async def run():
        try:
            return await execute()
        except Exception as e:
            logger.error(str(e))
            logger.exception("run failed: %s", e)
            raise HTTPException(500, detail="Internal error") from e
    """
    assert findings(source, "FAA303") == []


# -- robustness ------------------------------------------------------------------

FASTAPI = "from fastapi import Body, FastAPI, HTTPException, Request\napp = FastAPI()\n"
CORS = "from fastapi.middleware.cors import CORSMiddleware as C\nfrom fastapi import FastAPI\n"

ODD_SHAPES = [
    "from fastapi.middleware.cors import CORSMiddleware\nCORSMiddleware()\n",
    CORS + "FastAPI().add_middleware(C, *a, **k)\n",
    "from starlette.middleware import Middleware\nMiddleware()\nMiddleware(*m)\n",
    CORS + "O = O\nFastAPI().add_middleware(C, allow_origins=O, allow_origin_regex=O, **O)\n",
    CORS + "FastAPI().add_middleware(C, allow_origins=[*[*'*']], allow_origin_regex='(' * 500)\n",
    FASTAPI + "@app.post('/{x}')\ndef f(x: 'dict[', /, *a: dict, y: dict = Body(), **k: dict): ...\n",
    FASTAPI + "@app.post('/')\nasync def f(r: 'Request', s: dict[()], t: list[dict, int]):\n    await r.json()\n",
    FASTAPI
    + textwrap.dedent(
        """\
        @app.post('/')
        async def f(request: Request):
            x = y = await request.json()
            async with request.form() as (a, b):
                pass
        """
    ),
    FASTAPI
    + textwrap.dedent(
        """\
        other = FastAPI(debug=True, exception_handlers={**h})
        try:
            pass
        except* Exception as e:
            HTTPException(*e)
            HTTPException(1, f'{e!r:>{e}}')
        """
    ),
    FASTAPI + "@app.exception_handler()\ndef h(): return str(e)\n",
    FASTAPI + "app.add_exception_handler(Exception, lambda r, e: str(e))\napp.add_exception_handler(h)\n",
    FASTAPI
    + textwrap.dedent(
        """\
        @app.get('/')
        def f():
            try:
                pass
            except Exception as e:
                m = m + str(e)
                m += m
                raise HTTPException(500, m % (e,))
        """
    ),
]


@pytest.mark.parametrize("source", ODD_SHAPES)
def test_odd_shapes_do_not_crash(source: str) -> None:
    analyse_source(source, "odd.py", strict=True)
