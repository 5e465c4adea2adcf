"""Which calls block the event loop, and which are LLM/agent calls: the data, and how to read it.

The tables describe libraries as *kinds* of objects.  A kind says which of
its methods block, what its other methods and attributes return, and which
of its call chains are LLM requests.  A symbolic value path in the format of
``Names.value_path`` (``sqlalchemy.orm.sessionmaker()().query()``) is read
left to right against them: the longest known callable or object at the
front gives the first kind, every further ``.attr`` or ``.method()`` moves to
the next one, and the last call gets a ``Verdict``.

Anything the tables do not describe gives no verdict: an unknown method on a
known kind, an awaited receiver, a same-module function (``<module>.f``).
Async twins (``AsyncSession``, ``redis.asyncio``, ``httpx.AsyncClient``,
``AsyncOpenAI``...) are simply absent from the blocking tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Family = Literal["db", "io"]
"""``db``: a synchronous database driver (FAA101); ``io``: any other blocking call (FAA102)."""

ANY = "*"
"""In ``Kind.attributes``/``Kind.returns``: every name not listed explicitly."""
SAME = "="
"""As a target kind: the kind does not change (``client.chat.completions`` is still the client)."""


@dataclass(frozen=True)
class Kind:
    label: str
    """How messages name the kind: ``Session`` -> ``Session.query``."""
    family: Family = "io"
    blocking: frozenset[str] = frozenset()
    """Methods whose call blocks."""
    any_method_blocks: bool = False
    """Every method call blocks except ``safe_methods`` (network clients whose every method is a request)."""
    safe_methods: frozenset[str] = frozenset()
    returns: Mapping[str, str] = field(default_factory=dict)
    """method -> kind of its result (``SAME``, or ``ANY`` as the key for every other method)."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """attribute -> kind; ``{ANY: SAME}`` keeps the kind and records the attribute in the call chain."""
    on_call: str | None = None
    """The kind obtained by calling an instance (``sessionmaker()()`` is a Session)."""
    llm_calls: frozenset[str] = frozenset()
    """Call chains relative to the kind that are LLM requests (``chat.completions.create``)."""
    llm_methods: frozenset[str] = frozenset()
    """Method names that are LLM requests whatever the chain before them."""
    llm_blocking: bool = False
    """LLM requests on this kind are synchronous (so also blocking, FAA102)."""

    def method_blocks(self, method: str) -> bool:
        if method in self.blocking:
            return True
        return self.any_method_blocks and method not in self.safe_methods


@dataclass(frozen=True)
class Entry:
    """A callable or object known by its qualified name."""

    kind: str | None = None
    """The kind of the value it produces (for a callable: its result; for an object: itself)."""
    blocks: bool = False
    """Calling it blocks."""
    family: Family = "io"
    llm: bool = False
    """Calling it is an LLM request."""
    is_object: bool = False
    """A module-level object (``openai.chat``) rather than a callable."""


@dataclass(frozen=True)
class Verdict:
    """What one call is, as far as these rules care."""

    what: str
    """How messages name the call: ``Session.query``, ``time.sleep``."""
    blocking: Family | None
    llm: bool = False


def _names(*values: str) -> frozenset[str]:
    return frozenset(values)


# -- SQLAlchemy / SQLModel ----------------------------------------------------
_SESSION_IO = _names(
    "execute", "query", "get", "get_one", "scalar", "scalars", "commit", "rollback",
    "flush", "refresh", "merge", "connection", "exec",
)  # fmt: skip
_CONNECTION_IO = _names("execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback")

# -- DB-API drivers -----------------------------------------------------------
_DBAPI_CONNECTION_IO = _names(
    "execute", "executemany", "executescript", "commit", "rollback", "transaction", "ping", "select_db", "backup",
)  # fmt: skip
_DBAPI_CURSOR_IO = _names(
    "execute", "executemany", "executescript", "callproc", "copy", "copy_expert", "copy_from", "copy_to", "nextset",
)  # fmt: skip
# driver -> (functions that open a connection, annotation-only connection classes, pool classes)
_DBAPI_DRIVERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "psycopg2": (
        ("psycopg2.connect",),
        ("psycopg2.extensions.connection",),
        ("psycopg2.pool.SimpleConnectionPool", "psycopg2.pool.ThreadedConnectionPool"),
    ),
    "psycopg": (
        ("psycopg.connect", "psycopg.Connection.connect"),
        ("psycopg.Connection",),
        ("psycopg_pool.ConnectionPool",),
    ),
    "sqlite3": (("sqlite3.connect",), ("sqlite3.Connection",), ()),
    "pymysql": (("pymysql.connect", "pymysql.Connect", "pymysql.connections.Connection"), (), ()),
    "MySQLdb": (("MySQLdb.connect", "MySQLdb.Connect"), (), ()),
    "mysql.connector": (("mysql.connector.connect",), (), ()),
}

# -- pymongo ------------------------------------------------------------------
_MONGO_IO = _names(
    "find", "find_one", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
    "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one", "delete_many",
    "aggregate", "count_documents", "estimated_document_count", "distinct", "bulk_write",
    "create_index", "create_indexes", "drop", "drop_index", "drop_collection", "drop_database",
    "list_collection_names", "list_database_names", "list_collections", "command", "server_info", "watch", "rename",
)  # fmt: skip

# -- rq (Redis queue) ---------------------------------------------------------------
_RQ_QUEUE_IO = _names(
    "enqueue", "enqueue_call", "enqueue_at", "enqueue_in", "enqueue_many", "fetch_job", "get_jobs", "get_job_ids",
    "empty", "delete", "remove",
)  # fmt: skip
_RQ_JOB_IO = _names(
    "get_status", "refresh", "save", "save_meta", "get_meta", "cancel", "delete", "requeue", "return_value",
    "latest_result", "results", "fetch_dependencies", "get_position", "perform",
)  # fmt: skip
RQ_ENQUEUE = "rq.Queue().enqueue"
"""The path given to ``export_job.delay(...)`` on a function decorated with rq's ``@job``."""
RQ_JOB_DECORATORS = frozenset({"rq.decorators.job", "rq.job"})

# -- python-social-auth ----------------------------------------------------------------
_SOCIAL_AUTH_REQUESTS = _names(
    "user_data", "auth_complete", "do_auth", "complete", "request_access_token", "refresh_token", "revoke_token",
    "get_json", "get_querystring", "request", "request_token", "unauthorized_token", "oauth_request",
)  # fmt: skip

# -- HTTP, files, processes -----------------------------------------------------
_HTTP_VERBS = _names("get", "post", "put", "patch", "delete", "head", "options", "request")
_PATH_IO = _names("read_text", "read_bytes", "write_text", "write_bytes", "open")
_PATH_DERIVED = _names(
    "joinpath", "with_name", "with_suffix", "with_stem", "resolve", "absolute", "expanduser", "relative_to",
)  # fmt: skip

# -- LLM SDKs -------------------------------------------------------------------
_OPENAI_LLM_CALLS = _names(
    "chat.completions.create", "chat.completions.parse", "beta.chat.completions.parse",
    "responses.create", "responses.parse", "completions.create", "beta.threads.runs.create_and_poll",
)  # fmt: skip
_ANTHROPIC_LLM_CALLS = _names("messages.create", "beta.messages.create")
_GENAI_LLM_METHODS = _names(
    "generate_content", "generate_content_stream", "generate_images", "edit_image", "generate_videos",
    "send_message", "send_message_stream",
)  # fmt: skip
_GENAI_REQUESTS = _GENAI_LLM_METHODS | _names(
    "embed_content", "count_tokens", "compute_tokens", "upscale_image", "upload", "download", "get", "list", "delete",
)  # fmt: skip
# llama.cpp runs the model in-process: inference is seconds of CPU work in the calling thread.
_LLAMA_CPP_INFERENCE = _names(
    "create_chat_completion", "create_completion", "__call__", "create_chat_completion_openai_v1",
)  # fmt: skip
_LLAMA_CPP_CLASSES = ("llama_cpp.Llama", "llama_cpp.llama.Llama")
_CLIENT_SAFE = _names("with_options", "copy")
_LANGCHAIN_LLM = _names("invoke", "ainvoke", "batch", "abatch")
_LANGCHAIN_SYNC = _names("invoke", "batch", "stream")
LANGCHAIN_ROOTS = ("langchain", "langgraph")
"""Top-level package prefixes of LangChain and LangGraph (``langchain_openai``, ``langgraph.prebuilt``...)."""
# LangChain objects whose ``invoke`` formats or parses locally: no request is made.
LANGCHAIN_LOCAL = (
    "langchain_core.prompts",
    "langchain.prompts",
    "langchain_core.output_parsers",
    "langchain.output_parsers",
    "langchain_core.messages",
    "langchain_core.documents",
    "langchain_text_splitters",
    "langchain.text_splitter",
    "langchain_core.runnables.RunnablePassthrough",
    "langchain_core.runnables.RunnableLambda",
)
# LangChain objects that make requests but not to a model (search, retrieval, embeddings).
LANGCHAIN_NOT_LLM = ("vectorstore", "retriever", "embedding", "document_loader", "docstore", ".tools.")
LANGCHAIN_SEQUENCE = "langchain_core.runnables.RunnableSequence()"
"""The path given to ``a | b`` when either side is a LangChain object (an LCEL chain)."""

_KINDS_BASE: dict[str, Kind] = {
    "sa.engine": Kind(
        "Engine",
        family="db",
        blocking=_names("connect", "begin", "execute", "raw_connection", "scalar"),
        returns={"connect": "sa.connection", "begin": "sa.connection", "execution_options": SAME},
    ),
    "sa.connection": Kind(
        "Connection", family="db", blocking=_CONNECTION_IO, returns={"execution_options": SAME}
    ),
    "sa.session": Kind("Session", family="db", blocking=_SESSION_IO, on_call="sa.session", returns={"begin": SAME}),
    "sa.sessionmaker": Kind("sessionmaker", family="db", on_call="sa.session", returns={"begin": "sa.session"}),
    "mongo": Kind(
        "pymongo",
        family="db",
        blocking=_MONGO_IO,
        attributes={ANY: SAME},
        returns={"get_database": SAME, "get_collection": SAME, "get_default_database": SAME, "with_options": SAME},
    ),
    "redis": Kind(
        "redis.Redis",
        family="db",
        any_method_blocks=True,
        safe_methods=_names("pipeline", "pubsub", "lock", "register_script", "get_encoder", "set_response_callback"),
        returns={"pipeline": "redis.pipeline", "pubsub": "redis.pubsub", "lock": "redis.lock"},
    ),
    "redis.pipeline": Kind("redis pipeline", family="db", blocking=_names("execute"), returns={ANY: SAME}),
    "redis.pubsub": Kind("redis pubsub", family="db", any_method_blocks=True),
    "redis.lock": Kind("redis lock", family="db", blocking=_names("acquire", "release", "extend", "reacquire")),
    # rq keeps its queues and jobs in Redis through a synchronous redis-py connection.
    "rq.queue": Kind(
        "rq Queue",
        family="db",
        blocking=_RQ_QUEUE_IO,
        returns=dict.fromkeys(("enqueue", "enqueue_call", "enqueue_at", "enqueue_in", "fetch_job"), "rq.job"),
    ),
    "rq.job": Kind("rq Job", family="db", blocking=_RQ_JOB_IO),
    # python-social-auth's backends call the provider with ``requests``.
    "social_core.backend": Kind("social_core backend", blocking=_SOCIAL_AUTH_REQUESTS),
    "requests.session": Kind("requests.Session", blocking=_HTTP_VERBS | {"send"}),
    "httpx.client": Kind("httpx.Client", blocking=_HTTP_VERBS | {"send", "stream"}),
    "urllib3.pool": Kind("urllib3.PoolManager", blocking=_names("request", "urlopen")),
    "path": Kind(
        "Path",
        blocking=_PATH_IO,
        returns=dict.fromkeys(_PATH_DERIVED, SAME),
        attributes={"parent": "path"},
    ),
    "popen": Kind("subprocess.Popen", blocking=_names("communicate", "wait")),
    # A handle on another process: waiting for it to exit blocks (for up to its ``timeout``).
    "psutil.process": Kind("psutil.Process", blocking=_names("wait")),
    # PyJWT's key-set client: fetches the JSON Web Key Set over urllib on the calling thread whenever
    # its cache misses (every five minutes, and for any token whose key id it does not hold).
    "jwt.jwks": Kind(
        "PyJWKClient",
        blocking=_names("get_signing_key_from_jwt", "get_signing_key", "get_signing_keys", "get_jwk_set", "fetch_data"),
    ),
    # Archives: the methods that read files from disk into the archive or write its members out to disk.
    # ``writestr``/``read`` of an in-memory member are not listed: what they cost is the member's size and
    # compression, which the code rarely shows (a small JSON manifest and a user's whole history look alike).
    "zip.archive": Kind("ZipFile", blocking=_names("write", "extract", "extractall")),
    "tar.archive": Kind("TarFile", blocking=_names("add", "extract", "extractall")),
    # concurrent.futures: the calling thread waits for the work handed to another thread (or to another
    # event loop, ``asyncio.run_coroutine_threadsafe``) to finish.
    "futures.executor": Kind("ThreadPoolExecutor", blocking=_names("shutdown"), returns={"submit": "futures.future"}),
    "futures.future": Kind("Future", blocking=_names("result", "exception")),
    "smtp": Kind(
        "smtplib.SMTP",
        blocking=_names("sendmail", "send_message", "login", "starttls", "connect", "ehlo", "helo", "quit", "noop"),
    ),
    "openai.sync": Kind(
        "OpenAI",
        any_method_blocks=True,
        safe_methods=_CLIENT_SAFE,
        attributes={ANY: SAME},
        returns=dict.fromkeys(_CLIENT_SAFE, SAME),
        llm_calls=_OPENAI_LLM_CALLS,
        llm_blocking=True,
    ),
    "openai.async": Kind(
        "AsyncOpenAI", attributes={ANY: SAME}, returns=dict.fromkeys(_CLIENT_SAFE, SAME), llm_calls=_OPENAI_LLM_CALLS
    ),
    "anthropic.sync": Kind(
        "Anthropic",
        any_method_blocks=True,
        safe_methods=_CLIENT_SAFE,
        attributes={ANY: SAME},
        returns=dict.fromkeys(_CLIENT_SAFE, SAME),
        llm_calls=_ANTHROPIC_LLM_CALLS,
        llm_blocking=True,
    ),
    "anthropic.async": Kind(
        "AsyncAnthropic",
        attributes={ANY: SAME},
        returns=dict.fromkeys(_CLIENT_SAFE, SAME),
        llm_calls=_ANTHROPIC_LLM_CALLS,
    ),
    # Sync SDKs whose every method is a request (clients of Docker, ElevenLabs) or whose REST verbs are.
    "docker.client": Kind(
        "DockerClient", any_method_blocks=True, attributes={ANY: SAME}, returns={ANY: "docker.object"}
    ),
    "docker.object": Kind("docker.models", any_method_blocks=True, attributes={ANY: SAME}),
    "boto3.client": Kind(
        "boto3 client",
        any_method_blocks=True,
        safe_methods=_names("generate_presigned_url", "generate_presigned_post", "get_paginator", "get_waiter", "can_paginate"),
        attributes={ANY: SAME},
    ),
    "twilio.client": Kind(
        "twilio Client",
        blocking=_names("create", "fetch", "update", "delete", "list", "stream", "page"),
        attributes={ANY: SAME},
        returns={ANY: SAME},
    ),
    "elevenlabs.sync": Kind("ElevenLabs", any_method_blocks=True, attributes={ANY: SAME}),
    # Google's Gen AI SDK: ``client.models.generate_content(...)`` is a request made in the calling thread;
    # ``client.aio.models...`` is its awaitable twin. ``client.chats.create(...)`` only builds a chat.
    "genai.sync": Kind(
        "genai.Client",
        blocking=_GENAI_REQUESTS,
        attributes={"aio": "genai.async", ANY: SAME},
        returns={ANY: SAME},
        llm_methods=_GENAI_LLM_METHODS,
        llm_blocking=True,
    ),
    "genai.async": Kind("genai.Client.aio", attributes={ANY: SAME}, returns={ANY: SAME}, llm_methods=_GENAI_LLM_METHODS),
    # Password hashing is CPU work made slow on purpose (tens to hundreds of milliseconds a call).
    "password.hasher": Kind(
        "PasswordHash", blocking=_names("hash", "verify", "verify_and_update", "check_needs_rehash", "needs_update")
    ),
    "llama_cpp": Kind(
        "Llama",
        blocking=_LLAMA_CPP_INFERENCE | _names("embed", "create_embedding", "eval", "generate"),
        llm_methods=_LLAMA_CPP_INFERENCE,
        llm_blocking=True,
    ),
    # sentence-transformers runs the model in-process: loading it reads (or downloads) its weights,
    # and each encode or rerank is CPU (or GPU) work in the calling thread.
    "sentence_transformers": Kind("SentenceTransformer", blocking=_names("encode", "encode_query", "encode_document")),
    "cross_encoder": Kind("CrossEncoder", blocking=_names("predict", "rank")),
    "litellm.router": Kind(
        "litellm.Router",
        blocking=_names("completion", "text_completion", "embedding"),
        llm_methods=_names("completion", "acompletion", "text_completion", "atext_completion"),
        llm_blocking=True,
    ),
}


def _dbapi_kinds() -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for driver in _DBAPI_DRIVERS:
        kinds[f"{driver}.connection"] = Kind(
            f"{driver} connection",
            family="db",
            blocking=_DBAPI_CONNECTION_IO,
            returns={"cursor": f"{driver}.cursor", "execute": f"{driver}.cursor"},
        )
        kinds[f"{driver}.cursor"] = Kind(
            f"{driver} cursor", family="db", blocking=_DBAPI_CURSOR_IO, returns={"execute": SAME}
        )
        kinds[f"{driver}.pool"] = Kind(
            f"{driver} pool",
            family="db",
            blocking=_names("getconn", "connection"),
            returns={"getconn": f"{driver}.connection", "connection": f"{driver}.connection"},
        )
    return kinds


KINDS: dict[str, Kind] = {**_KINDS_BASE, **_dbapi_kinds()}


def _entries() -> dict[str, Entry]:
    entries: dict[str, Entry] = {}

    def add(names: Iterable[str], entry: Entry) -> None:
        for name in names:
            entries[name] = entry

    # SQLAlchemy: building engines, sessions and factories does no I/O; their methods do.
    add(
        (
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlalchemy.engine_from_config",
            "sqlalchemy.engine.engine_from_config",
            "sqlmodel.create_engine",
            "sqlalchemy.Engine",
            "sqlalchemy.engine.Engine",
            "sqlalchemy.engine.base.Engine",
        ),
        Entry("sa.engine", family="db"),
    )
    add(
        ("sqlalchemy.Connection", "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection"),
        Entry("sa.connection", family="db"),
    )
    add(
        (
            "sqlalchemy.orm.Session",
            "sqlalchemy.orm.session.Session",
            "sqlalchemy.orm.scoped_session",
            "sqlalchemy.orm.scoping.scoped_session",
            "sqlmodel.Session",
            "sqlmodel.orm.session.Session",
        ),
        Entry("sa.session", family="db"),
    )
    add(("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"), Entry("sa.sessionmaker", family="db"))
    for driver, (connects, classes, pools) in _DBAPI_DRIVERS.items():
        add(connects, Entry(f"{driver}.connection", blocks=True, family="db"))
        add(classes, Entry(f"{driver}.connection", family="db"))
        add(pools, Entry(f"{driver}.pool", family="db"))
    add(
        (
            "pymongo.MongoClient",
            "pymongo.mongo_client.MongoClient",
            "pymongo.database.Database",
            "pymongo.collection.Collection",
        ),
        Entry("mongo", family="db"),
    )
    add(
        (
            "redis.Redis",
            "redis.StrictRedis",
            "redis.Redis.from_url",
            "redis.StrictRedis.from_url",
            "redis.from_url",
            "redis.client.Redis",
            "redis.client.StrictRedis",
            "redis.RedisCluster",
            "redis.cluster.RedisCluster",
        ),
        Entry("redis", family="db"),
    )
    add(
        (
            "social_core.backends.base.BaseAuth",
            "social_core.backends.oauth.BaseOAuth2",
            "social_core.backends.oauth.BaseOAuth1",
            "social_core.backends.oauth.OAuthAuth",
            "social_core.backends.open_id_connect.OpenIdConnectAuth",
        ),
        Entry("social_core.backend"),
    )
    add(("rq.Queue", "rq.queue.Queue"), Entry("rq.queue", family="db"))
    add(("rq.job.Job", "rq.Job"), Entry("rq.job", family="db"))
    add(("rq.job.Job.fetch", "rq.Job.fetch"), Entry("rq.job", blocks=True, family="db"))
    add(("rq.job.Job.fetch_many", "rq.Job.fetch_many"), Entry(blocks=True, family="db"))
    # Blocking calls other than databases.
    add(("time.sleep", "os.system", "os.popen", "builtins.open", "io.open", "os.fdopen", "os.open"), Entry(blocks=True))
    add(("urllib.request.urlopen", "urllib.request.urlretrieve", "urllib3.request"), Entry(blocks=True))
    add((f"{module}.{verb}" for module in ("requests", "requests.api") for verb in _HTTP_VERBS), Entry(blocks=True))
    add((f"httpx.{verb}" for verb in _HTTP_VERBS | {"stream"}), Entry(blocks=True))
    add(("requests.Session", "requests.session", "requests.sessions.Session"), Entry("requests.session"))
    add(("httpx.Client",), Entry("httpx.client"))
    add(("urllib3.PoolManager", "urllib3.poolmanager.PoolManager"), Entry("urllib3.pool"))
    add(
        ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"),
        Entry(blocks=True),
    )
    add(("subprocess.getoutput", "subprocess.getstatusoutput"), Entry(blocks=True))
    add(("subprocess.Popen",), Entry("popen", blocks=True))
    add(("psutil.Process",), Entry("psutil.process"))
    add(("psutil.Popen",), Entry("popen", blocks=True))  # a ``subprocess.Popen`` with psutil's methods
    add(("psutil.wait_procs",), Entry(blocks=True))
    add(("smtplib.SMTP", "smtplib.SMTP_SSL"), Entry("smtp", blocks=True))
    add(("jwt.PyJWKClient", "jwt.jwks_client.PyJWKClient"), Entry("jwt.jwks"))
    add(
        (
            "concurrent.futures.ThreadPoolExecutor",
            "concurrent.futures.thread.ThreadPoolExecutor",
            "concurrent.futures.ProcessPoolExecutor",
            "concurrent.futures.process.ProcessPoolExecutor",
        ),
        Entry("futures.executor"),
    )
    add(("asyncio.run_coroutine_threadsafe",), Entry("futures.future"))
    add(("concurrent.futures.wait",), Entry(blocks=True))
    add(
        (
            "pathlib.Path",
            "pathlib.PosixPath",
            "pathlib.WindowsPath",
            "pathlib.Path.home",
            "pathlib.Path.cwd",
        ),
        Entry("path"),
    )
    # LLM SDKs: sync clients block (FAA102); every client's requests are LLM work (FAA103).
    add(("openai.OpenAI", "openai.AzureOpenAI", "openai.Client"), Entry("openai.sync"))
    add(("openai.AsyncOpenAI", "openai.AsyncAzureOpenAI", "openai.AsyncClient"), Entry("openai.async"))
    # The module-level client: ``openai.chat.completions.create(...)``.
    add(
        (f"openai.{resource}" for resource in ("chat", "completions", "responses", "beta")),
        Entry("openai.sync", is_object=True),
    )
    add(
        ("anthropic.Anthropic", "anthropic.Client", "anthropic.AnthropicBedrock", "anthropic.AnthropicVertex"),
        Entry("anthropic.sync"),
    )
    add(
        (
            "anthropic.AsyncAnthropic",
            "anthropic.AsyncClient",
            "anthropic.AsyncAnthropicBedrock",
            "anthropic.AsyncAnthropicVertex",
        ),
        Entry("anthropic.async"),
    )
    add(("docker.from_env", "docker.DockerClient", "docker.client.DockerClient", "docker.client.from_env"), Entry("docker.client"))
    add(("boto3.client", "boto3.session.Session.client", "boto3.Session.client"), Entry("boto3.client"))
    add(("twilio.rest.Client",), Entry("twilio.client"))
    add(("elevenlabs.ElevenLabs", "elevenlabs.client.ElevenLabs"), Entry("elevenlabs.sync"))
    add(("google.genai.Client", "google.genai.client.Client"), Entry("genai.sync"))
    add(("resend.Emails.send", "resend.Batch.send"), Entry(blocks=True))
    add(
        (
            "google.oauth2.id_token.verify_oauth2_token",
            "google.oauth2.id_token.verify_token",
            "google.oauth2.id_token.verify_firebase_token",
            "google.oauth2.id_token.fetch_id_token",
        ),
        Entry(blocks=True),
    )
    add(
        (
            "shutil.rmtree", "shutil.copytree", "shutil.copyfile", "shutil.copy", "shutil.copy2", "shutil.move",
            "shutil.make_archive", "shutil.unpack_archive",
        ),
        Entry(blocks=True),
    )  # fmt: skip
    add(("zipfile.ZipFile", "zipfile.PyZipFile"), Entry("zip.archive"))
    add(("tarfile.open", "tarfile.TarFile", "tarfile.TarFile.open"), Entry("tar.archive"))
    add(
        (
            "pwdlib.PasswordHash", "pwdlib.PasswordHash.recommended", "passlib.context.CryptContext",
            "argon2.PasswordHasher", "argon2.PasswordHasher.from_parameters",
        ),
        Entry("password.hasher"),
    )  # fmt: skip
    add(("bcrypt.hashpw", "bcrypt.checkpw", "bcrypt.kdf"), Entry(blocks=True))
    add(("litellm.completion", "litellm.text_completion"), Entry(blocks=True, llm=True))
    add(("litellm.acompletion", "litellm.atext_completion"), Entry(llm=True))
    add(("litellm.Router", "litellm.router.Router"), Entry("litellm.router"))
    add(("sentence_transformers.SentenceTransformer",), Entry("sentence_transformers", blocks=True))
    add(
        ("sentence_transformers.CrossEncoder", "sentence_transformers.cross_encoder.CrossEncoder"),
        Entry("cross_encoder", blocks=True),
    )
    add(("huggingface_hub.snapshot_download", "huggingface_hub.hf_hub_download"), Entry(blocks=True))
    # Loading the model is done once (at start-up, or cached); inference is what each call pays.
    add((*_LLAMA_CPP_CLASSES, *(f"{cls}.from_pretrained" for cls in _LLAMA_CPP_CLASSES)), Entry("llama_cpp"))
    return entries


ENTRIES: dict[str, Entry] = _entries()

_LOCAL_FILE_CALLS = frozenset({"open", "builtins.open", "io.open", "os.fdopen", "os.open"})
_LOCAL_FILE_PREFIXES = ("Path.", "shutil.", "ZipFile.", "TarFile.")


def local_file_work(what: str) -> bool:
    """Whether a blocking call (as a verdict names it: ``open``, ``Path.write_text``, ``shutil.rmtree``)
    works on the local file system, not the network, a subprocess or the clock."""
    return what in _LOCAL_FILE_CALLS or what.startswith(_LOCAL_FILE_PREFIXES)

# ``sessionmaker(engine, class_=AsyncSession)`` makes async sessions: (keyword, position) of the class.
ASYNC_CLASS_ARGUMENT: dict[str, tuple[str, int]] = {
    "sqlalchemy.orm.sessionmaker": ("class_", 1),
    "sqlalchemy.orm.session.sessionmaker": ("class_", 1),
}
ASYNC_SESSIONMAKER = "sqlalchemy.ext.asyncio.async_sessionmaker"

STREAMING_RESPONSES = ("StreamingResponse", "EventSourceResponse")
"""Last segment of the response classes that stream (Starlette, FastAPI, sse-starlette)."""

THREAD_HANDOFFS = frozenset(
    {
        "fastapi.concurrency.run_in_threadpool",
        "starlette.concurrency.run_in_threadpool",
        "anyio.to_thread.run_sync",
        "asyncio.to_thread",
    }
)
"""Functions that run the function passed to them on a worker thread."""
THREAD_HANDOFF_METHODS = frozenset({"run_in_executor"})
"""Methods that do the same (``loop.run_in_executor(None, func)``)."""
THREAD_WRAPPERS = frozenset({"asgiref.sync.sync_to_async"})
"""Functions that return an awaitable version of the function passed to them, run on a worker
thread (``await sync_to_async(func)(arg)``)."""
PARTIAL = frozenset({"functools.partial"})

HANDOFF_METHODS = frozenset(
    {
        "add_task", "delay", "apply_async", "enqueue", "enqueue_call", "enqueue_job", "send_task", "kiq",
        "create_task", "ensure_future", "start_soon",
    }
)  # fmt: skip
"""Methods that schedule work elsewhere (BackgroundTasks, Celery, RQ, arq, taskiq, asyncio, anyio)."""

# Names of imported or undefined functions that say "this calls an LLM" (FAA103): a model
# word together with an action word.  Agent words need a stronger action: ``get_agent``,
# ``list_agents`` and ``create_agent`` are ordinary CRUD.
LLM_NAME_MODELS = frozenset(
    {"llm", "llms", "gpt", "chatgpt", "openai", "claude", "anthropic", "gemini", "mistral", "ollama"}
)
LLM_NAME_ACTIONS = frozenset(
    {
        "call", "run", "invoke", "ask", "query", "prompt", "complete", "completion", "generate", "execute",
        "chat", "respond", "response", "answer", "reply",
    }
)  # fmt: skip
AGENT_NAME_WORDS = frozenset({"agent", "agents", "crew"})
AGENT_NAME_ACTIONS = frozenset({"call", "run", "invoke", "ask", "execute", "chat", "kickoff"})
# Words that say a function handles data about models rather than calling one:
# ``get_llm_provider``, ``count_llm_tokens``, ``anthropic_error_json_response``, ``openai_model_list``.
LLM_NAME_DATA_WORDS = frozenset(
    {
        "error", "errors", "exception", "json", "list", "config", "settings", "provider", "providers",
        "schema", "format", "headers", "header", "token", "tokens", "count", "cost", "usage", "params",
        "template", "templates", "url", "key", "keys", "name", "names", "type", "types", "parse", "validate",
        "model", "models",
    }
)  # fmt: skip

# Verbs that open a name handling a stored record: ``delete_openai_response``,
# ``cancel_openai_response``, ``retrieve_llm_completion`` look up, change or remove what a model
# answered earlier; none of them asks a model anything. (``get_`` stays ambiguous:
# ``get_llm_response(prompt)`` is as often a model call as a look-up.)
LLM_NAME_RECORD_VERBS = frozenset(
    {"delete", "remove", "cancel", "retrieve", "update", "store", "save", "archive", "persist", "purge"}
)

_TOKEN = re.compile(r"\(\)|[^.()]+")


def tokens(path: str) -> list[str]:
    """``a.b()().c`` -> ``["a", "b", "()", "()", "c"]``."""
    return _TOKEN.findall(path)


def plain_name(path: str) -> str:
    """The path without its calls: ``boto3.client().get_object()`` -> ``boto3.client.get_object``."""
    return ".".join(t for t in tokens(path) if t != "()")


def is_langchain(path: str) -> bool:
    top = path.split(".", 1)[0]
    return top.startswith(LANGCHAIN_ROOTS)


def kind_of(path: str | None) -> str | None:
    """The kind of the value a path denotes, or None."""
    if path is None:
        return None
    state = _read(tokens(path), final_call=False)
    return state.kind if isinstance(state, _State) else None


@dataclass
class _State:
    kind: str
    chain: list[str]


def _start(parts: list[str]) -> tuple[int, _State | None, Entry | None]:
    """The longest known prefix: (tokens consumed, state after it, the callable entry if the next token calls it)."""
    leading = 0
    while leading < len(parts) and parts[leading] != "()":
        leading += 1
    for cut in range(leading, 0, -1):
        entry = ENTRIES.get(".".join(parts[:cut]))
        if entry is None:
            continue
        if entry.is_object and entry.kind:
            return cut, _State(entry.kind, list(parts[1:cut])), None
        if cut == leading and cut < len(parts):
            return cut, None, entry
        return len(parts), None, None
    return len(parts), None, None


def _read(parts: list[str], final_call: bool) -> _State | Verdict | None:
    """Follow ``parts`` through the tables.

    With ``final_call`` the path ends in a call and the result is that call's
    Verdict (or None); otherwise it is the state the whole path leaves.
    """
    if not parts or parts[0].startswith(("await ", "<")):
        return None
    position, state, entry = _start(parts)
    if entry is not None:
        # parts[position] is the "()" calling a known callable.
        name = ".".join(parts[:position]).removeprefix("builtins.")
        if final_call and position == len(parts) - 1:
            family = entry.family if entry.blocks else None
            return Verdict(name, family, entry.llm) if (entry.blocks or entry.llm) else None
        if entry.kind is None:
            return None
        state = _State(entry.kind, [])
        position += 1
    if state is None:
        return None
    while position < len(parts):
        kind = KINDS.get(state.kind)
        if kind is None:
            return None
        part = parts[position]
        if part == "()":
            if kind.on_call is None:
                # Calling an instance runs its ``__call__`` (``llm(prompt)`` on a llama.cpp model): only
                # a kind that names it says what that does.
                if final_call and position == len(parts) - 1 and "__call__" in kind.blocking | kind.llm_methods:
                    return _verdict(kind, state.chain, "__call__")
                return None
            state = _State(kind.on_call, [])
            position += 1
            continue
        called = position + 1 < len(parts) and parts[position + 1] == "()"
        if not called:
            target = kind.attributes.get(part, kind.attributes.get(ANY))
            if target is None:
                return None
            state = _State(state.kind, [*state.chain, part]) if target == SAME else _State(target, [])
            position += 1
            continue
        if final_call and position + 1 == len(parts) - 1:
            return _verdict(kind, state.chain, part)
        target = kind.returns.get(part, kind.returns.get(ANY))
        if target is None:
            return None
        state = _State(state.kind if target == SAME else target, [])
        position += 2
    return None if final_call else state


def _verdict(kind: Kind, chain: list[str], method: str) -> Verdict | None:
    dotted = ".".join([*chain, method])
    llm = dotted in kind.llm_calls or method in kind.llm_methods
    blocks = kind.method_blocks(method) or (llm and kind.llm_blocking)
    if not (blocks or llm):
        return None
    return Verdict(f"{kind.label}.{dotted}".replace(".[]", "[]"), kind.family if blocks else None, llm)


def _langchain_verdict(path: str) -> Verdict | None:
    parts = tokens(path)
    if len(parts) < 2 or parts[-1] != "()" or parts[-2] == "()":
        return None
    method = parts[-2]
    if method not in _LANGCHAIN_LLM and method not in _LANGCHAIN_SYNC:
        return None
    if plain_name(path).startswith(LANGCHAIN_LOCAL):
        return None
    first_call = parts.index("()")
    origin = parts[first_call - 1] if first_call > 0 else parts[0]
    blocking: Family | None = "io" if method in _LANGCHAIN_SYNC else None
    lowered = plain_name(path).lower()
    llm = method in _LANGCHAIN_LLM and not any(word in lowered for word in LANGCHAIN_NOT_LLM)
    if blocking is None and not llm:
        return None
    return Verdict(f"{origin}.{method}", blocking, llm)


def classify_path(path: str | None) -> Verdict | None:
    """The verdict for a call whose callee path is ``path`` + ``()``.

    ``path`` is the full call path (ending in ``()``).
    """
    if not path or "await " in path or path.startswith("<"):
        return None
    found = _read(tokens(path), final_call=True)
    if isinstance(found, Verdict):
        return found
    if is_langchain(path):
        return _langchain_verdict(path)
    return None


def matches_configured(path: str | None, method: str | None, configured: Iterable[str]) -> str | None:
    """How messages name a call that matches a configured name, or None.

    A dotted name matches calls of it and of anything reached through it
    (``boto3.client`` matches ``boto3.client(...).get_object()``, a module
    matches its functions); ``.name`` matches any method called ``name``.
    """
    known = path if path and "await " not in path and not path.startswith("<") else None
    plain = plain_name(known) if known else None
    shown = known.removesuffix("()") if known else None
    for name in configured:
        if name.startswith("."):
            if method is not None and method == name[1:]:
                return shown or name
        elif plain is not None and (plain == name or plain.startswith(name + ".")):
            return shown
    return None


_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def name_words(name: str) -> set[str]:
    """``callLLM_async`` -> ``{"call", "llm", "async"}``."""
    return {word.lower() for word in _WORD.findall(name)}


def llm_like_name(name: str) -> bool:
    """True when a function's own name says it runs an LLM or agent (``call_llm``, ``run_agent``).

    Not a class's name (``LiteLLMProxyChatConfig``, ``OpenAIChatResponse``: making one calls no
    model), nor a name that also says it handles data about models (``LLM_NAME_DATA_WORDS``), nor one
    that opens with a verb of stored records (``LLM_NAME_RECORD_VERBS``: ``delete_openai_response``).
    """
    if name.lstrip("_")[:1].isupper():
        return False
    words = name_words(name)
    if words & LLM_NAME_DATA_WORDS:
        return False
    leading = _WORD.match(name.lstrip("_"))
    if leading is not None and leading.group().lower() in LLM_NAME_RECORD_VERBS:
        return False
    if words & LLM_NAME_MODELS and words & LLM_NAME_ACTIONS:
        return True
    return bool(words & AGENT_NAME_WORDS and words & AGENT_NAME_ACTIONS)
