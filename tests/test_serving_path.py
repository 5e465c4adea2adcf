"""The serving path across a project's modules: what the messages say, and the scope option."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.analysis.project import ProjectIndex
from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.options import Settings, settings_from


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))


def lint(root: Path, rel: str, settings: Settings | None = None) -> list[tuple[int, str, str]]:
    path = root / rel
    return [(d.line, d.code, d.message) for d in analyse_source(path.read_text(), str(path), settings, strict=True)]


PROJECT = {
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import FastAPI
        from app.routes import router

        app = FastAPI()
        app.include_router(router)
    """,
    "app/routes.py": """
        from fastapi import APIRouter
        from app import services

        router = APIRouter(prefix="/api")

        @router.get("/users/{user_id}")
        async def read_user(user_id: int):
            return await services.load(user_id)

        @router.get("/admin/users")
        async def list_users():
            return await services.load(0)
    """,
    "app/services.py": """
        import time

        async def load(user_id):
            time.sleep(0.1)
            return {"id": user_id}

        async def rebuild():
            time.sleep(5)
    """,
    "app/cli.py": """
        import asyncio
        import typer
        from app.services import rebuild

        cli = typer.Typer()

        @cli.command()
        def reindex():
            asyncio.run(rebuild())
    """,
}


def test_a_finding_says_which_route_reaches_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, PROJECT)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "app/services.py")
    assert [(line, code) for line, code, _ in found] == [(5, "FAA102")]
    message = found[0][2]
    assert "reached from GET /api/users/{user_id} (app/routes.py:7) and 1 more;" in message


def test_code_only_a_command_line_program_runs_is_reported_under_scope_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, PROJECT)
    monkeypatch.chdir(tmp_path)
    serving = {(line, code) for line, code, _ in lint(tmp_path, "app/services.py")}
    everything = {(line, code) for line, code, _ in lint(tmp_path, "app/services.py", settings_from({"scope": "all"}))}
    assert (9, "FAA102") not in serving
    assert everything == {(5, "FAA102"), (9, "FAA102")}


def test_a_project_with_no_app_is_a_library_and_every_coroutine_is_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"lib/__init__.py": "", "lib/helpers.py": PROJECT["app/services.py"]})
    monkeypatch.chdir(tmp_path)
    assert {(line, code) for line, code, _ in lint(tmp_path, "lib/helpers.py")} == {(5, "FAA102"), (9, "FAA102")}


def test_a_test_module_calling_a_helper_does_not_put_it_on_the_serving_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = dict(PROJECT)
    files["app/tools.py"] = """
        import time

        async def only_tested():
            time.sleep(1)
    """
    files["tests/test_tools.py"] = """
        import asyncio
        from app.tools import only_tested

        def test_it():
            asyncio.run(only_tested())
    """
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "app/tools.py") == []


def test_a_print_at_import_is_start_up_output_but_one_in_a_handler_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "main.py": """
                from fastapi import FastAPI

                print("starting")
                app = FastAPI()

                @app.get("/")
                async def root():
                    print("hit")
                    return {}
            """
        },
    )
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "main.py") if code == "FAA402"] == [(9, "FAA402")]


def test_debug_true_is_configuration_wherever_it_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "server.py": """
                from fastapi import FastAPI

                class Server:
                    def __init__(self):
                        self.app = FastAPI(debug=True)
            """
        },
    )
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "server.py") if code == "FAA303"] == [(6, "FAA303")]


def test_the_scope_option_refuses_other_values() -> None:
    with pytest.raises(ValueError, match="--faa-scope takes one of serving, all"):
        settings_from({"scope": "routes"})
    with pytest.raises(ValueError, match="--faa-fixed-file-reads takes yes or no"):
        settings_from({"fixed_file_reads": "sometimes"})
    assert settings_from({"fixed_file_reads": "no"}).fixed_file_reads == ()
    assert settings_from({"fixed_file_reads": "Yes"}).fixed_file_reads == ("yes",)


def test_flake8_reads_the_scope_from_setup_cfg(tmp_path: Path) -> None:
    write(tmp_path, PROJECT)

    def reported_lines() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "flake8", "--select", "FAA102", "app/services.py"],
            cwd=tmp_path, capture_output=True, text=True,
        )
        return [line.split(":")[1] for line in result.stdout.splitlines()]

    assert reported_lines() == ["5"]  # the default: only what a route reaches
    (tmp_path / "setup.cfg").write_text("[flake8]\nfaa-scope = all\n")
    assert reported_lines() == ["5", "9"]


def test_files_mentioning_matches_whole_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.py": "load()\n", "b.py": "load_all()\nreload()\n", "c.py": "x.load\n"})
    monkeypatch.chdir(tmp_path)
    index = ProjectIndex()
    found = index.files_mentioning(str(tmp_path / "a.py"), "load")
    assert found is not None
    assert sorted(Path(p).name for p in found) == ["a.py", "c.py"]


# -- routes only an administrator can call -------------------------------------------------------

OPERATOR_PROJECT = {
    "app/__init__.py": "",
    "app/deps.py": """
        def get_admin_user() -> str:
            return "admin"
    """,
    "app/storage.py": """
        from pathlib import Path

        async def save_record(name: str, text: str) -> None:
            Path(f"/var/lib/app/{name}.json").write_text(text)
    """,
    "app/admin.py": """
        from typing import Annotated
        from fastapi import APIRouter, Depends
        from app.deps import get_admin_user
        from app.storage import save_record

        router = APIRouter()
        AdminUser = Annotated[str, Depends(get_admin_user)]

        @router.post("/admin/records/{name}")
        async def write_record(name: str, text: str, user: AdminUser):
            await save_record(name, text)
    """,
    "app/main.py": """
        from fastapi import FastAPI
        from app.admin import router

        app = FastAPI()
        app.include_router(router)
    """,
}


def test_code_only_operator_routes_reach_is_left_alone_across_modules(tmp_path: Path) -> None:
    write(tmp_path, OPERATOR_PROJECT)
    assert [f[1] for f in lint(tmp_path, "app/storage.py")] == []
    judged = lint(tmp_path, "app/storage.py", settings_from({"operator_routes": "judge"}))
    assert [(f[0], f[1]) for f in judged] == [(5, "FAA102")]
    assert "reached from POST /admin/records/{name}" in judged[0][2]


def test_one_public_route_makes_the_shared_code_public(tmp_path: Path) -> None:
    files = dict(OPERATOR_PROJECT)
    files["app/public.py"] = """
        from fastapi import APIRouter
        from app.storage import save_record

        public = APIRouter()

        @public.post("/notes/{name}")
        async def write_note(name: str, text: str):
            await save_record(name, text)
    """
    files["app/main.py"] = """
        from fastapi import FastAPI
        from app.admin import router
        from app.public import public

        app = FastAPI()
        app.include_router(router)
        app.include_router(public)
    """
    write(tmp_path, files)
    assert [(f[0], f[1]) for f in lint(tmp_path, "app/storage.py")] == [(5, "FAA102")]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the `type` statement is Python 3.12+")
def test_a_type_statement_alias_of_the_administrators_dependency_counts() -> None:
    import ast

    from flake8_fastapi_antipatterns.analysis.audience import module_audience

    tree = ast.parse("from typing import Annotated\ntype Superuser = Annotated[str, Depends(require_superuser)]\n")
    assert module_audience(tree).aliases == frozenset({"Superuser"})


def test_the_option_takes_quiet_or_judge_only() -> None:
    assert settings_from({"operator_routes": "judge"}).quiet_operator_routes is False
    assert settings_from({}).quiet_operator_routes is True
    with pytest.raises(ValueError, match="faa-operator-routes"):
        settings_from({"operator_routes": "sometimes"})


DEVELOPMENT_PROJECT = {
    "srv/__init__.py": "",
    "srv/envs.py": "import os\nSERVER_DEV_MODE = bool(os.environ.get('SERVER_DEV_MODE'))\n",
    "srv/launch.py": """
        from fastapi import FastAPI
        from srv import envs

        def register_routers(app: FastAPI):
            from srv.public.api_router import attach_router as attach_public_router

            attach_public_router(app)
            if envs.SERVER_DEV_MODE:
                from srv.dev import register_dev_routers

                register_dev_routers(app)

        def build_app() -> FastAPI:
            app = FastAPI()
            register_routers(app)
            return app
    """,
    "srv/dev/__init__.py": """
        def register_dev_routers(app):
            from .rpc.api_router import attach_router as attach_rpc_router

            attach_rpc_router(app)
            from .control import router as control_router

            app.include_router(control_router)
    """,
    "srv/dev/rpc/__init__.py": "",
    "srv/dev/rpc/api_router.py": """
        from fastapi import APIRouter, FastAPI, Request
        from fastapi.responses import JSONResponse

        router = APIRouter()

        @router.post("/collective_rpc")
        async def collective_rpc(raw_request: Request):
            body = await raw_request.json()
            try:
                return await run(body)
            except Exception as err:
                return JSONResponse(content={"error": str(err)}, status_code=500)

        def attach_router(app: FastAPI):
            app.include_router(router)
    """,
    "srv/dev/control.py": """
        from fastapi import APIRouter
        from fastapi.responses import JSONResponse

        router = APIRouter()

        @router.post("/pause")
        async def pause():
            try:
                await stop()
            except Exception as err:
                return JSONResponse(content={"error": f"Failed to pause: {err}"}, status_code=500)
    """,
    "srv/public/__init__.py": "",
    "srv/public/api_router.py": """
        from fastapi import APIRouter, FastAPI
        from fastapi.responses import JSONResponse

        router = APIRouter()

        @router.post("/tokenize")
        async def tokenize():
            try:
                await work()
            except Exception as err:
                return JSONResponse(content={"error": str(err)}, status_code=500)

        def attach_router(app: FastAPI):
            app.include_router(router)
    """,
}


def test_routes_only_a_development_switch_attaches_are_not_the_production_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, DEVELOPMENT_PROJECT)
    monkeypatch.chdir(tmp_path)
    # Attached through a function-local aliased import, called only under the switch.
    assert [(line, code) for line, code, _ in lint(tmp_path, "srv/dev/rpc/api_router.py")] == []
    assert [(line, code) for line, code, _ in lint(tmp_path, "srv/dev/control.py")] == []
    # The same shape attached unconditionally is served (and found through its aliased import).
    public = lint(tmp_path, "srv/public/api_router.py")
    assert [(line, code) for line, code, _ in public] == [(12, "FAA303")]
    # Everything is judged under ``faa-scope = all``.
    everything = settings_from({"scope": "all"})
    assert {(line, code) for line, code, _ in lint(tmp_path, "srv/dev/rpc/api_router.py", everything)} == {
        (9, "FAA302"),
        (13, "FAA303"),
    }
    assert [(line, code) for line, code, _ in lint(tmp_path, "srv/dev/control.py", everything)] == [(12, "FAA303")]


def test_a_router_also_included_outside_the_switch_is_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = dict(DEVELOPMENT_PROJECT)
    project["srv/launch.py"] = DEVELOPMENT_PROJECT["srv/launch.py"] + """
        def build_production_app() -> FastAPI:
            from srv.dev.control import router

            app = FastAPI()
            app.include_router(router)
            return app
    """
    write(tmp_path, project)
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "srv/dev/control.py")] == [(12, "FAA303")]


def test_a_command_found_through_an_aliased_import_is_not_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "tool/__init__.py": "",
        "tool/api.py": """
            from fastapi import FastAPI

            app = FastAPI()
        """,
        "tool/batch.py": """
            async def main(args):
                with open(args.path) as handle:
                    return handle.read()
        """,
        "tool/cli.py": """
            import asyncio

            class Subcommand(Base):
                @staticmethod
                def cmd(args):
                    from tool.batch import main as batch_main

                    asyncio.run(batch_main(args))
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "tool/batch.py")] == []
    everything = lint(tmp_path, "tool/batch.py", settings_from({"scope": "all"}))
    assert [(line, code) for line, code, _ in everything] == [(3, "FAA102")]


STANDALONE_TOOLS = {
    "svc/__init__.py": "",
    "svc/main.py": """
        from fastapi import FastAPI

        app = FastAPI()
    """,
    "svc/tools/__init__.py": """
        from svc.tools.server import tools

        __all__ = ["tools"]
    """,
    "svc/tools/__main__.py": """
        from svc.tools.server import tools

        if __name__ == "__main__":
            tools.run()
    """,
    "svc/tools/server.py": """
        import time
        from mcp.server.fastmcp import FastMCP

        tools = FastMCP("tools")

        @tools.tool()
        async def pause():
            time.sleep(1)

        if __name__ == "__main__":
            tools.run()
    """,
}


def test_tools_only_a_standalone_program_serves_are_not_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The package re-exports the server and its ``__main__`` runs it: no request of the app reaches it.
    write(tmp_path, STANDALONE_TOOLS)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "svc/tools/server.py") == []


def test_tools_of_a_server_the_app_mounts_are_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        **STANDALONE_TOOLS,
        "svc/main.py": """
            from fastapi import FastAPI
            from svc.tools import tools

            app = FastAPI()
            app.mount("/mcp", tools.sse_app())
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "svc/tools/server.py")] == [(9, "FAA102")]


STORE_CLIENT = {
    "shop/__init__.py": "",
    "shop/main.py": """
        from fastapi import FastAPI
        from shop.store import store

        app = FastAPI()

        @app.get("/tags")
        async def tags():
            return await store.list_tags()
    """,
    "shop/store.py": """
        import httpx

        class Store:
            async def get(self, url):
                async with httpx.AsyncClient() as client:
                    return (await client.get(url, timeout=5)).json()

            async def list_tags(self):
                return await self.get("https://store.example/tags")

        class Other:
            async def get(self, url):
                async with httpx.AsyncClient() as client:
                    return (await client.get(url, timeout=5)).json()

            async def ping(self):
                return await self.get("https://store.example/ping")

        store = Store()
    """,
    # So many modules use the word ``get`` that its callers are not searched by name.
    **{f"shop/uses_{n}.py": "def look(d):\n    return d.get('k')\n" for n in range(90)},
}


def test_a_method_with_a_common_name_is_reached_through_self(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``get`` is used in too many files to search; ``self.get(...)`` in a method a route calls runs it.
    # ``Other.get`` is called only by a method nothing reaches: who else calls it stays unknown.
    write(tmp_path, STORE_CLIENT)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "shop/store.py")
    assert [(line, code) for line, code, _ in found] == [(6, "FAA204")]
    assert "reached from GET /tags (shop/main.py:7)" in found[0][2]


SERVICES = {
    "svc/__init__.py": "",
    "svc/keys/__init__.py": "from svc.keys.signing import Signer\n",
    "svc/keys/signing.py": """
        import requests

        class Signer:
            def __init__(self, key):
                self.key = key

        class Verifier:
            pass

        def make_signer():
            return Signer(requests.get("https://vault.internal/key", timeout=5).text)

        def make_verifier():
            return Verifier()
    """,
    "svc/lifespan.py": """
        import svcs
        from svc.keys.signing import Signer, Verifier, make_signer, make_verifier

        @svcs.fastapi.lifespan
        async def lifespan(app, registry: svcs.Registry):
            registry.register_factory(Signer, make_signer)
            registry.register_factory(Verifier, make_verifier)
            yield
    """,
    "svc/main.py": """
        import svcs
        from fastapi import FastAPI
        from svc.keys import Signer
        from svc.keys.signing import Verifier
        from svc.lifespan import lifespan

        app = FastAPI(lifespan=lifespan)

        @app.get("/token")
        async def token(services: svcs.fastapi.DepContainer):
            verifier = await services.aget(Verifier)
            signer = await services.aget(Signer)
            return {"key": signer.key, "verifier": str(verifier)}
    """,
}


def test_a_service_look_up_runs_the_factory_another_module_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The type is imported through the package that re-exports it and registered where it is defined:
    # the same class. Its factory's request blocks the loop at the look-up; the other factory does nothing.
    write(tmp_path, SERVICES)
    monkeypatch.chdir(tmp_path)
    found = [(line, code, message) for line, code, message in lint(tmp_path, "svc/main.py") if code == "FAA102"]
    assert [(line, code) for line, code, _ in found] == [(13, "FAA102")]
    assert "token -> signing.make_signer -> requests.get" in found[0][2]


QUEUED_JOBS = {
    "jobs_app/__init__.py": "",
    "jobs_app/jobs.py": """
        import requests
        from rq.decorators import job

        @job("default")
        async def export_dataset(dataset_id):
            requests.post("https://hub.example/upload", json={"id": dataset_id}, timeout=30)

        async def ping_hub():
            requests.get("https://hub.example/ping", timeout=5)
    """,
    "jobs_app/main.py": """
        from fastapi import FastAPI
        from jobs_app import jobs

        app = FastAPI()

        @app.post("/datasets/{dataset_id}/export")
        async def export(dataset_id: int):
            jobs.export_dataset.delay(dataset_id)
            await jobs.ping_hub()
            return {"queued": True}
    """,
}


def test_a_job_the_route_only_enqueues_runs_in_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``export_dataset.delay(...)`` puts the job on a queue a worker process takes it from: its blocking
    # request is not on the server's loop. ``ping_hub`` is awaited by the route itself.
    write(tmp_path, QUEUED_JOBS)
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "jobs_app/jobs.py")] == [(10, "FAA102")]


PLAIN_DATA_RECEIVERS = {
    "chat/__init__.py": "",
    "chat/message.py": """
        import time
        from typing import Optional, TypedDict

        class ThreadDict(TypedDict):
            id: str

        class Message:
            async def update(self, content):
                time.sleep(0.5)
                self.content = content

        async def refresh(thread: Optional[ThreadDict], body: dict[str, str], response):
            thread.update({"id": "x"})
            body.update({"a": "b"})
            data = response.json()
            data.update({"c": "d"})
            headers = {}
            headers.update({"e": "f"})

        DRAFT = Message()  # an instance exists: a call of ``update`` on some object could be its method
    """,
    "chat/main.py": """
        from fastapi import FastAPI
        from chat.message import refresh

        app = FastAPI()

        @app.get("/refresh")
        async def refresh_route():
            await refresh(None, {}, None)
    """,
}


def test_a_method_call_on_plain_data_is_not_a_call_of_the_project_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every ``.update(...)`` a route reaches is called on a dict (annotated, a TypedDict, a decoded JSON
    # body, a literal): nothing calls ``Message.update``, whose blocking sleep is then not served.
    write(tmp_path / "plain", PLAIN_DATA_RECEIVERS)
    monkeypatch.chdir(tmp_path / "plain")
    assert lint(tmp_path / "plain", "chat/message.py") == []
    # The same method called on an object that may be a Message is reached.
    route = """
        from chat.message import Message

        @app.put("/m")
        async def put():
            message = Message()
            await message.update("x")
    """
    write(tmp_path / "object", {**PLAIN_DATA_RECEIVERS, "chat/main.py": PLAIN_DATA_RECEIVERS["chat/main.py"] + route})
    monkeypatch.chdir(tmp_path / "object")
    assert [(line, code) for line, code, _ in lint(tmp_path / "object", "chat/message.py")] == [(10, "FAA102")]


OBJECTS_OF_OTHER_TYPES = {
    "media/__init__.py": "",
    "media/tunnel.py": """
        class Tunnel:
            def kill(self):
                print("tunnel closed")

        SHARE = Tunnel()
    """,
    "media/encoder.py": """
        import subprocess

        from media.tunnel import Tunnel

        class Encoder:
            def __init__(self):
                self.process = subprocess.Popen(["ffmpeg"])

            def stop(self):
                self.process.kill()

        class Other:
            def kill(self):
                pass

        def stop_other():
            other = Other()
            other.kill()

        def stop_tunnel(tunnel: Tunnel):
            tunnel.kill()
    """,
    "media/main.py": """
        from fastapi import FastAPI
        from media.encoder import Encoder, stop_other

        app = FastAPI()

        @app.post("/stop")
        async def stop():
            Encoder().stop()
            stop_other()
    """,
}


def test_a_method_call_on_an_object_of_another_type_is_not_a_call_of_the_project_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``self.process.kill()`` on the ``subprocess.Popen`` the class keeps, and ``other.kill()`` on an
    # ``Other`` the function makes, run those types' methods: ``Tunnel.kill`` is not reached from the
    # route (only ``stop_tunnel``, which nothing calls, may call it).
    write(tmp_path, OBJECTS_OF_OTHER_TYPES)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "media/tunnel.py") == []


LOOPS_AND_SIBLINGS = {
    "jobs/__init__.py": "",
    "jobs/engines.py": """
        import multiprocessing
        import subprocess
        import time

        class Engine:
            async def materialize(self):
                return await self._run()

        class SparkEngine(Engine):
            async def _run(self):
                time.sleep(3)

        class RayEngine(Engine):
            async def _run(self):
                return "queued"

        class Pool:
            def __init__(self):
                self.workers: list[multiprocessing.Process] = []
                self.process = subprocess.Popen(["ffmpeg"])

            async def shutdown(self):
                for worker in self.workers:
                    await worker.kill()
                for worker in self.workers:
                    worker.join()
                for pipe in (self.process.stdin, self.process.stdout):
                    await pipe.close()
    """,
    "jobs/tunnel.py": """
        import time

        class Tunnel:
            async def kill(self):
                time.sleep(1)

            async def close(self):
                time.sleep(1)

        SHARE = Tunnel()
    """,
    "jobs/main.py": """
        from fastapi import FastAPI
        from jobs.engines import Pool, RayEngine

        app = FastAPI()

        @app.post("/materialize")
        async def materialize():
            await RayEngine().materialize()
            await Pool().shutdown()
    """,
}


def test_loops_over_library_objects_and_a_sibling_class_s_own_method_do_not_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``self._run()`` in ``Engine`` may run either engine's ``_run``; the route only builds a
    # ``RayEngine``, whose own ``_run`` does not block, but the base class's call is still followed,
    # so ``SparkEngine._run`` stays reported through ``Engine.materialize``. ``worker.kill()`` over a
    # ``list[multiprocessing.Process]`` and ``pipe.close()`` over a Popen's pipes run the standard
    # library's methods, never ``Tunnel.kill`` / ``Tunnel.close``.
    write(tmp_path, LOOPS_AND_SIBLINGS)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "jobs/tunnel.py") == []
    assert [code for _, code, _ in lint(tmp_path, "jobs/engines.py")] == ["FAA102"]


def test_a_loop_over_project_objects_and_self_in_a_subclass_still_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(LOOPS_AND_SIBLINGS)
    files["jobs/fleet.py"] = """
        from jobs.tunnel import Tunnel

        class Fleet:
            def __init__(self):
                self.tunnels: list[Tunnel] = []

            async def stop(self):
                for tunnel in self.tunnels:
                    await tunnel.kill()

        class LoggedTunnel(Tunnel):
            async def stop(self):
                await self.close()
    """
    files["jobs/main.py"] = """
        from fastapi import FastAPI
        from jobs.fleet import Fleet, LoggedTunnel

        app = FastAPI()

        @app.post("/stop")
        async def stop():
            await Fleet().stop()
            await LoggedTunnel().stop()
    """
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "jobs/tunnel.py")
    assert [(line, code) for line, code, _ in found] == [(6, "FAA102"), (9, "FAA102")]
    assert all("POST /stop" in message for _, _, message in found)


SIBLING_OWN_METHOD = {
    "eng/__init__.py": "",
    "eng/engines.py": """
        import time

        class Engine:
            pass

        class SparkEngine(Engine):
            async def materialize(self):
                return await self._materialize_rows()

            async def _materialize_rows(self):
                time.sleep(3)

        class RayEngine(Engine):
            async def materialize(self):
                return await self._materialize_rows()

            async def _materialize_rows(self):
                return "queued"

        def spark_job():
            return SparkEngine()
    """,
    "eng/main.py": """
        from fastapi import FastAPI
        from eng.engines import RayEngine

        app = FastAPI()

        @app.post("/materialize")
        async def materialize():
            engine = RayEngine()
            return await engine.materialize()
    """,
}


def test_self_in_a_sibling_class_that_defines_the_method_runs_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``RayEngine.materialize`` calls ``self._materialize_rows()``: ``RayEngine`` defines it, and is not
    # ``SparkEngine`` nor a base of it, so the call never runs ``SparkEngine._materialize_rows`` (which
    # only ``SparkEngine.materialize`` calls, and nothing calls that).
    write(tmp_path, SIBLING_OWN_METHOD)
    monkeypatch.chdir(tmp_path)
    # Nothing known calls ``SparkEngine.materialize`` (its base may be a framework's): reported without a route.
    assert [message for _, _, message in lint(tmp_path, "eng/engines.py") if "reached from" in message] == []


TRIAL_EXPIRY = {
    "plans/__init__.py": "",
    "plans/main.py": """
        import time

        import requests
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/me")
        async def me(user_id: int, trial_expires_at: float):
            if trial_expires_at > time.time():
                return {"plan": "trial"}
            return requests.get(f"http://billing.internal/{user_id}", timeout=5).json()
    """,
}


def test_an_early_return_of_a_literal_while_a_date_is_ahead_is_a_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The route answers from a literal while the client's trial lasts: the request after it runs for
    # every other call. Only a kept value returned while its expiry is ahead makes the rest run once.
    write(tmp_path, TRIAL_EXPIRY)
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "plans/main.py") if code == "FAA102"] == [(13, "FAA102")]


REPOSITORY_BEHIND_NAMES = {
    "shop/__init__.py": "",
    "shop/repos.py": """
        import requests

        class UserRepo:
            async def fetch_user(self, uid):
                return requests.get("http://users.internal", timeout=5).json()

        class Counter:
            async def increment(self):
                return requests.post("http://counters.internal", timeout=5)

        UserRepository = UserRepo
        TEMPLATE = UserRepo()
    """,
    "shop/deps.py": """
        from typing import Annotated

        from fastapi import Depends

        from shop.repos import UserRepo

        def get_repo() -> UserRepo:
            return UserRepo()

        RepoDep = Annotated[UserRepo, Depends(get_repo)]
    """,
    "shop/tracing.py": """
        class Traced:
            def __init__(self, inner):
                self._inner = inner

            def __getattr__(self, name):
                return getattr(self._inner, name)
    """,
}

# How a route gets hold of the repository (the only caller of its method), and the line reported.
ROUTES_TO_THE_REPOSITORY = {
    "an Annotated dependency alias of another module": (
        """
        from shop.deps import RepoDep

        @app.get("/users/{uid}")
        async def get_user(uid: int, repo: RepoDep):
            return await repo.fetch_user(uid)
        """,
        6,
    ),
    "an alias of the class": (
        """
        from shop.repos import UserRepository

        @app.get("/users/{uid}")
        async def get_user(uid: int):
            repo = UserRepository()
            return await repo.fetch_user(uid)
        """,
        6,
    ),
    "a proxy that hands on every attribute": (
        """
        from shop.repos import UserRepo
        from shop.tracing import Traced

        @app.get("/users/{uid}")
        async def get_user(uid: int):
            repo = Traced(UserRepo())
            return await repo.fetch_user(uid)
        """,
        6,
    ),
    "a copy of a copy of a shared instance": (
        """
        from shop.repos import TEMPLATE

        @app.get("/users/{uid}")
        async def get_user(uid: int):
            base = TEMPLATE.copy()
            repo = base.copy()
            return await repo.fetch_user(uid)
        """,
        6,
    ),
    "a copy of a shared instance": (
        """
        import copy

        from shop.repos import TEMPLATE

        @app.get("/users/{uid}")
        async def get_user(uid: int):
            repo = copy.copy(TEMPLATE)
            return await repo.fetch_user(uid)
        """,
        6,
    ),
    "a project class named like a container": (
        """
        from shop.repos import Counter

        @app.post("/hits")
        async def hit():
            counter = Counter()
            return await counter.increment()
        """,
        10,
    ),
}


@pytest.mark.parametrize("how", sorted(ROUTES_TO_THE_REPOSITORY))
def test_a_repository_reached_through_a_name_that_hides_its_class_is_still_reached(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    route, line = ROUTES_TO_THE_REPOSITORY[how]
    files = dict(REPOSITORY_BEHIND_NAMES)
    files["shop/main.py"] = "from fastapi import FastAPI\n\napp = FastAPI()\n" + textwrap.dedent(route)
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "shop/repos.py")
    assert [(found_line, code) for found_line, code, _ in found] == [(line, "FAA102")]
    assert "reached from" in found[0][2]


BASE_CLASS_ELSEWHERE = {
    "media/__init__.py": "",
    "media/base.py": """
        import subprocess

        class Worker:
            def __init__(self, args):
                self.process = subprocess.Popen(args)
    """,
    "media/ffmpeg.py": """
        from media.base import Worker

        class Ffmpeg(Worker):
            async def stop(self):
                self.process.kill()
    """,
    "media/sandbox.py": """
        import subprocess

        class Sandbox:
            async def kill(self):
                subprocess.run(["docker", "kill", "sandbox"])

        if __name__ == "__main__":
            import asyncio
            asyncio.run(Sandbox().kill())
    """,
    "media/main.py": """
        from fastapi import FastAPI
        from media.ffmpeg import Ffmpeg

        app = FastAPI()

        @app.post("/transcode/stop")
        async def stop():
            await Ffmpeg(["ffmpeg"]).stop()
    """,
}


def test_an_attribute_a_base_class_of_another_module_declares_is_read_in_that_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``self.process`` is the ``subprocess.Popen`` that ``Worker`` (media/base.py) makes: its kill()
    # is not ``Sandbox.kill``, which only the module's own ``__main__`` block runs.
    write(tmp_path, BASE_CLASS_ELSEWHERE)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "media/sandbox.py") == []


PER_REQUEST_SWITCHES_AND_CLOSURES = {
    "jobs/__init__.py": "",
    "jobs/main.py": """
        import time

        import requests
        from fastapi import FastAPI

        app = FastAPI()

        def traced(func):
            return func

        class Upload:
            def __init__(self, name):
                self.name = name
                self.token = None

        @app.get("/jobs/{job_id}")
        async def get_job(job_id: int, watch: bool = False):
            if watch:
                time.sleep(2)
            return {"id": job_id}

        @app.post("/uploads/{name}")
        async def upload(name: str):
            up = Upload(name)

            @traced
            def ensure_token():
                if up.token is None:
                    up.token = requests.post("http://auth.internal", timeout=5).json()

            ensure_token()
            return {"name": up.name}
    """,
}


def test_a_request_parameter_is_no_development_switch_and_a_helper_s_local_is_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``watch`` is the client's query parameter, not a development server's setting; ``up`` is made
    # for each request, so the helper decorated with ``@traced`` (no registration) asks for a token
    # every time.
    write(tmp_path, PER_REQUEST_SWITCHES_AND_CLOSURES)
    monkeypatch.chdir(tmp_path)
    found = [(line, code) for line, code, _ in lint(tmp_path, "jobs/main.py")]
    assert (20, "FAA102") in found
    assert (32, "FAA102") in found


SIGN_IN_AND_API = {
    "shop/__init__.py": "",
    "shop/profiles.py": """
        import httpx

        async def fetch_profile(user_id):
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(f"http://profiles.internal/{user_id}")).json()
    """,
    "shop/auth.py": """
        from fastapi import APIRouter
        from shop.profiles import fetch_profile

        router = APIRouter()

        @router.get("/auth/oauth/callback")
        async def callback(user_id: int):
            return await fetch_profile(user_id)
    """,
    "shop/orders.py": """
        from fastapi import APIRouter
        from shop.profiles import fetch_profile

        router = APIRouter()

        class OrderService:
            async def owner_of(self, order_id):
                return await fetch_profile(order_id)

        @router.get("/orders/{order_id}")
        async def order(order_id: int):
            service = OrderService()
            return await service.owner_of(order_id)
    """,
    "shop/main.py": """
        from fastapi import FastAPI
        from shop import auth, orders

        app = FastAPI()
        app.include_router(auth.router)
        app.include_router(orders.router)
    """,
}


def test_a_client_a_sign_in_route_also_reaches_is_judged_by_its_other_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, SIGN_IN_AND_API)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "shop/profiles.py")
    assert [(line, code) for line, code, _ in found] == [(5, "FAA204")]
    assert "reached from GET /orders/{order_id}" in found[0][2]


TOKEN_REFRESH_AND_REVOKE = {
    "conn/__init__.py": "",
    "conn/providers.py": """
        import httpx

        async def token_request(url, data):
            async with httpx.AsyncClient(timeout=20) as client:
                return (await client.post(url, data=data)).json()

        async def revoke(token):
            return await token_request("https://idp.example/revoke", {"token": token})
    """,
    "conn/broker.py": """
        from datetime import datetime, timedelta, timezone

        from conn import providers

        async def refresh_if_needed(payload, rejected=False):
            expiry = payload.get("expires_at")
            if not rejected and (expiry is None or expiry > datetime.now(timezone.utc) + timedelta(seconds=60)):
                return payload
            return await providers.token_request("https://idp.example/token", {"refresh_token": payload["refresh"]})

        async def refresh_if_expired(payload):
            if payload["expires_at"] < datetime.now(timezone.utc):
                return payload
            return await providers.token_request("https://idp.example/token", {"refresh_token": payload["refresh"]})
    """,
    "conn/jobs.py": """
        from celery.result import AsyncResult

        def cancel(task_id):
            AsyncResult(task_id).revoke(terminate=True)
    """,
    "conn/main.py": """
        from fastapi import FastAPI
        from conn import broker, jobs, providers

        app = FastAPI()

        @app.post("/tools/{tool}/run")
        async def run_tool(tool: str, payload: dict):
            return await broker.refresh_if_needed(payload)

        @app.post("/jobs/{task_id}/cancel")
        async def cancel_job(task_id: str):
            jobs.cancel(task_id)
    """,
}


def test_a_refresh_after_a_not_yet_expired_return_and_a_revocation_are_not_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``refresh_if_needed`` returns the kept token while its expiry is ahead of the clock: the token
    # request after it runs once per token lifetime. The celery ``AsyncResult(...).revoke()`` is
    # celery's method, not ``providers.revoke``.
    write(tmp_path, TOKEN_REFRESH_AND_REVOKE)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "conn/providers.py") == []


def test_a_refresh_when_the_expiry_is_already_past_runs_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``if payload["expires_at"] < now: return payload`` returns the stale token: the fresh case (every
    # call while the token is valid) goes on to the request.
    files = dict(TOKEN_REFRESH_AND_REVOKE)
    files["conn/main.py"] = files["conn/main.py"].replace("broker.refresh_if_needed(payload)", "broker.refresh_if_expired(payload)")
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "conn/providers.py")
    assert [(line, code) for line, code, _ in found] == [(5, "FAA204")]
    assert "reached from POST /tools/{tool}/run" in found[0][2]


def test_a_method_of_what_a_library_call_returns_is_not_the_project_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(TOKEN_REFRESH_AND_REVOKE)
    files["conn/service.py"] = """
        import httpx

        class ConnectionService:
            async def revoke(self, token):
                async with httpx.AsyncClient(timeout=20) as client:
                    return await client.post("https://idp.example/revoke", data={"token": token})

        SERVICE = ConnectionService()
    """
    files["conn/main.py"] = """
        from fastapi import FastAPI
        from conn import jobs

        app = FastAPI()

        @app.post("/jobs/{task_id}/cancel")
        async def cancel_job(task_id: str):
            jobs.cancel(task_id)
    """
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "conn/service.py") == []


FILES_AND_PROCESSES = {
    "thumbs/__init__.py": "",
    "thumbs/dumper.py": """
        import subprocess

        class Dumper:
            async def communicate(self):
                subprocess.run(["pg_dump", "prod"])

            async def write(self, data):
                subprocess.run(["tee", "/var/backups/last"], input=data)

        def main():
            import asyncio
            dumper = Dumper()
            asyncio.run(dumper.communicate())
    """,
    "thumbs/main.py": """
        import asyncio

        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/thumbnails/{name}")
        async def thumbnail(name: str):
            proc = await asyncio.create_subprocess_exec("convert", name, "out.png")
            await proc.communicate()
            with open("/tmp/log", "a") as log:
                await log.write(name)
    """,
}


def test_a_method_of_a_file_or_process_the_standard_library_made_is_not_the_project_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``proc.communicate()`` on what ``asyncio.create_subprocess_exec`` returns, ``log.write()`` on an
    # ``open()`` file: neither runs ``Dumper``'s methods, which only a command-line ``main`` calls.
    write(tmp_path, FILES_AND_PROCESSES)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "thumbs/dumper.py") == []


SHADOWED_MODULE = {
    "llm/__init__.py": "",
    "llm/providers.py": """
        import requests

        class OllamaProvider:
            async def list_models(self):
                return requests.get("http://ollama.internal/api/tags").json()

        async def fetch_models():
            return await OllamaProvider().list_models()
    """,
    "llm/providers/__init__.py": """
        from llm.providers.ollama import OllamaProvider, fetch_models
    """,
    "llm/providers/ollama.py": """
        import time

        class OllamaProvider:
            async def list_models(self):
                return []

        async def fetch_models():
            time.sleep(1)
            return await OllamaProvider().list_models()
    """,
    "llm/main.py": """
        from fastapi import FastAPI
        from llm.providers import OllamaProvider, fetch_models

        app = FastAPI()

        @app.get("/models")
        async def models():
            await OllamaProvider().list_models()
            return await fetch_models()
    """,
}


def test_a_module_a_package_of_the_same_name_shadows_is_dead_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``import llm.providers`` finds the package ``llm/providers/``; ``llm/providers.py`` never runs, and
    # the names the route imports are the package's.
    write(tmp_path, SHADOWED_MODULE)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "llm/providers.py") == []
    found = lint(tmp_path, "llm/providers/ollama.py")
    assert [(line, code) for line, code, _ in found] == [(9, "FAA102")]
    assert "reached from GET /models" in found[0][2]


IMPORTED_TABLE = {
    "prompts/__init__.py": """
        from prompts import summary

        SYSTEM_PROMPTS = {"summary": summary.PROMPT, "title": "Give the text a title."}
    """,
    "prompts/summary.py": 'PROMPT = "Summarise the text."\n',
    "prompts/loader.py": """
        from prompts import SYSTEM_PROMPTS

        def get_system_text(key):
            if key in SYSTEM_PROMPTS:
                return SYSTEM_PROMPTS[key].strip()
            with open(f"/srv/prompts/{key}.txt") as handle:
                return handle.read()
    """,
    "prompts/main.py": """
        from fastapi import FastAPI
        from prompts.loader import get_system_text

        app = FastAPI()

        @app.post("/summaries")
        async def summarise(text: str):
            return {"system": get_system_text("summary"), "text": text}

        @app.post("/custom/{key}")
        async def custom(key: str):
            return {"system": get_system_text(key)}  # a request-derived name reaches the read
    """,
}


def test_a_constant_table_imported_from_another_module_still_answers_its_literal_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, IMPORTED_TABLE)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "prompts/main.py")
    assert [(line, code) for line, code, _ in found if code == "FAA102"] == [(13, "FAA102")]


REMOTE_FUNCTIONS = {
    "tools/__init__.py": "",
    "tools/sandbox.py": """
        def build_sandbox_app(tool_name):
            import modal

            sandbox = modal.App(tool_name)

            @sandbox.function(serialized=True, timeout=10)
            def run_tool(source):
                print(f"running {tool_name}")
                return exec(source)

            return sandbox
    """,
    "tools/batch.py": """
        import ray

        @ray.remote
        def embed_chunk(chunk):
            print("embedding", len(chunk))
            return chunk

        def helper(chunk):
            print("embedding locally", len(chunk))
            return chunk
    """,
    "tools/main.py": """
        import ray
        from fastapi import FastAPI
        from tools.batch import embed_chunk, helper
        from tools.sandbox import build_sandbox_app

        app = FastAPI()

        @app.post("/tools/{name}")
        async def create_tool(name: str):
            build_sandbox_app(name)
            helper([name])
            return ray.get(embed_chunk.remote([name]))
    """,
}


def test_the_body_of_a_remote_function_runs_in_a_worker_not_in_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Modal's ``@app.function`` and ``@ray.remote`` send the function's body to a sandbox or a worker
    # process: its prints are not the server's output. A plain helper beside them still is.
    write(tmp_path, REMOTE_FUNCTIONS)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "tools/sandbox.py") == []
    assert [(line, code) for line, code, _ in lint(tmp_path, "tools/batch.py")] == [(10, "FAA402")]


SERVICES_ON_A_SERVER = {
    "svc/__init__.py": "",
    "svc/managers.py": """
        import time

        class JobManager:
            async def get_run_messages(self, run_id):
                print("legacy job messages", run_id)
                time.sleep(0.5)

        class RunManager:
            async def get_run_messages(self, run_id):
                return []

        class AgentManager:
            async def get_agent(self, agent_id):
                time.sleep(0.2)
    """,
    "svc/server.py": """
        from svc.managers import AgentManager, JobManager, RunManager

        class SyncServer:
            def __init__(self):
                self.job_manager = JobManager()
                self.run_manager = RunManager()
                self.agent_manager = AgentManager()

        def get_server() -> "SyncServer":
            return SyncServer()
    """,
    "svc/main.py": """
        from fastapi import Depends, FastAPI
        from svc.server import SyncServer, get_server

        app = FastAPI()

        @app.get("/runs/{run_id}/messages")
        async def run_messages(run_id: str, server: "SyncServer" = Depends(get_server)):
            return await server.run_manager.get_run_messages(run_id)

        @app.get("/agents/{agent_id}")
        async def agent(agent_id: str, server: SyncServer = Depends(get_server)):
            return await server.agent_manager.get_agent(agent_id)
    """,
}


def test_a_service_held_by_a_typed_object_is_judged_by_what_its_class_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``server.run_manager`` is the ``RunManager()`` that ``SyncServer.__init__`` makes: its
    # get_run_messages is not ``JobManager``'s. ``server.agent_manager.get_agent`` still reaches
    # ``AgentManager.get_agent``.
    write(tmp_path, SERVICES_ON_A_SERVER)
    monkeypatch.chdir(tmp_path)
    found = [(line, code) for line, code, _ in lint(tmp_path, "svc/managers.py")]
    assert found == [(15, "FAA102")]


COPIED_LISTS = {
    "store/__init__.py": "",
    "store/local.py": """
        import shutil

        class LocalStorage:
            async def copy(self, source, target):
                shutil.copy2(source, target)

        STORAGE = LocalStorage()
    """,
    "store/main.py": """
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/schemas")
        async def schema(names: list[str]):
            pending = []
            pending.extend(names)
            remaining = pending.copy()
            for name in remaining.copy():
                remaining.remove(name)
            return remaining
    """,
}


def test_a_copy_of_a_list_is_a_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``remaining.copy()`` copies a list (``remaining = pending.copy()``, ``pending = []``): not
    # ``LocalStorage.copy``.
    write(tmp_path, COPIED_LISTS)
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "store/local.py") == []


ROUTES_IN_A_FACTORY = {
    "dash/__init__.py": "",
    "dash/main.py": """
        import time

        from fastapi import FastAPI

        def build_dashboard():
            time.sleep(2)

        def create_app() -> FastAPI:
            app = FastAPI()
            app.dashboard_ready = False

            @app.get("/monitoring")
            async def monitoring():
                if not app.dashboard_ready:
                    build_dashboard()
                    app.dashboard_ready = True
                return {"ok": True}

            @app.get("/rebuild")
            async def rebuild():
                build_dashboard()
                return {"ok": True}

            return app
    """,
}


def test_work_a_route_handler_does_once_on_the_app_it_closes_over_is_start_up_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``if not app.dashboard_ready: ...; app.dashboard_ready = True`` in a handler registered inside
    # ``create_app()``: the app it closes over lives as long as the server, so the first request alone
    # builds the dashboard. ``/rebuild`` builds it on every request.
    write(tmp_path, ROUTES_IN_A_FACTORY)
    monkeypatch.chdir(tmp_path)
    assert [(line, code) for line, code, _ in lint(tmp_path, "dash/main.py") if code == "FAA102"] == [(22, "FAA102")]


LAUNCHER_BY_NAME = {
    "ui/__init__.py": "",
    "ui/http_server.py": """
        import uvicorn

        def start_server(app, port):
            server = uvicorn.Server(uvicorn.Config(app, port=port))
            server.run()
    """,
    "ui/blocks.py": """
        from fastapi import FastAPI
        from ui import http_server

        app = FastAPI()

        def launch(port: int = 7860):
            http_server.start_server(app, port)
            print(f"Running on http://127.0.0.1:{port}")

        @app.post("/restart")
        async def restart():
            launch()
    """,
}


def test_a_function_that_calls_start_server_is_a_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What ``launch`` prints around starting the server is the operator's output, even where a route calls it.
    write(tmp_path, LAUNCHER_BY_NAME)
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "ui/blocks.py") if code == "FAA402"] == []


def test_a_print_to_stderr_is_reported_as_such() -> None:
    source = textwrap.dedent(
        """
        import sys

        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/")
        async def index():
            print("serving", file=sys.stderr)
            print("serving")
        """
    )
    messages = [d.message for d in analyse_source(source, "app.py", None, strict=True) if d.code == "FAA402"]
    assert len(messages) == 2
    assert "to stderr" in messages[0] and "to stdout" in messages[1]


def test_a_module_constant_named_for_reloading_is_a_development_switch() -> None:
    source = textwrap.dedent(
        """
        import os
        from pathlib import Path

        from fastapi import FastAPI

        app = FastAPI()
        RELOAD = os.environ.get("RELOAD_TEMPLATES") == "1"

        @app.get("/pages/{name}")
        async def page(name: str, reload: bool = False):
            if RELOAD:
                Path(f"templates/{name}.html").read_text()
            if reload:
                Path(f"cache/{name}.html").read_text()
        """
    )
    found = [(d.line, d.code) for d in analyse_source(source, "app.py", None, strict=True) if d.code == "FAA102"]
    assert found == [(15, "FAA102")]


PROGRAMS_AND_MODULES = {
    "rag/__init__.py": "",
    "rag/tools/__init__.py": "",
    "rag/tools/cleanup.py": '''
        """Run as ``python -m rag.tools.cleanup``; see also rag/tools/cleanup.py in the docs."""
        import asyncio

        class CleanupTool:
            async def run(self):
                print("Scanning the cache...")

        def main():
            asyncio.run(CleanupTool().run())

        if __name__ == "__main__":
            main()
    ''',
    "rag/launcher.py": '''
        class Launcher:
            def load(self):
                print("loading the configuration")
                return {}
    ''',
    "rag/storage.py": '''
        import json

        class GraphStorage:
            def __init__(self, driver):
                self._driver = driver

            async def initialize(self):
                async with self._driver.session() as session:
                    await session.run("CREATE INDEX")

            def headers(self, path):
                with open(path) as handle:
                    return json.load(handle)
    ''',
    "rag/main.py": '''
        from fastapi import FastAPI
        from rag.launcher import Launcher
        from rag.storage import GraphStorage

        app = FastAPI()
        LAUNCHER = Launcher
        storage = GraphStorage(None)

        @app.delete("/documents")
        async def clear():
            await storage.initialize()
            storage.headers("table.json")
    ''',
}


def test_classes_of_a_program_module_and_methods_of_a_library_module_are_not_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, PROGRAMS_AND_MODULES)
    monkeypatch.chdir(tmp_path)
    # ``session.run(...)`` on a driver's session is no CleanupTool.run; ``json.load(handle)`` is the
    # standard library's, no Launcher.load: neither program's prints run in the server.
    assert lint(tmp_path, "rag/tools/cleanup.py") == []
    assert lint(tmp_path, "rag/launcher.py") == []


def test_a_program_module_another_module_imports_is_still_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = dict(PROGRAMS_AND_MODULES)
    files["rag/storage.py"] = '''
        from rag.tools.cleanup import CleanupTool

        class GraphStorage:
            def __init__(self, driver):
                self._driver = driver
                self.tool = CleanupTool()

            async def initialize(self):
                await self.tool.run()

            def headers(self, path):
                return {}
    '''
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "rag/tools/cleanup.py")] == ["FAA402"]


def test_a_program_module_named_in_an_import_string_is_still_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(PROGRAMS_AND_MODULES)
    files["rag/storage.py"] = '''
        import importlib

        class GraphStorage:
            def __init__(self, driver):
                self.tool = importlib.import_module("rag.tools.cleanup").CleanupTool()

            async def initialize(self):
                await self.tool.run()

            def headers(self, path):
                return {}
    '''
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "rag/tools/cleanup.py")] == ["FAA402"]


def test_a_launcher_module_that_puts_its_objects_on_the_app_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/factory.py": """
            from fastapi import FastAPI
            from app.routers import files

            def create_app():
                app = FastAPI()
                app.include_router(files.router)
                return app
        """,
        "app/routers/__init__.py": "",
        "app/routers/files.py": """
            from fastapi import APIRouter, Request

            router = APIRouter()

            @router.get("/files/{name}")
            async def read_file(name: str, request: Request):
                return await request.app.state.store.read(name)
        """,
        "main.py": """
            import os

            import uvicorn
            from app.factory import create_app

            class DiskStore:
                def __init__(self, root):
                    self.root = root

                async def read(self, name):
                    with open(os.path.join(self.root, name)) as handle:
                        return handle.read()

            app = create_app()
            app.state.store = DiskStore("/srv/files")

            if __name__ == "__main__":
                uvicorn.run("main:app", workers=4)
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "main.py")] == ["FAA102"]


def test_tools_a_package_loads_by_a_built_name_are_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "agent/__init__.py": "",
        "agent/tools/__init__.py": "",
        "agent/tools/weather.py": """
            import requests

            class WeatherTool:
                async def invoke(self, city):
                    return requests.get(f"https://weather.example/{city}", timeout=5).json()

            if __name__ == "__main__":
                print(WeatherTool().invoke("Paris"))
        """,
        "agent/main.py": """
            import importlib

            from fastapi import FastAPI

            app = FastAPI()

            @app.post("/tools/{name}")
            async def run_tool(name: str, city: str):
                module = importlib.import_module(f"agent.tools.{name}")
                tool = getattr(module, name.title() + "Tool")()
                return await tool.invoke(city)
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "agent/tools/weather.py")] == ["FAA102"]


def test_project_objects_behind_names_that_also_name_libraries_are_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "libs/core/src/core/__init__.py": "",
        "libs/core/src/core/storage.py": """
            import requests

            class BlobStore:
                async def fetch(self, key):
                    return requests.get(f"https://blobs.example/{key}", timeout=5).content

            store = BlobStore()
        """,
        "libs/core/src/core/events.py": """
            import time

            class EventQueue:
                def __init__(self, path):
                    self.path = path

                async def next_event(self):
                    time.sleep(0.5)
                    return {}
        """,
        "services/api/api/__init__.py": "",
        "services/api/api/main.py": """
            import queue

            from core.events import EventQueue
            from core.storage import store
            from fastapi import FastAPI
            from fastapi.responses import StreamingResponse

            app = FastAPI()

            @app.get("/blobs/{key}")
            async def blob(key: str):
                return await store.fetch(key)

            @app.get("/jobs/{job_id}/events")
            async def job_events(job_id: str):
                queue = EventQueue(f"/var/jobs/{job_id}")

                async def generate():
                    while True:
                        yield await queue.next_event()

                return StreamingResponse(generate())
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "libs/core/src/core/storage.py")] == ["FAA102"]
    assert [code for _, code, _ in lint(tmp_path, "libs/core/src/core/events.py")] == ["FAA102"]


def test_methods_of_library_modules_and_module_level_library_objects_are_not_project_methods(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {
        "shop/__init__.py": "",
        "shop/repo.py": """
            import time

            class Repo:
                async def get(self, key):
                    time.sleep(1)
                    return key

                async def exists(self, path):
                    time.sleep(1)
                    return True
        """,
        "shop/main.py": """
            import os

            import redis
            from fastapi import FastAPI
            from shop.repo import Repo

            app = FastAPI()
            redis_client = redis.Redis(host="cache")
            REPO_CLASS = Repo

            @app.get("/items/{key}")
            async def item(key: str):
                cached = await redis_client.get(key)
                present = await os.path.exists(f"/srv/items/{key}")
                return {"cached": cached, "present": present}
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert lint(tmp_path, "shop/repo.py") == []
    files = {
        "shop/main.py": """
            from fastapi import FastAPI
            from shop.repo import Repo

            app = FastAPI()
            repo = Repo()

            @app.get("/items/{key}")
            async def item(key: str):
                return await repo.get(key)
        """,
    }
    write(tmp_path / "second", {**{"shop/__init__.py": "", "shop/repo.py": (tmp_path / "shop/repo.py").read_text()}, **files})
    monkeypatch.chdir(tmp_path / "second")
    assert [code for _, code, _ in lint(tmp_path / "second", "shop/repo.py")] == ["FAA102"]


STORAGES = {
    "rag/__init__.py": "",
    "rag/base.py": """
        class StorageBase:
            async def initialize(self):
                return None

        class KVStorage(StorageBase):
            pass

        class DocStatusStorage(StorageBase):
            pass
    """,
    "rag/json_kv.py": """
        import time

        from rag.base import KVStorage

        class JsonKVStorage(KVStorage):
            async def initialize(self):
                time.sleep(0.5)  # waits for the file lock
    """,
    "rag/engine.py": """
        from rag.base import DocStatusStorage

        class Rag:
            def __init__(self, status_cls):
                self.doc_status: DocStatusStorage = status_cls()
    """,
    "rag/routes.py": """
        from fastapi import APIRouter
        from rag.engine import Rag

        def create_routes(rag: Rag) -> APIRouter:
            router = APIRouter()

            @router.delete("/documents")
            async def clear_documents():
                await rag.doc_status.initialize()

            return router
    """,
}


def test_an_object_declared_as_an_unrelated_project_class_does_not_run_the_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, STORAGES)
    monkeypatch.chdir(tmp_path)
    # ``rag`` is the enclosing factory's parameter; ``doc_status`` is declared a DocStatusStorage, which
    # JsonKVStorage is not, and no class derives from both.
    assert lint(tmp_path, "rag/json_kv.py") == []


def test_a_class_deriving_from_both_keeps_the_method_reachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(STORAGES)
    files["rag/json_doc_status.py"] = """
        from rag.base import DocStatusStorage
        from rag.json_kv import JsonKVStorage

        class JsonDocStatusStorage(DocStatusStorage, JsonKVStorage):
            pass
    """
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "rag/json_kv.py")] == ["FAA102"]


def test_self_in_a_base_runs_a_mixin_that_a_subclass_puts_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "svc/__init__.py": "",
        "svc/mixins.py": """
            import requests

            class HttpFetchMixin:
                async def fetch(self, url):
                    return requests.get(url, timeout=5).json()
        """,
        "svc/base.py": """
            class BaseService:
                async def fetch(self, url):
                    return {}

                async def load(self, url):
                    return await self.fetch(url)
        """,
        "svc/items.py": """
            from fastapi import FastAPI
            from svc.base import BaseService
            from svc.mixins import HttpFetchMixin

            class ItemService(HttpFetchMixin, BaseService):
                pass

            app = FastAPI()
            service = ItemService()

            @app.get("/items")
            async def items():
                return await service.load("https://items.example/all")
        """,
    })
    monkeypatch.chdir(tmp_path)
    # ItemService's method order puts the mixin's ``fetch`` before the base's: ``self.fetch`` in
    # ``BaseService.load`` runs the mixin's for an ItemService.
    assert [code for _, code, _ in lint(tmp_path, "svc/mixins.py")] == ["FAA102"]


def test_methods_a_base_dispatches_by_a_computed_name_are_judged_reachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {
        "hooks/__init__.py": "",
        "hooks/handlers.py": """
            import abc
            import time

            class BaseHandler(abc.ABC):
                async def dispatch(self, event):
                    await getattr(self, f"on_{event['type']}")(event)

            class OrderHandler(BaseHandler):
                async def on_cancelled(self, event):
                    time.sleep(1)
        """,
        "hooks/main.py": """
            from fastapi import FastAPI
            from hooks.handlers import OrderHandler

            app = FastAPI()
            handler = OrderHandler()

            @app.post("/events")
            async def events(event: dict):
                await handler.dispatch(event)
        """,
    })
    monkeypatch.chdir(tmp_path)
    assert [code for _, code, _ in lint(tmp_path, "hooks/handlers.py")] == ["FAA102"]


RECEIVER_DECLARATIONS = {
    "store/__init__.py": "",
    "store/backends.py": """
        import time

        import wrapt

        class BaseStorage:
            async def save(self, data):
                return None

        class LocalStorage(BaseStorage):
            async def save(self, data):
                return None

        class S3Storage(BaseStorage):
            async def save(self, data):
                time.sleep(1)

        class Traced(wrapt.ObjectProxy):
            pass

        class SmsNotifier:
            async def send(self, text):
                time.sleep(1)

        class BaseNotifier:
            async def send(self, text):
                return None
    """,
    "store/main.py": """
        from fastapi import Depends, FastAPI
        from store.backends import BaseNotifier, LocalStorage, S3Storage, SmsNotifier, Traced

        app = FastAPI()

        def get_storage() -> LocalStorage:
            return LocalStorage()

        def get_s3() -> S3Storage:
            return S3Storage()

        app.dependency_overrides[get_storage] = get_s3

        class Alerts:
            def __init__(self):
                self.sms: BaseNotifier = SmsNotifier()

        alerts = Alerts()

        @app.post("/files")
        async def upload(data: bytes, storage: LocalStorage = Depends(get_storage)):
            await storage.save(data)
            await alerts.sms.send("uploaded")
    """,
}


def test_a_dependency_s_declared_class_and_a_declaration_the_value_contradicts_do_not_hide_the_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, RECEIVER_DECLARATIONS)
    monkeypatch.chdir(tmp_path)
    found = lint(tmp_path, "store/backends.py")
    # S3Storage.save through the overridden dependency, SmsNotifier.send through ``self.sms``.
    assert sorted(line for line, code, _ in found if code == "FAA102") == [16, 23]


def test_a_library_proxy_declared_class_is_no_unrelated_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(RECEIVER_DECLARATIONS)
    files["store/main.py"] = """
        from fastapi import FastAPI
        from store.backends import S3Storage, Traced

        app = FastAPI()

        class Uploads:
            def __init__(self):
                self.storage: Traced = Traced(S3Storage())

            async def put(self, data):
                await self.storage.save(data)

        uploads = Uploads()

        @app.post("/files")
        async def upload(data: bytes):
            await uploads.put(data)
    """
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    assert [line for line, code, _ in lint(tmp_path, "store/backends.py") if code == "FAA102"] == [16]


def test_the_method_order_decides_which_m_self_m_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {
        "svc/__init__.py": "",
        "svc/mixins.py": """
            import requests

            class HttpFetchMixin:
                async def fetch(self, url):
                    return requests.get(url, timeout=5).json()
        """,
        "svc/base.py": """
            class BaseService:
                async def fetch(self, url):
                    return {}

                async def load(self, url):
                    return await self.fetch(url)
        """,
    }
    route = """
        from fastapi import FastAPI
        from svc.base import BaseService
        {imports}

        class ItemService({bases}):
            pass

        app = FastAPI()
        service = ItemService()

        @app.get("/items")
        async def items():
            return await service.load("https://items.example/all")
    """
    # The base first: its own ``fetch`` runs; the mixin imported under another name, first: the mixin's.
    write(tmp_path / "after", {**base, "svc/items.py": route.format(
        imports="from svc.mixins import HttpFetchMixin", bases="BaseService, HttpFetchMixin")})
    monkeypatch.chdir(tmp_path / "after")
    assert lint(tmp_path / "after", "svc/mixins.py") == []
    write(tmp_path / "aliased", {**base, "svc/items.py": route.format(
        imports="from svc.mixins import HttpFetchMixin as Fetching", bases="Fetching, BaseService")})
    monkeypatch.chdir(tmp_path / "aliased")
    assert [code for _, code, _ in lint(tmp_path / "aliased", "svc/mixins.py")] == ["FAA102"]


INTERFACES = {
    "app/__init__.py": "",
    "app/interfaces.py": """
        from abc import ABC, abstractmethod

        class Interface(ABC):
            @abstractmethod
            def message(self, text: str) -> None: ...

        class QueuingInterface(Interface):
            def message(self, text: str) -> None:
                print(text)

        class StreamingInterface(Interface):
            def message(self, text: str) -> None:
                self.last = text
    """,
    "app/main.py": """
        from fastapi import FastAPI
        from app.interfaces import Interface

        app = FastAPI()

        def send(interface: Interface, text: str) -> None:
            interface.message(text)

        @app.post("/messages")
        async def post_message(text: str, interface: Interface):
            send(interface, text)
    """,
}


@pytest.mark.parametrize(
    ("auth", "reported"),
    [
        # Another module only imports the class and writes it in an annotation: no instance is made.
        ("from app.interfaces import QueuingInterface\n\ndef setup(interface: QueuingInterface) -> None:\n    return None\n", False),
        # Another module builds one: its method may be what the route calls.
        ("from app.interfaces import QueuingInterface\n\ndef setup() -> object:\n    return QueuingInterface()\n", True),
        # No other module mentions it: with a base, it may be an implementation the package's users build.
        ("def setup() -> None:\n    return None\n", True),
    ],
)
def test_a_subclass_other_modules_only_annotate_has_no_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: str, reported: bool
) -> None:
    write(tmp_path, {**INTERFACES, "app/auth.py": auth})
    monkeypatch.chdir(tmp_path)
    found = [(line, code) for line, code, _ in lint(tmp_path, "app/interfaces.py") if code == "FAA402"]
    assert found == ([(10, "FAA402")] if reported else [])
