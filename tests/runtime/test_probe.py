"""``python -m runtime_guard probe``: the example apps end to end, the safety rules, the outputs.

The example apps run in a subprocess (as a user runs the probe); the small
apps of ``probe_apps`` run in-process so a test can see which requests
their handlers really received.  Every run is bounded: few examples, a
short burst, a time budget.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import starlette

pytest.importorskip("hypothesis")

from flake8_fastapi_antipatterns.diagnostics import Diagnostic  # noqa: E402
from flake8_fastapi_antipatterns.report.inputs import parse_json_lines, read_input  # noqa: E402
from runtime_guard.__main__ import main  # noqa: E402
from runtime_guard.probe.bodies import PADDING_KEY, bad_bodies  # noqa: E402
from runtime_guard.probe.generate import ProbeRequest, draw, requests_for  # noqa: E402
from runtime_guard.probe.plan import Body, Operation  # noqa: E402
from runtime_guard.probe.progress import Progress  # noqa: E402
from runtime_guard.probe.runner import Probe, ProbeOptions  # noqa: E402
from runtime_guard.probe.schema import Resolver, Strategies  # noqa: E402
from tests.runtime import probe_apps  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BAD_MAIN = ROOT / "examples" / "bad_app" / "main.py"
PROBE_APPS = Path(probe_apps.__file__).resolve()
HERE = Path(__file__).resolve()
SARIF_SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
STARLETTE = tuple(int(part) for part in starlette.__version__.split(".")[:2])
RUNTIME_CODES = {"FAA101", "FAA102", "FAA103", "FAA301", "FAA302", "FAA303", "FAA304", "FAA305", "FAA401", "FAA402"}
# Small and quick: enough to see every code, bounded in count and time.
QUICK = ["--max-examples", "2", "--burst", "30", "--time-budget", "60", "--no-progress"]


def line_with(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def at(findings: list[Diagnostic], code: str, path: Path, line: int) -> bool:
    return any(d.code == code and Path(d.filename).resolve() == path and d.line == line for d in findings)


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    findings: list[Diagnostic]


def run_example(tmp: Path, app: str, *extra: str) -> Run:
    """The probe as a user runs it: a subprocess, the app's database in ``tmp``."""
    out = tmp / "findings.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
        # The example's stand-in LLM call sleeps this long (asyncio.sleep: slow, not blocking).
        "BAD_APP_LLM_LATENCY": "0.6",
        # This tree's packages, even where an older copy is installed (a reused tox env).
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "runtime_guard", "probe", app, "--app-dir", str(ROOT), *QUICK, "--output", str(out), *extra]
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=240)
    findings = parse_json_lines(read_input(str(out))) if out.exists() and "json" in extra else []
    return Run(done.returncode, done.stdout, done.stderr, findings)


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("bad_app")
    return run_example(tmp, "examples.bad_app.main:app", "--slow-request-threshold", "0.4", "--format", "json")


def test_bad_app_shows_every_runtime_code(bad_run: Run) -> None:
    assert bad_run.status == 1, bad_run.stderr
    assert RUNTIME_CODES <= {d.code for d in bad_run.findings}, bad_run.stderr


@pytest.mark.parametrize(
    ("code", "marker"),
    [
        ("FAA101", "# FAA101"),
        ("FAA102", "time.sleep(0.3)"),
        ("FAA103", "async def run_agent"),
        ("FAA301", "app = FastAPI("),
        ("FAA302", "async def run_agent"),
        ("FAA303", "app = FastAPI("),
        ("FAA303", "async def stats"),
        ("FAA304", "return ORDERS[order_id]"),
        ("FAA305", "app = FastAPI("),
        ("FAA401", "app = FastAPI("),
        ("FAA402", 'print(f"Running agent'),
    ],
)
def test_bad_app_findings_point_at_the_line(bad_run: Run, code: str, marker: str) -> None:
    lines = [line_with(BAD_MAIN, marker)]
    if code == "FAA304" and STARLETTE < (0, 28):
        # Starlette 0.27's BaseHTTPMiddleware re-raises the app's exception without the frames
        # below it: the guard then points at the handler's def line instead of the raise site.
        lines.append(line_with(BAD_MAIN, "async def get_order"))
    shown = sorted((d.code, d.line) for d in bad_run.findings)
    assert any(at(bad_run.findings, code, BAD_MAIN, line) for line in lines), f"{code} not at main.py:{lines}: {shown}"


def test_bad_app_summary_goes_to_stderr_and_json_lines_to_the_file(bad_run: Run) -> None:
    assert bad_run.stdout == ""  # the app's print() calls went to stderr, the findings to --output
    assert "code" in bad_run.stderr and "location" in bad_run.stderr and "FAA305" in bad_run.stderr
    assert "Running agent" in bad_run.stderr
    # Every record is a finding the report command reads, with the time it was first seen.
    assert all(d.source == "runtime" and isinstance(d.details.get("time"), float) for d in bad_run.findings)
    assert all(d.details.get("count", 0) >= 1 for d in bad_run.findings)


def test_report_command_merges_the_probe_output(bad_run: Run, tmp_path: Path) -> None:
    from flake8_fastapi_antipatterns.__main__ import main as faa_main

    jsonl = tmp_path / "probe.jsonl"
    jsonl.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in bad_run.findings), encoding="utf-8")
    merged = tmp_path / "merged.json"
    status = faa_main(["report", "--runtime", str(jsonl), "--format", "json", "--output", str(merged)])
    assert status == 1
    assert RUNTIME_CODES <= set(merged.read_text(encoding="utf-8").replace('"', " ").split())


def test_report_merges_a_flake8_run_and_the_probe_run_into_sarif_and_html(bad_run: Run, tmp_path: Path) -> None:
    from flake8_fastapi_antipatterns.__main__ import main as faa_main

    jsonl = tmp_path / "probe.jsonl"
    jsonl.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in bad_run.findings), encoding="utf-8")
    flake8_out = tmp_path / "flake8.txt"
    linted = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "FAA", "--extend-select", "FAA205,FAA403", "examples/bad_app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert linted.returncode == 1 and "FAA101" in linted.stdout, linted.stderr
    flake8_out.write_text(linted.stdout, encoding="utf-8")
    inputs = ["report", "--flake8", str(flake8_out), "--runtime", str(jsonl), "--root", str(ROOT)]

    sarif = tmp_path / "merged.sarif"
    assert faa_main([*inputs, "--format", "sarif", "--output", str(sarif)]) == 1
    log = json.loads(sarif.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    sources = {r.get("properties", {}).get("source") for run in log["runs"] for r in run["results"]}
    assert {"static", "runtime"} <= sources, sources

    page = tmp_path / "merged.html"
    assert faa_main([*inputs, "--format", "html", "--output", str(page)]) == 1
    html = page.read_text(encoding="utf-8")
    # The blocking calls the plugin found are the ones the guard saw stall the loop.
    for code in ("FAA101", "FAA102"):
        assert f'id="rule-{code}"' in html
    assert html.count("confirmed at runtime") >= 2


def test_clean_app_is_silent(tmp_path: Path) -> None:
    # A higher block threshold than the default: a loaded test machine may pause the loop's
    # thread for 0.1 s; the clean app blocks nowhere, so any real stall would still be far longer.
    done = run_example(tmp_path, "examples.clean_app.main:app", "--block-threshold", "0.5", "--format", "text")
    text = (tmp_path / "findings.jsonl").read_text(encoding="utf-8")
    assert done.status == 0, text + done.stderr
    assert "no findings" in text
    assert "health: GET /health answered 200" in text
    assert "429" in text  # the burst (or the exercise) met the app's rate limiter


# -- the small apps, in-process ---------------------------------------------------------------


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    probe_apps.CALLS.clear()
    # These apps never block; a high block threshold keeps a loaded machine's pauses (or a
    # garbage collection of the test process's heap) from showing up as FAA102.
    status = main(["probe", *args, "--app-dir", str(ROOT), *QUICK, "--block-threshold", "0.5"])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def coverage_row(text: str, label: str) -> str:
    """The coverage table's row of one route (``  GET /x  exercised  200: 2``)."""
    return next(line for line in text.splitlines() if line.startswith(f"  {label}  "))


def json_findings(text: str) -> list[Diagnostic]:
    from flake8_fastapi_antipatterns.report.inputs import Input

    return parse_json_lines(Input("probe", text))


def test_excluded_paths_are_never_requested(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--exclude-path", "/admin*")
    assert status == 1
    assert "GET /admin/reset" not in probe_apps.CALLS
    assert coverage_row(out, "GET /admin/reset").split()[2:] == ["skipped", "-", "excluded", "path"]
    # The same run without the exclusion does call it: the check above can fail.
    probe(capsys, "tests.runtime.probe_apps:recording_app")
    assert "GET /admin/reset" in probe_apps.CALLS


def test_exclusion_covers_the_special_probes(capsys: pytest.CaptureFixture[str]) -> None:
    # /items/{item_id} is the cheapest GET route: the burst and CORS probes would pick it.
    probe(capsys, "tests.runtime.probe_apps:recording_app", "--exclude-path", "/items/*", "--exclude-path", "/health")
    assert not [call for call in probe_apps.CALLS if call.startswith("GET /items") or call == "GET /health"]


def test_destructive_methods_are_opt_in(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app")
    assert "POST /items" in probe_apps.CALLS  # POST is exercised by default
    assert "PUT /items/{item_id}" not in probe_apps.CALLS
    assert "DELETE /items/{item_id}" not in probe_apps.CALLS
    assert "skipped - destructive method (--include-methods DELETE)" in " ".join(coverage_row(out, "DELETE /items/{item_id}").split())
    probe(capsys, "tests.runtime.probe_apps:recording_app", "--include-methods", "put,DELETE")
    assert "PUT /items/{item_id}" in probe_apps.CALLS
    assert "DELETE /items/{item_id}" in probe_apps.CALLS
    probe(capsys, "tests.runtime.probe_apps:recording_app", "--exclude-methods", "POST")
    assert not [call for call in probe_apps.CALLS if call.startswith("POST")]


def test_body_read_by_the_handler_is_faa302_a_body_ignored_is_not(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--format", "json", "--select", "FAA302")
    found = json_findings(out)
    assert status == 1
    assert at(found, "FAA302", PROBE_APPS, line_with(PROBE_APPS, "async def raw_body"))
    # The typed model (bounded fields) rejected every bad body; /ping-back never read its body.
    assert {d.line for d in found} == {line_with(PROBE_APPS, "async def raw_body")}


def test_select_and_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--format", "json")
    assert {d.code for d in json_findings(out)} == {"FAA302", "FAA305"}
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--format", "json", "--select", "FAA305")
    assert status == 1 and {d.code for d in json_findings(out)} == {"FAA305"}
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--format", "json", "--ignore", "FAA3")
    assert status == 0 and json_findings(out) == []
    # An ignored code's probe is not run at all: no burst (30 requests) went out.
    assert len(probe_apps.CALLS) < 30


def test_text_output_is_a_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--select", "FAA305")
    assert status == 1
    header = next(line for line in out.splitlines() if line.startswith("code"))
    assert header.split() == ["code", "count", "location", "message"]
    row = next(line for line in out.splitlines() if line.startswith("FAA305"))
    assert f"probe_apps.py:{line_with(PROBE_APPS, 'recording_app = FastAPI(')}" in row
    assert "30 requests to GET" in row


def test_sarif_output_validates(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:recording_app", "--format", "sarif")
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"FAA302", "FAA305"}


def test_factory(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:create_app()", "--format", "json", "--select", "FAA305,FAA401")
    assert status == 1
    found = json_findings(out)
    # No module variable holds a factory's app: app-level findings point at its constructor in the factory.
    assert at(found, "FAA305", PROBE_APPS, line_with(PROBE_APPS, "made = FastAPI()"))
    assert at(found, "FAA401", PROBE_APPS, line_with(PROBE_APPS, "made = FastAPI()"))


def test_route_table_without_openapi() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route, WebSocketRoute

    from runtime_guard.probe.plan import build_plan

    async def endpoint(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def socket(websocket: Any) -> None:
        await websocket.close()

    app = Starlette(
        routes=[
            Route("/files/{name:path}", endpoint),
            Mount("/api", routes=[Route("/orders/{order_id:int}", endpoint, methods=["GET", "DELETE"])]),
            WebSocketRoute("/ws", socket),
        ]
    )
    plan = {op.label: op for op in build_plan(app, None)}
    assert set(plan) == {"GET /files/{name}", "GET /api/orders/{order_id}", "DELETE /api/orders/{order_id}"}
    requests = requests_for(plan["GET /api/orders/{order_id}"], Resolver(), 10)
    assert all(int(r.path.rsplit("/", 1)[1]) >= 0 for r in requests)


def test_import_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "broken_module.py").write_text("VALUE = 1\nraise RuntimeError('boom at import')\n", encoding="utf-8")
    assert main(["probe", "no_such_module_here:app", "--app-dir", str(tmp_path)]) == 2
    assert "cannot import module 'no_such_module_here'" in capsys.readouterr().err
    assert main(["probe", "broken_module:app", "--app-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: boom at import" in err and "broken_module.py:2" in err
    assert main(["probe", "tests.runtime.probe_apps:missing", "--app-dir", str(ROOT)]) == 2
    assert "has no attribute 'missing'" in capsys.readouterr().err
    assert main(["probe", "tests.runtime.probe_apps:CALLS", "--app-dir", str(ROOT)]) == 2
    assert "not an ASGI application" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "no-colon"]) == 2
    assert "module:attribute" in capsys.readouterr().err
    assert main(["probe", "x:app", "--time-budget", "-1"]) == 2
    assert main(["probe", "x:app", "--include-methods", "TRACE"]) == 2
    assert main([]) == 2


def test_failed_startup_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = probe(capsys, "tests.runtime.probe_apps:broken_startup_app")
    assert status == 2
    assert "start-up failed" in err and "the database is not reachable" in err


def test_time_budget_bounds_the_run() -> None:
    probe_apps.CALLS.clear()
    options = ProbeOptions(max_examples=20, time_budget=1.0, request_timeout=1.0, burst=0, select=("FAA1",))
    result = asyncio.run(Probe(probe_apps.slow_app, options).run())
    sent = probe_apps.CALLS.count("GET /slow/{n}")
    # 20 examples of 0.25 s each would take 5 s: the budget stopped it after about four.
    assert 1 <= sent < 10
    assert any("time budget" in note for note in result.stats.notes)
    assert result.stats.seconds < 1.0 + 1.0


def test_extra_sinks_receive_findings_and_are_closed(tmp_path: Path) -> None:
    from flake8_fastapi_antipatterns.sinks import JsonLinesSink, SarifSink

    lines, log = tmp_path / "live.jsonl", tmp_path / "live.sarif"
    options = ProbeOptions(max_examples=1, burst=10, select=("FAA305",))
    result = asyncio.run(Probe(probe_apps.recording_app, options, sinks=[JsonLinesSink(str(lines)), SarifSink(str(log))]).run())
    assert [d.code for d in result.findings] == ["FAA305"]
    assert at(result.findings, "FAA305", PROBE_APPS, line_with(PROBE_APPS, "recording_app = FastAPI("))
    # The sinks saw every finding as it happened (select/ignore only shape the final result).
    assert "FAA305" in {d.code for d in parse_json_lines(read_input(str(lines)))}
    assert "FAA305" in {r["ruleId"] for r in json.loads(log.read_text(encoding="utf-8"))["runs"][0]["results"]}


def test_stalls_outside_requests_without_app_code_are_dropped() -> None:
    def stall(**details: Any) -> Diagnostic:
        return Diagnostic("FAA102", "event loop blocked", details.pop("filename", "/lib/httpx/_client.py"), 7, source="runtime", details=details)

    runner = Probe(probe_apps.recording_app, ProbeOptions())
    runner._callers = frozenset({f"{HERE}:12"})  # as if this test had called asyncio.run(runner.run()) there
    kept = runner._located(
        [
            stall(attributed_to="callback", stack=[]),  # only the probe's own frames, no request in flight
            stall(attributed_to="user_frame", stack=[f"{HERE}:12"], filename=str(HERE)),  # ... and its caller's
            stall(attributed_to="endpoint", stack=[], route="/items/{item_id}", filename="/lib/starlette/x.py"),
            stall(attributed_to="user_frame", stack=[f"{PROBE_APPS}:30", f"{HERE}:12"], filename=str(PROBE_APPS)),
        ]
    )
    assert [d.filename for d in kept] == ["/lib/starlette/x.py", str(PROBE_APPS)]
    assert any("ignored 2 loop stall" in note for note in runner.stats.notes)


# -- the parts ------------------------------------------------------------------------------

AGENT_RUN = {
    "type": "object",
    "required": ["agent_id", "input_text"],
    "properties": {
        "agent_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9_-]+$"},
        "input_text": {"type": "string", "minLength": 1, "maxLength": 50000},
        "tags": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 2},
        "mode": {"anyOf": [{"enum": ["fast", "careful"]}, {"type": "null"}]},
        "limit": {"type": "integer", "exclusiveMinimum": 0, "maximum": 10},
        "ratio": {"type": "number", "minimum": 0.5, "exclusiveMaximum": 1},
        "nested": {"$ref": "#/components/schemas/Nested"},
    },
}
DOCUMENT = {
    "components": {
        "schemas": {
            "Nested": {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}, "required": ["when"]}
        }
    }
}


def test_generated_values_satisfy_their_schema() -> None:
    resolver = Resolver(DOCUMENT)
    schema = {**AGENT_RUN, "components": DOCUMENT["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    values = draw(Strategies(resolver).value(AGENT_RUN), 60, random_seed=3)
    assert len(values) >= 30
    for value in values:
        validator.validate(value)
    assert any("tags" in v for v in values) and any("tags" not in v for v in values)  # optional fields vary


def test_path_values_route() -> None:
    operation = Operation("GET", "/files/{name}/{n}", [])
    from runtime_guard.probe.plan import Parameter

    operation.parameters = [
        Parameter("name", "path", True, {"type": "string"}),
        Parameter("n", "path", True, {"type": "integer", "minimum": 3}),
        Parameter("q", "query", False, {"type": "array", "items": {"type": "boolean"}}),
    ]
    requests = requests_for(operation, Resolver(), 30)
    assert len(requests) > 10
    for request in requests:
        _, files, name, n = request.path.split("/")
        assert files == "files" and name and "/" not in name and int(n) >= 3
        assert all(key == "q" and value in ("true", "false") for key, value in request.query)


def _valid(body: Any) -> ProbeRequest:
    return ProbeRequest("POST", "/run", "/run").with_json(body, note="")


def test_bad_bodies_for_a_bounded_model() -> None:
    operation = Operation("POST", "/run", [], Body("application/json", AGENT_RUN, True))
    valid = _valid({"agent_id": "ab", "input_text": "hello", "limit": 3})
    bad = list(bad_bodies(operation, valid, Resolver(DOCUMENT), 5000))
    sizes = {b.note: json.loads(b.request.content or b"null") for b in bad if "oversized" in b.note}
    agent = next(v for k, v in sizes.items() if "agent_id" in k)["agent_id"]
    text = next(v for k, v in sizes.items() if "input_text" in k)["input_text"]
    assert len(agent) == 65 and set(agent) <= set("ab")  # one past maxLength, still matching the pattern
    assert len(text) == 50001
    wrong = next(b for b in bad if "wrong type" in b.note)
    assert json.loads(wrong.request.content or b"null")["agent_id"] == {"runtime_guard_probe": [1, 2, 3]}
    assert bad[-1].request.content is not None and bad[-1].note == "a malformed body (not JSON)"
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad[-1].request.content)


def test_bad_bodies_for_a_free_form_object() -> None:
    operation = Operation("POST", "/run", [], Body("application/json", {"type": "object", "additionalProperties": True}, True))
    bad = list(bad_bodies(operation, _valid({"a": 1}), Resolver(), 4096))
    padded = json.loads(bad[0].request.content or b"null")
    assert padded["a"] == 1 and len(padded[PADDING_KEY]) == 4096
    assert json.loads(bad[1].request.content or b"null") == [{"runtime_guard_probe": None}]  # an array, not an object


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain, terminal = io.StringIO(), Terminal()
    for stream in (plain, terminal):
        progress = Progress(stream, budget=10)
        progress.expect(2)
        progress.advance("GET /a")
        progress.advance("GET /b")
        progress.close()
    assert plain.getvalue() == ""
    assert "2/2 requests" in terminal.getvalue() and "GET /b" in terminal.getvalue()
