"""The clean twin of examples/bad_app: the same features, none of the anti-patterns."""

import asyncio
import logging
import os
import uuid
from contextlib import asynccontextmanager

import uvicorn
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from .ratelimit import RateLimitMiddleware

logger = logging.getLogger("clean_app")

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./clean_app.db")
RUNS: dict[str, dict] = {}
ORDERS: dict[int, dict] = {1: {"id": 1, "total": 12.5}}


@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_timeout=10, pool_recycle=1800, pool_pre_ping=True)
    app.state.sessions = sessionmaker(bind=engine)
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(RateLimitMiddleware, requests_per_window=20, window_seconds=10)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_credentials=True,
    allow_methods=["GET", "POST"],
    allow_headers=["Authorization", "Content-Type"],
)


@app.exception_handler(Exception)
async def unhandled(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s", request.url.path)
    return JSONResponse(status_code=500, content={"detail": "Internal server error"})


def get_session(request: Request):
    with request.app.state.sessions() as session:
        yield session


class AgentRunRequest(BaseModel):
    agent_id: str = Field(..., min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    input_text: str = Field(..., min_length=1, max_length=50_000)


class AgentOutput(BaseModel):
    value: int


@app.get("/health")
async def health():
    return {"status": "healthy"}


@app.get("/ready")
def ready(session: Session = Depends(get_session)):
    session.execute(text("SELECT 1"))
    return {"status": "ready"}


@app.get("/users/{user_id}")
def get_user(user_id: int, session: Session = Depends(get_session)):
    # A plain `def` route: FastAPI runs it in a thread pool, so the sync driver is fine here.
    return {"id": user_id, "rows": session.execute(text("SELECT 1")).scalar()}


@app.get("/reports/daily")
async def daily_report():
    await asyncio.sleep(0.01)
    return {"status": "done"}


async def execute_agent(run_id: str, request: AgentRunRequest) -> None:
    await asyncio.sleep(0.01)
    RUNS[run_id] = {"status": "done", "output": f"echo: {request.input_text}"}


@app.post("/agents/run", status_code=202)
async def run_agent(request: AgentRunRequest, background_tasks: BackgroundTasks):
    run_id = str(uuid.uuid4())
    RUNS[run_id] = {"status": "pending"}
    logger.info("agent_started", extra={"agent_id": request.agent_id, "run_id": run_id})
    background_tasks.add_task(execute_agent, run_id, request)
    return {"run_id": run_id, "status": "pending", "poll_url": f"/agents/runs/{run_id}"}


@app.get("/agents/runs/{run_id}")
async def get_run(run_id: str):
    if run_id not in RUNS:
        raise HTTPException(status_code=404, detail="unknown run")
    return RUNS[run_id]


@app.post("/agents/parse")
async def parse_agent_output(output: AgentOutput):
    return {"value": output.value}


@app.get("/orders/{order_id}")
async def get_order(order_id: int):
    if order_id not in ORDERS:
        raise HTTPException(status_code=404, detail="unknown order")
    return ORDERS[order_id]


if __name__ == "__main__":
    uvicorn.run("examples.clean_app.main:app", host="0.0.0.0", port=8000, workers=4)
