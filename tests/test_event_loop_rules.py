"""FAA101/FAA102/FAA103: message contents, options, the data tables, and the catalogue's own examples."""

from __future__ import annotations

import textwrap

import pytest

from flake8_fastapi_antipatterns.analysis.blocking import (
    classify_path,
    llm_like_name,
    matches_configured,
)
from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.options import Settings, settings_from

CODES = ("FAA101", "FAA102", "FAA103")


def findings(source: str, settings: Settings | None = None, code: str | None = None) -> list[Diagnostic]:
    found = analyse_source(textwrap.dedent(source), "app.py", settings, strict=True)
    return [d for d in found if d.code in CODES and (code is None or d.code == code)]


HELPER_CHAIN = """
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    app = FastAPI()

    def load_user(db: Session, user_id: int):
        return db.query(User).get(user_id)

    def load_profile(db, user_id):
        return {"user": load_user(db, user_id)}

    @app.get("/users/{user_id}")
    async def get_user(user_id: int, db: Session = Depends(get_db)):
        return load_profile(db, user_id)
"""


def test_helper_chain_is_named_in_the_message() -> None:
    (finding,) = findings(HELPER_CHAIN)
    assert finding.code == "FAA101"
    assert finding.line == 15  # the call in the coroutine, not the query in the helper
    assert "get_user -> load_profile -> load_user -> Session.query" in finding.message
    assert "`load_profile()`" in finding.message
    assert "`async def get_user`" in finding.message
    assert finding.details["chain"] == ["get_user", "load_profile", "load_user", "Session.query"]
    # The fix closes the message, naming what the coroutine is: a route handler can go plain `def`.
    assert finding.message.endswith(
        "use an async driver (create_async_engine + AsyncSession, redis.asyncio, motor) or declare the "
        "route handler `get_user` with plain `def` (FastAPI runs it in a threadpool)"
    )


REMEDIES = """
    import subprocess
    import time
    from pathlib import Path

    import requests
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    app = FastAPI()

    async def current_user(db: Session = Depends(get_db)):
        return db.query(User).first()

    async def background_cleanup(db: Session):
        db.execute("delete from jobs")

    @app.get("/work")
    async def work(db: Session = Depends(get_db), user=Depends(current_user)):
        await background_cleanup(db)
        time.sleep(1)
        subprocess.run(["ls"], check=True)
        Path(user.upload).write_text("x")
        requests.get("https://api.example.com", timeout=5)
"""


def test_the_fix_fits_the_call_and_names_what_the_coroutine_is() -> None:
    fixes = {f.line: f.message.rsplit("; ", 1)[1] for f in findings(REMEDIES)}
    assert "declare the dependency `current_user` with plain `def`" in fixes[13]
    assert fixes[16].endswith("or offload the call with `await run_in_threadpool(func, ...)`")  # neither
    assert fixes[21] == "use `await asyncio.sleep(...)`"
    assert fixes[22].startswith("use `await asyncio.create_subprocess_exec(...)`")
    assert fixes[23].startswith("use `anyio.Path` (or aiofiles)")
    assert fixes[24].startswith("use a shared `httpx.AsyncClient`")


MODEL_AND_PROCESS_REMEDIES = """
    import psutil
    from fastapi import FastAPI
    from elevenlabs import ElevenLabs
    from google import genai
    from sentence_transformers import CrossEncoder

    app = FastAPI()

    @app.post("/work")
    async def work(pid: int, prompt: str):
        psutil.Process(pid).wait(timeout=5)
        genai.Client().models.generate_content(model="gemini-2.5-flash", contents=prompt)
        scorer = CrossEncoder("cross-encoder/ms-marco-MiniLM-L-6-v2")
        scorer.rank(prompt, [])
        psutil.Process(pid).wait(timeout=0)
        ElevenLabs(api_key=prompt).voices.get_all()
"""


def test_models_and_processes_are_told_what_fits_them() -> None:
    found = {f.line: f.message for f in findings(MODEL_AND_PROCESS_REMEDIES) if f.code == "FAA102"}
    fixes = {line: message.rsplit("; ", 1)[1] for line, message in found.items()}
    assert fixes[12].startswith("wait for the process with `await asyncio.to_thread(...)`")
    assert "(genai.Client.models.generate_content)" in found[13]
    assert fixes[13].startswith("use the SDK's async client, `client.aio`")
    assert "(sentence_transformers.CrossEncoder)" in found[14]
    assert "(CrossEncoder.rank)" in found[15]
    assert fixes[15].startswith("loading a model and running it are seconds of CPU or download work")
    assert 16 not in found  # ``timeout=0`` polls
    assert "(ElevenLabs.voices.get_all)" in found[17]
    assert fixes[17].startswith("use the SDK's async client, `AsyncElevenLabs`")


def test_direct_call_message_names_call_and_function() -> None:
    (finding,) = findings(
        """
        import time

        async def tick():
            time.sleep(1)
        """
    )
    assert finding.code == "FAA102"
    assert "`time.sleep()`" in finding.message
    assert "(time.sleep)" in finding.message
    assert "`async def tick`" in finding.message


def test_a_helper_called_from_two_coroutines_reports_at_each_call_site() -> None:
    found = findings(
        """
        import requests

        def fetch(url):
            return requests.get(url, timeout=1)

        async def a():
            return fetch("x")

        async def b():
            fetch("y")
            fetch("z")
        """
    )
    assert [(d.line, d.code) for d in found] == [(8, "FAA102"), (11, "FAA102"), (12, "FAA102")]
    assert {d.details["function"] for d in found} == {"a", "b"}


def test_each_call_is_reported_once_per_coroutine() -> None:
    found = findings(
        """
        from sqlalchemy.orm import Session

        async def report(db: Session):
            return db.query(User).filter(User.id == 1).order_by(User.id).all()
        """
    )
    assert len(found) == 1
    assert "Session.query" in found[0].message


def test_plain_def_routes_are_not_on_the_loop() -> None:
    assert not findings(
        """
        import time
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/")
        def index():
            time.sleep(1)
            return open("x").read()
        """
    )


def test_faa103_message_has_handler_and_chain() -> None:
    (finding,) = findings(
        """
        from fastapi import FastAPI
        from openai import AsyncOpenAI

        app = FastAPI()
        client = AsyncOpenAI()

        async def summarise(text):
            reply = await client.chat.completions.create(model="m", messages=[])
            return reply.choices[0].message.content

        @app.post("/summaries")
        async def create_summary(text: str):
            summary = await summarise(text)
            return {"summary": summary}
        """
    )
    assert finding.code == "FAA103"
    assert "route handler `create_summary`" in finding.message
    assert "`summarise()`" in finding.message
    assert "create_summary -> summarise -> AsyncOpenAI.chat.completions.create" in finding.message


# -- options -------------------------------------------------------------------

BLOCKING_OPTION = """
    import mylib

    async def job():
        mylib.fetch_sync("a")
"""


def test_blocking_calls_option() -> None:
    assert not findings(BLOCKING_OPTION)
    settings = settings_from({"blocking_calls": "mylib.fetch_sync, other.thing"})
    (finding,) = findings(BLOCKING_OPTION, settings)
    assert finding.code == "FAA102"
    assert "mylib.fetch_sync" in finding.message


DB_OPTION = """
    import cx_Oracle

    async def job():
        conn = cx_Oracle.connect("dsn")
        conn.cursor().execute("select 1")
"""


def test_db_modules_option() -> None:
    assert not findings(DB_OPTION)
    found = findings(DB_OPTION, settings_from({"db_modules": ["cx_Oracle"]}))
    assert [(d.line, d.code) for d in found] == [(5, "FAA101"), (6, "FAA101")]
    # The same module given as a blocking call is FAA102, not FAA101.
    assert {d.code for d in findings(DB_OPTION, settings_from({"blocking_calls": "cx_Oracle"}))} == {"FAA102"}


LLM_OPTION = """
    from fastapi import FastAPI
    import myagents

    app = FastAPI()

    @app.post("/run")
    async def run(text: str):
        return await myagents.run(text)

    @app.post("/crew")
    async def crew(text: str, crew=None):
        return crew.kickoff(inputs={"text": text})
"""


@pytest.mark.parametrize(
    ("value", "lines"),
    [("", []), ("myagents.run", [9]), (".kickoff", [13]), ("myagents.run,.kickoff", [9, 13]), ("myagents", [9])],
)
def test_llm_calls_option(value: str, lines: list[int]) -> None:
    found = findings(LLM_OPTION, settings_from({"llm_calls": value}), code="FAA103")
    assert [d.line for d in found] == lines


def test_matches_configured() -> None:
    assert matches_configured("boto3.client().get_object()", "get_object", ["boto3.client"])
    assert matches_configured("mylib.fetch_sync()", None, ["mylib"])
    assert not matches_configured("mylib.fetch_syncish()", None, ["mylib.fetch_sync"])
    assert matches_configured(None, "kickoff", [".kickoff"]) == ".kickoff"
    assert not matches_configured("await mylib.fetch_sync()", None, ["mylib.fetch_sync"])


# -- the tables ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "blocking", "llm"),
    [
        ("sqlalchemy.orm.Session().query()", "db", False),
        ("sqlalchemy.orm.sessionmaker()().commit()", "db", False),
        ("sqlalchemy.ext.asyncio.async_sessionmaker()().commit()", None, None),
        ("sqlalchemy.create_engine().connect()", "db", False),
        ("sqlalchemy.ext.asyncio.create_async_engine().connect()", None, None),
        ("redis.Redis().get()", "db", False),
        ("redis.asyncio.Redis().get()", None, None),
        ("redis.Redis().pipeline()", None, None),
        ("psycopg.connect()", "db", False),
        ("psycopg.AsyncConnection.connect()", None, None),
        ("httpx.Client().get()", "io", False),
        ("httpx.AsyncClient().get()", None, None),
        ("pathlib.Path().parent.read_text()", "io", False),
        ("pathlib.Path().with_suffix()", None, None),
        ("openai.OpenAI().chat.completions.create()", "io", True),
        ("openai.AsyncOpenAI().chat.completions.create()", None, True),
        ("openai.AsyncOpenAI().embeddings.create()", None, None),
        ("anthropic.Anthropic().messages.create()", "io", True),
        ("langchain_openai.ChatOpenAI().ainvoke()", None, True),
        ("langchain_core.prompts.ChatPromptTemplate.from_template().invoke()", None, None),
        ("litellm.completion()", "io", True),
        ("<module>.helper()", None, None),
    ],
)
def test_classify_path(path: str, blocking: str | None, llm: bool | None) -> None:
    verdict = classify_path(path)
    if llm is None:
        assert verdict is None
    else:
        assert verdict is not None
        assert (verdict.blocking, verdict.llm) == (blocking, llm)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("call_llm", True),
        ("run_agent", True),
        ("askGPT", True),
        ("generate_llm_response", True),
        ("get_agent", False),
        ("list_agents", False),
        ("create_agent", False),
        ("get_llm_config", False),
        ("get_chat_history", False),
        ("query_agents", False),
        ("delete_openai_response", False),
        ("cancel_openai_response", False),
        ("_retrieve_llm_completion", False),
        ("updateAgentRun", False),
        ("get_openai_response", True),
        ("invoke_llm_to_update", True),
    ],
)
def test_llm_like_name(name: str, expected: bool) -> None:
    assert llm_like_name(name) is expected


# -- the catalogue's own examples --------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_catalogue_example_fires_and_fix_is_silent(code: str) -> None:
    doc = CATALOGUE[code].doc
    assert code in {d.code for d in findings(doc.example)}
    assert code not in {d.code for d in findings(doc.instead)}


@pytest.mark.parametrize(
    "source",
    [
        "async def f(x=Depends()): x.query()\n",
        "async def f():\n    (lambda: open('x'))()\n",
        "async def f():\n    def g(): g()\n    g()\n",
        "def a(): return b()\ndef b(): return a()\nasync def f(): a().query()\n",
        "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/x')\nasync def f(*a, **k):\n    return await k(*a)\n",
        "async def f():\n    x = x\n    x.y()\n",
        "from sqlalchemy.orm import sessionmaker\nS = sessionmaker(**kw)\nasync def f():\n    S().query()\n",
        "from sqlalchemy.orm import sessionmaker\nS = sessionmaker(e, *c)\nasync def f():\n    S().query()\n",
    ],
)
def test_odd_shapes_do_not_crash(source: str) -> None:
    findings(source)


CREATED_ONCE = """
    import os

    def install_id(spelled_elsewhere):
        if not os.path.exists(ID_FILE):
            with open(ID_FILE, "w") as f:
                f.write("id")
        return spelled_elsewhere
"""


def test_a_module_that_spells_no_file_call_has_no_file_created_once_and_is_not_searched() -> None:
    import ast

    from flake8_fastapi_antipatterns.analysis.created_once import created_once_nodes
    from flake8_fastapi_antipatterns.analysis.names import Names

    tree = ast.parse(textwrap.dedent(CREATED_ONCE))
    func = tree.body[1]
    assert isinstance(func, ast.FunctionDef)
    asked: list[ast.expr] = []

    def fixed(path: ast.expr) -> bool:
        asked.append(path)
        return True

    # The spelled names say no file call is made: nothing is worked out, nothing asked.
    assert created_once_nodes(func, fixed, frozenset({"os", "path", "exists"})) == frozenset()
    assert asked == []
    # The names the module really spells hold ``open``: the answer is the full one.
    spelled = Names(tree).nodes.identifiers
    found = created_once_nodes(func, fixed, spelled)
    inner = func.body[0]
    assert isinstance(inner, ast.If)
    assert found and id(inner.body[0]) in found and asked
    assert Names(tree).spelled is None  # an index not built yet says nothing
