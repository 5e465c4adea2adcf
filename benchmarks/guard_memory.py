"""Memory of a guarded app over 100,000 requests: does anything grow per request?

A FastAPI app behind RuntimeGuard is called through the ASGI interface
directly (no server, no client library: only the app and the guard allocate),
after a lifespan start-up, with a mix of requests that exercise every
per-request path of the guard:

* plain JSON responses (most of the traffic);
* findings at the same place again and again, which the reporter keeps as one
  entry with a count: a traceback in the body (FAA303), the text of a caught
  exception in the body (FAA303), a print() (FAA402), ``Access-Control-Allow-Origin: *``
  (FAA301), an exception that escapes the app (FAA304);
* streamed responses larger than the guard's scan window (96 KiB in 24 chunks).

RSS (from /proc) and the memory traced by tracemalloc are sampled every
10,000 requests, after a garbage collection.  The series is flat when, after
the first 10,000 requests (warm-up: caches, lazy imports, the reporter's
entries), traced memory grows by less than 1 MiB and RSS by less than 2 MiB
over the remaining 90,000 requests, i.e. under ~12 traced bytes per request:
a leak of one small object per request would be several MiB.

Usage:
    python benchmarks/guard_memory.py            # 100,000 requests (~1-2 minutes)
    python benchmarks/guard_memory.py --quick    # 20,000 requests, sampled every 2,000
Exit status 1 when the series is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, MutableMapping
from typing import Any, TextIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_machine import load_average  # noqa: E402

MiB = 1024 * 1024
TRACED_LIMIT = 1 * MiB
RSS_LIMIT = 2 * MiB
STREAM_CHUNKS = 24
STREAM_CHUNK = b"x" * 4096

# Request mix, per 20 requests (paths cycle in this order).
MIX = ["/"] * 12 + ["/leak-traceback", "/leak-text", "/print", "/cors", "/boom", "/items/1", "/items/2"] + ["/stream"]


def build_app() -> tuple[Any, Any]:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, StreamingResponse

    from runtime_guard import MemorySink, RuntimeGuard

    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/leak-traceback")
    async def leak_traceback() -> dict[str, str]:
        try:
            return {"ratio": str(1 / 0)}
        except ZeroDivisionError:
            return {"error": traceback.format_exc()}

    @app.get("/leak-text")
    async def leak_text() -> dict[str, str]:
        columns: dict[str, str] = {}
        try:
            return {"value": columns["customer_password_column"]}
        except KeyError as exc:
            return {"error": str(exc)}

    @app.get("/print")
    async def printing() -> dict[str, bool]:
        print("handling /print")
        return {"ok": True}

    @app.get("/cors")
    async def cors() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"Access-Control-Allow-Origin": "*"})

    @app.get("/boom")
    async def boom() -> dict[str, bool]:
        raise RuntimeError("this escapes the app")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(STREAM_CHUNKS):
                yield STREAM_CHUNK

        return StreamingResponse(chunks(), media_type="text/plain")

    sink = MemorySink()
    app.add_middleware(RuntimeGuard, sink=sink, mode="report")
    return app, sink


def guard_of(app: Any) -> Any:
    """The RuntimeGuard instance inside the app's middleware stack (built on the first call)."""
    from runtime_guard import RuntimeGuard

    layer = app.middleware_stack
    while not isinstance(layer, RuntimeGuard):
        layer = layer.app
    return layer


def http_scope(path: str) -> MutableMapping[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"origin", b"https://example.test")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }


async def request(app: Any, path: str) -> tuple[int, int]:
    """(status, body bytes) of one request; receive() answers the body, then waits for the end."""
    finished = asyncio.Event()
    answered = False
    status, size = 0, 0

    async def receive() -> dict[str, Any]:
        nonlocal answered
        if not answered:
            answered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(http_scope(path), receive, send)
    except RuntimeError:
        pass  # /boom: re-raised to the server after the 500 was sent, as under uvicorn
    finished.set()
    return status, size


class Lifespan:
    """Runs the app's lifespan in a task: start-up now, shut-down on ``stop``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"].startswith("lifespan.startup"):
                self.started.set()
            elif message["type"].startswith("lifespan.shutdown"):
                self.stopped.set()

        await self.messages.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.messages.get, send))
        await self.started.wait()

    async def stop(self) -> None:
        await self.messages.put({"type": "lifespan.shutdown"})
        await self.stopped.wait()
        if self.task is not None:
            await self.task


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run(total: int, every: int, out: TextIO) -> int:
    app, sink = build_app()
    tracemalloc.start()
    lifespan = Lifespan(app)
    await lifespan.start()
    statuses: Counter[int] = Counter()
    streamed = 0
    samples: list[tuple[int, int, int]] = []
    started = time.perf_counter()
    for number in range(1, total + 1):
        path = MIX[number % len(MIX)]
        status, size = await request(app, path)
        # Let the loop turn between requests, as a server's loop does: a driver that never
        # yields is itself a stalled loop, which the watchdog would (rightly) keep sampling.
        await asyncio.sleep(0)
        statuses[status] += 1
        if path == "/stream":
            streamed += size == STREAM_CHUNKS * len(STREAM_CHUNK)
        if number % every == 0:
            gc.collect()
            samples.append((number, rss_bytes(), tracemalloc.get_traced_memory()[0]))
            n, rss, traced = samples[-1]
            print(f"  {n:7,d} requests: RSS {rss / MiB:7.2f} MiB, traced {traced / MiB:6.3f} MiB", file=out, flush=True)
    elapsed = time.perf_counter() - started
    await lifespan.stop()
    tracemalloc.stop()

    findings = []
    for finding in guard_of(app).reporter.findings():
        stall = finding.details.get("stall_seconds")
        findings.append(
            f"{finding.code} at {os.path.basename(finding.filename)}:{finding.line} x{finding.details['count']}"
            + (f" (first stall {stall:.2f} s)" if stall is not None else "")
        )
    warm = samples[0]
    last = samples[-1]
    traced_growth, rss_growth = last[2] - warm[2], last[1] - warm[1]
    peak_traced = max(s[2] for s in samples) - warm[2]
    flat = traced_growth < TRACED_LIMIT and peak_traced < TRACED_LIMIT and rss_growth < RSS_LIMIT
    print(file=out)
    print(f"{total:,} requests in {elapsed:.0f} s (tracemalloc on); load average {load_average()}", file=out)
    print(f"statuses: {dict(sorted(statuses.items()))}; complete streamed responses: {streamed}", file=out)
    print(f"distinct findings (each sent to the sink once, then counted): {len(sink.diagnostics)}", file=out)
    for line in sorted(findings):
        print(f"  {line}", file=out)
    print(
        f"after warm-up ({warm[0]:,} requests) to {last[0]:,}: traced {traced_growth / 1024:+.1f} KiB "
        f"(peak {peak_traced / 1024:+.1f} KiB), RSS {rss_growth / 1024:+.1f} KiB "
        f"({traced_growth / max(last[0] - warm[0], 1):+.2f} traced bytes per request)",
        file=out,
    )
    print(
        f"flat (traced growth and peak < {TRACED_LIMIT / MiB:g} MiB, RSS growth < {RSS_LIMIT / MiB:g} MiB): {'yes' if flat else 'NO'}",
        file=out,
    )
    return 0 if flat else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 requests, sampled every 2,000")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--every", type=int, default=None)
    args = parser.parse_args()
    total = args.requests or (20_000 if args.quick else 100_000)
    every = args.every or (2_000 if args.quick else 10_000)
    # The app's print()s (the FAA402 route) go nowhere; the figures go to the real stdout.
    out = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    try:
        return asyncio.run(run(total, every, out))
    finally:
        sys.stdout.close()
        sys.stdout = out


if __name__ == "__main__":
    sys.exit(main())
