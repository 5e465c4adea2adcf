"""Throughput of a trivial route under uvicorn: bare, behind RuntimeGuard, behind a no-op BaseHTTPMiddleware.

Four uvicorn servers (one worker each, separate processes, 127.0.0.1) serve
the same one-route app; only the middleware differs: none, RuntimeGuard, a
no-op BaseHTTPMiddleware, and ``SendWrapper`` (a pure ASGI middleware that
only sets a context variable and wraps ``send``: the floor under any
middleware that looks at responses).  A load generator in another process
(wrk when installed, else the bounded asyncio client below) hits them in
turn, A B C D A B C D ..., rotated, so drift on a shared machine spreads over
all of them instead of landing on one.  Every round starts fresh server
processes: identical servers in separate processes differed by up to 20% on
this machine, and one process per variant would carry its luck through the run.  Reported: the median requests/s of each
variant, the ratios guarded/bare (goal >= 0.95), basehttp/bare and asgi/bare, and the
machine's load average before and after.  Beside requests/s, the CPU time
the server process spent per request (all its threads, from /proc) is shown:
on a shared machine it moves less with the neighbours' load than wall-clock
throughput does.  The guarded server's findings during the run are printed
at the end (a loop stall there means the machine starved the process), and
each variant's garbage collections per 1,000 requests of the measured load.
The load generator and this script run on the first core, the servers on the
last (``--no-pin``: wherever the scheduler puts them).

With ``--side-by-side`` the four servers share that core and are loaded at
once: the scheduler alternates them every few milliseconds, so the machine's
swings fall on all of them alike (see ``load_at_once``); it also starves each
loop for tens of milliseconds at a time, which the guard's watchdog sees.

With ``--instructions`` (needs valgrind: ``apt-get install valgrind``) it
counts instead the CPU instructions each server executes per request, under
cachegrind: the same four servers, each answering 200 and then 1,200
sequential keep-alive requests, the difference divided by 1,000.  A count does
not move with the neighbours' load; it leaves out cache misses and the
watchdog thread, whose work is per second rather than per request (it is
switched off for this count, since valgrind's slow-down would bill every
request for dozens of its wake-ups).

Usage:
    python benchmarks/guard_throughput.py                  # full run (~5 minutes)
    python benchmarks/guard_throughput.py --quick          # smoke run (~25 s)
    python benchmarks/guard_throughput.py --side-by-side   # all servers loaded at once on one core
    python benchmarks/guard_throughput.py --instructions   # instruction counts (~3 minutes)
    python benchmarks/guard_throughput.py --instructions --in-process   # the apps called directly: exact
Options: --rounds N --seconds S --connections C --loader {auto,wrk,python}
         --framework {fastapi,starlette} --sink {memory,jsonl} --no-pin
Exit status 1 when guarded/bare is below --goal (default 0.95).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_machine import free_port, load_average  # noqa: E402

VARIANTS = ("bare", "guarded", "basehttp", "asgi")
# Printed against the bare app, beside the guard.
REFERENCES = ("guarded", "basehttp", "asgi")
HOST = "127.0.0.1"


# -- the server side (run in a child process) ----------------------------------


_REQUEST: contextvars.ContextVar[int] = contextvars.ContextVar("bench_request", default=0)
_KEYS = itertools.count(1)


class SendWrapper:
    """The least a middleware that looks at responses does: a context variable per request, ``send`` wrapped.

    The ``asgi`` variant: the floor under any such middleware, the guard included.  The
    variable holds an int, as the guard's does: set to a gc-tracked object (the scope, say)
    in each request's task, it sets off the garbage collector under uvicorn (see the README).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _REQUEST.set(next(_KEYS))

        async def wrapped(message: Any) -> None:
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            _REQUEST.reset(token)


def build_app(variant: str, framework: str, sink_kind: str) -> Any:
    if framework == "fastapi":
        from fastapi import FastAPI

        app: Any = FastAPI()

        @app.get("/")
        async def root() -> dict[str, bool]:
            return {"ok": True}

    else:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def index(request: Request) -> JSONResponse:
            return JSONResponse({"ok": True})

        app = Starlette(routes=[Route("/", index)])

    if variant == "guarded":
        from runtime_guard import JsonLinesSink, MemorySink, RuntimeGuard

        sink: Any
        if sink_kind == "jsonl":
            sink = JsonLinesSink(os.path.join(tempfile.mkdtemp(prefix="guard-bench-"), "findings.jsonl"))
        else:
            sink = MemorySink()
        app.add_middleware(RuntimeGuard, sink=sink, mode="report")
    elif variant == "asgi":
        app.add_middleware(SendWrapper)
    elif variant == "basehttp":
        from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
        from starlette.requests import Request
        from starlette.responses import Response

        class NoOp(BaseHTTPMiddleware):
            async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
                return await call_next(request)

        app.add_middleware(NoOp)
    return app


def guard_findings(app: Any, own_stall: tuple[str, int] | None = None) -> list[dict[str, Any]]:
    """The findings of the RuntimeGuard inside ``app``'s middleware stack, with their counts.

    ``own_stall`` (file, line): the benchmark's own blocking of the loop, left out.
    """
    from runtime_guard import RuntimeGuard

    layer = getattr(app, "middleware_stack", None)
    while layer is not None and not isinstance(layer, RuntimeGuard):
        layer = getattr(layer, "app", None)
    if layer is None:
        return []
    return [
        {"code": d.code, "where": f"{os.path.basename(d.filename)}:{d.line}", "count": d.details.get("count")}
        for d in layer.reporter.findings()
        if (d.filename, d.line) != own_stall
    ]


def drive(variant: str, count: int, framework: str, sink_kind: str) -> None:
    """Call the variant's ASGI app ``count`` times in this process, with no server and no socket.

    What ``--instructions --in-process`` counts: without a server, nothing depends on timing
    (how many turns the event loop takes per request), so the count is exact to a few instructions.
    """
    app = build_app(variant, framework, sink_kind)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "headers": [(b"host", b"bench")],
        "client": (HOST, 50000), "server": (HOST, 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    async def requests() -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    asyncio.run(requests())


def serve(variant: str, port: int, framework: str, sink_kind: str, cpu: int | None = None) -> None:
    import uvicorn

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    app = build_app(variant, framework, sink_kind)
    # uvicorn re-raises the SIGTERM it shut down on, with the handler it found: a no-op one
    # lets ``run`` return so the findings below are printed.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    # SIGUSR1 comes once the warm-up is over.  Every variant then collects garbage once: a young
    # process's first full collection (its start-up's objects, 80 ms here) is a start-up cost,
    # and fell by chance into one variant's measured seconds or another's.  Collections are
    # counted from there to SIGUSR2, sent after the measured load (shutdown is not measured).
    baseline, at_stop = [0, 0, 0], [0, 0, 0]

    def settle(signum: int, frame: object) -> None:
        gc.collect()  # (the guard's watchdog sees this as a loop stall: left out of its findings below)
        baseline[:] = _collections()

    settle_line = (settle.__code__.co_filename, settle.__code__.co_firstlineno + 1)

    signal.signal(signal.SIGUSR1, settle)
    signal.signal(signal.SIGUSR2, lambda signum, frame: at_stop.__setitem__(slice(None), _collections()))
    # The access log would cost the same in every variant and only dilute the ratios.
    uvicorn.run(app, host=HOST, port=port, workers=1, log_level="warning", access_log=False)
    # What the guard reported while under load (a loop stall = the machine starved the process),
    # and how often each generation was collected.
    collections = [now - then for now, then in zip(at_stop, baseline)]
    print(json.dumps({"findings": guard_findings(app, settle_line) if variant == "guarded" else [], "gc": collections}), flush=True)


def _collections() -> list[int]:
    return [generation["collections"] for generation in gc.get_stats()]


# -- the load side -------------------------------------------------------------


def start_wrk(port: int, seconds: float, connections: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(int(round(seconds)), 1)}s", f"http://{HOST}:{port}/"],
        stdout=subprocess.PIPE,
        text=True,
    )


def wrk_result(process: subprocess.Popen[str], seconds: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=seconds + 30)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(match.group(1)),
        "requests": int(total.group(1)) if total else 0,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
    }


REQUEST = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: bench\r\n\r\n".encode()


async def _one_connection(port: int, deadline: float, budget: list[int], counts: list[int]) -> None:
    """Keep-alive requests on one socket until the deadline or the shared request budget runs out."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0 if status == b"200" else 1] += 1
    finally:
        writer.close()


async def _python_load(port: int, seconds: float, connections: int, max_requests: int) -> dict[str, Any]:
    budget, counts = [max_requests], [0, 0]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(_one_connection(port, deadline, budget, counts) for _ in range(connections)))
    elapsed = time.monotonic() - started
    done = counts[0] + counts[1]
    return {"rps": done / elapsed, "requests": done, "errors": counts[1], "socket_errors": ""}


def start_python_load(port: int, seconds: float, connections: int) -> subprocess.Popen[str]:
    """The fallback load generator, in its own process so it never shares a core's GIL with a server."""
    return subprocess.Popen(
        [sys.executable, __file__, "--load-port", str(port), "--seconds", str(seconds), "--connections", str(connections)],
        stdout=subprocess.PIPE,
        text=True,
    )


def python_result(process: subprocess.Popen[str], seconds: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=seconds + 30)
    if process.returncode != 0:
        raise RuntimeError(f"the load generator exited with {process.returncode}")
    return dict(json.loads(out))


StartLoad = Callable[[int, float, int], "subprocess.Popen[str]"]
LoadResult = Callable[["subprocess.Popen[str]", float], dict[str, Any]]
# Each load generator: how to start a load on a port, and how to read its outcome.
LOADERS: dict[str, tuple[StartLoad, LoadResult]] = {
    "wrk": (start_wrk, wrk_result),
    "python": (start_python_load, python_result),
}


# -- orchestration -------------------------------------------------------------


def sequential_requests(port: int, count: int) -> None:
    """``count`` requests, one after another, on one keep-alive connection."""
    with socket.create_connection((HOST, port), timeout=120) as sock:
        pending = b""
        for _ in range(count):
            sock.sendall(REQUEST)
            while b"\r\n\r\n" not in pending:
                pending += sock.recv(65536)
            head, _, pending = pending.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(pending) < length:
                pending += sock.recv(65536)
            pending = pending[length:]


def instructions(variant: str, count: int, args: argparse.Namespace) -> int:
    """Instructions a server under cachegrind executed to start, answer ``count`` requests, and stop."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME_GUARD_")}
    env["PYTHONMALLOC"] = "malloc"  # what valgrind expects
    env["RUNTIME_GUARD_WATCHDOG"] = "0"  # per second, not per request: see the module's docstring
    if args.in_process:
        driver = [sys.executable, __file__, "--drive", variant, "--count", str(count), "--framework", args.framework, "--sink", args.sink]
        done = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={os.devnull}", *driver],
            capture_output=True, env=env, timeout=1200,
        )
        return _instruction_count(done.stderr)
    port = free_port()
    server = subprocess.Popen(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            f"--cachegrind-out-file={os.devnull}",
            *serve_command(variant, port, args),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_ready(port, server, timeout=600)  # answers exactly one request, whatever the count
        sequential_requests(port, count)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=300)
    return _instruction_count(err)


def _instruction_count(valgrind_output: bytes) -> int:
    match = re.search(r"I\s+refs:\s+([\d,]+)", valgrind_output.decode(errors="replace"))
    if match is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{valgrind_output.decode(errors='replace')[-2000:]}")
    return int(match.group(1).replace(",", ""))


def run_instructions(args: argparse.Namespace) -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 2
    low, high = 200, 1200
    per_request: dict[str, float] = {}
    for variant in VARIANTS:
        counts = [instructions(variant, low, args), instructions(variant, high, args)]
        per_request[variant] = (counts[1] - counts[0]) / (high - low)
        print(f"  {variant:9s} {per_request[variant]:10,.0f} instructions per request", flush=True)
    print()
    where = "called in-process, no server" if args.in_process else "uvicorn 1 worker"
    print(f"app: {args.framework}, {where}, guard sink: {args.sink}, guard watchdog off for the count")
    for variant in REFERENCES:
        print(
            f"{variant}/bare: {per_request['bare'] / per_request[variant]:.3f} (instructions per request, bare over {variant})"
        )
    return 0 if per_request["bare"] / per_request["guarded"] >= args.goal else 1


def serve_command(variant: str, port: int, args: argparse.Namespace) -> list[str]:
    """The command that runs one variant's server in a process of its own (this script, ``--serve``)."""
    command = [sys.executable, __file__, "--serve", variant, "--port", str(port), "--framework", args.framework, "--sink", args.sink]
    cpus = pinned_cpus(args)
    return command + (["--cpu", str(cpus[1])] if cpus else [])


def pinned_cpus(args: argparse.Namespace) -> tuple[int, int] | None:
    """(the load generator's core, the servers' core), or None when not pinning.

    On two cores the scheduler otherwise moves the load generator and the server
    onto one core now and then, which halves a round's throughput for reasons
    that have nothing to do with the middleware.
    """
    if args.no_pin or not hasattr(os, "sched_setaffinity"):
        return None
    if not hasattr(args, "cpus"):  # read once: the orchestrator pins itself to the first
        cpus = sorted(os.sched_getaffinity(0))
        args.cpus = (cpus[0], cpus[-1]) if len(cpus) >= 2 else None
    return args.cpus  # type: ignore[no-any-return]


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1.0) as sock:
                sock.sendall(REQUEST.replace(b"User-Agent: bench\r\n", b"Connection: close\r\n"))
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Results:
    rps: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    cpu_us: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    """Server CPU time per request, in microseconds (all threads of the server process)."""
    errors: int = 0
    served: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VARIANTS, 0))
    """Requests each variant answered after its warm-up (what its collections are counted over)."""
    collections: dict[str, list[int]] = field(default_factory=lambda: {v: [0, 0, 0] for v in VARIANTS})
    """Garbage collections by generation (young, middle, full), summed over the rounds' servers."""

    def median(self, variant: str) -> float:
        return statistics.median(self.rps[variant])

    def ratio(self, variant: str) -> float:
        return self.median(variant) / self.median("bare")

    def round_ratios(self, variant: str) -> list[float]:
        return [x / b for x, b in zip(self.rps[variant], self.rps["bare"])]

    def cpu_ratio(self, variant: str) -> float:
        """bare's CPU per request over the variant's: the throughput ratio a dedicated core would show."""
        return statistics.median(self.cpu_us["bare"]) / statistics.median(self.cpu_us[variant])


def start_servers(args: argparse.Namespace) -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, int]]:
    """One server per variant, each in a process of its own, ready to answer."""
    ports = {variant: free_port() for variant in VARIANTS}
    servers = {
        variant: subprocess.Popen(
            serve_command(variant, port, args),
            stdout=subprocess.PIPE,
            # A RUNTIME_GUARD_* variable in the caller's environment must not change what is measured.
            env={k: v for k, v in os.environ.items() if not k.startswith("RUNTIME_GUARD_")},
        )
        for variant, port in ports.items()
    }
    try:
        for variant, port in ports.items():
            wait_ready(port, servers[variant])
    except BaseException:
        stop_servers(servers)
        raise
    return servers, ports


def stop_servers(servers: dict[str, subprocess.Popen[bytes]]) -> dict[str, dict[str, Any]]:
    """Stop the servers; what each printed on its way out (the guard's findings, garbage collections)."""
    reports: dict[str, dict[str, Any]] = {}
    for process in servers.values():
        process.terminate()
    for variant, process in servers.items():
        try:
            out, _ = process.communicate(timeout=10)
            if out.strip():
                reports[variant] = json.loads(out.decode().strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        except ValueError:
            pass
    return reports


def load_at_once(
    servers: dict[str, subprocess.Popen[bytes]], ports: dict[str, int], args: argparse.Namespace, loader_name: str
) -> dict[str, dict[str, Any]]:
    """``--side-by-side``: every server loaded at the same time, all of them on one core.

    The kernel's scheduler then hands the core to each server in turn, a few milliseconds
    at a time, with equal shares: the variants are alternated a thousand times a second
    rather than once every few seconds, so the machine's own swings (which move a
    server's throughput by 30% from one second to the next here) fall on all of them alike.
    """
    start, result = LOADERS[loader_name]
    before = {variant: cpu_seconds(process.pid) for variant, process in servers.items()}
    loads = {variant: start(ports[variant], args.seconds, args.connections) for variant in VARIANTS}
    outcomes = {variant: result(load, args.seconds) for variant, load in loads.items()}
    for variant, outcome in outcomes.items():
        outcome["cpu"] = cpu_seconds(servers[variant].pid) - before[variant]
    return outcomes


def run(args: argparse.Namespace) -> int:
    loader_name = args.loader
    if loader_name == "auto":
        loader_name = "wrk" if shutil.which("wrk") else "python"
    start, result = LOADERS[loader_name]

    def loader(port: int, seconds: float, connections: int) -> dict[str, Any]:
        return result(start(port, seconds, connections), seconds)


    cpus = pinned_cpus(args)
    if cpus is not None:
        os.sched_setaffinity(0, {cpus[0]})  # this process and the load generators it starts
    load_before = load_average()
    results = Results()
    findings: list[dict[str, Any]] = []
    for number in range(1, args.rounds + 1):
        # Fresh server processes every round: a process's own luck (its hash seed, its memory
        # layout, the core it lands on) moved identical servers by up to 20% here, and would
        # otherwise follow one variant through the whole run.
        servers, ports = start_servers(args)
        try:
            for variant in VARIANTS:  # warm-up: imports, caches, the guard's first-request start-up
                loader(ports[variant], args.warmup, args.connections)
                servers[variant].send_signal(signal.SIGUSR1)
            time.sleep(0.5)  # the last server's collection, done before any measured load
            if args.side_by_side:
                outcomes = load_at_once(servers, ports, args, loader_name)
            else:
                # Rotate the order so no variant always runs right after another.
                shift = number % len(VARIANTS)
                outcomes = {}
                for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                    before = cpu_seconds(servers[variant].pid)
                    outcomes[variant] = loader(ports[variant], args.seconds, args.connections)
                    outcomes[variant]["cpu"] = cpu_seconds(servers[variant].pid) - before
            line = []
            for variant, outcome in outcomes.items():
                results.rps[variant].append(outcome["rps"])
                results.cpu_us[variant].append(outcome["cpu"] / max(int(outcome["requests"]), 1) * 1e6)
                results.errors += int(outcome["errors"])
                results.served[variant] += int(outcome["requests"])
                line.append(f"{variant} {outcome['rps']:6.0f}/s {results.cpu_us[variant][-1]:5.0f} us")
            print(f"round {number}: " + "  ".join(line), flush=True)
            for process in servers.values():
                process.send_signal(signal.SIGUSR2)
            time.sleep(0.2)  # (handled between two of the idle loop's turns)
        finally:
            reports = stop_servers(servers)
            findings = reports.get("guarded", {}).get("findings") or findings
            for variant, report in reports.items():
                results.collections[variant] = [a + b for a, b in zip(results.collections[variant], report.get("gc", []))]
    load_after = load_average()

    import uvicorn

    guarded = results.ratio("guarded")
    print()
    print(
        f"loader: {loader_name} ({args.connections} connections, {args.seconds:g} s per run, {args.rounds} rounds); "
        + (f"load generator on core {cpus[0]}, servers on core {cpus[1]}" if cpus else "not pinned to cores")
        + ("; side by side: all servers loaded at once, sharing their core" if args.side_by_side else "; one server at a time")
    )
    print(
        f"app: {args.framework}, uvicorn {uvicorn.__version__} (1 worker), Python {sys.version.split()[0]}, "
        f"guard sink: {args.sink}; cores: {os.cpu_count()}"
    )
    print(f"load average (1/5/15 min): before {load_before}; after {load_after}")
    for variant in VARIANTS:
        print(
            f"  {variant:9s} median {results.median(variant):6.0f} req/s, "
            f"{statistics.median(results.cpu_us[variant]):5.0f} us server CPU per request;"
            f"  runs: {', '.join(f'{x:.0f}' for x in results.rps[variant])}"
        )
    print("garbage collections per 1,000 requests (young, middle, full generation):")
    for variant in VARIANTS:
        per_thousand = [count * 1000 / max(results.served[variant], 1) for count in results.collections[variant]]
        print(f"  {variant:9s} " + ", ".join(f"{x:.2f}" for x in per_thousand))
    for variant in REFERENCES:
        print(
            f"{variant}/bare: throughput {results.ratio(variant):.3f} "
            f"(median of per-round ratios {statistics.median(results.round_ratios(variant)):.3f}); "
            f"CPU per request {results.cpu_ratio(variant):.3f}"
            + (f"; goal >= {args.goal}" if variant == "guarded" else "")
        )
    print(
        "guard findings during the run: "
        + ("; ".join(f"{f['code']} at {f['where']} x{f['count']}" for f in findings) or "none")
    )
    if results.errors:
        print(f"non-2xx responses: {results.errors}")
    return 0 if guarded >= args.goal and not results.errors else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="length of each load run")
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--framework", choices=("fastapi", "starlette"), default="fastapi")
    parser.add_argument("--sink", choices=("memory", "jsonl"), default="memory")
    parser.add_argument("--goal", type=float, default=0.95)
    parser.add_argument(
        "--side-by-side", action="store_true", help="load every server at once on one shared core (see load_at_once)"
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place the servers and the load generator (default: one core each)"
    )
    parser.add_argument("--instructions", action="store_true", help="count instructions per request under valgrind")
    parser.add_argument(
        "--in-process", action="store_true", help="with --instructions: call the ASGI apps directly, no server (exact counts)"
    )
    # Internal: the child processes.
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--drive", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--load-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-requests", type=int, default=2_000_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.framework, args.sink, args.cpu)
        return 0
    if args.drive:
        drive(args.drive, args.count, args.framework, args.sink)
        return 0
    if args.load_port:
        print(
            json.dumps(
                asyncio.run(_python_load(args.load_port, args.seconds or 1.0, args.connections, args.max_requests))
            )
        )
        return 0
    if args.instructions:
        return run_instructions(args)
    args.rounds = args.rounds or (2 if args.quick else 12)
    args.seconds = args.seconds or (1.0 if args.quick else 3.0)
    args.warmup = args.warmup or (1.0 if args.quick else 2.0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
