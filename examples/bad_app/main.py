"""An app that commits every anti-pattern of the seed document, on purpose.

Static:  flake8 --select FAA --extend-select FAA205,FAA403 examples/bad_app
The comments name the code each line should draw.  Nothing here needs a network:
the database is a local SQLite file and the "LLM" is a coroutine that sleeps.
"""

import os
import time
import traceback

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from starlette.middleware.base import BaseHTTPMiddleware

from .llm import call_llm

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./bad_app.db")
UPSTREAM_URL = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:9")

# A deliberately slow query: counts two million rows generated on the fly.
SLOW_QUERY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c"

engine = create_engine(DATABASE_URL)  # FAA201 pool left at defaults, FAA202 never disposed
ORDERS: dict[int, dict] = {1: {"id": 1, "total": 12.5}}

app = FastAPI(debug=True)  # FAA303 debug page, FAA304 no catch-all, FAA305 no rate limit, FAA401 no health route

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],  # FAA301
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


class TimingMiddleware(BaseHTTPMiddleware):  # FAA404
    async def dispatch(self, request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Elapsed"] = f"{time.perf_counter() - started:.3f}"
        return response


app.add_middleware(TimingMiddleware)


@app.on_event("startup")  # FAA203
async def announce():
    print("bad_app starting")  # FAA402


@app.get("/users/{user_id}")
async def get_user(user_id: int):
    with Session(engine) as session:
        return {"id": user_id, "rows": session.execute(text(SLOW_QUERY)).scalar()}  # FAA101


@app.get("/reports/daily")
async def daily_report():
    time.sleep(0.3)  # FAA102
    return {"status": "done"}


@app.get("/upstream")
async def upstream_status():
    return httpx.get(f"{UPSTREAM_URL}/status", timeout=None).json()  # FAA102, FAA204, FAA205


@app.get("/proxy")
async def proxy():
    async with httpx.AsyncClient() as client:  # FAA204 a new client per request
        response = await client.get(f"{UPSTREAM_URL}/api")  # FAA205
    return response.json()


@app.post("/agents/run")
async def run_agent(request: dict):  # FAA302
    print(f"Running agent {request.get('agent_id')}")  # FAA402
    result = await call_llm(str(request.get("input_text", "")))  # FAA103
    return {"output": result}


@app.post("/agents/parse")
async def parse_agent_output(request: Request):
    payload = await request.json()  # FAA302
    try:
        return {"value": int(payload["value"])}
    except (KeyError, ValueError) as exc:
        raise HTTPException(status_code=400, detail=f"bad payload: {exc!r}")  # FAA303


@app.get("/stats")
async def stats():
    try:
        return {"ratio": len(ORDERS) / 0}
    except ZeroDivisionError:
        return {"error": traceback.format_exc()}  # FAA303


@app.get("/orders/{order_id}")
async def get_order(order_id: int):
    return ORDERS[order_id]  # an unknown id escapes as KeyError (FAA304 at runtime)


def serve() -> None:
    """The console script the image runs (`bad-app-serve`)."""
    uvicorn.run(app, host="0.0.0.0", port=8000)  # FAA403
