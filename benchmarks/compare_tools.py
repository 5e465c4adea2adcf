"""Side-by-side measurements: this project against ruff (FAST, ASYNC), flake8-async, blockbuster
and asyncio debug mode, on the work they share.

Usage:
    python benchmarks/compare_tools.py                  # static + runtime (about a minute)
    python benchmarks/compare_tools.py --static-only
    python benchmarks/compare_tools.py --runtime-only --transport asgi
Options: --json PATH (every raw result), --requests N (cost loop), --no-corpus

Run it with the development interpreter (the one where flake8 and this plugin are
installed).  The other tools go into a venv of their own, created on first use and
reused: ``benchmarks/.venvs/compare`` (gitignored).

Static part: every tool over examples/bad_app (every seed anti-pattern, each line
marked with the FAA codes it commits), examples/clean_app (its silent twin),
examples/multi_module_app (an FAA101 reached through a helper in another module)
and the FAA101/FAA102 fixtures in tests/fixtures (``# error:`` marks the lines
that block; the fixtures that configure extra names with ``# flake8-options:``
are left out, since the other tools cannot be given those names).  A fixture
whose options only switch what is judged (``--faa-scope=all``: every function,
not only what serves requests; ``--faa-operator-routes``;
``--faa-fixed-file-reads``) is kept: this plugin runs over it with those
switches, the other tools as they always run.  Each tool's
codes are mapped to the catalogue: the ASYNC2xx family (sync calls inside
``async def``) to the event-loop codes FAA101/FAA102, FAA codes to themselves,
ruff's T201 (print) to FAA402 and S113 (request without timeout) to FAA204,
everything else to nothing (reported as "other findings").  When the FastAPI
corpus of ``benchmarks/fetch_corpus.py`` is present, each tool is also timed over
its ``docs_src`` tutorial apps.  This plugin keeps findings between runs
(``.faa_cache``); every timed run of it here is a fresh one (``--faa-cache=off``),
and one more line times a warm run: the cache on, a second run over the same
unchanged files, the cache kept in a temporary directory so that nothing is left
in the tree.

Runtime part: ``benchmarks/compare_app.py`` (a FastAPI app blocking the loop with
time.sleep, a sqlite3 query, a CPU loop and a sync urllib call to a local slow
server, one 20 ms sleep below every threshold, plus a fast route and a correctly
offloaded one) is driven once per tool,
each in a fresh process, through httpx.ASGITransport and/or uvicorn on 127.0.0.1.
For each route it records what the tool reported, which line it pointed at, and
whether the response differed from the unwatched run.  Through ASGITransport it
also times a fast route with the tool off and on, in alternating batches in the
same process (for "none" both sides are unwatched: that ratio is the noise floor).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib
import json
import logging
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venvs" / "compare"
VENV_PACKAGES = ("ruff", "flake8", "flake8-async", "blockbuster", "fastapi", "httpx", "uvicorn")
VENV_MARKER = VENV / "installed.txt"
CORPUS = HERE / ".corpus"

EXAMPLES = ("examples/bad_app", "examples/clean_app", "examples/multi_module_app")
MARKED = re.compile(r"#[^#]*?\b(FAA\d{3}\b.*)$")
ERROR_COMMENT = re.compile(r"#\s*error:\s*(FAA\d{3}(?:\s*,\s*FAA\d{3})*)")
CODE = re.compile(r"FAA\d{3}")
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.*)$")
EVENT_LOOP = frozenset({"FAA101", "FAA102"})
# Rules of other ruff families whose subject is a catalogue anti-pattern.
RUFF_OTHER = {"T201": "FAA402", "S113": "FAA204"}
RUNTIME_TOOLS = ("none", "blockbuster", "asyncio-debug", "runtime_guard")
PLUGIN = "FAA (this plugin)"
CACHE_OFF = "--faa-cache=off"  # every timed run of the plugin works its files out afresh
CACHE_DIR = ".faa_cache"
# Fixture options that switch what the plugin judges rather than name what it should know:
# a fixture with only these is compared (the plugin runs with them), any other is left out.
SWITCHES = ("--faa-scope", "--faa-operator-routes", "--faa-fixed-file-reads")
OPTIONS_COMMENT = re.compile(r"#\s*flake8-options:\s*(.+)$", re.MULTILINE)


# -- the tools' venv -----------------------------------------------------------


def venv_bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv() -> None:
    """Create the comparison venv once; reinstall only when the package list changed."""
    wanted = "\n".join(VENV_PACKAGES)
    if VENV_MARKER.exists() and VENV_MARKER.read_text() == wanted and venv_bin("python").exists():
        return
    print(f"setting up {VENV.relative_to(ROOT)} ({', '.join(VENV_PACKAGES)}) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(venv_bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *VENV_PACKAGES],
        check=True,
    )
    VENV_MARKER.write_text(wanted)


def tool_versions() -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json, sys;"
        f"print(json.dumps({{p: m.version(p) for p in {list(VENV_PACKAGES)!r}}}))"
    )
    found: dict[str, str] = json.loads(
        subprocess.run([str(venv_bin("python")), "-c", script], check=True, capture_output=True, text=True).stdout
    )
    from flake8_fastapi_antipatterns import __version__

    found["flake8-fastapi-antipatterns"] = __version__
    found["python"] = sys.version.split()[0]
    return found


# -- static part ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    tool: str
    path: str
    line: int
    code: str
    message: str

    @property
    def catalogue(self) -> frozenset[str]:
        """The catalogue codes this finding speaks to (empty: not a catalogue anti-pattern)."""
        if self.code.startswith("FAA"):
            return frozenset({self.code})
        if re.fullmatch(r"ASYNC2\d\d", self.code):
            return EVENT_LOOP  # a sync call inside `async def`: what FAA101/FAA102 are about
        if self.code in RUFF_OTHER:
            return frozenset({RUFF_OTHER[self.code]})
        return frozenset()


@dataclass(frozen=True)
class StaticTool:
    name: str
    command: tuple[str, ...]
    output: str  # "flake8" or "ruff-json"


def static_tools() -> list[StaticTool]:
    ruff = str(venv_bin("ruff"))
    return [
        StaticTool(
            PLUGIN,
            (
                sys.executable, "-m", "flake8", "--isolated", "--select", "FAA", "--extend-select", "FAA205,FAA403",
                CACHE_OFF,
            ),
            "flake8",
        ),
        StaticTool(
            "ruff FAST,ASYNC",
            (ruff, "check", "--isolated", "--no-cache", "--select", "FAST,ASYNC", "--output-format", "json"),
            "ruff-json",
        ),
        StaticTool(
            "ruff FAST,ASYNC --preview",
            (ruff, "check", "--isolated", "--no-cache", "--preview", "--select", "FAST,ASYNC", "--output-format", "json"),
            "ruff-json",
        ),
        StaticTool("flake8-async", (str(venv_bin("python")), "-m", "flake8", "--isolated", "--select", "ASYNC"), "flake8"),
        # Not FAST or ASYNC, but the other ruff rules that share a subject with the catalogue.
        StaticTool(
            "ruff T20,S113",
            (ruff, "check", "--isolated", "--no-cache", "--select", "T20,S113", "--output-format", "json"),
            "ruff-json",
        ),
    ]


def relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


def run_static(tool: StaticTool, paths: Iterable[str]) -> tuple[list[Finding], float]:
    started = time.perf_counter()
    done = subprocess.run([*tool.command, *paths], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{tool.name} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    findings: list[Finding] = []
    if tool.output == "ruff-json":
        for item in json.loads(done.stdout or "[]"):
            findings.append(
                Finding(tool.name, relative(item["filename"]), item["location"]["row"], item["code"], item["message"])
            )
    else:
        for raw in done.stdout.splitlines():
            match = FLAKE8_LINE.match(raw)
            if match:
                findings.append(
                    Finding(
                        tool.name, relative(match["path"]), int(match["line"]), match["code"], match["message"]
                    )
                )
    return findings, elapsed


Groups = dict[tuple[str, ...], list[str]]
"""Paths by the plugin options they are linted with."""


def run_grouped(tool: StaticTool, groups: Groups) -> tuple[list[Finding], float]:
    """``tool`` once per option group; the findings together, the times summed."""
    findings: list[Finding] = []
    elapsed = 0.0
    for options, paths in groups.items():
        found, seconds = run_static(StaticTool(tool.name, (*tool.command, *options), tool.output), paths)
        findings.extend(found)
        elapsed += seconds
    return findings, elapsed


def run_warm(tool: StaticTool, groups: Groups) -> tuple[list[Finding], float]:
    """The plugin's second run, cache on, over the same unchanged files: what a re-run costs.

    The cache lives in a temporary directory (``--faa-cache-dir``), so that no ``.faa_cache``
    is left in the repository, the examples, the fixtures or the corpus.
    """
    with tempfile.TemporaryDirectory(prefix="faa-cache-") as cache:
        command = tuple(arg for arg in tool.command if arg != CACHE_OFF)
        warm = StaticTool(tool.name, (*command, "--faa-cache=on", f"--faa-cache-dir={cache}"), tool.output)
        run_grouped(warm, groups)  # the first run fills the cache
        return run_grouped(warm, groups)


def cache_directories(paths: Iterable[str]) -> set[Path]:
    """Every ``.faa_cache`` under ``paths`` and at the root: none may be left behind by this script."""
    found = {ROOT / CACHE_DIR} if (ROOT / CACHE_DIR).exists() else set()
    for entry in paths:
        found.update((ROOT / entry).rglob(CACHE_DIR))
    return found


def python_files(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for entry in paths:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def marked_lines(paths: Iterable[str], pattern: re.Pattern[str]) -> set[tuple[str, int, str]]:
    """(file, line, code) for every catalogue code a comment on that line names."""
    expected: set[tuple[str, int, str]] = set()
    for path in python_files(paths):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = pattern.search(text)
            if match:
                expected.update((relative(str(path)), number, code) for code in CODE.findall(match.group(1)))
    return expected


def statement_spans(marks: Iterable[tuple[str, int, str]]) -> dict[tuple[str, int], tuple[int, int]]:
    """The lines a finding may sit on to count for a marked line: the marked line's statement.

    A mark sits where its comment fits (``allow_origins=["*"],  # FAA301``) while a
    tool reports the statement's first line (the ``add_middleware(`` call); for a
    compound statement (``def``, ``with``) only its header counts, not its body.
    """
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    trees: dict[str, ast.AST] = {}
    for path, line, _ in marks:
        if path not in trees:
            trees[path] = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        best: tuple[int, int] = (line, line)
        for node in ast.walk(trees[path]):
            if not isinstance(node, ast.stmt) or node.end_lineno is None:
                continue
            body = getattr(node, "body", None)
            end = body[0].lineno - 1 if isinstance(body, list) and body else node.end_lineno
            if node.lineno <= line <= end and (best == (line, line) or end - node.lineno < best[1] - best[0]):
                best = (node.lineno, end)
        spans[(path, line)] = best
    return spans


def event_loop_fixtures() -> dict[str, tuple[str, ...]]:
    """The FAA101/FAA102 fixtures the other tools can be compared on, with the plugin options of each."""
    chosen: dict[str, tuple[str, ...]] = {}
    for path in sorted((ROOT / "tests" / "fixtures").glob("FAA10[12]_*.py")):
        options = tuple(
            item for match in OPTIONS_COMMENT.finditer(path.read_text(encoding="utf-8")) for item in match[1].split()
        )
        if all(item.partition("=")[0] in SWITCHES for item in options):
            chosen[relative(str(path))] = options
    return chosen


def score_static(tools: list[StaticTool], include_corpus: bool) -> dict[str, Any]:
    fixture_options = event_loop_fixtures()
    fixtures = list(fixture_options)
    targets = [*EXAMPLES, *fixtures]
    groups: Groups = {(): list(EXAMPLES)}
    for path, options in fixture_options.items():
        groups.setdefault(options, []).append(path)
    example_marks = marked_lines(EXAMPLES, MARKED)
    fixture_marks = {mark for mark in marked_lines(fixtures, ERROR_COMMENT) if mark[2] in EVENT_LOOP}
    results: dict[str, Any] = {"tools": {}, "fixtures": fixtures, "options": {" ".join(o): p for o, p in groups.items()}}
    docs_src = sorted(CORPUS.glob("fastapi-*/docs_src"))
    corpus = docs_src[-1] if include_corpus and docs_src else None
    # The corpus's project root may lie above docs_src, so its whole unpacked sdist is watched.
    watched = [*targets, *([str(corpus.parent)] if corpus else [])]
    caches_before = cache_directories(watched)
    for tool in tools:
        # Only the plugin takes the fixtures' options; every other tool runs once over everything.
        findings, elapsed = run_grouped(tool, groups) if tool.name == PLUGIN else run_static(tool, targets)
        results["tools"][tool.name] = {"findings": [asdict(f) for f in findings], "seconds": round(elapsed, 3)}
    plugin = next(tool for tool in tools if tool.name == PLUGIN)
    findings, elapsed = run_warm(plugin, groups)
    results["warm"] = {"seconds": round(elapsed, 3), "findings": len(findings)}
    results["expected"] = {
        "examples": sorted(example_marks),
        "fixtures": sorted(fixture_marks),
        "spans": {f"{p}:{n}": span for (p, n), span in statement_spans(example_marks | fixture_marks).items()},
    }
    if corpus:
        results["corpus"] = {"path": relative(str(corpus)), "files": len(list(corpus.rglob("*.py"))), "tools": {}}
        run_static(tools[1], [str(corpus)])  # a first pass warms the file cache for everyone
        for tool in tools:
            findings, elapsed = run_static(tool, [str(corpus)])
            results["corpus"]["tools"][tool.name] = {"seconds": round(elapsed, 3), "findings": len(findings)}
        findings, elapsed = run_warm(plugin, {(): [str(corpus)]})
        results["corpus"]["warm"] = {"seconds": round(elapsed, 3), "findings": len(findings)}
    left = cache_directories(watched) - caches_before
    if left:
        raise RuntimeError(f"a run left cache directories behind: {', '.join(map(str, sorted(left)))}")
    return results


def _findings(results: dict[str, Any], tool: str) -> list[Finding]:
    return [Finding(**item) for item in results["tools"][tool]["findings"]]


def _on(results: dict[str, Any], finding: Finding, marks: Iterable[tuple[str, int, str]], code: str | None = None) -> bool:
    """Whether ``finding`` sits in the statement of one of ``marks`` (of ``code``, when given)."""
    spans = results["expected"]["spans"]
    for path, line, mark_code in marks:
        if path != finding.path or (code is not None and mark_code != code):
            continue
        start, end = spans[f"{path}:{line}"]
        if start <= finding.line <= end:
            return True
    return False


def static_tables(results: dict[str, Any]) -> str:
    tools = list(results["tools"])
    marks = {tuple(m) for m in results["expected"]["examples"]}
    out: list[str] = []

    # 1. Which of the bad app's anti-patterns each tool reports (a finding on a marked line,
    #    with a code that maps to the mark's code).
    bad = {m for m in marks if m[0].startswith("examples/bad_app/")}
    codes = sorted({m[2] for m in bad})
    out.append("### examples/bad_app: which anti-patterns each tool reports\n")
    out.append("| catalogue code | " + " | ".join(tools) + " |")
    out.append("|---|" + "---|" * len(tools))
    per_tool_hits: Counter[str] = Counter()
    for code in codes:
        cells = []
        for tool in tools:
            hits = sorted({f.code for f in _findings(results, tool) if code in f.catalogue and _on(results, f, bad, code)})
            per_tool_hits[tool] += bool(hits)
            cells.append(", ".join(hits) if hits else "-")
        out.append(f"| {code} | " + " | ".join(cells) + " |")
    out.append(
        "| **anti-patterns reported** | "
        + " | ".join(f"**{per_tool_hits[t]} / {len(codes)}**" for t in tools)
        + " |"
    )
    other = []
    for tool in tools:
        extra = Counter(
            f.code
            for f in _findings(results, tool)
            if f.path.startswith("examples/bad_app/") and not f.catalogue
        )
        other.append(", ".join(f"{c} x{n}" for c, n in sorted(extra.items())) or "-")
    out.append("| other findings (no catalogue code) | " + " | ".join(other) + " |")

    # 2. The clean twin: every finding there is either a false alarm (catalogue-mapped) or other advice.
    out.append("\n### examples/clean_app: findings on the clean twin\n")
    out.append("| tool | catalogue-mapped (false alarms) | other findings |")
    out.append("|---|---|---|")
    for tool in tools:
        found = [f for f in _findings(results, tool) if f.path.startswith("examples/clean_app/")]
        alarms = Counter(f.code for f in found if f.catalogue)
        rest = Counter(f.code for f in found if not f.catalogue)
        out.append(
            f"| {tool} | {sum(alarms.values())} {_counts(alarms)} | {sum(rest.values())} {_counts(rest)} |"
        )

    # 3. The cross-module chain.
    chain = sorted(m for m in marks if m[0].startswith("examples/multi_module_app/"))
    out.append("\n### examples/multi_module_app: the FAA101 reached through another module\n")
    out.append("| tool | on the marked line | other findings in the app |")
    out.append("|---|---|---|")
    for tool in tools:
        found = [f for f in _findings(results, tool) if f.path.startswith("examples/multi_module_app/")]
        on_line = sorted({f.code for f in found if _on(results, f, chain)})
        mapped = sorted({f.code for f in found if any(m[2] in f.catalogue and _on(results, f, [m]) for m in chain)})
        rest = Counter(f.code for f in found if not _on(results, f, chain))
        cell = ", ".join(mapped) if mapped else "not reported"
        if on_line and not mapped:
            cell += f" (unrelated: {', '.join(on_line)})"
        out.append(f"| {tool} | {cell} | {sum(rest.values())} {_counts(rest)} |")
    out.append(f"\nmarked: {', '.join(f'{m[0]}:{m[1]} {m[2]}' for m in chain)}")

    # 4. The event-loop fixtures.
    fixture_marks = {tuple(m) for m in results["expected"]["fixtures"]}
    fixture_files = set(results["fixtures"])
    out.append(f"\n### tests/fixtures: {len(fixture_files)} FAA101/FAA102 fixture files\n")
    out.append("| tool | FAA101 lines caught | FAA102 lines caught | event-loop flags on lines marked fine |")
    out.append("|---|---|---|---|")
    for tool in tools:
        found = [f for f in _findings(results, tool) if f.path in fixture_files and f.catalogue & EVENT_LOOP]
        cells = []
        for code in ("FAA101", "FAA102"):
            wanted = [m for m in fixture_marks if m[2] == code]
            caught = sum(1 for m in wanted if any(_on(results, f, [m]) for f in found))
            cells.append(f"{caught} / {len(wanted)}")
        stray = Counter(f.code for f in found if not _on(results, f, fixture_marks))
        out.append(f"| {tool} | {cells[0]} | {cells[1]} | {sum(stray.values())} {_counts(stray)} |")

    # 5. Time.
    out.append("\n### wall time\n")
    corpus = results.get("corpus")
    header = "| tool | the examples + fixtures above |"
    if corpus:
        header += f" {corpus['path']} ({corpus['files']} files): seconds, findings |"
    out.append(header)
    out.append("|---|---|" + ("---|" if corpus else ""))
    for tool in tools:
        row = f"| {tool} | {results['tools'][tool]['seconds']:.2f} s |"
        if corpus:
            timing = corpus["tools"][tool]
            row += f" {timing['seconds']:.2f} s, {timing['findings']} |"
        out.append(row)
        if tool == PLUGIN and "warm" in results:
            # Not a fresh run: the same files again with the cache on, as a re-run in CI or an editor would be.
            row = f"| {PLUGIN}, warm: cache on, 2nd run over unchanged files | {results['warm']['seconds']:.2f} s |"
            if corpus and "warm" in corpus:
                row += f" {corpus['warm']['seconds']:.2f} s, {corpus['warm']['findings']} |"
            out.append(row)
    return "\n".join(out)


def _counts(counter: Counter[str]) -> str:
    return "(" + ", ".join(f"{c} x{n}" for c, n in sorted(counter.items())) + ")" if counter else ""


# -- runtime part: calibration and the per-tool worker ---------------------------


def _fastest(work: Any, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return max(min(times), 1e-6)


def calibrate(block_seconds: float) -> dict[str, str]:
    """CPU iterations and SQL rows that take about ``block_seconds`` here.

    Sized from the fastest of a few timings, so that a moment of contention
    during calibration does not shrink the work; each run's table shows how
    long the routes really blocked.
    """
    n = 300_000
    cpu = int(n * block_seconds / _fastest(lambda: sum(i * i for i in range(n))))
    rows = 200_000
    query = f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT count(*) FROM c"
    sql = int(rows * block_seconds / _fastest(lambda: sqlite3.connect(":memory:").execute(query).fetchone()))
    return {
        "COMPARE_BLOCK_SECONDS": str(block_seconds),
        "COMPARE_CPU_ITERATIONS": str(cpu),
        "COMPARE_SQL_ROWS": str(sql),
    }


def run_worker_process(tool: str, transport: str, requests: int, env_extra: dict[str, str]) -> dict[str, Any]:
    env = {**os.environ, **env_extra, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    done = subprocess.run(
        [str(venv_bin("python")), str(Path(__file__).resolve()), "--worker", tool, "--transport", transport,
         "--requests", str(requests)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {tool}/{transport} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass
class RouteResult:
    route: str
    status: int = 0
    body: str = ""
    seconds: float = 0.0
    reports: list[dict[str, Any]] = field(default_factory=list)
    """What the tool said about this request: kind, text, file, line."""


def start_slow_upstream(delay: float) -> tuple[str, Any]:
    """A threaded HTTP server on 127.0.0.1 that answers after ``delay`` seconds."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = b"upstream ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/slow", server


def _location_in(tb: Any, filename: str) -> tuple[str, int] | None:
    found = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            found = (frame.name, frame.lineno or 0)
    return found


async def _serve(app: Any, transport: str) -> tuple[Any, Any]:
    """An httpx client for ``app`` and a callable that stops whatever was started."""
    import httpx

    if transport == "asgi":
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        )

        async def stop() -> None:
            await client.aclose()

        return client, stop
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)

    async def stop_server() -> None:
        await client.aclose()
        server.should_exit = True
        await task

    return client, stop_server


async def _cost(tool: str, watched: Any, bare_app: Any, blockbuster: Any, requests: int) -> dict[str, float]:
    """Per-request time of /fast with the tool off and on, batches interleaved in this one process.

    The guard is compared against an unwrapped twin of the app; blockbuster and
    debug mode are switched off and on around batches on the same app.  For
    ``none`` both sides are unwatched: its ratio is the noise floor.
    """
    import httpx

    loop = asyncio.get_running_loop()
    bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app), base_url="http://testserver")
    unwatched = bare if tool == "runtime_guard" else watched

    def switch(on: bool) -> None:
        if tool == "blockbuster":
            blockbuster.activate() if on else blockbuster.deactivate()
        elif tool == "asyncio-debug":
            loop.set_debug(on)

    async def batch(client: Any, count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            await client.get("/fast")
            await asyncio.sleep(0)  # let the loop turn between requests, as a server's would
        return (time.perf_counter() - started) / count

    rounds = 20
    count = max(requests // rounds, 1)
    off: list[float] = []
    on: list[float] = []
    try:
        switch(False)
        await batch(unwatched, 50)  # warm both paths first (the bare twin is brand new)
        switch(True)
        await batch(watched, 50)
        for index in range(rounds):
            # Off-on, then on-off: whichever side runs second in a round is not always the same one.
            for side in ((False, True) if index % 2 == 0 else (True, False)):
                switch(side)
                (on if side else off).append(await batch(watched if side else unwatched, count))
    finally:
        switch(True)
        await bare.aclose()
    off_median, on_median = statistics.median(off), statistics.median(on)
    return {"off_ms": off_median * 1000, "on_ms": on_median * 1000, "ratio": on_median / off_median, "requests": count * rounds}


def worker(tool: str, transport: str, requests: int) -> dict[str, Any]:
    import compare_app

    # Imported before any tool is switched on, as a test module would: importing
    # reads files, which blockbuster would (rightly) refuse on the loop.
    importlib.import_module("httpx")
    if transport == "uvicorn":
        importlib.import_module("uvicorn")

    app_file = compare_app.__file__
    upstream, upstream_server = start_slow_upstream(compare_app.BLOCK_SECONDS)
    results = {route: RouteResult(route) for route in compare_app.ROUTES}
    current: list[str] = [""]
    asyncio_records: list[logging.LogRecord] = []

    app = compare_app.build_app(upstream)
    sink = None
    if tool == "runtime_guard":
        from runtime_guard import MemorySink, RuntimeGuard

        sink = MemorySink()
        app = RuntimeGuard(app, sink=sink, block_threshold=0.1)

    inner = app

    async def capturing(scope: Any, receive: Any, send: Any) -> None:
        # The harness's own outermost layer: records an exception on its way out, changes nothing.
        try:
            await inner(scope, receive, send)
        except Exception as exc:
            if scope.get("type") == "http" and current[0]:
                where = _location_in(exc.__traceback__, app_file)
                results[current[0]].reports.append(
                    {
                        "kind": "exception",
                        "text": f"{type(exc).__name__}: {exc}",
                        "function": where[0] if where else None,
                        "line": where[1] if where else None,
                    }
                )
            raise

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record.request = current[0]
            asyncio_records.append(record)

    blockbuster: Any = None

    async def main() -> dict[str, float] | None:
        loop = asyncio.get_running_loop()
        if tool == "asyncio-debug":
            loop.slow_callback_duration = 0.1
            logging.getLogger("asyncio").addHandler(Collect(logging.WARNING))
        client, stop = await _serve(capturing, transport)
        cost = None
        try:
            await client.get("/health")  # warm-up: first-request set-up is nobody's finding
            await asyncio.sleep(0.05)
            for route in compare_app.ROUTES:
                current[0] = route
                started = time.perf_counter()
                response = await client.get(route)
                results[route].seconds = round(time.perf_counter() - started, 3)
                results[route].status = response.status_code
                results[route].body = response.text[:80]
                # A real yield: debug mode logs a slow step after it, the watchdog reports
                # once the loop turns again (within block_threshold / 4).
                await asyncio.sleep(0.15)
            current[0] = ""
            if transport == "asgi":
                cost = await _cost(tool, client, compare_app.build_app(upstream), blockbuster, requests)
            await asyncio.sleep(0.15)
        finally:
            await stop()
        return cost

    if tool == "blockbuster":
        # Installed only in the comparison venv the worker runs in.
        module = importlib.import_module("blockbuster")

        with module.blockbuster_ctx() as blockbuster:
            per_request = asyncio.run(main())
    else:
        per_request = asyncio.run(main(), debug=tool == "asyncio-debug")
    upstream_server.shutdown()

    for record in asyncio_records:
        message = record.getMessage()
        request = getattr(record, "request", "")
        lines = [int(n) for n in re.findall(re.escape(os.path.basename(app_file)) + r":(\d+)", message)]
        running = re.search(r"coro=<(\S+?)\(\) (?:running at|done, defined at) (\S+?):(\d+)>", message)
        target = results.get(request)
        if target is None:
            continue
        target.reports.append(
            {
                "kind": "asyncio",
                "text": re.sub(r"\s+", " ", message)[:300],
                "function": running.group(1) if running else None,
                "line": lines[0] if lines else None,
                "running_at": f"{_short(running.group(2))}:{running.group(3)}" if running else None,
            }
        )
    extra_findings = []
    if sink is not None:
        for diagnostic in sink.diagnostics:
            route = str(diagnostic.details.get("route", ""))
            entry = {
                "kind": "finding",
                "text": f"{diagnostic.code} {diagnostic.message.split(';')[0]}",
                "code": diagnostic.code,
                "function": diagnostic.details.get("function"),
                "line": diagnostic.line if diagnostic.filename == app_file else None,
                "file": relative(diagnostic.filename),
            }
            if route in results:
                results[route].reports.append(entry)
            else:
                extra_findings.append(entry)
    return {
        "tool": tool,
        "transport": transport,
        "routes": {route: asdict(result) for route, result in results.items()},
        "markers": compare_app.marker_lines(),
        "blocking_routes": {route: marker for route, marker in compare_app.ROUTES.items()},
        "cost": per_request,
        "unattributed": extra_findings,
    }


def _short(path: str) -> str:
    """A library path from its package on (``uvicorn/protocols/...``), a project path from the root."""
    return path.split("site-packages" + os.sep, 1)[1] if "site-packages" + os.sep in path else relative(path)


def run_runtime(transports: list[str], requests: int) -> dict[str, Any]:
    env_extra = calibrate(0.3)
    runs: dict[str, Any] = {"calibration": env_extra, "runs": []}
    for transport in transports:
        for tool in RUNTIME_TOOLS:
            print(f"runtime: {tool} via {transport} ...", file=sys.stderr)
            runs["runs"].append(run_worker_process(tool, transport, requests, env_extra))
    return runs


def _cell(run: dict[str, Any], baseline: dict[str, Any], route: str) -> str:
    result = run["routes"][route]
    marker = run["blocking_routes"][route]
    expected_line = run["markers"].get(marker) if marker else None
    parts = []
    reports = result["reports"]
    if run["tool"] == "runtime_guard":
        reports = [r for r in reports if r.get("code") in ("FAA101", "FAA102", "FAA103")]
    if not reports:
        parts.append("-")
    for report in reports[:2]:
        if report["kind"] == "exception":
            label = report["text"].split(":")[0] + " (" + report["text"].split(": ", 1)[-1].replace("Blocking call to ", "") + ")"
        elif report["kind"] == "asyncio":
            label = "slow-callback warning"
        else:
            label = report["code"]
        line = report.get("line")
        if line is not None and line == expected_line:
            where = "the blocking line"
        elif report["kind"] == "asyncio" and report.get("running_at"):
            where = f"no line of the app (task {report['function']}() at {report['running_at']})"
        elif line is not None:
            where = f"line {line} of the app ({report.get('function')})"
        else:
            where = f"no line of the app ({report.get('file') or report.get('function') or 'none'})"
        parts.append(f"{label} @ {where}")
    if len(reports) > 2:
        parts.append(f"+{len(reports) - 2} more")
    if result["status"] != baseline["routes"][route]["status"]:
        parts.append(f"**status {baseline['routes'][route]['status']} -> {result['status']}**")
    if marker:
        parts.append(f"{result['seconds']:.2f} s")  # how long this request took in this tool's run
    return "; ".join(parts)


def runtime_tables(runtime: dict[str, Any]) -> str:
    out = [
        "calibrated blocking work: "
        + ", ".join(f"{k.removeprefix('COMPARE_').lower()}={v}" for k, v in runtime["calibration"].items())
    ]
    transports = sorted({run["transport"] for run in runtime["runs"]}, key=["asgi", "uvicorn"].index)
    for transport in transports:
        runs = {run["tool"]: run for run in runtime["runs"] if run["transport"] == transport}
        baseline = runs["none"]
        tools = [t for t in RUNTIME_TOOLS if t != "none" and t in runs]
        name = "httpx.ASGITransport" if transport == "asgi" else "uvicorn on 127.0.0.1"
        out.append(f"\n### runtime, {name}\n")
        out.append("| route (what it does) | unwatched | " + " | ".join(tools) + " |")
        out.append("|---|---|" + "---|" * len(tools))
        for route, marker in baseline["blocking_routes"].items():
            base = baseline["routes"][route]
            what = {
                None: "asyncio.to_thread(time.sleep)" if route == "/offloaded" else "returns at once",
                "sleep": "time.sleep", "sqlite": "sqlite3 query", "cpu": "CPU loop",
                "http": "sync urllib to 127.0.0.1", "brief": "time.sleep 20 ms",
            }[marker]
            row = f"| {route} ({what}) | {base['status']}, {base['seconds']:.2f} s |"
            row += "".join(f" {_cell(runs[t], baseline, route)} |" for t in tools)
            out.append(row)
        if baseline["cost"]:
            noise = baseline["cost"]
            cost = " | ".join(
                f"{runs[t]['cost']['off_ms']:.2f} -> {runs[t]['cost']['on_ms']:.2f} ms (x{runs[t]['cost']['ratio']:.2f})"
                for t in tools
            )
            out.append(
                f"| /fast, per request: tool off -> on, same process ({noise['requests']} each) "
                f"| A/A x{noise['ratio']:.2f} | {cost} |"
            )
        for t in tools:
            if runs[t]["unattributed"]:
                listed = "; ".join(f"{e['text']} ({e['file']}:{e['line']})" for e in runs[t]["unattributed"])
                out.append(f"\n{t}, findings outside the measured requests: {listed}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static-only", action="store_true")
    parser.add_argument("--runtime-only", action="store_true")
    parser.add_argument("--transport", default="asgi,uvicorn", help="comma-separated: asgi, uvicorn")
    parser.add_argument("--requests", type=int, default=1000, help="/fast requests per side for the cost row")
    parser.add_argument("--no-corpus", action="store_true", help="skip timing over the FastAPI corpus")
    parser.add_argument("--json", help="write every raw result here")
    parser.add_argument("--worker", choices=RUNTIME_TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.transport, args.requests)))
        return 0

    ensure_venv()
    report: dict[str, Any] = {"versions": tool_versions()}
    print("tool versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    if not args.runtime_only:
        report["static"] = score_static(static_tools(), include_corpus=not args.no_corpus)
        print("\n" + static_tables(report["static"]))
    if not args.static_only:
        transports = [t.strip() for t in args.transport.split(",") if t.strip()]
        report["runtime"] = run_runtime(transports, args.requests)
        print("\n" + runtime_tables(report["runtime"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
