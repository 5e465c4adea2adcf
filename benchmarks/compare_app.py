"""The app the runtime comparison drives: one route per way of blocking the event loop.

Four routes block for about 0.3 s (``time.sleep``, a sqlite3 query, a CPU loop, a
sync urllib call to a local slow server), one for 20 ms (below the tools'
thresholds), and two do not block: ``/fast`` and ``/offloaded`` (the sleep handed
to a worker thread).

Used by ``benchmarks/compare_tools.py``; each blocking line carries a
``# blocks: NAME`` marker so the comparison can check where each tool points.
The ``noqa`` comments keep this repository's own lint quiet: the blocking
calls are the point.  Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import urllib.request
from typing import Any

BLOCK_SECONDS = float(os.environ.get("COMPARE_BLOCK_SECONDS", "0.3"))
# Well under the 0.1 s thresholds of the guard and of debug mode: a call that blocks, briefly.
BRIEF_SECONDS = 0.02
# Calibrated by the comparison so the CPU loop and the query each take about BLOCK_SECONDS.
CPU_ITERATIONS = int(os.environ.get("COMPARE_CPU_ITERATIONS", "3000000"))
SQL_ROWS = int(os.environ.get("COMPARE_SQL_ROWS", "1000000"))
SLOW_SQL = f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {SQL_ROWS}) SELECT count(*) FROM c"

# Route path -> the marker naming its blocking line (None: nothing should be reported).
ROUTES: dict[str, str | None] = {
    "/fast": None,
    "/offloaded": None,
    "/sleep": "sleep",
    "/sqlite": "sqlite",
    "/cpu": "cpu",
    "/http": "http",
    "/brief": "brief",
}


def build_app(upstream_url: str) -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/fast")
    async def fast() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/offloaded")
    async def offloaded() -> dict[str, str]:
        await asyncio.to_thread(time.sleep, BLOCK_SECONDS)  # the right way: a worker thread
        return {"route": "offloaded"}

    @app.get("/sleep")
    async def sleep() -> dict[str, str]:
        time.sleep(BLOCK_SECONDS)  # noqa: ASYNC251  # blocks: sleep
        return {"route": "sleep"}

    @app.get("/sqlite")
    async def query() -> dict[str, int]:
        rows = sqlite3.connect(":memory:").execute(SLOW_SQL).fetchone()[0]  # blocks: sqlite
        return {"rows": rows}

    @app.get("/cpu")
    async def cpu() -> dict[str, int]:
        total = sum(i * i for i in range(CPU_ITERATIONS))  # blocks: cpu
        return {"total": total % 1000}

    @app.get("/http")
    async def http() -> dict[str, int]:
        with urllib.request.urlopen(upstream_url, timeout=5) as response:  # noqa: ASYNC210  # blocks: http
            body = response.read()
        return {"bytes": len(body)}

    @app.get("/brief")
    async def brief() -> dict[str, str]:
        time.sleep(BRIEF_SECONDS)  # noqa: ASYNC251  # blocks: brief
        return {"route": "brief"}

    return app


def marker_lines() -> dict[str, int]:
    """Marker name -> its line in this file."""
    lines: dict[str, int] = {}
    with open(__file__, encoding="utf-8") as handle:
        for number, text in enumerate(handle, 1):
            name = text.rsplit("# blocks: ", 1)[1].strip() if "# blocks: " in text else None
            if name is not None and name in ROUTES.values():
                lines[name] = number
    return lines
