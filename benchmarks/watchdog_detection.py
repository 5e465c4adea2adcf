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
  stalls well below the threshold (0.5-0.8 of it).

Usage:
    python benchmarks/watchdog_detection.py            # full run (~1.5 minutes)
    python benchmarks/watchdog_detection.py --quick    # smoke run (~15 s)
Options: --stalls N (per kind) --hundred N (per kind) --threshold S --seed N
Exit status 1 when a 100 ms stall was missed or misattributed.
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
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_machine import free_port, load_average  # noqa: E402

HOST = "127.0.0.1"
HERE = os.path.abspath(__file__)
REPORT_PATH = "/_guard/findings"
LOOP_CODES = ("FAA101", "FAA102")


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

    # The token comes from RUNTIME_GUARD_REPORT_TOKEN, set by the parent process.
    app.add_middleware(
        RuntimeGuard, sink=MemorySink(), block_threshold=threshold, mode="report", report_path=REPORT_PATH
    )
    return app


def serve(port: int, threshold: float) -> None:
    import uvicorn

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

    def counts(self) -> Counter[tuple[str, str, int]]:
        response = self.http.get(REPORT_PATH, headers=self.headers)
        response.raise_for_status()
        counts: Counter[tuple[str, str, int]] = Counter()
        for item in response.json():
            if item["code"] in LOOP_CODES:
                counts[(item["code"], item["filename"], item["line"])] = int(item["details"].get("count", 1))
        return counts

    def stall(self, series: str, kind: str, ms: float, settle: float) -> Outcome:
        before = self.counts()
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
        return Outcome(series, kind, ms, found, expected if kind != "wait" else 0, elapsed)


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


def run(args: argparse.Namespace) -> int:
    token = secrets.token_hex(16)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME_GUARD_")}
    env["RUNTIME_GUARD_REPORT_TOKEN"] = token
    load_before = load_average()
    server = subprocess.Popen([sys.executable, HERE, "--serve", str(port), "--threshold", str(args.threshold)], env=env)
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        wait_ready(port, server)
        client = Client(port, token)
        for number, (series, kind, ms) in enumerate(plan(args.stalls, args.hundred, args.threshold, args.seed), 1):
            outcome = client.stall(series, kind, ms, settle=args.settle)
            outcomes.append(outcome)
            expected = series in ("spread", "100ms")
            if args.verbose or (expected and not outcome.attributed) or (not expected and outcome.found):
                print(
                    f"  #{number:3d} {kind:5s} {ms:6.1f} ms (took {outcome.elapsed_ms:6.1f} ms): {outcome.found or 'not reported'}"
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    spent = time.monotonic() - started

    spread = [o for o in outcomes if o.series == "spread"]
    hundred_ms = [o for o in outcomes if o.series == "100ms"]
    below = [o for o in outcomes if o.series == "below"]
    controls = [o for o in outcomes if o.series == "control"]
    print()
    print(
        f"threshold {args.threshold * 1000:.0f} ms (watchdog interval {args.threshold * 250:.0f} ms); uvicorn 1 worker; {len(outcomes)} requests in {spent:.0f} s"
    )
    print(f"load average (1/5/15 min): before {load_before}; after {load_average()}")
    for kind, label in (("sleep", "time.sleep"), ("spin", "busy loop")):
        print(summarise(f"  {label:10s} 50-500 ms", [o for o in spread if o.kind == kind]))
    print(summarise("  both       50-500 ms", spread))
    for kind, label in (("sleep", "time.sleep"), ("spin", "busy loop")):
        print(summarise(f"  {label:10s} 100 ms   ", [o for o in hundred_ms if o.kind == kind]))
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
    return 0 if hundred_ms and all(o.attributed for o in hundred_ms) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--stalls", type=int, default=None, help="stalls over 50-500 ms, per kind (sleep, busy loop)")
    parser.add_argument("--hundred", type=int, default=None, help="stalls of exactly 100 ms, per kind")
    parser.add_argument("--threshold", type=float, default=0.04, help="the guard's block_threshold, seconds")
    parser.add_argument("--settle", type=float, default=1.0, help="longest wait for a stall's report, seconds")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threshold)
        return 0
    args.stalls = args.stalls or (10 if args.quick else 100)
    args.hundred = args.hundred or (5 if args.quick else 30)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
