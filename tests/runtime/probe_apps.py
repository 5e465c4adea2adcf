"""Small apps the probe tests point the probe at (``tests.runtime.probe_apps:<name>``).

Each handler records the calls it gets in ``CALLS``, so a test can tell
which requests the probe really sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile, WebSocket
from pydantic import BaseModel, Field

CALLS: list[str] = []


def record(label: str) -> None:
    CALLS.append(label)


class Item(BaseModel):
    name: str = Field(..., min_length=1, max_length=40)
    quantity: int = Field(1, ge=0, le=1000)


recording_app = FastAPI()


@recording_app.get("/health")
async def health() -> dict[str, str]:
    record("GET /health")
    return {"status": "ok"}


@recording_app.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    record("GET /items/{item_id}")
    return {"id": item_id}


@recording_app.post("/items", status_code=201)
async def create_item(item: Item) -> dict[str, Any]:
    record("POST /items")
    return item.model_dump()


@recording_app.put("/items/{item_id}")
async def replace_item(item_id: int, item: Item) -> dict[str, Any]:
    record("PUT /items/{item_id}")
    return {"id": item_id, **item.model_dump()}


@recording_app.delete("/items/{item_id}")
async def delete_item(item_id: int) -> dict[str, int]:
    record("DELETE /items/{item_id}")
    return {"deleted": item_id}


@recording_app.get("/admin/reset")
async def admin_reset() -> dict[str, str]:
    record("GET /admin/reset")
    return {"reset": "done"}


@recording_app.post("/raw")
async def raw_body(request: Request) -> dict[str, int]:
    record("POST /raw")
    payload = await request.body()  # read, never validated: what the bad-body probe should catch
    return {"bytes": len(payload)}


@recording_app.post("/ping-back")
async def ping_back() -> dict[str, str]:
    record("POST /ping-back")  # takes no body and reads none: a 200 here accepts nothing
    return {"pong": "yes"}


slow_app = FastAPI()


@slow_app.get("/slow/{n}")
async def slow(n: int) -> dict[str, int]:
    record("GET /slow/{n}")
    await asyncio.sleep(0.25)  # slow but below the slow-request threshold: every example is sent
    return {"n": n}


@asynccontextmanager
async def failing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    raise RuntimeError("the database is not reachable")
    yield


broken_startup_app = FastAPI(lifespan=failing_lifespan)


@broken_startup_app.get("/things")
async def things() -> list[str]:
    return []


def create_app() -> FastAPI:
    """A factory (``probe_apps:create_app()``)."""
    made = FastAPI()

    @made.get("/factory-made")
    async def factory_made() -> dict[str, bool]:
        return {"made": True}

    return made


# -- uploads and forms: file parts and non-empty form values ------------------------------------
# (Markers as defaults: the oldest FastAPI the package supports loses ``Annotated[..., Form()]``
# and ``Annotated[..., Header()]`` under current Pydantic.)

forms_app = FastAPI()


@forms_app.post("/upload")
async def upload(document: UploadFile, note: str = Form(min_length=2, max_length=30)) -> dict[str, int]:
    content = await document.read()
    record(f"POST /upload {document.filename} {len(content)}")
    return {"size": len(content)}


@forms_app.post("/files")
async def many_files(files: list[bytes] = File()) -> dict[str, int]:  # noqa: B008 - FastAPI reads the marker
    record(f"POST /files {len(files)} {min(len(f) for f in files)}")
    return {"count": len(files)}


@forms_app.post("/login")
async def login(username: str = Form(), password: str = Form()) -> dict[str, str]:
    record("POST /login")
    return {"user": username}


# -- an app-wide dependency that wants a token --------------------------------------------------

TOKEN = "Bearer letmein"


async def require_token(authorization: str | None = Header(default=None)) -> None:
    if authorization != TOKEN:
        raise HTTPException(status_code=401, detail="Not authenticated")


gated_app = FastAPI(dependencies=[Depends(require_token)])


@gated_app.get("/things")
async def list_things() -> list[str]:
    record("GET /things")
    return ["a"]


@gated_app.post("/things")
async def add_thing(item: Item) -> dict[str, Any]:
    record("POST /things")
    return item.model_dump()


@gated_app.websocket("/live")
async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


async def login_headers() -> dict[str, str]:
    """A client factory (``--client-factory tests.runtime.probe_apps:login_headers``): headers, awaited."""
    return {"Authorization": TOKEN}


def override_auth(app: FastAPI) -> None:
    """A client factory that prepares the app itself: the token check is replaced."""
    app.dependency_overrides[require_token] = lambda: None


# -- a model with an unbounded field ------------------------------------------------------------


class Note(BaseModel):
    title: str
    body: str = Field("", max_length=2000)


notes_app = FastAPI()


@notes_app.post("/notes")
async def create_note(note: Note) -> dict[str, int]:
    record("POST /notes")
    return {"length": len(note.title)}
