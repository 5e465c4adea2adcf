"""The FAA rule catalogue: every code as data, with its documentation.

This module is the single source of the rule texts: the flake8 plugin's
messages, the generated docs pages (``docs/rules/``), ``--help`` and the
SARIF rule metadata all read from here.  It imports nothing outside the
standard library so that the runtime guard can use it in a staging app.

Codes are stable: never renumber, never reuse.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleDoc:
    """A rule's documentation, in the five-part shape every rule page uses."""

    what: str
    """What it does: one paragraph."""
    why: str
    """Why is this bad: one or two paragraphs."""
    example: str
    """Example: Python source that triggers the rule (no fences)."""
    instead: str
    """Use instead: the fixed version of ``example`` (no fences)."""
    options: str
    """Options: the flake8 options and runtime-guard parameters that tune it."""


@dataclass(frozen=True)
class Rule:
    code: str
    """``FAA101`` ..."""
    slug: str
    """kebab-case name used for docs file names and SARIF ``name``."""
    title: str
    seed: int
    """Section number in the seed document this rule comes from (0 for none)."""
    default_on: bool
    """False for opt-in codes, which go to flake8's default ignore list."""
    static: str
    """What the source shows (one line, from the catalogue contract)."""
    runtime: str | None
    """What the running app shows, or None when only static analysis reports it."""
    fix: str
    """One line saying what to write instead; ends every message of this code."""
    doc: RuleDoc


CATALOGUE: dict[str, Rule] = {}


def _add(rule: Rule) -> None:
    if rule.code in CATALOGUE:
        raise ValueError(f"duplicate rule code {rule.code}")
    CATALOGUE[rule.code] = rule


def _code(text: str) -> str:
    """A code sample written indented in this file, without the indentation and outer blank lines."""
    return textwrap.dedent(text).strip("\n")


# -- rule entries ------------------------------------------------------------
# (filled in below; keep them in code order)

_add(
    Rule(
        code="FAA101",
        slug="blocking-db-call-in-coroutine",
        title="Blocking database call on the event loop",
        seed=1,
        default_on=True,
        static=(
            "a synchronous database client (SQLAlchemy `Session`/`sessionmaker()`/`Engine.connect()`/`execute`/"
            "`query`, psycopg2, sync psycopg, sqlite3, pymysql, pymongo, sync `redis.Redis`, rq's queue and jobs) is used inside an "
            "`async def`, directly, through a name bound to it (import, assignment, annotation such as "
            "`db: Session = Depends(...)`) or through a sync helper the coroutine calls"
        ),
        runtime=(
            "the event loop was blocked past the threshold while a synchronous database driver was on the loop "
            "thread's stack; reported at the line of user code that called it"
        ),
        fix=(
            "use an async driver (create_async_engine + AsyncSession, redis.asyncio, motor) "
            "or declare the route with plain `def`"
        ),
        doc=RuleDoc(
            what=(
                "Flags synchronous database I/O performed inside an `async def` function: SQLAlchemy's "
                "synchronous `Session`, sessions made by `sessionmaker()`, `Engine.connect()`, `execute()` and "
                "`query()`, and the psycopg2, synchronous psycopg, sqlite3, pymysql, pymongo and synchronous "
                "`redis.Redis` clients, and rq's queue and jobs in Redis (`export_job.delay(...)` on a function "
                "decorated with rq's `@job`, `queue.enqueue(...)`, `Job.fetch(...)`, `job.get_status()`). The check follows names bound by imports, assignments and annotations "
                "(such as `db: Session = Depends(get_db)`; an item of a container annotated with its class, "
                "`repos: dict[str, UserRepo]`, is of that class), what helpers return (a helper that returns "
                "`None` where it cannot build its object gives that object otherwise), and synchronous helper "
                "functions that the coroutine calls; such a finding shows the chain of calls and the file and line of the database call at "
                "its end. Project classes are followed too: repositories and services (`UserRepo(db).get(1)`, "
                "`self.repos.users.get_one()`, a session kept on `self` in `__init__`), classmethods "
                "(`User.by_email(db, email)`), constructors that query in `__init__`, inherited methods and "
                "`super()` calls, and class-based views whose `session: Session = Depends(get_db)` is a class "
                "attribute. A method declared on an abstract base (`@abstractmethod`, a body of `...`, or one "
                "that only raises `NotImplementedError`) runs one of the project's subclasses' implementations of "
                "it: `cast(BaseDb, db).get_session(...)`, or `db: BaseDb = os_db` then `db.get_session(...)`, is "
                "reported when an implementation (`PostgresDb.get_session`) blocks, the chain naming it; an "
                "interface no project class implements, or a `Protocol` (its implementations are not its "
                "subclasses), stays silent; a generic one annotated with its parameters (`repo: Repo[dict]`) is "
                "that interface. On an object declared (or returned by the function that made it) "
                "as a union of project classes, `db: Union[BaseDb, AsyncBaseDb]`, a call made without `await` "
                "is the method of the one member that defines it with a plain `def` (an un-awaited coroutine "
                "runs nothing), an awaited call that of the member with an `async def`. A helper's branch guarded by a parameter that defaults to `None` "
                "(`if db:`, `if db is not None:`) does not run for a caller that leaves the argument out or passes "
                "`None`, and a "
                "generator function called without being iterated (handed to a `StreamingResponse`, kept for "
                "later) runs nothing where it is called, while one the coroutine iterates (`[r for r in "
                "rows(db)]`) runs its queries there. Item and membership operations on an object of a project class run its methods and "
                "are followed as calls: `SESSIONS[sid] = user`, `SESSIONS[sid]`, `del SESSIONS[sid]`, "
                "`sid in SESSIONS` and `len(SESSIONS)` on a `RedisDict` that keeps its items in Redis with a "
                "synchronous client run its `__setitem__`, `__getitem__`, `__delitem__`, `__contains__` and "
                "`__len__` (operations on a local variable or on a parameter with neither annotation nor default "
                "are not followed); a module global bound to such an object in one branch and to an empty "
                "stand-in (`{}`, `None`) in the other is taken for the object. A function handed to another by "
                "name runs where that one calls it: `apply(Pool.get_team_name, name)` with `fn(value)` in the sync "
                "helper, and a coroutine that calls its parameter (`get_team(resource_id)`) is checked with each "
                "function the calls of its module that requests reach hand in (`await collect_teams(request, name, "
                "Pool.get_team_name)`; a command-line program's call does not count), the finding naming the call "
                "that handed it. A service look-up by type (`svcs`: `await services.aget(Repo)`) runs the "
                "synchronous factory the project registered for that type, and returns an object of it. "
                "Work a module global (or an attribute of an imported module) caches on the first call "
                "(`if _engine is None: ...`) is "
                "start-up cost and is not flagged; a cache on `self` is, since the object may live for one "
                "request. Queries behind a debug or development switch (`if settings.DEBUG:`, the rest of a "
                "function after `if not settings.debug: return`) do not run in production and are not flagged. "
                "Neither is a call on a thread-local `scoped_session` (built without `scopefunc=`) guarded by "
                "`Session.registry.has()`, such as a middleware's `Session.commit()` and `Session.remove()`: it "
                "acts only after code on the same thread has used the session, and that use is what is flagged. "
                "At runtime, the guard's watchdog reports FAA101 when the event loop stayed blocked for "
                "longer than `block_threshold` while a synchronous database driver was on the loop thread's "
                "stack, and points at the line of your code that made the call."
            ),
            why=(
                "An `async def` route runs on the event loop itself. A synchronous driver call holds the loop "
                "for the whole network round-trip and query time, and while it waits nothing else on that "
                "worker makes progress: not the fast endpoints, not the health probes, not the responses that "
                "are already streaming. A 200 ms query under 50 concurrent requests becomes seconds of queueing "
                "for everyone, and latency rises on every route at once, which makes the cause hard to find "
                "from dashboards.\n\n"
                "The problem hides in development, where there is one user and a local database, and appears "
                "under production load. A typical outcome is liveness probes timing out on a loop that is merely "
                "blocked, so the orchestrator restarts pods that were healthy and pushes their traffic onto the "
                "remaining ones. Plain `def` routes do not have this problem because FastAPI runs them in a "
                "threadpool; the bug is specifically the combination of `async def` and a blocking driver."
            ),
            example=_code(
                """\
                from fastapi import APIRouter, Depends
                from sqlalchemy.orm import Session

                from myapp.db import get_db
                from myapp.models import User

                router = APIRouter()


                @router.get("/users/{user_id}")
                async def read_user(user_id: int, db: Session = Depends(get_db)):
                    return db.get(User, user_id)  # a blocking query on the event loop
                """
            ),
            instead=_code(
                """\
                from fastapi import APIRouter, Depends
                from sqlalchemy.ext.asyncio import AsyncSession
                from sqlalchemy.orm import Session

                from myapp.db import get_async_db, get_db  # get_async_db yields sessions of an async engine
                from myapp.models import User

                router = APIRouter()


                @router.get("/users/{user_id}")
                async def read_user(user_id: int, db: AsyncSession = Depends(get_async_db)):
                    return await db.get(User, user_id)


                # Or keep the sync driver and let FastAPI run the handler in its threadpool:
                @router.get("/legacy/users/{user_id}")
                def read_user_sync(user_id: int, db: Session = Depends(get_db)):
                    return db.get(User, user_id)
                """
            ),
            options=(
                "`--faa-db-modules`: comma-separated extra modules whose calls count as synchronous database "
                "I/O, e.g. `faa-db-modules = cx_Oracle,ibm_db` under `[flake8]` in setup.cfg. A name matches "
                "calls of it and of anything reached through it (`cx_Oracle.connect(...)`, then "
                "`conn.cursor().execute(...)` on that connection); `.name` matches any method called `name`. "
                "Runtime guard: `block_threshold`, the number of seconds the event loop may stay blocked before "
                "the watchdog reports (default 0.075, so that every block of 100 ms or more is reported; shared "
                "with FAA102)."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA102",
        slug="blocking-call-in-coroutine",
        title="Other blocking call on the event loop",
        seed=1,
        default_on=True,
        static=(
            "`time.sleep`, `requests`, sync `httpx`, `urllib.request`, file I/O (`open()`, `Path.read_*`/"
            "`write_*`), `subprocess`, `os.system` or a sync LLM SDK client is called inside an `async def`, "
            "directly or through a sync helper, and not handed to a thread (`run_in_threadpool`, "
            "`anyio.to_thread.run_sync`, `loop.run_in_executor`, `asyncio.to_thread`)"
        ),
        runtime=(
            "the event loop was blocked past the threshold with user code (or a call it made) on the loop "
            "thread's stack, CPU-bound loops included; reported at the innermost frame of user code. Stalls "
            "with no user code on the stack (a garbage-collection pause, a loop thread that got no CPU, the "
            "guard's or the server's own work) are not reported"
        ),
        fix=(
            "await an async equivalent (asyncio.sleep, a shared httpx.AsyncClient) "
            "or offload the call with `await run_in_threadpool(func, ...)`"
        ),
        doc=RuleDoc(
            what=(
                "Flags calls that block the calling thread when they are made inside an `async def`: "
                "`time.sleep`, the `requests` API, synchronous `httpx` calls and `httpx.Client`, "
                "`urllib.request`, `open()`, `os.open` and the `pathlib.Path` `read_*`/`write_*` methods, "
                "waiting for work handed to another thread or event loop (`executor.submit(...).result()`, "
                "`asyncio.run_coroutine_threadsafe(...).result()`, `concurrent.futures.wait`: also the sync "
                "helper that runs a coroutine on a fresh loop in a worker thread and waits for it), `subprocess.*`, "
                "`os.system`, `shutil` file-tree operations, archives that read files from disk or write their "
                "members to it (`zipfile.ZipFile`'s `write`/`extract`/`extractall`, `tarfile`'s `add`/`extract`/"
                "`extractall`; `writestr` and `read` of a member held in memory are not reported, since their cost "
                "is the member's size, which the code rarely shows), synchronous SDK clients (LLM providers, Docker, boto3, "
                "Twilio, Resend, ElevenLabs, Google sign-in token checks, PyJWT's `PyJWKClient.get_signing_key_from_jwt` "
                "(a key-set fetch over urllib on every cache miss, and for any token with an unknown key id), "
                "Google's Gen AI `genai.Client` but not its `client.aio`), models run in-process (loading a sentence-transformers `SentenceTransformer` "
                "or `CrossEncoder` and its `encode`/`predict`/`rank`, Hugging Face Hub downloads), waiting for "
                "another process (`psutil.Process.wait`, `psutil.wait_procs`; not with `timeout=0`, a poll), "
                "python-social-auth backends asking the provider (`user_data`, `auth_complete`, "
                "`request_access_token`: `requests` calls) "
                "and password hashing (pwdlib, passlib, "
                "argon2, bcrypt: CPU work made slow on purpose). Calls reached through a synchronous helper that "
                "the coroutine invokes are found too, also through methods of the project's classes (a client "
                "kept on `self`, a service's helper method, a model kept in a dict annotated with its class, "
                "`state.models[name].embed(text)` with `models: dict[str, Embedder]`, an object made from a class "
                "handed in as a value, `backend_class: Type[BaseOAuth2]`), clients a helper returns "
                "(also when it returns `None` where it has no key), and service look-ups by type (`svcs`: `await "
                "services.aget(Signer)` runs the synchronous factory the project registered with "
                "`registry.register_factory(Signer, make_signer)`, in the awaiting task), and reported with the "
                "chain of calls and the file and line of the blocking call at its end. A helper that answers from a constant table "
                "(`if name in PROMPTS: return PROMPTS[name]`, the table written out in its module or in the project module it is imported from) and reads a "
                "file only for other names is not followed past that test for a caller that passes a literal the "
                "table holds (`load_prompt(\"summary\")`); a request-derived name still reaches the read. "
                "Likewise a branch the caller's constants rule out: `None`, `True` or `False` passed, or left out "
                "where it is the default, settles the helper's `if` that tests them (`if db:`, `if not user_id or "
                "...: return []`, `if skip_validation or not key:`), and the branch it does not take (with what "
                "follows a branch that returns) is not followed for that caller; a value the helper only hands on "
                "to another that tests it is not followed that far. "
                "Lazy initialisation is start-up cost and is not "
                "flagged: the body of `if self._key is None: self._key = load_key()` (also read through a local, "
                "`registry = getattr(self, \"_registry\", None); if registry is None: registry = self._registry = "
                "Registry()`), or of a module global or an "
                "attribute of an imported module, `if state.config is None: state.config = ...`, guarded the same "
                "way, or the code after `if _cache is not None: return _cache` (also when that test sits under a "
                "lock, `with _lock:`, or under an `if` the function's defaults take, `if path is None and "
                "use_cache:`: the cache its callers get by leaving those alone), also with conditions that keep "
                "the value fresh and read nothing the caller passes, `if self._specs and now < self._expires_at: "
                "return self._specs`, after which the work runs once per expiry, or the code after an early "
                "return taken while an expiry is ahead of the clock, `if expiry > datetime.now(timezone.utc) + "
                "margin: return token`, a refresh once per token lifetime, or the body of "
                "`if self.pull_if_missing:` that sets `self.pull_if_missing = False`, or the code after an early "
                "return taken while an invalidation flag is off, `if not self._profiles_dirty and "
                "self._cached_mode == self.mode: return`, a refresh once per change, when that code or a method "
                "of the object it calls clears the flag and writes nothing (a write-back, `if not self._dirty: "
                "return` and then writing the items out, runs on every change a request makes and is reported), or the rest of a function "
                "that refuses a second run, `assert self._task is None` or `if self._task is not None: raise "
                "RuntimeError(...)`, and then sets `self._task`: a service's `start`) runs once, and so does a "
                "coroutine only such a branch calls. The guard may ask a predicate method of the same object: "
                "after `if not self._should_fetch(): return`, the branch of `if self.url.startswith(\"http\"): "
                "... else: ...` where `_should_fetch` answers `not self._keys` (its own `if not "
                "self.url.startswith(\"http\"): return not self._keys`) runs once when the function sets "
                "`self._keys`; a branch where it answers with the clock is reported. A file read again only when its modification time changed "
                "(`if cached is None or cached[0] != (st.st_mtime_ns, st.st_size): CACHE[key] = ...`, with "
                "`st = path.stat()`) costs a request a `stat` and is not flagged, nor is a read of the same path "
                "in the handler of its failed `stat`. Local file work in the rounds of a loop that waits half a "
                "minute or more each time (`await asyncio.sleep(60)`, or a wait on a local set from such a number, "
                "a setting's `getattr` default included) runs once a minute whatever the request rate and is not "
                "flagged; a network call or a subprocess there is. Nor is local file work that a task the app starts "
                "once at start-up does outside its loops (a snapshot read before its refresh loop): it runs once "
                "per process. Removing a temporary directory the coroutine "
                "has just made with `mkdtemp` and not named since (`shutil.rmtree` of an empty folder) is not "
                "flagged, nor is removing it in the branch where a `git clone` into it failed (`if "
                "result.returncode != 0:`: git deletes what a failed clone wrote); after a clone that worked, "
                "or another command, it is. A function registered only with an object that a `__main__` block runs (`@mcp.tool()` "
                "on a `FastMCP` server started with `python -m`) is served by that program, not by the app; one "
                "the app also mounts is judged. "
                "So does get-or-create of a file at a fixed path: the write under `if not os.path.exists(ID_FILE):` "
                "(or in the `else` of `if ID_FILE.exists():`, or under `if value is None:` when `value` was read "
                "from that file and the branch uses no parameter of the function) creates the file the next call "
                "reads, once per installation. Code behind a debug or development switch (`if settings.DEBUG:`, "
                "`if in_debug_mode():`, the rest of a function after `if not settings.debug: return`, a development "
                "server's watch or reload mode read from its settings, `if config.run.watch:`, `if args.reload:`) "
                "does not run in production and is not flagged; a feature flag named otherwise is, and so is a "
                "route's own parameter (`async def get_job(job_id, watch: bool = False)`: the client's choice). Local file work behind a "
                "tracing or profiling switch (`if is_promptrace_enabled():`, `if settings.ENABLE_PROFILING:`: a "
                "trace file written only while someone turned the switch on) is not flagged either; a network "
                "call or a subprocess behind one is, since production may keep tracing on. "
                "A function handed to `run_in_threadpool`, "
                "`anyio.to_thread.run_sync`, `loop.run_in_executor` or `asyncio.to_thread` is not flagged, "
                "because it runs on a worker thread, and neither is the `open()` of a file whose only uses are "
                "methods handed to such a thread (`with open(p, \"rb\") as f: data = await "
                "asyncio.to_thread(f.read)`), arguments of a function run on one (`await asyncio.to_thread(upload, "
                "f)`, `await sync_to_async(client.create)(file=f)`), arguments of a project function that does "
                "only that with them (followed two calls deep), the standard streams of a child process, or "
                "`f.close()`. "
                "`subprocess.Popen` with no pipe and outside a `with` block only starts the process (a fork and "
                "an exec) and is not flagged; waiting for it (`wait`, `communicate`, leaving `with Popen(...)`) "
                "and `Popen` with `stdin`/`stdout`/`stderr=PIPE` are. At runtime, the guard's watchdog reports FAA102 whenever the "
                "loop stays blocked longer than `block_threshold` with your code, or a call it made, on the "
                "loop's stack (CPU-heavy loops such as large JSON processing or image resizing included), "
                "attributed to the innermost frame of your own code; a stall without it (a garbage-collection "
                "pause, a loop thread that got no CPU on a busy machine, the server's own work) is set aside "
                "as a note rather than blamed on the request in flight. A read of a small file at a fixed path (one made only of constants, `__file__`, the "
                "app's settings and the environment: a bundled template, a `*_FILE` secret, the app's own state "
                "file under its configured directory) is the same microseconds on every request and is not "
                "flagged by default; writes (other than the get-or-create above), request-derived paths, "
                "running subprocesses and the network are. Files of the kernel's pseudo-filesystems "
                "(`open(f\"/proc/{pid}/stat\")`, `Path(\"/sys/fs/cgroup/memory.max\").read_text()`) are made up "
                "from memory and never flagged, whatever part of the path a request gives; a path through a "
                "process's `root`, `cwd` or `fd` links (`/proc/{pid}/cwd/uploads/...`) is the real filesystem and is."
            ),
            why=(
                "All the requests a worker serves share one event-loop thread. A blocking call stops that "
                "thread: other requests queue behind it, timeouts fire in unrelated endpoints, websocket "
                "heartbeats are missed, and throughput drops to one request at a time for as long as the call "
                "lasts. A single synchronous HTTP call to a slow upstream is enough to make the worker look "
                "hung.\n\n"
                "Because the stall is shared, the symptom shows up far from the cause: tail latency climbs on "
                "every route, and health checks time out so the orchestrator restarts the pod, dropping the "
                "in-flight requests with it. Async libraries or an explicit hand-off to a thread keep the loop "
                "free to serve everyone else while the slow work waits."
            ),
            example=_code(
                """\
                import requests
                from fastapi import APIRouter

                router = APIRouter()


                def load_template(template_id: int) -> str:
                    with open(f"templates/{template_id}.txt", encoding="utf-8") as fh:
                        return fh.read()


                @router.get("/rates/{currency}")
                async def get_rate(currency: str):
                    resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)
                    return resp.json()


                @router.get("/emails/{template_id}")
                async def preview_email(template_id: int):
                    return {"body": load_template(template_id)}  # file I/O through a sync helper
                """
            ),
            instead=_code(
                """\
                import httpx
                from fastapi import APIRouter, Request
                from starlette.concurrency import run_in_threadpool

                router = APIRouter()


                def load_template(template_id: int) -> str:
                    with open(f"templates/{template_id}.txt", encoding="utf-8") as fh:
                        return fh.read()


                @router.get("/rates/{currency}")
                async def get_rate(currency: str, request: Request):
                    client: httpx.AsyncClient = request.app.state.http  # created once in the app's lifespan
                    resp = await client.get(f"https://rates.example.com/{currency}", timeout=5)
                    return resp.json()


                @router.get("/emails/{template_id}")
                async def preview_email(template_id: int):
                    return {"body": await run_in_threadpool(load_template, template_id)}
                """
            ),
            options=(
                "`--faa-blocking-calls`: comma-separated extra dotted names to treat as blocking, e.g. "
                "`faa-blocking-calls = mylib.fetch_sync,boto3.client` under `[flake8]` in setup.cfg. A dotted "
                "name matches calls of it and of anything reached through what it returns (`boto3.client` also "
                "matches `s3.get_object(...)` on a client it made; a module name matches all its functions); "
                "`.name` matches any method called `name`. "
                "Runtime guard: `block_threshold`, the number of seconds the event loop may stay blocked before "
                "the watchdog reports (default 0.075, so that every block of 100 ms or more is reported; shared "
                "with FAA101).\n\n"
                "`--faa-fixed-file-reads`: `yes` also reports reads of small files at fixed paths "
                "(`faa-fixed-file-reads = yes` under `[flake8]`); default `no`."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA103",
        slug="llm-call-in-request-path",
        title="Long-running agent/LLM work in the request path",
        seed=3,
        default_on=True,
        static=(
            "a route handler awaits or calls an LLM/agent SDK (OpenAI, Anthropic, LangChain `invoke`/`ainvoke`, "
            "LiteLLM, llama.cpp, configured names) and returns its result instead of scheduling the work and answering "
            "202; streaming responses are exempt"
        ),
        runtime="a request took longer than the slow-request threshold without blocking the event loop",
        fix=(
            "schedule the run (BackgroundTasks, arq, Celery) and return 202 with a run id to poll, "
            "or stream the output"
        ),
        doc=RuleDoc(
            what=(
                "Flags route handlers that call an LLM or agent SDK (the OpenAI and Anthropic clients, "
                "LangChain `invoke`/`ainvoke`, LiteLLM, the llama.cpp `Llama` model, and any names given with `--faa-llm-calls`) and return "
                "its result in the same response. Handlers that answer with a `StreamingResponse` or "
                "server-sent events are not flagged, since the client receives output as it is produced; so "
                "are handlers that return what a project helper answers when that helper returns a streaming "
                "response in some branch (`return await run_flow(request, stream=request.stream)`): the "
                "client chose between the stream and the whole answer. Nor "
                "are short side calls: a call that caps its output at 256 tokens or fewer (`max_tokens=64`), "
                "asks for a structured answer (`response_format={\"type\": \"json_object\"}`, a response "
                "schema or model), or is made by a helper named for a small derived value (a title, a subject, "
                "a label or tags, a category, a safety or moderation verdict, a sentiment or an intent; a "
                "leading `safe_` names an error-handling wrapper instead): one "
                "completion of a few tokens is a slow dependency, not a run to schedule. At "
                "runtime, the guard reports FAA103 for requests that took longer than `slow_request_threshold` "
                "while the event loop stayed responsive, which is the signature of a handler awaiting slow "
                "remote work rather than blocking."
            ),
            why=(
                "LLM and agent calls take seconds to minutes, with a long latency tail. Holding the HTTP request "
                "open for that long runs into every timeout between the client and the worker: load balancers, "
                "ingress controllers and API gateways commonly cut connections after 30 or 60 seconds. The "
                "client then retries, and each retry starts (and bills) a whole new run while the first one is "
                "still going. Every held request also keeps a connection, memory and a concurrency slot on the "
                "worker, so a burst of agent runs starves the cheap endpoints.\n\n"
                "A deploy or scale-in that stops the worker drops every in-flight run without a trace. Accepting "
                "the job, answering 202 with a run id, and doing the work in a queue or background task gives "
                "the client something to poll, makes retries safe, and lets the work be tracked, retried and "
                "rate-limited independently of any one connection. A durable queue (arq, Celery, RQ) also "
                "survives restarts, which `BackgroundTasks` does not."
            ),
            example=_code(
                """\
                from fastapi import APIRouter
                from openai import AsyncOpenAI
                from pydantic import BaseModel, Field

                router = APIRouter()
                llm = AsyncOpenAI()


                class AgentRunRequest(BaseModel):
                    input_text: str = Field(min_length=1, max_length=20_000)


                @router.post("/agents/run")
                async def run_agent(body: AgentRunRequest):
                    completion = await llm.chat.completions.create(  # 30+ seconds while the client waits
                        model="gpt-4o",
                        messages=[{"role": "user", "content": body.input_text}],
                    )
                    return {"output": completion.choices[0].message.content}
                """
            ),
            instead=_code(
                """\
                import uuid

                from fastapi import APIRouter, BackgroundTasks, HTTPException
                from openai import AsyncOpenAI
                from pydantic import BaseModel, Field

                from myapp.runs import run_store  # run status kept in the database or Redis

                router = APIRouter()
                llm = AsyncOpenAI(timeout=120)


                class AgentRunRequest(BaseModel):
                    input_text: str = Field(min_length=1, max_length=20_000)


                async def execute_run(run_id: str, input_text: str) -> None:
                    await run_store.set_status(run_id, "running")
                    try:
                        completion = await llm.chat.completions.create(
                            model="gpt-4o",
                            messages=[{"role": "user", "content": input_text}],
                        )
                    except Exception:
                        await run_store.set_status(run_id, "failed")
                        raise
                    await run_store.finish(run_id, completion.choices[0].message.content)


                @router.post("/agents/run", status_code=202)
                async def run_agent(body: AgentRunRequest, background_tasks: BackgroundTasks):
                    run_id = str(uuid.uuid4())
                    await run_store.create(run_id, status="pending")
                    background_tasks.add_task(execute_run, run_id, body.input_text)  # or enqueue on arq/Celery
                    return {"run_id": run_id, "status": "pending", "poll_url": f"/agents/runs/{run_id}"}


                @router.get("/agents/runs/{run_id}")
                async def get_run(run_id: str):
                    run = await run_store.get(run_id)
                    if run is None:
                        raise HTTPException(status_code=404, detail="run not found")
                    return run
                """
            ),
            options=(
                "`--faa-llm-calls`: comma-separated extra dotted names, or method names with a leading dot, "
                "treated as LLM/agent calls, e.g. `faa-llm-calls = myagents.run,.kickoff` under `[flake8]` in "
                "setup.cfg. Functions of your own project are read: a helper that makes an LLM call counts "
                "wherever it is defined (the finding shows the chain of calls and the file and line of the LLM "
                "call). A function whose body shows no LLM call we recognise, or that is "
                "imported from outside the project or not defined at all, counts only when its own name says "
                "so: a model word (llm, gpt, openai, claude, "
                "anthropic, gemini...) with an action word (call, run, ask, query, generate, complete...), as in "
                "`call_llm` or `ask_gpt`, or an agent word with a run-like action, as in `run_agent`; "
                "`get_agent` or `list_agents` do not count, nor do class names (`LiteLLMProxyChatConfig`) or "
                "names that also say they handle data about models (error, json, list, config, provider, "
                "tokens, count, usage..., as in `get_llm_provider` or `anthropic_error_json_response`), nor names "
                "that open with a verb of stored records (delete, cancel, retrieve, update, store, save..., as in "
                "`delete_openai_response`: a model's earlier answer looked up or removed). A "
                "project function so named that hands work to a scheduler, itself or through the functions it "
                "calls (`run_sleeptime_agents` creating a run and `asyncio.create_task(...)`), runs that work after "
                "the route answers, and does not count. "
                "Runtime guard: `slow_request_threshold`, the number of seconds a request may take "
                "(without blocking the loop) before it is reported."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA201",
        slug="default-connection-pool",
        title="Connection pool left at defaults",
        seed=2,
        default_on=True,
        static=(
            "`create_engine`/`create_async_engine` for a server database (not SQLite) sets none of `pool_size`, "
            "`max_overflow`, `pool_timeout`, `pool_recycle`, `pool_pre_ping` and no explicit `poolclass`"
        ),
        runtime=(
            "a pool checkout waited past the threshold, or connections were invalidated that a pre-ping would "
            "have caught"
        ),
        fix=(
            "size the pool explicitly: pass pool_size, max_overflow, pool_timeout, pool_recycle and "
            "pool_pre_ping=True"
        ),
        doc=RuleDoc(
            what=(
                "Flags `create_engine()` and `create_async_engine()` calls for a server database (PostgreSQL, "
                "MySQL and the like; SQLite URLs are ignored) that pass none of the pool settings `pool_size`, "
                "`max_overflow`, `pool_timeout`, `pool_recycle` or `pool_pre_ping`, and no explicit `poolclass` "
                "(choosing `NullPool` on purpose, for instance behind PgBouncer, counts as a decision). At "
                "runtime, the guard reports FAA201 when a request waited for a pool checkout longer than "
                "`pool_wait_threshold`, or when connections turned out to be dead and were invalidated in the "
                "middle of a request, which `pool_pre_ping=True` would have caught beforehand."
            ),
            why=(
                "SQLAlchemy's default pool keeps 5 connections plus 10 overflow per engine, lets a request wait "
                "30 seconds for a free one, and never retires connections by age. Under load, requests beyond "
                "that limit queue silently inside the pool: latency grows, then requests fail with pool timeout "
                "errors while the database itself is idle. In the other direction, the per-engine maximum "
                "multiplied by workers and replicas can exceed the database's `max_connections` during a "
                "scale-out, so a traffic spike turns into refused connections for every service sharing that "
                "database.\n\n"
                "Without `pool_pre_ping` or `pool_recycle`, connections closed behind the pool's back by the "
                "server, a proxy, a NAT gateway or a failover are handed to requests and fail on first use, "
                "producing bursts of 500s after idle periods and maintenance windows. Choosing the numbers "
                "explicitly, per worker process, keeps the total within the database's budget and makes the "
                "pool's behaviour under pressure predictable."
            ),
            example=_code(
                """\
                from contextlib import asynccontextmanager

                from fastapi import FastAPI
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

                DATABASE_URL = "postgresql+asyncpg://app@db.internal:5432/app"


                @asynccontextmanager
                async def lifespan(app: FastAPI):
                    engine = create_async_engine(DATABASE_URL)  # 5 + 10 connections, 30 s waits, no pre-ping
                    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
                    yield
                    await engine.dispose()
                """
            ),
            instead=_code(
                """\
                from contextlib import asynccontextmanager

                from fastapi import FastAPI
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

                DATABASE_URL = "postgresql+asyncpg://app@db.internal:5432/app"


                @asynccontextmanager
                async def lifespan(app: FastAPI):
                    # Per worker process: workers x replicas x (pool_size + max_overflow)
                    # must stay below the database's max_connections.
                    engine = create_async_engine(
                        DATABASE_URL,
                        pool_size=10,
                        max_overflow=5,
                        pool_timeout=5,  # fail fast instead of queueing requests for 30 s
                        pool_recycle=1800,  # shorter than the server's or proxy's idle timeout
                        pool_pre_ping=True,  # replace dead connections before handing them out
                    )
                    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
                    yield
                    await engine.dispose()
                """
            ),
            options=(
                "No flake8 option. Runtime guard: `pool_wait_threshold`, the number of seconds a pool checkout "
                "may wait before it is reported."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA202",
        slug="resource-without-graceful-shutdown",
        title="Resource without graceful shutdown",
        seed=10,
        default_on=True,
        static=(
            "a database engine, Redis client, `httpx.AsyncClient` or aiohttp session is created at import time "
            "and never disposed or closed in a lifespan"
        ),
        runtime="at lifespan shutdown, engines or clients that the app created are still open",
        fix=(
            "create the resource inside a `lifespan` context manager, keep it on `app.state`, "
            "and close/dispose it after the `yield`"
        ),
        doc=RuleDoc(
            what=(
                "Flags SQLAlchemy engines (`create_engine`, `create_async_engine`), Redis clients, "
                "`httpx.AsyncClient` instances and aiohttp client sessions that are created at module import "
                "time and are never disposed or closed from the application's lifespan (a synchronous `httpx.Client` "
                "shared for the process is not: it holds no server-side session and no event loop, and its "
                "sockets close with the process). At runtime, the guard "
                "reports FAA202 when lifespan shutdown completes while engines or clients that the app created "
                "are still open."
            ),
            why=(
                "Every deploy, scale-in and pod eviction shuts the server down. Resources that are never closed "
                "are torn down by process exit instead of in order: database connections disappear without a "
                "proper goodbye (the server logs unexpected EOFs and rolls back whatever was still open on "
                "them), HTTP client sessions abandon their keep-alive connections and emit unclosed-session "
                "warnings that bury real errors, and anything a client buffered is lost. Closing in the "
                "lifespan happens after the server has drained in-flight requests, which is exactly the right "
                "moment.\n\n"
                "Creating clients at import time has further costs: they are built whenever a test, a migration "
                "or a CLI merely imports the module, they are configured before the app has read its settings, "
                "and async clients end up shared between the event loops of a test suite, a common source of "
                "'attached to a different loop' errors. A lifespan gives each resource one owner, one place "
                "where it is opened and one where it is closed."
            ),
            example=_code(
                """\
                import httpx
                from fastapi import FastAPI
                from redis.asyncio import Redis
                from sqlalchemy.ext.asyncio import create_async_engine

                DATABASE_URL = "postgresql+asyncpg://app@db.internal:5432/app"

                engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=5, pool_pre_ping=True)
                redis = Redis.from_url("redis://cache.internal:6379/0")
                http = httpx.AsyncClient(timeout=10)

                app = FastAPI()  # nothing above is ever closed
                """
            ),
            instead=_code(
                """\
                from contextlib import asynccontextmanager

                import httpx
                from fastapi import FastAPI
                from redis.asyncio import Redis
                from sqlalchemy.ext.asyncio import create_async_engine

                DATABASE_URL = "postgresql+asyncpg://app@db.internal:5432/app"


                @asynccontextmanager
                async def lifespan(app: FastAPI):
                    app.state.engine = create_async_engine(
                        DATABASE_URL, pool_size=10, max_overflow=5, pool_pre_ping=True
                    )
                    app.state.redis = Redis.from_url("redis://cache.internal:6379/0")
                    app.state.http = httpx.AsyncClient(timeout=10)
                    try:
                        yield
                    finally:
                        await app.state.http.aclose()
                        await app.state.redis.aclose()
                        await app.state.engine.dispose()


                app = FastAPI(lifespan=lifespan)
                """
            ),
            options="None.",
        ),
    )
)

_add(
    Rule(
        code="FAA203",
        slug="deprecated-startup-shutdown-events",
        title="Deprecated startup/shutdown events",
        seed=10,
        default_on=True,
        static=(
            '`@app.on_event("startup")`/`@app.on_event("shutdown")` or `add_event_handler(...)` is used instead '
            "of a lifespan"
        ),
        runtime=None,
        fix="move the code into a `lifespan` async context manager passed to FastAPI(lifespan=...)",
        doc=RuleDoc(
            what=(
                'Flags startup and shutdown handlers registered with `@app.on_event("startup")` or '
                '`@app.on_event("shutdown")` (on an app or a router), the same applied by hand '
                '(`app.on_event("shutdown")(close_pool)`), and calls to `add_event_handler(...)`, also in a '
                'helper that registers on the app it is handed, in a module that imports no web framework '
                '(the event spelled `"startup"` or `"shutdown"`). A registration inside a function nothing in an '
                "app's project calls (a set-up helper left unused beside a lifespan) registers nothing and is not "
                "reported; a library's helpers (no app in the project) are. "
                "Only the static check reports this code; the runtime guard has nothing to add."
            ),
            why=(
                "Startup and shutdown events are deprecated in Starlette and FastAPI in favour of the lifespan "
                "protocol and are slated for removal, so code built on them has an expiry date. They also mix "
                "badly with their replacement: once an app is given a `lifespan`, FastAPI no longer runs its "
                "`on_event` handlers, so adding a lifespan in one module silently disables the startup code in "
                "another, and a connection is never opened, or never closed.\n\n"
                "Separate startup and shutdown functions have to share resources through module globals, which "
                "makes it easy to open something and forget to close it, and offers no structure for cleaning "
                "up after a startup that failed halfway. A lifespan context manager keeps setup and teardown in "
                "one function, with the teardown after the `yield` (in a `finally` when it must run on errors "
                "too), and stores resources on `app.state` where request handlers can reach them."
            ),
            example=_code(
                """\
                from fastapi import FastAPI
                from redis.asyncio import Redis

                app = FastAPI()
                redis: Redis | None = None


                @app.on_event("startup")
                async def connect() -> None:
                    global redis
                    redis = Redis.from_url("redis://cache.internal:6379/0")


                @app.on_event("shutdown")
                async def disconnect() -> None:
                    if redis is not None:
                        await redis.aclose()
                """
            ),
            instead=_code(
                """\
                from contextlib import asynccontextmanager

                from fastapi import FastAPI
                from redis.asyncio import Redis


                @asynccontextmanager
                async def lifespan(app: FastAPI):
                    app.state.redis = Redis.from_url("redis://cache.internal:6379/0")
                    try:
                        yield
                    finally:
                        await app.state.redis.aclose()


                app = FastAPI(lifespan=lifespan)
                """
            ),
            options="None.",
        ),
    )
)

_add(
    Rule(
        code="FAA204",
        slug="outbound-call-without-timeout",
        title="Outbound HTTP call without a bounded timeout",
        seed=12,
        default_on=True,
        static=(
            "a `requests` call without `timeout=`, an `httpx` client or call with `timeout=None`, an "
            "`aiohttp.ClientTimeout` that bounds nothing (no `total` and no `sock_read`, written as `None` or from "
            "a setting that is `None` unless the environment sets it), or a new "
            "`httpx.AsyncClient`/`Client` or `aiohttp.ClientSession` created per request (no connection reuse) in a "
            "route handler, or in a helper, method or service that requests reach"
        ),
        runtime=(
            "an httpx, requests or aiohttp call made with no timeout (or no connect or read timeout) was still "
            "running when its request's time budget (`slow_request_threshold`) ran out"
        ),
        fix=(
            "pass an explicit timeout (e.g. `timeout=(3, 10)`, `httpx.Timeout(10, connect=3)`) "
            "and reuse one client created in the lifespan"
        ),
        doc=RuleDoc(
            what=(
                "Flags `requests` calls (`requests.get`, `requests.post` and the rest) made without a `timeout=` "
                "argument, `httpx` clients and calls given `timeout=None`, and `httpx.AsyncClient` or "
                "`httpx.Client` objects (and `aiohttp.ClientSession`) created inside a route handler, or inside a "
                "helper, method or service the serving path reaches for every request (a service class's "
                "`_make_request` behind a route of another module), which build a fresh connection pool for "
                "every request (a function whose result is cached, `functools.cached_property` included, one only "
                "background work started at start-up reaches, a factory that returns the client to a caller "
                "who may keep it (but not a `@property`, which builds one on every read of "
                "`self.client.post(...)`; openai's `DefaultAsyncHttpxClient` counts as an httpx client, and one "
                "put in a dict of keyword arguments the function builds is not kept), the code after a kept value's early return `if self._specs and now < "
                "self._expires_at: return self._specs` or after `if expiry > now: return token` (a token "
                "refreshed once per lifetime), and a client kept on an attribute or a global are not "
                "per request; a client on an in-process `ASGITransport`/`WSGITransport`, which opens no "
                "connection, is not reported; nor is a client with its timeout that only routes of signing in or out "
                "reach, a path with `oauth`, `oidc`, `sso`, `saml`, `login`, `logout`, `signin` or `signout` "
                "in it (a client one of them and one other route reach is judged by the other): "
                "it runs once per login, and idle pooled connections close within seconds, so a shared client "
                "would keep none warm between two logins). It also flags an `aiohttp.ClientTimeout` that bounds neither a whole "
                "request (`total`) nor a read (`sock_read`): each is missing, `None` (or zero), or a module-level "
                "setting that is `None` in a deployment whose environment sets nothing (`TIMEOUT = int(raw) if raw else None` "
                "after `raw = os.getenv(\"TIMEOUT\", \"\")`, in this module or one it imports from). Such a timeout "
                "replaces aiohttp's own five-minute default with no bound at all; given straight to a session created "
                "per request, the session's finding says both. A setting a deployment must give "
                "(`os.environ[\"TIMEOUT\"]`) or a value worked out in the function is not judged. "
                "At runtime, the guard reports FAA204 when an httpx, requests or aiohttp call "
                "made with no timeout (none given and none on the client, or `None` for the connect or read "
                "timeout) was still in flight when its request's time budget, `slow_request_threshold` from the "
                "request's start, ran out; the finding names the host, the calling line and the route."
            ),
            why=(
                "`requests` waits forever by default, and so does `httpx` when its timeout is switched off. When "
                "a dependency stops answering (a half-open TCP connection, a stuck load balancer, a provider "
                "incident), every request that reaches it waits indefinitely, holding a worker slot, memory, "
                "often a database connection, and for sync handlers one of the threadpool's 40 threads. Within "
                "minutes the service stops serving even the routes that never touch the broken dependency: one "
                "silent upstream takes the whole API down with it.\n\n"
                "A client created per request throws connection pooling away: every call pays DNS, TCP and TLS "
                "setup again, adds tens to hundreds of milliseconds, leaves sockets in TIME_WAIT, and at high "
                "rates runs into ephemeral-port or upstream connection limits. One client created at startup, "
                "with explicit timeouts and connection limits, avoids both problems."
            ),
            example=_code(
                """\
                import httpx
                import requests
                from fastapi import APIRouter

                router = APIRouter()


                @router.get("/weather/{city}")
                def weather(city: str):
                    return requests.get(f"https://weather.example.com/v1/{city}").json()  # may wait forever


                @router.get("/quotes/{symbol}")
                async def quote(symbol: str):
                    async with httpx.AsyncClient(timeout=None) as client:  # a new pool per request, no timeout
                        resp = await client.get(f"https://quotes.example.com/v2/{symbol}")
                    return resp.json()
                """
            ),
            instead=_code(
                """\
                import httpx
                import requests
                from fastapi import APIRouter, Request

                router = APIRouter()


                @router.get("/weather/{city}")
                def weather(city: str):
                    # (connect, read) timeouts in seconds
                    return requests.get(f"https://weather.example.com/v1/{city}", timeout=(3, 10)).json()


                @router.get("/quotes/{symbol}")
                async def quote(symbol: str, request: Request):
                    # One shared client, created in the lifespan as
                    # httpx.AsyncClient(timeout=httpx.Timeout(10, connect=3), limits=httpx.Limits(max_connections=100))
                    client: httpx.AsyncClient = request.app.state.http
                    resp = await client.get(f"https://quotes.example.com/v2/{symbol}")
                    return resp.json()
                """
            ),
            options=(
                "None for flake8. Runtime guard: `slow_request_threshold` (seconds, default 10) is the request's "
                "budget; `instrument_outbound` (default on) switches the HTTP client instrumentation off."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA205",
        slug="outbound-call-without-circuit-breaker",
        title="Outbound call in the request path without a circuit breaker",
        seed=12,
        default_on=False,
        static=(
            "an outbound HTTP call in a route handler is not wrapped by a circuit breaker (purgatory, "
            "aiobreaker, pybreaker or a configured wrapper)"
        ),
        runtime=(
            "calls to one host failed `outbound_failure_threshold` times in a row (connection errors, timeouts, "
            "5xx) within `outbound_failure_window`, made by more than one request, each still attempted: no "
            "fast failure"
        ),
        fix=(
            "wrap the call in a circuit breaker (aiobreaker, purgatory, pybreaker or a name in "
            "--faa-breaker-names) and answer 503 while it is open"
        ),
        doc=RuleDoc(
            what=(
                "Opt-in. Flags outbound HTTP calls made in a route handler that are not protected by a circuit "
                "breaker from purgatory, aiobreaker or pybreaker, or by a wrapper named with "
                "`--faa-breaker-names`. At runtime, the guard reports FAA205 once per host when httpx, requests or "
                "aiohttp calls to it failed (a connection error, a timeout or a 5xx answer) "
                "`outbound_failure_threshold` times in a row within `outbound_failure_window` seconds, made by "
                "more than one request: each was still attempted, none failed fast. A breaker that opens after "
                "a few failures keeps the run short, so an app that has one is not reported.\n\n"
                "The static check leaves alone calls a breaker would add little to: an OAuth authorization-code exchange "
                "(a payload with `grant_type=authorization_code`, made once per login); a call whose failure "
                "the handler already answers (an `except` for a network error that returns a fallback or "
                "raises an error status, without re-raising) under a timeout of at most 3 s on the call or "
                "on the client built in sight (`timeout=1`, `httpx.Timeout(2.0)`, "
                "`aiohttp.ClientTimeout(total=1)`): each request fails about as fast as an open breaker "
                "would make it; and a call in a branch the handler has closed to everyone but administrators "
                "(`if url_idx is not None and user.role != \"admin\": raise HTTPException(401)`), like routes "
                "guarded by an administrators' dependency."
            ),
            why=(
                "When a downstream service is down or overloaded, every request that calls it still waits for "
                "the connect or read timeout before failing. Under normal traffic that means hundreds of "
                "requests parked on a dependency already known to be broken, each holding a worker slot and "
                "memory, while your own retries add load to a service that is trying to recover. Latency for "
                "the whole API degrades to the timeout value and the failure spreads to your callers.\n\n"
                "A circuit breaker counts failures per dependency and, past a threshold, rejects calls "
                "immediately for a cool-down period before letting a trial call through. Requests get a fast, "
                "explicit 503 (or a cached or degraded answer) and the downstream gets room to recover. The "
                "rule is opt-in because not every outbound call deserves a breaker, and calls through a service "
                "mesh may already have one."
            ),
            example=_code(
                """\
                import httpx
                from fastapi import APIRouter, Request

                router = APIRouter()


                @router.get("/recommendations/{user_id}")
                async def recommendations(user_id: int, request: Request):
                    client: httpx.AsyncClient = request.app.state.http
                    resp = await client.get(f"http://recommender.internal/users/{user_id}", timeout=2.0)
                    resp.raise_for_status()
                    return resp.json()
                """
            ),
            instead=_code(
                """\
                from datetime import timedelta

                import httpx
                from aiobreaker import CircuitBreaker, CircuitBreakerError
                from fastapi import APIRouter, HTTPException, Request

                router = APIRouter()

                # Opens after 5 consecutive failures and lets a trial call through after 30 s;
                # 4xx answers are the caller's fault and do not count as failures.
                recommender_breaker = CircuitBreaker(
                    fail_max=5,
                    timeout_duration=timedelta(seconds=30),
                    exclude=[lambda exc: isinstance(exc, httpx.HTTPStatusError) and exc.response.is_client_error],
                )


                @recommender_breaker
                async def fetch_recommendations(client: httpx.AsyncClient, user_id: int) -> list[dict]:
                    resp = await client.get(f"http://recommender.internal/users/{user_id}", timeout=2.0)
                    resp.raise_for_status()
                    return resp.json()


                @router.get("/recommendations/{user_id}")
                async def recommendations(user_id: int, request: Request):
                    try:
                        return await fetch_recommendations(request.app.state.http, user_id)
                    except CircuitBreakerError:
                        raise HTTPException(status_code=503, detail="recommendations unavailable") from None
                """
            ),
            options=(
                "`--faa-breaker-names`: comma-separated extra names (decorators, context managers, wrapper "
                "functions) that count as a circuit breaker, e.g. `faa-breaker-names = myapp.resilience.guarded` "
                "under `[flake8]` in setup.cfg. The rule is off by default: enable it with "
                "`--extend-select FAA205` (or `extend-select = FAA205` in the config file). A hand-rolled "
                "breaker counts without configuration: a handler that calls a method of an object whose name "
                "or class name contains `breaker` (`if not breaker.can_execute(): ...`) is treated as guarded. "
                "Runtime guard: `outbound_failure_threshold` (failed calls in a row, default 10) and "
                "`outbound_failure_window` (seconds, default 60); `instrument_outbound` switches it off."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA301",
        slug="wildcard-cors-origin",
        title="Wildcard CORS origin",
        seed=7,
        default_on=True,
        static=(
            '`CORSMiddleware` gets `"*"` in `allow_origins` (literally or through a module-level name) or an '
            "`allow_origin_regex` that matches every origin; the message says when `allow_credentials=True` "
            "makes it exploitable"
        ),
        runtime=(
            "the app's own CORSMiddleware configuration allows every origin (read once at start-up from "
            "`app.user_middleware`: `\"*\"` in `allow_origins` or an `allow_origin_regex` matching any origin, an "
            "error with `allow_credentials=True`), or a response granted CORS access to an arbitrary probe origin, "
            "worst when it echoed that origin back with `Access-Control-Allow-Credentials: true`"
        ),
        fix=(
            'list the exact trusted origins in `allow_origins` (e.g. `["https://app.example.com"]`) '
            "instead of a wildcard"
        ),
        doc=RuleDoc(
            what=(
                'Flags `CORSMiddleware` configured with `"*"` in `allow_origins`, whether written inline, through a '
                "module-level list, a name imported from a project module, or as the default of a setting "
                '(`os.getenv("CORS_ORIGINS") or "*"`, `os.environ.get("CORS_ORIGINS", "*").split(",")`, or the '
                'default a project settings class writes: `settings.cors_origins` where the class says '
                '`cors_origins: list[str] = ["*"]` or `Field(default="*")`, followed to the settings object '
                "through the project's own helpers; an object built with the value given, "
                "`AppSettings(cors_origins=[...])`, is left to that value), and "
                "`allow_origin_regex` patterns that match any origin (such as `.*`). A project subclass of "
                "`CORSMiddleware` is read too: the configuration its `__init__` passes to `super().__init__`, the "
                "arguments it is registered with when it keeps the constructor, and an `is_allowed_origin` "
                "override that answers `True` where the origin was never compared with anything (only tested for "
                "being empty, beside tests of the configuration: `if origin and not self.allow_origins: return "
                "True` admits every site for a deployment that lists no origins). A `True` after a comparison "
                "(`hostname in (\"localhost\", \"127.0.0.1\")`, `origin.endswith(...)`, a rejection guard "
                "earlier in the method) is not flagged. The "
                "message says when `allow_credentials=True` is set as well, which turns the wildcard into an "
                "exploitable hole. At runtime, the guard reports FAA301 when a response granted CORS access to "
                "an arbitrary probe origin, and calls out the worst case: that origin echoed back together with "
                "`Access-Control-Allow-Credentials: true`."
            ),
            why=(
                "CORS is the browser's list of other websites that may read your API's responses. A wildcard "
                "grants that to every site on the internet. For a public, anonymous, read-only API that can be "
                "intended, but most FastAPI backends serve a known front end and authenticate their users, and "
                "there the wildcard only widens the attack surface.\n\n"
                "Together with `allow_credentials=True` it is a vulnerability, not a smell. Browsers refuse "
                "`Access-Control-Allow-Origin: *` on credentialed requests, so Starlette's middleware echoes the "
                "requesting origin back instead whenever the request carries cookies. Any page a logged-in user "
                "happens to visit can then call your API with that user's session and read the answers: "
                "profile data, tokens, anything the user can see. No bug in your own front end is needed."
            ),
            example=_code(
                """\
                from fastapi import FastAPI
                from fastapi.middleware.cors import CORSMiddleware

                app = FastAPI()

                app.add_middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_credentials=True,
                    allow_methods=["*"],
                    allow_headers=["*"],
                )
                """
            ),
            instead=_code(
                """\
                from fastapi import FastAPI
                from fastapi.middleware.cors import CORSMiddleware

                # The exact front-end origins of this environment (load them from settings per deployment).
                ALLOWED_ORIGINS = ["https://app.example.com", "https://admin.example.com"]

                app = FastAPI()

                app.add_middleware(
                    CORSMiddleware,
                    allow_origins=ALLOWED_ORIGINS,
                    allow_credentials=True,
                    allow_methods=["GET", "POST", "PUT", "DELETE"],
                    allow_headers=["Authorization", "Content-Type"],
                )
                """
            ),
            options="None.",
        ),
    )
)

_add(
    Rule(
        code="FAA302",
        slug="unvalidated-request-body",
        title="Unvalidated request body",
        seed=8,
        default_on=True,
        static=(
            "a route's body parameter is typed `dict`/`Dict[...]`/`Mapping` with values of any shape, `Any`, or "
            "left untyped with `Body()`, or the handler reads `await request.json()`/`body()`/`form()` itself, and "
            "the code does not visibly check it or hand it on whole; `Depends` parameters and response types do "
            "not count"
        ),
        runtime=(
            "(probe) a malformed body was accepted instead of rejected, or an oversized value in a string field "
            "with no length bound (the finding names the field and gives its bound)"
        ),
        fix="declare a Pydantic model with typed, bounded fields (`Field(max_length=...)`) as the body parameter",
        doc=RuleDoc(
            what=(
                "Flags route handlers whose request body is not described by a schema: a body parameter "
                "annotated `dict`, `Dict[str, Any]`, `Mapping` or `Any` (values of any shape), an untyped "
                "parameter declared with `Body()`, or a handler that parses the body itself with "
                "`await request.json()`, `await request.body()` or `await request.form()`. A map with a declared "
                "value type (`dict[str, float]`, `dict[str, JsonValue]`) is typed like `list[float]`: its keys "
                "are data, every value is checked, and it is not flagged.\n\n"
                "It follows where the value goes, in the handler and in the project helpers it is passed to "
                "(methods of an interface included, through the implementations its module defines), and a "
                "helper may return it whole or as one item of a tuple. Not flagged: a body checked by a model or "
                "schema (`ChatForm(**payload)`, `Item.model_validate(data)`, `TypeAdapter(...).validate_python`, "
                "a schema model's `deserialize` (`Activity().deserialize(body)`), a `validate`/`verify` call, also on a value derived from the body); a body handed on whole, "
                "possibly copied (`{**payload}`) or serialized (`json.dumps(payload)`), to another service "
                "(`json=`, `content=`, `data=` of an outbound call: a pass-through proxy, also through a name "
                "it is assigned to, `outgoing = body`, or as one side of `body if body else None`) or to such a check, "
                "after reading or rewriting at most three keys (the `model` a proxy routes on); a body read only "
                "by fixed keys, each value type-checked (`isinstance`), compared with a known value (a CSRF "
                "double-submit token, an allow-list) or validated before use (also when read under a test of the "
                "body's type, `body.get(\"token\") if isinstance(body, dict) else None`, when the keys are held "
                "against the set the code allows, `set(body) - {\"name\", \"id\"}`, or when a key read twice "
                "is checked at one of its reads, `validate(body.get(\"id\"))` then `run(body.get(\"id\"))`); and a body read only to pre-buffer "
                "it for a library (`await request.form()` as a statement), or read again, only by keys the "
                "model declares, in a handler that also takes it as a Pydantic model (`request_body: "
                "EvaluationBody`, then `payload[\"experiment_run_id\"]`: FastAPI has validated those values; the "
                "whole raw body stored or iterated beside the model keeps the keys the model drops and stays flagged). A body used in any other way (iterated, "
                "stored, echoed back in a response, read by more keys) stays flagged. Parameters resolved "
                "through `Depends(...)` and the route's response "
                "type are not request bodies and are not flagged. Nor is a route the production app does not "
                "have: one of a router that every `include_router` puts on the app only under a debug or "
                "development switch (`if envs.SERVER_DEV_MODE: register_dev_routers(app)`, as the serving path "
                "of the line-level codes reads it); `faa-scope = all` judges those routes too. When the runtime guard probes the app, it "
                "reports FAA302 if a route accepted a malformed body, or an oversized value in a string field "
                "with no length bound (naming the field, on its line in the model), instead of rejecting it with "
                "a 4xx status."
            ),
            why=(
                "FastAPI's validation is driven by type annotations, and a `dict` or `Any` body switches it off. "
                "Any JSON shape reaches your code: missing keys turn into `None` or empty defaults deep in the "
                "business logic, wrong types raise `TypeError`s that come out as 500s instead of clear 422s, and "
                "unexpected extra keys can flow straight into database writes (mass assignment). Nothing bounds "
                "sizes either, so a multi-megabyte string or a deeply nested document ends up in an LLM prompt, "
                "a log line or a query, where it costs money, memory or both.\n\n"
                "An untyped body also leaves the OpenAPI schema empty, so clients, generated SDKs and gateways "
                "have no contract to check against. A Pydantic model with constrained fields rejects bad input "
                "at the edge, documents the API, and gives the handler typed attributes instead of `.get()` "
                "calls with defaults. Field limits bound what the handler accepts; cap the raw request size at "
                "the reverse proxy or server as well."
            ),
            example=_code(
                """\
                from fastapi import APIRouter, Request

                from myapp.agents import execute

                router = APIRouter()


                @router.post("/agents/run")
                async def run_agent(payload: dict):  # accepts any JSON object
                    return await execute(payload.get("agent_id", ""), payload.get("input_text", ""))


                @router.post("/feedback")
                async def feedback(request: Request):
                    data = await request.json()  # parsed by hand, never validated
                    return {"received": data["rating"]}
                """
            ),
            instead=_code(
                """\
                from fastapi import APIRouter
                from pydantic import BaseModel, ConfigDict, Field

                from myapp.agents import execute

                router = APIRouter()


                class AgentRunRequest(BaseModel):
                    model_config = ConfigDict(extra="forbid")

                    agent_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
                    input_text: str = Field(min_length=1, max_length=50_000)


                class Feedback(BaseModel):
                    rating: int = Field(ge=1, le=5)
                    comment: str | None = Field(default=None, max_length=2_000)


                @router.post("/agents/run")
                async def run_agent(body: AgentRunRequest):
                    return await execute(body.agent_id, body.input_text)


                @router.post("/feedback")
                async def feedback(body: Feedback):
                    return {"received": body.rating}
                """
            ),
            options=(
                "`--faa-scope`: `serving` (the default) leaves out routes only a development switch puts on the "
                "app; `all` judges them too (`faa-scope = all` under `[flake8]`)."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA303",
        slug="exception-details-leaked",
        title="Exception details leaked to the client",
        seed=5,
        default_on=True,
        static=(
            "`str(e)`, `repr(e)`, an f-string of the exception or `traceback.format_exc()` is put into "
            "`HTTPException(detail=...)` or a response body, or the app is created with `debug=True`; logging "
            "the exception is fine"
        ),
        runtime=(
            "a response body carried a traceback, or the text of an exception raised while handling that request"
        ),
        fix='log the exception server-side (`logger.exception(...)`) and send the client a generic message',
        doc=RuleDoc(
            what=(
                "Flags exception text sent to clients: `str(exc)`, `repr(exc)`, f-strings that interpolate the "
                "caught exception, and `traceback.format_exc()` output placed in `HTTPException(detail=...)`, "
                "in a response body, in one of the project's response models that a route handler returns "
                "(`CheckResult(error=str(exc))`), in a websocket message (`send_json`, `send_text`), or in what a "
                "generator handed to `StreamingResponse`/`EventSourceResponse` yields; text serialized on the way "
                "is still the text (`json.dumps`, and a project's alias of it: `JSONCodec.dumps(...)` where its "
                "codec module binds `JSONCodec = json`). It also flags `FastAPI(debug=True)` and `Starlette(debug=True)`, which "
                "render full tracebacks for unhandled errors (not where only a debug or development switch leads, "
                "such as `if in_debug_mode():` or the `else` of `if not settings.debug:`: production does not "
                "take that branch). "
                "Passing the exception to a logger is fine and not "
                "flagged, and so is the text of exceptions written for the client: `HTTPException`, validation "
                "errors, and, in an exception handler registered for it, one of the project's own exception "
                "classes (FastAPI's way of answering a domain error). An `except` of the project's own exception "
                "classes is judged by provenance: the project raised them with text it wrote for the caller "
                "(`raise QuotaExceeded(\"quota of 100 items reached\")`), so sending that text is not a leak, "
                "unless some place in the project builds one of them, or of their subclasses, from another "
                "exception's text (`raise UploadFailed(f\"upload failed: {error}\") from error`; a project "
                "helper in between counts only if it returns that text, not one that picks a message by the "
                "error's type), and only if that text is itself one to hide: built in an `except` of a class "
                "whose text describes its input or is the project's own (followed the same way), around a "
                "`try` that only parses a value (`InvalidJSON(detail=str(e))` around `json.loads(text)`), or "
                "around one that only renders a template in a Jinja sandbox (`SandboxedEnvironment`, "
                "`ImmutableSandboxedEnvironment` or a project class deriving from one: its errors are about the "
                "template), or around one whose calls raise that narrow builtin only with messages the project "
                "wrote (`ModelChoiceError(str(e))` in an `except ValueError` around `provider_of(model)`, which "
                "raises `ValueError(f\"unknown model {model!r}\")`: judged as an `except ValueError` of a route "
                "would be, below), it carries nothing else. So is a "
                "narrow builtin class (`except ValueError`) whose `try` calls a project function or method "
                "(`service.disable(...)` on a project class) that raises it with a message of its own (or with the "
                "text of an error that is no leak by the same measures: `raise ValueError(f\"not a day: {e}\")` in "
                "an `except ValueError` around `datetime.strptime(text, ...)`), and "
                "nothing that could raise it with a library's text (`response.json()`, an HTTP or database client, "
                "the file system); a message the `try` raises itself (`raise ValueError(\"one decision per "
                "skill\")`) counts when the rest of it only parses a value and calls builtins, and so does a "
                "project function that documents the class among what it raises (a `Raises:` section entry "
                "`ValueError: if the job does not exist`, or `:raises ValueError:`), the condition it raises it "
                "for being part of its contract, unless it raises it with another exception's text. A method of a "
                "project class is judged together with the methods of the same name in the project's subclasses, in "
                "any module (a dependency declared as an abstract service runs one of them): their own messages count, "
                "and one that raises the class with another exception's text makes it a leak, also when the message "
                "is built first (`msg = f\"could not validate the key: {exc}\"; raise ValueError(msg) from exc`). "
                "Past the two calls read for the class's own messages, the project functions the `try` reaches "
                "(called, or handed to a project function, six calls deep) are searched for such a rewrap too "
                "(`raise RuntimeError(f\"Failed to load the registry from {path}: {e}\")` around a file read in a "
                "loader the build calls); one whose caught error is no leak itself (a ZIP upload read from memory "
                "that does not open) does not count. "
                "A function handed "
                "to a thread (`asyncio.to_thread(extract, data)`, `run_in_executor`) raises what it raises. "
                "Validation and decode errors describe only the client's data (Pydantic, jsonschema, JSON decoders, "
                "a Jinja template's syntax error, a JWT that failed its checks: `jwt.InvalidTokenError`), and so do parsers of a value (`json.loads`, `base64.b64decode`, "
                "`uuid.UUID`, `datetime.strptime`), `json.dumps` handed no hook of the project's (`default=`, `cls=`: its errors name "
                "the type it could not encode), functions of path strings that touch no file (`os.path.realpath` "
                "unless `strict`, `os.path.normpath`), a project helper that wraps a validation error in its own "
                "message, and a `try` that only builds or validates Pydantic models. A narrow `except` (any class "
                "but `Exception`, `OSError` included) around a `try` that only parses, encodes or normalises a "
                "value and otherwise calls builtins and string or container methods catches only errors about "
                "that value. An exception that "
                "says only that something ended carries nothing internal: a closed stream or connection "
                "(`anyio.BrokenResourceError`, `BrokenPipeError`, `ConnectionResetError`, Starlette's "
                "`ClientDisconnect`) or a cancelled task (`asyncio.CancelledError`, whose arguments are the reason "
                "given to `cancel()`), and a `try` that only reads the request body (`await request.body()`) "
                "raises nothing but `ClientDisconnect`. A `try` that only reads attributes, or only calls the "
                "project's own checks (functions that call nothing but other such checks, builtins and string or "
                "pattern methods, and raise messages the project wrote: `validate_password(form.password)`), raises "
                "nothing else, even under `except Exception`, and a project class built under such a catch from "
                "what they raised carries only their text; such a check may call a schema validator "
                "(`jsonschema.validate`) and re-raise, unchanged, what it caught, or raise a message of its own "
                "with what it caught only as the cause (`raise QuotaError(\"count must be a whole number\") from e`). "
                "An interface method (abstract, or `raise "
                "NotImplementedError`) stands for its implementations and does not count as such a check. "
                "A method called on a typed actor reference (`await (await self._get_supervisor_ref())"
                ".launch_model(name)` with `-> xo.ActorRefType[SupervisorActor]`) runs the actor class's method "
                "and is followed there like any project call. "
                "A project class that some place builds from another error's text (`raise "
                "PlannerUpstreamError(str(exc)) from exc` around an HTTP call) leaks only from a `try` that can "
                "reach such a place: one that calls, names or holds in a local it uses that function, or a function "
                "calling it by name any number of calls deep (route handlers end the chain); a `try` that only "
                "looks a session up and raises the class with the app's own words is not flagged. "
                "A named exception class of an application package (not a "
                "builtin, not a database, HTTP, cloud, OS or parser library) answered with a 4xx describes the "
                "request, and one answered with a 503 the package's own reason for not serving it now (a 500, "
                "502 or 504 passes on what failed); the status may be a number, `status.HTTP_409_CONFLICT`, "
                "`HTTPStatus.CONFLICT` or a module constant holding one. A websocket message has no status: there the "
                "statuses the project answers the same class with elsewhere (its `HTTPException`s in other `except` "
                "clauses of the class) say what it is for. Under a broad catch, the branch of "
                "`if isinstance(exc, PolicyViolation):` is judged like an `except PolicyViolation`, and a "
                "tuple of classes class by class (`except (QuotaExceeded, jsonschema.ValidationError)`; a builtin "
                "of the tuple by what the `try` raises, as if it were caught alone); so is the branch of "
                "`type(exc) is ValueError` (or `==`, or `in` a tuple), in an `if` or a conditional expression, "
                "and since that exact test leaves out every library subclass, also when the `try` raises that "
                "builtin only with messages it wrote (`raise ValueError(\"Chat not found\")`, also in the "
                "functions it defines). A branch that recognises the message by its text (`if \"stream or streaming set "
                "to True\" in str(exc):` with a phrase of three words or more, or `str(exc) == \"flow is empty\"`) "
                "answers only that known message; a word or two (`\"not found\" in str(exc)`) matches errors of any "
                "origin and does not count. A caught exception handed to a project helper is followed into it: a helper that "
                "returns its text (`parse_exception(exc)`), or puts it in an `HTTPException` or response itself "
                "(`raise_upstream_error(exc)`), is reported at the call (a flag the call passes as `True` or `False`, "
                "`raise_for_limits(exc, sanitize=True)`, or leaves at a `True`/`False` default, settles the tests "
                "that read it, `\"Rate limit reached\" if sanitize else str(e)` and `if sanitize and ...:`, unless "
                "the helper rebinds it; where every place the helper puts the text sits under a test that sorts the "
                "exception, judged as that test in a handler would be, the call is not reported: "
                "`if isinstance(e, ContextTooLong):` of the project's own class, `if \"Rate limit reached\" in "
                "message:` with `message = str(e)`); the helper is read through a parameter it "
                "rebinds (`message = str(exc)`), string methods, pattern substitutions (a sanitiser made of "
                "`re.sub` that strips addresses or paths keeps the rest of the message) and the project functions it "
                "calls, except one that chooses by the exception's class what to let through (`if isinstance(exc, "
                "SQLAlchemyError): return fallback`), the project's own policy for its errors. Handed the caught exception "
                "itself (`detail=sanitize_database_error(e, READ_FAILED)`), such a policy holds unless the `try` is "
                "seen to get past it: a call there of a library whose errors carry what it met outside the process "
                "(an HTTP client, `subprocess`, `os`, `shutil`), or a project function within reach (called, or handed "
                "to a call as `run_with_retry(attempt)`) that raises what it caught inside another class (`raise "
                "RuntimeError(msg, e) from e`). So is text made of the exception handed to "
                "a helper that returns or sends that value as it is (`format_error_event(str(exc))`). A local is "
                "followed through every value that may reach the read: what was put into it "
                "(`results.append(Result(error=str(exc)))`, `data[\"error\"] = ...`) before the route returns it, "
                "and an earlier value that a reassignment in a branch leaves in place; of a name set more than once, a "
                "value set in a block that ends in `raise` or `return` does not reach a read after it. A function of the module that returns "
                "the text of an exception it caught (`return None, f\"Clone failed: {e}\"`) is followed into its "
                "callers, item by item of a tuple it returns, and a generator whose items a streamed generator "
                "yields on (`async for event in _events(): yield event`) is streamed too. An exception handler registered "
                "by calling the decorator by hand (`app.exception_handler(Exception)(handler)`), or in another module "
                "of the project, is judged by the classes it is registered for. An `HTTPException` that is not what the "
                "client gets is not a leak as written: one handed to a project function that replaces it unless a "
                "condition on something else lets it through (`raise error_for_client(http_error, "
                "expose_details=caller_owns_flow)`, which returns the error to the flow's owner and a generic one "
                "to anyone else), or one raised in a local function whose every caller catches it and hands it to "
                "such a function. The choice of who may see the details is the project's. "
                "A route only an administrator can "
                "call answers the operator who runs the service (see below), and so does a branch a function has "
                "closed to everyone but administrators (`if url_idx is not None and user.role != \"admin\": raise "
                "...` before the branch taken when `url_idx is not None`). What a function sets or sends only "
                "while a switch for error detail is on is the operator's opt-in, like `FastAPI(debug=True)`: a "
                "debug or development switch, or a setting named for showing errors (`expose_stacktrace`, "
                "`SHOW_ERROR_DETAILS`), read as a name, an attribute, a call or a setting's key "
                "(`if conf.get(\"api\", \"expose_stacktrace\") == \"True\": message = log_message`), in the "
                "body of its `if`, the `else` of `if not settings.DEBUG:`, or after `if not settings.DEBUG: raise "
                "...`; a project helper that sends the text only there counts the same. A parameter is no such "
                "switch (`debug: bool = False` on a route is the client's to set), nor the caught exception, nor "
                "a test joined with `or`. Broad "
                "catches (`Exception`) and library, database, network and OS errors are leaks. At runtime, the guard reports FAA303 when a response body contained a Python traceback "
                "or the message of an exception raised during that same request (not a text written for the client: "
                "an `HTTPException` or validation error, Starlette's `AuthenticationError`, or a string literal of a "
                'function that builds an `HTTPException`); in `mode="enforce"` it also '
                "redacts that content before it reaches the client."
            ),
            why=(
                "Exception messages are written for developers, not for clients. They routinely contain SQL "
                "statements and table names, file paths, internal hostnames and ports, library versions, and "
                "sometimes the very data being processed: a `KeyError` shows the key, an integrity error shows "
                "the conflicting row, an upstream HTTP error shows the internal URL with its query string, API "
                "keys included. Returning that text hands attackers a map of your internals and a way to probe "
                "them one error at a time.\n\n"
                "It also makes error text part of your API contract: clients start matching on messages that "
                "change with every library upgrade. `debug=True` goes further and turns every unhandled error "
                "into a full stack trace with source lines. Keep the details in the logs, correlated by a "
                "request id, and give clients a stable, generic message."
            ),
            example=_code(
                """\
                from fastapi import APIRouter, HTTPException

                from myapp.billing import charge_invoice

                router = APIRouter()


                @router.post("/invoices/{invoice_id}/pay")
                async def pay_invoice(invoice_id: int):
                    try:
                        return await charge_invoice(invoice_id)
                    except Exception as exc:
                        raise HTTPException(status_code=500, detail=str(exc))  # internals sent to the caller
                """
            ),
            instead=_code(
                """\
                import logging

                from fastapi import APIRouter, HTTPException

                from myapp.billing import PaymentDeclined, charge_invoice

                logger = logging.getLogger(__name__)
                router = APIRouter()


                @router.post("/invoices/{invoice_id}/pay")
                async def pay_invoice(invoice_id: int):
                    try:
                        return await charge_invoice(invoice_id)
                    except PaymentDeclined:
                        raise HTTPException(status_code=402, detail="payment declined") from None
                    except Exception:
                        logger.exception("payment failed", extra={"invoice_id": invoice_id})
                        raise HTTPException(status_code=500, detail="payment could not be processed") from None
                """
            ),
            options=(
                'No flake8 option. Runtime guard: `mode="report"` only reports leaked details; `mode="enforce"` '
                "also redacts them from the response before it is sent."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA304",
        slug="missing-catch-all-exception-handler",
        title="No catch-all exception handler",
        seed=5,
        default_on=True,
        static=(
            "the app registers no handler for `Exception`, neither with the `exception_handler` decorator nor "
            "with `add_exception_handler`"
        ),
        runtime="an exception escaped the app; reported with the place it was raised",
        fix="register `@app.exception_handler(Exception)` that logs the error and returns a generic JSON 500",
        doc=RuleDoc(
            what=(
                "Flags a `FastAPI(...)` or `Starlette(...)` application that has no handler registered for "
                "`Exception`, either with the `@app.exception_handler(Exception)` decorator or with "
                "`app.add_exception_handler(Exception, handler)`, or with a catch-all written as middleware: an ASGI "
                "class or an `@app.middleware(\"http\")` function (also `app.middleware(\"http\")(handler)`) whose "
                "`try` around the app catches `Exception` and answers (a middleware whose handler only cleans up "
                "and re-raises, such as a session rollback, answers nothing). The finding is placed on the line that creates "
                "the app. An app mounted on another one is checked on its own, because it answers its own "
                "unhandled errors, unless it serves a built browser front end (`app.frontend(...)`, or a "
                "`StaticFiles(..., html=True)` mount): its pages fail as pages, no client of it parses an error "
                "body, and the app that serves the API is the one judged. An app that only mounts others, besides "
                "routes left out of the API schema (`include_in_schema=False`: a redirect to the docs, a page), "
                "has no API route of its own to fail and is not reported. A handler registered by a project "
                "function or class method the app is handed to (`setup_errors(app)`, "
                "`ErrorHandler.configure_app(app)`) counts. Arguments passed as `**mapping` are read when the mapping is a dict "
                "written in the module (`FastAPI(**METADATA)`); one that cannot be read "
                "(`FastAPI(**settings.app_kwargs)`) may hold the handlers, and the app is not reported. Nor is an "
                "app bound to no name and not returned, with no routes (`startup(FastAPI())`, `{\"app\": FastAPI()}`): "
                "a stand-in, not a service. Apps built in pytest modules (`test_*.py`, `*_test.py`, `conftest.py`) are "
                "test fixtures and are not reported. At runtime, the guard reports FAA304 whenever an exception "
                "propagates out of the "
                'application, with the location where it was raised; in `mode="enforce"` it also turns the '
                "escaped exception into a generic 500 response."
                " One app built in the two branches of an `if` (`app = FastAPI(debug=True)` when debugging, "
                "`app = FastAPI()` otherwise) is judged once, at the shape production runs."
            ),
            why=(
                "Without a catch-all handler, an unexpected error falls through to the framework's default: a "
                "bare `text/plain` 'Internal Server Error' that does not match the JSON error format your "
                "clients parse, carries no request id that support could correlate, and is logged only as an "
                "uncaught traceback by the server, outside your structured logging and metrics. If `debug=True` "
                "was left on by mistake, the same path sends the full traceback to the caller.\n\n"
                "A handler for `Exception` is the one place where every unexpected failure is logged with "
                "request context, counted, and turned into a stable response shape. It is also the safety net "
                "behind FAA303: even when a route forgets to catch something, nothing internal reaches the "
                "client."
            ),
            example=_code(
                """\
                from fastapi import FastAPI

                from myapp.routes import router

                app = FastAPI()
                app.include_router(router)
                """
            ),
            instead=_code(
                """\
                import logging

                from fastapi import FastAPI, Request
                from fastapi.responses import JSONResponse

                from myapp.routes import router

                logger = logging.getLogger(__name__)

                app = FastAPI()
                app.include_router(router)


                @app.exception_handler(Exception)
                async def unhandled_error(request: Request, exc: Exception) -> JSONResponse:
                    request_id = request.headers.get("x-request-id", "-")
                    logger.error(
                        "unhandled error on %s %s",
                        request.method,
                        request.url.path,
                        exc_info=exc,
                        extra={"request_id": request_id},
                    )
                    body = {"error": "internal_error", "message": "Internal server error", "request_id": request_id}
                    return JSONResponse(status_code=500, content=body)
                """
            ),
            options=(
                'No flake8 option. Runtime guard: `mode="report"` only reports escaped exceptions; '
                '`mode="enforce"` also answers them with a generic 500.'
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA305",
        slug="missing-rate-limit",
        title="No rate limiting",
        seed=4,
        default_on=True,
        static=(
            "the app has routes but no rate limiter (slowapi, fastapi-limiter, a middleware or dependency whose "
            "name says rate limit or throttle, or a configured name)"
        ),
        runtime="(probe) a burst of requests to one route drew no 429",
        fix='add a rate limiter keyed by client or API key, e.g. slowapi\'s `@limiter.limit("10/minute")`',
        doc=RuleDoc(
            what=(
                "Flags an application that defines routes but shows no rate limiting anywhere: no slowapi or "
                "fastapi-limiter, no middleware or dependency whose name says rate limit or throttle, and none "
                "of the names given with `--faa-rate-limit-names` (a name bound to a limit on concurrency, "
                "such as anyio's `CapacityLimiter` or an `asyncio.Semaphore`, does not count: it does not slow "
                "a client down). The finding is placed on the "
                "`FastAPI(...)`/`Starlette(...)` call. An app that another app mounts, in the same module or in "
                "another module of the project (`app.mount(\"/v1\", v1)`, `Mount(\"/v1\", app=v1)`, "
                "`Host(\"api.example.com\", app=v1)`, with `v1` built there, imported, or returned by a project "
                "factory such as `v1 = create_v1()`), is not reported on its own: its routes count as the outer app's, "
                "where a limiter covers both (a mount in a test module does not count). An app given a "
                "`**mapping` that cannot be read, or that passes `routes` or `middleware`, is not reported. Apps built in pytest modules (`test_*.py`, "
                "`*_test.py`, `conftest.py`) are test fixtures and are not reported. When the runtime guard "
                "probes the app, it sends a burst of "
                "requests to one route and reports FAA305 if none of them was answered with 429."
            ),
            why=(
                "Without a limit, a single client (a buggy retry loop, a scraper, a credential-stuffing script, "
                "someone's runaway automation) gets all the capacity it can generate. Routes that fan out to "
                "expensive backends make this a billing problem as much as an availability one: every "
                "unthrottled call to an LLM-backed route is tokens you pay for, and a loop hitting it overnight "
                "ends as a surprise invoice or an exhausted provider quota that locks out every other user.\n\n"
                "Limits also protect login, sign-up and password-reset flows against brute force, and they give "
                "well-behaved clients a clear 429 instead of timeouts when the service is saturated. Keep the "
                "counters in shared storage (Redis) so the limit holds across workers and replicas. If an API "
                "gateway already enforces limits, name its integration in `--faa-rate-limit-names` or silence "
                "the finding on the app line with `# noqa: FAA305`."
            ),
            example=_code(
                """\
                from fastapi import FastAPI
                from pydantic import BaseModel, Field

                from myapp.agents import execute

                app = FastAPI()


                class AgentRunRequest(BaseModel):
                    input_text: str = Field(min_length=1, max_length=20_000)


                @app.post("/agents/run")
                async def run_agent(body: AgentRunRequest):  # every call costs LLM tokens, with no cap
                    return await execute(body.input_text)
                """
            ),
            instead=_code(
                """\
                from fastapi import FastAPI, Request
                from pydantic import BaseModel, Field
                from slowapi import Limiter, _rate_limit_exceeded_handler
                from slowapi.errors import RateLimitExceeded
                from slowapi.util import get_remote_address

                from myapp.agents import execute

                # Counters in Redis so the limit holds across workers and replicas. Behind a proxy, set
                # uvicorn's --forwarded-allow-ips (or key on the API key) so clients are not all one address.
                limiter = Limiter(key_func=get_remote_address, storage_uri="redis://cache.internal:6379/1")

                app = FastAPI()
                app.state.limiter = limiter
                app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)


                class AgentRunRequest(BaseModel):
                    input_text: str = Field(min_length=1, max_length=20_000)


                @app.post("/agents/run")
                @limiter.limit("10/minute")
                async def run_agent(request: Request, body: AgentRunRequest):  # slowapi needs `request`
                    return await execute(body.input_text)
                """
            ),
            options=(
                "`--faa-rate-limit-names`: comma-separated extra names (modules, classes, functions) that count "
                "as a rate limiter, e.g. `faa-rate-limit-names = myapp.quota.QuotaMiddleware` under `[flake8]` "
                "in setup.cfg. No runtime-guard parameter."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA401",
        slug="missing-health-route",
        title="No health or readiness route",
        seed=6,
        default_on=True,
        static=(
            "no route at a health path (`/health`, `/healthz`, `/ready`, `/readyz`, `/live`, `/livez`, `/ping` or "
            "configured paths) on the app, the routers it includes or the apps mounted with it"
        ),
        runtime="at startup, the app's route table has no health path",
        fix=(
            "add a cheap liveness route (`GET /healthz`) and a readiness route (`GET /readyz`) "
            "that answers 503 while dependencies are down"
        ),
        doc=RuleDoc(
            what=(
                "Flags an application whose routes, including those of the routers passed to `include_router` "
                "and of the apps it mounts from its module or other project modules (under the mount path; "
                "`app.mount(...)`, `Mount(...)` and `Host(...)`, with the mounted app built there, imported, or "
                "returned by a project factory such as `ui = create_ui_app()`), contain no health path: "
                "`/health`, `/healthz`, `/ready`, `/readyz`, `/live`, `/livez`, `/ping`, or the paths set with "
                "`--faa-health-paths`. With the default paths, a probe word anywhere in the path counts too "
                "(`/api/v1/utils/health-check/`: health, healthz, healthcheck, ready, readyz, readiness, live, "
                "livez, liveness, ping). A path the project's deployment files probe counts as well, whatever "
                "its words: a Dockerfile `HEALTHCHECK` URL, a compose `healthcheck` `test:` URL, a Kubernetes or "
                "Helm `httpGet` probe `path:` (files read from the project root, four directories deep: "
                "`Dockerfile*`, `*.Dockerfile`, `Containerfile`, `docker-compose*.yml`, `compose*.yml`, and YAML "
                "manifests of a Kubernetes workload or with probes). An app handed to a project function that adds routes to it "
                "(`register_api_routers(app)`, followed through the functions it hands the app on to) may get "
                "its probe there and is not reported. The finding is placed on the line that creates the app. "
                "Mounts are followed both ways: an app that another app mounts or routes by host, in its module "
                "or another project module (not a test module), including one a factory builds and the "
                "factory's caller mounts, is not reported on its own, since probes reach it through the app at "
                "the root of the mount tree, which is judged with every app mounted into it: a UI app mounted "
                "at `/` beside an API app that serves `/api/health` is not reported, and when no app of the tree "
                "serves a health path the root app is reported once. Nor is an app given a `**mapping` "
                "that cannot be read, or that passes `routes` or `middleware` (which may answer the probe), nor an app "
                "bound to no name and not returned, with no routes (`startup(FastAPI())`). Apps built in pytest modules (`test_*.py`, `*_test.py`, `conftest.py`) are test "
                "fixtures and are not reported. At runtime, the guard inspects the route table when the app "
                "starts and reports FAA401 if "
                "none of its `health_paths` is served."
            ),
            why=(
                "Orchestrators and load balancers decide where traffic goes by probing an endpoint. Without one, "
                "Kubernetes can only check that the port accepts connections, so a worker whose event loop is "
                "wedged or whose database pool is exhausted keeps receiving traffic; during deploys, new pods get "
                "requests before they have connected to their dependencies. Teams then point probes at a real "
                "endpoint such as `/` or `/docs`, which costs work on every probe and fails for unrelated "
                "reasons.\n\n"
                "Keep the two questions apart. Liveness ('is this process still working?') must be cheap and "
                "must not depend on the database: if it does, a short database outage makes the orchestrator "
                "restart every pod at once. Readiness ('should this pod get traffic right now?') checks the "
                "dependencies the pod needs and answers 503 while they are unavailable, so traffic moves away "
                "without any restart."
            ),
            example=_code(
                """\
                from fastapi import FastAPI

                from myapp.routes import router

                app = FastAPI()  # nothing for the orchestrator or load balancer to probe
                app.include_router(router, prefix="/api")
                """
            ),
            instead=_code(
                """\
                from fastapi import FastAPI, Request
                from fastapi.responses import JSONResponse
                from sqlalchemy import text

                from myapp.routes import router

                app = FastAPI()
                app.include_router(router, prefix="/api")


                @app.get("/healthz", include_in_schema=False)
                async def liveness():
                    return {"status": "ok"}  # no dependency checks here


                @app.get("/readyz", include_in_schema=False)
                async def readiness(request: Request):
                    checks = {}
                    try:
                        async with request.app.state.sessions() as session:
                            await session.execute(text("SELECT 1"))
                        checks["database"] = "ok"
                    except Exception:
                        checks["database"] = "unavailable"
                    try:
                        await request.app.state.redis.ping()
                        checks["redis"] = "ok"
                    except Exception:
                        checks["redis"] = "unavailable"
                    ready = all(state == "ok" for state in checks.values())
                    return JSONResponse(
                        status_code=200 if ready else 503,
                        content={"status": "ready" if ready else "degraded", "checks": checks},
                    )
                """
            ),
            options=(
                "`--faa-health-paths`: comma-separated route paths that count as health or readiness checks, "
                "replacing the default list, e.g. `faa-health-paths = /health,/status/live` under `[flake8]` in "
                "setup.cfg. Runtime guard: `health_paths`, the same list for the check at startup."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA402",
        slug="print-for-logging",
        title="print() used for logging",
        seed=11,
        default_on=True,
        static="`print(...)` in a module that imports fastapi or starlette",
        runtime=(
            "something was written to stdout while a request was being handled; reported at the line that "
            "wrote it"
        ),
        fix="log through a module logger (`logger = logging.getLogger(__name__)`, `logger.info(...)`) or structlog",
        doc=RuleDoc(
            what=(
                "Flags every `print(...)` call in a module that imports `fastapi` or `starlette`, that is, in "
                "application code rather than in stand-alone scripts; pytest test functions and fixtures in such "
                "a module are test code (pytest captures their output) and are skipped, and so is a command-line "
                "module's output (one that imports click or typer) outside its route handlers. A module that "
                "imports neither (a model class, a search helper) is judged too, where the serving path finds a "
                "route that reaches the print. A `print(..., file=sys.stderr)` is reported too (the message says "
                "stderr); a `print(..., file=handle)` into a file the code opened writes data, not log output, and "
                "is not. Nor is a print under `if verbose:` where `verbose` is a parameter of the function off "
                "by default (`verbose: bool = False`), not reassigned in it, that no call of the function in the "
                "project turns on (each passes `False` or nothing; a variable passed counts as on, and so does "
                "the function handed on, `add_task(embed, doc, verbose=True)`, or imported under another name); "
                "a route's own parameter (`debug: bool = False`) is the client's to turn on and stays reported. Code that runs in a remote worker or sandbox (a function decorated with `@ray.remote` or "
                "Modal's `@app.function(...)`) is not the server's output. At runtime, the "
                "guard reports FAA402 when "
                "anything is written to standard output while a request is being handled, attributed to the "
                "line of your code that wrote it."
            ),
            why=(
                "`print` output has no level, timestamp, logger name or request context, so it cannot be "
                "filtered, sampled, routed or alerted on, and in a JSON log pipeline it arrives as lines that "
                "do not parse. With several workers and concurrent requests, lines interleave with nothing to "
                "tell them apart. When stdout is a pipe, as in a container, Python buffers it in blocks, so "
                "prints show up late or are lost when the process is killed, which is exactly when you need "
                "them.\n\n"
                "Prints also tend to dump whole objects (request bodies, user records, tokens) into log storage "
                "that was never meant to hold personal data or secrets. A logger records each event with a "
                "level and fields chosen on purpose, and one configuration decides where it goes and in which "
                "format."
            ),
            example=_code(
                """\
                from fastapi import APIRouter
                from pydantic import BaseModel

                from myapp.agents import execute

                router = APIRouter()


                class AgentRunRequest(BaseModel):
                    agent_id: str
                    input_text: str


                @router.post("/agents/run")
                async def run_agent(body: AgentRunRequest):
                    print(f"running agent {body.agent_id}")
                    result = await execute(body.agent_id, body.input_text)
                    print(f"agent done: {result.status}")
                    return result
                """
            ),
            instead=_code(
                """\
                import logging

                from fastapi import APIRouter
                from pydantic import BaseModel

                from myapp.agents import execute

                logger = logging.getLogger(__name__)
                router = APIRouter()


                class AgentRunRequest(BaseModel):
                    agent_id: str
                    input_text: str


                @router.post("/agents/run")
                async def run_agent(body: AgentRunRequest):
                    logger.info("agent run started", extra={"agent_id": body.agent_id})
                    result = await execute(body.agent_id, body.input_text)
                    logger.info("agent run finished", extra={"agent_id": body.agent_id, "status": result.status})
                    return result
                """
            ),
            options="None.",
        ),
    )
)

_add(
    Rule(
        code="FAA403",
        slug="single-worker-server",
        title="Single-worker server",
        seed=9,
        default_on=False,
        static=(
            "the deployed command (Dockerfile, compose, Procfile) or a production `uvicorn.run(...)` runs one worker "
            "with no orchestrator or gunicorn configuration in sight (development launchers left alone)"
        ),
        runtime=None,
        fix=(
            "pass an explicit `workers=` (e.g. from WEB_CONCURRENCY; 1 is right under an orchestrator), "
            "or run gunicorn with `uvicorn.workers.UvicornWorker`"
        ),
        doc=RuleDoc(
            what=(
                "Opt-in. Judges the command the app is deployed with. The project's deployment files are read "
                "first (from the project root, four directories deep): a Dockerfile's `CMD`/`ENTRYPOINT` "
                "(`Dockerfile*`, `*.Dockerfile`, `Containerfile`), a compose file's `command:`, a `Procfile`, "
                "Kubernetes or Helm manifests, a gunicorn configuration (`gunicorn.conf.py`, `gunicorn_conf.py`, "
                "`gunicorn_config.py`). When they show the app scaled (a Kubernetes workload or compose "
                "`replicas`, a gunicorn configuration, a server command with `--workers`/`-w` other than 1 or "
                "`WEB_CONCURRENCY`), nothing is reported: one worker per container is right under an "
                "orchestrator. When they start a server with one process (`CMD uvicorn app.main:app`), the "
                "finding is placed on the app that command serves (`app = FastAPI()` in `app/main.py`) and "
                "names the file and line of the command. In code, `uvicorn.run(...)` calls that start one "
                "process (no `workers`, or `workers=1`) are flagged, except development launchers, which are "
                "not the deployment: a call with `reload=True` (an auto-reloading server for editing code), or "
                "with `reload=reload` in a command whose `reload` parameter defaults to `True` (`def dev(reload: "
                "bool = True)`, `typer.Option(True)`) and that no call in its module passes anything else, a call "
                "under `if __name__ == \"__main__\":` (`python main.py` on a developer's machine), and in a "
                "package's `__main__.py` a call in a function only that guard names (`main()` called there and "
                "named nowhere else in the module, not in `__all__`, and not a console script of the project's "
                "`pyproject.toml`, `setup.cfg` or `setup.py`). Nor is a module that serves with more processes "
                "another way: one that runs gunicorn (its workers are the scaled path; the `uvicorn.run` beside "
                "it is a mode, such as a platform gunicorn does not run on), or hands the function around the call "
                "to `multiprocessing.Process(target=...)` in a loop "
                "(one process of a pool it starts itself; a single process started and joined is still one). A "
                "call whose options come from `**kwargs` is not judged. Only the static check reports this "
                "code; the runtime guard does not."
            ),
            why=(
                "A Uvicorn process runs one event loop on one CPU core. All CPU work (serializing large "
                "responses, validation, template rendering, a blocking call that slipped through) competes for "
                "that core, and a crash or a stall takes all of the capacity with it. On a multi-core VM most "
                "of the machine sits idle while latency climbs.\n\n"
                "The rule is off by default because one worker per container is the right design under "
                "Kubernetes, ECS and similar orchestrators: they scale replicas, restart failed ones, and see "
                "accurate per-process CPU and memory figures. Enable it for deployments on VMs or single hosts "
                "where the process manager is the only way to use the cores, and make the count explicit "
                "(usually from `WEB_CONCURRENCY`), or run gunicorn with `uvicorn.workers.UvicornWorker`."
            ),
            example=_code(
                """\
                import uvicorn


                def serve() -> None:  # the console script the image runs
                    uvicorn.run("myapp.main:app", host="0.0.0.0", port=8000)
                """
            ),
            instead=_code(
                """\
                import os

                import uvicorn


                def serve() -> None:
                    uvicorn.run(
                        "myapp.main:app",  # an import string is required for more than one worker
                        host="0.0.0.0",
                        port=8000,
                        workers=int(os.environ.get("WEB_CONCURRENCY", "4")),
                    )
                """
            ),
            options=(
                "None. The rule is off by default: enable it with `--extend-select FAA403` (or "
                "`extend-select = FAA403` in the config file)."
            ),
        ),
    )
)

_add(
    Rule(
        code="FAA404",
        slug="base-http-middleware",
        title="BaseHTTPMiddleware in the stack",
        seed=0,
        default_on=True,
        static="a class derives from Starlette's `BaseHTTPMiddleware`, or a function is registered with `@app.middleware(\"http\")`",
        runtime=None,
        fix=(
            "write a pure ASGI middleware (a class with `async def __call__(self, scope, receive, send)`) "
            'instead of subclassing BaseHTTPMiddleware or registering a function with `@app.middleware("http")`'
        ),
        doc=RuleDoc(
            what=(
                "Flags class definitions that derive from Starlette's `BaseHTTPMiddleware` "
                "(`starlette.middleware.base.BaseHTTPMiddleware`), and functions registered as middleware with "
                '`@app.middleware("http")` or `app.middleware("http")(func)` (the type given by position or as '
                '`middleware_type="http"`), which Starlette wraps in that class. '
                "Left alone: in a project that builds an app, a subclass the project never names outside its `class` "
                "statement (no app adds it); a registration only a debug or development switch makes (`if settings.debug:`), a "
                "function looked up at run time from the operator's configuration (a plugin hook), and pytest "
                "modules (`test_*.py`, `*_test.py`, `conftest.py`), whose apps are fixtures. "
                "Only the static check reports this code; the runtime guard does not."
            ),
            why=(
                "`BaseHTTPMiddleware` lets a middleware look like a simple request-in, response-out function, "
                "but to do that, on every call, it starts a new task for the rest of the app, builds a wrapped "
                "copy of the request, and passes the response body back through an in-memory stream. That costs "
                "throughput on every request, once per such middleware in the stack. A `contextvars` value set "
                "further down (in a dependency, a route, an inner middleware) is set in that other task and is "
                "not seen by the middleware after `call_next` returns, which breaks request-scoped context such "
                "as tracing spans, request ids and session scopes. (Older Starlette releases also broke "
                "background tasks and streaming in this class; current ones fixed those, the costs above "
                "remain.)\n\n"
                "A pure ASGI middleware sees the raw `scope`, `receive` and `send` and runs in the same task as "
                "the request. It adds almost no overhead, lets streaming responses pass through untouched, and "
                "keeps context variables intact; for the usual jobs (adding headers, timing, request ids) it is "
                'barely longer than a `dispatch` method. The `@app.middleware("http")` decorator is built on '
                "the same class and has the same costs."
            ),
            example=_code(
                """\
                import time

                from fastapi import FastAPI, Request
                from starlette.middleware.base import BaseHTTPMiddleware


                class TimingMiddleware(BaseHTTPMiddleware):
                    async def dispatch(self, request: Request, call_next):
                        start = time.perf_counter()
                        response = await call_next(request)
                        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
                        return response


                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                """
            ),
            instead=_code(
                """\
                import time

                from fastapi import FastAPI
                from starlette.datastructures import MutableHeaders
                from starlette.types import ASGIApp, Message, Receive, Scope, Send


                class TimingMiddleware:
                    def __init__(self, app: ASGIApp) -> None:
                        self.app = app

                    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
                        if scope["type"] != "http":
                            await self.app(scope, receive, send)
                            return
                        start = time.perf_counter()

                        async def send_with_timing(message: Message) -> None:
                            if message["type"] == "http.response.start":
                                message.setdefault("headers", [])
                                headers = MutableHeaders(scope=message)
                                headers.append("Server-Timing", f"app;dur={(time.perf_counter() - start) * 1000:.1f}")
                            await send(message)

                        await self.app(scope, receive, send_with_timing)


                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                """
            ),
            options="None.",
        ),
    )
)


# -- what the line-level codes share: where they are reported --------------------------------------

SERVING_CODES = ("FAA101", "FAA102", "FAA103", "FAA204", "FAA205", "FAA303", "FAA402")
SERVING_SCOPE = (
    "\n\nWhere it is reported: where a running app reaches the code while serving requests. Route "
    "handlers, their dependencies (`Depends`, `Security`), middleware, exception handlers, background work "
    "started from them or from the lifespan (`add_task`, `create_task`, task groups), and whatever those call, "
    "followed across the project's modules; the message names a route or entry that reaches the code "
    "(`reached from GET /users/{user_id} (app/routes.py:14) and 2 more`). Not reported: command-line programs "
    "(typer/click commands, the `if __name__ == \"__main__\":` block, a module-level `asyncio.run(...)`), "
    "functions nothing in the project calls or names, code only test modules call, start-up and shutdown work "
    "(the lifespan, including a function decorated with a `lifespan` wrapper such as "
    "`@svcs.fastapi.lifespan`, `on_event` handlers, a function that starts the server or calls the function of its module "
    "that does), output written at import, and "
    "code only a debug or development switch runs: called only under `if settings.DEBUG:` (or past `if not "
    "settings.debug: return`), or a route of a router that every `include_router` puts on the app only under "
    "such a switch (`if envs.SERVER_DEV_MODE: register_dev_routers(app)`), followed through the functions and "
    "function-local imports (`from .rpc import attach_router as attach_rpc_router`) in between. A function "
    "nothing known calls that runs `asyncio.run(main(args))` is a program's entry point, so `main` is not "
    "served either. Calls "
    "are matched to functions by name and imports: a use the analysis cannot settle (a name used in too many "
    "files, a function a library's decorator registers, a method a library base class calls) counts as "
    "reached. A method of a class the project never names (never built, subclassed or spelled in a string "
    "that could name it for a look-up, such as `import_string(\"app.Logger\")`; other modules may import it and "
    "write it in annotations) has no instance to be called on, so `worker.start()` does not reach it. Its "
    "bases may be the project's own, `ABC` or `Generic`, when none has a metaclass, a registering decorator or "
    "`__init_subclass__` and the project never asks for `__subclasses__()` (then a base typed parameter, "
    "`interface: AgentInterface`, does not reach the method of a subclass nothing builds); nor does a "
    "method of a class defined in a program's module (one with a `__main__` block that imports no web "
    "framework and no server (uvicorn, gunicorn, hypercorn, granian, daphne) and that no other project "
    "file imports, names in an import string or loads by a built name (`import_module(f\"agent.tools.{name}\")`): "
    "a maintenance tool under `tools/`, re-exported at most by its package's `__init__`), since its objects "
    "live only in that program; and a method called on a library module or object imported at the top of "
    "the module (`json.load(f)`, `os.path.exists(p)`) or on a module-level object a library class made "
    "(`redis_client = redis.Redis(...)`) is that library's, never a project method of the same name (a "
    "name a function binds, or the function it is nested in, is judged by that binding instead). An "
    "object declared as a project class that is neither the method's class, nor a base or subclass of "
    "it (`self.doc_status: DocStatusStorage` against `JsonKVStorage.initialize`), nor a protocol or a "
    "proxy, runs the method only through a class deriving from both, and the project's subclasses are "
    "searched for one; a receiver that is a parameter of the function a route is defined in "
    "(`create_routes(rag: Rag)`) is read there; a dependency (`= Depends(...)`) may be overridden and "
    "is never judged by its declared class alone, a library base of the declared class (a proxy) "
    "makes it no unrelated class, and a declaration whose value builds the method's class "
    "(`self.sms: BaseNotifier = SmsNotifier()`) counts as that class. A method nothing calls counts as unreached unless "
    "its class, a project base or a subclass of it has a base the project does not define (a library base may "
    "call it; `ABC`, `Generic` and `Protocol` call nothing), looks methods up by a computed name "
    "(`getattr(self, f\"on_{kind}\")`), has a class decorator that may collect them or defines "
    "`__init_subclass__`, or the subclasses cannot all be found. `self.m()` in a class that defines `m` "
    "itself runs that `m`, not a same-named method of an unrelated class, unless a subclass of it puts "
    "that class first in its method order (`class ItemService(HttpFetchMixin, BaseService)`, also with "
    "the mixin imported under another name), or the subclasses cannot all be found. "
    "A project with neither an app nor a router is a library used by someone else's app: every "
    "function is judged."
)
SCOPE_OPTION = (
    "`--faa-scope`: `serving` (the default) reports only what the serving path reaches; `all` judges every "
    "function, command-line programs, start-up code and development-only routes included (`faa-scope = all` "
    "under `[flake8]`)."
)


OPERATOR_QUIET_CODES = ("FAA102", "FAA204", "FAA205", "FAA303")
OPERATOR_ROUTES = (
    "\n\nRoutes only an administrator can call are left alone: a route with a `Depends`/`Security` on a "
    "dependency named for administrators (`get_admin_user`, `require_superuser`), given as a parameter's "
    "default, in its `Annotated` type or a module-level alias of it (`Superuser = Annotated[User, "
    "Depends(get_current_active_superuser)]`), in the decorator's `dependencies=[...]` or the router's "
    "(`APIRouter(dependencies=[Depends(get_admin_user)])`). They are the operator's tools, called rarely by "
    "the people who run the service. Code such routes reach is left alone only when every route that reaches "
    "it is one; for FAA102 only local file work (`open`, `Path` reads and writes, `shutil`, archives) is, while a "
    "subprocess, a network call or a sleep is still reported."
)
OPERATOR_OPTION = (
    "`--faa-operator-routes`: `quiet` (the default) leaves routes only an administrator can call alone as "
    "described above; `judge` reports them like any other route (`faa-operator-routes = judge` under `[flake8]`)."
)


def _operator_routes(rule: Rule) -> Rule:
    from dataclasses import replace

    return replace(
        rule, doc=replace(rule.doc, what=rule.doc.what + OPERATOR_ROUTES, options=f"{rule.doc.options}\n\n{OPERATOR_OPTION}")
    )


def _serving_scope(rule: Rule) -> Rule:
    from dataclasses import replace

    options = SCOPE_OPTION if rule.doc.options == "None." else f"{rule.doc.options}\n\n{SCOPE_OPTION}"
    return replace(rule, doc=replace(rule.doc, what=rule.doc.what + SERVING_SCOPE, options=options))


for _serving_code in SERVING_CODES:
    CATALOGUE[_serving_code] = _serving_scope(CATALOGUE[_serving_code])
for _operator_code in OPERATOR_QUIET_CODES:
    CATALOGUE[_operator_code] = _operator_routes(CATALOGUE[_operator_code])


def get(code: str) -> Rule:
    """The rule for ``code``; raises KeyError with the known codes listed."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"unknown FAA code {code!r}; known: {', '.join(CATALOGUE)}") from None


def opt_in_codes() -> list[str]:
    """Codes that are off unless selected (flake8's default ignore list)."""
    return [code for code, rule in CATALOGUE.items() if not rule.default_on]
