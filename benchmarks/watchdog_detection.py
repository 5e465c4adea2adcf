"""How reliably the guard's watchdog catches event-loop stalls, and whether it names the right line.

A FastAPI app behind RuntimeGuard runs under uvicorn (one worker, separate
process, 127.0.0.1).  Its routes stall the loop on purpose, each at a known
line of this file: ``time.sleep`` (the loop thread waits without the GIL) and
a busy loop (the loop thread holds the GIL, so the watchdog thread only gets
it at interpreter switch points).  For every stall the client reads the
guard's report route before and after and keeps the difference: which
finding's count went up, at which file and line.  Reported:

* detection rate: stalls with an FAA101/FAA102 finding / stalls induced;
* attribution accuracy: stalls reported at this file and the stalling line / stalls induced;
* the 100 ms figure: a series of stalls of exactly 100 ms, each reported at its line;
* false positives: findings after requests that only ``await asyncio.sleep``, and after
  stalls well below the threshold (0.5-0.8 of it);
* the adversarial case: routes that only return a dict, served while CPU hogs (busy
  processes, one per core, bounded in time) keep every core busy, and beside them 100 ms
  blocking routes.  Goal: no FAA101/FAA102 for the trivial routes, every blocking route
  caught at its line.  The stalls the guard sets aside as not the app's are read from the
  report route (``?stalls``) and counted by cause.  With ``--server-nice N`` the servers'
  threads get that niceness for this phase, so they lose the CPU to the hogs the way a
  worker at its container's CPU limit or beside noisy neighbours does.

Two servers run side by side, same app, same requests in the same order: the current
attribution ("new") and the earlier one, where any stall with a request in flight was that
request's ("old", the watchdog's ``tell_causes_apart`` switched off).

Usage:
    python benchmarks/watchdog_detection.py            # full run (~4 minutes)
    python benchmarks/watchdog_detection.py --quick    # smoke run (~40 s)
Options: --stalls N (per kind) --hundred N (per kind) --threshold S --seed N
         --trivial N (trivial requests per server and phase) --hogs N --concurrency N
         --server-nice N (the servers lose the CPU to the hogs, as at a container's CPU limit)
Exit status 1 when the new attribution missed or misattributed a 100 ms stall, or reported
FAA101/FAA102 for a trivial route.
"""

# ruff: noqa: ASYNC251  (blocking inside async handlers is what this measures)

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_machine import free_port, load_average  # noqa: E402

HOST = "127.0.0.1"
HERE = os.path.abspath(__file__)
REPORT_PATH = "/_guard/findings"
LOOP_CODES = ("FAA101", "FAA102")
ATTRIBUTIONS = ("new", "old")
# A CPU hog: a busy loop in a process of its own that ends by itself after the given seconds.
HOG = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# marker``: the stalling line a finding must name."""
    for number, text in enumerate(Path(HERE).read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise LookupError(marker)


# -- the server (a child process) -----------------------------------------------


def build_app(threshold: float) -> Any:
    from fastapi import FastAPI

    from runtime_guard import MemorySink, RuntimeGuard

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/sleep")
    async def sleep_stall(ms: float) -> dict[str, float]:
        time.sleep(ms / 1000)  # stall: sleep
        return {"slept_ms": ms}

    @app.get("/spin")
    async def cpu_stall(ms: float) -> dict[str, int]:
        deadline = time.perf_counter() + ms / 1000
        spins = 0
        while time.perf_counter() < deadline:  # stall: cpu
            spins += 1
        return {"spins": spins}

    @app.get("/wait")
    async def non_blocking(ms: float) -> dict[str, float]:
        await asyncio.sleep(ms / 1000)
        return {"waited_ms": ms}

    # What most tutorial routes are: nothing that could block the loop.
    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: dict[str, Any]) -> dict[str, Any]:
        return {"created": item}

    # The token comes from RUNTIME_GUARD_REPORT_TOKEN, set by the parent process.
    app.add_middleware(
        RuntimeGuard, sink=MemorySink(), block_threshold=threshold, mode="report", report_path=REPORT_PATH
    )
    return app


def serve(port: int, threshold: float, attribution: str) -> None:
    import uvicorn

    if attribution == "old":
        from runtime_guard.watchdog import LoopWatchdog

        LoopWatchdog.tell_causes_apart = False
    # uvicorn re-raises the SIGTERM it stopped on with the handler it found; a no-op one exits cleanly.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(build_app(threshold), host=HOST, port=port, workers=1, log_level="warning", access_log=False)


# -- the client -------------------------------------------------------------------


@dataclass
class Outcome:
    series: str
    """"spread" (50-500 ms), "100ms", "below" (under the threshold) or "control" (non-blocking)."""
    kind: str
    ms: float
    found: list[tuple[str, str, int, int]]
    """(code, filename, line, count added) of every loop-stall finding the stall produced."""
    expected_line: int
    elapsed_ms: float
    set_aside: Counter[str] = field(default_factory=Counter)
    """Stalls the guard set aside as not the app's meanwhile, by cause."""

    @property
    def detected(self) -> bool:
        return bool(self.found)

    @property
    def attributed(self) -> bool:
        """Reported once, with FAA102, at this file and the stalling line."""
        return (
            len(self.found) == 1 and self.found[0][0] == "FAA102" and self.found[0][1:] == (HERE, self.expected_line, 1)
        )


class Client:
    def __init__(self, port: int, token: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30.0)
        self.headers = {"Authorization": f"Bearer {token}"}

    def findings(self) -> list[dict[str, Any]]:
        response = self.http.get(REPORT_PATH, headers=self.headers)
        response.raise_for_status()
        return [item for item in response.json() if item["code"] in LOOP_CODES]

    def counts(self) -> Counter[tuple[str, str, int]]:
        response = self.http.get(REPORT_PATH, headers=self.headers)
        response.raise_for_status()
        counts: Counter[tuple[str, str, int]] = Counter()
        for item in response.json():
            if item["code"] in LOOP_CODES:
                counts[(item["code"], item["filename"], item["line"])] = int(item["details"].get("count", 1))
        return counts

    def stall_causes(self) -> Counter[str]:
        """The stalls the guard set aside as not the app's, by cause (the report route's ``?stalls``)."""
        response = self.http.get(REPORT_PATH, params={"stalls": ""}, headers=self.headers)
        response.raise_for_status()
        return Counter({cause: int(n) for cause, n in response.json()["counts"].items()})

    def stall(self, series: str, kind: str, ms: float, settle: float) -> Outcome:
        before, causes_before = self.counts(), self.stall_causes()
        started = time.perf_counter()
        self.http.get(f"/{kind}", params={"ms": ms}).raise_for_status()
        elapsed = (time.perf_counter() - started) * 1000
        # The watchdog reports from its own thread once the loop turns again (within one interval);
        # wait for a change, but not so long that a late report lands on the next stall.
        deadline = time.monotonic() + settle
        while True:
            after = self.counts()
            if after != before or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        time.sleep(0.05)  # one more look: a stall reported at two places shows up here too
        after = self.counts()
        found = [
            (code, filename, line, after[(code, filename, line)] - before.get((code, filename, line), 0))
            for (code, filename, line) in after
            if after[(code, filename, line)] != before.get((code, filename, line), 0)
        ]
        expected = line_of("stall: sleep") if kind == "sleep" else line_of("stall: cpu")
        set_aside = self.stall_causes() - causes_before
        return Outcome(series, kind, ms, found, expected if kind != "wait" else 0, elapsed, set_aside)


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def plan(stalls: int, hundred: int, threshold: float, seed: int) -> list[tuple[str, str, float]]:
    """(series, kind, ms): ``stalls`` durations evenly spread over 50-500 ms per kind, the 100 ms
    series, the controls (stalls under the threshold, non-blocking waits), shuffled so no duration
    always follows another."""
    spread = [50 + 450 * i / max(stalls - 1, 1) for i in range(stalls)]
    controls = max(hundred // 3, 3)
    below = [threshold * 1000 * (0.5 + 0.3 * i / max(controls - 1, 1)) for i in range(controls)]
    items = [("spread", kind, round(ms, 1)) for kind in ("sleep", "spin") for ms in spread]
    items += [("100ms", kind, 100.0) for kind in ("sleep", "spin") for _ in range(hundred)]
    items += [("below", kind, round(ms, 1)) for kind in ("sleep", "spin") for ms in below]
    items += [("control", "wait", 200.0)] * controls
    random.Random(seed).shuffle(items)
    return items


def summarise(title: str, outcomes: list[Outcome]) -> str:
    if not outcomes:
        return f"{title}: none"
    detected = sum(o.detected for o in outcomes)
    attributed = sum(o.attributed for o in outcomes)
    return (
        f"{title}: detected {detected}/{len(outcomes)} ({detected / len(outcomes):.0%}), "
        f"at the right line {attributed}/{len(outcomes)} ({attributed / len(outcomes):.0%})"
    )


@dataclass
class Burst:
    """Trivial requests to one server in one phase, and the loop-stall findings they produced."""

    requests: int = 0
    failed: int = 0
    findings: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    details: list[dict[str, Any]] = field(default_factory=list)
    """The ``details`` of each finding the burst added to (``--verbose`` prints them)."""


def trivial_burst(port: int, token: str, count: int, seconds: float, concurrency: int) -> Burst:
    """``count`` requests to trivial routes (at most ``seconds``), ``concurrency`` at a time."""
    import httpx

    client = Client(port, token)
    before, causes_before = client.counts(), client.stall_causes()
    burst = Burst()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    numbers = iter(range(count))

    def worker() -> None:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30.0) as http:
            while time.monotonic() < deadline:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                if number % 2:
                    response = http.post("/items", json={"name": f"item {number}", "price": number})
                else:
                    response = http.get(f"/items/{number}", params={"q": "x"})
                with lock:
                    burst.requests += 1
                    burst.failed += response.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.5)  # a stall's finding or note arrives within an interval of the loop's return
    after, causes_after = client.counts(), client.stall_causes()
    burst.findings = Counter({key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)})
    burst.causes = causes_after - causes_before
    burst.details = [
        item["details"] for item in client.findings() if (item["code"], item["filename"], item["line"]) in burst.findings
    ]
    return burst


def start_hogs(count: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", HOG, str(seconds)]) for _ in range(count)]


def renice(pid: int, niceness: int) -> None:
    """Give every thread of a process this niceness (on Linux each thread has its own): a server that
    loses the CPU to its neighbours, as one at its container's CPU limit does."""
    tasks = Path(f"/proc/{pid}/task")
    for tid in [int(entry.name) for entry in tasks.iterdir()] if tasks.is_dir() else [pid]:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        except OSError:  # a thread that ended meanwhile
            continue


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def print_series(label: str, outcomes: list[Outcome]) -> None:
    spread = [o for o in outcomes if o.series == "spread"]
    hundred_ms = [o for o in outcomes if o.series == "100ms"]
    below = [o for o in outcomes if o.series == "below"]
    controls = [o for o in outcomes if o.series == "control"]
    print(f" {label} attribution:")
    for kind, name in (("sleep", "time.sleep"), ("spin", "busy loop")):
        print(summarise(f"  {name:10s} 50-500 ms", [o for o in spread if o.kind == kind]))
    print(summarise("  both       50-500 ms", spread))
    for kind, name in (("sleep", "time.sleep"), ("spin", "busy loop")):
        print(summarise(f"  {name:10s} 100 ms   ", [o for o in hundred_ms if o.kind == kind]))
    print(summarise("  both       100 ms   ", hundred_ms))
    misses = sorted(o.ms for o in spread if not o.detected)
    if misses:
        print(f"  missed stalls (ms): {', '.join(f'{ms:g}' for ms in misses)}")
    if below:
        low, high = min(o.ms for o in below), max(o.ms for o in below)
        print(
            f"  stalls under the threshold ({low:g}-{high:g} ms, both kinds): {sum(o.detected for o in below)}/{len(below)} reported"
        )
    print(
        f"  non-blocking control (await asyncio.sleep 200 ms): {sum(o.detected for o in controls)}/{len(controls)} reported"
    )


def print_burst(label: str, burst: Burst, verbose: bool) -> None:
    findings = sum(burst.findings.values())
    where = ", ".join(f"{code} {os.path.basename(f)}:{line} x{n}" for (code, f, line), n in burst.findings.items())
    causes = ", ".join(f"{cause} {n}" for cause, n in sorted(burst.causes.items())) or "none"
    failed = f", {burst.failed} failed" if burst.failed else ""
    print(
        f"  {label}: {burst.requests} trivial requests{failed}: FAA101/FAA102 {findings}"
        f"{f' ({where})' if where else ''}; stalls set aside as not the app's: {causes}"
    )
    if verbose:
        for details in burst.details:
            print(f"    {details}")


def run(args: argparse.Namespace) -> int:
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME_GUARD_")}
    env["RUNTIME_GUARD_REPORT_TOKEN"] = token
    load_before = load_average()
    ports = {attribution: free_port() for attribution in ATTRIBUTIONS}
    servers = {
        attribution: subprocess.Popen(
            [sys.executable, HERE, "--serve", str(port), "--threshold", str(args.threshold), "--attribution", attribution],
            env=env,
        )
        for attribution, port in ports.items()
    }
    outcomes: dict[str, list[Outcome]] = {attribution: [] for attribution in ATTRIBUTIONS}
    adversarial: dict[str, list[Outcome]] = {attribution: [] for attribution in ATTRIBUTIONS}
    bursts: dict[tuple[str, str], Burst] = {}
    hogs: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    try:
        for attribution, port in ports.items():
            wait_ready(port, servers[attribution])
        clients = {attribution: Client(port, token) for attribution, port in ports.items()}
        # 1. Stalls one at a time, each sent to both servers in turn.
        for number, (series, kind, ms) in enumerate(plan(args.stalls, args.hundred, args.threshold, args.seed), 1):
            for attribution, client in clients.items():
                outcome = client.stall(series, kind, ms, settle=args.settle)
                outcomes[attribution].append(outcome)
                expected = series in ("spread", "100ms")
                if args.verbose or (expected and not outcome.attributed) or (not expected and outcome.found):
                    aside = f"; set aside: {dict(outcome.set_aside)}" if outcome.set_aside else ""
                    print(
                        f"  {attribution} #{number:3d} {kind:5s} {ms:6.1f} ms (took {outcome.elapsed_ms:6.1f} ms): {outcome.found or 'not reported'}{aside}"
                    )
        # 2. Trivial routes on a machine as busy as others make it, then under CPU hogs on every core.
        for phase in ("quiet", "hogs"):
            if phase == "hogs":
                hogs = start_hogs(args.hogs, args.hog_seconds)
                if args.server_nice:
                    for server in servers.values():
                        renice(server.pid, args.server_nice)
                time.sleep(0.5)
            # Both servers at once, so that each meets the same machine.
            def burst(attribution: str, port: int, phase: str = phase) -> None:
                bursts[(phase, attribution)] = trivial_burst(
                    port, token, args.trivial, args.burst_seconds, args.concurrency
                )

            workers = [threading.Thread(target=burst, args=item) for item in ports.items()]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            if phase == "hogs":
                # 3. Real blocking routes beside them, still under the hogs.
                for number in range(args.hundred):
                    kind = ("sleep", "spin")[number % 2]
                    for attribution, client in clients.items():
                        outcome = client.stall("100ms", kind, 100.0, settle=args.settle)
                        adversarial[attribution].append(outcome)
                        if args.verbose or not outcome.attributed:
                            aside = f"; set aside: {dict(outcome.set_aside)}" if outcome.set_aside else ""
                            print(
                                f"  {attribution} hogs {kind:5s} 100.0 ms (took {outcome.elapsed_ms:6.1f} ms): {outcome.found or 'not reported'}{aside}"
                            )
        hog_load = load_average()
    finally:
        stop(hogs)
        stop(list(servers.values()))
    spent = time.monotonic() - started

    print()
    print(
        f"threshold {args.threshold * 1000:.0f} ms (watchdog interval {args.threshold * 250:.0f} ms); uvicorn 1 worker "
        f"per server, two servers (new and old attribution) side by side; {os.cpu_count()} cores; {spent:.0f} s"
    )
    print(f"load average (1/5/15 min): before {load_before}; with the hogs {hog_load}; after {load_average()}")
    for attribution in ATTRIBUTIONS:
        print_series(attribution, outcomes[attribution])
    print(f" trivial routes ({args.concurrency} at a time), machine as it is:")
    for attribution in ATTRIBUTIONS:
        print_burst(attribution, bursts[("quiet", attribution)], args.verbose)
    hogged = f"{args.hogs} CPU hogs" + (f", the servers at nice {args.server_nice}" if args.server_nice else "")
    print(f" trivial routes ({args.concurrency} at a time) under {hogged}:")
    for attribution in ATTRIBUTIONS:
        print_burst(attribution, bursts[("hogs", attribution)], args.verbose)
    print(f" 100 ms blocking routes under {hogged}:")
    for attribution in ATTRIBUTIONS:
        print(summarise(f"  {attribution}", adversarial[attribution]))
    new_hundred = [o for o in outcomes["new"] if o.series == "100ms"] + adversarial["new"]
    new_trivial = sum(sum(bursts[(phase, "new")].findings.values()) for phase in ("quiet", "hogs"))
    return 0 if new_hundred and all(o.attributed for o in new_hundred) and new_trivial == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--stalls", type=int, default=None, help="stalls over 50-500 ms, per kind (sleep, busy loop)")
    parser.add_argument("--hundred", type=int, default=None, help="stalls of exactly 100 ms, per kind")
    parser.add_argument("--threshold", type=float, default=0.04, help="the guard's block_threshold, seconds")
    parser.add_argument("--settle", type=float, default=1.0, help="longest wait for a stall's report, seconds")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--trivial", type=int, default=None, help="trivial requests per server and phase")
    parser.add_argument("--burst-seconds", type=float, default=30.0, help="longest a phase of trivial requests runs")
    parser.add_argument("--concurrency", type=int, default=3, help="trivial requests at a time")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2, help="CPU hog processes (one per core)")
    parser.add_argument("--hog-seconds", type=float, default=120.0, help="longest a hog runs")
    parser.add_argument(
        "--server-nice", type=int, default=0, help="the servers' niceness beside the hogs (0: as the hogs)"
    )
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--attribution", choices=ATTRIBUTIONS, default="new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threshold, args.attribution)
        return 0
    args.stalls = args.stalls or (10 if args.quick else 100)
    args.hundred = args.hundred or (5 if args.quick else 30)
    args.trivial = args.trivial or (300 if args.quick else 2000)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
