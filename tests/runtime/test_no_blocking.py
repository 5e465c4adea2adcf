"""The guard makes no blocking call on the event loop it watches, checked with blockbuster.

blockbuster patches the blocking functions (file and ``os`` calls, thread joins, lock waits,
``time.sleep``) so that they raise when called on an event-loop thread.  A guarded FastAPI app is
served under it through its lifespan and real requests, with file sinks: the guard must neither
fault (it fails open, so a blocking call of its own shows as a logged fault and a lost finding)
nor lose a finding.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from flake8_fastapi_antipatterns.sinks import JsonLinesSink, MemorySink, SarifSink, TextSink
from runtime_guard import GuardConfig, RuntimeGuard
from runtime_guard.probe.lifespan import Lifespan

blockbuster = pytest.importorskip("blockbuster", reason="blockbuster is not installed (it is in the `test` extra)")

# The app lives in a file of its own, written for the test: its source is in no cache yet, so
# placing a finding at a handler's line needs the file read, as on a freshly started server.
APP_SOURCE = '''
import asyncio
import time

from fastapi import FastAPI

app = FastAPI()  # marker: app


@app.get("/stall")
async def stall():
    started = time.monotonic()
    while time.monotonic() - started < 0.4:  # marker: busy
        pass
    return {"ok": True}


@app.get("/echo")
async def echo():  # marker: echo
    try:
        {}["ledger_balance_column"]
    except KeyError as exc:
        return {"error": "Traceback (most recent call last): " + repr(exc)}


@app.get("/print")
async def shout():
    print("handling /print")  # marker: print
    return {}


@app.get("/crash")
async def crash():
    raise RuntimeError("order-42")  # marker: raise


@app.get("/slow")
async def slow():  # marker: slow
    await asyncio.sleep(0.3)
    return {}
'''


def line_of(marker: str) -> int:
    for number, text in enumerate(APP_SOURCE.splitlines(), 1):
        if text.rstrip().endswith(f"# marker: {marker}"):
            return number
    raise AssertionError(marker)


def load_app(tmp_path: Path) -> ModuleType:
    path = tmp_path / "blockbuster_app.py"
    path.write_text(textwrap.dedent(APP_SOURCE))
    spec = importlib.util.spec_from_file_location("blockbuster_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["blockbuster_app"] = module
    spec.loader.exec_module(module)
    return module


class Faults(logging.Handler):
    """Every record the guard and the sinks log with an exception attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is not None:
            self.records.append(record)


@pytest.fixture
def faults() -> Any:
    handler = Faults()
    loggers = [logging.getLogger(name) for name in ("runtime_guard", "flake8_fastapi_antipatterns")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_guarded_app_under_blockbuster_reports_everything_and_blocks_nothing(
    tmp_path: Path, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_app(tmp_path)
    monkeypatch.delitem(sys.modules, "blockbuster_app")
    memory = MemorySink()
    jsonl, sarif, text = tmp_path / "findings.jsonl", tmp_path / "findings.sarif", tmp_path / "findings.txt"
    text_stream = text.open("w", encoding="utf-8")
    module.app.add_middleware(
        RuntimeGuard,
        sinks=[memory, JsonLinesSink(str(jsonl)), SarifSink(str(sarif)), TextSink(text_stream)],
        config=GuardConfig(block_threshold=0.1, slow_request_threshold=0.2),
    )

    async def serve() -> dict[str, int]:
        lifespan = Lifespan(module.app)
        await lifespan.startup()
        statuses: dict[str, int] = {}
        transport = httpx.ASGITransport(app=module.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in ("/stall", "/echo", "/print", "/crash", "/slow"):
                statuses[path] = (await client.get(path)).status_code
            await asyncio.sleep(0.3)  # the watchdog reports a stall once the loop is back
        await lifespan.shutdown()
        return statuses

    with blockbuster.blockbuster_ctx():
        statuses = asyncio.run(serve())
    text_stream.close()

    # Nothing the guard or a sink did on the loop raised (each would have been logged once).
    assert [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in faults.records if r.exc_info] == []
    assert statuses == {"/stall": 200, "/echo": 200, "/print": 200, "/crash": 500, "/slow": 200}
    # And every finding is there, at the app's lines.
    filename = str(tmp_path / "blockbuster_app.py")
    found = {(d.code, d.line) for d in memory.diagnostics if d.filename == filename}
    expected = {
        ("FAA102", line_of("busy")),
        ("FAA303", line_of("echo")),
        ("FAA402", line_of("print")),
        ("FAA304", line_of("raise")),
        ("FAA103", line_of("slow")),
        ("FAA401", line_of("app")),
    }
    assert expected <= found, memory.diagnostics
    # The file sinks wrote them, off the loop, by the end of the shutdown.
    written = {(record["code"], record["line"]) for record in map(json.loads, jsonl.read_text().splitlines())}
    assert expected <= written
    assert expected <= {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in json.loads(sarif.read_text())["runs"][0]["results"]
    }
    assert all(f"{filename}:{line}:1: {code}" in text.read_text() for code, line in expected)
