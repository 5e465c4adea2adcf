"""Whole-project analysis: imports between the files being linted are followed."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.analysis.project import ProjectIndex
from flake8_fastapi_antipatterns.engine import analyse_tree

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multi_module_app"
CHAIN = "read_user -> crud.get_user -> Session.query"


def flake8(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """A private copy of the multi-module example that a test may edit."""
    target = tmp_path / "multi_module_app"
    shutil.copytree(EXAMPLE, target)
    return target


def test_cross_module_blocking_call_is_reported_with_its_chain() -> None:
    result = flake8(str(EXAMPLE))
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout + result.stderr
    assert "routers/users.py:12:12: FAA101" in lines[0]
    # The chain, and where its blocking call is (relative to the working directory, as flake8's paths).
    assert f"{CHAIN} (at {Path(os.path.relpath(EXAMPLE / 'crud.py'))}:5)" in lines[0]


def test_one_file_alone_gets_the_same_finding() -> None:
    result = flake8(str(EXAMPLE / "routers" / "users.py"))
    assert CHAIN in result.stdout, result.stdout + result.stderr


def test_parallel_workers_agree_with_a_serial_run() -> None:
    serial = flake8("-j1", str(EXAMPLE)).stdout
    parallel = flake8("-j2", str(EXAMPLE)).stdout
    assert sorted(serial.splitlines()) == sorted(parallel.splitlines())


def test_the_helper_becoming_async_safe_silences_the_route(app_copy: Path) -> None:
    crud = app_copy / "crud.py"
    crud.write_text(crud.read_text().replace("return db.query", "return db.info.get"))
    assert flake8(str(app_copy)).stdout == ""


def test_unresolvable_and_broken_modules_invent_nothing(app_copy: Path) -> None:
    (app_copy / "crud.py").write_text("def get_user(db, user_id:\n")  # a syntax error
    users = app_copy / "routers" / "users.py"
    users.write_text(users.read_text().replace("from .. import crud", "from .. import crud, nowhere_module"))
    result = flake8(str(users))
    assert "FAA101" not in result.stdout
    assert "Traceback" not in result.stderr


def test_index_is_bounded_and_refreshes_changed_files(tmp_path: Path) -> None:
    index = ProjectIndex(max_modules=2)
    files = []
    for i in range(4):
        path = tmp_path / f"m{i}.py"
        path.write_text(f"VALUE = {i}\n")
        files.append(path)
        assert index.module(path) is not None
    assert len(index._modules) == 2
    info = index.module(files[-1])
    assert info is not None and "VALUE" in info.names.bindings
    files[-1].write_text("OTHER = 1\n# grown\n")
    refreshed = index.module(files[-1])
    assert refreshed is not None and "OTHER" in refreshed.names.bindings


def test_relative_imports_and_reexports_resolve(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    (pkg / "services").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "services" / "__init__.py").write_text("from .users import load\n")
    (pkg / "services" / "users.py").write_text(
        textwrap.dedent(
            """\
            import time

            def load(user_id):
                time.sleep(1)
                return user_id
            """
        )
    )
    main = pkg / "main.py"
    main.write_text(
        textwrap.dedent(
            """\
            from .services import load

            async def handler():
                return load(1)
            """
        )
    )
    findings = analyse_tree(ast.parse(main.read_text()), str(main), strict=True)
    assert [(d.line, d.code) for d in findings] == [(4, "FAA102")]
    assert "handler -> users.load -> time.sleep" in findings[0].message


APP_LEVEL = {"FAA304", "FAA305", "FAA401"}
ONE_ROUTE_APP = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/items')\nasync def items():\n    return []\n"


@pytest.mark.parametrize("name", ["test_items.py", "items_test.py", "conftest.py"])
def test_apps_built_in_pytest_modules_are_not_judged(tmp_path: Path, name: str) -> None:
    test_module, app_module = tmp_path / name, tmp_path / "items.py"
    for path in (test_module, app_module):
        path.write_text(ONE_ROUTE_APP)
    in_test = {d.code for d in analyse_tree(ast.parse(ONE_ROUTE_APP), str(test_module), strict=True)}
    in_app = {d.code for d in analyse_tree(ast.parse(ONE_ROUTE_APP), str(app_module), strict=True)}
    assert not in_test & APP_LEVEL
    assert APP_LEVEL <= in_app


def test_a_checkout_of_a_modelled_library_beside_the_app_is_not_followed(tmp_path: Path) -> None:
    # Linting a repository that holds FastAPI's own sources next to apps that import it:
    # ``fastapi.FastAPI`` stays a library name, not a class to parse and follow.
    (tmp_path / "fastapi").mkdir()
    (tmp_path / "fastapi" / "__init__.py").write_text("from .applications import FastAPI\n")
    (tmp_path / "fastapi" / "applications.py").write_text("class FastAPI:\n    pass\n")
    (tmp_path / "calendar.py").write_text("import time\n\ndef book():\n    time.sleep(1)\n")
    main = tmp_path / "main.py"
    main.write_text(
        textwrap.dedent(
            """\
            from fastapi import FastAPI
            from calendar import book

            app = FastAPI()

            @app.get("/")
            async def index():
                book()
            """
        )
    )
    index = ProjectIndex()
    assert index.find_module(main, "fastapi.FastAPI") is None
    assert index.symbol(main, "fastapi.FastAPI") is None
    assert not any("fastapi" in str(path) for path in index._modules)
    # A project module that shares a standard-library name is still the project's.
    located = index.find_module(main, "calendar.book")
    assert located is not None and located[0].name == "calendar.py"
    findings = analyse_tree(ast.parse(main.read_text()), str(main), strict=True)
    assert any(d.code == "FAA102" and "calendar.book -> time.sleep" in d.message for d in findings), findings


def test_no_app_level_findings_when_parts_live_in_other_modules() -> None:
    result = flake8(str(EXAMPLE / "main.py"))
    assert not any(code in result.stdout for code in ("FAA304", "FAA305", "FAA401")), result.stdout


@pytest.mark.parametrize(
    ("relative", "old", "new", "code"),
    [
        ("routers/ops.py", '@router.get("/health")', '@router.get("/about")', "FAA401"),
        ("routers/users.py", ', dependencies=[Depends(rate_limit)]', "", "FAA305"),
        ("main.py", "app.add_exception_handler(Exception, unhandled_error)\n", "", "FAA304"),
    ],
)
def test_each_app_level_code_fires_once_its_part_is_gone(app_copy: Path, relative: str, old: str, new: str, code: str) -> None:
    target = app_copy / relative
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new))
    if code == "FAA305":
        # The limiter module still names itself; make it something else entirely.
        limits = app_copy / "limits.py"
        limits.write_text(limits.read_text().replace("rate_limit", "count_client"))
        users = app_copy / "routers" / "users.py"
        users.write_text(users.read_text().replace("from ..limits import rate_limit\n", ""))
    result = flake8(str(app_copy / "main.py"))
    lines = [line for line in result.stdout.splitlines() if code in line]
    assert len(lines) == 1 and "main.py:21:7:" in lines[0], result.stdout


def test_an_unresolvable_router_keeps_app_level_codes_silent(app_copy: Path) -> None:
    main = app_copy / "main.py"
    main.write_text(main.read_text().replace("from .routers import ops, users", "from .routers import users\nfrom thirdparty import ops"))
    (app_copy / "routers" / "ops.py").unlink()
    result = flake8(str(main))
    assert "FAA401" not in result.stdout and "FAA305" not in result.stdout


# -- apps mounted from another module ------------------------------------------------

ADMIN_APP = textwrap.dedent(
    """\
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/users")
    async def users():
        return []
    """
)
MAIN_MOUNTING = textwrap.dedent(
    """\
    from fastapi import FastAPI

    from .admin import app as admin_app

    app = FastAPI()
    app.mount("/admin", admin_app)
    """
)


def _package(root: Path, files: dict[str, str]) -> Path:
    """A package ``app/`` under ``root`` holding ``files`` (name -> source); returns the package."""
    package = root / "app"
    package.mkdir(parents=True)
    for name, source in {"__init__.py": "", **files}.items():
        (package / name).write_text(source)
    return package


def _project(root: Path, main: str, admin: str = ADMIN_APP, *, main_name: str = "main.py") -> Path:
    """A package ``app/`` holding ``admin.py`` and ``main``; returns the package."""
    return _package(root, {"admin.py": admin, main_name: main})


def _codes(path: Path) -> dict[str, str]:
    return {d.code: d.message for d in analyse_tree(ast.parse(path.read_text()), str(path), strict=True)}


@pytest.mark.parametrize(
    ("how", "mounted"),
    [
        ('app.mount("/admin", admin_app)', True),
        ('app.router.routes.append(Mount("/admin", app=admin_app))', True),
        ("app.state.admin = admin_app", False),  # imported, not mounted: served on its own
    ],
)
def test_an_app_mounted_from_another_module_is_judged_through_the_app_that_mounts_it(
    tmp_path: Path, how: str, mounted: bool
) -> None:
    main = MAIN_MOUNTING.replace('app.mount("/admin", admin_app)', how)
    if "Mount(" in how:
        main = "from starlette.routing import Mount\n" + main
    package = _project(tmp_path, main)
    admin = _codes(package / "admin.py")
    assert "FAA304" in admin  # a mounted app still answers its own errors
    assert ("FAA305" in admin, "FAA401" in admin) == (not mounted, not mounted), admin


def test_the_app_that_mounts_another_modules_app_is_judged_with_its_routes(tmp_path: Path) -> None:
    package = _project(tmp_path, MAIN_MOUNTING)
    main = _codes(package / "main.py")
    # Before the mount was followed across modules, both stayed silent (the mounted app was unknown).
    assert "serves 1 route(s)" in main["FAA305"]
    assert "admin_app (mounted at /admin)" in main["FAA401"]
    (package / "admin.py").write_text(ADMIN_APP.replace('"/users"', '"/healthz"'))
    assert "FAA401" not in _codes(package / "main.py")  # /admin/healthz is served through the app


def test_a_test_module_mounting_the_app_does_not_count(tmp_path: Path) -> None:
    package = _project(tmp_path, MAIN_MOUNTING, main_name="test_admin.py")
    admin = _codes(package / "admin.py")
    assert {"FAA305", "FAA401"} <= set(admin)


UI_FACTORY = textwrap.dedent(
    """\
    from fastapi import FastAPI


    def create_ui_app() -> FastAPI:
        ui = FastAPI()

        @ui.get("/ui-settings")
        async def ui_settings():
            return {}

        return ui
    """
)
SERVER_MOUNTING_FACTORY = textwrap.dedent(
    """\
    from fastapi import FastAPI

    from .ui import create_ui_app


    def create_app() -> FastAPI:
        app = FastAPI()

        @app.get("/api/health")
        async def health():
            return True

        ui_app = create_ui_app()
        app.mount("/", app=ui_app)
        return app
    """
)


@pytest.mark.parametrize("mounted", [True, False])
def test_an_app_a_factory_of_another_module_builds_is_judged_through_the_app_that_mounts_it(
    tmp_path: Path, mounted: bool
) -> None:
    server = SERVER_MOUNTING_FACTORY if mounted else SERVER_MOUNTING_FACTORY.replace('app.mount("/", app=ui_app)', "app.state.ui = ui_app")
    package = _package(tmp_path, {"ui.py": UI_FACTORY, "server.py": server})
    ui = _codes(package / "ui.py")
    assert "FAA304" in ui  # a mounted app still answers its own errors
    assert ("FAA401" in ui) == (not mounted), ui  # probed through the server's /api/health when mounted
    assert "FAA401" not in _codes(package / "server.py")


def test_the_app_that_mounts_a_factorys_app_is_judged_with_its_routes(tmp_path: Path) -> None:
    server = SERVER_MOUNTING_FACTORY.replace('"/api/health"', '"/api/flows"')
    package = _package(tmp_path, {"ui.py": UI_FACTORY, "server.py": server})
    assert "ui_app (mounted at /)" in _codes(package / "server.py")["FAA401"]  # neither serves a probe
    (package / "ui.py").write_text(UI_FACTORY.replace('"/ui-settings"', '"/healthz"'))
    assert "FAA401" not in _codes(package / "server.py")  # /healthz is served through the mounted app


def test_the_search_for_mounting_files_is_bounded_and_skips_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _project(tmp_path, MAIN_MOUNTING)
    for hidden in (".venv", "node_modules"):
        (tmp_path / hidden).mkdir()
        (tmp_path / hidden / "other.py").write_text(MAIN_MOUNTING)
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("")
    (tmp_path / "env" / "site.py").write_text(MAIN_MOUNTING)
    index = ProjectIndex()
    found = index.mounting_files(str(package / "admin.py"))
    assert found is not None and list(found) == [str(package / "main.py")]
    assert found[str(package / "main.py")] == {"from", "import", "fastapi", "FastAPI", "admin", "app", "as", "admin_app"}
    monkeypatch.setattr("flake8_fastapi_antipatterns.analysis.project.MAX_SCANNED_FILES", 1)
    assert ProjectIndex().mounting_files(str(package / "admin.py")) is None  # (admin.py, __init__.py, main.py)


def test_a_handler_for_an_exception_class_of_another_project_module_answers_with_its_text(tmp_path: Path) -> None:
    package = _package(tmp_path, {"errors.py": "class QuotaExceeded(Exception):\n    pass\n"})
    main = package / "main.py"
    main.write_text(
        textwrap.dedent(
            """\
            from fastapi import FastAPI
            from fastapi.responses import JSONResponse
            from sqlalchemy.exc import OperationalError

            from .errors import QuotaExceeded

            app = FastAPI()


            @app.exception_handler(QuotaExceeded)
            async def quota(request, exc):
                return JSONResponse({"detail": str(exc)}, status_code=429)


            @app.exception_handler(OperationalError)
            async def database(request, exc):
                return JSONResponse({"detail": str(exc)}, status_code=503)
            """
        )
    )
    findings = analyse_tree(ast.parse(main.read_text()), str(main), strict=True)
    # The project's own class: its text was written for the client.  A library's: it was not.
    assert [d.line for d in findings if d.code == "FAA303"] == [17]


def test_a_handler_registered_in_another_module_answers_as_the_registration_says(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "handlers.py": textwrap.dedent(
                """\
                from fastapi import Request
                from fastapi.responses import JSONResponse


                async def exception_handler(request: Request, exc):
                    return JSONResponse({"error": str(exc)}, status_code=500)


                async def quota_handler(request: Request, exc):
                    return JSONResponse({"error": str(exc)}, status_code=429)


                async def fallback_handler(request: Request, exc):
                    return JSONResponse({"error": repr(exc)}, status_code=500)
                """
            ),
            "errors.py": "class QuotaExceeded(Exception):\n    pass\n",
            "register.py": textwrap.dedent(
                """\
                from fastapi import FastAPI

                from .errors import QuotaExceeded
                from .handlers import exception_handler, fallback_handler, quota_handler


                def register(app: FastAPI) -> None:
                    app.exception_handler(Exception)(exception_handler)
                    app.add_exception_handler(QuotaExceeded, quota_handler)
                    app.add_exception_handler(ValueError, fallback_handler)
                """
            ),
        },
    )
    handlers = package / "handlers.py"
    findings = analyse_tree(ast.parse(handlers.read_text()), str(handlers), strict=True)
    # Registered for ``Exception`` by calling the decorator by hand, or for a builtin: any error's text.
    # For the project's own class: the text it was written with.
    assert [d.line for d in findings if d.code == "FAA303"] == [6, 14]


# A route that puts what ``{helper}`` makes of a caught exception in its 500.
ROUTE_CALLING_A_HELPER = textwrap.dedent(
    """\
    import httpx
    from fastapi import FastAPI, HTTPException

    from .helpers import {helper}

    app = FastAPI()


    @app.get("/")
    async def read(url: str):
        try:
            return httpx.get(url, timeout=5).json()
        except Exception as e:
            raise HTTPException(500, detail={call})
    """
)


def test_helpers_that_call_each_other_answer_the_same_whichever_file_asks_first(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "helpers.py": textwrap.dedent(
                """\
                def describe(error, depth):
                    if depth:
                        return describe_again(error, depth - 1)
                    return str(error)


                def describe_again(error, depth):
                    return describe(error, depth)
                """
            ),
            "first.py": ROUTE_CALLING_A_HELPER.format(helper="describe", call="describe(e, 1)"),
            "second.py": ROUTE_CALLING_A_HELPER.format(helper="describe_again", call="describe_again(e, 1)"),
        },
    )
    outputs = []
    for order in (["first.py", "second.py"], ["second.py", "first.py"]):
        result = flake8("--faa-cache", "off", "-j1", *order, cwd=package)
        outputs.append(sorted(line.split(":")[0] for line in result.stdout.splitlines() if "FAA303" in line))
    assert outputs[0] == outputs[1] == ["first.py", "second.py"], outputs


def test_a_long_chain_of_helpers_is_followed_without_running_out_of_stack(tmp_path: Path) -> None:
    helpers = "".join(f"def h{i}(x):\n    return h{i + 1}(x)\n\n\n" for i in range(300)) + "def h300(x):\n    return str(x)\n"
    route = ROUTE_CALLING_A_HELPER.format(helper="h0", call="h0(e)")
    package = _package(tmp_path, {"helpers.py": helpers, "main.py": route})
    main = package / "main.py"
    # Deeper than the chain is read (``MAX_HELPER_CHAIN``): not known to carry the text, and no crash.
    findings = analyse_tree(ast.parse(main.read_text()), str(main), strict=True)
    assert [d.code for d in findings if d.code == "FAA303"] == []


def test_the_mount_search_survives_a_removed_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _project(tmp_path / "project", MAIN_MOUNTING)
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    found = ProjectIndex().mounting_files(str(package / "admin.py"))
    assert found is not None and list(found) == [str(package / "main.py")]


def test_an_llm_call_through_a_helper_is_reported_with_where_it_is(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "llm.py": textwrap.dedent(
                """\
                from openai import AsyncOpenAI

                client = AsyncOpenAI()

                async def summarise(text):
                    return await client.chat.completions.create(model="gpt-4o", messages=[])
                """
            )
        },
    )
    main = package / "main.py"
    main.write_text(
        "from fastapi import FastAPI\n\nfrom .llm import summarise\n\napp = FastAPI()\n\n\n"
        "@app.post('/summary')\nasync def summary(text: str):\n    return await summarise(text)\n"
    )
    findings = [d for d in analyse_tree(ast.parse(main.read_text()), str(main), strict=True) if d.code == "FAA103"]
    assert len(findings) == 1 and f"(at {package / 'llm.py'}:6)" in findings[0].message, findings


GITHUB_SERVICE = """\
import httpx


class GitHubService:
    def __init__(self, token: str) -> None:
        self.token = token

    async def _make_request(self, url: str) -> dict:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {self.token}"})
        return response.json()

    async def repositories(self) -> dict:
        return await self._make_request("https://api.github.com/user/repos")


async def warm_cache() -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await client.get("https://api.github.com/meta")
"""

GITHUB_ROUTES = """\
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .service import GitHubService, warm_cache


@asynccontextmanager
async def lifespan(app):
    task = asyncio.create_task(warm_cache())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)


@app.get("/repos")
async def repos(token: str):
    return await GitHubService(token).repositories()
"""


def test_a_client_built_per_call_in_a_service_method_of_another_module_is_per_request(tmp_path: Path) -> None:
    package = _package(tmp_path, {"service.py": GITHUB_SERVICE, "routes.py": GITHUB_ROUTES})
    service = package / "service.py"
    findings = [d for d in analyse_tree(ast.parse(service.read_text()), str(service), strict=True) if d.code == "FAA204"]
    # The method a route reaches builds a client per request; the start-up task's client is built once.
    assert [d.line for d in findings] == [9]
    message = findings[0].message
    assert "`httpx.AsyncClient()` is created per request in `_make_request` (no connection reuse)" in message
    assert "reached from GET /repos (" in message
    # It has its timeout: it is told about reuse, not about timeouts.
    assert "timeout" not in message
    assert message.endswith("create one client in the lifespan and share it through app.state or a dependency")


def test_a_service_client_nothing_serves_is_not_per_request(tmp_path: Path) -> None:
    routes = GITHUB_ROUTES.replace("return await GitHubService(token).repositories()", "return {'token': token}")
    package = _package(tmp_path, {"service.py": GITHUB_SERVICE, "routes.py": routes})
    service = package / "service.py"
    assert not [d for d in analyse_tree(ast.parse(service.read_text()), str(service), strict=True) if d.code == "FAA204"]


SHARED_SERVICE = """\
import functools

import httpx


async def fetch_status(name: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"https://status.example.com/{name}")).json()


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10)


class Translator:
    @functools.cached_property
    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10)

    async def translate(self, text: str) -> str:
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.post("https://translate.example.com", json={"q": text})).text
"""

SHARED_ROUTES = """\
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, WebSocket

from .service import Translator, fetch_status, new_client


async def poll_forever() -> None:
    while True:
        await fetch_status("all")
        await asyncio.sleep(30)


@asynccontextmanager
async def lifespan(app):
    app.state.http = new_client()
    task = asyncio.create_task(poll_forever())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)
translator = Translator()


async def status_for(name: str) -> dict:
    return await fetch_status(name)


@app.get("/status/{name}")
async def status(name: str):
    return await status_for(name)


@app.get("/client")
async def client(request: Request):
    return {"client": str(translator.client)}


@app.post("/reconnect")
async def reconnect(request: Request):
    request.app.state.http = new_client()


@app.websocket("/ws")
async def chat(websocket: WebSocket):
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(await translator.translate(text))
"""


@pytest.mark.parametrize("poller_first", [True, False])
def test_a_client_a_request_reaches_is_per_request_whoever_else_calls_its_function(
    tmp_path: Path, poller_first: bool
) -> None:
    routes = SHARED_ROUTES
    if not poller_first:
        # The route's caller defined before the start-up task's: the answer is the same.
        poller = routes[routes.index("async def poll_forever") : routes.index("@asynccontextmanager")]
        caller = routes[routes.index("async def status_for") : routes.index('@app.get("/status')]
        routes = routes.replace(poller, "").replace(caller, caller + poller)
    package = _package(tmp_path, {"service.py": SHARED_SERVICE, "routes.py": routes})
    service = package / "service.py"
    findings = {d.line: d.message for d in analyse_tree(ast.parse(service.read_text()), str(service), strict=True) if d.code == "FAA204"}
    # fetch_status: a request reaches it (and a start-up task); translate: per websocket message. The factory's
    # caller keeps the client (``app.state.http``), and a cached property builds one per object.
    assert sorted(findings) == [7, 21]
    assert "reached from GET /status/{name} (" in findings[7]


MODEL_STATE = """\
from typing import Dict, List, Optional

from app.models import Embedder

embedders: Dict[str, Embedder] = None
rerankers: Optional[List[Embedder]] = None
names: Dict[str, str] = {}
"""

MODEL_CLASSES = """\
import requests


class Embedder:
    def embed(self, text):
        return requests.post("https://embed.example.com", json={"text": text}, timeout=5).json()
"""

MODEL_ROUTES = """\
from fastapi import FastAPI

from app import state
from app.state import embedders

app = FastAPI()


@app.get("/search")
async def search(q: str, model: str):
    vector = state.embedders[model].embed(q)
    reranked = state.rerankers[0].embed(q)
    label = state.names[model].upper()
    return {"vector": vector, "reranked": reranked, "label": label}


@app.get("/similar")
async def similar(q: str, model: str):
    return embedders[model].embed(q)
"""


def test_an_item_of_a_module_global_annotated_as_a_container_is_of_the_item_class(tmp_path: Path) -> None:
    # ``state.embedders[name]`` with ``embedders: Dict[str, Embedder]`` in another module runs
    # ``Embedder.embed``; a ``List`` (under ``Optional``) names its items too, a ``Dict[str, str]`` a plain string.
    package = _package(tmp_path, {"state.py": MODEL_STATE, "models.py": MODEL_CLASSES, "routes.py": MODEL_ROUTES})
    routes = package / "routes.py"
    findings = [d for d in analyse_tree(ast.parse(routes.read_text()), str(routes), strict=True) if d.code == "FAA102"]
    # The dict imported by name is followed as the module's attribute is.
    assert [d.line for d in findings] == [11, 12, 19]
    assert "search -> models.embed -> requests.post" in findings[0].message


CUT_DB = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))


class Repo:
    def __init__(self, session):
        self.session = session

    def all(self):
        return self.session.query(object).all()


def make_repo():
    return Repo(new_session())


def new_session():
    return SessionLocal() or make_repo().session
"""

CUT_MAIN = """\
from fastapi import FastAPI

from app.db import make_repo, new_session

app = FastAPI()


@app.get("/a")
async def a():
    s = new_session()
    return s.query(object).all()


@app.get("/b")
async def b():
    return make_repo().all()
"""


def test_an_argument_worked_out_while_a_return_was_cut_short_is_worked_out_again(tmp_path: Path) -> None:
    # ``make_repo`` binds ``Repo(new_session())`` while ``new_session``'s own return is being worked
    # out (it calls ``make_repo`` again): that binding is cut short and must not be kept for ``b``.
    package = _package(tmp_path, {"db.py": CUT_DB, "main.py": CUT_MAIN})
    main = package / "main.py"
    findings = [d for d in analyse_tree(ast.parse(main.read_text()), str(main), strict=True) if d.code == "FAA101"]
    assert [d.line for d in findings] == [11, 16]
