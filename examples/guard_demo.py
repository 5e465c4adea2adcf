"""Run examples/bad_app under the runtime guard and print what the guard reported.

    python examples/guard_demo.py [--mode report|enforce] [--jsonl findings.jsonl] [--keep]

The app runs in this process: requests go through ``httpx.ASGITransport`` and a
small driver sends the lifespan start-up and shutdown messages (the transport
does not).  Nothing listens on a port and nothing leaves the machine: the
database is a throw-away SQLite file and the "LLM" is a coroutine that sleeps.

Findings go to two sinks at once, the way a staging deployment would wire them:
``TextSink`` (flake8's ``path:line:col: CODE message`` lines) and
``JsonLinesSink`` (one JSON object per finding, appended to a file).  The demo
then prints both, with paths shown relative to the current directory so the
output does not depend on where the repository is checked out, and finally
reads the same findings back from the guard's token-protected report route.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `python examples/guard_demo.py` from anywhere

# The guard's slow-request threshold below is 0.5 s; a 1 s "LLM call" crosses it.
os.environ.setdefault("BAD_APP_LLM_LATENCY", "1.0")

PROBE_ORIGIN = "https://runtime-guard-probe.invalid"  # GuardConfig's default foreign origin
REPORT_PATH = "/_guard/findings"
REPORT_TOKEN = "demo-token"  # in a deployment: RUNTIME_GUARD_REPORT_TOKEN from a secret store

# (method, path, keyword arguments for httpx): one request per anti-pattern the app commits.
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/reports/daily", {}),  # time.sleep(0.3) on the loop
    ("GET", "/users/1", {}),  # a slow SQL query through a sync Session
    ("GET", "/stats", {}),  # returns traceback.format_exc()
    ("POST", "/agents/parse", {"json": {"value": "not a number"}}),  # echoes the exception's repr
    ("GET", "/orders/999", {}),  # KeyError escapes; debug=True answers with the traceback page
    ("POST", "/agents/run", {"json": {"agent_id": "a1", "input_text": "hi"}}),  # print() + a 1 s await
    ("GET", "/orders/1", {"headers": {"Origin": PROBE_ORIGIN, "Cookie": "session=1"}}),  # CORS probe
    ("GET", "/reports/daily", {}),  # the same stall again: counted, not reported twice
]


class Lifespan:
    """Sends ``lifespan.startup`` / ``lifespan.shutdown`` to an ASGI app, as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        reply = await self.from_app.get()
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"start-up failed: {reply}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.to_app.put({"type": "lifespan.shutdown"})
        await self.from_app.get()
        assert self.task is not None
        await self.task


def relative(text: str) -> str:
    return text.replace(os.getcwd() + os.sep, "")


async def drive(app: Any) -> tuple[list[str], list[dict[str, Any]]]:
    import httpx

    responses = []
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with Lifespan(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, path, kwargs in REQUESTS:
                response = await client.request(method, path, **kwargs)
                body = response.text.replace("\n", " ")
                responses.append(f"{response.status_code} {method} {path}  {body[:44]!r}")
            # The watchdog thread reports a stall once it sees the loop turning again (within one
            # check interval, block_threshold / 4): give it that long before reading the report.
            await asyncio.sleep(0.2)
            unauthorised = await client.get(REPORT_PATH)
            responses.append(f"{unauthorised.status_code} GET {REPORT_PATH} (no token)")
            report = await client.get(REPORT_PATH, headers={"Authorization": f"Bearer {REPORT_TOKEN}"})
            responses.append(f"{report.status_code} GET {REPORT_PATH} (with the token)")
    return responses, report.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("report", "enforce"), default="report")
    parser.add_argument("--jsonl", help="where the JSON-lines sink appends (default: a temporary file)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="guard-demo-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bad_app.db'}")
    jsonl_path = Path(args.jsonl) if args.jsonl else workdir / "findings.jsonl"

    from examples.bad_app.main import app
    from runtime_guard import GuardConfig, JsonLinesSink, RuntimeGuard, TextSink

    text = io.StringIO()
    # The report token is a GuardConfig field (or RUNTIME_GUARD_REPORT_TOKEN), not a keyword of its own.
    config = GuardConfig(
        mode=args.mode,
        block_threshold=0.1,
        slow_request_threshold=0.5,
        report_path=REPORT_PATH,
        report_token=REPORT_TOKEN,
    )
    app.add_middleware(RuntimeGuard, sinks=[TextSink(text), JsonLinesSink(str(jsonl_path))], config=config)

    responses, report = asyncio.run(drive(app))

    print(f"== responses (mode={args.mode})")
    for line in responses:
        print(line)
    print("\n== TextSink")
    print(relative(text.getvalue()), end="")
    print(f"\n== JsonLinesSink ({jsonl_path.name})")
    for line in jsonl_path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        print(relative(json.dumps(record, sort_keys=True)))
    print(f"\n== {REPORT_PATH}: code, place, times seen")
    for finding in report:
        print(f"{finding['code']} {relative(finding['filename'])}:{finding['line']} x{finding['details']['count']}")

    if not args.keep:
        for leftover in workdir.iterdir():
            if leftover != jsonl_path or not args.jsonl:
                leftover.unlink()
        if not any(workdir.iterdir()):
            workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
